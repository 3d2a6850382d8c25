#include "store/write_queue.hpp"

#include <algorithm>

namespace syndic::engine {

// ---- queued writes ------------------------------------------------------------------------

std::size_t queued_write::weight() const {
  switch (what) {
    case kind::append: return std::max<std::size_t>(1, append.entries.size());
    case kind::ops: return std::max<std::size_t>(1, ops.size());
    case kind::flush: return 0;
    default: return 1;
  }
}

void queued_write::complete() {
  // A completion that throws must not take the writer thread down with it.
  try {
    switch (what) {
      case kind::append:
        if (on_append) on_append({std::move(status), std::move(appended_value)});
        break;
      case kind::acquire:
      case kind::renew:
        if (on_lease) on_lease({std::move(status), std::move(lease_value)});
        break;
      default:
        if (on_status) on_status(std::move(status));
        break;
    }
  } catch (...) {
  }
}

queued_write queued_write::for_append(append_request request, completion<appended> done) {
  queued_write w;
  w.what = kind::append;
  w.append = std::move(request);
  w.on_append = std::move(done);
  return w;
}

queued_write queued_write::for_ops(std::vector<write_op> ops, std::optional<fence> guard, status_completion done) {
  queued_write w;
  w.what = kind::ops;
  w.ops = std::move(ops);
  w.guard = std::move(guard);
  w.on_status = std::move(done);
  return w;
}

queued_write queued_write::for_acquire(std::string name, std::string owner, std::chrono::milliseconds ttl,
                                       completion<std::optional<lease>> done) {
  queued_write w;
  w.what = kind::acquire;
  w.name = std::move(name);
  w.owner = std::move(owner);
  w.ttl = ttl;
  w.on_lease = std::move(done);
  return w;
}

queued_write queued_write::for_renew(lease held, std::chrono::milliseconds ttl,
                                     completion<std::optional<lease>> done) {
  queued_write w;
  w.what = kind::renew;
  w.held = std::move(held);
  w.ttl = ttl;
  w.on_lease = std::move(done);
  return w;
}

queued_write queued_write::for_release(lease held, status_completion done) {
  queued_write w;
  w.what = kind::release;
  w.held = std::move(held);
  w.on_status = std::move(done);
  return w;
}

queued_write queued_write::for_flush(status_completion done) {
  queued_write w;
  w.what = kind::flush;
  w.on_status = std::move(done);
  return w;
}

// ---- the queue ----------------------------------------------------------------------------

write_queue::write_queue(std::size_t commit_max_ops, std::size_t max_queued_entries,
                         std::chrono::microseconds commit_interval)
    : commit_max_ops_(commit_max_ops), max_queued_entries_(max_queued_entries), commit_interval_(commit_interval) {}

void write_queue::push(queued_write w, const std::string& where, std::string_view waiting_for) {
  w.queued_at = std::chrono::steady_clock::now();
  const std::size_t entries = w.what == queued_write::kind::append ? w.append.entries.size() : 0;
  {
    std::unique_lock lk(mutex_);
    if (!closing_ && entries > 0 && max_queued_entries_ > 0 && queued_entries_ + entries > max_queued_entries_ &&
        queued_entries_ > 0) {
      lk.unlock();
      w.status = {store_errc::busy, where + ": write queue full (" + std::to_string(max_queued_entries_) +
                                        " items waiting for " + std::string(waiting_for) + ")"};
      w.complete();
      return;
    }
    if (!closing_) {
      queued_entries_ += entries;
      const bool was_empty = queue_.empty();
      const bool is_flush = w.what == queued_write::kind::flush;
      if (is_flush) ++flushes_queued_;
      queued_weight_ += w.weight();
      queue_.push_back(std::move(w));
      queued_count_.store(queue_.size(), std::memory_order_relaxed);
      // Wake the writer when it waits for a first write, or when a group is full; not on
      // every write, while it lingers for more.
      const bool wake = was_empty || is_flush || queued_weight_ >= commit_max_ops_;
      lk.unlock();
      if (wake) wake_writer_.notify_one();
      return;
    }
  }
  w.status = {store_errc::closed, where + ": the store is closed"};
  w.complete();
}

bool write_queue::take(std::vector<queued_write>& batch) {
  batch.clear();
  std::unique_lock lk(mutex_);
  wake_writer_.wait(lk, [&] { return !queue_.empty() || closing_; });
  if (queue_.empty()) return false;  // closing, and everything is written
  // Group commit: linger until the first write has waited commit_interval, unless the group
  // is full. Under load the previous commit took longer than that, and the group is whatever
  // queued meanwhile.
  const auto deadline = queue_.front().queued_at + commit_interval_;
  while (!closing_ && flushes_queued_ == 0 && queued_weight_ < commit_max_ops_ &&
         std::chrono::steady_clock::now() < deadline) {
    wake_writer_.wait_until(lk, deadline);
  }
  std::size_t weight = 0;
  while (!queue_.empty()) {
    const std::size_t w = queue_.front().weight();
    if (!batch.empty() && weight + w > commit_max_ops_) break;
    weight += w;
    queued_weight_ -= w;
    if (queue_.front().what == queued_write::kind::flush) --flushes_queued_;
    if (queue_.front().what == queued_write::kind::append) queued_entries_ -= queue_.front().append.entries.size();
    batch.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  queued_count_.store(queue_.size(), std::memory_order_relaxed);
  return true;
}

void write_queue::close() {
  {
    std::lock_guard lk(mutex_);
    closing_ = true;
  }
  wake_writer_.notify_one();
}

std::size_t write_queue::size() const { return queued_count_.load(std::memory_order_relaxed); }

}  // namespace syndic::engine
