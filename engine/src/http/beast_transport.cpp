#include "http/beast_transport.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <charconv>
#include <optional>

namespace syndic::engine::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

struct beast_transport::connection {
  explicit connection(asio::io_context& io) : stream(io) {}
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
};

struct beast_transport::operation {
  request req;
  completion done;
  std::string authority, host, port, target;
  bhttp::request<bhttp::span_body<const char>> message;
  std::optional<bhttp::response_parser<bhttp::string_body>> parser;
  std::shared_ptr<connection> conn;
  bool reused = false;
  bool retried_fresh = false;
  response resp;
  std::chrono::steady_clock::time_point start;
};

namespace {

// "http://host[:port]/path?query" -> parts. False for anything else.
bool split_url(const std::string& url, std::string& host, std::string& port, std::string& target) {
  if (!url.starts_with("http://")) return false;
  std::size_t start = 7;
  std::size_t slash = url.find('/', start);
  std::string authority = url.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
  target = slash == std::string::npos ? "/" : url.substr(slash);
  if (authority.empty() || authority.find('@') != std::string::npos) return false;
  if (authority.front() == '[') {  // [v6]:port
    auto close = authority.find(']');
    if (close == std::string::npos) return false;
    host = authority.substr(1, close - 1);
    port = close + 1 < authority.size() && authority[close + 1] == ':' ? authority.substr(close + 2) : "80";
  } else {
    auto colon = authority.rfind(':');
    host = authority.substr(0, colon);
    port = colon == std::string::npos ? "80" : authority.substr(colon + 1);
  }
  return !host.empty() && !port.empty();
}

CURLcode to_curl(const beast::error_code& ec) {
  if (ec == beast::error::timeout) return CURLE_OPERATION_TIMEDOUT;
  if (ec == asio::error::connection_refused || ec == asio::error::host_unreachable ||
      ec == asio::error::network_unreachable)
    return CURLE_COULDNT_CONNECT;
  if (ec == asio::error::host_not_found || ec == asio::error::host_not_found_try_again)
    return CURLE_COULDNT_RESOLVE_HOST;
  if (ec == bhttp::error::end_of_stream || ec == asio::error::connection_reset ||
      ec == asio::error::eof)
    return CURLE_GOT_NOTHING;
  return CURLE_RECV_ERROR;
}

}  // namespace

beast_transport::beast_transport(asio::io_context& io) : io_(io) {}

beast_transport::~beast_transport() { *alive_ = false; }

void beast_transport::post(request r, completion done) {
  auto op = std::make_shared<operation>();
  op->done = std::move(done);
  op->start = std::chrono::steady_clock::now();
  if (!split_url(r.url, op->host, op->port, op->target)) {
    op->req = std::move(r);
    asio::post(io_, [this, op] { finish(op, CURLE_URL_MALFORMAT); });
    return;
  }
  op->authority = op->host + ":" + op->port;
  op->req = std::move(r);
  // The request is built once; the body is the shared payload, never copied.
  auto& m = op->message;
  m.method(bhttp::verb::post);
  m.target(op->target);
  m.version(11);
  m.set(bhttp::field::host, op->port == "80" ? op->host : op->authority);
  m.set(bhttp::field::user_agent, "syndic/0.1");
  for (const auto& h : op->req.headers) {
    auto colon = h.find(':');
    if (colon == std::string::npos) continue;
    std::string_view value = std::string_view(h).substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    m.insert(std::string_view(h).substr(0, colon), value);
  }
  // Both branches lvalues: a `? :` with a temporary would copy the body into a local.
  static const std::string no_body;
  const std::string& body = op->req.body ? *op->req.body : no_body;
  m.body() = bhttp::span_body<const char>::value_type(body.data(), body.size());
  m.keep_alive(true);
  m.prepare_payload();

  auto& pool = idle_[op->authority];
  if (!pool.empty()) {
    std::shared_ptr<connection> c = std::move(pool.back());
    pool.pop_back();
    op->reused = true;
    // Post, so that the completion can never run inside the caller's post().
    asio::post(io_, [this, op, c = std::move(c)]() mutable { send(op, std::move(c)); });
    return;
  }
  connect(op);
}

