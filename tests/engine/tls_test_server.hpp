#pragma once
// A loopback HTTPS/1.1 server for the h1 transport's TLS tests, with a private CA made in
// memory (ECDSA P-256, as the benchmark's nginx uses): blocking OpenSSL on POSIX sockets,
// one thread per connection, every wait bounded (poll and SO_RCVTIMEO). It records what the
// client did: connections, handshakes, resumed sessions, the ALPN list and SNI offered.

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <csignal>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace syndic::engine::testing {

// A key and a certificate, as PEM.
struct test_identity {
  std::string key_pem, cert_pem;
};

inline std::string pem_of(X509* x) {
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(b, x);
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  std::string out(data, static_cast<std::size_t>(n));
  BIO_free(b);
  return out;
}

inline std::string pem_of(EVP_PKEY* k) {
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(b, k, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  std::string out(data, static_cast<std::size_t>(n));
  BIO_free(b);
  return out;
}

// A private CA and a server certificate it signed for `names` (DNS:localhost, IP:127.0.0.1...).
struct test_pki {
  test_identity ca, server;

  explicit test_pki(const std::string& san = "DNS:localhost,IP:127.0.0.1") {
    EVP_PKEY* ca_key = EVP_EC_gen("P-256");
    EVP_PKEY* server_key = EVP_EC_gen("P-256");
    X509* ca_cert = make(ca_key, nullptr, ca_key, "syndic test CA", nullptr, 1);
    X509* server_cert = make(server_key, ca_cert, ca_key, "syndic test server", san.c_str(), 2);
    ca = {pem_of(ca_key), pem_of(ca_cert)};
    server = {pem_of(server_key), pem_of(server_cert)};
    X509_free(server_cert);
    X509_free(ca_cert);
    EVP_PKEY_free(server_key);
    EVP_PKEY_free(ca_key);
  }

private:
  static void extend(X509* cert, X509* issuer, int nid, const char* value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer ? issuer : cert, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
  }
  static X509* make(EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key, const char* cn, const char* san, long serial) {
    X509* x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 2 * 86400);
    X509_set_pubkey(x, key);
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
    if (!issuer) {
      extend(x, nullptr, NID_basic_constraints, "critical,CA:TRUE");
      extend(x, nullptr, NID_key_usage, "critical,keyCertSign,cRLSign");
      extend(x, nullptr, NID_subject_key_identifier, "hash");
    } else {
      extend(x, issuer, NID_basic_constraints, "critical,CA:FALSE");
      extend(x, issuer, NID_subject_alt_name, san);
      extend(x, issuer, NID_authority_key_identifier, "keyid");
    }
    X509_sign(x, issuer_key, EVP_sha256());
    return x;
  }
};

// A file that is removed when the object goes.
struct temp_file {
  std::string path;
  explicit temp_file(const std::string& text) {
    char name[] = "/tmp/syndic-tls-XXXXXX";
    int fd = ::mkstemp(name);
    path = name;
    if (fd >= 0) {
      (void)!::write(fd, text.data(), text.size());
      ::close(fd);
    }
  }
  ~temp_file() { std::filesystem::remove(path); }
};

class tls_test_server {
public:
  enum class mode {
    answer,            // 200 to every request, keep-alive
    answer_and_close,  // 200 with Connection: close, then close (with close_notify)
    notify_when_idle,  // 200, then close_notify a moment later while the connection is idle
    stall,             // accept the TCP connection and never handshake
  };

  tls_test_server(const test_identity& id, mode m) : mode_(m) {
    // OpenSSL writes with write(2): a client that closed first must not kill the test.
    ::signal(SIGPIPE, SIG_IGN);
    ctx_ = SSL_CTX_new(TLS_server_method());
    BIO* cb = BIO_new_mem_buf(id.cert_pem.data(), static_cast<int>(id.cert_pem.size()));
    X509* cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
    BIO_free(cb);
    BIO* kb = BIO_new_mem_buf(id.key_pem.data(), static_cast<int>(id.key_pem.size()));
    EVP_PKEY* key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
    BIO_free(kb);
    SSL_CTX_use_certificate(ctx_, cert);
    SSL_CTX_use_PrivateKey(ctx_, key);
    X509_free(cert);
    EVP_PKEY_free(key);
    static const unsigned char sid[] = "syndic-test";
    SSL_CTX_set_session_id_context(ctx_, sid, sizeof sid - 1);
    SSL_CTX_set_alpn_select_cb(ctx_, &tls_test_server::select_alpn, this);

    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(listener_, 16);
    socklen_t len = sizeof a;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }

  ~tls_test_server() {
    stop_ = true;
    acceptor_.join();
    {
      std::lock_guard lock(mutex_);
      for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
    }
    for (auto& t : workers_) t.join();
    ::close(listener_);
    SSL_CTX_free(ctx_);
  }

  std::uint16_t port() const { return port_; }
  int connections() const { return connections_; }
  int handshakes() const { return handshakes_; }
  int resumed() const { return resumed_; }
  int requests() const { return requests_; }
  std::string alpn_offered() const {
    std::lock_guard lock(mutex_);
    return alpn_offered_;
  }
  std::string sni() const {
    std::lock_guard lock(mutex_);
    return sni_;
  }

private:
  static int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                         unsigned int inlen, void* self) {
    auto* s = static_cast<tls_test_server*>(self);
    std::string offered;
    for (unsigned i = 0; i < inlen; i += 1 + in[i])
      offered += (offered.empty() ? "" : ",") + std::string(reinterpret_cast<const char*>(in + i + 1), in[i]);
    {
      std::lock_guard lock(s->mutex_);
      s->alpn_offered_ = offered;
    }
    // It speaks HTTP/1.1 only: http/1.1 when offered (libcurl offers h2 first), else the first.
    *out = in + 1;
    *outlen = in[0];
    for (unsigned i = 0; i < inlen; i += 1 + in[i])
      if (std::string_view(reinterpret_cast<const char*>(in + i + 1), in[i]) == "http/1.1") {
        *out = in + i + 1;
        *outlen = in[i];
      }
    return SSL_TLSEXT_ERR_OK;
  }

  void accept_loop() {
    for (int rounds = 0; !stop_ && rounds < 60 * 20; ++rounds) {  // 60 s at most
      pollfd p{listener_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0) continue;
      timeval tv{5, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      ++connections_;
      std::lock_guard lock(mutex_);
      fds_.push_back(fd);
      workers_.emplace_back([this, fd] { serve(fd); });
    }
  }

  void serve(int fd) {
    if (mode_ == mode::stall) {
      char byte;
      while (!stop_ && ::recv(fd, &byte, 1, 0) > 0) {
      }
      return forget(fd);
    }
    SSL* ssl = SSL_new(ctx_);
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) == 1) {
      ++handshakes_;
      if (SSL_session_reused(ssl)) ++resumed_;
      if (const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name)) {
        std::lock_guard lock(mutex_);
        sni_ = name;
      }
      serve_requests(ssl);
    }
    SSL_free(ssl);
    forget(fd);
  }

  // Closed under the mutex, so that the destructor never shuts down a number reused since.
  void forget(int fd) {
    std::lock_guard lock(mutex_);
    std::erase(fds_, fd);
    ::close(fd);
  }

  void serve_requests(SSL* ssl) {
    std::string in;
    char buf[4096];
    for (int n = 0; n < 1000 && !stop_;) {
      auto end = in.find("\r\n\r\n");
      if (end == std::string::npos) {
        int got = SSL_read(ssl, buf, sizeof buf);
        if (got <= 0) return;
        in.append(buf, static_cast<std::size_t>(got));
        continue;
      }
      std::size_t length = 0;
      if (auto cl = in.find("Content-Length: "); cl != std::string::npos && cl < end)
        length = std::stoul(in.substr(cl + 16));
      if (in.size() < end + 4 + length) {
        int got = SSL_read(ssl, buf, sizeof buf);
        if (got <= 0) return;
        in.append(buf, static_cast<std::size_t>(got));
        continue;
      }
      in.erase(0, end + 4 + length);
      ++n;
      ++requests_;
      bool close = mode_ == mode::answer_and_close;
      std::string answer = close ? "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
                                 : "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
      SSL_write(ssl, answer.data(), static_cast<int>(answer.size()));
      if (close || mode_ == mode::notify_when_idle) {
        if (mode_ == mode::notify_when_idle) std::this_thread::sleep_for(std::chrono::milliseconds(100));
        SSL_shutdown(ssl);
        // Wait (bounded by SO_RCVTIMEO) for the client to close before closing: a reset
        // would race with the client's read of the answer.
        while (SSL_read(ssl, buf, sizeof buf) > 0) {
        }
        return;
      }
    }
  }

  mode mode_;
  SSL_CTX* ctx_ = nullptr;
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0}, handshakes_{0}, resumed_{0}, requests_{0};
  mutable std::mutex mutex_;
  std::string alpn_offered_, sni_;
  std::vector<int> fds_;
  std::vector<std::thread> workers_;
  std::thread acceptor_;
};

}  // namespace syndic::engine::testing
