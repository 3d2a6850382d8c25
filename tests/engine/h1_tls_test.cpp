// The h1 transport over TLS (https:// outlets), against a real OpenSSL server on loopback
// with a private CA: verification as libcurl does it, session resumption, keep-alive, and
// the one deadline covering the handshake.

#include "http/h1_transport.hpp"
#include "tls_test_server.hpp"

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

namespace syndic::engine::http {
namespace {

using namespace std::chrono_literals;
using testing::temp_file;
using testing::test_pki;
using testing::tls_test_server;

// Every name is 127.0.0.1: the certificate decides whether the name is right.
std::vector<boost::asio::ip::tcp::endpoint> loopback(const std::string&, std::uint16_t port, std::string&) {
  return {{boost::asio::ip::make_address("127.0.0.1"), port}};
}

struct h1_tls : ::testing::Test {
  static inline test_pki* pki = nullptr;
  static void SetUpTestSuite() { pki = new test_pki(); }
  static void TearDownTestSuite() {
    delete pki;
    pki = nullptr;
  }
  std::unique_ptr<temp_file> ca = std::make_unique<temp_file>(pki->ca.cert_pem);
  boost::asio::io_context io;

  h1_options options(bool verify = true, bool with_ca = true) {
    h1_options o;
    o.resolve = loopback;
    o.verify_tls = verify;
    if (with_ca) o.ca_file = ca->path;
    return o;
  }

  // Posts one request and runs the io_context until it is answered (at most `limit`).
  response post(h1_transport& t, const std::string& url, std::chrono::milliseconds timeout = 5s,
                std::chrono::milliseconds limit = 6s) {
    response out;
    bool done = false;
    request r;
    r.url = url;
    r.timeout = timeout;
    r.body = std::make_shared<const std::string>("{\"hello\":\"tls\"}");
    t.post(r, [&](response resp) {
      out = std::move(resp);
      done = true;
    });
    auto until = std::chrono::steady_clock::now() + limit;
    while (!done && std::chrono::steady_clock::now() < until) io.run_one_for(50ms);
    io.restart();
    EXPECT_TRUE(done) << url;
    return out;
  }
  static std::string url(const tls_test_server& s, const std::string& host = "localhost") {
    return "https://" + host + ":" + std::to_string(s.port()) + "/hook";
  }
};

TEST_F(h1_tls, VerifiedDeliveryKeepsTheConnectionAlive) {
  tls_test_server server(pki->server, tls_test_server::mode::answer);
  h1_transport t(io, options());
  for (int i = 0; i < 3; ++i) {
    response r = post(t, url(server));
    EXPECT_EQ(r.status, 200) << r.error_detail;
    EXPECT_EQ(r.connections_opened, i == 0 ? 1 : 0);
  }
  EXPECT_EQ(server.connections(), 1);
  EXPECT_EQ(server.requests(), 3);
  EXPECT_EQ(t.open_connections(), 1u);
  // ALPN offers HTTP/1.1 only (HTTP/2 outlets go through libcurl); SNI names the host.
  EXPECT_EQ(server.alpn_offered(), "http/1.1");
  EXPECT_EQ(server.sni(), "localhost");
}

TEST_F(h1_tls, AnIpAddressIsVerifiedAgainstTheCertificatesAddresses) {
  tls_test_server server(pki->server, tls_test_server::mode::answer);
  h1_transport t(io, options());
  response r = post(t, url(server, "127.0.0.1"));
  EXPECT_EQ(r.status, 200) << r.error_detail;
  EXPECT_EQ(server.sni(), "");  // no SNI for an address (RFC 6066)
}

TEST_F(h1_tls, WrongHostnameIsRefused) {
  tls_test_server server(pki->server, tls_test_server::mode::answer);
  h1_transport t(io, options());
  response r = post(t, url(server, "wrong.example"));
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.error, transport_error::tls);
  EXPECT_NE(r.error_detail.find("certificate verify failed: hostname mismatch"), std::string::npos) << r.error_detail;
  EXPECT_EQ(server.requests(), 0);
}

TEST_F(h1_tls, UnknownCaIsRefused) {
  tls_test_server server(pki->server, tls_test_server::mode::answer);
  h1_transport t(io, options(true, false));  // the system's CAs, which do not know ours
  response r = post(t, url(server));
  EXPECT_EQ(r.error, transport_error::tls);
  EXPECT_NE(r.error_detail.find("certificate verify failed: unable to get local issuer certificate"),
            std::string::npos)
      << r.error_detail;
  EXPECT_EQ(server.requests(), 0);
}

TEST_F(h1_tls, AnotherCaIsRefused) {
  tls_test_server server(pki->server, tls_test_server::mode::answer);
  test_pki other;
  temp_file other_ca(other.ca.cert_pem);
  h1_options o = options();
  o.ca_file = other_ca.path;
  h1_transport t(io, o);
  response r = post(t, url(server));
  EXPECT_EQ(r.error, transport_error::tls) << r.error_detail;
  EXPECT_EQ(server.requests(), 0);
}

TEST_F(h1_tls, InsecureAcceptsAnyCertificate) {
  tls_test_server server(pki->server, tls_test_server::mode::answer);
  h1_transport t(io, options(false, false));
  response r = post(t, url(server, "wrong.example"));
  EXPECT_EQ(r.status, 200) << r.error_detail;
}

TEST_F(h1_tls, AMissingCaFileFailsEveryRequestWithItsName) {
  h1_options o = options();
  o.ca_file = "/no/such/ca.pem";
  h1_transport t(io, o);
  response r = post(t, "https://localhost:1/hook");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.error_detail.find("CA file /no/such/ca.pem"), std::string::npos) << r.error_detail;
}

