#include <syndic/testkit/sink.hpp>
#include <syndic/engine/signer.hpp>

#include "delivery/ids.hpp"
#include "http/server.hpp"
#include "testkit/count_items.hpp"
#include "testkit/sink_ledger.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <charconv>
#include <deque>
#include <limits>
#include <mutex>
#include <memory>
#include <random>
#include <stdexcept>
#include <thread>
#include <unordered_set>

namespace syndic::testkit {

namespace asio = boost::asio;
using engine::http::responder;
using engine::http::server_request;
using engine::http::server_response;

std::string sink_stats::to_json() const {
  std::string s = "{\"requests\":" + std::to_string(requests) + ",\"delivered\":" + std::to_string(delivered) +
                  ",\"items\":" + std::to_string(items) +
                  ",\"duplicates\":" + std::to_string(duplicates) +
                  ",\"bad_signatures\":" + std::to_string(bad_signatures) +
                  ",\"connections\":" + std::to_string(connections) +
                  (dropped ? ",\"dropped\":" + std::to_string(dropped) : std::string()) + ",\"outlets\":{";
  bool first = true;
  for (const auto& [k, v] : per_outlet) {
    if (!first) s += ',';
    first = false;
    s += '"';
    for (char c : k) {  // PORT/path: a request target may still hold a quote or a backslash
      if (c == '"' || c == '\\') s += '\\';
      if (static_cast<unsigned char>(c) >= 0x20) s += c;
    }
    s += "\":" + std::to_string(v);
  }
  s += '}';
  if (!headers.empty()) {
    s += ",\"headers\":{";
    first = true;
    for (const auto& [k, v] : headers) {
      if (!first) s += ',';
      first = false;
      s += '"' + k + "\":" + std::to_string(v);  // names from the sink's own options
    }
    s += '}';
  }
  return s + "}";
}

// The sink's own logic: what each request gets. Connections, parsing and limits are the
// engine's HTTP server's; the sink only counts, checks signatures and plays faults.
struct sink::impl {
  sink_options options;
  asio::io_context io;
  std::unique_ptr<engine::http::server> server;
  std::vector<std::thread> threads;
  std::string key;
  mutable std::mutex mutex;  // guards the counters below: the sink is a test peer, not the hot path
  sink_stats counters;
  // Delivered ids (a hash of outlet and webhook-id), the last duplicate_window of them: a
  // week-long load test must not grow without end.
  std::unordered_set<std::uint64_t> seen_ids;
  std::deque<std::uint64_t> seen_order;
  std::mt19937 rng{12345};
  // The ledger's path (sink_options::ledger): counters kept with atomics, no lock per request.
  std::unique_ptr<detail::sink_ledger> ledger;
  std::atomic<std::uint64_t> requests{0}, delivered{0}, items{0}, bad_signatures{0}, dropped{0};

  explicit impl(sink_options o) : options(std::move(o)), key(engine::webhook_key_from_secret(options.secret)) {
    if (options.ledger) ledger = std::make_unique<detail::sink_ledger>(*options.ledger);
  }

  // Each sink thread draws its own numbers: no lock for a fault's dice or a delay.
  static double roll() {
    // On the heap, not in every thread's static TLS block (see feeds_hub.cpp's challenge()).
    thread_local std::unique_ptr<std::mt19937> local;
    if (!local) local = std::make_unique<std::mt19937>(std::random_device{}());
    return std::uniform_real_distribution<double>(0, 1)(*local);
  }

  void handle_ledger(server_request&& req, responder answer) {
    requests.fetch_add(1, std::memory_order_relaxed);
    long outlet = ledger->outlet_of(req.target);
    const auto& classes = ledger->options().class_behaviour;
    const sink_behaviour& b = outlet >= 0 && !classes.empty() ? classes[std::min<std::size_t>(ledger->class_of(outlet), classes.size() - 1)]
                                                              : behaviour_for(req.local_port, req.target);
    std::string_view id = req.header("webhook-id");
    int status = b.status;
    if (!options.secret.empty() && !signature_holds(req, std::string(id))) {
      bad_signatures.fetch_add(1, std::memory_order_relaxed);
      status = 401;
    } else {
      if (b.reset || (b.reset_rate > 0 && roll() < b.reset_rate)) return answer.close(true);
      if (b.blackhole || (b.blackhole_rate > 0 && roll() < b.blackhole_rate)) return answer.ignore();
      if (b.error_rate > 0 && roll() < b.error_rate) status = b.error_status;
      if (status >= 200 && status < 300) {
        if (b.drop) {
          dropped.fetch_add(1, std::memory_order_relaxed);
          ledger->dropped(outlet);
        } else {
          delivered.fetch_add(1, std::memory_order_relaxed);
          items.fetch_add(ledger->record(outlet, req.body, id), std::memory_order_relaxed);
        }
      }
    }
    const latency_distribution& wait = status != b.status && b.error_latency ? *b.error_latency : b.latency;
    if (wait.zero()) {
      answer.send(make_answer(status, b));
      return;
    }
    auto delay = std::make_shared<asio::steady_timer>(io, wait.at(roll()));
    delay->async_wait([delay, answer, r = make_answer(status, b)](const boost::system::error_code&) mutable {
      answer.send(std::move(r));
    });
  }

