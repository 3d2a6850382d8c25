// The HTTP/1.1 server (server.hpp): listeners, connections and their bounds, on Beast.
//
// A connection is a chain of one operation at a time on its strand:
//   [waiting: first byte, idle_timeout] -> reading: head (header_timeout), body (body_timeout)
//   -> handling (the handler has a responder; no timeout: stop() bounds it) -> writing
//   (write_timeout) -> back to waiting, or lingering -> closed.
// Only one request is read at a time, so pipelined requests wait in `buffer_` and are
// answered in order. Answers are written by hand (one head string and the body, one gather
// write), not with Beast's serializer: the head is small and this keeps header checks in
// one place.
//
// Closing after an answer: the write side is shut down and the connection reads and drops
// what the client still sends for up to 2 s (64 KiB at most) before closing. Closing at once
// with unread bytes would make the kernel send a reset, which may destroy the answer (a 413
// to a client still sending its body) before the client reads it.
//
// Every completion first checks that the connection was not closed meanwhile (stop() or the
// responder may close it while a completion is already queued): a closed connection never
// calls the handler again.
//
// Ownership: the connection owns itself (shared_ptr held by its pending operation and by
// responders). It shares the server's `state` (options, handler, registry of open
// connections), never the `server` object, so the server may be destroyed while completions
// are still queued.

#include "http/server.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>

#include <array>
#include <atomic>
#include <condition_variable>
#include <list>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <utility>

#include <unistd.h>

namespace syndic::engine::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace detail {
struct connection;
}
using detail::connection;

namespace {

constexpr std::chrono::milliseconds linger_time{2000};
constexpr std::size_t linger_bytes = 64 * 1024;
constexpr std::size_t read_chunk = 4096;

bool iequals(std::string_view a, std::string_view b) { return beast::iequals(a, b); }

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (c >= '0' && c <= '9') continue;
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') continue;
    if (std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos) continue;
    return false;
  }
  return true;
}

bool is_safe_value(std::string_view s) {
  for (char c : s)
    if (c == '\r' || c == '\n' || c == '\0') return false;
  return true;
}

}  // namespace

struct server::state : std::enable_shared_from_this<server::state> {
  // Owned by the state while running; from stop() on only by its own context's handlers, so
  // that it is destroyed there, whichever context goes first (the state itself may die in
  // any context, and holds no I/O object once stopped).
  struct listener {
    explicit listener(asio::io_context& io) : acceptor(io), retry(io) {}
    tcp::acceptor acceptor;
    asio::steady_timer retry;  // after an accept error such as EMFILE, wait before the next
    std::uint16_t port = 0;
    tcp protocol = tcp::v4();
  };

  state(std::vector<asio::io_context*> c, server_options o, handler h)
      : contexts(std::move(c)), options(std::move(o)), on_request(std::move(h)) {}

  std::vector<asio::io_context*> contexts;
  server_options options;
  handler on_request;
  std::atomic<std::size_t> next_context{0};
  std::vector<std::shared_ptr<listener>> listeners;  // start() and stop() only
  std::vector<std::uint16_t> ports;                  // set by start(), before any accept

  mutable std::mutex mutex;  // guards open, started, stopping
  std::condition_variable all_closed;
  std::list<std::weak_ptr<connection>> open;
  bool started = false;
  bool stopping = false;

  std::atomic<std::uint64_t> accepted{0}, refused{0}, requests{0}, rejected{0}, timeouts{0};

  asio::io_context& pick_context() { return *contexts[next_context++ % contexts.size()]; }
  // The accept chain of one listener; each handler holds the state (the server may be gone).
  static void accept(std::shared_ptr<state> self, std::shared_ptr<listener> l);
  void adopt(tcp::socket socket, const listener& l);
  std::vector<std::shared_ptr<connection>> snapshot() const;  // takes the mutex
};

namespace detail {

struct responder_state {
  explicit responder_state(std::shared_ptr<connection> c) : conn(std::move(c)) {}
  ~responder_state();
  static responder make(std::shared_ptr<responder_state> s) { return responder(std::move(s)); }
  bool claim() { return !used.exchange(true); }
  std::shared_ptr<connection> conn;
  std::atomic<bool> used{false};
};

}  // namespace detail

namespace detail {

struct connection : std::enable_shared_from_this<connection> {
  enum class phase : std::uint8_t { waiting, reading, handling, writing, ignoring, lingering, closed };

