#include <syndic/engine/engine.hpp>

#include "delivery/ids.hpp"
#include "delivery/payload.hpp"
#include "delivery/shard.hpp"

#include <syndic/formats/render.hpp>

#include <sched.h>

#include <algorithm>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <mutex>
#include <shared_mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>

namespace syndic::engine {
namespace {

// The CPUs this process may run on (taskset, cgroup cpusets), not every CPU of the machine:
// two shards pinned to one CPU take turns on it and only add switches (measured with
// bench/delivery/compare.sh, client pinned to one CPU: --shards 1 was 0.59x the reference
// client's rate, two shards 0.49x).
unsigned usable_cpus() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace


std::string_view to_string(final_state s) {
  switch (s) {
    case final_state::delivered: return "delivered";
    case final_state::dead_lettered: return "dead_lettered";
    case final_state::retired: return "retired";
    case final_state::gave_up: return "gave_up";
    case final_state::cancelled: return "cancelled";
    case final_state::expired: return "expired";
  }
  return "?";
}

std::string_view to_string(submit_status s) {
  switch (s) {
    case submit_status::accepted: return "accepted";
    case submit_status::outlets_full: return "outlets_full";
    case submit_status::engine_full: return "engine_full";
    case submit_status::stopped: return "stopped";
  }
  return "?";
}

// Lifecycle, and why it is safe (engine.hpp states the contract):
//  - `shards` is written once, by start() under start_mutex, before `started` is set; after
//    that it is only read (stop() joins the threads but keeps the objects), so any thread that
//    saw `started` may use it without a lock.
//  - submit/add/remove hold `life` shared while they post onto shards; stop() sets `stopped`
//    and then takes `life` exclusively once, so every post made by a call that did not see
//    `stopped` lands before the shards stop, and the shards' last poll cancels it. Nothing is
//    posted after that (a post then would be lost, its pair never ended).
//  - stop() from a shard thread (the outcome callback) cannot join itself: it only asks the
//    shards to stop. Joins happen under join_mutex, from other threads only.
struct engine::impl {
  engine_options options;
  detail::shared_counters counters;
  detail::shard_callbacks callbacks;
  std::vector<std::unique_ptr<detail::shard>> shards;
  std::mutex start_mutex;
  std::atomic<bool> started{false};
  std::atomic<bool> stopped{false};
  std::shared_mutex life;
  std::mutex join_mutex;

  // The registry submit() reads on the caller's thread; `queued` counts the outlet's pairs not
  // yet final (shared with the pairs, which count it down wherever they end).
  struct registered {
    detail::outlet_filter cfg;
    std::shared_ptr<std::atomic<std::int64_t>> queued;
  };
  std::mutex outlets_mutex;
  std::unordered_map<std::string, registered> outlets;

  // submit_to() is called once per outlet with the same log items: each item is rendered at
  // most once per format and its key hashed once, here, not once per outlet. Bounded; the
  // entry keeps its document alive, so a pointer is never reused while it is a key.
  struct prepared {
    std::shared_ptr<detail::payload_set> rendered;
    std::string item_key;
  };
  std::mutex prepared_mutex;
  std::unordered_map<const formats::feed*, prepared> prepared_items;
  std::deque<const formats::feed*> prepared_order;
  static constexpr std::size_t max_prepared = 16'384;

  // The payload of `li` in format `f`, and its item key; under prepared_mutex.
  std::pair<std::shared_ptr<const detail::payload>, std::string> prepare(const log_item& li, payload_format f,
                                                                         std::int64_t unix_now) {
    std::lock_guard lock(prepared_mutex);
    auto [it, fresh] = prepared_items.try_emplace(li.doc.get());
    if (fresh) {
      it->second.rendered = std::make_shared<detail::payload_set>(li.doc, unix_now);
      const formats::item& item = li.doc->items.front();
      it->second.item_key = li.item_key.empty()
                                ? detail::item_key(formats::synthesized_item_id(item), detail::item_version(item))
                                : li.item_key;
      prepared_order.push_back(li.doc.get());
      if (prepared_order.size() > max_prepared) {
        prepared_items.erase(prepared_order.front());
        prepared_order.pop_front();
      }
    }
    const std::string& key = li.item_key.empty() ? it->second.item_key : li.item_key;
    return {it->second.rendered->get(f), key};
  }

