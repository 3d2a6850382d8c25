#pragma once
// One shard's share of the process's file descriptors (RLIMIT_NOFILE), shared by the shard's
// two transports: every connection either transport opens takes one unit, and gives it back
// when the connection closes. When none is left, idle keep-alive connections are closed
// (each transport's oldest first) to make room; when none of those is left either, the
// request fails as a *local* failure (http::response::local_failure), which is back-pressure
// and never the outlet's fault.
//
// Owned and used by one shard's thread only: no locking.

#include <algorithm>
#include <cstddef>
#include <functional>
#include <map>

#include <sys/resource.h>

namespace syndic::engine::http {

class connection_budget {
public:
  explicit connection_budget(std::size_t limit) : limit_(std::max<std::size_t>(1, limit)) {}

  // RLIMIT_NOFILE's soft limit (read now: raise it first), less `reserve` descriptors for
  // stdio, files, the store, listeners and resolver threads, split over `shards`.
  static std::size_t per_shard(std::size_t shards, std::size_t reserve = 128) {
    rlimit rl{};
    std::size_t soft = 1024;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
      soft = rl.rlim_cur == RLIM_INFINITY ? std::size_t{1} << 20 : static_cast<std::size_t>(rl.rlim_cur);
    std::size_t room = soft > 2 * reserve ? soft - reserve : soft / 2;
    return std::max<std::size_t>(1, room / std::max<std::size_t>(1, shards));
  }

  // Takes one unit; when none is free, asks the reclaimers to close idle connections until
  // one is. False when none can be had.
  bool acquire() {
    for (auto it = reclaimers_.begin(); in_use_ >= limit_ && it != reclaimers_.end(); ++it)
      while (in_use_ >= limit_ && it->second()) {
      }
    if (in_use_ >= limit_) return false;
    ++in_use_;
    return true;
  }
  void release() {
    if (in_use_ > 0) --in_use_;
  }

  // A transport's way to close its oldest idle connection (which calls release()); returns
  // false when it has none. The handle is for remove_reclaimer, in the transport's destructor.
  std::size_t add_reclaimer(std::function<bool()> close_oldest_idle) {
    reclaimers_.emplace(next_id_, std::move(close_oldest_idle));
    return next_id_++;
  }
  void remove_reclaimer(std::size_t id) { reclaimers_.erase(id); }

  std::size_t limit() const { return limit_; }
  std::size_t in_use() const { return in_use_; }
  // Idle keep-alive connections kept at most, per transport: half the budget, so that new
  // connections seldom have to wait for a close.
  std::size_t idle_cap() const { return std::max<std::size_t>(1, limit_ / 2); }

private:
  std::size_t limit_;
  std::size_t in_use_ = 0;
  std::map<std::size_t, std::function<bool()>> reclaimers_;
  std::size_t next_id_ = 0;
};

}  // namespace syndic::engine::http