  connection(std::shared_ptr<server::state> s, tcp::socket socket, std::uint16_t port)
      : s_(std::move(s)), stream_(std::move(socket)), local_port_(port) {
    beast::error_code ec;
    auto peer = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_ = peer.address().to_string();
    stream_.socket().set_option(tcp::no_delay(true), ec);
  }

  std::shared_ptr<server::state> s_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::list<std::weak_ptr<connection>>::iterator registered_;  // valid while in s_->open
  bool is_registered_ = false;                               // guarded by s_->mutex
  std::atomic<bool> closed_{false};  // read by responders on other threads
  phase phase_ = phase::reading;
  bool first_ = true;
  bool stop_requested_ = false;  // answer with Connection: close, then close
  bool fatal_ = false;           // the request was refused: close after the answer
  std::uint16_t local_port_ = 0;
  std::string remote_;
  server_request request_;  // the head, then the whole request, until given to the handler
  bool head_request_ = false;
  bool keep_alive_ = true;
  unsigned version_ = 11;
  std::uint32_t answered_ = 0;
  std::string out_head_;
  std::string out_body_;
  std::size_t lingered_ = 0;

  const server_options& options() const { return s_->options; }
  asio::any_io_executor executor() { return stream_.get_executor(); }

  void expire(std::chrono::milliseconds d) {
    if (d.count() > 0) stream_.expires_after(d);
    else stream_.expires_never();
  }

  void start() {
    if (closed_) return;
    read_next();
  }

  // --- reading ---------------------------------------------------------------------------

