#pragma once
// How many requests one outlet may have in flight: adapted from what its answers show, within
// [1, max]. Pure policy (no clock, no I/O): the shard feeds it one sample per finished attempt,
// and the tests feed it synthetic ones. Owned by the outlet's shard thread.
//
// One connection per outlet is the cheapest way to deliver; a second one only helps an outlet
// whose queue is backing up and whose latency does not rise with concurrency, as with a
// remote that is slow but parallel. The limit starts at 1 and:
//   - grows by 1 per round (a round: as many good samples as the limit) while the queue is
//     backing up (more queued than in flight, and more than `horizon` of work at the current
//     limit) and the round trip stays near the no-load minimum (TCP Vegas's idea; Netflix's
//     concurrency-limits Gradient2 compares the same two latencies);
//   - shrinks, at most once per round, in proportion when the round trip reaches twice the
//     minimum (the extra requests only queue at the remote), and halves on a drop (a failure,
//     a timeout, a 429 or 503).
// The minimum is re-estimated every `window` samples taken with one request in flight, from
// their own minimum, so an outlet whose remote became slower for good is not judged by its
// old speed forever (a limit held above 1 by a slower remote shrinks first, by the rule above).

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace syndic::engine::detail {

class concurrency_limit {
public:
  // A backlog that drains within `horizon` at the current limit is not behind: no growth.
  // Seconds, not less: a loaded client or a shared server makes every outlet's round trip
  // long and flat at once, and with 1 s every outlet of 1,000 x 20 items probed a second
  // connection there (2,000-3,000 opened; engine_options::concurrency_backlog).
  static constexpr std::chrono::microseconds default_horizon{std::chrono::seconds(5)};
  static constexpr std::uint16_t window = 256;
  // Samples before the limit may grow: the first answers on a new connection carry its
  // set-up (TCP, a TLS handshake behind hundreds of others), so a first long round trip would
  // be taken as the minimum and a deep queue would at once ask for a second connection (https
  // at the defaults opened two per outlet: 1,000 for 500 outlets).
  static constexpr std::uint8_t warmup = 4;

  explicit concurrency_limit(std::uint32_t max = 1, std::chrono::microseconds horizon = default_horizon);

  // One finished attempt that the outlet answered: its round trip (send to answer), the
  // requests the outlet had in flight when it ended (counting it) and the pairs still queued.
  void on_sample(std::chrono::microseconds rtt, std::uint32_t in_flight, std::size_t queue_depth);
  // An attempt that failed on the outlet's side (error status, timeout, connect failure).
  void on_drop();
  // A reconfigured outlet: the limit stays within the new maximum.
  void set_max(std::uint32_t max);

  std::uint32_t limit() const { return limit_; }
  std::uint32_t max() const { return max_; }
  std::chrono::microseconds min_rtt() const { return std::chrono::microseconds(min_rtt_us_); }

private:
  std::uint32_t min_rtt_us_ = 0;     // no-load round trip; 0: no sample yet
  std::uint32_t window_min_us_ = 0;  // the current window's minimum; 0: none yet
  std::uint32_t horizon_us_;
  std::uint16_t limit_ = 1;
  std::uint16_t max_;
  std::uint16_t round_ = 0;          // samples since the limit last changed
  std::uint16_t window_samples_ = 0;
  std::uint8_t seen_ = 0;            // samples so far, up to `warmup`
};

}  // namespace syndic::engine::detail
