#pragma once
// A small HTTP client for one-off requests from outside the shards: the daemon's WebSub hub
// verifying a subscriber's intent (a GET whose body must echo hub.challenge), polling fetching
// feeds. It owns one thread running its own event loop and both transports on it: h1 for
// http:// and https://, libcurl (made, and loaded, on first need) for https through a proxy
// set in the environment or when `https_via_curl` asks for it (HTTP/2).
//
// Threading: send() and stop() may be called from any thread, callbacks included. Each
// request's callback runs exactly once:
//  - with the outcome, on the client's thread (never inside send());
//  - or, when stop() (or the destructor) comes first, with error `local` and local_failure
//    set ("cancelled: the HTTP client stopped"): on the client's thread for requests it had
//    taken, or inside send() itself for a request sent after stop() began.
// Callbacks must not block for long: every request of this client waits behind them.
//
// Redirects are not followed: a 3xx comes back with response::location (absolute), and the
// caller decides (a hub must check a new host again; polling stores permanent moves).

#include "http/message.hpp"

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

struct sockaddr;

namespace syndic::engine::http {

struct client_options {
  bool verify_tls = true;
  std::string ca_file;  // a PEM bundle; empty: the system's CAs
  // Connections per host:port (requests beyond wait for one, within their deadline); 0: no cap.
  long max_host_connections = 4;
  // Descriptors this client may hold open at once (both transports together).
  std::size_t max_connections = 256;
  // https through libcurl (HTTP/2) rather than h1. Without it, libcurl carries https only
  // when a proxy is set in the environment (https_proxy, all_proxy), as in the shards.
  bool https_via_curl = false;
  // Called for every address before a connection to it is made (after DNS, so a name that
  // resolves inside cannot slip past, whichever transport connects): an empty string lets it
  // through, anything else refuses it with those words (the attempt fails with `connect` and
  // them in error_detail unless another address of the host passes). Empty function: every
  // address passes. For hub callbacks: daemon::check_address (SSRF). Runs on the client's thread.
  std::function<std::string(const sockaddr& address)> refuse_address;
};

class client {
public:
  using completion = std::function<void(response)>;

  explicit client(client_options options = {});
  ~client();  // stop()
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  // Starts `r` (POST, GET or HEAD; see message.hpp: set max_response_body to keep the body).
  void send(request r, completion done);

  // Cancels every pending request (each callback runs once, see above), ends the thread and
  // waits for it, unless called on it (from a callback; then the destructor waits).
  // Idempotent.
  void stop();

private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace syndic::engine::http
