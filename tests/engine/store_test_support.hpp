#pragma once
// What the store's tests share: a temporary data directory (removed afterwards), a clock the
// test moves by hand, and entries whose payload says which they are.

#include <syndic/engine/store.hpp>

#include <gtest/gtest.h>

#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <ostream>
#include <string>

namespace syndic::engine {
// gtest prints ranges as first..last rather than as bytes.
inline void PrintTo(const seq_range& r, std::ostream* os) { *os << r.first << ".." << r.last; }
}  // namespace syndic::engine

namespace syndic::engine::store_test {

struct temp_dir {
  std::string path;
  temp_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "syndic_store_XXXXXX").string();
    path = ::mkdtemp(tmpl.data());
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::permissions(path, std::filesystem::perms::owner_all, ec);
    std::filesystem::remove_all(path, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
};

// Starts at 2026-01-01T00:00:00Z; moves only when told.
struct manual_clock {
  std::atomic<std::int64_t> us{1'767'225'600'000'000};
  store_time now() const { return store_time(std::chrono::microseconds(us.load())); }
  void advance(std::chrono::microseconds d) { us += d.count(); }
  std::function<store_time()> fn() {
    return [this] { return now(); };
  }
};

// Entry number `i`: its payload (`bytes` long, at least the prefix) names it.
inline log_entry entry(std::size_t i, std::size_t bytes = 64, std::string channel = "news") {
  log_entry e;
  e.item_id = "item-" + std::to_string(i);
  e.source = "publish";
  e.channel = std::move(channel);
  e.content_type = "application/feed+json";
  e.payload = "{\"id\":\"item-" + std::to_string(i) + "\"}";
  if (e.payload.size() < bytes) e.payload.append(bytes - e.payload.size(), 'x');
  e.received = store_time(std::chrono::microseconds(1'767'225'600'000'000 + static_cast<std::int64_t>(i)));
  return e;
}

inline std::unique_ptr<store> open_or_fail(const std::string& dir, sqlite_options options = {}) {
  auto r = open_sqlite_store(dir, std::move(options));
  EXPECT_TRUE(r.ok()) << r.status.message;
  return std::move(r.value);
}

}  // namespace syndic::engine::store_test
