#include "cluster/coordinator.hpp"

#include "cli/json_string.hpp"

#include <algorithm>
#include <memory>

namespace syndic::cluster {

using namespace std::chrono_literals;

std::string_view to_string(lose_reason r) {
  switch (r) {
    case lose_reason::handback: return "handback";
    case lose_reason::lost: return "lost";
    case lose_reason::expired: return "expired";
    case lose_reason::stopping: return "stopping";
  }
  return "?";
}

namespace {

// Store calls queued together and waited for with a bound: a completion that comes after the
// wait gave up lands here and is ignored (the shared_ptr keeps the batch alive for it, not
// the coordinator).
template <class T>
struct batch {
  std::mutex mutex;
  std::condition_variable done;
  std::size_t left = 0;
  std::vector<std::optional<engine::store_result<T>>> results;

  explicit batch(std::size_t n) : left(n), results(n) {}
  static engine::completion<T> slot(const std::shared_ptr<batch>& b, std::size_t i) {
    return [b, i](engine::store_result<T> r) {
      std::lock_guard lock(b->mutex);
      b->results[i] = std::move(r);
      if (--b->left == 0) b->done.notify_all();
    };
  }
  // Waits at most `timeout` (real time) for every completion; returns the results so far.
  std::vector<std::optional<engine::store_result<T>>> wait(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex);
    done.wait_for(lock, timeout, [this] { return left == 0; });
    return results;
  }
};

struct status_batch {
  std::mutex mutex;
  std::condition_variable done;
  std::size_t left = 0;
};

}  // namespace

coordinator::coordinator(engine::store& db, coordinator_options options, coordinator_callbacks callbacks)
    : db_(db), options_(std::move(options)), callbacks_(std::move(callbacks)) {
  if (options_.partitions == 0) options_.partitions = 1;
  if (options_.partitions > max_partitions) options_.partitions = max_partitions;
  if (options_.lease_ttl < 30ms) options_.lease_ttl = 30ms;
  if (options_.refresh.count() <= 0) options_.refresh = options_.lease_ttl / 3;
  if (options_.margin.count() <= 0) options_.margin = options_.lease_ttl / 5;
  if (options_.handback_budget.count() <= 0) options_.handback_budget = options_.refresh / 2;
  stats_.instance = options_.instance_id;
  stats_.partitions = options_.partitions;
}

coordinator::~coordinator() { stop(); }

steady_clock::time_point coordinator::now() const {
  return options_.clock ? options_.clock() : steady_clock::now();
}

std::chrono::milliseconds coordinator::refresh() const { return options_.refresh; }

steady_clock::time_point coordinator::valid_until(steady_clock::time_point sent) const {
  return sent + options_.lease_ttl - options_.margin;
}

void coordinator::start() {
  std::lock_guard lock(mutex_);
  if (round_thread_.joinable() || stopped_) return;
  round_thread_ = std::thread([this] { round_loop(); });
  guard_thread_ = std::thread([this] { guard_loop(); });
}

void coordinator::round_loop() {
  if (options_.join_delay.count() > 0) {
    renew_round();  // the heartbeat alone: others count us from now
    std::unique_lock lock(mutex_);
    if (wake_.wait_for(lock, options_.join_delay, [this] { return quit_; })) return;
  }
  for (;;) {
    auto began = steady_clock::now();
    tick();
    std::unique_lock lock(mutex_);
    if (wake_.wait_until(lock, began + refresh(), [this] { return quit_; })) return;
  }
}

void coordinator::guard_loop() {
  std::unique_lock lock(mutex_);
  while (!quit_) {
    auto next = now() + refresh();
    for (const auto& [p, h] : held_) next = std::min(next, h.valid_until);
    auto wait = std::max<steady_clock::duration>(next - now(), 1ms);
    if (wake_.wait_for(lock, wait, [this] { return quit_; })) return;
    lock.unlock();
    expire_overdue();
    lock.lock();
  }
}

void coordinator::expire_overdue() {
  // Not under callback_mutex_: a round stuck in a slow on_gain (loading progress) or in a
  // handback's budget must not hold the guard past the margin. The partitions it drops are
  // not those of the callback under way (those left held_ before it, or entered it with a
  // fresh deadline).
  std::vector<std::uint32_t> overdue;
  {
    std::lock_guard lock(mutex_);
    auto t = now();
    for (auto it = held_.begin(); it != held_.end();) {
      if (it->second.valid_until <= t) {
        overdue.push_back(it->first);
        it = held_.erase(it);
      } else {
        ++it;
      }
    }
    if (membership_ && membership_valid_until_ <= t) membership_.reset();
    stats_.expired += overdue.size();
  }
  if (!overdue.empty() && callbacks_.on_lose) callbacks_.on_lose(overdue, lose_reason::expired, 0ms);
}

