#include "http/h1_transport.hpp"

#include "http/response_parser.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <deque>

#include <sys/socket.h>

namespace syndic::engine::http {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using clock = std::chrono::steady_clock;

struct h1_transport::operation {
  request req;
  completion done;
  std::string head;  // request line and headers, CRLF CRLF included
  response resp;
  clock::time_point start;
  bool retried_fresh = false;
};

struct h1_transport::connection {
  connection(asio::io_context& io, origin* o) : socket(io), home(o) {}
  tcp::socket socket;
  origin* home;  // origins live as long as the transport
  op_ptr op;     // the request in flight, if any
  response_parser parser;
  std::array<char, 4096> buffer;
  clock::time_point deadline = clock::time_point::max();
  clock::time_point idle_since;
  std::size_t active_index = SIZE_MAX;  // position in active_, SIZE_MAX when not there
  bool reused = false;     // kept alive from an earlier request
  bool timed_out = false;  // closed by the sweep
};

struct h1_transport::origin {
  std::string host, port, authority, host_header;
  std::vector<tcp::endpoint> endpoints;
  bool literal = false;  // an IP address: nothing to resolve
  bool resolving = false;
  clock::time_point resolved_at;
  std::vector<conn_ptr> idle;
  std::deque<op_ptr> waiting_for_connection;  // over the per-host cap
  std::deque<op_ptr> waiting_for_dns;
  long open = 0;  // connections open or opening
};

namespace {

// "http://host[:port]/path?query" -> parts. False for anything else.
bool split_url(const std::string& url, std::string& host, std::string& port, std::string& target) {
  if (!url.starts_with("http://")) return false;
  std::size_t start = 7;
  std::size_t slash = url.find_first_of("/?#", start);
  std::string_view authority = std::string_view(url).substr(start, slash == std::string::npos ? std::string::npos : slash - start);
  if (slash == std::string::npos) target = "/";
  else if (url[slash] == '/') target = url.substr(slash, url.find('#', slash) - slash);
  else if (url[slash] == '?') target = "/" + url.substr(slash, url.find('#', slash) - slash);
  else target = "/";
  if (authority.empty() || authority.find('@') != std::string_view::npos) return false;
  if (authority.front() == '[') {  // [v6]:port
    auto close = authority.find(']');
    if (close == std::string_view::npos) return false;
    host = authority.substr(1, close - 1);
    if (close + 1 == authority.size()) port = "80";
    else if (authority[close + 1] == ':') port = authority.substr(close + 2);
    else return false;
  } else {
    auto colon = authority.rfind(':');
    host = authority.substr(0, colon);
    port = colon == std::string_view::npos ? "80" : authority.substr(colon + 1);
  }
  if (host.empty() || port.empty() || port.size() > 5) return false;
  for (char c : port)
    if (c < '0' || c > '9') return false;
  return std::stoul(port) <= 65535;
}

CURLcode to_curl(const boost::system::error_code& ec) {
  if (ec == asio::error::connection_refused || ec == asio::error::host_unreachable ||
      ec == asio::error::network_unreachable || ec == asio::error::timed_out)
    return CURLE_COULDNT_CONNECT;
  if (ec == asio::error::host_not_found || ec == asio::error::host_not_found_try_again)
    return CURLE_COULDNT_RESOLVE_HOST;
  if (ec == asio::error::eof || ec == asio::error::connection_reset || ec == asio::error::broken_pipe)
    return CURLE_GOT_NOTHING;
  return CURLE_RECV_ERROR;
}

// Whether an idle kept-alive connection may still carry a request. Servers close idle
// connections after their keep-alive timeout (5 s for Node, 75 s for nginx); one that has
// sat for a second gets a non-blocking peek: end of stream or unasked-for bytes mean no.
// (A close that races with our request is still caught: see retry_on_fresh_connection.)
bool still_open(tcp::socket& s, clock::time_point idle_since, clock::time_point now) {
  if (now - idle_since < std::chrono::seconds(1)) return true;
  char byte;
  ssize_t n = ::recv(s.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

bool header_is_safe(const std::string& h) {
  return h.find_first_of("\r\n") == std::string::npos && h.find(':') != std::string::npos;
}

}  // namespace

h1_transport::h1_transport(asio::io_context& io, h1_options options)
    : io_(io), options_(options), resolver_(io), sweep_timer_(io), idle_timer_(io) {}

h1_transport::~h1_transport() {
  *alive_ = false;
  boost::system::error_code ignored;
  for (auto& [key, o] : origins_)
    for (auto& c : o->idle) c->socket.close(ignored);
  for (connection* c : active_) c->socket.close(ignored);
}

std::size_t h1_transport::open_connections() const {
  std::size_t n = 0;
  for (const auto& [key, o] : origins_) n += static_cast<std::size_t>(o->open);
  return n;
}

h1_transport::origin& h1_transport::origin_for(const std::string& host, const std::string& port) {
  std::string authority = host + ":" + port;
  auto& slot = origins_[authority];
  if (!slot) {
    slot = std::make_unique<origin>();
    slot->host = host;
    slot->port = port;
    slot->authority = authority;
    bool v6 = host.find(':') != std::string::npos;
    std::string bracketed = v6 ? "[" + host + "]" : host;
    slot->host_header = port == "80" ? bracketed : bracketed + ":" + port;
    boost::system::error_code ec;
    auto address = asio::ip::make_address(host, ec);
    if (!ec) {
      slot->literal = true;
      slot->endpoints.emplace_back(address, static_cast<std::uint16_t>(std::stoul(port)));
    }
  }
  return *slot;
}

void h1_transport::post(request r, completion done) {
  auto op = std::make_unique<operation>();
  op->done = std::move(done);
  op->start = clock::now();
  std::string host, port, target;
  if (!split_url(r.url, host, port, target)) {
    op->req = std::move(r);
    asio::post(io_, [this, alive = std::weak_ptr<bool>(alive_), op = std::move(op)]() mutable {
      if (auto a = alive.lock(); a && *a) finish(std::move(op), CURLE_URL_MALFORMAT, "not an http:// URL");
    });
    return;
  }
  origin& o = origin_for(host, port);
  // The head is built once; the body is the shared payload, written next to it.
  std::size_t body_size = r.body ? r.body->size() : 0;
  std::string& h = op->head;
  h.reserve(160 + target.size() + 64 * r.headers.size());
  h += "POST ";
  h += target;
  h += " HTTP/1.1\r\nHost: ";
  h += o.host_header;
  h += "\r\nUser-Agent: syndic/0.1\r\n";
  for (const auto& line : r.headers) {
    if (!header_is_safe(line)) continue;  // never let a value smuggle a header or a request
    h += line;
    h += "\r\n";
  }
  h += "Content-Length: ";
  h += std::to_string(body_size);
  h += "\r\n\r\n";
  op->req = std::move(r);
  dispatch(o, std::move(op));
}

void h1_transport::dispatch(origin& o, op_ptr op) {
  auto now = clock::now();
  while (!o.idle.empty()) {
    conn_ptr c = std::move(o.idle.back());
    o.idle.pop_back();
    if (!still_open(c->socket, c->idle_since, now)) {
      drop(c);
      continue;
    }
    c->reused = true;
    begin(c, std::move(op));
    return;
  }
  if (options_.max_host_connections > 0 && o.open >= options_.max_host_connections) {
    o.waiting_for_connection.push_back(std::move(op));
    return;
  }
  open_connection(o, std::move(op));
}

void h1_transport::open_connection(origin& o, op_ptr op) {
  bool stale = !o.literal && (o.endpoints.empty() || clock::now() - o.resolved_at > options_.dns_ttl);
  if (stale) {
    o.waiting_for_dns.push_back(std::move(op));
    resolve(o);
    return;
  }
  ++o.open;
  auto c = std::make_shared<connection>(io_, &o);
  c->op = std::move(op);
  auto connect_timeout = std::min<clock::duration>(c->op->req.timeout, std::chrono::seconds(5));
  activate(c, clock::now() + connect_timeout);
  asio::async_connect(c->socket, o.endpoints,
                      [this, alive = std::weak_ptr<bool>(alive_), c](const boost::system::error_code& ec,
                                                                     const tcp::endpoint&) {
                        if (auto a = alive.lock(); !a || !*a) return;
                        if (c->timed_out) return fail(c, CURLE_OPERATION_TIMEDOUT, "connection timed out");
                        if (ec) return fail(c, CURLE_COULDNT_CONNECT, "connect to " + c->home->authority + ": " + ec.message());
                        boost::system::error_code ignored;
                        c->socket.set_option(tcp::no_delay(true), ignored);
                        c->op->resp.connections_opened = 1;
                        deactivate(*c);
                        activate(c, clock::now() + c->op->req.timeout);
                        write(c);
                      });
}

void h1_transport::resolve(origin& o) {
  if (o.resolving) return;
  o.resolving = true;
  resolver_.async_resolve(
      o.host, o.port,
      [this, alive = std::weak_ptr<bool>(alive_), &o](const boost::system::error_code& ec,
                                                      tcp::resolver::results_type results) {
        if (auto a = alive.lock(); !a || !*a) return;
        o.resolving = false;
        if (!ec && !results.empty()) {
          o.endpoints.clear();
          for (const auto& e : results) o.endpoints.push_back(e.endpoint());
          o.resolved_at = clock::now();
        } else if (!o.endpoints.empty()) {
          // Keep the old answer a while longer rather than fail every delivery to the host.
          o.resolved_at = clock::now() - options_.dns_ttl + std::chrono::seconds(30);
        }
        auto waiting = std::move(o.waiting_for_dns);
        o.waiting_for_dns.clear();
        for (auto& op : waiting) {
          if (o.endpoints.empty())
            finish(std::move(op), CURLE_COULDNT_RESOLVE_HOST, "resolve " + o.host + ": " + ec.message());
          else
            dispatch(o, std::move(op));
        }
      });
}

void h1_transport::begin(const conn_ptr& c, op_ptr op) {
  c->op = std::move(op);
  activate(c, clock::now() + c->op->req.timeout);
  write(c);
}

void h1_transport::write(const conn_ptr& c) {
  static const std::string no_body;
  const std::string& body = c->op->req.body ? *c->op->req.body : no_body;
  std::array<asio::const_buffer, 2> buffers{asio::buffer(c->op->head), asio::buffer(body)};
  asio::async_write(c->socket, buffers,
                    [this, alive = std::weak_ptr<bool>(alive_), c](const boost::system::error_code& ec, std::size_t) {
                      if (auto a = alive.lock(); !a || !*a) return;
                      if (c->timed_out) return fail(c, CURLE_OPERATION_TIMEDOUT, "timed out sending");
                      if (ec) {
                        // A kept-alive connection the server closed meanwhile: once more, fresh.
                        if (!retry_on_fresh_connection(c)) fail(c, CURLE_SEND_ERROR, "send: " + ec.message());
                        return;
                      }
                      c->parser.reset();
                      read(c);
                    });
}

void h1_transport::read(const conn_ptr& c) {
  c->socket.async_read_some(
      asio::buffer(c->buffer),
      [this, alive = std::weak_ptr<bool>(alive_), c](const boost::system::error_code& ec, std::size_t n) {
        if (auto a = alive.lock(); !a || !*a) return;
        if (c->timed_out) return fail(c, CURLE_OPERATION_TIMEDOUT, "timed out waiting for the answer");
        if (ec) {
          if (ec == asio::error::eof && c->parser.feed_eof() == response_parser::result::done)
            return complete(c, false);
          bool nothing_came = !c->parser.started();
          if (nothing_came && (ec == asio::error::eof || ec == asio::error::connection_reset) &&
              retry_on_fresh_connection(c))
            return;
          return fail(c, to_curl(ec), nothing_came ? "connection closed without an answer: " + ec.message()
                                                   : "connection closed mid-answer: " + ec.message());
        }
        std::size_t used = 0;
        switch (c->parser.feed(std::string_view(c->buffer.data(), n), used)) {
          case response_parser::result::need_more: return read(c);
          case response_parser::result::error:
            return fail(c, CURLE_WEIRD_SERVER_REPLY, "bad answer: " + c->parser.error());
          case response_parser::result::done:
            // Bytes after the answer were never asked for: do not trust the connection again.
            return complete(c, c->parser.keep_alive() && used == n);
        }
      });
}

void h1_transport::complete(const conn_ptr& c, bool keep) {
  op_ptr op = std::move(c->op);
  deactivate(*c);
  op->resp.status = c->parser.status();
  op->resp.retry_after = c->parser.retry_after();
  if (const std::string& loc = c->parser.location(); !loc.empty())
    op->resp.location = loc.starts_with("/") ? "http://" + c->home->host_header + loc : loc;
  origin& o = *c->home;
  if (keep) {
    c->timed_out = false;
    if (!o.waiting_for_connection.empty()) {
      op_ptr next = std::move(o.waiting_for_connection.front());
      o.waiting_for_connection.pop_front();
      c->reused = true;
      begin(c, std::move(next));
    } else {
      c->idle_since = clock::now();
      o.idle.push_back(c);
      arm_idle_check();
    }
  } else {
    drop(c);
  }
  finish(std::move(op), CURLE_OK);
}

void h1_transport::fail(const conn_ptr& c, CURLcode code, std::string detail) {
  op_ptr op = std::move(c->op);
  drop(c);
  if (op) finish(std::move(op), code, std::move(detail));
}

bool h1_transport::retry_on_fresh_connection(const conn_ptr& c) {
  if (!c->reused || c->op->retried_fresh) return false;
  op_ptr op = std::move(c->op);
  op->retried_fresh = true;
  origin& o = *c->home;
  close(c);  // its place goes to this request, not to one waiting for the cap
  open_connection(o, std::move(op));
  return true;
}

void h1_transport::close(const conn_ptr& c) {
  deactivate(*c);
  boost::system::error_code ignored;
  c->socket.close(ignored);
  --c->home->open;
}

void h1_transport::drop(const conn_ptr& c) {
  close(c);
  origin& o = *c->home;
  if (!o.waiting_for_connection.empty() &&
      (options_.max_host_connections <= 0 || o.open < options_.max_host_connections)) {
    op_ptr next = std::move(o.waiting_for_connection.front());
    o.waiting_for_connection.pop_front();
    open_connection(o, std::move(next));
  }
}

void h1_transport::activate(const conn_ptr& c, clock::time_point deadline) {
  c->deadline = deadline;
  if (c->active_index == SIZE_MAX) {
    c->active_index = active_.size();
    active_.push_back(c.get());
  }
  arm_sweep();
}

void h1_transport::arm_sweep() {
  if (sweep_armed_) return;
  sweep_armed_ = true;
  sweep_timer_.expires_after(options_.sweep_period);
  sweep_timer_.async_wait([this, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& ec) {
    if (auto a = alive.lock(); !a || !*a || ec) return;
    sweep_armed_ = false;
    sweep();
  });
}

void h1_transport::deactivate(connection& c) {
  if (c.active_index == SIZE_MAX) return;
  connection* last = active_.back();
  active_[c.active_index] = last;
  last->active_index = c.active_index;
  active_.pop_back();
  c.active_index = SIZE_MAX;
  c.deadline = clock::time_point::max();
}

void h1_transport::sweep() {
  auto now = clock::now();
  // Closing cancels the connection's operation; its handler reports the timeout. The
  // connection stays in active_ until then, so nothing here changes the vector's shape.
  for (connection* c : active_) {
    if (c->deadline > now || c->timed_out) continue;
    c->timed_out = true;
    boost::system::error_code ignored;
    c->socket.close(ignored);
  }
  if (!active_.empty()) arm_sweep();  // nothing to watch: the timer sleeps until activate()
}

void h1_transport::arm_idle_check() {
  if (idle_check_armed_) return;
  idle_check_armed_ = true;
  idle_timer_.expires_after(options_.idle_timeout / 2);
  idle_timer_.async_wait([this, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& ec) {
    if (auto a = alive.lock(); !a || !*a || ec) return;
    idle_check_armed_ = false;
    close_idle(clock::now());
  });
}

void h1_transport::close_idle(clock_time_point now) {
  bool any_left = false;
  for (auto& [key, o] : origins_) {
    // Oldest first: the idle list is used from its back.
    auto fresh = std::find_if(o->idle.begin(), o->idle.end(), [&](const conn_ptr& c) {
      return now - c->idle_since < options_.idle_timeout;
    });
    std::vector<conn_ptr> stale(std::make_move_iterator(o->idle.begin()), std::make_move_iterator(fresh));
    o->idle.erase(o->idle.begin(), fresh);
    for (auto& c : stale) drop(c);
    any_left = any_left || !o->idle.empty();
  }
  if (any_left) arm_idle_check();
}

void h1_transport::finish(op_ptr op, CURLcode code, std::string detail) {
  op->resp.error = code;
  if (code != CURLE_OK) {
    op->resp.status = 0;
    op->resp.error_detail = std::move(detail);
  }
  op->resp.elapsed = clock::now() - op->start;
  auto done = std::move(op->done);
  done(std::move(op->resp));
}

}  // namespace syndic::engine::http
