#include "testkit/sink_ledger.hpp"

#include <syndic/testkit/feeds.hpp>

#include "delivery/ids.hpp"

#include <algorithm>
#include <bit>
#include <charconv>

namespace syndic::testkit::detail {

sink_ledger::sink_ledger(sink_ledger_options o) : o_(std::move(o)) {
  if (o_.class_names.empty()) o_.class_names.push_back("all");
  std::size_t pairs = o_.items * o_.outlets;
  words_ = (pairs + 63) / 64;
  bits_ = std::make_unique<std::atomic<std::uint64_t>[]>(words_);
  classes_ = std::make_unique<per_class[]>(o_.class_names.size());
  last_k_ = std::make_unique<std::atomic<std::int64_t>[]>(o_.outlets);
  for (std::size_t j = 0; j < o_.outlets; ++j) last_k_[j].store(-1, std::memory_order_relaxed);
  outlet_delivered_ = std::make_unique<std::atomic<std::uint32_t>[]>(o_.outlets);
  arrivals_ = std::make_unique<std::atomic<std::uint64_t>[]>(arrival_slots);
  shards_ = std::make_unique<id_shard[]>(id_shards);
}

long sink_ledger::outlet_of(std::string_view target) const {
  if (!target.starts_with(o_.path_prefix)) return -1;
  target.remove_prefix(o_.path_prefix.size());
  std::size_t j = 0;
  auto [end, ec] = std::from_chars(target.data(), target.data() + target.size(), j);
  if (ec != std::errc{} || end == target.data()) return -1;
  if (end != target.data() + target.size() && *end != '?' && *end != '/') return -1;
  return j < o_.outlets ? static_cast<long>(j) : -1;
}

std::uint8_t sink_ledger::class_of(long outlet) const {
  if (outlet < 0 || static_cast<std::size_t>(outlet) >= o_.outlet_class.size()) return 0;
  std::uint8_t c = o_.outlet_class[static_cast<std::size_t>(outlet)];
  return c < o_.class_names.size() ? c : 0;
}

std::size_t sink_ledger::bucket_of(std::uint64_t us) {
  if (us < 8) return static_cast<std::size_t>(us);
  unsigned e = 63 - static_cast<unsigned>(std::countl_zero(us));  // >= 3
  std::size_t sub = static_cast<std::size_t>(us >> (e - 3)) - 8;
  return std::min<std::size_t>(buckets - 1, 8 + (e - 3) * 8 + sub);
}

std::uint64_t sink_ledger::bucket_upper_us(std::size_t b) {
  if (b < 8) return b + 1;
  std::size_t e = 3 + (b - 8) / 8, sub = (b - 8) % 8;
  return static_cast<std::uint64_t>(9 + sub) << (e - 3);
}

bool sink_ledger::seen_id(std::uint64_t key) {
  id_shard& s = shards_[key % id_shards];
  std::lock_guard lock(s.mutex);  // one of 64: threads rarely meet here
  if (!s.ids.insert(key).second) return true;
  s.order.push_back(key);
  if (s.order.size() > std::max<std::size_t>(1, o_.id_window / id_shards)) {
    s.ids.erase(s.order.front());
    s.order.pop_front();
  }
  return false;
}

void sink_ledger::dropped(long outlet) { classes_[class_of(outlet)].dropped.fetch_add(1, std::memory_order_relaxed); }

std::uint64_t sink_ledger::record(long outlet, std::string_view body, std::string_view id) {
  auto found = created_items(body);
  if (outlet < 0) {
    stray_.fetch_add(1, std::memory_order_relaxed);
    return std::max<std::uint64_t>(1, found.size());
  }
  auto j = static_cast<std::size_t>(outlet);
  per_class& c = classes_[class_of(outlet)];
  auto now = std::chrono::system_clock::now();
  std::int64_t now_us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  std::uint64_t id_hash = id.empty() ? engine::detail::fnv1a(body) : engine::detail::fnv1a(id);
  for (const created_item& it : found) {
    if ((o_.run && it.feed != *o_.run) || it.k >= o_.items) {
      stray_.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    std::size_t pair = static_cast<std::size_t>(it.k) * o_.outlets + j;
    std::uint64_t mask = std::uint64_t{1} << (pair % 64);
    bool first = (bits_[pair / 64].fetch_or(mask, std::memory_order_relaxed) & mask) == 0;
    std::uint64_t key = engine::detail::fnv1a(std::string_view(reinterpret_cast<const char*>(&pair), sizeof pair),
                                              std::string_view(reinterpret_cast<const char*>(&id_hash), sizeof id_hash));
    bool same = seen_id(key);
    if (!first) {
      c.duplicates.fetch_add(1, std::memory_order_relaxed);
      (same ? c.same_id : c.different_id).fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    c.delivered.fetch_add(1, std::memory_order_relaxed);
    outlet_delivered_[j].fetch_add(1, std::memory_order_relaxed);
    std::int64_t lat = now_us - it.created_ms * 1000;
    auto us = static_cast<std::uint64_t>(std::max<std::int64_t>(0, lat));
    c.histogram[bucket_of(us)].fetch_add(1, std::memory_order_relaxed);
    std::uint64_t prev = c.max_us.load(std::memory_order_relaxed);
    while (us > prev && !c.max_us.compare_exchange_weak(prev, us, std::memory_order_relaxed)) {}
    auto slot = static_cast<std::size_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start_).count() / 100);
    arrivals_[std::min(slot, arrival_slots - 1)].fetch_add(1, std::memory_order_relaxed);
    if (j < o_.ordered.size() && o_.ordered[j]) {
      // An ordered outlet has one request in flight: its receipts do not race each other.
      auto k = static_cast<std::int64_t>(it.k);
      std::int64_t last = last_k_[j].load(std::memory_order_relaxed);
      if (k < last) order_violations_.fetch_add(1, std::memory_order_relaxed);
      else last_k_[j].store(k, std::memory_order_relaxed);
    }
  }
  return std::max<std::uint64_t>(1, found.size());
}

sink_ledger_snapshot sink_ledger::snapshot(std::size_t max_missing, std::size_t items_in_range) const {
  sink_ledger_snapshot s;
  s.order_violations = order_violations_.load();
  s.stray = stray_.load();
  for (std::size_t i = 0; i < o_.class_names.size(); ++i) {
    const per_class& c = classes_[i];
    sink_ledger_class out;
    out.name = o_.class_names[i];
    out.delivered = c.delivered.load();
    out.duplicates = c.duplicates.load();
    out.duplicates_same_id = c.same_id.load();
    out.duplicates_different_id = c.different_id.load();
    out.dropped = c.dropped.load();
    out.max_ms = static_cast<double>(c.max_us.load()) / 1000.0;
    for (std::size_t b = 0; b < buckets; ++b)
      if (std::uint64_t n = c.histogram[b].load())
        out.histogram.emplace_back(static_cast<double>(bucket_upper_us(b)) / 1000.0, n);
    s.delivered += out.delivered;
    s.duplicates += out.duplicates;
    s.duplicates_same_id += out.duplicates_same_id;
    s.duplicates_different_id += out.duplicates_different_id;
    s.dropped += out.dropped;
    s.classes.push_back(std::move(out));
  }
  for (std::size_t j = 0; j < o_.outlets; ++j) {
    s.delivered_per_outlet.push_back(outlet_delivered_[j].load());
    std::size_t c = class_of(static_cast<long>(j));
    if (c < s.classes.size()) ++s.classes[c].outlets;
  }
  std::size_t last = 0;
  for (std::size_t i = 0; i < arrival_slots; ++i)
    if (arrivals_[i].load()) last = i + 1;
  for (std::size_t i = 0; i < last; ++i) s.arrivals_per_100ms.push_back(arrivals_[i].load());
  // The pairs of items K < items_in_range: the first `range` bits.
  std::size_t range = std::min(items_in_range, o_.items) * o_.outlets;
  for (std::size_t w = 0; w * 64 < range; ++w) {
    std::uint64_t v = bits_[w].load();
    if (range - w * 64 < 64) v &= (std::uint64_t{1} << (range - w * 64)) - 1;
    s.delivered_in_range += static_cast<std::uint64_t>(std::popcount(v));
    for (std::size_t b = 0; b < 64 && s.missing.size() < max_missing && w * 64 + b < range; ++b)
      if (!(v >> b & 1)) s.missing.emplace_back((w * 64 + b) / o_.outlets, (w * 64 + b) % o_.outlets);
  }
  return s;
}

}  // namespace syndic::testkit::detail
