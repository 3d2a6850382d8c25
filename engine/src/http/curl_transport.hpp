#pragma once
// HTTP client for one shard: libcurl's multi_socket interface driven by the shard's Asio
// io_context. Owned and used by the shard's thread only.
//
// The known traps of the curl <-> Asio bridge, and how each is avoided here:
//  1. Waits are one-shot: after each completion the wait is re-armed only while curl still
//     wants that direction, and a direction is never armed twice (`read_armed`/`write_armed`).
//  2. Stale completions: a completion may arrive after curl dropped the socket and the fd
//     number was reused. Every record carries a generation; completions check it and ignore
//     `operation_aborted`.
//  3. Double close: curl owns its fds. We wrap them in stream_descriptors only to wait, and
//     `release()` before destroying the wrapper, so Asio never closes an fd it did not open.
//     A wrapper lives until curl closes the fd (CLOSESOCKETFUNCTION), not until curl stops
//     watching it: keep-alive connections are re-watched without re-registering with epoll.
//  4. curl may hand us fds it made itself (resolver, happy eyeballs, IPv6): records are made
//     for any fd in the socket callback, whatever it is.
//  5. The timer callback: -1 cancels, 0 means "soon": the timer fires through the io_context,
//     never by calling curl from inside a curl callback.
//  6. The multi handle is used by its owning thread only; `curl_multi_cleanup` runs in the
//     destructor while the timer and the socket table are still alive.

#include "http/connection_budget.hpp"
#include "http/message.hpp"

#include <syndic/engine/outlet.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <curl/curl.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace syndic::engine::http {

struct transport_options {
  long max_host_connections = 0;   // per host:port; 0 = unlimited
  bool verify_tls = true;
  std::string ca_file;  // CURLOPT_CAINFO when set
  // Connections are spread over several multi handles, by host:port, so that each cache stays
  // small: libcurl 7.88 walks a multi's whole connection cache after every keep-alive
  // transfer, which with 1,000 connections in one handle costs more than the transfer.
  std::size_t multi_handles = 32;
  // Shared with the shard's h1 transport; null: one of the transport's own, sized from
  // RLIMIT_NOFILE (connection_budget::per_shard(1)). Idle connections kept: budget->idle_cap().
  std::shared_ptr<connection_budget> budget;
  // Asked in the open-socket callback, for each address curl is about to connect to:
  // non-empty words refuse it (SSRF checks; see client_options::refuse_address).
  std::function<std::string(const sockaddr& address)> refuse_address;
};

class curl_transport {
public:
  using completion = std::function<void(response)>;

  curl_transport(boost::asio::io_context& io, transport_options options = {});
  ~curl_transport();
  curl_transport(const curl_transport&) = delete;
  curl_transport& operator=(const curl_transport&) = delete;

  // Starts the request (POST, GET or HEAD; see message.hpp). `done` runs on the io_context's
  // thread, never inline from here.
  void post(request r, completion done);


private:
  struct transfer;
  // One curl multi handle with its timer. A host:port always maps to the same slot, so its
  // connections are found again for reuse.
  struct multi_slot {
    curl_transport* owner = nullptr;
    CURLM* multi = nullptr;
    std::unique_ptr<boost::asio::steady_timer> timer;
  };
  struct socket_record {
    std::unique_ptr<boost::asio::posix::stream_descriptor> descriptor;
    multi_slot* slot = nullptr;  // the multi handle this socket belongs to
    int want = 0;  // CURL_POLL_IN / OUT / INOUT
    std::uint64_t generation = 0;
    bool read_armed = false;
    bool write_armed = false;
  };

  static int on_socket(CURL* easy, curl_socket_t fd, int what, void* slot, void* record);
  static int on_timer(CURLM* multi, long timeout_ms, void* slot);
  static int on_close(void* self, curl_socket_t fd);
  static curl_socket_t on_open(void* transfer, curlsocktype purpose, struct curl_sockaddr* address);
  void arm_deadlines();
  void expire(std::chrono::steady_clock::time_point now);
  void arm(curl_socket_t fd, socket_record& rec);
  void on_ready(curl_socket_t fd, std::uint64_t generation, int direction,
                const boost::system::error_code& ec);
  void socket_action(multi_slot& slot, curl_socket_t fd, int mask);
  void collect_done(multi_slot& slot);
  multi_slot& slot_for(const std::string& url);
  CURL* take_easy(const std::string& url, bool& configured);
  void park_easy(CURL* e, const std::string& url);

  boost::asio::io_context& io_;
  transport_options options_;
  std::vector<std::unique_ptr<multi_slot>> slots_;
  // The shard's DNS cache. Entries never expire inside curl (DNS_CACHE_TIMEOUT -1): curl 7.88
  // prunes by walking the whole cache on every resolve, which with a thousand host:port
  // entries costs a fifth of the CPU. Instead the cache is replaced as a whole every
  // dns_refresh; the old one is freed when its last transfer ends.
  struct dns_cache {
    CURLSH* share = nullptr;
    std::size_t users = 0;
  };
  std::shared_ptr<dns_cache> dns_;
  std::chrono::steady_clock::time_point dns_since_;
  static constexpr std::chrono::minutes dns_refresh{5};
  std::shared_ptr<dns_cache> current_dns();
  std::unordered_map<curl_socket_t, socket_record> sockets_;
  std::unordered_map<CURL*, std::unique_ptr<transfer>> transfers_;
  // Idle easy handles by the URL they last served: reused without curl_easy_reset, so an
  // outlet's handle keeps its options and buffers (as the "libcurl driven well" does).
  std::unordered_map<std::string, std::vector<CURL*>> idle_easy_;
  std::size_t idle_count_ = 0;
  static constexpr std::size_t max_idle_easy = 4096;
  std::uint64_t next_generation_ = 1;
  std::shared_ptr<connection_budget> budget_;
  // Enforces each transfer's one deadline, including the time it waits in curl's queue for a
  // connection (curl's own timeout does not run there). Armed while transfers are in flight.
  std::unique_ptr<boost::asio::steady_timer> deadline_timer_;
  bool deadline_armed_ = false;
  bool fetched_ = false;  // a GET, a HEAD or a kept body was sent: handles' settings vary
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace syndic::engine::http
