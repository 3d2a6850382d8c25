// The poller's sources, its schedule thread and its public API (poller.hpp). Fetching is in
// poll_fetch.cpp, parsing and dedup in poll_ingest.cpp.

#include "poll/poller_impl.hpp"
#include "poll/source_json.hpp"

#include <algorithm>

namespace syndic::poll {

namespace {

double jitter_of(std::string_view id) { return static_cast<double>(stable_hash(id) >> 11) / 9007199254740992.0; }

std::string state_name(const source_entry& e) {
  if (!e.def.enabled) return "disabled";
  if (e.st.gone) return "gone";
  if (e.polling) return "polling";
  if (e.st.sched.consecutive_errors > 0) return "failing";
  return "scheduled";
}

}  // namespace

poller::impl::impl(engine::store& d, poller_options o, appended_callback cb)
    : db(d), options(std::move(o)), on_appended(std::move(cb)) {}

source_entry* poller::impl::find_locked(const std::string& id, std::uint64_t generation) {
  auto it = sources.find(id);
  if (it == sources.end() || it->second.generation != generation) return nullptr;
  return &it->second;
}

void poller::impl::schedule_locked(source_entry& e, sys_time at) {
  e.st.next_poll = at;
  if (!e.def.enabled || e.st.gone) return;
  heap.push({at, e.def.id, e.generation});
  wake.notify_one();
}

void poller::impl::persist_locked(const source_entry& e) {
  if (stopping) return;
  db.write({engine::kv_put{std::string(state_namespace), e.def.id, encode_state(e.st)}});
}

void poller::impl::release_host_locked(const std::string& host) {
  auto it = hosts.find(host);
  if (it == hosts.end()) return;
  if (it->second.in_flight) --it->second.in_flight;
  if (fetches_in_flight) --fetches_in_flight;
  wake.notify_one();
}

// A poll is over (answered, failed, or its items are durable): the next one is scheduled.
void poller::impl::finish_poll_locked(source_entry& e, const poll_observation& obs) {
  e.polling = false;
  e.st.last_poll = obs.now;
  schedule_limits limits{e.def.min_interval, e.def.max_interval, options.max_backoff};
  sys_time next = next_poll(e.st.sched, obs, limits, e.jitter);
  // A hub pushes this source: polled only as a safety net.
  if (e.pushed) next = std::max(next, obs.now + e.def.max_interval);
  if (e.poll_again) {
    e.poll_again = false;
    next = obs.now;
  }
  schedule_locked(e, next);
  persist_locked(e);
}

// Moves due sources into their host's queue, and starts what the hosts' politeness allows.
void poller::impl::start_due_locked(sys_time now, std::chrono::steady_clock::time_point mono) {
  while (!heap.empty() && heap.top().at <= now) {
    due d = heap.top();
    heap.pop();
    auto it = sources.find(d.id);
    if (it == sources.end()) continue;
    source_entry& e = it->second;
    if (e.generation != d.generation || !e.st.next_poll || *e.st.next_poll != d.at) continue;  // superseded
    if (e.polling || !e.def.enabled || e.st.gone) continue;
    if (options.owns && !options.owns(e.def.id)) {  // another instance polls it
      schedule_locked(e, now + e.def.min_interval);
      continue;
    }
    e.polling = true;
    if (e.host.empty()) {  // a file: no host to be polite to
      begin_fetch_locked(e);
      continue;
    }
    hosts[e.host].waiting.push_back(e.def.id);
    hosts_waiting.insert(e.host);
  }
  for (auto h = hosts_waiting.begin(); h != hosts_waiting.end();) {
    host_gate& gate = hosts[*h];
    while (!gate.waiting.empty() && gate.in_flight < options.host_connections &&
           fetches_in_flight + parse_queue.size() < options.max_fetches && mono - gate.last_start >= options.host_gap) {
      std::string id = std::move(gate.waiting.front());
      gate.waiting.pop_front();
      auto it = sources.find(id);
      if (it == sources.end() || !it->second.polling) continue;
      ++gate.in_flight;
      ++fetches_in_flight;
      gate.last_start = mono;
      it->second.gate = *h;
      begin_fetch_locked(it->second);
    }
    h = gate.waiting.empty() ? hosts_waiting.erase(h) : std::next(h);
  }
}

void poller::impl::run_scheduler() {
  std::unique_lock lock(mu);
  while (!stopping) {
    auto mono = std::chrono::steady_clock::now();
    start_due_locked(std::chrono::system_clock::now(), mono);
    // Sleep until the next due source, or the next host whose gap ends, or a wake-up.
    auto until = mono + std::chrono::seconds(5);
    if (!heap.empty()) {
      auto wait = heap.top().at - std::chrono::system_clock::now();
      until = std::min(until, mono + std::chrono::duration_cast<std::chrono::steady_clock::duration>(wait));
    }
    for (const std::string& name : hosts_waiting)
      if (const host_gate& gate = hosts[name]; gate.in_flight < options.host_connections)
        until = std::min(until, gate.last_start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                      options.host_gap));
    if (until > mono) wake.wait_until(lock, until);
  }
}

