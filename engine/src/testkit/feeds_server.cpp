// `syndic feeds`' server: requests, conditional answers, faults, the item maker and counters.
// The plan (feeds_plan) says what each feed is; the renderers (feeds_render) write bodies;
// the hub (feeds_hub) speaks WebSub.
//
// Hot path (a poll): the feed's current snapshot is taken under that feed's own mutex (a
// shared_ptr copy), and everything else is read from the immutable snapshot or counted in
// atomics; no lock is shared between feeds. A snapshot's bodies (identity and gzip) are
// made once, by the first request that needs them (std::call_once), so a 304 renders nothing.
//
// Threads: request handlers run on the server's threads (options.threads run one
// io_context); the item maker is a timer chain on the same context, so it runs on one thread
// at a time and alone touches next_k_.

#include <syndic/testkit/feeds.hpp>

#include "http/server.hpp"
#include "testkit/feeds_http.hpp"
#include "testkit/feeds_hub.hpp"
#include "testkit/feeds_plan.hpp"
#include "testkit/feeds_render.hpp"

#include <syndic/formats/dates.hpp>

#include "formats/src/text.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <cmath>
#include <limits>
#include <mutex>
#include <memory>
#include <random>
#include <set>
#include <stdexcept>
#include <thread>
#include <unordered_map>

namespace syndic::testkit {

namespace asio = boost::asio;
using engine::http::responder;
using engine::http::server_request;
using engine::http::server_response;
using steady = std::chrono::steady_clock;
using detail::feed_path;
using detail::parse_feed_path;

namespace {

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Atomically keeps the larger / smaller value.
void raise_to(std::atomic<std::uint64_t>& a, std::uint64_t v) {
  auto cur = a.load(std::memory_order_relaxed);
  while (v > cur && !a.compare_exchange_weak(cur, v, std::memory_order_relaxed)) {}
}
void lower_to(std::atomic<std::int64_t>& a, std::int64_t v) {
  auto cur = a.load(std::memory_order_relaxed);
  while (v < cur && !a.compare_exchange_weak(cur, v, std::memory_order_relaxed)) {}
}

}  // namespace

std::string feeds_stats::to_json() const {
  std::string s = "{\"requests\":" + std::to_string(requests) + ",\"other_requests\":" + std::to_string(other_requests) +
                  ",\"not_modified\":" + std::to_string(not_modified) + ",\"gzip\":" + std::to_string(gzip) +
                  ",\"bytes\":" + std::to_string(bytes) + ",\"items\":" + std::to_string(items) + ",\"statuses\":{";
  bool first = true;
  for (const auto& [status, n] : statuses) {
    s += (first ? "\"" : ",\"") + std::to_string(status) + "\":" + std::to_string(n);
    first = false;
  }
  s += "},\"listeners\":[";
  first = true;
  for (const auto& l : listeners) {
    s += (first ? "" : ",");
    first = false;
    s += "{\"address\":\"" + l.address + "\",\"requests\":" + std::to_string(l.requests) +
         ",\"max_in_flight\":" + std::to_string(l.max_in_flight) + ",\"min_gap_us\":" + std::to_string(l.min_gap_us) + "}";
  }
  s += "],\"hub\":{\"pings\":" + std::to_string(hub_pings) + ",\"ping_failures\":" + std::to_string(hub_ping_failures) +
       ",\"deliveries\":" + std::to_string(hub_deliveries) + ",\"bad_signatures\":" + std::to_string(hub_bad_signatures) +
       ",\"delivery_failures\":" + std::to_string(hub_delivery_failures) + "}}";
  return s;
}

struct feeds::impl {
  // One version of one feed, immutable once published (its bodies are made once, lazily).
  struct snapshot {
    std::uint64_t count = 0;  // items this feed ever got
    std::int64_t modified_ms = 0;
    std::string etag, etag_gzip, last_modified;
    std::vector<detail::made_item> items;  // newest first, at most options.items
    mutable std::once_flag body_once, gzip_once;
    mutable std::shared_ptr<const std::string> body, gzip;
    mutable feeds_format body_format = feeds_format::rss;
  };
  struct slot {
    std::mutex mutex;  // this feed's only: guards `current`
    std::shared_ptr<const snapshot> current;
  };
  struct listener {
    std::string address;
    std::string base_url;
    std::uint16_t port = 0;
    std::atomic<std::uint64_t> requests{0}, in_flight{0}, max_in_flight{0};
    std::atomic<std::int64_t> last_arrival_ns{-1}, min_gap_ns{std::numeric_limits<std::int64_t>::max()};
  };