  void read_next() {
    if (stop_requested_) return close_now(false);
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(options().max_header_bytes, UINT32_MAX)));
    parser_->body_limit(boost::none);  // checked in on_header, where the route is known
    if (buffer_.size() == 0 && !first_) {
      phase_ = phase::waiting;
      expire(options().idle_timeout);
      stream_.async_read_some(buffer_.prepare(read_chunk),
                              [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                                if (self->phase_ == phase::closed) return;
                                if (ec) return self->on_read_error(ec);
                                self->buffer_.commit(n);
                                self->read_header();
                              });
      return;
    }
    read_header();
  }

  void read_header() {
    first_ = false;
    phase_ = phase::reading;
    expire(options().header_timeout);
    bhttp::async_read_header(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (self->phase_ == phase::closed) return;
      self->on_header(ec);
    });
  }

  void on_header(beast::error_code ec) {
    if (ec) return on_read_error(ec);
    auto& m = parser_->get();
    request_ = {};
    request_.method = std::string(m.method_string());
    request_.target = std::string(m.target());
    request_.version = m.version();
    version_ = m.version();
    request_.keep_alive = m.keep_alive();
    request_.local_port = local_port_;
    request_.remote_address = remote_;
    request_.headers.reserve(16);
    for (const auto& f : m) request_.headers.push_back({std::string(f.name_string()), std::string(f.value())});
    head_request_ = m.method() == bhttp::verb::head;
    keep_alive_ = m.keep_alive();

    // Beast reads a request whose Transfer-Encoding does not end in chunked as bodiless; its
    // body would then be read as the next request (smuggling past a proxy). RFC 9112 6.3: 400.
    if (m.find(bhttp::field::transfer_encoding) != m.end() && !parser_->chunked())
      return refuse(400, "malformed request: Transfer-Encoding must end with chunked");
    std::size_t limit = options().max_body_bytes;
    if (options().body_limit) {
      try {
        limit = options().body_limit(request_);
      } catch (...) {
        return refuse(500, "internal error");
      }
    }
    if (auto length = parser_->content_length(); length && *length > limit)
      return refuse(413, "request body too large: the limit is " + std::to_string(limit) + " bytes");
    parser_->body_limit(static_cast<std::uint64_t>(limit));
    if (parser_->is_done()) return dispatch();
    if (m.version() >= 11 && iequals(m[bhttp::field::expect], "100-continue")) {
      // curl and others wait (1 s) for this before sending a body.
      static constexpr std::string_view go_on = "HTTP/1.1 100 Continue\r\n\r\n";
      expire(options().write_timeout);
      asio::async_write(stream_, asio::buffer(go_on.data(), go_on.size()),
                        [self = shared_from_this()](beast::error_code ec, std::size_t) {
                          if (self->phase_ == phase::closed) return;
                          if (ec) return self->close_now(false);
                          self->read_body();
                        });
      return;
    }
    read_body();
  }

  void read_body() {
    expire(options().body_timeout);
    bhttp::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (self->phase_ == phase::closed) return;
      if (ec) return self->on_read_error(ec);
      self->request_.body = std::move(self->parser_->get().body());
      self->dispatch();
    });
  }

  void on_read_error(beast::error_code ec) {
    if (ec == beast::error::timeout) {
      ++s_->timeouts;
      return close_now(false);
    }
    if (ec.category() == bhttp::make_error_code(bhttp::error::end_of_stream).category()) {
      if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message) return close_now(false);
      if (ec == bhttp::error::header_limit) return refuse(431, "request header too large");
      if (ec == bhttp::error::body_limit) return refuse(413, "request body too large");
      if (ec == bhttp::error::buffer_overflow) return refuse(413, "request too large");
      return refuse(400, "malformed request: " + ec.message());
    }
    close_now(false);  // reset, closed, aborted by stop
  }

  // The server's own 4xx/5xx: answered, then the connection closes.
  void refuse(int status, const std::string& message) {
    ++s_->rejected;
    fatal_ = true;
    keep_alive_ = false;
    head_request_ = false;
    phase_ = phase::handling;
    deliver(server_response::error(status, message));
  }

  // --- handling --------------------------------------------------------------------------

  void dispatch() {
    phase_ = phase::handling;
    stream_.expires_never();
    parser_.reset();
    ++s_->requests;
    auto answer = detail::responder_state::make(std::make_shared<detail::responder_state>(shared_from_this()));
    try {
      s_->on_request(std::move(request_), answer);
    } catch (...) {
      answer.send(server_response::error(500, "internal error"));
    }
    // Nothing after this: the answer may already be on its way (deliver ran inline).
  }

  // --- writing ---------------------------------------------------------------------------

  void deliver(server_response r) {
    if (phase_ != phase::handling) return;  // closed meanwhile (stop, timeout)
    std::uint32_t limit = options().max_requests_per_connection;
    bool close = r.close || fatal_ || !keep_alive_ || stop_requested_ || (limit > 0 && ++answered_ >= limit);
    int status = r.status >= 100 && r.status <= 599 ? r.status : 500;
    bool bodiless = status < 200 || status == 204 || status == 304;
    out_head_.clear();
    out_head_ += "HTTP/1.1 ";
    out_head_ += std::to_string(status);
    out_head_ += ' ';
    out_head_ += bhttp::obsolete_reason(static_cast<bhttp::status>(status));
    out_head_ += "\r\n";
    for (const auto& f : r.headers) {
      if (!is_token(f.name) || !is_safe_value(f.value) || iequals(f.name, "content-length") ||
          iequals(f.name, "transfer-encoding") || iequals(f.name, "connection"))
        continue;
      out_head_ += f.name;
      out_head_ += ": ";
      out_head_ += f.value;
      out_head_ += "\r\n";
    }
    if (!bodiless) {
      out_head_ += "Content-Length: ";
      out_head_ += std::to_string(r.body.size());
      out_head_ += "\r\n";
    }
    if (close) out_head_ += "Connection: close\r\n";
    else if (version_ == 10) out_head_ += "Connection: keep-alive\r\n";
    out_head_ += "\r\n";
    out_body_ = bodiless || head_request_ ? std::string() : std::move(r.body);

    phase_ = phase::writing;
    expire(options().write_timeout);
    std::array<asio::const_buffer, 2> buffers{asio::buffer(out_head_), asio::buffer(out_body_)};
    asio::async_write(stream_, buffers, [self = shared_from_this(), close](beast::error_code ec, std::size_t) {
      if (self->phase_ == phase::closed) return;
      if (ec) {
        if (ec == beast::error::timeout) ++self->s_->timeouts;
        return self->close_now(false);
      }
      self->out_body_.clear();
      self->out_body_.shrink_to_fit();  // an idle connection keeps no answer
      if (close) return self->linger();
      self->read_next();
    });
  }

  // --- closing ---------------------------------------------------------------------------

  void linger() {
    phase_ = phase::lingering;
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return close_now(false);
    lingered_ = 0;
    buffer_.clear();
    stream_.expires_after(linger_time);
    drain();
  }

  // Reads and drops bytes: while lingering (bounded) or ignoring (until the peer gives up).
  void drain() {
    stream_.async_read_some(buffer_.prepare(read_chunk), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
      if (self->phase_ == phase::closed) return;
      if (ec) return self->close_now(false);
      self->lingered_ += n;
      if (self->phase_ == phase::lingering && self->lingered_ >= linger_bytes) return self->close_now(false);
      self->drain();
    });
  }

  void ignore() {
    if (phase_ != phase::handling) return;
    if (stop_requested_) return close_now(false);
    phase_ = phase::ignoring;
    buffer_.clear();
    expire(options().idle_timeout);
    drain();
  }

  void abandon(bool abort) {
    if (phase_ != phase::handling) return;
    close_now(abort);
  }

  void close_now(bool abort) {
    if (phase_ == phase::closed) return;
    phase_ = phase::closed;
    closed_ = true;
    beast::error_code ec;
    if (abort) stream_.socket().set_option(asio::socket_base::linger(true, 0), ec);
    stream_.close();
    parser_.reset();
    std::lock_guard lock(s_->mutex);
    if (is_registered_) {
      s_->open.erase(registered_);
      is_registered_ = false;
      if (s_->open.empty()) s_->all_closed.notify_all();
    }
  }

  // stop(): idle connections close now; the others finish their request first.
  void on_stop() {
    stop_requested_ = true;
    bool idle = phase_ == phase::waiting || phase_ == phase::ignoring ||
                (phase_ == phase::reading && buffer_.size() == 0 && parser_ && !parser_->is_header_done());
    if (idle) close_now(false);
  }
};

}  // namespace detail