void beast_transport::connect(std::shared_ptr<operation> op) {
  auto c = std::make_shared<connection>(io_);
  auto timeout = std::chrono::milliseconds(std::min<std::int64_t>(op->req.timeout.count(), 5000));
  c->stream.expires_after(timeout);
  std::vector<tcp::endpoint> endpoints;
  beast::error_code ec;
  auto address = asio::ip::make_address(op->host, ec);
  std::uint16_t port = 0;
  std::from_chars(op->port.data(), op->port.data() + op->port.size(), port);
  if (!ec) {
    endpoints.emplace_back(address, port);
  } else if (auto it = resolved_.find(op->authority); it != resolved_.end()) {
    endpoints = it->second;
  } else {
    // Names are resolved once per shard and kept; the daemon will refresh them (see docs).
    tcp::resolver resolver(io_);
    auto results = resolver.resolve(op->host, op->port, ec);
    if (ec) {
      asio::post(io_, [this, op] { finish(op, CURLE_COULDNT_RESOLVE_HOST); });
      return;
    }
    for (const auto& e : results) endpoints.push_back(e.endpoint());
    resolved_[op->authority] = endpoints;
  }
  std::weak_ptr<bool> alive = alive_;
  c->stream.async_connect(endpoints, [this, alive, op, c](const beast::error_code& ec,
                                                         const tcp::endpoint&) mutable {
    if (auto a = alive.lock(); !a || !*a) return;
    if (ec) {
      finish(op, to_curl(ec));
      return;
    }
    op->resp.connections_opened = 1;
    send(op, std::move(c));
  });
}

void beast_transport::send(std::shared_ptr<operation> op, std::shared_ptr<connection> c) {
  op->conn = std::move(c);
  op->conn->stream.expires_after(op->req.timeout);
  std::weak_ptr<bool> alive = alive_;
  bhttp::async_write(op->conn->stream, op->message, [this, alive, op](const beast::error_code& ec, std::size_t) {
    if (auto a = alive.lock(); !a || !*a) return;
    if (ec) {
      // A kept-alive connection the server closed meanwhile: once more on a fresh one.
      if (!retry_on_fresh_connection(op)) finish(op, to_curl(ec));
      return;
    }
    op->parser.emplace();
    op->parser->body_limit(1 << 20);
    bhttp::async_read(op->conn->stream, op->conn->buffer, *op->parser,
                      [this, alive, op](const beast::error_code& ec, std::size_t) {
                        if (auto a = alive.lock(); !a || !*a) return;
                        if (ec) {
                          bool closed_before_answering =
                              op->conn->buffer.size() == 0 &&
                              (ec == bhttp::error::end_of_stream || ec == asio::error::connection_reset);
                          if (!closed_before_answering || !retry_on_fresh_connection(op))
                            finish(op, to_curl(ec));
                          return;
                        }
                        const auto& res = op->parser->get();
                        op->resp.status = static_cast<int>(res.result_int());
                        if (auto it = res.find(bhttp::field::retry_after); it != res.end())
                          op->resp.retry_after = std::string(it->value());
                        if (auto it = res.find(bhttp::field::location); it != res.end()) {
                          std::string loc(it->value());
                          // Absolute for the retry policy: a path is resolved on this host.
                          op->resp.location = loc.starts_with("/") ? "http://" + op->authority + loc : loc;
                        }
                        if (res.keep_alive()) {
                          op->conn->stream.expires_never();
                          idle_[op->authority].push_back(op->conn);
                        }
                        finish(op, CURLE_OK);
                      });
  });
}

bool beast_transport::retry_on_fresh_connection(const std::shared_ptr<operation>& op) {
  if (!op->reused || op->retried_fresh) return false;
  op->retried_fresh = true;
  op->reused = false;
  op->conn.reset();
  connect(op);
  return true;
}

void beast_transport::finish(std::shared_ptr<operation> op, CURLcode error) {
  op->resp.error = error;
  if (error != CURLE_OK) op->resp.status = 0;
  op->resp.elapsed = std::chrono::steady_clock::now() - op->start;
  op->conn.reset();
  auto done = std::move(op->done);
  done(std::move(op->resp));
}

}  // namespace syndic::engine::http