  const sink_behaviour& behaviour_for(std::uint16_t port, std::string_view path) const {
    std::string p = std::to_string(port);
    if (auto it = options.rules.find(p + std::string(path)); it != options.rules.end()) return it->second;
    if (auto it = options.rules.find(p); it != options.rules.end()) return it->second;
    return options.default_behaviour;
  }

  // On a connection's strand (a sink thread).
  void handle(server_request&& req, responder answer) {
    if (req.method == "GET" && req.target == "/_stats") {
      answer.send(server_response::json(200, stats().to_json()));
      return;
    }
    if (ledger) return handle_ledger(std::move(req), std::move(answer));
    const sink_behaviour& b = behaviour_for(req.local_port, req.target);
    int status = record(req.local_port, req.target, req, b);
    if (b.reset || status == reset_now) return answer.close(true);
    if (b.blackhole || status == blackhole_now) return answer.ignore();  // read on, never answer, until the client gives up
    const latency_distribution& wait = status != b.status && b.error_latency ? *b.error_latency : b.latency;
    if (wait.zero()) {
      answer.send(make_answer(status, b));
      return;
    }
    auto delay = std::make_shared<asio::steady_timer>(io, sample_latency(wait));
    delay->async_wait([delay, answer, r = make_answer(status, b)](const boost::system::error_code&) mutable {
      answer.send(std::move(r));
    });
  }

  static server_response make_answer(int status, const sink_behaviour& b) {
    server_response r(status);
    if ((status == 429 || status == 503) && b.retry_after_seconds)
      r.set("Retry-After", std::to_string(*b.retry_after_seconds));
    if (status >= 300 && status < 400 && !b.location.empty()) r.set("Location", b.location);
    return r;
  }

  // record()'s answers for a request that rolled a blackhole_rate or reset_rate.
  static constexpr int reset_now = -1, blackhole_now = -2;

  // Counts the request and decides the status it gets.
  int record(std::uint16_t port, const std::string& path, const server_request& r, const sink_behaviour& b) {
    std::uint64_t items = detail::count_items(r.body);  // outside the lock: it parses
    std::lock_guard lock(mutex);
    ++counters.requests;
    std::string outlet = std::to_string(port) + path;
    auto counted = counters.per_outlet.find(outlet);
    if (counted == counters.per_outlet.end()) {
      if (counters.per_outlet.size() < options.max_outlets_counted) counted = counters.per_outlet.emplace(outlet, 0).first;
      else counted = counters.per_outlet.try_emplace("(other)", 0).first;  // paths are the client's to choose
    }
    std::uint64_t nth = ++counted->second;
    for (const auto& h : options.count_headers)
      if (r.has_header(h)) ++counters.headers[h];
    std::string id(r.header("webhook-id"));
    if (!options.secret.empty() && !signature_holds(r, id)) {
      ++counters.bad_signatures;
      return 401;
    }
    if (b.reset_rate > 0 && std::uniform_real_distribution<double>(0, 1)(rng) < b.reset_rate) return reset_now;
    if (b.blackhole_rate > 0 && std::uniform_real_distribution<double>(0, 1)(rng) < b.blackhole_rate) return blackhole_now;
    int status = b.status;
    if (nth <= b.fail_first) status = b.error_status;
    else if (b.error_rate > 0 && std::uniform_real_distribution<double>(0, 1)(rng) < b.error_rate)
      status = b.error_status;
    if (status >= 200 && status < 300 && b.drop) {
      ++counters.dropped;  // answered as delivered, recorded as nothing: simulated loss
    } else if (status >= 200 && status < 300) {
      ++counters.delivered;
      counters.items += items;
      if (!id.empty()) remember(engine::detail::fnv1a(outlet, id));
    }
    return status;
  }

