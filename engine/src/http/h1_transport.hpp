#pragma once
// A lean HTTP/1.1 keep-alive client for http:// and https:// outlets, on bare Asio sockets
// (https: OpenSSL through Asio's ssl::stream over the same socket; see tls_client.hpp).
//
// Why not libcurl here: tuned libcurl matched a plain curl_multi_perform loop and no more;
// its per-transfer work (URL parsing, connection-cache matching, printf-built requests) was
// the cost. Why not Beast's client: its serializer, header map and per-operation stream
// timers were half of the user-space CPU per POST. So each request is one prebuilt head plus
// the shared payload written with one gather write, answers go through `response_parser`,
// and deadlines are checked by one sweep timer per transport instead of a timer per
// operation. libcurl keeps what it does best: HTTP/2 and proxies (the shard routes those to it).
//
// Per host:port (an *origin*): idle connections reused last-in first-out, an optional cap on
// connections (requests beyond it wait for one to come free), DNS answers cached for
// `dns_ttl`. An expired answer is still used while a fresh one is looked up in the
// background (and kept if the refresh fails); lookups run on a small pool of resolver
// threads, so one slow name never holds up another. A new connection tries each address in
// turn, each with a share of the time left.
//
// Each request has ONE deadline (request::timeout from post()) covering DNS, the wait for a
// connection, connect, send and receive; one sweep timer enforces it for every phase.
//
// Descriptors: connections take units of a connection_budget shared with the shard's curl
// transport; idle connections are capped (the oldest closed first) and closed on demand
// when the budget is short. Running out is reported as response::local_failure.
//
// A kept-alive connection carries nothing but answers to our requests: bytes after an
// answer, or bytes (or end of stream) that arrive while it is idle, close it.
//
// Connection code is split into connect (per address) -> on_connected -> [TLS handshake] ->
// write -> read. https:
//  - origins are keyed by scheme too, so an http and an https origin never share connections;
//  - the handshake is inside the request's one deadline (the sweep closes the socket);
//  - each origin keeps its last resumable TLS session, offered to its next new connection;
//  - the peek before reuse looks at the raw socket: any byte there (a TLS close_notify, a
//    late ticket, an unasked-for answer) closes the connection, and so do bytes already read
//    off the socket but not through TLS (tls_client::has_buffered_input);
//  - closing does not send close_notify: the socket is just closed, as for plain http.
//
// Same request/response types as curl_transport (message.hpp), same threading rule: one
// shard's thread. GET and HEAD send no body; a response body is read and discarded, or kept
// up to request::max_response_body (over it: too_large, and the connection is closed).

#include "http/connection_budget.hpp"
#include "http/message.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace syndic::engine::http {

