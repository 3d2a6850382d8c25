#include "http/h1_transport.hpp"

#include "http/content_coding.hpp"
#include "http/lazy_deque.hpp"
#include "http/response_parser.hpp"
#include "http/tls_client.hpp"

#include <syndic/formats/base64.hpp>

#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>

#include <netdb.h>
#include <sys/socket.h>

namespace syndic::engine::http {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using clock = std::chrono::steady_clock;

// What a request needs after post(): not the request itself, nor a response (one is made
// when the answer is complete): a recycled operation then has nothing to reset but these.
struct h1_transport::operation {
  completion done;
  std::string head;  // request line and headers, CRLF CRLF included
  std::shared_ptr<const std::string> body;  // POST: sent after the head (unless inside it)
  std::size_t max_response_body = 0;        // request::max_response_body
  clock::time_point start;
  clock::time_point deadline;  // the attempt's one deadline: start + request::timeout
  http::method method = method::post;
  bool keep_headers = false;     // request::keep_headers
  bool decode_content = false;   // request::decode_content
  bool retried_fresh = false;
  bool opened_connection = false;  // response::connections_opened
  // A fetch: anything but a delivery's POST (the parser keeps more, the response gets more).
  bool fetch() const { return method != method::post || max_response_body > 0 || keep_headers; }
};

struct h1_transport::connection {
  connection(asio::io_context& io, origin* o) : socket(io), home(o) {}
  tcp::socket socket;
  // https: the TLS stream over `socket` (declared after it, so destroyed before it).
  std::unique_ptr<asio::ssl::stream<tcp::socket&>> tls;
  origin* home;        // an origin lives while it has connections (origins are pruned when unused)
  op_ptr op;           // the request in flight, if any
  response_parser parser;
  // https: where TLS reads land (made at the first one). Plain http reads into the
  // transport's one buffer instead: a buffer per connection was 4 KiB of each connection's
  // 4.7, a page of memory touched per outlet, and a cold one at every answer.
  std::unique_ptr<std::array<char, 4096>> tls_buffer;
  clock::time_point deadline = clock::time_point::max();
  clock::time_point idle_since;
  std::size_t active_index = SIZE_MAX;  // position in active_, SIZE_MAX when not there
  std::vector<tcp::endpoint> addresses;  // tried in turn while connecting
  std::size_t next_address = 0;
  std::string last_error;                // of the last address tried
  connection* idle_prev = nullptr;  // neighbours in the transport's idle list, while idle
  connection* idle_next = nullptr;
  bool idle = false;
  bool budgeted = false;   // holds one unit of the connection budget
  bool reused = false;     // kept alive from an earlier request
  bool timed_out = false;  // closed by the sweep
  bool session_saved = false;  // its TLS session is the origin's to resume
  // Made idle by the answer whose completion is still running (complete() -> finish() ->
  // done): nothing can have been read from the socket since that answer, so a reuse from
  // inside that call needs no peek (see take_idle).
  bool idle_this_turn = false;
};

struct h1_transport::origin {
  std::string host, port_text, authority, host_header;
  std::string head_host;  // what follows the target in a request's head: " HTTP/1.1", Host, User-Agent
  std::uint16_t port = 0;
  bool tls = false;     // https
  tls_session session;  // https: the last resumable session, offered to new connections
  std::vector<tcp::endpoint> endpoints;
  bool literal = false;  // an IP address: nothing to resolve
  bool resolving = false;
  clock::time_point resolved_at;
  clock::time_point last_used;
  std::vector<conn_ptr> idle;
  lazy_deque<op_ptr> waiting_for_connection;  // over the per-host cap
  lazy_deque<op_ptr> waiting_for_dns;         // only when there is no answer at all yet
  long open = 0;  // connections open or opening
};

// How a resolver thread reaches the shard: the io_context, while the transport lives. The
// destructor clears it under the mutex, so a lookup that ends later posts nowhere.
struct h1_transport::resolve_link {
  std::mutex mutex;
  asio::io_context* io = nullptr;
};

namespace {

transport_error to_error(const boost::system::error_code& ec) {
  if (ec == asio::error::connection_refused || ec == asio::error::host_unreachable ||
      ec == asio::error::network_unreachable || ec == asio::error::timed_out)
    return transport_error::connect;
  if (ec == asio::error::host_not_found || ec == asio::error::host_not_found_try_again)
    return transport_error::dns;
  return transport_error::reset;  // end of stream, reset, broken pipe, any other receive error
}

// Our side, not the outlet's: no descriptor, no buffer memory.
bool local_shortage(const boost::system::error_code& ec) {
  return ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space ||
         ec == asio::error::no_memory ||
         (ec.category() == boost::system::system_category() && ec.value() == ENFILE);
}

// Whether an idle kept-alive connection may still carry a request: a non-blocking peek on
// every reuse. End of stream means the server closed it; bytes mean it sent something we
// never asked for (a second answer to the last request, say), which must never be read as
// the answer to the next request. (A close that races with our request is still caught: see
// retry_on_fresh_connection.)
bool still_open(tcp::socket& s) {
  char byte;
  ssize_t n = ::recv(s.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

bool is_control(unsigned char c) { return (c < 0x20 && c != '\t') || c == 0x7f; }

// Whether safe_header_line would change `line`: 8 bytes at a time (a byte at a time was 1,100
// instructions per request). The classic "has less than" / "has zero byte" word tests say
// whether a word holds a byte under 0x20 or equal to 0x7f, with no misses; only then (a
// control byte, or an HTAB, which passes) are the bytes looked at one by one. The last bytes
// are read as a word that overlaps the one before (a byte loop there was half of the cost:
// header names and values are short); under 8 bytes, as two overlapping half words.
bool needs_encoding(std::string_view line) {
  constexpr std::uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
  auto suspect = [](std::uint64_t x) {
    std::uint64_t y = x ^ (ones * 0x7f);
    return ((((x - ones * 0x20) & ~x) | ((y - ones) & ~y)) & highs) != 0;
  };
  const char* p = line.data();
  std::size_t n = line.size();
  bool any = false;
  if (n >= 8) {
    std::uint64_t x;
    for (std::size_t i = 0; i + 8 <= n; i += 8) {
      std::memcpy(&x, p + i, 8);
      any |= suspect(x);
    }
    std::memcpy(&x, p + n - 8, 8);
    any |= suspect(x);
  } else if (n >= 4) {
    std::uint32_t lo, hi;
    std::memcpy(&lo, p, 4);
    std::memcpy(&hi, p + n - 4, 4);
    any = suspect(lo | std::uint64_t{hi} << 32);
  } else {
    for (std::size_t i = 0; i < n; ++i) any |= is_control(static_cast<unsigned char>(p[i]));
    return any;
  }
  if (!any) return false;
  for (char c : line)
    if (is_control(static_cast<unsigned char>(c))) return true;
  return false;
}

// Appends one header line as safe_header_line writes it (control characters other than HTAB
// percent-encoded), without a string of its own when there is nothing to encode (always, but
// for a hostile feed URL in a Link header).
void append_header_line(std::string& out, std::string_view line) {
  if (needs_encoding(line)) out += safe_header_line(line);
  else out += line;
}

// Copies `piece` to `at` and moves past it (the head is written into a buffer sized for it).
[[gnu::always_inline]] inline void put(char*& at, std::string_view piece) {
  if (piece.empty()) return;  // no call for the pieces most requests lack (and no null source)
  std::memcpy(at, piece.data(), piece.size());
  at += piece.size();
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    int hi = 0, lo = 0;
    if (s[i] == '%' && i + 2 < s.size() + 0 && (hi = hex_value(s[i + 1])) >= 0 && (lo = hex_value(s[i + 2])) >= 0) {
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Lookups block in getaddrinfo: they run on a few threads of their own, shared by every
// transport, so that one slow name holds up neither the shard nor the other names. The pool
// is never destroyed: a thread stuck in a lookup must not hold up the process's exit.
asio::thread_pool& resolver_pool() {
  static asio::thread_pool* pool = new asio::thread_pool(8);
  return *pool;
}

std::vector<tcp::endpoint> system_resolve(const std::string& host, std::uint16_t port, std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  addrinfo* res = nullptr;
  std::string service = std::to_string(port);
  int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &res);
  std::vector<tcp::endpoint> out;
  if (rc != 0) {
    error = ::gai_strerror(rc);
    return out;
  }
  for (addrinfo* a = res; a; a = a->ai_next) {
    tcp::endpoint e;
    if (a->ai_addrlen > e.capacity()) continue;
    std::memcpy(e.data(), a->ai_addr, a->ai_addrlen);
    e.resize(a->ai_addrlen);
    if (std::find(out.begin(), out.end(), e) == out.end()) out.push_back(e);
  }
  ::freeaddrinfo(res);
  if (out.empty()) error = "no address";
  return out;
}

}  // namespace

h1_transport::h1_transport(asio::io_context& io, h1_options options)
    : io_(io), options_(std::move(options)), sweep_timer_(io), idle_timer_(io) {
  budget_ = options_.budget ? options_.budget : std::make_shared<connection_budget>(connection_budget::per_shard(1));
  if (options_.max_idle == 0) options_.max_idle = budget_->idle_cap();
  if (!options_.resolve) options_.resolve = system_resolve;
  reclaimer_ = budget_->add_reclaimer([this] { return close_oldest_idle(); });
  link_ = std::make_shared<resolve_link>();
  link_->io = &io_;
}

h1_transport::~h1_transport() {
  {
    std::lock_guard lock(link_->mutex);
    link_->io = nullptr;
  }
  *alive_ = false;
  budget_->remove_reclaimer(reclaimer_);
  boost::system::error_code ignored;
  for (auto& [key, o] : origins_)
    for (auto& c : o->idle) {
      c->socket.close(ignored);
      if (c->budgeted) budget_->release();
    }
  for (connection* c : active_) {
    c->socket.close(ignored);
    if (c->budgeted) budget_->release();
  }
}

std::size_t h1_transport::open_connections() const {
  std::size_t n = 0;
  for (const auto& [key, o] : origins_) n += static_cast<std::size_t>(o->open);
  return n;
}

std::size_t h1_transport::origin_key_hash::operator()(const origin_key_view& k) const noexcept {
  std::uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a: host names are short
  for (unsigned char c : k.host) h = (h ^ c) * 0x100000001b3ull;
  return static_cast<std::size_t>((h ^ (std::uint64_t{k.port} << 1 | k.tls)) * 0x100000001b3ull);
}

h1_transport::origin& h1_transport::origin_for(const parsed_url& u, bool tls, clock_time_point now) {
  auto it = origins_.find(origin_key_view{u.host, u.port, tls});
  if (it == origins_.end()) {
    auto slot = std::make_unique<origin>();
    slot->tls = tls;
    slot->host = u.host;
    slot->port = u.port;
    slot->port_text = std::to_string(u.port);
    slot->authority = u.host + ":" + slot->port_text;
    bool v6 = u.host.find(':') != std::string::npos;
    std::string bracketed = v6 ? "[" + u.host + "]" : u.host;
    slot->host_header = u.port == (tls ? 443 : 80) ? bracketed : bracketed + ":" + slot->port_text;
    slot->head_host = " HTTP/1.1\r\nHost: " + slot->host_header + "\r\nUser-Agent: syndic/0.1\r\n";
    boost::system::error_code ec;
    auto address = asio::ip::make_address(u.host, ec);
    if (!ec) {
      slot->literal = true;
      slot->endpoints.emplace_back(address, u.port);
    }
    it = origins_.emplace(origin_key{u.host, u.port, tls}, std::move(slot)).first;
  }
  it->second->last_used = now;
  return *it->second;
}

h1_transport::op_ptr h1_transport::new_operation() {
  if (spare_ops_.empty()) return std::make_unique<operation>();
  op_ptr op = std::move(spare_ops_.back());
  spare_ops_.pop_back();
  return op;
}

void header_block::add(std::string_view name, std::string_view value) {
  if (needs_encoding(name) || needs_encoding(value)) {
    text_ += safe_header_line(name);
    text_ += ": ";
    text_ += safe_header_line(value);
    text_ += "\r\n";
    return;
  }
  // Nothing to encode (always, but for a hostile value): one resize, then copies.
  std::size_t at = text_.size();
  text_.resize(at + name.size() + value.size() + 4);
  char* p = text_.data() + at;
  if (!name.empty()) std::memcpy(p, name.data(), name.size());
  p += name.size();
  std::memcpy(p, ": ", 2);
  if (!value.empty()) std::memcpy(p + 2, value.data(), value.size());
  std::memcpy(p + 2 + value.size(), "\r\n", 2);
}

void header_block::add(std::string_view name, std::int64_t value) {
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  add(name, std::string_view(digits, static_cast<std::size_t>(end - digits)));
}

void header_block::split_into(std::vector<std::string>& lines) const {
  std::string_view rest = text_;
  while (!rest.empty()) {
    std::size_t end = rest.find("\r\n");
    lines.emplace_back(rest.substr(0, end));
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 2);
  }
}

void h1_transport::post(request r, completion done) { start(r, {}, std::move(done), nullptr); }

void h1_transport::post(const request& r, const header_block& headers, completion done, origin_hint* hint) {
  start(r, headers.text(), std::move(done), hint);
}

void h1_transport::start(const request& r, std::string_view block, completion&& done, origin_hint* hint) {
  op_ptr op = new_operation();
  op->done = std::move(done);
  op->start = now();
  op->deadline = op->start + r.timeout;
  op->method = r.method;
  op->max_response_body = r.max_response_body;
  op->keep_headers = r.keep_headers;
  op->decode_content = r.decode_content;
  // The URL was parsed when the outlet was added; only a URL without its parts (a redirect
  // target, a request made by hand) is parsed here, by the same rules.
  const parsed_url* endpoint = r.endpoint.get();
  std::optional<parsed_url> parsed;
  std::string error;
  if (!endpoint) {
    parsed = parse_outlet_url(r.url, error);
    if (parsed) endpoint = &*parsed;
  }
  using namespace std::string_view_literals;
  bool https = endpoint && std::string_view(endpoint->scheme) == "https"sv;
  if (https && !tls_) tls_ = std::make_unique<tls_client>(options_.verify_tls, options_.ca_file);
  if (https && !tls_->error().empty()) {
    error = tls_->error();
    endpoint = nullptr;
  }
  if (!endpoint || (!https && std::string_view(endpoint->scheme) != "http"sv)) {
    if (error.empty()) error = "not an http:// or https:// URL";
    asio::post(io_, [this, alive = std::weak_ptr<bool>(alive_), op = std::move(op), error]() mutable {
      if (auto a = alive.lock(); a && *a) finish(std::move(op), transport_error::other, error);
    });
    return;
  }
  origin* hinted = nullptr;
  if (hint && hint->epoch == origins_epoch_) {  // no origin pruned since: the pointer is live
    auto* h = static_cast<origin*>(const_cast<void*>(hint->origin));
    if (h->port == endpoint->port && h->tls == https && h->host == endpoint->host) hinted = h;
  }
  if (hinted) hinted->last_used = op->start;
  origin& o = hinted ? *hinted : origin_for(*endpoint, https, op->start);
  if (hint) *hint = origin_hint{&o, origins_epoch_};
  // The head is built once, written piece by piece into a buffer sized for it (string
  // appends were 600 instructions a request); the body is the shared payload, sent next to it.
  bool is_post = r.method == method::post;
  if (is_post) op->body = r.body;  // GET and HEAD send none
  std::size_t body_size = op->body ? op->body->size() : 0;
  std::string_view verb = is_post ? "POST "sv : r.method == method::get ? "GET "sv : "HEAD "sv;
  std::string authorization;
  if (!endpoint->userinfo.empty())
    authorization = "Authorization: Basic " + formats::base64_encode(percent_decode(endpoint->userinfo)) + "\r\n";
  std::string listed;  // r.headers, made safe (requests made by hand; the shard sends a block)
  for (const auto& line : r.headers) {
    append_header_line(listed, line);  // a value can never end its line or start another
    listed += "\r\n";
  }
  std::string accept;
  if (r.decode_content) accept = "Accept-Encoding: " + std::string(accepted_codings) + "\r\n";
  char digits[24];
  std::string_view length;
  if (is_post)
    length = std::string_view(digits, static_cast<std::size_t>(std::to_chars(digits, digits + sizeof digits, body_size).ptr - digits));
  constexpr std::string_view content_length = "Content-Length: "sv, crlf = "\r\n"sv;
  // TLS writes each buffer of a gather write as records of its own: a small body goes in the
  // head's buffer, so that one request is one record and one send. (Plain http copies it
  // into one buffer shared by all its connections when it sends: see write().)
  std::string_view inline_body;
  if (o.tls && op->body && body_size <= max_inline_body) inline_body = *op->body;
  std::size_t size = verb.size() + endpoint->target.size() + o.head_host.size() + authorization.size() + listed.size() +
                     block.size() + accept.size() + (is_post ? content_length.size() + length.size() + 2 : 0) + 2 +
                     inline_body.size();
  std::string& h = op->head;
  h.resize(size);
  char* at = h.data();
  put(at, verb);
  put(at, endpoint->target);
  put(at, o.head_host);  // " HTTP/1.1\r\nHost: ...\r\nUser-Agent: ...\r\n"
  put(at, authorization);
  put(at, listed);
  put(at, block);  // whole, safe lines (header_block)
  put(at, accept);
  if (is_post) {
    put(at, content_length);
    put(at, length);
    put(at, crlf);
  }
  put(at, crlf);
  if (!inline_body.empty()) {
    put(at, inline_body);
    op->body = nullptr;
  }
  dispatch(o, std::move(op));
}

void h1_transport::dispatch(origin& o, op_ptr op) {
  arm_idle_check();  // also prunes origins no longer used
  if (conn_ptr c = take_idle(o)) {
    c->reused = true;
    begin(c, std::move(op));
    return;
  }
  if (options_.max_host_connections > 0 && o.open >= options_.max_host_connections) {
    o.waiting_for_connection.push_back(std::move(op));
    ++waiting_;
    arm_sweep();  // the wait counts against the request's deadline
    return;
  }
  open_connection(o, std::move(op));
}

h1_transport::conn_ptr h1_transport::take_idle(origin& o) {
  while (!o.idle.empty()) {
    conn_ptr c = std::move(o.idle.back());
    o.idle.pop_back();
    forget_idle(*c);
    // The peek is for bytes that came while the connection sat idle. One made idle by the
    // answer being completed right now (the shard sends an outlet's next item from inside that
    // answer's completion) has sat for no event-loop turn: whatever came after that answer is
    // already in the same read (a second answer there closes it, see read()) or arrives
    // unseen by a peek as much as by a read. Skipping it saves one recvfrom per request.
    if ((!c->idle_this_turn && !still_open(c->socket)) ||
        (c->tls && tls_client::has_buffered_input(c->tls->native_handle()))) {
      drop(c);
      continue;
    }
    return c;
  }
  return nullptr;
}

void h1_transport::open_connection(origin& o, op_ptr op) {
  auto now = clock::now();
  if (!o.literal) {
    bool stale = o.endpoints.empty() || now - o.resolved_at > options_.dns_ttl;
    if (stale) resolve(o);  // in the background when there is an answer to go on with
    if (o.endpoints.empty()) {
      o.waiting_for_dns.push_back(std::move(op));
      ++waiting_;
      arm_sweep();
      return;
    }
  }
  if (!budget_->acquire()) {
    // Every unit is in use and no idle connection was left to close: back-pressure.
    return finish(std::move(op), transport_error::local,
                  "no connection left in this shard's descriptor budget (" +
                      std::to_string(budget_->limit()) + ")",
                  true);
  }
  ++o.open;
  auto c = std::make_shared<connection>(io_, &o);
  c->budgeted = true;
  c->op = std::move(op);
  c->addresses = o.endpoints;
  connect_next(c);
}

void h1_transport::connect_next(const conn_ptr& c) {
  auto now = clock::now();
  if (c->next_address >= c->addresses.size() || now >= c->op->deadline) {
    if (now >= c->op->deadline) return fail(c, transport_error::timeout, "connect to " + c->home->authority + ": timed out");
    return fail(c, transport_error::connect, "connect to " + c->home->authority + ": " + c->last_error);
  }
  const tcp::endpoint& ep = c->addresses[c->next_address];
  std::size_t left = c->addresses.size() - c->next_address;
  ++c->next_address;
  if (options_.refuse_address) {
    if (std::string why = options_.refuse_address(*ep.data()); !why.empty()) {
      c->last_error = std::move(why);  // the next address, or the failure, says why
      return connect_next(c);
    }
  }
  boost::system::error_code ec;
  if (c->socket.is_open()) c->socket.close(ec);
  c->socket.open(ep.protocol(), ec);
  if (ec) {
    bool local = local_shortage(ec);
    op_ptr op = std::move(c->op);
    drop(c);
    return finish(std::move(op), local ? transport_error::local : transport_error::connect, "socket: " + ec.message(), local);
  }
  // Each address gets an equal share of the time left, so that one that never answers
  // (packets dropped) leaves time for the next.
  c->timed_out = false;
  activate(c, left > 1 ? now + (c->op->deadline - now) / static_cast<long>(left) : c->op->deadline);
  c->socket.async_connect(ep, [this, alive = std::weak_ptr<bool>(alive_), c](const boost::system::error_code& ec) {
    if (auto a = alive.lock(); !a || !*a) return;
    if (c->timed_out) {
      c->last_error = "timed out";
      return connect_next(c);
    }
    if (ec) {
      if (local_shortage(ec)) {
        op_ptr op = std::move(c->op);
        drop(c);
        return finish(std::move(op), transport_error::local, "connect: " + ec.message(), true);
      }
      c->last_error = ec.message();
      return connect_next(c);
    }
    on_connected(c);
  });
}

void h1_transport::on_connected(const conn_ptr& c) {
  boost::system::error_code ignored;
  c->socket.set_option(tcp::no_delay(true), ignored);
  // write() sends at once when the socket takes it all (nearly always): it must not block.
  c->socket.non_blocking(true, ignored);
  c->addresses.clear();
  c->addresses.shrink_to_fit();
  c->op->opened_connection = true;
  activate(c, c->op->deadline);
  if (c->home->tls) return handshake(c);
  write(c);
}

void h1_transport::handshake(const conn_ptr& c) {
  origin& o = *c->home;
  c->tls = std::make_unique<asio::ssl::stream<tcp::socket&>>(c->socket, tls_->context());
  tls_->prepare(c->tls->native_handle(), o.host, o.literal, o.session.get());
  // Under the request's deadline like the rest: the sweep closes the socket, which ends it.
  c->tls->async_handshake(asio::ssl::stream_base::client, [this, alive = std::weak_ptr<bool>(alive_),
                                                           c](const boost::system::error_code& ec) {
    if (auto a = alive.lock(); !a || !*a) return;
    if (c->timed_out) return fail(c, transport_error::timeout, "timed out in the TLS handshake");
    if (ec) {
      std::string detail;
      transport_error code = tls_client::failure(c->tls->native_handle(), ec, detail);
      return fail(c, code, detail);
    }
    write(c);
  });
}

void h1_transport::resolve(origin& o) {
  if (o.resolving) return;
  o.resolving = true;  // an origin is never pruned while it is resolving: &o stays valid
  // Everything the resolver thread needs is copied here, on the shard's thread; it touches
  // nothing of the transport's but the link, under its mutex.
  asio::post(resolver_pool(), [this, link = link_, alive = std::weak_ptr<bool>(alive_), &o, host = o.host,
                               port = o.port, lookup = options_.resolve]() {
    std::string error;
    auto endpoints = lookup(host, port, error);
    std::lock_guard lock(link->mutex);
    if (!link->io) return;
    asio::post(*link->io, [this, alive, &o, endpoints = std::move(endpoints), error]() mutable {
      if (auto a = alive.lock(); !a || !*a) return;
      on_resolved(o, std::move(endpoints), error);
    });
  });
}

void h1_transport::on_resolved(origin& o, std::vector<tcp::endpoint> endpoints, const std::string& error) {
  o.resolving = false;
  if (!endpoints.empty()) {
    o.endpoints = std::move(endpoints);
    o.resolved_at = clock::now();
  } else if (!o.endpoints.empty()) {
    // Keep the old answer a while longer rather than fail every delivery to the host.
    o.resolved_at = clock::now() - options_.dns_ttl + std::chrono::seconds(30);
  }
  auto waiting = o.waiting_for_dns.take();
  waiting_ -= waiting.size();
  for (auto& op : waiting) {
    if (o.endpoints.empty())
      finish(std::move(op), transport_error::dns, "resolve " + o.host + ": " + error);
    else
      dispatch(o, std::move(op));
  }
}

void h1_transport::begin(const conn_ptr& c, op_ptr op) {
  c->op = std::move(op);
  activate(c, c->op->deadline);
  write(c);
}

void h1_transport::write(const conn_ptr& c) {
  // Ready for this request's answer before a byte of the request goes out.
  c->parser.reset();
  const operation& op = *c->op;
  if (op.fetch()) c->parser.expect(op.method == method::head, op.max_response_body, op.keep_headers);
  static const std::string no_body;
  const std::string& body = op.body ? *op.body : no_body;
  std::array<asio::const_buffer, 2> buffers{asio::buffer(c->op->head), asio::buffer(body)};
  if (!c->tls) {
    // Plain http: one send() now. A socket that takes the whole request (a kept-alive one with
    // room in its buffer, i.e. nearly always) needs no write operation. What is left (or an
    // error, which the write operation then reports from its handler, never from inside
    // post()) goes on below.
    //
    // The answer is read from a handler posted now, which runs after the completions already
    // queued: by then it has usually come (read_now). Read at once, right after the send,
    // the recv failed with EAGAIN for 79% of the requests (strace), an extra syscall each.
    //
    // A small request goes as one buffer, a send() rather than a sendmsg() (perf: sendmsg's
    // msghdr and iovec import, ____sys_sendmsg and _copy_from_user, were about 2% of a
    // delivery's CPU), copied into the transport's one send buffer: a head of its own holding
    // the body would be a kilobyte more for each request in flight (330 more page faults for
    // 1,000 outlets).
    boost::system::error_code ec;
    std::size_t sent = 0;
    if (body.empty()) {  // a GET or a HEAD: nothing to join
      sent = c->socket.send(buffers[0], 0, ec);
    } else if (body.size() <= max_inline_body) {
      send_buffer_.assign(c->op->head);
      send_buffer_.append(body);
      sent = c->socket.send(asio::buffer(send_buffer_), 0, ec);
    } else {
      sent = c->socket.send(buffers, 0, ec);
    }
    if (!ec && sent == buffers[0].size() + buffers[1].size()) {
      asio::post(io_, [this, alive = std::weak_ptr<bool>(alive_), c] {
        if (auto a = alive.lock(); !a || !*a) return;
        if (c->timed_out) return fail(c, transport_error::timeout, "timed out sending");
        read_now(c);
      });
      return;
    }
    if (ec) sent = 0;
    std::size_t from_head = std::min(sent, buffers[0].size());
    buffers[0] += from_head;
    buffers[1] += sent - from_head;
  }
  auto on_written = [this, alive = std::weak_ptr<bool>(alive_), c](const boost::system::error_code& ec, std::size_t) {
    if (auto a = alive.lock(); !a || !*a) return;
    if (c->timed_out) return fail(c, transport_error::timeout, "timed out sending");
    if (ec) {
      // A kept-alive connection the server closed meanwhile: once more, fresh.
      if (!retry_on_fresh_connection(c)) fail(c, transport_error::reset, "send: " + ec.message());
      return;
    }
    read(c);
  };
  if (c->tls)
    asio::async_write(*c->tls, buffers, std::move(on_written));
  else
    asio::async_write(c->socket, buffers, std::move(on_written));
}

void h1_transport::read(const conn_ptr& c) {
  if (c->tls) {
    if (!c->tls_buffer) c->tls_buffer = std::make_unique<std::array<char, 4096>>();
    c->tls->async_read_some(asio::buffer(*c->tls_buffer), [this, alive = std::weak_ptr<bool>(alive_),
                                                           c](const boost::system::error_code& ec, std::size_t n) {
      if (auto a = alive.lock(); !a || !*a) return;
      if (received(c, ec, std::string_view(c->tls_buffer->data(), n))) read(c);
    });
    return;
  }
  // Plain http: wait until the socket is readable, then read_now() reads what is there into
  // the transport's buffer (no read operation owns a buffer meanwhile). read_now() only
  // waits after a recv found nothing: an edge-triggered readiness comes with any byte after.
  c->socket.async_wait(tcp::socket::wait_read, [this, alive = std::weak_ptr<bool>(alive_),
                                                 c](const boost::system::error_code& ec) {
    if (auto a = alive.lock(); !a || !*a) return;
    if (ec || c->timed_out) {
      received(c, ec ? ec : asio::error::operation_aborted, {});
      return;
    }
    read_now(c);
  });
}

void h1_transport::read_now(const conn_ptr& c) {
  // Plain http, from the handler posted after a send: the answer is usually in by then, and
  // read here it needs no read operation, no completion to queue and no second handler. When
  // it is not, read() waits for it (the rare case, when the server is slower than the event
  // loop, i.e. when the CPU is not what is short). A long answer is read on until the socket
  // has nothing more.
  while (true) {
    boost::system::error_code ec;
    std::size_t n = c->socket.receive(asio::buffer(read_buffer_), 0, ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) return read(c);
    // The parser copies what it keeps: the buffer is free again when received() returns.
    if (!received(c, ec, std::string_view(read_buffer_.data(), ec ? 0 : n))) return;
  }
}

bool h1_transport::received(const conn_ptr& c, const boost::system::error_code& ec, std::string_view data) {
  struct turn_clock {
    clock_time_point& now;
    bool set = now == clock_time_point{};
    explicit turn_clock(clock_time_point& n) : now(n) {
      if (set) now = clock::now();
    }
    ~turn_clock() {
      if (set) now = {};
    }
  } turn(turn_now_);
  if (c->timed_out) {
    fail(c, transport_error::timeout, "timed out waiting for the answer");
    return false;
  }
  if (ec) {
    // TLS: a close without close_notify is stream_truncated; treated as the end it is.
    bool closed = ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
    if (closed && c->parser.feed_eof() == response_parser::result::done) {
      complete(c, false);
      return false;
    }
    bool nothing_came = !c->parser.started();
    if (nothing_came && (closed || ec == asio::error::connection_reset) && retry_on_fresh_connection(c))
      return false;
    fail(c, to_error(ec), nothing_came ? "connection closed without an answer: " + ec.message()
                                       : "connection closed mid-answer: " + ec.message());
    return false;
  }
  std::size_t used = 0;
  switch (c->parser.feed(data, used)) {
    case response_parser::result::need_more: return true;
    case response_parser::result::error:
      if (c->parser.too_large())  // the connection goes: the rest of the body is unread
        fail(c, transport_error::too_large, body_over_cap(c->op->max_response_body));
      else
        fail(c, transport_error::protocol, "bad answer: " + c->parser.error());
      return false;
    case response_parser::result::done:
      // Bytes after the answer were never asked for: do not trust the connection again.
      complete(c, c->parser.keep_alive() && used == data.size() &&
                      !(c->tls && tls_client::has_buffered_input(c->tls->native_handle())));
      return false;
  }
  return false;
}

void h1_transport::complete(const conn_ptr& c, bool keep) {
  op_ptr op = std::move(c->op);
  deactivate(*c);
  response_parser& p = c->parser;
  response resp;
  resp.status = p.status();
  if (!p.retry_after().empty()) resp.retry_after = p.retry_after();
  transport_error decoded = transport_error::none;
  std::string decode_error;
  if (op->fetch()) {
    // A fetch (the parser keeps these for fetches only).
    if (!p.etag().empty()) resp.etag = p.etag();
    if (!p.last_modified().empty()) resp.last_modified = p.last_modified();
    if (!p.content_type().empty()) resp.content_type = p.content_type();
    if (!p.cache_control().empty()) resp.cache_control = p.cache_control();
    if (!p.content_encoding().empty()) resp.content_encoding = p.content_encoding();
    if (op->max_response_body > 0) {
      resp.body = p.take_body();
      // The framing was sound: the connection stays usable whatever the decoding finds.
      if (op->decode_content && !resp.content_encoding.empty())
        decoded = decode_content(resp.content_encoding, resp.body, op->max_response_body, decode_error);
    }
    if (op->keep_headers) resp.headers = p.take_headers();
  }
  if (const std::string& loc = c->parser.location(); !loc.empty())
    resp.location = loc.starts_with("/") ? (c->home->tls ? "https://" : "http://") + c->home->host_header + loc : loc;
  origin& o = *c->home;
  if (c->tls && !c->session_saved) {
    // After the first answer: TLS 1.3 sends its tickets after the handshake, before it.
    if (tls_session s = tls_client::resumable_session(c->tls->native_handle())) {
      o.session = std::move(s);
      c->session_saved = true;
    }
  }
  if (keep) {
    c->timed_out = false;
    if (!o.waiting_for_connection.empty()) {
      op_ptr next = std::move(o.waiting_for_connection.front());
      o.waiting_for_connection.pop_front();
      --waiting_;
      c->reused = true;
      begin(c, std::move(next));
    } else {
      make_idle(c);
    }
  } else {
    drop(c);
  }
  c->idle_this_turn = c->idle;
  if (decoded != transport_error::none) {
    resp.status = 0;
    resp.error_detail = std::move(decode_error);
  }
  resp.error = decoded;
  finish(std::move(op), resp);
  c->idle_this_turn = false;  // from here on, an event-loop turn may pass before its reuse
}

void h1_transport::fail(const conn_ptr& c, transport_error code, std::string detail) {
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
  forget_idle(*c);
  if (c->tls) tls_client::closing(c->tls->native_handle());
  boost::system::error_code ignored;
  c->socket.close(ignored);
  --c->home->open;
  if (c->budgeted) {
    c->budgeted = false;
    budget_->release();
  }
}

void h1_transport::drop(const conn_ptr& c) {
  close(c);
  origin& o = *c->home;
  if (!o.waiting_for_connection.empty() &&
      (options_.max_host_connections <= 0 || o.open < options_.max_host_connections)) {
    op_ptr next = std::move(o.waiting_for_connection.front());
    o.waiting_for_connection.pop_front();
    --waiting_;
    open_connection(o, std::move(next));
  }
}

void h1_transport::make_idle(const conn_ptr& c) {
  c->idle_since = now();
  c->idle = true;
  c->idle_prev = idle_newest_;
  c->idle_next = nullptr;
  (idle_newest_ ? idle_newest_->idle_next : idle_oldest_) = c.get();
  idle_newest_ = c.get();
  ++idle_count_;
  c->home->idle.push_back(c);
  // Over the cap: the connection idle longest goes (maybe this one's sibling, never a busy one).
  while (idle_count_ > options_.max_idle && close_oldest_idle()) {
  }
  arm_idle_check();
}

void h1_transport::forget_idle(connection& c) {
  if (!c.idle) return;
  c.idle = false;
  (c.idle_prev ? c.idle_prev->idle_next : idle_oldest_) = c.idle_next;
  (c.idle_next ? c.idle_next->idle_prev : idle_newest_) = c.idle_prev;
  c.idle_prev = c.idle_next = nullptr;
  --idle_count_;
}

bool h1_transport::close_oldest_idle() {
  if (!idle_oldest_) return false;
  connection* oldest = idle_oldest_;
  auto& list = oldest->home->idle;
  auto it = std::find_if(list.begin(), list.end(), [&](const conn_ptr& p) { return p.get() == oldest; });
  conn_ptr c = std::move(*it);
  list.erase(it);
  close(c);  // not drop(): an origin with an idle connection has nobody waiting for one
  return true;
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
  // Closing cancels the connection's operation; its handler reports the timeout (or, while
  // connecting, moves on to the next address). The connection stays in active_ until then,
  // so nothing here changes the vector's shape.
  for (connection* c : active_) {
    if (c->deadline > now || c->timed_out) continue;
    c->timed_out = true;
    boost::system::error_code ignored;
    c->socket.close(ignored);
  }
  if (waiting_ > 0) expire_waiting(now);
  if (!active_.empty() || waiting_ > 0) arm_sweep();  // nothing to watch: sleep until needed
}

void h1_transport::expire_waiting(clock_time_point now) {
  // Requests waiting for DNS or for a connection have the same one deadline as the rest.
  std::vector<op_ptr> expired;
  for (auto& [key, o] : origins_)
    for (auto* lazy : {&o->waiting_for_dns, &o->waiting_for_connection}) {
      std::deque<op_ptr>* queue = lazy->get_if();
      if (!queue || queue->empty()) continue;
      auto keep = std::stable_partition(queue->begin(), queue->end(), [&](const op_ptr& op) { return op->deadline > now; });
      for (auto it = keep; it != queue->end(); ++it) expired.push_back(std::move(*it));
      queue->erase(keep, queue->end());
    }
  waiting_ -= expired.size();
  for (auto& op : expired) finish(std::move(op), transport_error::timeout, "timed out waiting for a connection or for DNS");
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
  // Oldest first in the LRU list.
  while (idle_oldest_ && now - idle_oldest_->idle_since >= options_.idle_timeout) close_oldest_idle();
  // Origins nobody used for an idle timeout, with nothing open, waiting or resolving, go:
  // a run over many hosts must not keep every host's record (and DNS answer) for ever.
  for (auto it = origins_.begin(); it != origins_.end();) {
    origin& o = *it->second;
    bool unused = o.open == 0 && o.idle.empty() && o.waiting_for_connection.empty() && o.waiting_for_dns.empty() &&
                  !o.resolving && now - o.last_used >= options_.idle_timeout;
    if (unused) ++origins_epoch_;  // hints to it (or to any) are stale now
    it = unused ? origins_.erase(it) : std::next(it);
  }
  if (idle_oldest_ || !origins_.empty()) arm_idle_check();
}

void h1_transport::finish(op_ptr op, transport_error code, std::string detail, bool local) {
  response resp;
  resp.error = code;
  resp.local_failure = local;
  if (code != transport_error::none) resp.error_detail = std::move(detail);
  finish(std::move(op), resp);
}

void h1_transport::finish(op_ptr op, response& resp) {
  resp.connections_opened = op->opened_connection ? 1 : 0;
  resp.finished_at = now();
  resp.elapsed = resp.finished_at - op->start;
  // What the completion sets off (callbacks that may take a while, then the outlet's next
  // request, whose deadline counts from its own start) reads the clock afresh.
  turn_now_ = {};
  completion done = std::move(op->done);
  // The operation is kept for a next request once `done` has run, unless `done` was the last
  // thing to touch this transport (alive_ then reads false). The response is handed over
  // where it lies (completion takes it by rvalue reference): it is a dozen strings.
  std::shared_ptr<bool> alive = alive_;
  done(std::move(resp));
  if (*alive) recycle(std::move(op));
}

void h1_transport::recycle(op_ptr op) {
  constexpr std::size_t max_spare_ops = 64;
  if (spare_ops_.size() >= max_spare_ops || op->head.capacity() > max_inline_body + 4096) return;
  op->body = nullptr;  // lets go of the payload, shared with other outlets' requests
  op->head.clear();    // keeps its buffer: the point of recycling
  op->retried_fresh = false;
  op->opened_connection = false;
  spare_ops_.push_back(std::move(op));
}

}  // namespace syndic::engine::http
