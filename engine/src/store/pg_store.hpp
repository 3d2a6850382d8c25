#pragma once
// The PostgreSQL store: the tables of a schema (pg_schema.cpp) in a database that several
// syndic instances share, written by one writer thread per instance that group-commits, read
// through a small pool of connections.
//
// Map of the pieces:
//  - pg_store.cpp: opening (connect, migrate), the write queue and the writer thread (rounds of
//    up to three transactions, retries, completions);
//  - pg_apply.cpp (with progress_model.cpp): what outcome and state writes do in the round's
//    data transaction, batched;
//  - pg_reads.cpp, pg_progress_reads.cpp: the reads;
//  - pg_db.cpp: libpq wrapped; pq_loader.cpp: libpq loaded on first use.
//
// A round (what the writer took from the queue) is up to three transactions, always in this
// order, so that every instance takes row locks in one order and none can deadlock another on
// them: (1) leases, by name; (2) appends, under the log_head row lock; (3) data writes, their
// fences' lease rows first (FOR SHARE, by name). Completions run after the last commit, in
// queue order.

#include "store/pg_db.hpp"
#include "store/write_queue.hpp"

#include <syndic/engine/store.hpp>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace syndic::engine::pg {

class applier;

// For tests: called on the writer thread.
struct test_hooks {
  // Before each COMMIT of a transaction of kind "leases", "appends" or "writes".
  std::function<void(std::string_view kind)> before_commit;
};

store_result<std::unique_ptr<store>> open_store(const std::string& url, postgres_options options, test_hooks hooks);

class pg_store final : public store {
public:
  pg_store(std::string url, postgres_options options, test_hooks hooks, std::unique_ptr<connection> writer);
  ~pg_store() override;

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
  // One transaction of a round: `body` runs between BEGIN and COMMIT on the writer's
  // connection. Transient failures (deadlock, serialization, lost connection) run it again
  // after a reconnect and a backoff, while the store is open. After a COMMIT whose outcome is
  // unknown (the connection died during it), `after_ambiguous_commit` is called before the
  // body runs again, so that the body can find out whether its first try committed.
  // `body_begins`: the body sends BEGIN itself (with its first statement, one round trip
  // less); it may also leave statements in commit_prefix_, sent with the COMMIT.
  store_status run_transaction(std::string_view kind, const std::function<store_status()>& body,
                               const std::function<void()>& after_ambiguous_commit = {},
                               bool body_begins = false);
  store_status reconnect();
  void backoff(int attempt);
  const std::string& writer_where() const;

  void enqueue(queued_write w);
  void writer_loop();
  void commit_round(std::vector<queued_write>& batch);
  void round_leases(std::vector<queued_write*>& writes);
  void round_appends(std::vector<queued_write*>& writes);
  store_status appends_body(std::vector<queued_write*>& writes, const std::string& batch_id,
                            bool after_ambiguous_commit);
  void round_writes(std::vector<queued_write*>& writes);
  store_status writes_body(std::vector<queued_write*>& writes);

  // Runs `f(connection&)` on a pooled read connection; `closed` after close(). A read on a
  // connection found broken is tried once more on a new one.
  template <class T, class F>
  store_result<T> with_reader(F&& f);

  std::string url_;
  std::string schema_;  // quoted, for SQL texts
  std::string where_;   // host:port (schema name), for messages
  postgres_options options_;
  test_hooks hooks_;
  std::unique_ptr<connection> writer_db_;  // the writer thread's only
  std::unique_ptr<applier> applier_;
  std::function<store_time()> clock_;      // stored times (the client's, or options.clock)
  std::uint64_t batch_counter_ = 0;
  std::string commit_prefix_;  // statements (no parameters) that go with the next COMMIT
  std::string instance_tag_;               // random, for append batch ids

  write_queue queue_;
  std::thread writer_;
  std::mutex close_mutex_;
  std::atomic<bool> stopping_{false};  // close() asked: retries give up after a bound
  std::optional<std::chrono::steady_clock::time_point> give_up_at_;  // writer thread only

  std::mutex readers_mutex_;
  std::condition_variable reader_free_;
  std::vector<std::unique_ptr<connection>> free_readers_;
  std::size_t readers_open_ = 0;
  std::atomic<bool> closed_{false};

  std::atomic<std::uint64_t> transactions_{0}, operations_{0}, failed_commits_{0};
  std::atomic<std::int64_t> last_commit_us_{0};
  std::uint64_t rounds_ = 0;
};

}  // namespace syndic::engine::pg
