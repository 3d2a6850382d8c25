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
#include "store/write_queue.hpp"

#include <syndic/engine/store.hpp>

#include <atomic>
#include <condition_variable>
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

  write_queue queue_;
  std::thread writer_;
  std::mutex close_mutex_;

  std::mutex readers_mutex_;
  std::condition_variable reader_free_;
  std::vector<std::unique_ptr<connection>> free_readers_;
  std::size_t readers_open_ = 0;
  std::atomic<bool> closed_{false};

  std::atomic<std::uint64_t> transactions_{0}, operations_{0}, failed_commits_{0};
  std::atomic<std::int64_t> last_commit_us_{0};
};

}  // namespace syndic::engine::sqlite
