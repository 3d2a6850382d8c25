#include "daemon/fanout.hpp"
#include "delivery/payload.hpp"

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
    : db_(db), engine_(eng), options_(options) {}

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
    db_.write({engine::start_outlet{id, head.value}}, [this](engine::store_status s) {
      if (!s.ok()) ++write_errors_;
    });
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
  auto fresh = std::make_unique<outlet_state>();
  fresh->cfg = cfg;
  fresh->channel = channel;
  auto it = outlets_.find(cfg.id);
  if (it == outlets_.end()) {
    if (std::string error = load_progress(*fresh); !error.empty()) return error;
  }
  if (std::string error = engine_.add_outlet(cfg); !error.empty()) return error;
  if (it == outlets_.end()) {
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
    outlets_.erase(it);
  }
  if (forget) db_.write({engine::forget_outlet{id}});
}

std::string fanout::replay(const std::string& id, seq_t from) {
  std::lock_guard lock(mutex_);
  auto it = outlets_.find(id);
  if (it == outlets_.end()) return "no outlet '" + id + "'";
  if (auto s = db_.write_sync({engine::replay_outlet{id, from}}); !s.ok()) return s.message;
  outlet_state& o = *it->second;
  o.next = std::max<seq_t>(1, from);
  o.skip.clear();
  o.attempts.clear();
  o.resend.clear();
  if (o.retired) {  // a 410 retired it: the receiver is back, the engine takes it again
    o.retired = false;
    db_.write({engine::kv_erase{"outlet-retired", id}});
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
  if (auto s = db_.write_sync({engine::retry_dead_letters{id, std::move(seqs), engine::store_clock::now()}}); !s.ok())
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
  std::vector<engine::delivery_outcome> outcomes;
  std::vector<engine::attempt_report> attempts;
  {
    std::lock_guard lock(inbox_mutex_);
    outcomes.swap(inbox_outcomes_);
    attempts.swap(inbox_attempts_);
  }
  {
    std::lock_guard lock(mutex_);
    record_outcomes(outcomes, attempts);
  }
  db_.flush();
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
      outcomes.swap(inbox_outcomes_);
      attempts.swap(inbox_attempts_);
    }
    {
      std::lock_guard lock(mutex_);
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
  std::vector<engine::write_op> ops;
  for (const auto& a : attempts) {
    if (a.seq == 0) continue;
    engine::retry_entry r;
    r.seq = a.seq;
    r.attempts = a.attempt;
    r.next_attempt = a.retry_at;
    r.delivery_id = a.delivery_id;
    ops.emplace_back(engine::mark_retry{a.outlet_id, std::move(r), a.reason});
    ++counters_.retries;
  }
  std::unordered_map<std::string, std::vector<seq_t>> done;
  auto now = engine::store_clock::now();
  for (const auto& o : outcomes) {
    auto it = outlets_.find(o.outlet_id);
    outlet_state* st = it == outlets_.end() ? nullptr : it->second.get();
    if (st && st->in_engine > 0) --st->in_engine;
    if (st) mark_dirty(*st);  // room in its window
    if (o.seq == 0) continue;
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
        ops.emplace_back(engine::mark_dead{o.outlet_id, std::move(d)});
        ++counters_.dead;
        break;
      }
      case engine::final_state::retired:
        // 410: the outlet takes nothing more. Its pairs stay owed (a replay sends them once
        // the receiver is back); the outlet is reported retired.
        if (st) st->retired = true;
        ops.emplace_back(engine::kv_put{"outlet-retired", o.outlet_id, o.reason});
        break;
      case engine::final_state::cancelled:
        // The engine let go of it (outlet removed or replaced, engine stopping): still owed.
        if (st && feeding_) st->resend.push_back(o.seq);
        break;
    }
  }
  for (auto& [outlet, seqs] : done) add_done_ranges(outlet, seqs, ops);
  if (!ops.empty())
    db_.write(std::move(ops), [this](engine::store_status s) {
      // The outcomes are not recorded: the pairs will be sent again after a restart (at
      // least once holds); the error is counted for /metrics. (The writer's thread: no
      // mutex_ here, whose holder may be waiting for the writer.)
      if (!s.ok()) ++write_errors_;
    });
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
      for (auto& [id, o] : outlets_) mark_dirty(*o);
    }
  }
  for (outlet_state* o : refused_) mark_dirty(*o);
  refused_.clear();
  if (dirty_.empty()) return;
  std::vector<outlet_state*> round;
  round.swap(dirty_);
  std::vector<engine::write_op> ops;
  for (outlet_state* o : round) {
    o->dirty = false;
    if (!feed_outlet(*o, head_, ops)) refused_.push_back(o);
  }
  if (!ops.empty())
    db_.write(std::move(ops), [this](engine::store_status s) {
      if (!s.ok()) ++write_errors_;
    });
  trim_cache();
}

bool fanout::feed_outlet(outlet_state& o, seq_t head, std::vector<engine::write_op>& ops) {
  if (o.retired || o.in_engine >= options_.window) return true;
  if (o.resend.empty() && o.next > head) return true;
  std::size_t room = options_.window - o.in_engine;
  std::vector<engine::log_item> batch;
  std::vector<seq_t> filtered;
  auto take = [&](seq_t s) {
    std::string error;
    const cached_item* cached = item(s, error);
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
      return;
    }
    const auto& doc = cached->doc;
    if ((!o.channel.empty() && cached->channel != o.channel) || !outlet_wants_record(o.cfg, *cached)) {
      filtered.push_back(s);
      ++counters_.filtered;
      return;
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
  };
  while (batch.size() < room && !o.resend.empty()) {
    seq_t s = o.resend.front();
    o.resend.pop_front();
    take(s);
  }
  while (batch.size() < room && o.next <= head && filtered.size() < 4 * options_.window) {
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
    take(o.next++);
  }
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
    if (!o->retired) low = std::min(low, o->next);
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
    v.lag = o->in_engine + o->resend.size() + (head_ >= o->next ? head_ - o->next + 1 : 0);
    out.push_back(std::move(v));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

fanout_counters fanout::counters() const {
  std::lock_guard lock(mutex_);
  fanout_counters c = counters_;
  c.store_errors += write_errors_.load();
  return c;
}

engine::seq_t fanout::head() const {
  std::lock_guard lock(mutex_);
  return head_;
}

}  // namespace syndic::daemon
