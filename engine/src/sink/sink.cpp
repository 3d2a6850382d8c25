#include <syndic/engine/sink.hpp>
#include <syndic/engine/signer.hpp>

#include "delivery/ids.hpp"
#include "sink/count_items.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <charconv>
#include <mutex>
#include <random>
#include <deque>
#include <unordered_set>
#include <stdexcept>
#include <thread>

namespace syndic::engine {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::string sink_stats::to_json() const {
  std::string s = "{\"requests\":" + std::to_string(requests) + ",\"delivered\":" + std::to_string(delivered) +
                  ",\"items\":" + std::to_string(items) +
                  ",\"duplicates\":" + std::to_string(duplicates) +
                  ",\"bad_signatures\":" + std::to_string(bad_signatures) +
                  ",\"connections\":" + std::to_string(connections) + ",\"outlets\":{";
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

struct sink::impl {
  sink_options options;
  asio::io_context io;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  std::vector<std::thread> threads;
  std::string key;
  mutable std::mutex mutex;  // guards the counters below: the sink is a test peer, not the hot path
  sink_stats counters;
  // Delivered ids (a hash of outlet and webhook-id), the last duplicate_window of them: a
  // week-long load test must not grow without end.
  std::unordered_set<std::uint64_t> seen_ids;
  std::deque<std::uint64_t> seen_order;
  std::mt19937 rng{12345};

  explicit impl(sink_options o) : options(std::move(o)), key(webhook_key_from_secret(options.secret)) {}

  const sink_behaviour& behaviour_for(std::uint16_t port, std::string_view path) const {
    std::string p = std::to_string(port);
    if (auto it = options.rules.find(p + std::string(path)); it != options.rules.end()) return it->second;
    if (auto it = options.rules.find(p); it != options.rules.end()) return it->second;
    return options.default_behaviour;
  }

  void accept(tcp::acceptor& a) {
    a.async_accept(asio::make_strand(io), [this, &a](beast::error_code ec, tcp::socket s) {
      if (ec) return;  // stopped
      {
        std::lock_guard lock(mutex);
        ++counters.connections;
      }
      std::make_shared<session>(*this, std::move(s), a.local_endpoint().port())->run();
      accept(a);
    });
  }

  struct session : std::enable_shared_from_this<session> {
    impl& owner;
    beast::tcp_stream stream;
    std::uint16_t port;
    beast::flat_buffer buffer;
    http::request<http::string_body> req;
    http::response<http::string_body> res;
    asio::steady_timer delay;
    std::uint32_t answered = 0;

    session(impl& o, tcp::socket s, std::uint16_t p)
        : owner(o), stream(std::move(s)), port(p), delay(stream.get_executor()) {}

    void run() { read(); }

    void read() {
      req = {};
      if (owner.options.idle_timeout.count() > 0) stream.expires_after(owner.options.idle_timeout);
      else stream.expires_never();
      http::async_read(stream, buffer, req, [self = shared_from_this()](beast::error_code ec, std::size_t) {
        if (!ec) return self->handle();
        // A request that is not HTTP gets told so (and the connection ends); a close, a reset
        // or the idle timeout just end it.
        if (ec.category() == http::make_error_code(http::error::bad_target).category() &&
            ec != http::error::end_of_stream && ec != http::error::partial_message)
          self->refuse(ec);
      });
    }

    void refuse(const beast::error_code& ec) {
      res = {};
      res.version(11);
      bool too_big = ec == http::error::body_limit || ec == http::error::header_limit;
      res.result(too_big ? http::status::payload_too_large : http::status::bad_request);
      res.set(http::field::content_type, "text/plain");
      res.body() = "syndic sink: " + std::string(too_big ? "request too large" : "malformed request") +
                   ": " + ec.message() + "\n";
      res.keep_alive(false);
      res.prepare_payload();
      stream.expires_after(std::chrono::seconds(5));
      write();
    }

    void handle() {
      stream.expires_never();  // the idle timeout is over: a request came
      std::string path(req.target());
      if (req.method() == http::verb::get && path == "/_stats") {
        respond(200, owner.stats().to_json(), "application/json");
        return;
      }
      const sink_behaviour& b = owner.behaviour_for(port, path);
      int status = owner.record(port, path, req, b);
      if (b.reset) {
        beast::error_code ec;
        stream.socket().set_option(asio::socket_base::linger(true, 0), ec);
        stream.socket().close(ec);
        return;
      }
      if (b.blackhole) {
        // Keep reading so the connection stays open and unanswered until the client gives up.
        stream.async_read_some(buffer.prepare(4096), [self = shared_from_this()](beast::error_code, std::size_t) {});
        return;
      }
      const latency_distribution& wait = status != b.status && b.error_latency ? *b.error_latency : b.latency;
      if (!wait.zero()) {
        delay.expires_after(owner.sample_latency(wait));
        delay.async_wait([self = shared_from_this(), status, b](beast::error_code) { self->answer(status, b); });
      } else {
        answer(status, b);
      }
    }

