#pragma once
// TLS for the h1 transport (https:// outlets): one OpenSSL client context per transport, so
// one shard's thread, made on the first https request, and the per-connection setup and
// failure wording. The verification rules are libcurl's, so that an outlet is trusted or
// refused the same whichever transport carries it:
//  - verify_tls (the default): the peer's chain must lead to a CA of `ca_file` (a PEM
//    bundle) or, without one, of the system's store, and its certificate must name the host
//    (SSL_set1_host for names, the IP address for literals);
//  - verify_tls=false (`syndic push --insecure`): no verification at all.
// ALPN offers only http/1.1 (HTTP/2 outlets go through libcurl); SNI names the host unless
// it is an IP literal (RFC 6066 allows only names there).
//
// Session resumption: the transport keeps the last resumable SSL_SESSION of each origin
// (tls_session) and offers it on the next connection there, which spares a full handshake
// (and its certificate verification) for every connection after the first.

#include "http/message.hpp"

#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <string>

struct ssl_st;
struct ssl_session_st;

namespace syndic::engine::http {

struct tls_session_free {
  void operator()(ssl_session_st* s) const;
};
// One reference to an SSL_SESSION.
using tls_session = std::unique_ptr<ssl_session_st, tls_session_free>;

class tls_client {
public:
  // Never throws: a CA file that cannot be loaded is reported by error() and fails every
  // connection with that reason.
  tls_client(bool verify, const std::string& ca_file);

  boost::asio::ssl::context& context() { return context_; }
  const std::string& error() const { return error_; }

  // Before the handshake: SNI, the name (or address) to verify, and the session to resume.
  void prepare(ssl_st* ssl, const std::string& host, bool literal, ssl_session_st* resume) const;

  // After a handshake failed: what went wrong, as an error the retry policy knows and words a
  // person can act on ("TLS certificate verify failed: hostname mismatch").
  static transport_error failure(ssl_st* ssl, const boost::system::error_code& ec, std::string& detail);

  // The connection's session when it can be resumed (TLS 1.3 sends it after the handshake,
  // so ask after the first answer), else null.
  static tls_session resumable_session(ssl_st* ssl);

  // Before a connection is closed without close_notify (keep-alive connections are simply
  // closed): SSL_free would otherwise take the connection for a broken one and mark its
  // session, which the origin keeps to resume, as not resumable.
  static void closing(ssl_st* ssl);

  // Bytes already taken off the socket but not yet read through TLS: a connection with any
  // cannot be trusted with another request (the raw socket's peek does not see them).
  static bool has_buffered_input(ssl_st* ssl);

private:
  boost::asio::ssl::context context_;
  bool verify_;
  std::string error_;
};

}  // namespace syndic::engine::http
