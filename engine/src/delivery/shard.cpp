#include "delivery/shard.hpp"

#include "daemon/ssrf.hpp"
#include "delivery/ids.hpp"

#include <syndic/engine/signer.hpp>

#include <boost/asio/post.hpp>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <ctime>

namespace syndic::engine::detail {
namespace {

attempt_outcome::transport_error error_kind(http::transport_error e) {
  using te = http::transport_error;
  switch (e) {
    case te::none: return attempt_outcome::transport_error::none;
    case te::timeout: return attempt_outcome::transport_error::timeout;
    case te::connect: return attempt_outcome::transport_error::connect;
    case te::dns: return attempt_outcome::transport_error::dns;
    case te::tls: return attempt_outcome::transport_error::tls;
    case te::reset: return attempt_outcome::transport_error::reset;
    default: return attempt_outcome::transport_error::other;  // too_large, protocol, local, other
  }
}

std::int64_t unix_now() { return static_cast<std::int64_t>(std::time(nullptr)); }

// "HTTP 204": written into the string's own (small-string) buffer, without to_string and a
// concatenation per answer.
std::string http_status_words(int status) {
  char text[16] = "HTTP ";
  char* end = std::to_chars(text + 5, text + sizeof text, status).ptr;
  return std::string(text, static_cast<std::size_t>(end - text));
}

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// "scheme://host:port" of a URL, lower-cased, with the scheme's default port made explicit
// and any userinfo dropped: what same-origin means for secrets, and the key of host_slots.
// Empty when the URL has no "scheme://".
std::string origin_of(std::string_view url) {
  auto sep = url.find("://");
  if (sep == std::string_view::npos || sep == 0) return {};
  std::string scheme;
  for (char c : url.substr(0, sep)) scheme += lower(c);
  std::string_view auth = url.substr(sep + 3);
  auth = auth.substr(0, auth.find_first_of("/?#"));
  if (auto at = auth.rfind('@'); at != std::string_view::npos) auth.remove_prefix(at + 1);
  std::string_view host = auth, port;
  if (!auth.empty() && auth.front() == '[') {  // [IPv6]:port
    auto close = auth.find(']');
    if (close != std::string_view::npos) {
      host = auth.substr(0, close + 1);
      if (close + 1 < auth.size() && auth[close + 1] == ':') port = auth.substr(close + 2);
    }
  } else if (auto colon = auth.rfind(':'); colon != std::string_view::npos) {
    host = auth.substr(0, colon);
    port = auth.substr(colon + 1);
  }
  std::string out = scheme + "://";
  for (char c : host) out += lower(c);
  out += ':';
  if (!port.empty()) out += port;
  else out += scheme == "https" ? "443" : "80";
  return out;
}

bool http_or_https(std::string_view url) {
  auto o = origin_of(url);
  return o.starts_with("http://") || o.starts_with("https://");
}

// libcurl sends https through a proxy named in these (curl_easy_setopt's defaults); the
// h1 transport knows no proxies, so then https stays with libcurl. Read once: the process's
// environment does not change under it.
bool https_proxy_configured() {
  static const bool configured = [] {
    for (const char* name : {"https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"})
      if (const char* v = std::getenv(name); v && *v) return true;
    return false;
  }();
  return configured;
}

// After a local failure (our descriptors or connection budget ran out) the request goes back
// to the queue for this long: back-pressure, not a retry the outlet is blamed for.
constexpr std::chrono::milliseconds local_failure_pause{100};

}  // namespace

shard::shard(const engine_options& options, std::size_t max_in_flight, std::size_t connections,
             shared_counters& counters, const shard_callbacks& callbacks)
    : options_(options),
      max_in_flight_(std::max<std::size_t>(1, max_in_flight)),
      connections_(std::max<std::size_t>(1, connections)),
      counters_(counters),
      callbacks_(callbacks),
      work_(boost::asio::make_work_guard(io_)),
      rng_(std::random_device{}()) {
  thread_ = std::thread([this] {
    // One descriptor budget for both transports: running out is back-pressure (local_failure).
    auto budget = std::make_shared<http::connection_budget>(connections_);
    curl_options_.budget = budget;
    curl_options_.max_host_connections = options_.max_host_connections;
    curl_options_.verify_tls = options_.verify_tls;
    curl_options_.ca_file = options_.ca_file;
    if (options_.fast_http) {
      http::h1_options h;
      h.max_host_connections = options_.max_host_connections;
      h.budget = budget;
      h.verify_tls = options_.verify_tls;
      h.ca_file = options_.ca_file;
      h1_options_ = h;
      plain_ = std::make_unique<http::h1_transport>(io_, h);
    }
    io_.run();
    // Stopped (by stop() or request_stop()). The transports (and the multi handles) die on the thread that used them; their
    // pending completions are dropped, so the requests in flight end here, as cancelled.
    stopping_ = true;
    plain_.reset();
    transport_.reset();
    public_h1_.reset();
    public_curl_.reset();
    for (auto& [serial, req] : requests_)
      finish(req.outlet_id, req.d, final_state::cancelled, 0, "engine stopped (request in flight)");
    requests_.clear();
    // What was posted before the stop (submits, outlet changes) still lands, to be cancelled
    // below rather than lost uncounted; nothing is sent any more (pump checks stopping_).
    io_.restart();
    io_.poll();
    for (auto& entry : outlets_) {
      // Named, not a structured binding: clang before 16 cannot capture one in the lambda below.
      const auto& id = entry.first;
      auto& o = entry.second;
      // Say why a pair was still waiting: a suspended outlet is a different story, and the
      // last failure is what a person needs to fix it.
      std::string why = "engine stopped";
      if (o->suspended_until != clock::time_point{}) why += " (circuit open)";
      if (!o->last_failure.empty()) why += "; last failure: " + o->last_failure;
      o->ready.for_each([&](delivery& d) { finish(id, d, final_state::cancelled, 0, why); });
      for (auto& [at, d] : o->retries) finish(id, d, final_state::cancelled, 0, why);
    }
    by_generation_.clear();
    outlets_.clear();
    hosts_.clear();
  });
  thread_id_ = thread_.get_id();
}

shard::~shard() { stop(); }

void shard::stop() {
  io_.stop();
  if (thread_.joinable()) thread_.join();
}

shard::host_slots* shard::attach_host(const std::string& origin) {
  host_slots& h = hosts_[origin];
  ++h.outlets;
  // HTTP/1.1 carries one request per connection; an https origin may speak HTTP/2, which
  // carries up to 100 streams on each (libcurl's default), so its cap counts streams.
  std::size_t conns = options_.max_host_connections > 0 ? static_cast<std::size_t>(options_.max_host_connections) : 0;
  // https goes over HTTP/1.1 through the h1 transport unless libcurl carries it (below).
  bool multiplexed = origin.starts_with("https://") && (!options_.fast_http || https_proxy_configured());
  h.cap = multiplexed ? conns * 100 : conns;
  h.origin = origin;
  return &h;
}

void shard::detach_host(outlet_state& o) {
  if (!o.host) return;
  --o.host->outlets;
  if (o.host->outlets == 0 && o.host->in_flight == 0) {
    std::string key = o.host->origin;  // erasing destroys the entry, and its origin with it
    hosts_.erase(key);
  }
  o.host = nullptr;
}

void shard::add_outlet(outlet_config cfg) {
  boost::asio::post(io_, [this, cfg = std::move(cfg)]() mutable {
    auto& slot = outlets_[cfg.id];
    auto now = clock::now();
    if (!slot) {
      slot = std::make_unique<outlet_state>(cfg, token_bucket(cfg.rate, cfg.burst, now));
      slot->generation = ++next_generation_;
      by_generation_.emplace(slot->generation, slot.get());
      slot->concurrency = concurrency_limit(slot->cfg.max_in_flight, options_.concurrency_backlog);
    } else {
      // The same outlet, reconfigured: its queue, counts and requests in flight carry on.
      slot->bucket = token_bucket(cfg.rate, cfg.burst, now);
      slot->cfg = std::move(cfg);
      slot->retired = false;
      slot->concurrency.set_max(slot->cfg.max_in_flight);
    }
    std::string origin = origin_of(slot->cfg.url);
    if (!slot->host || origin != slot->host->origin) {
      detach_host(*slot);
      slot->host = attach_host(origin);
    }
    if (slot->cfg.http2 && origin.starts_with("https://") && options_.max_host_connections > 0)
      slot->host->cap = std::max<std::size_t>(slot->host->cap, static_cast<std::size_t>(options_.max_host_connections) * 100);
    slot->key = webhook_key_from_secret(slot->cfg.secret);
    slot->own_headers.clear();
    for (const auto& [k, v] : slot->cfg.headers) slot->own_headers.add(k, v);
    // Moved, not copied: the shard reads the parsed URL only through `endpoint`.
    slot->endpoint = slot->cfg.endpoint.empty() ? nullptr : std::make_shared<const parsed_url>(std::move(slot->cfg.endpoint));
    slot->cfg.endpoint = {};
    pump(*slot);
  });
}

void shard::remove_outlet(std::string id) {
  boost::asio::post(io_, [this, id = std::move(id)] {
    auto it = outlets_.find(id);
    if (it == outlets_.end()) return;
    it->second->ready.for_each([&](delivery& d) { finish(id, d, final_state::cancelled, 0, "outlet removed"); });
    for (auto& [at, d] : it->second->retries) finish(id, d, final_state::cancelled, 0, "outlet removed");
    detach_host(*it->second);
    // Requests in flight carry the generation: their answers end their pairs and leave any
    // outlet added later under this id alone.
    by_generation_.erase(it->second->generation);
    outlets_.erase(it);
  });
}

void shard::enqueue(std::string outlet_id, std::vector<delivery> deliveries) {
  boost::asio::post(io_, [this, id = std::move(outlet_id), ds = std::move(deliveries)]() mutable {
    auto it = outlets_.find(id);
    if (it == outlets_.end() || it->second->retired) {
      for (auto& d : ds)
        finish(id, d, it == outlets_.end() ? final_state::cancelled : final_state::retired, 0,
               it == outlets_.end() ? "unknown outlet" : "outlet retired (410)");
      return;
    }
    auto now = clock::now();
    // Resumed retries wait for their time; the rest join the queue as the vector they came in.
    auto waiting = std::find_if(ds.begin(), ds.end(), [&](const delivery& d) { return d.not_before > now; });
    if (waiting != ds.end()) {
      auto kept = waiting;
      for (auto d = waiting; d != ds.end(); ++d) {
        if (d->not_before > now) it->second->retries.emplace(d->not_before, std::move(*d));
        else *kept++ = std::move(*d);
      }
      ds.erase(kept, ds.end());
    }
    it->second->ready.append(std::move(ds));
    pump(*it->second);
  });
}

std::uint32_t shard::limit(const outlet_state& o) const {
  if (o.probing || o.cfg.ordered) return 1;
  if (!options_.adaptive_concurrency) return o.cfg.max_in_flight;
  return o.concurrency.limit();
}

void shard::sample_concurrency(outlet_state& o, const request_in_flight& req, const http::response& r,
                               clock::time_point now) {
  // Our own shortage (descriptors, budget) says nothing about the outlet.
  if (r.local_failure || !options_.adaptive_concurrency) return;
  verdict v = classify(attempt_outcome{r.status, error_kind(r.error), r.retry_after});
  // A failure, a timeout, a 429 or a 503: the remote wants less. Anything else it answered
  // (2xx, a refusal, a redirect, a 410) is a round trip to learn from.
  if (v == verdict::retry) return o.concurrency.on_drop();
  auto rtt = std::chrono::duration_cast<std::chrono::microseconds>(now - req.sent);
  o.concurrency.on_sample(rtt, o.in_flight, o.ready.size());
}

void shard::expire_front(outlet_state& o, clock::time_point now) {
  // Pairs are queued roughly in submit order: looking at the front finds the old ones
  // without walking a queue that may be long.
  if (options_.max_age.count() <= 0) return;
  while (!o.ready.empty() && now - o.ready.front().submitted > options_.max_age) {
    delivery d = std::move(o.ready.front());
    o.ready.pop_front();
    std::string why = "older than max_age (" + std::to_string(options_.max_age.count()) + " ms)";
    if (!o.last_failure.empty()) why += "; last failure: " + o.last_failure;
    finish(o.cfg.id, d, final_state::expired, 0, std::move(why));
  }
}

void shard::pump(outlet_state& o, clock::time_point now) {
  if (o.retired || stopping_) return;
  // Due retries go first, oldest first, so an ordered outlet keeps log order.
  auto due_end = o.retries.upper_bound(now);
  if (due_end != o.retries.begin()) {
    std::vector<delivery> due;
    for (auto it = o.retries.begin(); it != due_end; ++it) due.push_back(std::move(it->second));
    o.retries.erase(o.retries.begin(), due_end);
    o.ready.prepend(std::move(due));
  }
  expire_front(o, now);
  if (o.suspended_until != clock::time_point{}) {
    if (now < o.suspended_until) {
      schedule(o, o.suspended_until);
      return;
    }
    o.suspended_until = {};
    o.probing = true;  // half-open: one request decides
  }
  if (o.cfg.ordered && !o.retries.empty()) {
    // An ordered outlet waits for its failed item: nothing may overtake it.
    schedule(o, o.retries.begin()->first);
    return;
  }
  while (!o.ready.empty() && o.in_flight < limit(o)) {
    // The host first: an outlet held back by its host holds none of the shard's slots.
    if (o.host && o.host->full()) return wait_for_slot(o, o.host->waiting);
    if (in_flight_ >= max_in_flight_) return wait_for_slot(o, waiting_);
    if (o.consecutive_failures > 0 && unhealthy_in_flight_ >= unhealthy_cap())
      return wait_for_slot(o, waiting_unhealthy_);
    if (!o.bucket.try_take(now)) {
      o.throttled = true;
      schedule(o, now + o.bucket.wait(now));
      return;
    }
    send(o, now);
    expire_front(o, now);
  }
  if (o.ready.empty()) o.throttled = false;
  else o.throttled = true;  // held back by the in-flight limit
  if (!o.retries.empty()) schedule(o, o.retries.begin()->first);
}

void shard::next_request(outlet_state& o, delivery& into) {
  into = std::move(o.ready.front());
  o.ready.pop_front();
  // Only first attempts are batched: a retry keeps the request (and id) it failed with.
  auto batchable = [&](const delivery& x) {
    return !x.extra && x.attempts == 0 && same_source(*x.body, *into.body);
  };
  if (o.throttled && o.cfg.batch > 1 && !o.ready.empty() && batchable(into) && batchable(o.ready.front()))
    into = make_batch(o, std::move(into));
}

delivery shard::make_batch(outlet_state& o, delivery d) {
  std::shared_ptr<const payload> first = d.body;
  auto batchable = [&](const delivery& x) {
    return !x.extra && x.attempts == 0 && same_source(*x.body, *first);
  };
  delivery batch;
  batch.submitted = d.submitted;
  std::vector<delivery>& members = batch.more().members;
  members.push_back(std::move(d));
  while (members.size() < o.cfg.batch && !o.ready.empty() && batchable(o.ready.front())) {
    members.push_back(std::move(o.ready.front()));
    o.ready.pop_front();
  }
  std::vector<std::shared_ptr<const payload>> parts;
  parts.reserve(members.size());
  std::string ids;
  for (const auto& m : members) {
    parts.push_back(m.body);
    ids += m.delivery_id.view();
  }
  batch.body = render_batch(o.cfg.format, parts);
  // Stable across this batch's retries; derived from its members, so a different grouping
  // after a restart gets a different id (receivers de-duplicate on the items' own ids then).
  batch_delivery_id(ids, batch.delivery_id);
  return batch;
}

void shard::schedule(outlet_state& o, clock::time_point at) {
  if (o.wakeup_at <= at) return;  // an earlier wakeup is already set
  o.wakeup_at = at;
  if (!o.wakeup) o.wakeup = std::make_unique<boost::asio::steady_timer>(io_);
  o.wakeup->expires_at(at);
  o.wakeup->async_wait([this, id = o.cfg.id](const boost::system::error_code& ec) {
    if (ec) return;
    auto it = outlets_.find(id);
    if (it == outlets_.end()) return;
    it->second->wakeup_at = clock::time_point::max();
    pump(*it->second);
  });
}

shard::request_in_flight& shard::new_request(std::uint64_t serial) {
  if (spare_requests_.empty()) return requests_.try_emplace(serial).first->second;
  request_map::node_type node = std::move(spare_requests_.back());
  spare_requests_.pop_back();
  node.key() = serial;
  return requests_.insert(std::move(node)).position->second;
}

void shard::send(outlet_state& o, clock::time_point now) {
  std::uint64_t serial = ++next_request_;
  request_in_flight& req = new_request(serial);
  next_request(o, req.d);
  delivery& d = req.d;
  ++o.in_flight;
  ++in_flight_;
  if (o.host) ++o.host->in_flight;
  // Shards share the peak: raise it only if still higher (rarely taken after the first sends).
  for (auto peak = counters_.peak_outlet_in_flight.load(std::memory_order_relaxed); o.in_flight > peak;)
    if (counters_.peak_outlet_in_flight.compare_exchange_weak(peak, o.in_flight, std::memory_order_relaxed)) break;
  ++counters_.attempts;
  if (d.attempts++ == 0) d.first_attempt = now;
  else ++counters_.retries;
  const payload& p = *d.body;
  http::request r;
  const std::string* redirected = d.redirected_to();
  const std::string& url = redirected ? *redirected : o.cfg.url;
  // h1 carries http:// and https:// over HTTP/1.1; libcurl what asks for more: an outlet
  // that wants HTTP/2 (`http2`), and https through a proxy.
  bool h1 = plain_ && (url.starts_with("http://") ||
                       (url.starts_with("https://") && !o.cfg.http2 && !https_proxy_configured()));
  r.body = std::shared_ptr<const std::string>(d.body, &p.body);  // shares, never copies
  r.timeout = o.cfg.timeout;
  if (!redirected) r.endpoint = o.endpoint;  // a redirect's URL is the transport's to parse
  if (!h1 || !r.endpoint) r.url = url;  // h1 goes by the endpoint, parsed once: no copy per request
  http::header_block& headers = request_headers_;
  headers.clear();
  if (p.content_type != o.content_type || o.content_type_line.empty()) {
    o.content_type = p.content_type;
    o.content_type_line.clear();
    o.content_type_line.add("Content-Type", p.content_type);
  }
  headers.append(o.content_type_line);
  // After a redirect to another origin, the outlet's secrets (its signatures and its own
  // headers, which often carry tokens) stay behind: only the origin configured gets them.
  bool trusted = !redirected || origin_of(*redirected) == o.host->origin;
  if (o.cfg.format == payload_format::webhook) {
    std::int64_t ts = unix_now();
    headers.add("webhook-id", d.delivery_id);
    if (ts != timestamp_line_at_ || timestamp_line_.empty()) {  // rendered once a second
      timestamp_line_at_ = ts;
      timestamp_line_.clear();
      timestamp_line_.add("webhook-timestamp", ts);
    }
    headers.append(timestamp_line_);
    if (!o.cfg.secret.empty() && trusted)
      headers.add("webhook-signature", webhook_signature(o.key, d.delivery_id, ts, p.body));
  } else if (o.cfg.format == payload_format::websub || !o.cfg.websub_topic.empty()) {
    // A subscription of the daemon's own hub names its hub and topic; otherwise the item's
    // feed says where it is from.
    const std::string& hub = o.cfg.websub_topic.empty() ? p.hub : o.cfg.websub_hub;
    const std::string& topic = o.cfg.websub_topic.empty() ? p.topic : o.cfg.websub_topic;
    if (!hub.empty() || !topic.empty())
      headers.add("Link", "<" + hub + ">; rel=\"hub\", <" + topic + ">; rel=\"self\"");
    if (!o.cfg.secret.empty() && trusted) headers.add("X-Hub-Signature", websub_signature(o.cfg.secret, p.body));
  }
  if (trusted) headers.append(o.own_headers);
  if (!h1) headers.split_into(r.headers);  // libcurl takes them as a list
  req.outlet_id = o.cfg.id;
  req.generation = o.generation;
  req.host = o.host;
  req.unhealthy = o.consecutive_failures > 0;
  req.sent = now;
  unhealthy_in_flight_ += req.unhealthy;
  auto on_response = [this, serial](http::response&& resp) {
    auto it = requests_.find(serial);
    if (it == requests_.end()) return;
    request_map::node_type node = requests_.extract(it);  // the entry itself: nothing is moved
    request_in_flight& req = node.mapped();
    unhealthy_in_flight_ -= req.unhealthy;
    on_done(std::move(req), resp);
    if (spare_requests_.size() < max_in_flight_) {
      // Kept for a next request, which assigns every field: what it holds on to goes now.
      req.d.body.reset();
      req.d.queued.reset();
      req.d.extra.reset();
      spare_requests_.push_back(std::move(node));
    }
  };
  if (o.cfg.public_only) {
    if (h1) public_h1().post(std::move(r), headers, std::move(on_response));  // no hint: another transport
    else public_curl().post(std::move(r), std::move(on_response));
  } else if (h1) {
    plain_->post(std::move(r), headers, std::move(on_response), &o.origin);
  } else {
    curl().post(std::move(r), std::move(on_response));
  }
}

namespace {
std::string refuse_non_public(const sockaddr& address) {
  daemon::target_check c = daemon::check_address(address);
  return c ? std::string() : "refused (public_only outlet): " + c.reason;
}
}  // namespace

http::h1_transport& shard::public_h1() {
  if (!public_h1_) {
    http::h1_options h = h1_options_;
    h.refuse_address = refuse_non_public;
    public_h1_ = std::make_unique<http::h1_transport>(io_, h);
  }
  return *public_h1_;
}

http::curl_transport& shard::public_curl() {
  if (!public_curl_) {
    http::transport_options c = curl_options_;
    c.refuse_address = refuse_non_public;
    public_curl_ = std::make_unique<http::curl_transport>(io_, c);
  }
  return *public_curl_;
}

// libcurl (and its 30 libraries) is loaded only when an outlet needs it: a shard that
// delivers over http:// and plain https never makes its curl transport.
http::curl_transport& shard::curl() {
  if (!transport_) transport_ = std::make_unique<http::curl_transport>(io_, curl_options_);
  return *transport_;
}

void shard::end_stale(const std::string& id, delivery& d, const http::response& r, std::string reason) {
  // The outlet that sent this is gone (removed, perhaps added again as a new generation):
  // the answer ends its pairs and touches no outlet's counts. A 2xx was a delivery all the same.
  attempt_outcome outcome{r.status, error_kind(r.error), r.retry_after};
  if (!r.local_failure && classify(outcome) == verdict::delivered)
    finish(id, d, final_state::delivered, r.status, std::move(reason));
  else
    finish(id, d, final_state::cancelled, r.status, "outlet removed; last answer: " + reason);
}

void shard::on_done(request_in_flight&& req, const http::response& r) {
  --in_flight_;
  if (r.connections_opened)  // a locked add only when there is something to add
    counters_.connections_opened += static_cast<std::uint64_t>(r.connections_opened);
  const std::string& id = req.outlet_id;
  delivery& d = req.d;
  host_slots* host = req.host;
  if (host) --host->in_flight;
  // By generation: the outlet that sent this, if it is still there (no hash of its id).
  auto it = by_generation_.find(req.generation);
  outlet_state* o = it == by_generation_.end() ? nullptr : it->second;
  std::string reason = r.status ? http_status_words(r.status)
                     : r.error_detail.empty() ? std::string(http::describe(r.error))
                                              : r.error_detail;
  if (o) {
    // The answer is measured by the transport's clock reading, when it took one. The next
    // request reads the clock again: the outcome callbacks in settle() may have taken a
    // while, and its round trip and deadline count from when it really goes.
    auto now = r.finished_at != clock::time_point{} ? r.finished_at : clock::now();
    sample_concurrency(*o, req, r, now);  // before the count drops: it saw this request in flight
    --o->in_flight;
    settle(*o, d, r, std::move(reason), now - req.sent, now);
    pump(*o);
  } else {
    end_stale(id, d, r, std::move(reason));
  }
  if (host) {
    drain_host(*host);
    if (host->outlets == 0 && host->in_flight == 0) {
      std::string key = host->origin;
      hosts_.erase(key);
    }
  }
  drain_waiting();
}

void shard::report_attempt(const std::string& outlet_id, const delivery& d, const http::response& r,
                           const std::string& reason, clock::duration round_trip, clock::time_point retry_at) {
  if (!callbacks_.attempt) return;
  attempt_report a;
  a.outlet_id = outlet_id;
  a.status = r.status;
  a.reason = reason;
  a.attempt = d.attempts;
  a.round_trip = std::chrono::duration_cast<std::chrono::microseconds>(round_trip);
  if (retry_at != clock::time_point{}) {
    a.will_retry = true;
    a.retry_at = std::chrono::system_clock::now() +
                 std::chrono::duration_cast<std::chrono::system_clock::duration>(retry_at - clock::now());
  }
  // A batch's members are the pairs: each is reported, with its own id and seq.
  auto one = [&](const delivery& pair) {
    a.delivery_id = pair.delivery_id.view();
    a.seq = pair.seq;
    callbacks_.attempt(a);
  };
  if (d.members().empty()) one(d);
  else for (const auto& m : d.members()) one(m);
}

void shard::settle(outlet_state& o, delivery& d, const http::response& r, std::string reason,
                   clock::duration round_trip, clock::time_point now) {
  const std::string& id = o.cfg.id;
  attempt_outcome outcome{r.status, error_kind(r.error), r.retry_after};
  verdict v = classify(outcome);
  // Every attempt the outlet answered (or failed) is reported, final or not; a local failure
  // was no attempt. A retry is reported below, with its time.
  bool retrying = !o.retired && !r.local_failure && v == verdict::retry &&
                  may_retry(o.cfg.retry, d.attempts, std::chrono::duration_cast<std::chrono::milliseconds>(now - d.first_attempt));
  if (!r.local_failure && !retrying) report_attempt(id, d, r, reason, round_trip);
  if (o.retired) {
    // A 410 came back while this request was out: the outlet takes nothing more. Its pair
    // ends here (it would otherwise wait in a retry queue that nothing pumps again).
    if (v == verdict::delivered && !r.local_failure) finish(id, d, final_state::delivered, r.status, std::move(reason), now);
    else finish(id, d, final_state::retired, r.status, "outlet retired (410); this request: " + reason);
    return;
  }
  if (r.local_failure) {
    // We ran out (descriptors, connection budget), not the outlet: no attempt is counted and
    // the breaker is not told; the request waits a moment and goes again, ahead of the queue.
    --d.attempts;
    --counters_.attempts;
    if (d.attempts > 0) --counters_.retries;
    o.retries.emplace(now + local_failure_pause, std::move(d));
    return;
  }
  switch (v) {
    case verdict::delivered:
      o.consecutive_failures = 0;
      o.probing = false;
      finish(id, d, final_state::delivered, r.status, std::move(reason), now);
      break;
    case verdict::retire:
      o.retired = true;
      finish(id, d, final_state::retired, r.status, reason);
      o.ready.for_each([&](delivery& q) { finish(id, q, final_state::retired, r.status, reason); });
      for (auto& [at, q] : o.retries) finish(id, q, final_state::retired, r.status, reason);
      o.ready.clear();
      o.retries.clear();
      break;
    case verdict::dead_letter:
      o.consecutive_failures = 0;  // the outlet answered: it is up, it refused this one
      o.probing = false;
      finish(id, d, final_state::dead_lettered, r.status, std::move(reason), now);
      break;
    case verdict::redirect: {
      // Standard Webhooks counts a 3xx as a failure, and the same request would get the same
      // answer: not retried but dead-lettered (replayable once the URL is fixed), unless the
      // outlet opted in to follow 307/308, to http(s) only, a few hops at most.
      o.consecutive_failures = 0;
      o.probing = false;
      std::string refused;
      if (!o.cfg.follow_redirects) refused = "redirect not followed (follow_redirects is off)";
      else if (r.location.empty()) refused = "redirect without a Location";
      else if (!http_or_https(r.location)) refused = "redirect to a non-http(s) URL refused";
      else if (d.extra && d.extra->redirects >= 3) refused = "redirect limit";
      if (refused.empty()) {
        ++d.more().redirects;
        d.more().url_override = r.location;
        o.ready.push_front(std::move(d));
      } else {
        finish(id, d, final_state::dead_lettered, r.status, reason + " (" + refused + ")");
      }
      break;
    }
    case verdict::retry: {
      ++o.consecutive_failures;
      o.last_failure = reason;
      if (o.probing || o.consecutive_failures >= options_.breaker_failures) {
        o.probing = false;
        o.suspended_until = now + options_.breaker_cooldown;  // circuit open: the queue waits
      }
      if (may_retry(o.cfg.retry, d.attempts, std::chrono::duration_cast<std::chrono::milliseconds>(now - d.first_attempt))) {
        auto delay = next_delay(o.cfg.retry, d.attempts, outcome, rng_, unix_now());
        report_attempt(id, d, r, reason, round_trip, now + delay);
        o.retries.emplace(now + delay, std::move(d));
      } else {
        finish(id, d, final_state::gave_up, r.status, reason);
      }
      break;
    }
  }
}

void shard::drain_host(host_slots& h) {
  // As drain_waiting: each outlet taken sends (filling the host), waits elsewhere, or has
  // nothing to send, so the loop ends.
  while (!h.full() && !h.waiting.empty()) {
    std::string id = std::move(h.waiting.front());
    h.waiting.pop_front();
    auto it = outlets_.find(id);
    if (it == outlets_.end()) continue;
    it->second->waiting_for_slot = false;
    pump(*it->second);
  }
}

void shard::wait_for_slot(outlet_state& o, http::lazy_deque<std::string>& queue) {
  if (o.waiting_for_slot) return;
  o.waiting_for_slot = true;
  queue.push_back(std::string(o.cfg.id));
}

void shard::drain_waiting() {
  // An outlet taken from a queue either sends, or goes back to a queue whose cap is now
  // reached (which ends its loop), or has nothing left to send: the loops end.
  auto drain = [this](http::lazy_deque<std::string>& queue, auto has_room) {
    while (has_room() && !queue.empty()) {
      std::string id = std::move(queue.front());
      queue.pop_front();
      auto it = outlets_.find(id);
      if (it == outlets_.end()) continue;
      it->second->waiting_for_slot = false;
      pump(*it->second);
    }
  };
  drain(waiting_, [this] { return in_flight_ < max_in_flight_; });
  drain(waiting_unhealthy_, [this] { return in_flight_ < max_in_flight_ && unhealthy_in_flight_ < unhealthy_cap(); });
}

void shard::finish(const std::string& outlet_id, delivery& d, final_state s,
                   int status, std::string reason, clock::time_point now) {
  if (!d.members().empty()) {
    // Every pair of a batch ends with the batch: same state, status and attempts.
    auto size = static_cast<std::uint32_t>(d.members().size());
    for (auto& m : d.members()) {
      m.attempts = d.attempts;
      finish_pair(outlet_id, m, s, status, reason, size, now);
    }
    return;
  }
  finish_pair(outlet_id, d, s, status, std::move(reason), 1, now);
}

void shard::finish_pair(const std::string& outlet_id, const delivery& d, final_state s,
                        int status, std::string reason, std::uint32_t batch_size, clock::time_point now) {
  switch (s) {
    case final_state::delivered: ++counters_.delivered; break;
    case final_state::dead_lettered: ++counters_.dead_lettered; break;
    case final_state::retired: ++counters_.retired; break;
    case final_state::gave_up: ++counters_.gave_up; break;
    case final_state::cancelled: ++counters_.cancelled; break;
    case final_state::expired: ++counters_.expired; break;
  }
  if (callbacks_.outcome) {
    // One outcome object, reused: its strings keep their buffers, so the ids are copied
    // without an allocation each (three per delivery). A callback that ends another pair on
    // this thread before it returns gets one of its own.
    std::optional<delivery_outcome> local;
    delivery_outcome& out = outcome_busy_ ? local.emplace() : outcome_;
    struct release {
      bool& busy;
      bool was;
      ~release() { busy = was; }
    } guard{outcome_busy_, outcome_busy_};
    outcome_busy_ = true;
    out.seq = d.seq;
    out.outlet_id = outlet_id;
    if (d.body) out.item_id = d.body->item_id;
    else out.item_id.clear();
    out.delivery_id = d.delivery_id.view();
    out.state = s;
    out.status = status;
    out.reason = std::move(reason);
    out.attempts = d.attempts;
    out.batch_size = batch_size;
    out.latency = std::chrono::duration_cast<std::chrono::microseconds>(now - d.submitted);
    callbacks_.outcome(out);
  }
  if (d.queued) *d.queued -= 1;
  // After the callback: a waiter sees the outcome delivered first.
  if (counters_.pending.fetch_sub(1) == 1) {
    std::lock_guard lock(counters_.idle_mutex);  // a waiter between its check and its wait
    counters_.idle.notify_all();
  }
}

void shard::snapshot(std::function<void(shard_load)> done) {
  boost::asio::post(io_, [this, done = std::move(done)] {
    shard_load s;
    s.outlets = outlets_.size();
    s.in_flight = in_flight_;
    auto now = clock::now();
    for (const auto& [id, o] : outlets_) {
      s.queued += o->ready.size() + o->retries.size();
      if (o->suspended_until > now) ++s.circuits_open;
    }
    done(s);
  });
}

void shard::snapshot(std::string id, std::function<void(std::optional<outlet_load>)> done) {
  boost::asio::post(io_, [this, id = std::move(id), done = std::move(done)] {
    auto it = outlets_.find(id);
    if (it == outlets_.end()) return done(std::nullopt);
    const outlet_state& o = *it->second;
    outlet_load l;
    l.queued = o.ready.size() + o.retries.size();
    l.in_flight = o.in_flight;
    l.concurrency_limit = limit(o);
    l.consecutive_failures = o.consecutive_failures;
    auto now = clock::now();
    l.circuit_open = o.suspended_until > now;
    if (l.circuit_open)
      l.circuit_reopens_in = std::chrono::duration_cast<std::chrono::milliseconds>(o.suspended_until - now);
    l.probing = o.probing;
    l.retired = o.retired;
    l.last_failure = o.last_failure;
    done(std::move(l));
  });
}

}  // namespace syndic::engine::detail
