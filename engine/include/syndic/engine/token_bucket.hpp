#pragma once
// A token bucket per outlet: `rate` requests per second on average, `burst` at once. Owned by
// the outlet's shard, so no locking. Time is passed in, which keeps it testable and lets a
// shard read its clock once per batch of decisions.

#include <algorithm>
#include <chrono>

namespace syndic::engine {

class token_bucket {
public:
  using clock = std::chrono::steady_clock;

  // rate <= 0 means unlimited.
  token_bucket(double rate, double burst, clock::time_point now)
      : rate_(rate), burst_(std::max(1.0, burst)), tokens_(burst_), last_(now) {}

  // Takes one token if available.
  bool try_take(clock::time_point now) {
    if (rate_ <= 0) return true;
    refill(now);
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
  }

  // The longest wait() returns: a tiny rate would otherwise overflow the clock's ticks into a
  // negative wait, and a timer set to it fires at once, again and again.
  static constexpr std::chrono::hours max_wait{24};

  // How long until a token is available (zero if one is), at most max_wait.
  clock::duration wait(clock::time_point now) {
    if (rate_ <= 0) return clock::duration::zero();
    refill(now);
    if (tokens_ >= 1.0) return clock::duration::zero();
    double seconds = std::min((1.0 - tokens_) / rate_,
                              std::chrono::duration<double>(max_wait).count());
    return std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(seconds)) +
           clock::duration(1);
  }

  double rate() const { return rate_; }
  double burst() const { return burst_; }

private:
  void refill(clock::time_point now) {
    if (now <= last_) return;
    double elapsed = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
    last_ = now;
  }

  double rate_;
  double burst_;
  double tokens_;
  clock::time_point last_;
};

}  // namespace syndic::engine
