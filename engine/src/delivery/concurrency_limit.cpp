#include "delivery/concurrency_limit.hpp"

#include <algorithm>
#include <limits>

namespace syndic::engine::detail {
namespace {

constexpr std::uint32_t max_limit = std::numeric_limits<std::uint16_t>::max();

std::uint32_t to_us(std::chrono::microseconds d) {
  // At least 1: 0 means "no sample" below, and a sub-microsecond loopback answer is still one.
  auto c = std::clamp<std::int64_t>(d.count(), 1, std::numeric_limits<std::uint32_t>::max());
  return static_cast<std::uint32_t>(c);
}

}  // namespace

concurrency_limit::concurrency_limit(std::uint32_t max, std::chrono::microseconds horizon)
    : horizon_us_(to_us(horizon)), max_(static_cast<std::uint16_t>(std::clamp<std::uint32_t>(max, 1, max_limit))) {}

void concurrency_limit::set_max(std::uint32_t max) {
  max_ = static_cast<std::uint16_t>(std::clamp<std::uint32_t>(max, 1, max_limit));
  limit_ = std::min(limit_, max_);
}

void concurrency_limit::on_drop() {
  // Multiplicative decrease: the remote is failing or asks us to slow down.
  limit_ = static_cast<std::uint16_t>(std::max(1, limit_ / 2));
  round_ = 0;
}

void concurrency_limit::on_sample(std::chrono::microseconds rtt, std::uint32_t in_flight,
                                  std::size_t queue_depth) {
  std::uint32_t us = to_us(rtt);
  if (min_rtt_us_ == 0 || us < min_rtt_us_) min_rtt_us_ = us;
  if (in_flight <= 1) {
    // The remote may have become slower for good: every `window` samples taken alone (only
    // those show its no-load round trip; with more in flight we would measure our own load),
    // their minimum becomes the new one.
    if (window_min_us_ == 0 || us < window_min_us_) window_min_us_ = us;
    if (++window_samples_ >= window) {
      min_rtt_us_ = window_min_us_;
      window_min_us_ = 0;
      window_samples_ = 0;
    }
  }
  if (round_ < std::numeric_limits<std::uint16_t>::max()) ++round_;
  if (seen_ < warmup) ++seen_;
  bool round_done = round_ >= limit_;

  // Latency at twice the no-load minimum or more: the requests beyond what the remote serves
  // at once only wait there (a remote serving one at a time doubles it at a limit of 2). Shrink towards the concurrency that kept the minimum, once a round
  // (the answers to requests sent at the old limit all come back slow).
  std::uint64_t tolerated = 2ull * min_rtt_us_;
  if (us >= tolerated) {
    if (round_done && limit_ > 1) {
      auto target = static_cast<std::uint32_t>(limit_ * tolerated / us);
      target = std::clamp<std::uint32_t>(target, std::max(1, limit_ / 2), limit_ - 1u);
      limit_ = static_cast<std::uint16_t>(target);
      round_ = 0;
    }
    return;
  }
  // Growth: only while this limit is what holds the outlet back, its queue is backing up
  // (more queued than in flight, and more than `horizon` of work at this limit), and the
  // round trip is near the no-load minimum (within 1.5x).
  if (limit_ >= max_ || !round_done || seen_ < warmup) return;
  if (in_flight < limit_ || queue_depth <= in_flight) return;
  if (2ull * us > 3ull * min_rtt_us_) return;
  if (static_cast<std::uint64_t>(queue_depth) * us < static_cast<std::uint64_t>(horizon_us_) * limit_) return;
  ++limit_;
  round_ = 0;
}

}  // namespace syndic::engine::detail
