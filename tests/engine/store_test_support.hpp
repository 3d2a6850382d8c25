#pragma once
// What the store's tests share: a temporary data directory (removed afterwards), a clock the
// test moves by hand, entries whose payload says which they are, and the fixture that runs a
// test on each backend (backend_test: SQLite in a temporary directory, PostgreSQL in a schema
// of its own on the binary's test cluster, pg_test_cluster.hpp).

#include "pg_test_cluster.hpp"

#include <syndic/engine/store.hpp>

#include <gtest/gtest.h>

#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>

namespace syndic::engine {
// gtest prints ranges as first..last rather than as bytes.
inline void PrintTo(const seq_range& r, std::ostream* os) { *os << r.first << ".." << r.last; }
inline void PrintTo(store_errc e, std::ostream* os) { *os << to_string(e); }
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

enum class backend { sqlite, postgres };

// What a test sets, for either backend; unset fields keep the backend's default.
// (SQLite-only knobs, such as `synchronous`, are set by SQLite-only tests on sqlite_options.)
struct options {
  std::optional<std::chrono::microseconds> commit_interval;
  std::optional<std::size_t> commit_max_ops;
  std::optional<std::size_t> read_connections;
  std::optional<std::size_t> max_queued_entries;
  std::function<store_time()> clock;  // empty: the backend's (PostgreSQL: the server's)
};

// The fields both backends' options have (sqlite_options, postgres_options).
template <class Backend_options>
void set_common(const options& o, Backend_options& r) {
  if (o.commit_interval) r.commit_interval = *o.commit_interval;
  if (o.commit_max_ops) r.commit_max_ops = *o.commit_max_ops;
  if (o.read_connections) r.read_connections = *o.read_connections;
  if (o.max_queued_entries) r.max_queued_entries = *o.max_queued_entries;
  r.clock = o.clock;
}

inline sqlite_options to_sqlite(const options& o) {
  sqlite_options r;
  set_common(o, r);
  return r;
}

inline postgres_options to_postgres(const options& o, std::string schema) {
  postgres_options r;
  r.schema = std::move(schema);
  set_common(o, r);
  return r;
}

// For a fixture's SetUp: the binary's PostgreSQL cluster (started again if an earlier test
// stopped it and failed before starting it again) and a fresh schema on it. PostgreSQL
// missing: the test is skipped, naming the package to install; another failure fails it (gtest
// then runs no test body, `pg` may be null).
inline void use_pg_cluster(pg_test::cluster*& pg, std::string& schema) {
  std::string why;
  bool not_installed = false;
  pg = pg_test::cluster::shared(why, not_installed);
  if (!pg) {
    if (not_installed) GTEST_SKIP() << why;
    FAIL() << why;
  }
  if (!pg->running()) {
    std::string reason;
    ASSERT_TRUE(pg->start(&reason)) << reason;
  }
  schema = pg->new_schema();
}

// The fixture of the tests that run on both backends (TEST_P, instantiated by
// SYNDIC_STORE_BACKENDS). Each test has data of its own: a temporary directory for SQLite, a
// fresh schema for PostgreSQL. open() opens a store on it; a second open() is a second store
// object on the same data, as a second process would have.
// PostgreSQL missing: the postgres instances skip, naming the package to install.
class backend_test : public ::testing::TestWithParam<backend> {
protected:
  void SetUp() override {
    if (GetParam() != backend::postgres) return;
    use_pg_cluster(pg_, schema_);
  }

  backend kind() const { return GetParam(); }
  bool is_postgres() const { return GetParam() == backend::postgres; }

  store_result<std::unique_ptr<store>> try_open(const options& o = {}) {
    if (is_postgres()) return open_postgres_store(pg_->url(), to_postgres(o, schema_));
    return open_sqlite_store(dir_.path, to_sqlite(o));
  }

  // Throws when the store cannot be opened: gtest reports the exception as the test's
  // failure, with the message, and the test stops there (rather than at a null store).
  std::unique_ptr<store> open(const options& o = {}) {
    auto r = try_open(o);
    if (!r.ok() || !r.value) {
      throw std::runtime_error(std::string("cannot open the ") + (is_postgres() ? "PostgreSQL" : "SQLite") +
                               " store: " + r.status.message);
    }
    return std::move(r.value);
  }

  temp_dir dir_;            // SQLite's data directory (empty, unused, for PostgreSQL)
  pg_test::cluster* pg_ = nullptr;  // PostgreSQL: the binary's cluster
  std::string schema_;      // PostgreSQL: this test's schema
};

inline std::string backend_name(const ::testing::TestParamInfo<backend>& info) {
  return info.param == backend::sqlite ? "sqlite" : "postgres";
}
inline void PrintTo(backend b, std::ostream* os) { *os << (b == backend::sqlite ? "sqlite" : "postgres"); }

}  // namespace syndic::engine::store_test

// Runs every TEST_P of `suite` (a backend_test) on SQLite and on PostgreSQL:
// Backends/Suite.Name/sqlite and Backends/Suite.Name/postgres.
#define SYNDIC_STORE_BACKENDS(suite)                                                                   \
  INSTANTIATE_TEST_SUITE_P(Backends, suite,                                                          \
                           ::testing::Values(::syndic::engine::store_test::backend::sqlite,           \
                                             ::syndic::engine::store_test::backend::postgres),        \
                           ::syndic::engine::store_test::backend_name)