  // Signatures, when the sink has a secret. Standard Webhooks: the signature over id,
  // timestamp and body, and a timestamp within the tolerance (a replayed delivery carries an
  // old one). WebSub (X-Hub-Signature, or a Link rel="hub" header without one): sha256= HMAC
  // of the body with the secret as is. Requests of neither kind are not signed by syndic.
  bool signature_holds(const server_request& r, const std::string& id) const {
    if (!id.empty()) {
      std::string_view tsv = r.header("webhook-timestamp");
      std::int64_t ts = 0;
      auto [end, ec] = std::from_chars(tsv.data(), tsv.data() + tsv.size(), ts);
      if (ec != std::errc{} || end != tsv.data() + tsv.size()) return false;
      if (options.timestamp_tolerance.count() > 0) {
        std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch()).count();
        std::int64_t off = now > ts ? now - ts : ts - now;
        if (ts < 0 || off > options.timestamp_tolerance.count()) return false;
      }
      return engine::verify_webhook_signature(key, id, ts, r.body, r.header("webhook-signature"));
    }
    std::string_view hub = r.header("X-Hub-Signature");
    bool websub = !hub.empty() || r.header("Link").find("rel=\"hub\"") != std::string_view::npos;
    if (websub) return engine::verify_websub_signature(options.secret, r.body, hub);
    return true;
  }

  // Counts a duplicate when `h` is among the last duplicate_window delivered ids.
  void remember(std::uint64_t h) {
    if (!seen_ids.insert(h).second) {
      ++counters.duplicates;
      return;
    }
    seen_order.push_back(h);
    if (seen_order.size() > std::max<std::size_t>(1, options.duplicate_window)) {
      seen_ids.erase(seen_order.front());
      seen_order.pop_front();
    }
  }

  std::chrono::milliseconds sample_latency(const latency_distribution& d) {
    std::lock_guard lock(mutex);
    return d.at(std::uniform_real_distribution<double>(0, 1)(rng));
  }

  sink_stats stats() const {
    sink_stats out;
    {
      std::lock_guard lock(mutex);
      out = counters;
    }
    if (server) out.connections = server->stats().accepted;
    if (ledger) {
      auto l = ledger->snapshot(0);
      out.requests += requests.load();
      out.delivered += delivered.load();
      out.items += items.load();
      out.bad_signatures += bad_signatures.load();
      out.dropped += dropped.load();
      out.duplicates += l.duplicates;
    }
    return out;
  }
};

sink::sink(sink_options options) : impl_(std::make_unique<impl>(std::move(options))) {}

sink::~sink() { stop(); }

void sink::start() {
  auto& o = impl_->options;
  engine::http::server_options so;
  std::uint16_t last = o.last_port ? o.last_port : o.first_port;
  for (std::uint32_t port = o.first_port; port <= last; ++port)
    so.listen.push_back({o.host, static_cast<std::uint16_t>(port)});
  // A test peer keeps what it had before the server was shared: no header, body or write
  // deadlines and no connection cap (a load test opens what it needs); the idle timeout and
  // the requests per connection are the sink's options.
  so.header_timeout = so.body_timeout = so.write_timeout = std::chrono::milliseconds(0);
  so.idle_timeout = o.idle_timeout;
  so.max_connections = std::numeric_limits<std::size_t>::max();
  so.max_requests_per_connection = o.max_requests_per_connection;
  impl_->server = std::make_unique<engine::http::server>(
      std::vector<asio::io_context*>{&impl_->io}, std::move(so),
      [i = impl_.get()](server_request&& r, responder a) { i->handle(std::move(r), std::move(a)); });
  try {
    impl_->server->start();
  } catch (const std::exception& e) {
    impl_->server.reset();
    throw std::runtime_error(std::string("sink: ") + e.what());
  }
  for (unsigned i = 0; i < std::max(1u, o.threads); ++i)
    impl_->threads.emplace_back([this] { impl_->io.run(); });
}

void sink::stop() {
  if (impl_->threads.empty()) return;
  // Connections close now (answers waiting on a latency timer are dropped, as before);
  // then the threads end.
  impl_->server->stop(std::chrono::milliseconds(0));
  impl_->io.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
}

std::vector<std::uint16_t> sink::ports() const {
  return impl_->server ? impl_->server->ports() : std::vector<std::uint16_t>{};
}

sink_stats sink::stats() const { return impl_->stats(); }

sink_ledger_snapshot sink::ledger(std::size_t max_missing, std::size_t items_in_range) const {
  return impl_->ledger ? impl_->ledger->snapshot(max_missing, items_in_range) : sink_ledger_snapshot{};
}

}  // namespace syndic::testkit
