// A minimal blocking HTTP/1.1 client for the daemon's API: one request per connection
// (Connection: close), read to the end. The driver makes a few hundred calls at most per run.

#include "testkit/loadtest_parts.hpp"

#include <charconv>
#include <cstring>

#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace syndic::testkit::detail {

http_answer http_call(const std::string& base_url, const std::string& method, const std::string& target,
                      const std::string& token, const std::string& content_type, const std::string& body,
                      double timeout_s) {
  http_answer a;
  std::string_view u = base_url;
  if (!u.starts_with("http://")) {
    a.error = "only http:// URLs: " + base_url;
    return a;
  }
  u.remove_prefix(7);
  if (auto slash = u.find('/'); slash != std::string_view::npos) u = u.substr(0, slash);
  std::string host(u), port = "80";
  if (auto colon = u.rfind(':'); colon != std::string_view::npos) {
    host = std::string(u.substr(0, colon));
    port = std::string(u.substr(colon + 1));
  }
  addrinfo hints{}, *res = nullptr;
  hints.ai_socktype = SOCK_STREAM;
  if (int e = getaddrinfo(host.c_str(), port.c_str(), &hints, &res); e != 0) {
    a.error = "cannot resolve " + host + ": " + gai_strerror(e);
    return a;
  }
  int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval tv{static_cast<time_t>(timeout_s), static_cast<suseconds_t>((timeout_s - static_cast<double>(static_cast<time_t>(timeout_s))) * 1e6)};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
    a.error = "cannot connect to " + host + ":" + port + ": " + std::strerror(errno);
    freeaddrinfo(res);
    if (fd >= 0) close(fd);
    return a;
  }
  freeaddrinfo(res);
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: " + std::string(u) + "\r\nConnection: close\r\n";
  if (!token.empty()) req += "Authorization: Bearer " + token + "\r\n";
  if (!content_type.empty()) req += "Content-Type: " + content_type + "\r\n";
  req += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  req += body;
  for (std::size_t sent = 0; sent < req.size();) {
    ssize_t n = send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      a.error = std::string("send: ") + std::strerror(errno);
      close(fd);
      return a;
    }
    sent += static_cast<std::size_t>(n);
  }
  std::string in;
  char buf[16384];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    in.append(buf, static_cast<std::size_t>(n));
  }
  close(fd);
  auto head_end = in.find("\r\n\r\n");
  if (!in.starts_with("HTTP/1.") || in.size() < 12 || head_end == std::string::npos) {
    a.error = "no HTTP answer from " + base_url;
    return a;
  }
  std::from_chars(in.data() + 9, in.data() + 12, a.status);
  std::string_view head(in.data(), head_end);
  a.body = in.substr(head_end + 4);
  // Chunked answers (the daemon's larger ones): joined.
  if (head.find("chunked") != std::string_view::npos || head.find("Chunked") != std::string_view::npos) {
    std::string joined;
    std::string_view rest = a.body;
    while (!rest.empty()) {
      std::size_t len = 0;
      auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), len, 16);
      auto eol = rest.find("\r\n");
      if (ec != std::errc{} || eol == std::string_view::npos || len == 0) break;
      rest.remove_prefix(eol + 2);
      joined.append(rest.substr(0, len));
      rest.remove_prefix(std::min(rest.size(), len + 2));
    }
    a.body = std::move(joined);
  }
  return a;
}

}  // namespace syndic::testkit::detail