  // Gives back pairs reserved in `pending` but refused: a waiter that saw them may be waiting
  // for the count to reach 0 (wait_idle).
  void release_reserved(std::int64_t n) {
    if (counters.pending.fetch_sub(n) == n) {
      std::lock_guard lock(counters.idle_mutex);
      counters.idle.notify_all();
    }
  }

  detail::shard& shard_for(std::string_view id) { return *shards[detail::fnv1a(id) % shards.size()]; }

  void start() {
    if (started.load(std::memory_order_acquire)) return;
    std::lock_guard lock(start_mutex);
    if (started.load(std::memory_order_relaxed)) return;
    unsigned n = options.shards ? options.shards : usable_cpus();
    std::size_t connections = options.max_connections ? std::max<std::size_t>(1, options.max_connections / n)
                                                      : http::connection_budget::per_shard(n);
    for (unsigned i = 0; i < n; ++i)
      shards.push_back(std::make_unique<detail::shard>(options, options.max_in_flight / n, connections, counters, callbacks));
    started.store(true, std::memory_order_release);
  }

  bool on_shard_thread() const {
    if (!started.load(std::memory_order_acquire)) return false;
    for (const auto& s : shards)
      if (s->on_own_thread()) return true;
    return false;
  }
};

engine::engine(engine_options options) : impl_(std::make_unique<impl>()) {
  impl_->options = options;
}

engine::~engine() { stop(); }

void engine::on_outcome(std::function<void(const delivery_outcome&)> callback) {
  std::lock_guard lock(impl_->start_mutex);
  if (impl_->started.load())
    throw std::logic_error("engine::on_outcome: set the callback before the first add_outlet or submit");
  impl_->callbacks.outcome = std::move(callback);
}

void engine::on_attempt(std::function<void(const attempt_report&)> callback) {
  std::lock_guard lock(impl_->start_mutex);
  if (impl_->started.load())
    throw std::logic_error("engine::on_attempt: set the callback before the first add_outlet or submit");
  impl_->callbacks.attempt = std::move(callback);
}

std::string engine::add_outlet(outlet_config outlet) {
  if (std::string error = prepare_outlet(outlet); !error.empty()) return error;
  std::shared_lock life(impl_->life);
  if (impl_->stopped.load()) return "engine stopped";
  impl_->start();
  {
    std::lock_guard lock(impl_->outlets_mutex);
    auto& r = impl_->outlets[outlet.id];
    if (!r.queued) r.queued = std::make_shared<std::atomic<std::int64_t>>(0);
    r.cfg = detail::outlet_filter(outlet);
  }
  impl_->shard_for(outlet.id).add_outlet(std::move(outlet));
  return {};
}

void engine::remove_outlet(const std::string& id) {
  std::shared_lock life(impl_->life);
  if (impl_->stopped.load()) return;
  impl_->start();
  {
    std::lock_guard lock(impl_->outlets_mutex);
    impl_->outlets.erase(id);
  }
  impl_->shard_for(id).remove_outlet(id);
}

submit_result engine::submit(const formats::feed& source, std::span<const formats::item> items) {
  submit_result result;
  std::shared_lock life(impl_->life);
  if (impl_->stopped.load()) {
    result.status = submit_status::stopped;
    return result;  // `refused` is unknown without matching: the caller keeps everything
  }
  impl_->start();
  auto now = std::chrono::steady_clock::now();
  auto unix_now = static_cast<std::int64_t>(std::time(nullptr));
  // Each item is rendered (at most once per format) and keyed once, before any outlet.
  struct prepared_item {
    detail::payload_set rendered;
    std::string key;
  };
  std::vector<prepared_item> prepared;
  prepared.reserve(items.size());
  for (const formats::item& it : items)
    prepared.push_back({detail::payload_set(source, it, unix_now),
                        detail::item_key(formats::synthesized_item_id(it), detail::item_version(it))});
  // Per matched outlet: its pairs, in item order, built outlet by outlet so that each
  // outlet's entry is found once per submit rather than once per pair.
  struct batch {
    std::string id;
    std::vector<detail::delivery> pairs;
    std::size_t refused = 0;
    std::atomic<std::int64_t>* queued = nullptr;
  };
  std::vector<batch> batches;
  std::size_t total = 0;
  {
    std::lock_guard lock(impl_->outlets_mutex);
    const std::int64_t max_queue = static_cast<std::int64_t>(impl_->options.max_queue);
    for (const auto& [id, reg] : impl_->outlets) {
      batch b;
      // The room its bound leaves, taken as items match.
      std::int64_t room = max_queue > 0 ? max_queue - reg.queued->load() : INT64_MAX;
      for (std::size_t i = 0; i < items.size(); ++i) {
        if (!detail::wants(reg.cfg, source, items[i])) continue;
        if (room <= 0) {
          ++b.refused;
          continue;
        }
        --room;
        if (b.pairs.empty()) b.pairs.reserve(items.size() - i);  // most outlets want most items
        detail::delivery& d = b.pairs.emplace_back();
        d.body = prepared[i].rendered.get(reg.cfg.format);
        detail::delivery_id(id, prepared[i].key, d.delivery_id);
        d.submitted = now;
        d.queued = reg.queued;
      }
      if (b.pairs.empty() && b.refused == 0) continue;
      b.id = id;
      b.queued = reg.queued.get();
      total += b.pairs.size();
      result.refused += b.refused;
      batches.push_back(std::move(b));
    }
    if (result.refused > 0)
      for (const batch& b : batches)
        if (b.refused > 0) result.full_outlets.emplace_back(b.id, b.refused);
    // The global bound, all or nothing: reserved before anything is posted.
    const auto max_pending = static_cast<std::int64_t>(impl_->options.max_pending_pairs);
    std::int64_t before = impl_->counters.pending.fetch_add(static_cast<std::int64_t>(total));
    if (max_pending > 0 && before + static_cast<std::int64_t>(total) > max_pending && total > 0) {
      impl_->release_reserved(static_cast<std::int64_t>(total));
      result.status = submit_status::engine_full;
      result.refused += total;
      result.full_outlets.clear();
      return result;
    }
    for (const batch& b : batches) *b.queued += static_cast<std::int64_t>(b.pairs.size());
  }
  result.queued = total;
  if (result.refused > 0) result.status = submit_status::outlets_full;
  for (batch& b : batches) {
    if (b.pairs.empty()) continue;
    detail::shard& to = impl_->shard_for(b.id);
    to.enqueue(std::move(b.id), std::move(b.pairs));
  }
  return result;
}

submit_result engine::submit(std::span<const formats::item> items) {
  static const formats::feed no_source;
  return submit(no_source, items);
}

submit_result engine::submit_to(const std::string& outlet_id, std::span<const log_item> items) {
  submit_result result;
  std::shared_lock life(impl_->life);
  if (impl_->stopped.load()) {
    result.status = submit_status::stopped;
    result.refused = items.size();
    return result;
  }
  impl_->start();
  auto now = std::chrono::steady_clock::now();
  auto unix_now = static_cast<std::int64_t>(std::time(nullptr));
  std::vector<detail::delivery> pairs;
  {
    std::lock_guard lock(impl_->outlets_mutex);
    auto it = impl_->outlets.find(outlet_id);
    if (it == impl_->outlets.end()) {
      // Not an outlet (any more): nothing is the engine's; the caller keeps the items.
      result.status = submit_status::outlets_full;
      result.refused = items.size();
      result.full_outlets.emplace_back(outlet_id, items.size());
      return result;
    }
    const auto& reg = it->second;
    const std::int64_t max_queue = static_cast<std::int64_t>(impl_->options.max_queue);
    std::int64_t room = max_queue > 0 ? max_queue - reg.queued->load() : INT64_MAX;
    std::size_t take = static_cast<std::size_t>(std::clamp<std::int64_t>(room, 0, static_cast<std::int64_t>(items.size())));
    const auto max_pending = static_cast<std::int64_t>(impl_->options.max_pending_pairs);
    std::int64_t before = impl_->counters.pending.fetch_add(static_cast<std::int64_t>(take));
    if (max_pending > 0 && before + static_cast<std::int64_t>(take) > max_pending && take > 0) {
      impl_->release_reserved(static_cast<std::int64_t>(take));
      result.status = submit_status::engine_full;
      result.refused = items.size();
      return result;
    }
    pairs.reserve(take);
    for (std::size_t i = 0; i < take; ++i) {
      const log_item& li = items[i];
      auto [body, key] = impl_->prepare(li, reg.cfg.format, unix_now);
      detail::delivery d;
      d.body = std::move(body);
      detail::delivery_id(outlet_id, key, d.delivery_id);
      d.seq = li.seq;
      d.submitted = now;
      // A pair resumed after a restart keeps its count; its retry window starts again here.
      d.attempts = li.attempts;
      if (li.attempts > 0) d.first_attempt = now;
      if (li.not_before != std::chrono::system_clock::time_point{}) {
        auto wait = li.not_before - std::chrono::system_clock::now();
        if (wait > std::chrono::system_clock::duration::zero())
          d.not_before = now + std::chrono::duration_cast<std::chrono::steady_clock::duration>(wait);
      }
      d.queued = reg.queued;
      pairs.push_back(std::move(d));
    }
    *reg.queued += static_cast<std::int64_t>(take);
    result.queued = take;
    result.refused = items.size() - take;
    if (result.refused > 0) {
      result.status = submit_status::outlets_full;
      result.full_outlets.emplace_back(outlet_id, result.refused);
    }
  }
  if (!pairs.empty()) impl_->shard_for(outlet_id).enqueue(outlet_id, std::move(pairs));
  return result;
}

std::size_t engine::pending() const {
  return static_cast<std::size_t>(std::max<std::int64_t>(0, impl_->counters.pending.load()));
}

bool engine::wait_idle(std::chrono::milliseconds timeout) {
  // Woken when the count reaches 0 (shard::finish_pair), not by polling: a 2 ms poll woke
  // the waiter's core 500 times a second, beside the shard it shares it with.
  std::unique_lock lock(impl_->counters.idle_mutex);
  return impl_->counters.idle.wait_for(lock, timeout, [this] { return pending() == 0; });
}

engine_stats engine::stats() const {
  const auto& c = impl_->counters;
  return engine_stats{c.delivered, c.dead_lettered, c.retired, c.gave_up, c.cancelled, c.expired,
                      c.attempts,  c.retries,       c.connections_opened, c.peak_outlet_in_flight};
}

std::vector<shard_load> engine::shard_loads(std::chrono::milliseconds timeout) const {
  if (!impl_->started.load(std::memory_order_acquire) || impl_->on_shard_thread()) return {};
  std::shared_lock life(impl_->life);  // no stop() meanwhile: the shards keep running
  if (impl_->stopped.load()) return {};
  struct gather {
    std::mutex mutex;
    std::condition_variable cv;
    std::vector<shard_load> out;
    std::size_t left = 0;
  };
  auto g = std::make_shared<gather>();
  g->out.resize(impl_->shards.size());
  g->left = impl_->shards.size();
  for (std::size_t i = 0; i < impl_->shards.size(); ++i)
    impl_->shards[i]->snapshot([g, i](shard_load s) {
      std::lock_guard lock(g->mutex);
      g->out[i] = s;
      if (--g->left == 0) g->cv.notify_all();
    });
  std::unique_lock lock(g->mutex);
  g->cv.wait_for(lock, timeout, [&] { return g->left == 0; });
  return g->out;
}

std::optional<outlet_load> engine::outlet_loads(const std::string& id, std::chrono::milliseconds timeout) const {
  if (!impl_->started.load(std::memory_order_acquire) || impl_->on_shard_thread()) return std::nullopt;
  std::shared_lock life(impl_->life);
  if (impl_->stopped.load()) return std::nullopt;
  struct answer {
    std::mutex mutex;
    std::condition_variable cv;
    std::optional<outlet_load> value;
    bool done = false;
  };
  auto a = std::make_shared<answer>();
  impl_->shard_for(id).snapshot(id, [a](std::optional<outlet_load> l) {
    std::lock_guard lock(a->mutex);
    a->value = std::move(l);
    a->done = true;
    a->cv.notify_all();
  });
  std::unique_lock lock(a->mutex);
  a->cv.wait_for(lock, timeout, [&] { return a->done; });
  return a->value;
}

bool engine::drain(std::chrono::milliseconds timeout) {
  impl_->stopped.store(true);  // submit() refuses from here; what is pending carries on
  { std::unique_lock wait_for_posts(impl_->life); }
  bool idle = wait_idle(timeout);
  stop();
  return idle;
}

void engine::stop() {
  impl_->stopped.store(true);
  { std::unique_lock wait_for_posts(impl_->life); }  // every post already begun has landed
  if (!impl_->started.load(std::memory_order_acquire)) return;
  if (impl_->on_shard_thread()) {
    for (auto& s : impl_->shards) s->request_stop();
    return;
  }
  std::lock_guard lock(impl_->join_mutex);
  for (auto& s : impl_->shards) s->stop();
}

}  // namespace syndic::engine
