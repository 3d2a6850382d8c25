#include <syndic/engine/engine.hpp>

#include "delivery/ids.hpp"
#include "delivery/payload.hpp"
#include "delivery/shard.hpp"

#include <syndic/formats/render.hpp>

#include <ctime>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace syndic::engine {

std::string_view to_string(final_state s) {
  switch (s) {
    case final_state::delivered: return "delivered";
    case final_state::dead_lettered: return "dead_lettered";
    case final_state::retired: return "retired";
    case final_state::gave_up: return "gave_up";
    case final_state::cancelled: return "cancelled";
  }
  return "?";
}

struct engine::impl {
  engine_options options;
  detail::shared_counters counters;
  std::function<void(const delivery_outcome&)> callback;
  std::vector<std::unique_ptr<detail::shard>> shards;
  std::mutex outlets_mutex;  // guards `outlets`, read by submit() on the caller's thread
  std::unordered_map<std::string, outlet_config> outlets;

  detail::shard& shard_for(std::string_view id) { return *shards[detail::fnv1a(id) % shards.size()]; }

  void ensure_started() {
    if (!shards.empty()) return;
    unsigned n = options.shards ? options.shards : std::max(1u, std::thread::hardware_concurrency());
    for (unsigned i = 0; i < n; ++i)
      shards.push_back(std::make_unique<detail::shard>(options, options.max_in_flight / n, counters, callback));
  }
};

engine::engine(engine_options options) : impl_(std::make_unique<impl>()) {
  impl_->options = options;
}

engine::~engine() { stop(); }

void engine::on_outcome(std::function<void(const delivery_outcome&)> callback) {
  impl_->callback = std::move(callback);
}

void engine::add_outlet(outlet_config outlet) {
  impl_->ensure_started();
  {
    std::lock_guard lock(impl_->outlets_mutex);
    impl_->outlets[outlet.id] = outlet;
  }
  impl_->shard_for(outlet.id).add_outlet(std::move(outlet));
}

void engine::remove_outlet(const std::string& id) {
  impl_->ensure_started();
  {
    std::lock_guard lock(impl_->outlets_mutex);
    impl_->outlets.erase(id);
  }
  impl_->shard_for(id).remove_outlet(id);
}

std::size_t engine::submit(const formats::feed& source, std::span<const formats::item> items) {
  impl_->ensure_started();
  auto now = std::chrono::steady_clock::now();
  auto unix_now = static_cast<std::int64_t>(std::time(nullptr));
  std::unordered_map<std::string, std::vector<detail::delivery>> per_outlet;
  {
    std::lock_guard lock(impl_->outlets_mutex);
    for (const formats::item& it : items) {
      detail::payload_set rendered(source, it, unix_now);  // each format at most once
      std::string item_id = formats::synthesized_item_id(it);
      for (const auto& [id, cfg] : impl_->outlets) {
        if (!detail::wants(cfg, source, it)) continue;
        detail::delivery d;
        d.body = rendered.get(cfg.format);
        d.delivery_id = detail::delivery_id(id, item_id);
        d.submitted = now;
        auto& queue = per_outlet[id];
        if (queue.empty()) queue.reserve(items.size());  // most outlets want most items
        queue.push_back(std::move(d));
      }
    }
  }
  std::size_t total = 0;
  for (auto& [id, ds] : per_outlet) total += ds.size();
  impl_->counters.pending += static_cast<std::int64_t>(total);
  for (auto& [id, ds] : per_outlet) impl_->shard_for(id).enqueue(id, std::move(ds));
  return total;
}

std::size_t engine::pending() const {
  return static_cast<std::size_t>(std::max<std::int64_t>(0, impl_->counters.pending.load()));
}

bool engine::wait_idle(std::chrono::milliseconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (pending() > 0) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

engine_stats engine::stats() const {
  const auto& c = impl_->counters;
  return engine_stats{c.delivered, c.dead_lettered, c.retired, c.gave_up, c.cancelled,
                      c.attempts, c.retries, c.connections_opened};
}

void engine::stop() {
  for (auto& s : impl_->shards) s->stop();
  impl_->shards.clear();
}

}  // namespace syndic::engine
