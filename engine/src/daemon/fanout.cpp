#include "daemon/fanout.hpp"
#include "delivery/payload.hpp"

#include "cluster/partition.hpp"
#include "daemon/item_codec.hpp"

#include <algorithm>

namespace syndic::daemon {

using engine::seq_t;

namespace {

constexpr std::size_t page = 4096;  // exceptions read per call at start-up

// Adds mark_done ops for `seqs` (any order, duplicates allowed), one per contiguous range.
void add_done_ranges(const std::string& outlet, std::vector<seq_t>& seqs, std::vector<engine::write_op>& ops) {
  if (seqs.empty()) return;
  std::sort(seqs.begin(), seqs.end());
  seqs.erase(std::unique(seqs.begin(), seqs.end()), seqs.end());
  seq_t first = seqs.front(), last = first;
  for (std::size_t i = 1; i <= seqs.size(); ++i) {
    if (i < seqs.size() && seqs[i] == last + 1) {
      last = seqs[i];
      continue;
    }
    ops.emplace_back(engine::mark_done{outlet, first, last == first ? 0 : last});
    if (i < seqs.size()) first = last = seqs[i];
  }
}

}  // namespace

fanout::fanout(engine::store& db, engine::engine& eng, fanout_options options)
    : db_(db), engine_(eng), options_(options) {
  options_.partitions = std::min(options_.partitions, cluster::max_partitions);
  by_partition_.resize(options_.partitions);
}

fanout::~fanout() {
  stop_feeding();
  finish();
}

void fanout::attach(std::function<void(const engine::delivery_outcome&)> observe_outcome,
                    std::function<void(const engine::attempt_report&)> observe_attempt) {
  engine_.on_outcome([this, observe_outcome](const engine::delivery_outcome& o) {
    if (observe_outcome) observe_outcome(o);
    std::lock_guard lock(inbox_mutex_);
    inbox_outcomes_.push_back(o);
    if (!woken_) {
      woken_ = true;
      wake_.notify_one();
    }
  });
  engine_.on_attempt([this, observe_attempt](const engine::attempt_report& a) {
    if (observe_attempt) observe_attempt(a);
    if (!a.will_retry) return;  // the outcome that follows says the rest
    std::lock_guard lock(inbox_mutex_);
    inbox_attempts_.push_back(a);
  });
}

std::string fanout::load_progress(outlet_state& o) {
  const std::string& id = o.cfg.id;
  auto progress = db_.progress(id);
  if (!progress.ok()) return progress.status.message;
  if (!progress.value) {
    auto head = db_.head();
    if (!head.ok()) return head.status.message;
    // Queued, not waited for: the writer applies it before any mark of this outlet (queue
    // order), and a start with a thousand new outlets costs one commit, not a thousand.
    if (partitioned()) {
      write_fenced(o.partition, {engine::start_outlet{id, head.value}});
    } else {
      db_.write({engine::start_outlet{id, head.value}}, [this](engine::store_status s) {
        if (!s.ok()) ++write_errors_;
      });
    }
    o.next = head.value + 1;
    return {};
  }
  seq_t cursor = progress.value->cursor;
  o.next = cursor + 1;
  // An outlet that answered 410 stays retired across restarts, until a replay.
  if (auto gone = db_.kv_get("outlet-retired", id); gone.ok() && gone.value) o.retired = true;
  // Resolved seqs above the cursor (delivered, filtered or dead-lettered: mark_dead resolves
  // too) come as ranges; dead letters need no walk of their own.
  for (seq_t after = 0;;) {
    auto done = db_.done_above(id, after, page);
    if (!done.ok()) return done.status.message;
    for (const auto& r : done.value) o.skip.emplace(r.first, r.last);
    if (done.value.size() < page) break;
    after = done.value.back().last;
  }
  for (seq_t after = 0;;) {
    auto retries = db_.retries(id, after, page);
    if (!retries.ok()) return retries.status.message;
    for (const auto& r : retries.value) {
      o.attempts[r.seq] = {r.attempts, r.next_attempt};
      // A retried dead letter can lie below the cursor: the walk from `next` will not meet it.
      if (r.seq <= cursor) o.resend.push_back(r.seq);
    }
    if (retries.value.size() < page) break;
    after = retries.value.back().seq;
  }
  return {};
}

std::string fanout::add_outlet(engine::outlet_config cfg, std::string channel) {
  std::lock_guard lock(mutex_);
  if (partitioned()) {
    const std::uint32_t p = cluster::partition_of(cfg.id, options_.partitions);
    auto owned = owned_.find(p);
    const bool feeding = owned != owned_.end() && !owned->second.draining;
    auto it = outlets_.find(cfg.id);
    if (!feeding) {
      // Parked: checked as the engine would, kept for when the partition comes our way.
      engine::outlet_config checked = cfg;
      if (std::string error = engine::prepare_outlet(checked); !error.empty()) return error;
      if (it == outlets_.end()) {
        // Its owner (maybe not us) owes it what comes after now: its progress starts at the
        // head unless it has some. The one write for an outlet that carries no fence: it
        // creates progress only where there is none, so it cannot undo an owner's.
        auto head = db_.head();
        if (!head.ok()) return head.status.message;
        db_.write({engine::start_outlet{cfg.id, head.value}}, [this](engine::store_status s) {
          if (!s.ok()) ++write_errors_;
        });
        auto fresh = std::make_unique<outlet_state>();
        fresh->cfg = std::move(cfg);
        fresh->channel = std::move(channel);
        fresh->partition = p;
        fresh->active = false;
        members_of(p).push_back(fresh.get());
        outlets_.emplace(fresh->cfg.id, std::move(fresh));
      } else {
        it->second->cfg = std::move(cfg);
        it->second->channel = std::move(channel);
      }
      return {};
    }
    if (it != outlets_.end() && !it->second->active) {
      // Known but parked while its partition was being handed over: start it as own() does.
      outlet_state& o = *it->second;
      o.cfg = cfg;
      o.channel = std::move(channel);
      reset_progress(o);
      if (std::string error = load_progress(o); !error.empty()) return error;
      if (std::string error = engine_.add_outlet(cfg); !error.empty()) return error;
      o.active = true;
      mark_dirty(o);
      wake();
      return {};
    }
  }
  auto fresh = std::make_unique<outlet_state>();
  if (partitioned()) fresh->partition = cluster::partition_of(cfg.id, options_.partitions);
  fresh->cfg = cfg;
  fresh->channel = channel;
  auto it = outlets_.find(cfg.id);
  if (it == outlets_.end()) {
    if (std::string error = load_progress(*fresh); !error.empty()) return error;
  }
  if (std::string error = engine_.add_outlet(cfg); !error.empty()) return error;
  if (it == outlets_.end()) {
    if (partitioned()) members_of(fresh->partition).push_back(fresh.get());
    it = outlets_.emplace(cfg.id, std::move(fresh)).first;
  } else {  // a new configuration; its progress carries on
    it->second->cfg = std::move(cfg);
    it->second->channel = std::move(channel);
  }
  mark_dirty(*it->second);
  wake();
  return {};
}

void fanout::remove_outlet(const std::string& id, bool forget) {
  std::lock_guard lock(mutex_);
  engine_.remove_outlet(id);  // its pairs in the engine end as cancelled: still owed
  if (auto it = outlets_.find(id); it != outlets_.end()) {
    outlet_state* o = it->second.get();
    std::erase(dirty_, o);
    std::erase(refused_, o);
    std::erase(unloaded_, o);
    if (partitioned()) std::erase(members_of(o->partition), o);
    outlets_.erase(it);
  }
  if (!forget) return;
  // The owner forgets under its fence; elsewhere (an admin call on another instance) the
  // deletion goes unfenced: the owner is told of the removal by the caller.
  if (partitioned()) {
    const std::uint32_t p = cluster::partition_of(id, options_.partitions);
    if (owned_.count(p)) {
      write_fenced(p, {engine::forget_outlet{id}});
      return;
    }
  }
  db_.write({engine::forget_outlet{id}});
}

namespace {

std::string not_ours(const std::string& id, std::uint32_t partition) {
  return "outlet '" + id + "' is delivered by the instance holding " + cluster::partition_lease_name(partition) +
         ", not this one";
}

}  // namespace

std::string fanout::replay(const std::string& id, seq_t from) {
  std::lock_guard lock(mutex_);
  auto it = outlets_.find(id);
  if (it == outlets_.end()) return "no outlet '" + id + "'";
  std::optional<engine::fence> guard;
  if (partitioned()) {
    auto owned = owned_.find(it->second->partition);
    if (owned == owned_.end() || !it->second->active) return not_ours(id, it->second->partition);
    guard = owned->second.guard;
  }
  if (auto s = db_.write_sync({engine::replay_outlet{id, from}}, guard); !s.ok()) return s.message;
  outlet_state& o = *it->second;
  o.next = std::max<seq_t>(1, from);
  o.skip.clear();
  o.attempts.clear();
  o.resend.clear();
  if (o.retired) {  // a 410 retired it: the receiver is back, the engine takes it again
    o.retired = false;
    if (guard) write_fenced(o.partition, {engine::kv_erase{"outlet-retired", id}});
    else db_.write({engine::kv_erase{"outlet-retired", id}});
    engine_.add_outlet(o.cfg);
  }
  mark_dirty(o);
  wake();
  return {};
}

std::string fanout::retry_dead_letters(const std::string& id, std::vector<seq_t> seqs) {
  std::lock_guard lock(mutex_);
  auto it = outlets_.find(id);
  if (it == outlets_.end()) return "no outlet '" + id + "'";
  std::optional<engine::fence> guard;
  if (partitioned()) {
    auto owned = owned_.find(it->second->partition);
    if (owned == owned_.end() || !it->second->active) return not_ours(id, it->second->partition);
    guard = owned->second.guard;
  }
  std::vector<seq_t> which = seqs;
  if (which.empty()) {
    for (seq_t after = 0;;) {
      auto dead = db_.dead_letters(id, after, page);
      if (!dead.ok()) return dead.status.message;
      for (const auto& d : dead.value) which.push_back(d.seq);
      if (dead.value.size() < page) break;
      after = dead.value.back().seq;
    }
  }
  if (auto s = db_.write_sync({engine::retry_dead_letters{id, std::move(seqs), engine::store_clock::now()}}, guard);
      !s.ok())
    return s.message;
  outlet_state& o = *it->second;
  for (seq_t s : which) {
    o.attempts[s] = {};  // resent from here; the walk from `next` still skips it
    o.resend.push_back(s);
  }
  mark_dirty(o);
  wake();
  return {};
}

void fanout::start() {
  {
    std::lock_guard lock(mutex_);
    if (thread_.joinable()) return;
  }
  thread_ = std::thread([this] { run(); });
}

void fanout::notify() {
  std::lock_guard lock(inbox_mutex_);
  woken_ = true;
  appended_ = true;
  wake_.notify_one();
}

void fanout::wake() {
  std::lock_guard lock(inbox_mutex_);
  woken_ = true;
  wake_.notify_one();
}

void fanout::mark_dirty(outlet_state& o) {
  if (o.dirty) return;
  o.dirty = true;
  dirty_.push_back(&o);
}

void fanout::stop_feeding() {
  std::lock_guard lock(mutex_);
  feeding_ = false;
}

void fanout::finish() {
  {
    std::lock_guard lock(inbox_mutex_);
    quit_ = true;
    wake_.notify_one();
  }
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
  // What came after the thread's last round.
  {
    std::lock_guard lock(mutex_);
    record_inbox();
  }
  db_.flush();
}

void fanout::record_inbox() {
  std::vector<engine::delivery_outcome> outcomes;
  std::vector<engine::attempt_report> attempts;
  {
    std::lock_guard inbox(inbox_mutex_);
    outcomes.swap(inbox_outcomes_);
    attempts.swap(inbox_attempts_);
  }
  record_outcomes(outcomes, attempts);
}

void fanout::run() {
  std::vector<engine::delivery_outcome> outcomes;
  std::vector<engine::attempt_report> attempts;
  bool waiting_on_engine = false;
  for (;;) {
    bool quit, appended;
    {
      std::unique_lock lock(inbox_mutex_);
      wake_.wait_for(lock, waiting_on_engine ? options_.refused_retry : options_.idle_round,
                     [this] { return woken_ || quit_; });
      // Woken by outcomes: let more of them come, unless an append or the end needs a round.
      if (woken_ && !appended_ && !quit_ && options_.outcome_batching.count() > 0)
        wake_.wait_for(lock, options_.outcome_batching, [this] { return appended_ || quit_; });
      woken_ = false;
      quit = quit_;
      appended = appended_;
      appended_ = false;
    }
    {
      // The inbox is taken with mutex_ held, so that disown() (which records under mutex_)
      // never misses outcomes this round took but has not recorded yet.
      std::lock_guard lock(mutex_);
      take_fenced();
      {
        std::lock_guard inbox(inbox_mutex_);
        outcomes.swap(inbox_outcomes_);
        attempts.swap(inbox_attempts_);
      }
      record_outcomes(outcomes, attempts);
      if (feeding_ && !quit) feed(appended);
      waiting_on_engine = !refused_.empty();
    }
    outcomes.clear();
    attempts.clear();
    if (quit) return;
  }
}

void fanout::record_outcomes(std::vector<engine::delivery_outcome>& outcomes,
                             std::vector<engine::attempt_report>& attempts) {
  if (outcomes.empty() && attempts.empty()) return;
  round_writes w;
  for (const auto& a : attempts) {
    if (a.seq == 0) continue;
    auto* ops = ops_for(w, a.outlet_id);
    if (!ops) continue;
    engine::retry_entry r;
    r.seq = a.seq;
    r.attempts = a.attempt;
    r.next_attempt = a.retry_at;
    r.delivery_id = a.delivery_id;
    ops->emplace_back(engine::mark_retry{a.outlet_id, std::move(r), a.reason});
    ++counters_.retries;
  }
  std::unordered_map<std::string, std::vector<seq_t>> done;
  auto now = engine::store_clock::now();
  for (const auto& o : outcomes) {
    auto it = outlets_.find(o.outlet_id);
    outlet_state* st = it == outlets_.end() ? nullptr : it->second.get();
    if (st && st->in_engine > 0) --st->in_engine;
    if (st && st->active) mark_dirty(*st);  // room in its window
    if (o.seq == 0) continue;
    auto* ops = st ? ops_for(w, *st) : ops_for(w, o.outlet_id);
    if (!ops) {
      // Its partition is no longer ours, and no fence of ours is known for it: the pair is
      // owed to the new owner, who sends it again with the same delivery id. (Cancelled
      // pairs were never sent: nothing lost.)
      if (o.state != engine::final_state::cancelled) ++counters_.dropped;
      continue;
    }
    switch (o.state) {
      case engine::final_state::delivered:
        done[o.outlet_id].push_back(o.seq);
        ++counters_.delivered;
        break;
      case engine::final_state::dead_lettered:
      case engine::final_state::gave_up:
      case engine::final_state::expired: {
        engine::dead_letter d;
        d.seq = o.seq;
        d.status = o.status;
        d.error = std::string(engine::to_string(o.state)) + ": " + o.reason;
        d.attempts = o.attempts;
        d.at = now;
        d.delivery_id = o.delivery_id;
        ops->emplace_back(engine::mark_dead{o.outlet_id, std::move(d)});
        ++counters_.dead;
        break;
      }
      case engine::final_state::retired:
        // 410: the outlet takes nothing more. Its pairs stay owed (a replay sends them once
        // the receiver is back); the outlet is reported retired.
        if (st) st->retired = true;
        ops->emplace_back(engine::kv_put{"outlet-retired", o.outlet_id, o.reason});
        break;
      case engine::final_state::cancelled:
        // The engine let go of it (outlet removed or replaced, engine stopping): still owed.
        // (A parked outlet picks it up from its stored progress when fed again.)
        if (st && feeding_ && st->active) st->resend.push_back(o.seq);
        break;
    }
  }
  for (auto& [outlet, seqs] : done)
    if (auto* ops = ops_for(w, outlet)) add_done_ranges(outlet, seqs, *ops);
  issue(w);
}

std::vector<engine::write_op>* fanout::ops_for(round_writes& w, const std::string& outlet_id) {
  if (!partitioned()) return &w.plain;
  if (outlet_id.empty()) return nullptr;
  auto it = outlets_.find(outlet_id);
  if (it != outlets_.end()) return ops_for(w, *it->second);
  return ops_for(w, cluster::partition_of(outlet_id, options_.partitions));
}

std::vector<engine::write_op>* fanout::ops_for(round_writes& w, const outlet_state& o) {
  if (!partitioned()) return &w.plain;
  return ops_for(w, o.partition);
}

std::vector<engine::write_op>* fanout::ops_for(round_writes& w, std::uint32_t partition) {
  if (owned_.count(partition)) return &w.by_partition[partition];
  // No longer ours: what arrives late (answers to requests sent while it was) is written
  // under the fence we held. The store applies it only if nobody has taken the partition
  // since (then it is true and saves a resend), and refuses it otherwise.
  if (last_fence_.count(partition)) return &w.late[partition];
  return nullptr;
}

void fanout::issue(round_writes& w) {
  if (!w.plain.empty())
    db_.write(std::move(w.plain), [this](engine::store_status s) {
      // The outcomes are not recorded: the pairs will be sent again after a restart (at
      // least once holds); the error is counted for /metrics. (The writer's thread: no
      // mutex_ here, whose holder may be waiting for the writer.)
      if (!s.ok()) ++write_errors_;
    });
  for (auto& [p, ops] : w.by_partition)
    if (!ops.empty()) write_fenced(p, std::move(ops));
  w.by_partition.clear();
  for (auto& [p, ops] : w.late) {
    if (ops.empty()) continue;
    if (auto f = last_fence_.find(p); f != last_fence_.end()) {
      counters_.late += ops.size();
      write_fenced(p, std::move(ops), f->second);
    }
  }
  w.late.clear();
}

void fanout::write_fenced(std::uint32_t partition, std::vector<engine::write_op> ops) {
  auto owned = owned_.find(partition);
  if (owned == owned_.end()) return;
  write_fenced(partition, std::move(ops), owned->second.guard);
}

void fanout::write_fenced(std::uint32_t partition, std::vector<engine::write_op> ops, engine::fence guard) {
  {
    std::lock_guard lock(writes_mutex_);
    ++unflushed_[partition];
  }
  db_.write(std::move(ops), guard, [this, partition, guard](engine::store_status s) {
    // The writer's thread: no mutex_ here (its holder may be waiting for the writer).
    bool fenced = s.code == engine::store_errc::fenced;
    if (!s.ok()) ++write_errors_;
    if (fenced) ++fenced_writes_;
    {
      std::lock_guard lock(writes_mutex_);
      if (fenced) refused_fences_.push_back(guard);
      if (auto it = unflushed_.find(partition); it != unflushed_.end() && --it->second == 0) unflushed_.erase(it);
      writes_done_.notify_all();
    }
    if (fenced) wake();  // the next round disowns the partition
  });
}

void fanout::take_fenced() {
  std::vector<engine::fence> refused;
  {
    std::lock_guard lock(writes_mutex_);
    refused.swap(refused_fences_);
  }
  for (const auto& f : refused) {
    auto p = cluster::parse_partition_lease(f.lease);
    if (!p) continue;
    // Only if still owned under that token (owned again since: a new fence, still good).
    if (auto it = owned_.find(*p); it != owned_.end() && it->second.guard.token == f.token) drop_partition(*p);
  }
}

std::vector<fanout::outlet_state*>& fanout::members_of(std::uint32_t partition) {
  return by_partition_[partition % by_partition_.size()];
}

void fanout::reset_progress(outlet_state& o) {
  o.next = 1;
  o.in_engine = 0;
  o.retired = false;
  o.skip.clear();
  o.attempts.clear();
  o.resend.clear();
}

void fanout::drop_partition(std::uint32_t partition) {
  for (outlet_state* o : members_of(partition)) {
    std::erase(unloaded_, o);
    if (o->active) engine_.remove_outlet(o->cfg.id);  // queued pairs end as cancelled: owed
    o->active = false;
    std::erase(dirty_, o);
    std::erase(refused_, o);
    o->dirty = false;
    reset_progress(*o);
  }
  if (auto it = owned_.find(partition); it != owned_.end()) {
    last_fence_[partition] = it->second.guard;
    owned_.erase(it);
  }
}

std::string fanout::own(std::uint32_t partition, engine::fence guard) {
  if (!partitioned()) return {};
  if (partition >= options_.partitions)
    return "partition " + std::to_string(partition) + " is out of range: the fan-out has " +
           std::to_string(options_.partitions) + " (every instance and its coordinator must agree)";
  std::lock_guard lock(mutex_);
  if (auto it = owned_.find(partition); it != owned_.end()) {
    if (it->second.guard.token == guard.token && !it->second.draining) return {};
    record_inbox();  // what arrived is recorded under the old fence (refused if it is gone)
    drop_partition(partition);
  }
  last_fence_.erase(partition);
  owned_[partition] = owned_partition{std::move(guard), false};
  std::string first_error;
  for (outlet_state* o : members_of(partition)) {
    if (std::string error = start_owned(*o); !error.empty() && first_error.empty())
      first_error = "outlet '" + o->cfg.id + "': " + error;
  }
  wake();
  return first_error;
}

std::string fanout::start_owned(outlet_state& o) {
  // Progress as stored now: another instance may have moved it since we last fed it.
  reset_progress(o);
  if (std::string error = load_progress(o); !error.empty()) {
    // The store's fault (a read failed): tried again every round while the partition is ours.
    if (std::find(unloaded_.begin(), unloaded_.end(), &o) == unloaded_.end()) unloaded_.push_back(&o);
    return error;
  }
  std::erase(unloaded_, &o);
  if (std::string error = engine_.add_outlet(o.cfg); !error.empty()) return error;
  o.active = true;
  mark_dirty(o);
  return {};
}

void fanout::retry_unloaded() {
  if (unloaded_.empty()) return;
  auto again = unloaded_;
  for (outlet_state* o : again) {
    auto owned = owned_.find(o->partition);
    if (o->active || owned == owned_.end() || owned->second.draining) {
      std::erase(unloaded_, o);
      continue;
    }
    if (!start_owned(*o).empty()) break;  // the store still fails: again next round
  }
}

void fanout::disown(const std::vector<std::uint32_t>& partitions, std::chrono::milliseconds budget) {
  if (!partitioned()) return;
  const auto deadline = std::chrono::steady_clock::now() + budget;
  std::vector<std::uint32_t> mine;
  {
    std::lock_guard lock(mutex_);
    record_inbox();
    for (auto p : partitions) {
      auto it = owned_.find(p);
      if (it == owned_.end()) continue;
      mine.push_back(p);
      if (budget.count() <= 0) {
        drop_partition(p);
        continue;
      }
      // Fed no more; pairs in flight end on their own and are recorded under the fence.
      it->second.draining = true;
      for (outlet_state* o : members_of(p)) {
        if (o->active) engine_.remove_outlet(o->cfg.id);
        o->active = false;
        std::erase(dirty_, o);
        std::erase(refused_, o);
        o->dirty = false;
        o->resend.clear();
      }
    }
  }
  if (mine.empty() || budget.count() <= 0) return;
  auto in_flight = [&] {
    for (auto p : mine)
      for (outlet_state* o : members_of(p))
        if (o->in_engine > 0) return true;
    return false;
  };
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      record_inbox();
      if (!in_flight()) break;
    }
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) break;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(deadline - now, std::chrono::milliseconds(2)));
  }
  {
    std::lock_guard lock(mutex_);
    record_inbox();
    // From here their outcomes are dropped: the partitions are no longer ours.
    for (auto p : mine)
      if (auto it = owned_.find(p); it != owned_.end() && it->second.draining) drop_partition(p);
  }
  // Every write made under their fences durable (or refused) before the lease goes.
  std::unique_lock lock(writes_mutex_);
  writes_done_.wait_until(lock, deadline, [&] {
    for (auto p : mine)
      if (unflushed_.count(p)) return false;
    return true;
  });
}