// ---- The public API ----------------------------------------------------------------------

poller::poller(engine::store& db, poller_options options, appended_callback on_appended)
    : impl_(std::make_shared<impl>(db, std::move(options), std::move(on_appended))) {}

poller::~poller() { stop(); }

void poller::set_hub_listener(hub_listener* listener) {
  std::lock_guard lock(impl_->mu);
  impl_->hubs = listener;
}

void poller::start() {
  impl& p = *impl_;
  {
    std::lock_guard lock(p.mu);
    if (p.started) return;
    p.started = true;
  }
  // What earlier runs left: every source's state, and the sources added through the API.
  std::map<std::string, stored_state> states;
  std::vector<source> api_sources;
  for (std::string after;;) {
    auto page = p.db.kv_list(state_namespace, after, 1000);
    if (!page.ok() || page.value.empty()) break;
    for (auto& kv : page.value) {
      stored_state s;
      if (decode_state(kv.value, s)) states.emplace(kv.key, std::move(s));
    }
    after = page.value.back().key;
  }
  for (std::string after;;) {
    auto page = p.db.kv_list(api_sources_namespace, after, 1000);
    if (!page.ok() || page.value.empty()) break;
    for (auto& kv : page.value) {
      std::string error;
      source s = source_from_json(kv.value, error);
      if (error.empty()) {
        s.origin = "api";
        api_sources.push_back(std::move(s));
      }
    }
    after = page.value.back().key;
  }
  engine::http::client_options trusted;
  trusted.verify_tls = p.options.verify_tls;
  trusted.ca_file = p.options.ca_file;
  trusted.max_host_connections = static_cast<long>(std::max<std::size_t>(p.options.host_connections, 1));
  p.trusted_client = std::make_unique<engine::http::client>(trusted);
  if (p.options.refuse_address && p.options.check_api_addresses) {
    engine::http::client_options checked = trusted;
    checked.refuse_address = p.options.refuse_address;
    p.public_client = std::make_unique<engine::http::client>(checked);
  }
  {
    std::lock_guard lock(p.mu);
    for (auto& [id, st] : states) {
      auto it = p.sources.find(id);
      if (it != p.sources.end()) {
        // Defined from a file before start(): take its stored state now.
        bool same_url = st.defined_url.empty() || st.defined_url == it->second.def.url;
        if (same_url) it->second.st = std::move(st);
      } else {
        p.orphan_states.emplace(id, std::move(st));
      }
    }
    for (auto& s : api_sources) {
      source_entry e;
      e.def = std::move(s);
      e.from_api = true;
      e.jitter = jitter_of(e.def.id);
      e.host = host_key(e.def.url);
      if (auto o = p.orphan_states.find(e.def.id); o != p.orphan_states.end()) {
        e.st = std::move(o->second);
        p.orphan_states.erase(o);
      }
      std::string id = e.def.id;
      if (!p.sources.count(id)) p.sources.emplace(id, std::move(e));
    }
    auto now = std::chrono::system_clock::now();
    for (auto& [id, e] : p.sources) {
      if (!e.host.size()) e.host = host_key(e.st.url.empty() ? e.def.url : e.st.url);
      p.schedule_locked(e, first_poll(e.st.next_poll, now, p.options.start_spread, e.jitter));
    }
  }
  for (std::size_t i = 0; i < std::max<std::size_t>(p.options.parse_threads, 1); ++i)
    p.workers.emplace_back([self = impl_] { self->run_worker(); });
  p.scheduler = std::thread([self = impl_] { self->run_scheduler(); });
}

