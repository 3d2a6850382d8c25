#pragma once
// The SQLite store: DIR/syndic.db in WAL mode, written by one writer thread that
// group-commits, read through a small pool of connections.
//
// Map of the pieces:
//  - sqlite_store.cpp: opening (directory checks, pragmas, migration), the write queue and the
//    writer thread (group commit, completions), the reader pool;
//  - sqlite_apply.cpp: what each write does inside the writer's transaction (the cursor logic);
//  - sqlite_reads.cpp: the reads;
//  - schema.cpp: the tables and their migrations; sqlite_db.cpp: the C API wrapped.
//
// Why one writer: SQLite has one write lock per file, so writers on several connections would
// only queue on it (and a transaction per writer means an fsync per writer). One thread that
// takes everything queued into one transaction turns N fsyncs into one.

#include "store/checkpointer.hpp"
#include "store/sqlite_db.hpp"

#include <syndic/engine/store.hpp>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace syndic::engine::sqlite {

// For tests: called on the writer thread around each commit.
struct test_hooks {
  std::function<void()> before_commit;  // the transaction's writes are done, not yet durable
  std::function<void()> after_commit;   // durable; the completions have not run yet
};

store_result<std::unique_ptr<store>> open_store(const std::string& dir, sqlite_options options,
                                                test_hooks hooks);

// A write waiting for the writer, with its result once applied.
struct queued_write {
  enum class kind : std::uint8_t { append, ops, acquire, renew, release, flush };
  kind what = kind::flush;
  append_request append;
  std::vector<write_op> ops;
  std::optional<fence> guard;
  std::string name, owner;  // acquire
  lease held;               // renew, release
  std::chrono::milliseconds ttl{0};
  completion<appended> on_append;
  completion<std::optional<lease>> on_lease;
  status_completion on_status;
  std::chrono::steady_clock::time_point queued_at;

  // Results, filled by the writer.
  store_status status;
  appended appended_value;
  std::optional<lease> lease_value;

  std::size_t weight() const;  // operations it counts for commit_max_ops
  void complete();             // runs the completion with the results
};

class applier;

class sqlite_store final : public store {
public:
  sqlite_store(std::string path, sqlite_options options, test_hooks hooks,
               std::unique_ptr<connection> writer);
  ~sqlite_store() override;

  using store::write;
  void append(append_request request, completion<appended> done) override;
  void write(std::vector<write_op> ops, std::optional<fence> guard, status_completion done) override;
  void acquire_lease(std::string name, std::string owner, std::chrono::milliseconds ttl,
                     completion<std::optional<lease>> done) override;
  void renew_lease(lease held, std::chrono::milliseconds ttl,
                   completion<std::optional<lease>> done) override;
  void release_lease(lease held, status_completion done) override;
  store_status flush() override;
  void close() override;

  store_result<seq_t> head() override;
  store_result<std::vector<log_record>> read(seq_t from, std::size_t max_records,
                                             std::size_t max_bytes) override;
  store_result<std::optional<log_record>> get(seq_t seq) override;
  store_result<std::vector<log_record>> latest(std::string_view channel, std::size_t n) override;
  store_result<std::optional<std::vector<seq_t>>> lookup_idempotency(std::string_view key) override;
  store_result<std::vector<stored_outlet>> outlets() override;
  store_result<std::optional<stored_outlet>> outlet(std::string_view id) override;
  store_result<std::optional<progress_summary>> progress(std::string_view outlet) override;
  store_result<std::vector<progress_summary>> all_progress() override;
  store_result<std::vector<seq_range>> done_above(std::string_view outlet, seq_t after,
                                                  std::size_t limit) override;
  store_result<std::vector<retry_entry>> retries(std::string_view outlet, seq_t after,
                                                 std::size_t limit) override;
  store_result<std::vector<dead_letter>> dead_letters(std::string_view outlet, seq_t after,
                                                      std::size_t limit) override;
  store_result<std::optional<std::string>> kv_get(std::string_view ns, std::string_view key) override;
  store_result<std::vector<kv_entry>> kv_list(std::string_view ns, std::string_view after_key,
                                              std::size_t limit) override;
  store_result<std::vector<subscription>> subscriptions(std::string_view topic) override;
  store_result<std::optional<lease>> get_lease(std::string_view name) override;
  store_result<std::vector<lease>> leases(std::string_view prefix) override;
  store_stats stats() const override;

private:
  void enqueue(queued_write w);
  void writer_loop();
  void commit_batch(std::vector<queued_write>& batch);

  // Runs `f(connection&)` on a pooled read connection; `closed` after close().
  template <class T, class F>
  store_result<T> with_reader(F&& f);
  store_status open_reader(connection& c);

  std::string path_;
  sqlite_options options_;
  test_hooks hooks_;
  std::unique_ptr<connection> writer_db_;  // the writer thread's only
  std::unique_ptr<applier> applier_;
  std::unique_ptr<checkpointer> checkpointer_;

  mutable std::mutex mutex_;
  std::condition_variable wake_writer_;
  std::deque<queued_write> queue_;
  std::size_t queued_weight_ = 0;
  std::size_t queued_entries_ = 0;  // of appends: bounded by max_queued_entries
  std::size_t flushes_queued_ = 0;  // flush() ends the writer's lingering: nobody waits longer
  bool closing_ = false;
  std::thread writer_;
  std::mutex close_mutex_;

  std::mutex readers_mutex_;
  std::condition_variable reader_free_;
  std::vector<std::unique_ptr<connection>> free_readers_;
  std::size_t readers_open_ = 0;
  std::atomic<bool> closed_{false};

  std::atomic<std::uint64_t> transactions_{0}, operations_{0}, failed_commits_{0};
  std::atomic<std::int64_t> last_commit_us_{0};
  std::atomic<std::size_t> queued_count_{0};
};

}  // namespace syndic::engine::sqlite