std::vector<std::uint32_t> fanout::owned_partitions() const {
  std::lock_guard lock(mutex_);
  std::vector<std::uint32_t> out;
  for (const auto& [p, o] : owned_)
    if (!o.draining) out.push_back(p);
  return out;
}

// The outlet's filters; its `sources` list also matches the id of the polled source an item
// came from (the feed's own self link, home page, id or title match as for any item).
bool fanout::outlet_wants_record(const engine::outlet_config& cfg, const cached_item& c) {
  const formats::feed& doc = *c.doc;
  if (engine::outlet_wants(cfg, doc, doc.items.front())) return true;
  if (cfg.sources.empty() || std::find(cfg.sources.begin(), cfg.sources.end(), c.source) == cfg.sources.end())
    return false;
  engine::detail::outlet_filter without_sources(cfg);
  without_sources.sources.clear();
  return engine::detail::wants(without_sources, doc, doc.items.front());
}

const fanout::cached_item* fanout::item(seq_t seq, std::string& error) {
  if (auto it = cache_.find(seq); it != cache_.end()) {
    if (!it->second.doc) error = "record " + std::to_string(seq) + " is not a one-item JSON Feed";
    return it->second.doc ? &it->second : nullptr;
  }
  auto records = db_.read(seq, options_.read_batch);
  if (!records.ok()) {
    error = records.status.message;
    ++counters_.store_errors;
    read_failed_ = true;
    return nullptr;
  }
  const cached_item* found = nullptr;
  for (const auto& r : records.value) {
    std::string why;
    auto doc = decode_item(r, why);
    if (!doc) ++counters_.undecodable;
    auto& slot = cache_[r.seq];  // a null doc: undecodable, remembered as such
    slot = cached_item{doc, r.channel, r.source};
    if (r.seq == seq) {
      if (doc) found = &slot;
      else error = why;
    }
  }
  if (!found && error.empty()) error = "record " + std::to_string(seq) + " is not in the log";
  return found;
}