namespace detail {

responder_state::~responder_state() {
  if (used || conn->closed_) return;
  asio::dispatch(conn->executor(), [c = conn] { c->deliver(server_response::error(500, "the request was not answered")); });
}

}  // namespace detail

bool responder::send(server_response r) const {
  if (!state_ || !state_->claim()) return false;
  auto c = state_->conn;
  if (c->closed_) return true;
  asio::dispatch(c->executor(), [c, r = std::move(r)]() mutable { c->deliver(std::move(r)); });
  return true;
}

void responder::close(bool abort) const {
  if (!state_ || !state_->claim()) return;
  auto c = state_->conn;
  if (c->closed_) return;
  asio::dispatch(c->executor(), [c, abort] { c->abandon(abort); });
}

void responder::ignore() const {
  if (!state_ || !state_->claim()) return;
  auto c = state_->conn;
  if (c->closed_) return;
  asio::dispatch(c->executor(), [c] { c->ignore(); });
}

// --- listeners ----------------------------------------------------------------------------

void server::state::accept(std::shared_ptr<state> self, std::shared_ptr<listener> l) {
  // Accepted onto the listener's own context: a pending accept never holds an object of
  // another context (destroyed first, it would leave this one a dangling socket). With one
  // context, straight onto a strand of it.
  auto on_accept = [self, l](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !l->acceptor.is_open()) return;
    if (ec) {
      // Out of descriptors (or another passing error): try again shortly rather than spin.
      l->retry.expires_after(std::chrono::milliseconds(100));
      l->retry.async_wait([self, l](beast::error_code e) {
        if (!e && l->acceptor.is_open()) accept(self, l);
      });
      return;
    }
    self->adopt(std::move(socket), *l);
    accept(self, l);
  };
  if (self->contexts.size() == 1) l->acceptor.async_accept(asio::make_strand(*self->contexts.front()), std::move(on_accept));
  else l->acceptor.async_accept(std::move(on_accept));
}

// On the listener's context: moves the socket to the next context (round robin), on a strand
// of its own, registers the connection (or refuses it) and starts it.
void server::state::adopt(tcp::socket accepted_socket, const listener& l) {
  ++accepted;
  beast::error_code ec;
  std::shared_ptr<connection> c;
  if (contexts.size() == 1) {
    c = std::make_shared<connection>(shared_from_this(), std::move(accepted_socket), l.port);
  } else {
    int fd = accepted_socket.release(ec);  // leaves this context's reactor
    if (ec) return;                        // the socket closes itself
    tcp::socket socket(asio::make_strand(pick_context()));
    socket.assign(l.protocol, fd, ec);
    if (ec) {
      ::close(fd);
      return;
    }
    c = std::make_shared<connection>(shared_from_this(), std::move(socket), l.port);
  }
  bool refuse = false;
  {
    std::lock_guard lock(mutex);
    if (stopping) {
      c->phase_ = connection::phase::closed;
      c->stream_.close();
      return;
    }
    refuse = open.size() >= options.max_connections;
    if (!refuse) {
      c->registered_ = open.insert(open.end(), c);
      c->is_registered_ = true;
    }
  }
  if (refuse) {
    ++refused;
    static constexpr std::string_view body = R"({"error":"too many connections"})";
    static const std::string answer = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                                      "Content-Length: " + std::to_string(body.size()) +
                                      "\r\nConnection: close\r\n\r\n" + std::string(body);
    // Best effort, without waiting: a socket just accepted has room for this.
    auto& s = c->stream_.socket();
    s.non_blocking(true, ec);
    s.write_some(asio::buffer(answer), ec);
    s.shutdown(tcp::socket::shutdown_send, ec);
    c->phase_ = connection::phase::closed;
    c->stream_.close();
    return;
  }
  asio::dispatch(c->executor(), [c] { c->start(); });
}