void poller::stop() {
  impl& p = *impl_;
  {
    std::lock_guard lock(p.mu);
    if (!p.started || p.stopping) return;
    p.stopping = true;
    p.wake.notify_all();
    p.parse_wake.notify_all();
  }
  if (p.scheduler.joinable()) p.scheduler.join();
  // Requests in flight end as cancelled; their callbacks see `stopping` and do nothing.
  if (p.trusted_client) p.trusted_client->stop();
  if (p.public_client) p.public_client->stop();
  for (auto& w : p.workers)
    if (w.joinable()) w.join();
  // Bodies no worker took: a hub's push is answered as not taken (the next poll gets them).
  std::deque<parse_job> left;
  {
    std::lock_guard lock(p.mu);
    left.swap(p.parse_queue);
  }
  for (auto& job : left)
    if (job.pushed_done) job.pushed_done(false);
}

std::vector<std::string> poller::set_file_sources(std::vector<source> list) {
  impl& p = *impl_;
  std::vector<std::string> errors;
  std::map<std::string, source> wanted;
  for (auto& s : list) {
    if (std::string e = check_source(s, true); !e.empty()) {
      errors.push_back(s.id + ": " + e);
      continue;
    }
    std::string id = s.id;
    if (!wanted.emplace(id, std::move(s)).second) errors.push_back(id + ": defined twice");
  }
  std::vector<std::string> gone;
  {
    std::lock_guard lock(p.mu);
    auto now = std::chrono::system_clock::now();
    for (auto it = p.sources.begin(); it != p.sources.end();) {
      if (!it->second.from_api && !wanted.count(it->first)) {
        gone.push_back(it->first);
        if (p.started) p.db.write({engine::kv_erase{std::string(state_namespace), it->first}});
        it = p.sources.erase(it);
      } else {
        ++it;
      }
    }
    for (auto& [id, s] : wanted) {
      auto it = p.sources.find(id);
      if (it != p.sources.end() && it->second.from_api) {
        errors.push_back(id + ": already defined through the API");
        continue;
      }
      if (it != p.sources.end() && it->second.def == s) continue;  // unchanged: keeps polling as it was
      source_entry& e = p.sources[id];
      bool url_changed = e.def.url != s.url;
      e.def = std::move(s);
      ++e.generation;
      e.polling = false;
      e.jitter = jitter_of(id);
      if (auto o = p.orphan_states.find(id); o != p.orphan_states.end()) {
        if (o->second.defined_url.empty() || o->second.defined_url == e.def.url) e.st = std::move(o->second);
        p.orphan_states.erase(o);
        url_changed = false;
      }
      if (url_changed) {  // a new URL: its validators, moves and verdicts start afresh
        e.st = stored_state{};
        e.seen.clear();
      }
      e.st.gone = e.st.gone && !url_changed;
      e.host = host_key(e.st.url.empty() ? e.def.url : e.st.url);
      if (p.started) p.schedule_locked(e, first_poll(e.st.next_poll, now, p.options.start_spread, e.jitter));
    }
  }
  if (p.hubs)
    for (auto& id : gone) p.hubs->source_gone(id);
  return errors;
}

std::string poller::put_api_source(source s) {
  impl& p = *impl_;
  s.origin = "api";
  if (std::string e = check_source(s, false); !e.empty()) return e;
  std::string id = s.id;
  {
    std::lock_guard lock(p.mu);
    auto it = p.sources.find(id);
    if (it != p.sources.end() && !it->second.from_api) return "source '" + id + "' is defined in a file";
    source_entry& e = p.sources[id];
    bool url_changed = e.def.url != s.url;
    e.def = s;
    e.from_api = true;
    ++e.generation;
    e.polling = false;
    e.jitter = jitter_of(id);
    if (url_changed) {
      e.st = stored_state{};
      e.seen.clear();
    }
    e.host = host_key(e.st.url.empty() ? e.def.url : e.st.url);
    p.db.write({engine::kv_put{std::string(api_sources_namespace), id, source_to_json(s)}});
    if (p.started) p.schedule_locked(e, std::chrono::system_clock::now());
  }
  if (!s.enabled && p.hubs) p.hubs->source_gone(id);
  return "";
}