void fanout::feed(bool appended) {
  // The head is read when something was appended, and now and then (another writer).
  auto now = std::chrono::steady_clock::now();
  if (appended || now - last_head_read_ >= options_.idle_round) {
    last_head_read_ = now;
    auto head = db_.head();
    if (!head.ok()) {
      ++counters_.store_errors;
      return;
    }
    if (head.value != head_) {
      head_ = head.value;
      for (auto& [id, o] : outlets_)
        if (o->active) mark_dirty(*o);
    }
  }
  for (outlet_state* o : refused_) mark_dirty(*o);
  refused_.clear();
  retry_unloaded();
  if (dirty_.empty()) return;
  std::vector<outlet_state*> round;
  round.swap(dirty_);
  round_writes w;
  read_failed_ = false;
  for (outlet_state* o : round) {
    o->dirty = false;
    if (read_failed_) {  // the log cannot be read now: the rest waits for the next round
      mark_dirty(*o);
      continue;
    }
    auto* ops = ops_for(w, *o);
    if (!o->active || !ops) continue;
    if (!feed_outlet(*o, head_, *ops)) refused_.push_back(o);
  }
  issue(w);
  trim_cache();
}

bool fanout::feed_outlet(outlet_state& o, seq_t head, std::vector<engine::write_op>& ops) {
  if (!o.active || o.retired || o.in_engine >= options_.window) return true;
  if (o.resend.empty() && o.next > head) return true;
  std::size_t room = options_.window - o.in_engine;
  std::vector<engine::log_item> batch;
  std::vector<seq_t> filtered;
  // False when the log could not be read (the store, not the item): `s` goes back.
  auto take = [&](seq_t s) {
    std::string error;
    const cached_item* cached = item(s, error);
    if (!cached && read_failed_) return false;
    if (!cached) {
      // Not in the log (a gap a shared backend may leave) or undecodable: nothing to send.
      // An undecodable record is a dead letter, so that it shows and can be looked at.
      if (error.find("not in the log") == std::string::npos) {
        engine::dead_letter d;
        d.seq = s;
        d.error = error;
        d.at = engine::store_clock::now();
        ops.emplace_back(engine::mark_dead{o.cfg.id, std::move(d)});
        ++counters_.dead;
      } else {
        filtered.push_back(s);
      }
      return true;
    }
    const auto& doc = cached->doc;
    if ((!o.channel.empty() && cached->channel != o.channel) || !outlet_wants_record(o.cfg, *cached)) {
      filtered.push_back(s);
      ++counters_.filtered;
      return true;
    }
    engine::log_item li;
    li.seq = s;
    li.doc = doc;
    if (auto a = o.attempts.find(s); a != o.attempts.end()) {
      li.attempts = a->second.attempts;
      li.not_before = a->second.next_attempt;
      o.attempts.erase(a);
    }
    batch.push_back(std::move(li));
    return true;
  };
  while (batch.size() < room && !o.resend.empty() && !read_failed_) {
    seq_t s = o.resend.front();
    o.resend.pop_front();
    if (!take(s)) o.resend.push_front(s);
  }
  while (batch.size() < room && o.next <= head && filtered.size() < 4 * options_.window && !read_failed_) {
    if (!o.skip.empty()) {  // ascending, disjoint: only the first can hold `next`
      auto k = o.skip.begin();
      if (k->second < o.next) {
        o.skip.erase(k);
        continue;
      }
      if (k->first <= o.next) {
        o.next = k->second + 1;
        o.skip.erase(k);
        continue;
      }
    }
    if (take(o.next)) ++o.next;
  }
  // The log could not be read: what is left waits for the next round (not a refusal by the
  // engine, retried every refused_retry: a store that is down is asked once a round).
  if (read_failed_) mark_dirty(o);
  add_done_ranges(o.cfg.id, filtered, ops);
  // Filtered seqs took no room: the rest of the window is taken next round.
  if (!filtered.empty() && batch.size() < room && (o.next <= head || !o.resend.empty())) mark_dirty(o);
  if (batch.empty()) return true;
  auto r = engine_.submit_to(o.cfg.id, batch);
  o.in_engine += r.queued;
  counters_.handed += r.queued;
  // What the engine refused (its bounds) goes first, shortly.
  for (std::size_t i = batch.size(); i-- > r.queued;) {
    if (batch[i].attempts > 0) o.attempts[batch[i].seq] = {batch[i].attempts, batch[i].not_before};
    o.resend.push_front(batch[i].seq);
  }
  return r.queued == batch.size();
}