std::vector<std::shared_ptr<connection>> server::state::snapshot() const {
  std::vector<std::shared_ptr<connection>> out;
  std::lock_guard lock(mutex);
  out.reserve(open.size());
  for (const auto& w : open)
    if (auto c = w.lock()) out.push_back(std::move(c));
  return out;
}

// --- server -------------------------------------------------------------------------------

server::server(std::vector<asio::io_context*> contexts, server_options options, handler h) {
  if (contexts.empty() || !h) throw std::invalid_argument("http::server needs an io_context and a handler");
  state_ = std::make_shared<state>(std::move(contexts), std::move(options), std::move(h));
}

server::~server() { stop(std::chrono::milliseconds(0)); }

void server::start() {
  auto& s = *state_;
  {
    std::lock_guard lock(s.mutex);
    if (s.started) return;
  }
  std::vector<std::shared_ptr<state::listener>> listeners;
  std::vector<std::uint16_t> ports;
  for (std::size_t i = 0; i < s.options.listen.size(); ++i) {
    const auto& where = s.options.listen[i];
    auto l = std::make_shared<state::listener>(*s.contexts[i % s.contexts.size()]);
    beast::error_code ec;
    auto address = asio::ip::make_address(where.host, ec);
    tcp::endpoint ep(address, where.port);
    if (!ec) l->acceptor.open(ep.protocol(), ec);
    if (!ec) l->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) l->acceptor.bind(ep, ec);
    if (!ec) l->acceptor.listen(s.options.backlog, ec);
    if (!ec) l->port = l->acceptor.local_endpoint(ec).port();
    l->protocol = ep.protocol();
    if (ec)
      throw std::runtime_error("cannot listen on " + where.host + ":" + std::to_string(where.port) + ": " +
                               ec.message());
    ports.push_back(l->port);
    listeners.push_back(std::move(l));
  }
  {
    std::lock_guard lock(s.mutex);
    s.started = true;
  }
  s.ports = std::move(ports);
  s.listeners = std::move(listeners);
  for (auto& l : s.listeners) state::accept(state_, l);
}

std::vector<std::uint16_t> server::ports() const {
  return state_->ports;
}

void server::stop(std::chrono::milliseconds grace) {
  auto s = state_;
  {
    std::lock_guard lock(s->mutex);
    if (!s->started || s->stopping) return;
    s->stopping = true;
  }
  for (auto& l : std::exchange(s->listeners, {}))
    asio::post(l->acceptor.get_executor(), [l] {
      beast::error_code ec;
      l->acceptor.close(ec);
      l->retry.cancel();
    });
  for (auto& c : s->snapshot()) asio::post(c->executor(), [c] { c->on_stop(); });

  auto force = [s] {
    for (auto& c : s->snapshot()) asio::post(c->executor(), [c] { c->close_now(false); });
  };
  bool on_own_thread = false;
  for (auto* io : s->contexts) on_own_thread = on_own_thread || io->get_executor().running_in_this_thread();
  if (on_own_thread) {
    // Waiting here would block a thread the connections need: a timer finishes the stop.
    auto timer = std::make_shared<asio::steady_timer>(*s->contexts.front(), grace);
    timer->async_wait([timer, force](beast::error_code) { force(); });
    return;
  }
  std::unique_lock lock(s->mutex);
  if (!s->all_closed.wait_for(lock, grace, [&] { return s->open.empty(); })) {
    lock.unlock();
    force();
    lock.lock();
    s->all_closed.wait_for(lock, std::chrono::seconds(2), [&] { return s->open.empty(); });
  }
}

server_stats server::stats() const {
  server_stats out;
  out.accepted = state_->accepted;
  out.refused = state_->refused;
  out.requests = state_->requests;
  out.rejected = state_->rejected;
  out.timeouts = state_->timeouts;
  std::lock_guard lock(state_->mutex);
  out.open = state_->open.size();
  return out;
}

}  // namespace syndic::engine::http
