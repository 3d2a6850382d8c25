#pragma once
// The sink's ledger (sink_ledger_options in sink.hpp): per (item, outlet) pair, was it
// received, how often, with which delivery id, how late; per outlet, in which order. Written
// by every sink thread at once: atomics and a sharded id window, no lock shared by all.

#include <syndic/testkit/sink.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string_view>
#include <unordered_set>

namespace syndic::testkit::detail {

class sink_ledger {
public:
  explicit sink_ledger(sink_ledger_options o);

  // The outlet a request target names (PREFIX{J}, a query allowed after J), or -1.
  long outlet_of(std::string_view target) const;
  std::uint8_t class_of(long outlet) const;
  const sink_ledger_options& options() const { return o_; }

  // A 2xx request to outlet J (-1: not one of the ledger's) carrying `body`, with delivery id
  // `id` ("" when the request has none: the body's hash stands for it). Returns the items found.
  std::uint64_t record(long outlet, std::string_view body, std::string_view id);
  // A 2xx answered by a `drop` outlet: counted, nothing else.
  void dropped(long outlet);

  sink_ledger_snapshot snapshot(std::size_t max_missing, std::size_t items_in_range = SIZE_MAX) const;

  // Log-bucketed microseconds: 8 exact buckets, then 8 per power of two.
  static constexpr std::size_t buckets = 8 + 61 * 8;
  static std::size_t bucket_of(std::uint64_t us);
  static std::uint64_t bucket_upper_us(std::size_t b);  // exclusive upper bound

private:
  struct per_class {
    std::atomic<std::uint64_t> delivered{0}, duplicates{0}, same_id{0}, different_id{0}, dropped{0};
    std::atomic<std::uint64_t> max_us{0};
    std::atomic<std::uint64_t> histogram[buckets] = {};
  };
  struct id_shard {
    std::mutex mutex;
    std::unordered_set<std::uint64_t> ids;
    std::deque<std::uint64_t> order;
  };
  static constexpr std::size_t id_shards = 64;
  static constexpr std::size_t arrival_slots = 36'000;  // an hour in 100 ms slots

  // True when `key` was already in the window; inserts it otherwise.
  bool seen_id(std::uint64_t key);

  sink_ledger_options o_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::size_t words_ = 0;
  std::unique_ptr<std::atomic<std::uint64_t>[]> bits_;
  std::unique_ptr<per_class[]> classes_;
  std::unique_ptr<std::atomic<std::int64_t>[]> last_k_;          // ordered outlets: highest K seen
  std::unique_ptr<std::atomic<std::uint32_t>[]> outlet_delivered_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> arrivals_;
  std::unique_ptr<id_shard[]> shards_;
  std::atomic<std::uint64_t> order_violations_{0}, stray_{0};
};

}  // namespace syndic::testkit::detail