void coordinator::renew_round() {
  std::optional<engine::lease> member;
  std::vector<engine::lease> partitions;
  steady_clock::time_point deadline;
  {
    std::lock_guard lock(mutex_);
    member = membership_;
    deadline = now() + refresh();
    for (const auto& [p, h] : held_) {
      partitions.push_back(h.lease);
      deadline = std::min(deadline, h.valid_until);
    }
  }
  const auto sent = now();
  auto b = std::make_shared<batch<std::optional<engine::lease>>>(1 + partitions.size());
  using B = batch<std::optional<engine::lease>>;
  if (member) db_.renew_lease(*member, options_.lease_ttl, B::slot(b, 0));
  else db_.acquire_lease(member_lease_name(options_.instance_id), options_.instance_id, options_.lease_ttl, B::slot(b, 0));
  for (std::size_t i = 0; i < partitions.size(); ++i)
    db_.renew_lease(partitions[i], options_.lease_ttl, B::slot(b, i + 1));
  auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now());
  auto results = b->wait(std::clamp<std::chrono::milliseconds>(timeout, 1ms, refresh()));

  std::vector<std::uint32_t> lost;
  bool announce = false;
  {
    std::lock_guard lock(mutex_);
    const auto good_until = valid_until(sent);
    const bool in_time = good_until > now();
    if (auto& r = results[0]; r) {
      if (!r->ok()) {
        ++stats_.store_errors;
      } else if (r->value && in_time) {
        membership_ = *r->value;
        membership_valid_until_ = good_until;
        announce = !announced_;
        announced_ = true;
      } else if (!r->value) {
        membership_.reset();  // lapsed: acquired anew next round
      }
    }
    for (std::size_t i = 0; i < partitions.size(); ++i) {
      auto& r = results[i + 1];
      if (!r) continue;  // not confirmed in time: the guard decides
      if (!r->ok()) {
        ++stats_.store_errors;
        continue;
      }
      auto p = parse_partition_lease(partitions[i].name);
      auto it = p ? held_.find(*p) : held_.end();
      if (it == held_.end() || it->second.lease.token != partitions[i].token) continue;
      if (r->value) {
        if (in_time) {
          it->second.lease = *r->value;
          it->second.valid_until = std::max(it->second.valid_until, good_until);
        }
      } else {
        lost.push_back(*p);
      }
    }
  }
  if (announce) {
    std::string value = "{\"url\":" + cli::json_string(options_.base_url) + ",\"started\":" +
                        std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                           engine::store_clock::now().time_since_epoch())
                                           .count()) +
                        "}";
    db_.write({engine::kv_put{std::string(members_kv_namespace), options_.instance_id, std::move(value)}});
  }
  if (!lost.empty()) {
    std::lock_guard callbacks(callback_mutex_);
    {
      std::lock_guard lock(mutex_);
      for (auto p : lost) held_.erase(p);
      stats_.lost += lost.size();
    }
    if (callbacks_.on_lose) callbacks_.on_lose(lost, lose_reason::lost, 0ms);
  }
}

void coordinator::release_leases(std::vector<engine::lease> leases) {
  if (leases.empty()) return;
  auto b = std::make_shared<status_batch>();
  b->left = leases.size();
  for (auto& l : leases)
    db_.release_lease(std::move(l), [b](engine::store_status) {
      std::lock_guard lock(b->mutex);
      if (--b->left == 0) b->done.notify_all();
    });
  std::unique_lock lock(b->mutex);
  b->done.wait_for(lock, refresh(), [&] { return b->left == 0; });
}