struct h1_options {
  long max_host_connections = 0;  // per host:port; 0 = no cap
  std::chrono::seconds dns_ttl{300};
  // How often deadlines are checked: a timeout fires up to this late.
  std::chrono::milliseconds sweep_period{20};
  // Idle connections older than this are closed (checked every idle_timeout / 2), below the
  // keep-alive timeouts servers commonly use, so that few of ours meet a closed one.
  std::chrono::milliseconds idle_timeout{50'000};
  // Shared with the shard's curl transport; null: one of this transport's own, sized from
  // RLIMIT_NOFILE (connection_budget::per_shard(1)).
  std::shared_ptr<connection_budget> budget;
  // Idle connections kept at most (the oldest are closed first); 0: budget->idle_cap().
  std::size_t max_idle = 0;
  // Looks a host up, on a resolver thread (never the shard's): addresses in the order to
  // try, or empty with `error` set. Empty function: getaddrinfo. Tests replace it.
  std::function<std::vector<boost::asio::ip::tcp::endpoint>(const std::string& host, std::uint16_t port,
                                                             std::string& error)>
      resolve;
  // https: libcurl's rules (tls_client.hpp). ca_file: a PEM bundle; empty: the system's CAs.
  bool verify_tls = true;
  std::string ca_file;
  // Asked before each address is connected to (literal or resolved): non-empty words refuse
  // it (SSRF checks; see client_options::refuse_address). Empty function: all pass.
  std::function<std::string(const sockaddr& address)> refuse_address;
};

class tls_client;

// A request's header lines in one buffer, "Name: value\r\n" each, as h1_transport writes them
// into the request's head. Lines only come in through add() and append(), and add() encodes
// control characters (HTAB excepted) as safe_header_line does, so a block holds whole, safe
// lines only: a value taken from a feed can neither end its line nor start another.
//
// Why a block and not request::headers: the shard renders an outlet's constant headers once,
// when the outlet is added, and each request's varying ones (webhook-id, ...) into a buffer
// it reuses, so a request costs no string per header (a vector of strings per request was
// five allocations of each delivery's nine).
class header_block {
public:
  void clear() { text_.clear(); }
  void add(std::string_view name, std::string_view value);
  void add(std::string_view name, std::int64_t value);  // a decimal number
  void append(const header_block& other) { text_ += other.text_; }
  std::string_view text() const { return text_; }
  bool empty() const { return text_.empty(); }
  // Appends each line as request::headers holds them ("Name: value", no CRLF): for the
  // transports that take those (curl_transport; safe_header_line leaves them as they are).
  void split_into(std::vector<std::string>& lines) const;

private:
  std::string text_;
};

// Where a caller's last request went: kept by the caller (the shard keeps one per outlet)
// and handed to post() so that the transport finds the request's origin without a hash
// lookup (400 instructions a request). The transport checks it before use (no origin was
// pruned since it was set, and it is the URL's scheme, host and port), and sets it.
struct origin_hint {
  const void* origin = nullptr;
  std::uint64_t epoch = 0;
};

class h1_transport {
public:
  // The response by rvalue reference: it is a dozen strings, handed over where it lies (a
  // callable taking a response by value still fits, and moves it itself).
  using completion = std::function<void(response&&)>;

  h1_transport(boost::asio::io_context& io, h1_options options = {});
  ~h1_transport();  // closes every connection; requests in flight never complete
  h1_transport(const h1_transport&) = delete;
  h1_transport& operator=(const h1_transport&) = delete;

  // POST, GET or HEAD to an http:// or https:// URL. `done` runs on the io_context's thread,
  // never inside post().
  void post(request r, completion done);
  // The same, with the header lines as a block: r.headers (if any), then `headers`' lines,
  // copied into the request's head before this returns (the caller may reuse the block).
  void post(const request& r, const header_block& headers, completion done, origin_hint* hint = nullptr);

  std::size_t open_connections() const;
  std::size_t idle_connections() const { return idle_count_; }
  std::size_t origins() const { return origins_.size(); }

  struct operation;
  struct connection;
  struct origin;

private:
  using op_ptr = std::unique_ptr<operation>;
  using clock_time_point = std::chrono::steady_clock::time_point;
  void start(const request& r, std::string_view block, completion&& done, origin_hint* hint);
  op_ptr new_operation();
  void recycle(op_ptr op);
  using conn_ptr = std::shared_ptr<connection>;

