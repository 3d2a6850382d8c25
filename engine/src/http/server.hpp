#pragma once
// An HTTP/1.1 server for the daemon's API and the test kit's sink (Beast inside, none of it
// here: server.cpp is the only file that sees Beast, so including this costs nothing).
//
// Threads: the server runs on io_contexts it is given (the shards' or its own); it never
// starts a thread. Each listen address gets one acceptor; accepted connections are spread
// round robin over the contexts, and each connection lives on a strand of its context, so a
// context may be run by several threads.
//
// One request at a time per connection: the next request is not read until the answer to
// this one is written, so pipelined requests are answered in order and a slow handler holds
// up its own connection only.
//
// Handlers run on the connection's strand and must not block: they answer through the
// `responder` at once or later, from any thread (the publish route answers 202 once the
// store's commit is durable). A request whose responder is dropped unanswered gets a 500.
//
// Bounds (server_options): header and body sizes (431/413), timeouts for the wait for a
// request, its header, its body and the writing of its answer (a slowloris client is
// closed), a cap on open connections (beyond it a connection gets a canned 503 and is
// closed). A malformed request gets a 4xx with {"error":"..."} and its connection is closed
// once the answer is written; other connections never notice.
//
// Lifetime: stop() before the contexts stop running; the contexts must outlive the server
// (connections hold the server's shared state, not the server object, so late completions
// are safe), and no responder may be used after its context is destroyed.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace syndic::engine::http {

struct server_field {
  std::string name;
  std::string value;
};
using server_fields = std::vector<server_field>;

struct server_request {
  std::string method;   // as received, case-sensitive: "GET", "POST"
  std::string target;   // the request-target as received: "/feeds/world.rss?x=1"
  unsigned version = 11;  // 10 (HTTP/1.0) or 11
  server_fields headers;  // in the order received, names as sent
  std::string body;       // de-chunked; empty when the request has none
  bool keep_alive = true;  // what the client asked for (Connection, version)
  std::uint16_t local_port = 0;  // the port of the listener that accepted the connection
  std::string remote_address;    // the peer's IP address, as text

  // The first header of that name (case-insensitive), or "" when there is none.
  std::string_view header(std::string_view name) const;
  bool has_header(std::string_view name) const;
  std::string_view path() const;   // the target up to '?'
  std::string_view query() const;  // after '?', without it; "" when there is none
};

struct server_response {
  int status = 200;
  // Content-Length, Transfer-Encoding and Connection are the server's own and are ignored
  // here. A name that is not an HTTP token, or a value with CR, LF or NUL, is dropped.
  server_fields headers;
  std::string body;  // not sent for HEAD requests, 1xx, 204 and 304
  bool close = false;  // close the connection after this answer

  server_response() = default;
  explicit server_response(int s, std::string b = {}, std::string_view content_type = {});
  // {"error":"MESSAGE"}: the message escaped for JSON (invalid UTF-8 bytes as '?') and cut at
  // 300 bytes, so that no client input can break or bloat the body.
  static server_response error(int status, std::string_view message);
  // A JSON body as is, with Content-Type: application/json.
  static server_response json(int status, std::string body);
  server_response& set(std::string name, std::string value);  // adds a header
};

namespace detail {
struct responder_state;
}

// The way to answer one request. Copies share one answer: the first send() wins, later
// ones (and any after the connection closed) are ignored. Any thread.
class responder {
public:
  responder() = default;
  // Answers; returns false when an answer (or close/ignore) was already given.
  bool send(server_response r) const;
  // Ends the connection without answering; `abort` resets it (TCP RST). For test peers
  // playing faulty servers, and for a request the daemon will not answer at all.
  void close(bool abort = false) const;
  // Never answers: the connection is read and its bytes dropped until the peer closes it,
  // the idle timeout passes or the server stops (a black hole, for test peers).
  void ignore() const;
  explicit operator bool() const { return state_ != nullptr; }

private:
  friend struct detail::responder_state;
  explicit responder(std::shared_ptr<detail::responder_state> s) : state_(std::move(s)) {}
  std::shared_ptr<detail::responder_state> state_;
};

// Called on the connection's strand for each complete request. It may throw: the client then
// gets a 500 (and the exception's message is not shown to it).
using handler = std::function<void(server_request&& request, responder answer)>;
// The plain form: the answer is returned at once.
using sync_handler = std::function<server_response(const server_request& request)>;
handler synchronous(sync_handler f);

struct listen_address {
  std::string host = "127.0.0.1";  // an IP address (v4 or v6), not a name
  std::uint16_t port = 0;          // 0: any free port (see server::ports())
};

// A timeout of 0 means none.
struct server_options {
  std::vector<listen_address> listen;
  std::size_t max_header_bytes = 16 * 1024;     // request line + headers; beyond: 431
  std::size_t max_body_bytes = 1024 * 1024;     // beyond: 413 (also for Expect: 100-continue)
  // Per route: given the request's head (its body still unread and empty), the largest body
  // it may carry. Unset: max_body_bytes for every request.
  std::function<std::size_t(const server_request& head)> body_limit;
  // A new connection must deliver a whole request head within header_timeout; a kept-alive
  // one may wait idle_timeout for the first byte of its next request, and then has
  // header_timeout for the head. The body must follow within body_timeout, and the client
  // must take the answer within write_timeout. Beyond any of them the connection is closed.
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds body_timeout{30'000};
  std::chrono::milliseconds write_timeout{30'000};
  // Open connections at most; one more gets a canned 503 {"error":...} and is closed.
  std::size_t max_connections = 10'000;
  // The Nth answer on a connection says Connection: close (nginx's keepalive_requests); 0: no limit.
  std::uint32_t max_requests_per_connection = 0;
  int backlog = 1024;
};

struct server_stats {
  std::uint64_t accepted = 0;   // connections accepted (including refused ones)
  std::uint64_t refused = 0;    // over max_connections
  std::uint64_t requests = 0;   // complete requests given to the handler
  std::uint64_t rejected = 0;   // malformed or oversized requests answered 4xx by the server
  std::uint64_t timeouts = 0;   // connections closed by a timeout
  std::size_t open = 0;         // connections open now
};

class server {
public:
  // `contexts` must not be empty; they must outlive the server.
  server(std::vector<boost::asio::io_context*> contexts, server_options options, handler h);
  ~server();  // stop(0) when still running
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  // Binds every listen address and starts accepting; throws std::runtime_error naming the
  // address that could not be bound ("cannot listen on HOST:PORT: reason").
  void start();
  // The bound ports, in the order of options.listen.
  std::vector<std::uint16_t> ports() const;

  // Graceful stop: closes the listeners and the idle connections; requests being read or
  // handled finish and are answered with Connection: close for up to `grace`; then every
  // connection left is closed. Blocks until all are closed (bounded: grace + 2 s) when
  // called from a thread that runs none of the contexts, which must keep running meanwhile;
  // from a context's own thread it only starts the stop. Idempotent.
  void stop(std::chrono::milliseconds grace);

  server_stats stats() const;

  struct state;  // shared with the connections (server.cpp)

private:
  std::shared_ptr<state> state_;
};

}  // namespace syndic::engine::http
