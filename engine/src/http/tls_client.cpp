#include "http/tls_client.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/error.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace syndic::engine::http {

namespace ssl = boost::asio::ssl;

void tls_session_free::operator()(ssl_session_st* s) const { SSL_SESSION_free(s); }

tls_client::tls_client(bool verify, const std::string& ca_file)
    : context_(ssl::context::tls_client), verify_(verify) {
  SSL_CTX* ctx = context_.native_handle();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  static const unsigned char alpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  SSL_CTX_set_alpn_protos(ctx, alpn, sizeof alpn);
  // Sessions are kept by the transport, per origin, not in OpenSSL's client cache.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  if (!verify_) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    return;
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  // Loaded once per transport (so once per shard), not once per connection: parsing a
  // 150-certificate bundle costs tens of milliseconds.
  boost::system::error_code ec;
  if (!ca_file.empty())
    context_.load_verify_file(ca_file, ec);
  else
    context_.set_default_verify_paths(ec);
  if (ec) error_ = (ca_file.empty() ? std::string("the system's CA store") : "CA file " + ca_file) + ": " + ec.message();
}

void tls_client::prepare(SSL* ssl, const std::string& host, bool literal, SSL_SESSION* resume) const {
  if (!literal) SSL_set_tlsext_host_name(ssl, host.c_str());
  if (verify_) {
    if (literal)
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str());
    else
      SSL_set1_host(ssl, host.c_str());
  }
  if (resume) SSL_set_session(ssl, resume);
}

transport_error tls_client::failure(SSL* ssl, const boost::system::error_code& ec, std::string& detail) {
  long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK) {
    detail = std::string("TLS certificate verify failed: ") + X509_verify_cert_error_string(verify);
    return transport_error::tls;
  }
  detail = "TLS handshake failed: " + ec.message();
  return transport_error::tls;
}

tls_session tls_client::resumable_session(SSL* ssl) {
  tls_session s(SSL_get1_session(ssl));
  if (s && !SSL_SESSION_is_resumable(s.get())) s.reset();
  return s;
}

void tls_client::closing(SSL* ssl) {
  SSL_set_quiet_shutdown(ssl, 1);
  SSL_set_shutdown(ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
}

bool tls_client::has_buffered_input(SSL* ssl) {
  // Asio feeds OpenSSL through a BIO pair: what it read from the socket and OpenSSL has not
  // consumed waits in the pair's read side; what OpenSSL decrypted and we have not read
  // waits in the SSL object.
  return SSL_pending(ssl) > 0 || BIO_ctrl_pending(SSL_get_rbio(ssl)) > 0;
}

}  // namespace syndic::engine::http