TEST_F(h1_tls, TheSessionIsResumedOnTheNextConnection) {
  tls_test_server server(pki->server, tls_test_server::mode::answer_and_close);
  h1_transport t(io, options());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(post(t, url(server)).status, 200);
  EXPECT_EQ(server.handshakes(), 3);
  EXPECT_EQ(server.resumed(), 2);  // every connection after the first
}

TEST_F(h1_tls, CloseNotifyWhileIdleClosesTheConnection) {
  tls_test_server server(pki->server, tls_test_server::mode::notify_when_idle);
  h1_transport t(io, options());
  EXPECT_EQ(post(t, url(server)).status, 200);
  // The server says close_notify while the connection is idle (after 100 ms): the next
  // request must not be written on it.
  io.run_for(400ms);
  io.restart();
  response r = post(t, url(server));
  EXPECT_EQ(r.status, 200) << r.error_detail;
  EXPECT_EQ(r.connections_opened, 1);
  EXPECT_EQ(server.connections(), 2);
  EXPECT_EQ(server.requests(), 2);  // nothing sent on the closing connection
}

TEST_F(h1_tls, AStalledHandshakeEndsAtTheDeadline) {
  tls_test_server server(pki->server, tls_test_server::mode::stall);
  h1_transport t(io, options());
  response r = post(t, url(server), 300ms);
  EXPECT_EQ(r.error, transport_error::timeout);
  EXPECT_NE(r.error_detail.find("TLS handshake"), std::string::npos) << r.error_detail;
  EXPECT_LT(r.elapsed, 3s);
  EXPECT_EQ(t.open_connections(), 0u);
}

TEST_F(h1_tls, HttpAndHttpsOriginsNeverShareConnections) {
  tls_test_server server(pki->server, tls_test_server::mode::answer);
  h1_transport t(io, options());
  EXPECT_EQ(post(t, url(server)).status, 200);
  // The same host:port over plain http: a connection of its own, which TLS then refuses
  // (the server answers a TLS alert to bytes that are not a handshake).
  response r = post(t, "http://localhost:" + std::to_string(server.port()) + "/hook", 1s);
  EXPECT_NE(r.status, 200);
  EXPECT_EQ(t.origins(), 2u);
}

}  // namespace
}  // namespace syndic::engine::http
