#pragma once
// A store that fails on demand, for tests of what sits above the store (the daemon answering
// 503 to a publisher, an outcome that could not be recorded, a lost lease). It wraps a real
// store and forwards everything, except the writes it is told to fail: those complete with
// the chosen error, on the caller's thread, and never reach the inner store. Reads are
// forwarded untouched. Header-only: it is not part of the library, only of the tests that
// include it.
//
//   faulty_store db(std::move(open_sqlite_store(dir).value));
//   db.fail_writes(store_errc::io_error, 3);   // the next three writes fail
//   db.fail_writes(store_errc::io_error);      // every write fails until heal()
//   db.heal();

#include <syndic/engine/store.hpp>

#include <atomic>
#include <limits>
#include <memory>
#include <mutex>

namespace syndic::engine {

class faulty_store final : public store {
public:
  explicit faulty_store(std::unique_ptr<store> inner) : inner_(std::move(inner)) {}

  // The next `count` writes (appends, write(), lease calls) fail with `code`.
  void fail_writes(store_errc code,
                   std::uint64_t count = std::numeric_limits<std::uint64_t>::max()) {
    std::lock_guard lk(mutex_);
    code_ = code;
    remaining_ = count;
  }
  void heal() { fail_writes(store_errc::ok, 0); }
  std::uint64_t failed() const { return failed_.load(); }
  store& inner() { return *inner_; }

  using store::write;
  void append(append_request request, completion<appended> done) override {
    if (auto s = fault(); !s.ok()) {
      if (done) done({std::move(s), {}});
      return;
    }
    inner_->append(std::move(request), std::move(done));
  }
  void write(std::vector<write_op> ops, std::optional<fence> guard, status_completion done) override {
    if (auto s = fault(); !s.ok()) {
      if (done) done(std::move(s));
      return;
    }
    inner_->write(std::move(ops), std::move(guard), std::move(done));
  }
  void acquire_lease(std::string name, std::string owner, std::chrono::milliseconds ttl,
                     completion<std::optional<lease>> done) override {
    if (auto s = fault(); !s.ok()) {
      if (done) done({std::move(s), {}});
      return;
    }
    inner_->acquire_lease(std::move(name), std::move(owner), ttl, std::move(done));
  }
  void renew_lease(lease held, std::chrono::milliseconds ttl, completion<std::optional<lease>> done) override {
    if (auto s = fault(); !s.ok()) {
      if (done) done({std::move(s), {}});
      return;
    }
    inner_->renew_lease(std::move(held), ttl, std::move(done));
  }
  void release_lease(lease held, status_completion done) override {
    if (auto s = fault(); !s.ok()) {
      if (done) done(std::move(s));
      return;
    }
    inner_->release_lease(std::move(held), std::move(done));
  }
  store_status flush() override { return inner_->flush(); }
  void close() override { inner_->close(); }

  store_result<seq_t> head() override { return inner_->head(); }
  store_result<std::vector<log_record>> read(seq_t from, std::size_t max_records,
                                             std::size_t max_bytes) override {
    return inner_->read(from, max_records, max_bytes);
  }
  store_result<std::optional<log_record>> get(seq_t seq) override { return inner_->get(seq); }
  store_result<std::vector<log_record>> latest(std::string_view channel, std::size_t n) override {
    return inner_->latest(channel, n);
  }
  store_result<std::optional<std::vector<seq_t>>> lookup_idempotency(std::string_view key) override {
    return inner_->lookup_idempotency(key);
  }
  store_result<std::vector<stored_outlet>> outlets() override { return inner_->outlets(); }
  store_result<std::optional<stored_outlet>> outlet(std::string_view id) override { return inner_->outlet(id); }
  store_result<std::optional<progress_summary>> progress(std::string_view outlet) override {
    return inner_->progress(outlet);
  }
  store_result<std::vector<progress_summary>> all_progress() override { return inner_->all_progress(); }
  store_result<std::vector<seq_range>> done_above(std::string_view outlet, seq_t after,
                                                  std::size_t limit) override {
    return inner_->done_above(outlet, after, limit);
  }
  store_result<std::vector<retry_entry>> retries(std::string_view outlet, seq_t after,
                                                 std::size_t limit) override {
    return inner_->retries(outlet, after, limit);
  }
  store_result<std::vector<dead_letter>> dead_letters(std::string_view outlet, seq_t after,
                                                      std::size_t limit) override {
    return inner_->dead_letters(outlet, after, limit);
  }
  store_result<std::optional<std::string>> kv_get(std::string_view ns, std::string_view key) override {
    return inner_->kv_get(ns, key);
  }
  store_result<std::vector<kv_entry>> kv_list(std::string_view ns, std::string_view after_key,
                                              std::size_t limit) override {
    return inner_->kv_list(ns, after_key, limit);
  }
  store_result<std::vector<subscription>> subscriptions(std::string_view topic) override {
    return inner_->subscriptions(topic);
  }
  store_result<std::optional<lease>> get_lease(std::string_view name) override { return inner_->get_lease(name); }
  store_result<std::vector<lease>> leases(std::string_view prefix) override { return inner_->leases(prefix); }
  store_stats stats() const override { return inner_->stats(); }

private:
  store_status fault() {
    std::lock_guard lk(mutex_);
    if (remaining_ == 0 || code_ == store_errc::ok) return {};
    --remaining_;
    failed_.fetch_add(1);
    return {code_, "injected fault: " + std::string(to_string(code_))};
  }

  std::unique_ptr<store> inner_;
  std::mutex mutex_;
  store_errc code_ = store_errc::ok;
  std::uint64_t remaining_ = 0;
  std::atomic<std::uint64_t> failed_{0};
};

}  // namespace syndic::engine