bool poller::remove_source(const std::string& id) {
  impl& p = *impl_;
  {
    std::lock_guard lock(p.mu);
    auto it = p.sources.find(id);
    if (it == p.sources.end()) return false;
    if (it->second.from_api) p.db.write({engine::kv_erase{std::string(api_sources_namespace), id}});
    p.db.write({engine::kv_erase{std::string(state_namespace), id}});
    p.sources.erase(it);
  }
  if (p.hubs) p.hubs->source_gone(id);
  return true;
}

namespace {
source_status status_of(const source_entry& e) {
  source_status s;
  s.def = e.def;
  s.url = e.st.url.empty() ? e.def.url : e.st.url;
  s.state = state_name(e);
  s.last_status = e.st.last_status;
  s.last_error = e.st.last_error;
  s.last_poll = e.st.last_poll;
  s.next_poll = e.def.enabled && !e.st.gone ? e.st.next_poll : std::nullopt;
  s.last_new_item = e.st.last_new_item;
  s.interval = e.st.sched.interval;
  s.items_per_hour = e.st.sched.items_per_hour;
  s.polls = e.st.polls;
  s.not_modified = e.st.not_modified;
  s.unchanged = e.st.unchanged;
  s.changed = e.st.changed;
  s.new_items = e.st.new_items;
  s.errors = e.st.errors;
  s.hub = e.st.hub;
  s.pushed = e.pushed;
  return s;
}
}  // namespace

std::optional<source_status> poller::status(const std::string& id) const {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->sources.find(id);
  if (it == impl_->sources.end()) return std::nullopt;
  return status_of(it->second);
}

std::vector<source_status> poller::list() const {
  std::lock_guard lock(impl_->mu);
  std::vector<source_status> out;
  out.reserve(impl_->sources.size());
  for (auto& [id, e] : impl_->sources) out.push_back(status_of(e));
  return out;
}

bool poller::poll_now(const std::string& id) {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->sources.find(id);
  if (it == impl_->sources.end()) return false;
  source_entry& e = it->second;
  if (e.polling) {
    e.poll_again = true;
    return true;
  }
  e.st.gone = false;  // an operator asking again after a 410
  if (impl_->started) impl_->schedule_locked(e, std::chrono::system_clock::now());
  return true;
}

void poller::ingest_pushed(const std::string& source_id, std::string body, std::string content_type,
                           std::function<void(bool)> done) {
  parse_job job;
  {
    std::lock_guard lock(impl_->mu);
    auto it = impl_->sources.find(source_id);
    if (it == impl_->sources.end() || impl_->stopping || !it->second.def.enabled) {
      if (done) done(false);
      return;
    }
    source_entry& e = it->second;
    job.id = source_id;
    job.generation = e.generation;
    job.def = e.def;
    job.pushed = true;
    job.seen = e.seen;  // a copy: a poll may be running with its own
    ++impl_->totals.pushed_bodies;
  }
  job.body = std::move(body);
  job.content_type = std::move(content_type);
  job.pushed_done = std::move(done);
  job.started = std::chrono::system_clock::now();
  impl_->enqueue_parse(std::move(job));
}

void poller::set_pushed(const std::string& source_id, bool active) {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->sources.find(source_id);
  if (it == impl_->sources.end()) return;
  source_entry& e = it->second;
  if (e.pushed == active) return;
  e.pushed = active;
  // Subscribed: the next poll moves out to max_interval. Lapsed: poll soon, a hub may have lost items.
  if (!e.polling && e.st.next_poll && impl_->started) {
    auto now = std::chrono::system_clock::now();
    impl_->schedule_locked(e, active ? std::max(*e.st.next_poll, now + e.def.max_interval)
                                     : std::min(*e.st.next_poll, now + e.def.min_interval));
  }
}

poller_counters poller::counters() const {
  std::lock_guard lock(impl_->mu);
  poller_counters c = impl_->totals;
  c.in_flight = impl_->fetches_in_flight;
  c.parse_queue = impl_->parse_queue.size();
  return c;
}

}  // namespace syndic::poll