  feeds_options options;
  detail::feeds_plan plan;
  asio::io_context io;  // before the server and the timer: they are destroyed first
  asio::steady_timer timer{io};
  std::unique_ptr<engine::http::server> server;
  std::vector<std::thread> threads;
  std::unique_ptr<detail::feeds_hub> hub;
  std::vector<std::unique_ptr<listener>> listeners;
  std::vector<std::string> base_urls;
  std::vector<feed_entry> entries;
  std::vector<std::string> selfs;  // each feed's self link (its topic)
  std::string hub_url;             // advertised; empty: none
  std::unique_ptr<slot[]> slots;
  std::int64_t start_ms = 0;
  steady::time_point start_steady;
  std::string epoch;  // in every ETag: another run's tags never match
  std::array<std::once_flag, hostile_shape_count * 3> hostile_once;
  std::array<detail::hostile_body, hostile_shape_count * 3> hostile;

  std::atomic<std::uint64_t> requests{0}, other_requests{0}, not_modified{0}, gzip_answers{0}, bytes{0}, made{0};
  std::array<std::atomic<std::uint64_t>, 600> statuses{};
  std::uint64_t next_k = 0;  // the item maker's (timer chain) only

  explicit impl(feeds_options o) : options(std::move(o)), plan(options) {}

  // ---- bodies ----

  detail::page_context context(std::size_t i) const {
    detail::page_context c;
    c.self = selfs[i];
    c.hub = hub_url;
    c.base_url = base_urls[i % base_urls.size()];
    c.content_bytes = options.content_bytes;
    c.start_ms = start_ms;
    c.ttl_minutes = options.ttl_minutes;
    c.update_period_seconds = options.update_period_seconds;
    return c;
  }

  const std::shared_ptr<const std::string>& body_of(std::size_t i, const snapshot& s) {
    std::call_once(s.body_once, [&] {
      const feed_entry& e = entries[i];
      if (e.fault == feed_fault::hostile) {
        std::size_t slot_index = static_cast<std::size_t>(e.shape) * 3 + static_cast<std::size_t>(e.format);
        std::call_once(hostile_once[slot_index], [&] { hostile[slot_index] = detail::make_hostile(e.shape, e.format, context(i)); });
        s.body = std::shared_ptr<const std::string>(std::shared_ptr<void>(), &hostile[slot_index].body);  // lives in impl
        s.body_format = hostile[slot_index].format;
        return;
      }
      std::string page = detail::render_page(e, s.items, context(i));
      if (e.fault == feed_fault::malformed) page = detail::malformed_page(std::move(page));
      s.body = std::make_shared<const std::string>(std::move(page));
      s.body_format = e.format;
    });
    return s.body;
  }

  const std::string& gzip_of(std::size_t i, const snapshot& s) {
    const auto& body = body_of(i, s);
    std::call_once(s.gzip_once, [&] { s.gzip = std::make_shared<const std::string>(detail::gzip_compress(*body)); });
    return *s.gzip;
  }

  std::shared_ptr<const snapshot> current(std::size_t i) {
    std::lock_guard lock(slots[i].mutex);
    return slots[i].current;
  }

  // ---- the item maker ----

  std::shared_ptr<snapshot> next_version(std::size_t i, const snapshot* old, const std::vector<detail::made_item>& added,
                                         std::int64_t ms) {
    auto s = std::make_shared<snapshot>();
    s->count = (old ? old->count : 0) + added.size();
    s->modified_ms = ms;
    for (auto it = added.rbegin(); it != added.rend() && s->items.size() < options.items; ++it) s->items.push_back(*it);
    if (old)
      for (const auto& m : old->items) {
        if (s->items.size() >= options.items) break;
        s->items.push_back(m);
      }
    std::string tag = std::to_string(i) + "." + std::to_string(s->count) + "." + epoch;
    s->etag = "\"" + tag + "\"";
    s->etag_gzip = "\"" + tag + "-gz\"";
    s->last_modified = formats::format_http_date(ms / 1000);
    return s;
  }