  origin& origin_for(const parsed_url& u, bool tls, clock_time_point now);
  void dispatch(origin& o, op_ptr op);  // an idle connection, a new one, or wait
  void open_connection(origin& o, op_ptr op);
  void connect_next(const conn_ptr& c);  // the next address, or fail
  void on_connected(const conn_ptr& c);
  void handshake(const conn_ptr& c);
  void resolve(origin& o);
  void on_resolved(origin& o, std::vector<boost::asio::ip::tcp::endpoint> endpoints, const std::string& error);
  void begin(const conn_ptr& c, op_ptr op);
  void write(const conn_ptr& c);
  void read(const conn_ptr& c);
  void read_now(const conn_ptr& c);  // plain http: one recv now, else read()
  // Feeds what came (or the error) to the connection's answer; true when it needs more
  // bytes (the caller reads on), false once it completed or failed.
  bool received(const conn_ptr& c, const boost::system::error_code& ec, std::string_view data);
  void complete(const conn_ptr& c, bool keep);
  void fail(const conn_ptr& c, transport_error code, std::string detail);
  bool retry_on_fresh_connection(const conn_ptr& c);
  void close(const conn_ptr& c);
  void drop(const conn_ptr& c);  // closes it and lets a waiting request have its place
  void activate(const conn_ptr& c, std::chrono::steady_clock::time_point deadline);
  void deactivate(connection& c);
  void arm_sweep();
  void arm_idle_check();
  void close_idle(clock_time_point now);
  void make_idle(const conn_ptr& c);
  conn_ptr take_idle(origin& o);
  void forget_idle(connection& c);
  bool close_oldest_idle();
  void expire_waiting(clock_time_point now);
  void sweep();
  void finish(op_ptr op, transport_error code, std::string detail = {}, bool local = false);
  void finish(op_ptr op, response& resp);  // hands `resp` to the request's completion

  boost::asio::io_context& io_;
  h1_options options_;
  // By (scheme, host, port), looked up per request with a view of the URL's own host: no key
  // string is built (that was 500 instructions a request, most of the lookup).
  struct origin_key {
    std::string host;
    std::uint16_t port = 0;
    bool tls = false;
  };
  struct origin_key_view {
    std::string_view host;
    std::uint16_t port = 0;
    bool tls = false;
  };
  struct origin_key_hash {
    using is_transparent = void;
    std::size_t operator()(const origin_key_view& k) const noexcept;
    std::size_t operator()(const origin_key& k) const noexcept { return (*this)(origin_key_view{k.host, k.port, k.tls}); }
  };
  struct origin_key_eq {
    using is_transparent = void;
    template <class A, class B>
    bool operator()(const A& a, const B& b) const noexcept {
      return a.port == b.port && a.tls == b.tls && std::string_view(a.host) == std::string_view(b.host);
    }
  };
  std::unordered_map<origin_key, std::unique_ptr<origin>, origin_key_hash, origin_key_eq> origins_;
  std::uint64_t origins_epoch_ = 1;  // moves on whenever an origin is pruned (origin_hint)
  std::vector<connection*> active_;  // connections with a deadline (connecting or busy)
  // Every idle connection, oldest first: a list threaded through the connections themselves
  // (connection::idle_prev/idle_next; a std::list allocated a node per request).
  connection* idle_oldest_ = nullptr;
  connection* idle_newest_ = nullptr;
  std::size_t idle_count_ = 0;
  // Finished operations kept for the next requests, with their head's buffer (two allocations
  // per request otherwise); at most max_spare_ops.
  std::vector<op_ptr> spare_ops_;
  std::size_t waiting_ = 0;          // requests waiting for DNS or for a connection
  std::shared_ptr<connection_budget> budget_;
  std::unique_ptr<tls_client> tls_;  // made on the first https request
  std::size_t reclaimer_ = 0;
  struct resolve_link;
  std::shared_ptr<resolve_link> link_;
  boost::asio::steady_timer sweep_timer_;
  bool sweep_armed_ = false;
  boost::asio::steady_timer idle_timer_;
  bool idle_check_armed_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  // Plain http reads land here, one connection at a time, on the shard's thread.
  std::array<char, 16 * 1024> read_buffer_;
  // A body at most this big is sent in one buffer with its head: TLS's in the request's own
  // head, plain http's in send_buffer_ (one per transport, reused).
  static constexpr std::size_t max_inline_body = 16 * 1024;
  std::string send_buffer_;
  // One clock reading per answer (kvm-clock reads cost about 27 ns here, and an answer
  // took nine): taken when the answer's bytes come in and used until its completion is
  // called (the idle mark, its elapsed time, `finished_at`). Unset outside that: now() reads
  // the clock.
  clock_time_point turn_now_{};
  clock_time_point now() const { return turn_now_ != clock_time_point{} ? turn_now_ : std::chrono::steady_clock::now(); }
};

}  // namespace syndic::engine::http