    void answer(int status, const sink_behaviour& b) {
      res = {};
      res.version(req.version());
      res.result(static_cast<unsigned>(status));
      if ((status == 429 || status == 503) && b.retry_after_seconds)
        res.set(http::field::retry_after, std::to_string(*b.retry_after_seconds));
      if (status >= 300 && status < 400 && !b.location.empty()) res.set(http::field::location, b.location);
      res.keep_alive(req.keep_alive() && !last_on_connection());
      res.prepare_payload();
      write();
    }

    bool last_on_connection() {
      std::uint32_t limit = owner.options.max_requests_per_connection;
      return limit > 0 && ++answered >= limit;
    }

    void respond(int status, std::string body, const char* type) {
      res = {};
      res.version(req.version());
      res.result(static_cast<unsigned>(status));
      res.set(http::field::content_type, type);
      res.body() = std::move(body);
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      write();
    }

    void write() {
      http::async_write(stream, res, [self = shared_from_this()](beast::error_code ec, std::size_t) {
        if (ec || !self->res.keep_alive()) {
          beast::error_code ignored;
          self->stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
          return;
        }
        self->read();
      });
    }
  };

  // Counts the request and decides the status it gets.
  int record(std::uint16_t port, const std::string& path, const http::request<http::string_body>& r,
             const sink_behaviour& b) {
    std::uint64_t items = detail::count_items(r.body());  // outside the lock: it parses
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
      if (r.find(h) != r.end()) ++counters.headers[h];
    std::string id(r["webhook-id"]);
    if (!options.secret.empty() && !signature_holds(r, id)) {
      ++counters.bad_signatures;
      return 401;
    }
    int status = b.status;
    if (nth <= b.fail_first) status = b.error_status;
    else if (b.error_rate > 0 && std::uniform_real_distribution<double>(0, 1)(rng) < b.error_rate)
      status = b.error_status;
    if (status >= 200 && status < 300) {
      ++counters.delivered;
      counters.items += items;
      if (!id.empty()) remember(detail::fnv1a(outlet, id));
    }
    return status;
  }

  // Signatures, when the sink has a secret. Standard Webhooks: the signature over id,
  // timestamp and body, and a timestamp within the tolerance (a replayed delivery carries an
  // old one). WebSub (X-Hub-Signature, or a Link rel="hub" header without one): sha256= HMAC
  // of the body with the secret as is. Requests of neither kind are not signed by syndic.
  template <class Request>
  bool signature_holds(const Request& r, const std::string& id) const {
    if (!id.empty()) {
      std::string_view tsv = r["webhook-timestamp"];
      std::int64_t ts = 0;
      auto [end, ec] = std::from_chars(tsv.data(), tsv.data() + tsv.size(), ts);
      if (ec != std::errc{} || end != tsv.data() + tsv.size()) return false;
      if (options.timestamp_tolerance.count() > 0) {
        std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch()).count();
        std::int64_t off = now > ts ? now - ts : ts - now;
        if (ts < 0 || off > options.timestamp_tolerance.count()) return false;
      }
      return verify_webhook_signature(key, id, ts, r.body(), r["webhook-signature"]);
    }
    std::string_view hub = r["X-Hub-Signature"];
    bool websub = !hub.empty() || r["Link"].find("rel=\"hub\"") != std::string_view::npos;
    if (websub) return verify_websub_signature(options.secret, r.body(), hub);
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
    std::lock_guard lock(mutex);
    return counters;
  }
};

sink::sink(sink_options options) : impl_(std::make_unique<impl>(std::move(options))) {}

sink::~sink() { stop(); }

void sink::start() {
  auto& o = impl_->options;
  std::uint16_t last = o.last_port ? o.last_port : o.first_port;
  auto address = asio::ip::make_address(o.host);
  for (std::uint32_t port = o.first_port; port <= last; ++port) {
    auto a = std::make_unique<tcp::acceptor>(impl_->io);
    beast::error_code ec;
    tcp::endpoint ep(address, static_cast<std::uint16_t>(port));
    a->open(ep.protocol(), ec);
    if (!ec) a->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) a->bind(ep, ec);
    if (!ec) a->listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
      throw std::runtime_error("sink: cannot listen on " + o.host + ":" + std::to_string(port) + ": " +
                               ec.message());
    impl_->accept(*a);
    impl_->acceptors.push_back(std::move(a));
  }
  for (unsigned i = 0; i < std::max(1u, o.threads); ++i)
    impl_->threads.emplace_back([this] { impl_->io.run(); });
}

void sink::stop() {
  if (impl_->threads.empty()) return;
  impl_->io.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
}

std::vector<std::uint16_t> sink::ports() const {
  std::vector<std::uint16_t> out;
  for (const auto& a : impl_->acceptors) out.push_back(a->local_endpoint().port());
  return out;
}

sink_stats sink::stats() const { return impl_->stats(); }

}  // namespace syndic::engine