  void make_items(std::uint64_t due, std::int64_t ms) {
    if (due <= next_k) return;
    std::unordered_map<std::size_t, std::vector<detail::made_item>> touched;
    for (std::uint64_t k = next_k; k < due; ++k) touched[plan.feed_of(k)].push_back({k, ms});
    next_k = due;
    made.store(due, std::memory_order_relaxed);
    for (auto& [i, added] : touched) {
      auto old = current(i);
      auto s = next_version(i, old.get(), added, ms);
      {
        std::lock_guard lock(slots[i].mutex);
        slots[i].current = std::move(s);
      }
    }
    if (hub)
      for (auto& [i, added] : touched) hub->changed(i);
  }

  void tick() {
    auto now = steady::now();
    if (options.rate > 0) {
      double elapsed = std::chrono::duration<double>(now - start_steady).count();
      // At most a second's worth of items more than due per tick, so a stalled thread catches
      // up in bounded steps.
      auto due = options.initial + static_cast<std::uint64_t>(std::floor(elapsed * options.rate));
      due = std::min<std::uint64_t>(due, next_k + static_cast<std::uint64_t>(options.rate) + 1);
      make_items(due, wall_ms());
      // The next item's time, but not sooner than one tick from now.
      double next_s = static_cast<double>(next_k - options.initial + 1) / options.rate;
      auto next = start_steady + std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(next_s));
      timer.expires_at(std::max(next, now + options.tick));
      timer.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) tick();
      });
    }
  }

  // ---- requests ----

  listener& listener_for(std::uint16_t port) {
    for (auto& l : listeners)
      if (l->port == port) return *l;
    return *listeners.front();
  }

  void arrive(listener& l) {
    requests.fetch_add(1, std::memory_order_relaxed);
    l.requests.fetch_add(1, std::memory_order_relaxed);
    raise_to(l.max_in_flight, l.in_flight.fetch_add(1, std::memory_order_relaxed) + 1);
    std::int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now().time_since_epoch()).count();
    std::int64_t prev = l.last_arrival_ns.exchange(now, std::memory_order_relaxed);
    // Two threads may take the clock and swap in either order: the gap is the distance.
    if (prev >= 0) lower_to(l.min_gap_ns, now > prev ? now - prev : prev - now);
  }

  // The Date header (RFC 9110 6.6.1: an origin with a clock sends it; pollers reckon max-age
  // and Last-Modified against it), formatted once a second per thread.
  static const std::string& http_date_now() {
    thread_local std::int64_t second = -1;
    thread_local std::string text;
    std::int64_t now = wall_ms() / 1000;
    if (now != second) {
      second = now;
      text = formats::format_http_date(now);
    }
    return text;
  }

  void finish(listener& l, responder& answer, server_response r, bool head) {
    r.set("Date", http_date_now());
    int status = std::clamp(r.status, 0, 599);
    statuses[static_cast<std::size_t>(status)].fetch_add(1, std::memory_order_relaxed);
    if (status == 304) not_modified.fetch_add(1, std::memory_order_relaxed);
    if (!head) bytes.fetch_add(r.body.size(), std::memory_order_relaxed);
    l.in_flight.fetch_sub(1, std::memory_order_relaxed);
    answer.send(std::move(r));
  }

  std::chrono::milliseconds latency() {
    if (options.latency.zero()) return std::chrono::milliseconds(0);
    // On the heap, not in every thread's static TLS block (see feeds_hub.cpp's challenge()).
    thread_local std::unique_ptr<std::mt19937> rng;
    if (!rng) rng = std::make_unique<std::mt19937>(std::random_device{}());
    return options.latency.at(std::uniform_real_distribution<double>(0, 1)(*rng));
  }

  void feed_request(const server_request& req, responder answer) {
    listener& l = listener_for(req.local_port);
    arrive(l);
    bool head = req.method == "HEAD";
    std::chrono::milliseconds delay = latency();
    auto reply = [&](server_response r) {
      if (delay.count() == 0) return finish(l, answer, std::move(r), head);
      auto t = std::make_shared<asio::steady_timer>(io, delay);
      t->async_wait([this, t, &l, answer, r = std::move(r), head](const boost::system::error_code&) mutable {
        finish(l, answer, std::move(r), head);
      });
    };
    auto p = parse_feed_path(req.path());
    if (!p || p->index >= entries.size() || p->ext != detail::extension(entries[p->index].format))
      return reply(server_response::error(404, "no such feed (see /feeds.csv)"));
    if (req.method != "GET" && !head) return reply(server_response::error(405, "feeds take GET and HEAD").set("Allow", "GET, HEAD"));
    const feed_entry& e = entries[p->index];
    std::string base = base_urls[p->index % base_urls.size()] + "/feeds/";
    std::string tail = std::to_string(p->index) + "." + std::string(p->ext);
    auto redirect = [&](int status, std::string_view dir) {
      return server_response(status).set("Location", base + std::string(dir) + tail);
    };
    if (p->where == feed_path::kind::loop) return reply(redirect(302, ""));
    if (p->where == feed_path::kind::canonical) {
      auto retry = std::to_string(options.retry_after.count());
      switch (e.fault) {
        case feed_fault::gone: return reply(server_response::error(410, "this feed is gone"));
        case feed_fault::error: return reply(server_response::error(500, "injected error"));
        case feed_fault::unavailable: return reply(server_response::error(503, "injected unavailability").set("Retry-After", retry));
        case feed_fault::throttle: return reply(server_response::error(429, "injected throttling").set("Retry-After", retry));
        case feed_fault::moved: return reply(redirect(301, "moved/"));
        case feed_fault::redirect308: return reply(redirect(308, "moved/"));
        case feed_fault::found: return reply(redirect(302, "temp/"));
        case feed_fault::redirect307: return reply(redirect(307, "temp/"));
        case feed_fault::loop: return reply(redirect(302, "loop/"));
        case feed_fault::slow: delay = std::max(delay, options.slow); break;
        default: break;
      }
    }
    reply(conditional(p->index, req));
  }

  server_response conditional(std::size_t i, const server_request& req) {
    auto s = current(i);
    bool gz = options.gzip && detail::accepts_gzip(req.header("accept-encoding"));
    server_response r;
    if (options.etag) r.set("ETag", gz ? s->etag_gzip : s->etag);
    if (options.last_modified) r.set("Last-Modified", s->last_modified);
    if (options.max_age) r.set("Cache-Control", "max-age=" + std::to_string(*options.max_age));
    if (options.gzip) r.set("Vary", "Accept-Encoding");
    if (!hub_url.empty()) r.set("Link", "<" + hub_url + ">; rel=\"hub\", <" + selfs[i] + ">; rel=\"self\"");
    std::string_view inm = options.etag ? req.header("if-none-match") : std::string_view();
    bool fresh = false;
    if (!inm.empty()) {
      fresh = detail::none_match(inm, s->etag, s->etag_gzip);
    } else if (std::string_view ims = options.last_modified ? req.header("if-modified-since") : std::string_view();
               !ims.empty()) {
      // HTTP dates have one-second resolution: a version made later in the same second as
      // the one a client has is missed by If-Modified-Since (If-None-Match is exact).
      if (auto t = formats::parse_date(ims)) fresh = s->modified_ms / 1000 <= t->unix_ms / 1000;
    }
    if (fresh) {
      r.status = 304;
      return r;
    }
    r.status = 200;
    const auto& body = body_of(i, *s);
    r.set("Content-Type", std::string(detail::content_type(s->body_format)));
    if (gz) {
      r.set("Content-Encoding", "gzip");
      r.body = gzip_of(i, *s);
      gzip_answers.fetch_add(1, std::memory_order_relaxed);
    } else {
      r.body = *body;
    }
    return r;
  }

  void handle(server_request&& req, responder answer) {
    std::string_view path = req.path();
    if (path.starts_with("/feeds/")) return feed_request(req, std::move(answer));
    other_requests.fetch_add(1, std::memory_order_relaxed);
    answer.send(other(req));
  }

  server_response other(const server_request& req) {
    std::string_view path = req.path();
    bool get = req.method == "GET" || req.method == "HEAD";
    if (path == "/feeds.csv" && get) {
      std::string columns = detail::form_value(req.query(), "columns").value_or("id,url,channel");
      std::string error;
      std::string body = csv(columns, &error);
      if (!error.empty()) return server_response::error(400, error);
      return server_response(200, std::move(body), "text/csv; charset=utf-8");
    }
    if (path == "/stats" && get) return server_response::json(200, stats().to_json());
    if (path == "/stats/reset" && req.method == "POST") {
      reset_stats();
      return server_response(204);
    }
    if (path == "/hub") {
      if (!hub || options.hub != "self") return server_response::error(404, "no built-in hub (--hub self)");
      return hub->handle(req);
    }
    if (path == "/hub/subscriptions" && get) {
      if (!hub || options.hub != "self") return server_response::error(404, "no built-in hub (--hub self)");
      return server_response::json(200, hub->subscriptions_json());
    }
    if (path.starts_with("/items/") && get)
      return server_response(200, "<!doctype html><title>item</title><p>A synthetic item of syndic feeds.</p>\n",
                             "text/html; charset=utf-8");
    if (path == "/" && get)
      return server_response(200,
                             "syndic feeds: " + std::to_string(entries.size()) +
                                 " feeds under /feeds/, listed at /feeds.csv; counts at /stats\n",
                             "text/plain; charset=utf-8");
    return server_response::error(404, "not found: feeds are listed at /feeds.csv");
  }

  std::string csv(std::string_view columns, std::string* error) const {
    static constexpr std::string_view known[] = {"id", "url", "channel", "format", "fault", "shape", "listener"};
    std::vector<std::string_view> cols;
    for (std::string_view rest = columns; !rest.empty();) {
      auto comma = rest.find(',');
      std::string_view c = formats::detail::trim(rest.substr(0, comma));
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      if (std::find(std::begin(known), std::end(known), c) == std::end(known)) {
        if (error) *error = "columns: unknown column '" + std::string(c) + "' (known: id, url, channel, format, fault, shape, listener)";
        return {};
      }
      cols.push_back(c);
    }
    std::string out;
    for (std::size_t c = 0; c < cols.size(); ++c) out += (c ? "," : "") + std::string(cols[c]);
    out += '\n';
    for (const auto& e : entries) {
      for (std::size_t c = 0; c < cols.size(); ++c) {
        if (c) out += ',';
        std::string_view col = cols[c];
        if (col == "id") out += e.id;
        else if (col == "url") out += e.url;
        else if (col == "channel") out += e.channel;
        else if (col == "format") out += detail::extension(e.format);
        else if (col == "fault") out += to_string(e.fault);
        else if (col == "shape") out += e.fault == feed_fault::hostile ? to_string(e.shape) : "";
        else if (col == "listener") out += listeners[e.index % listeners.size()]->address;
      }
      out += '\n';
    }
    return out;
  }

  feeds_stats stats() const {
    feeds_stats s;
    s.requests = requests.load();
    s.other_requests = other_requests.load();
    s.not_modified = not_modified.load();
    s.gzip = gzip_answers.load();
    s.bytes = bytes.load();
    s.items = made.load();
    for (std::size_t i = 0; i < statuses.size(); ++i)
      if (auto n = statuses[i].load()) s.statuses[static_cast<int>(i)] = n;
    for (const auto& l : listeners) {
      feeds_listener_stats ls;
      ls.address = l->address;
      ls.requests = l->requests.load();
      ls.max_in_flight = l->max_in_flight.load();
      auto gap = l->min_gap_ns.load();
      ls.min_gap_us = gap == std::numeric_limits<std::int64_t>::max() ? -1 : gap / 1000;
      s.listeners.push_back(std::move(ls));
    }
    if (hub) {
      auto c = hub->counters();
      s.hub_pings = c.pings;
      s.hub_ping_failures = c.ping_failures;
      s.hub_deliveries = c.deliveries;
      s.hub_bad_signatures = c.bad_signatures;
      s.hub_delivery_failures = c.delivery_failures;
    }
    return s;
  }

  void reset_stats() {
    for (auto* a : {&requests, &other_requests, &not_modified, &gzip_answers, &bytes}) a->store(0);
    for (auto& st : statuses) st.store(0);
    for (auto& l : listeners) {
      l->requests.store(0);
      l->max_in_flight.store(l->in_flight.load());
      l->last_arrival_ns.store(-1);
      l->min_gap_ns.store(std::numeric_limits<std::int64_t>::max());
    }
  }

  // ---- start ----

  void start() {
    if (options.listen.empty()) throw std::runtime_error("feeds: no listen address");
    engine::http::server_options so;
    for (const auto& a : options.listen) so.listen.push_back({a.host, a.port});
    so.max_connections = std::numeric_limits<std::size_t>::max();  // a load test opens what it needs
    so.header_timeout = so.body_timeout = so.write_timeout = std::chrono::milliseconds(0);
    so.idle_timeout = std::chrono::milliseconds(0);
    so.max_body_bytes = 64 * 1024;  // hub requests only
    server = std::make_unique<engine::http::server>(
        std::vector<asio::io_context*>{&io}, std::move(so),
        [this](server_request&& r, responder a) { handle(std::move(r), std::move(a)); });
    try {
      server->start();
    } catch (const std::exception& e) {
      server.reset();
      throw std::runtime_error(std::string("feeds: ") + e.what());
    }
    auto ports = server->ports();
    std::set<std::uint16_t> distinct(ports.begin(), ports.end());
    if (distinct.size() != ports.size()) {
      server->stop(std::chrono::milliseconds(0));
      server.reset();
      throw std::runtime_error("feeds: listeners need distinct ports (the stats are kept per port)");
    }
    for (std::size_t i = 0; i < ports.size(); ++i) {
      auto l = std::make_unique<listener>();
      const std::string& host = options.listen[i].host;
      std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
      l->address = h + ":" + std::to_string(ports[i]);
      l->base_url = "http://" + l->address;
      l->port = ports[i];
      base_urls.push_back(l->base_url);
      listeners.push_back(std::move(l));
    }
    start_ms = wall_ms();
    start_steady = steady::now();
    char buf[20];
    std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(start_ms));
    epoch = buf;
    for (std::size_t i = 0; i < plan.size(); ++i) {
      entries.push_back(plan.entry(i, base_urls));
      const feed_entry& e = entries.back();
      bool moved = e.fault == feed_fault::moved || e.fault == feed_fault::redirect308;
      selfs.push_back(moved ? base_urls[i % base_urls.size()] + "/feeds/moved/" + std::to_string(i) + "." +
                                  std::string(detail::extension(e.format))
                            : e.url);
    }
    if (options.hub == "self") hub_url = base_urls.front() + "/hub";
    else hub_url = options.hub;
    slots = std::make_unique<slot[]>(plan.size());
    for (std::size_t i = 0; i < plan.size(); ++i) slots[i].current = next_version(i, nullptr, {}, start_ms);
    if (!hub_url.empty()) {
      detail::feeds_hub_options ho;
      if (options.hub != "self") ho.external = options.hub;
      ho.self_url = hub_url;
      ho.bad_signature_percent = options.hub_bad_signature;
      ho.max_subscriptions = options.max_subscriptions;
      hub = std::make_unique<detail::feeds_hub>(
          ho, plan.size(),
          [this](std::string_view url) -> std::optional<std::size_t> {
            auto at = url.find("/feeds/");
            if (at == std::string_view::npos) return std::nullopt;
            auto p = parse_feed_path(url.substr(at));
            if (!p || p->index >= entries.size() || p->ext != detail::extension(entries[p->index].format)) return std::nullopt;
            return p->index;
          },
          [this](std::size_t i) { return selfs[i]; },
          [this](std::size_t i) {
            detail::hub_topic t;
            t.feed = i;
            t.self = selfs[i];
            auto s = current(i);
            t.body = body_of(i, *s);
            t.content_type = std::string(detail::content_type(s->body_format));
            return t;
          });
    }
    make_items(options.initial, start_ms);
    tick();
    for (unsigned t = 0; t < std::max(1u, options.threads); ++t) threads.emplace_back([this] { io.run(); });
  }

  void stop() {
    if (threads.empty()) return;
    if (hub) hub->stop();
    server->stop(std::chrono::milliseconds(0));
    io.stop();
    for (auto& t : threads) t.join();
    threads.clear();
  }
};

feeds::feeds(feeds_options options) : impl_(std::make_shared<impl>(std::move(options))) {}
feeds::~feeds() { stop(); }
void feeds::start() { impl_->start(); }
void feeds::stop() { impl_->stop(); }
std::vector<std::uint16_t> feeds::ports() const { return impl_->server ? impl_->server->ports() : std::vector<std::uint16_t>{}; }
std::vector<feed_entry> feeds::list() const { return impl_->entries; }
std::string feeds::csv(std::string_view columns) const { return impl_->csv(columns, nullptr); }
feeds_stats feeds::stats() const { return impl_->stats(); }
void feeds::reset_stats() { impl_->reset_stats(); }
std::string feeds::subscriptions_json() const { return impl_->hub ? impl_->hub->subscriptions_json() : "{\"subscriptions\":[]}"; }

}  // namespace syndic::testkit