void coordinator::tick() {
  expire_overdue();
  renew_round();
  expire_overdue();

  auto members = db_.leases(member_lease_prefix);
  auto rows = db_.leases(partition_lease_prefix);
  if (!members.ok() || !rows.ok()) {
    std::lock_guard lock(mutex_);
    ++stats_.store_errors;
    ++stats_.rounds;
    return;
  }
  const auto store_now = options_.store_clock ? options_.store_clock() : engine::store_clock::now();

  assignment_input in;
  in.self = options_.instance_id;
  in.partitions = options_.partitions;
  std::map<std::uint32_t, engine::lease> row_of;
  for (const auto& l : rows.value) {
    auto p = parse_partition_lease(l.name);
    if (!p || *p >= options_.partitions) continue;
    in.leases.push_back({*p, l.owner, l.token, !l.owner.empty() && l.expires > store_now});
    row_of[*p] = l;
  }
  {
    std::lock_guard lock(mutex_);
    for (const auto& l : members.value) {
      std::string id = l.name.substr(member_lease_prefix.size());
      if (l.owner.empty() || l.expires <= store_now || id == options_.instance_id) continue;
      in.members.push_back(std::move(id));
    }
    if (membership_) in.members.push_back(options_.instance_id);
    for (const auto& [p, h] : held_) in.held.push_back({p, h.lease.token});
  }
  assignment_plan plan = plan_assignment(in);

  // Gone already (another owner or token in the row): nothing to release.
  if (!plan.lost.empty()) {
    std::lock_guard callbacks(callback_mutex_);
    std::vector<std::uint32_t> dropped;
    {
      std::lock_guard lock(mutex_);
      for (auto p : plan.lost)
        if (held_.erase(p)) dropped.push_back(p);
      stats_.lost += dropped.size();
    }
    if (!dropped.empty() && callbacks_.on_lose) callbacks_.on_lose(dropped, lose_reason::lost, 0ms);
  }

  // Hand back extras: the fan-out records and flushes first, then the lease goes.
  if (!plan.release.empty()) {
    std::vector<engine::lease> to_release;
    std::vector<std::uint32_t> handed;
    {
      std::lock_guard callbacks(callback_mutex_);
      {
        std::lock_guard lock(mutex_);
        for (auto p : plan.release) {
          if (auto it = held_.find(p); it != held_.end()) {
            to_release.push_back(it->second.lease);
            handed.push_back(p);
            held_.erase(it);
          } else if (auto r = row_of.find(p); r != row_of.end() && r->second.owner == options_.instance_id) {
            to_release.push_back(r->second);  // a stray: never delivered for, nothing to flush
          }
        }
        stats_.handed_back += handed.size();
      }
      if (!handed.empty() && callbacks_.on_lose)
        callbacks_.on_lose(handed, lose_reason::handback, options_.handback_budget);
    }
    release_leases(std::move(to_release));
  }

  // Our share of the free partitions (and strays kept: the same owner keeps the token).
  if (!plan.acquire.empty()) {
    const auto sent = now();
    using B = batch<std::optional<engine::lease>>;
    auto b = std::make_shared<B>(plan.acquire.size());
    for (std::size_t i = 0; i < plan.acquire.size(); ++i)
      db_.acquire_lease(partition_lease_name(plan.acquire[i]), options_.instance_id, options_.lease_ttl,
                        B::slot(b, i));
    auto results = b->wait(refresh());
    std::lock_guard callbacks(callback_mutex_);
    std::vector<partition_grant> grants;
    {
      std::lock_guard lock(mutex_);
      const auto good_until = valid_until(sent);
      for (std::size_t i = 0; i < results.size(); ++i) {
        auto& r = results[i];
        if (!r) continue;  // too late: a stray next round
        if (!r->ok()) {
          ++stats_.store_errors;
          continue;
        }
        if (!r->value || good_until <= now()) continue;
        std::uint32_t p = plan.acquire[i];
        if (held_.count(p)) continue;
        held_[p] = held_partition{*r->value, good_until};
        grants.push_back({p, engine::fence{r->value->name, r->value->token}});
      }
      stats_.gained += grants.size();
    }
    if (!grants.empty() && callbacks_.on_gain) callbacks_.on_gain(grants);
  }

  std::lock_guard lock(mutex_);
  ++stats_.rounds;
  stats_.quota = plan.quota;
  stats_.members = in.members;
  std::sort(stats_.members.begin(), stats_.members.end());
  wake_.notify_all();  // the guard: new deadlines
}

void coordinator::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    stopped_ = true;
    quit_ = true;
    wake_.notify_all();
  }
  if (round_thread_.joinable()) round_thread_.join();
  if (guard_thread_.joinable()) guard_thread_.join();
  std::vector<engine::lease> leases;
  {
    std::lock_guard callbacks(callback_mutex_);
    std::vector<std::uint32_t> parts;
    {
      std::lock_guard lock(mutex_);
      for (auto& [p, h] : held_) {
        parts.push_back(p);
        leases.push_back(h.lease);
      }
      held_.clear();
      if (membership_) leases.push_back(*membership_);
      membership_.reset();
    }
    if (!parts.empty() && callbacks_.on_lose)
      callbacks_.on_lose(parts, lose_reason::stopping, options_.handback_budget);
  }
  if (announced_) db_.write({engine::kv_erase{std::string(members_kv_namespace), options_.instance_id}});
  release_leases(std::move(leases));
}

coordinator_view coordinator::view() const {
  std::lock_guard lock(mutex_);
  coordinator_view v = stats_;
  v.member = membership_.has_value();
  for (const auto& [p, h] : held_) {
    v.owned.push_back(p);
    if (v.good_until == steady_clock::time_point{} || h.valid_until < v.good_until) v.good_until = h.valid_until;
  }
  return v;
}

std::vector<std::uint32_t> coordinator::owned() const {
  std::lock_guard lock(mutex_);
  std::vector<std::uint32_t> out;
  for (const auto& [p, h] : held_) out.push_back(p);
  return out;
}

}  // namespace syndic::cluster