void fanout::trim_cache() {
  // Items every outlet has been handed are not needed again (a resend reads them back).
  // Finding that bound walks every outlet: only when the cache has grown.
  if (cache_.size() < std::max<std::size_t>(64, options_.cache_items / 8)) return;
  seq_t low = head_ + 1;
  for (const auto& [id, o] : outlets_)
    if (!o->retired && o->active) low = std::min(low, o->next);
  cache_.erase(cache_.begin(), cache_.lower_bound(low));
  while (cache_.size() > options_.cache_items) cache_.erase(cache_.begin());
}

std::vector<fanout_outlet_view> fanout::outlets() const {
  std::lock_guard lock(mutex_);
  std::vector<fanout_outlet_view> out;
  for (const auto& [id, o] : outlets_) {
    fanout_outlet_view v;
    v.id = id;
    v.next = o->next;
    v.in_engine = o->in_engine;
    v.retired = o->retired;
    v.partition = o->partition;
    v.active = o->active;
    v.lag = !o->active ? 0 : o->in_engine + o->resend.size() + (head_ >= o->next ? head_ - o->next + 1 : 0);
    out.push_back(std::move(v));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

fanout_counters fanout::counters() const {
  std::lock_guard lock(mutex_);
  fanout_counters c = counters_;
  c.store_errors += write_errors_.load();
  c.fenced = fenced_writes_.load();
  return c;
}

engine::seq_t fanout::head() const {
  std::lock_guard lock(mutex_);
  return head_;
}

}  // namespace syndic::daemon
