#pragma once
// The write queue both stores share: writes wait here for the store's one writer thread,
// which takes them in groups (group commit) and completes each with its result. The
// transactions a group becomes are the store's own (sqlite_store.cpp, pg_store.cpp).

#include <syndic/engine/store.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace syndic::engine {

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

  // One per store call.
  static queued_write for_append(append_request request, completion<appended> done);
  static queued_write for_ops(std::vector<write_op> ops, std::optional<fence> guard, status_completion done);
  static queued_write for_acquire(std::string name, std::string owner, std::chrono::milliseconds ttl,
                                  completion<std::optional<lease>> done);
  static queued_write for_renew(lease held, std::chrono::milliseconds ttl, completion<std::optional<lease>> done);
  static queued_write for_release(lease held, status_completion done);
  static queued_write for_flush(status_completion done);
};

// The queue between the callers and the writer thread, with its bounds: appends past
// max_queued_entries are refused with `busy`, and the writer lingers for a fuller group.
class write_queue {
public:
  write_queue(std::size_t commit_max_ops, std::size_t max_queued_entries,
              std::chrono::microseconds commit_interval);

  // Queues `w`, or completes it at once: `busy` when full, `closed` after close(). The
  // messages begin with `where` and say the items wait for `waiting_for`.
  void push(queued_write w, const std::string& where, std::string_view waiting_for);

  // For the writer thread: waits for writes, lingers for a group (until the first has waited
  // commit_interval, the group is full, or a flush or close() asks), and moves the group into
  // `batch` (cleared first). False once closed and empty: the writer is done.
  bool take(std::vector<queued_write>& batch);

  void close();               // later pushes complete with `closed`; take() drains, then ends
  std::size_t size() const;   // writes waiting (for stats)

private:
  const std::size_t commit_max_ops_;
  const std::size_t max_queued_entries_;
  const std::chrono::microseconds commit_interval_;

  std::mutex mutex_;
  std::condition_variable wake_writer_;
  std::deque<queued_write> queue_;
  std::size_t queued_weight_ = 0;
  std::size_t queued_entries_ = 0;  // of appends: bounded by max_queued_entries
  std::size_t flushes_queued_ = 0;  // flush() ends the writer's lingering: nobody waits longer
  bool closing_ = false;
  std::atomic<std::size_t> queued_count_{0};
};

}  // namespace syndic::engine
