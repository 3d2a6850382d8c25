// The reference of bench/delivery/compare.sh: about the least a program can do to POST the
// same body ITEMS times to every URL of a list over HTTP/1.1 keep-alive. One non-blocking
// connection per URL, one epoll set, one request in flight per connection; each request is
// one send() of a head and body built once, each answer one recv() parsed only as far as the
// status and Content-Length. No TLS, no chunked answers, no redirects: nginx's `return 204`
// is all it has to talk to. syndic's defaults are measured against what this costs.
//
//   epoll_client URLS_FILE ITEMS_PER_URL [BODY_BYTES]
//
// URLs are http://IPV4:PORT/PATH (no name resolution: the benchmark uses 127.0.0.1). Prints
// one JSON line: delivered, failed, connections, elapsed, deliveries/s and the process's CPU
// time (getrusage: user + sys) per delivery in microseconds.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

struct connection {
  sockaddr_in address{};
  std::string request;      // head + body, built once
  std::size_t sent = 0;     // bytes of `request` written so far
  std::string answer;       // bytes of the current answer received so far
  int fd = -1;
  int remaining = 0;        // requests still to send, counting the one in flight
  bool connecting = false;
  bool want_write = false;  // registered for EPOLLOUT (connect or a short write)
};

bool parse_url(const std::string& url, sockaddr_in& address, std::string& host_port, std::string& path) {
  constexpr std::string_view scheme = "http://";
  if (url.compare(0, scheme.size(), scheme) != 0) return false;
  std::size_t host_start = scheme.size();
  std::size_t slash = url.find('/', host_start);
  host_port = url.substr(host_start, slash == std::string::npos ? std::string::npos : slash - host_start);
  path = slash == std::string::npos ? "/" : url.substr(slash);
  std::size_t colon = host_port.rfind(':');
  std::string host = host_port.substr(0, colon);
  int port = colon == std::string::npos ? 80 : std::atoi(host_port.c_str() + colon + 1);
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  return inet_pton(AF_INET, host.c_str(), &address.sin_addr) == 1;
}

// Length of a complete answer at the start of `a` (head + Content-Length body), 0 when more
// bytes are needed, -1 when the answer is not one this client understands.
long complete_answer(const std::string& a, int& status) {
  std::size_t end = a.find("\r\n\r\n");
  if (end == std::string::npos) return 0;
  if (a.size() < 12 || a.compare(0, 5, "HTTP/") != 0) return -1;
  status = std::atoi(a.c_str() + 9);
  long body = 0;
  // Header names are case-insensitive; nginx writes "Content-Length", others may not.
  for (std::size_t line = a.find("\r\n") + 2; line < end;) {
    std::size_t next = a.find("\r\n", line);
    if (next - line > 15 && strncasecmp(a.c_str() + line, "content-length:", 15) == 0)
      body = std::atol(a.c_str() + line + 15);
    line = next + 2;
  }
  if (status == 204 || status == 304 || status / 100 == 1) body = 0;
  std::size_t total = end + 4 + static_cast<std::size_t>(body);
  return a.size() >= total ? static_cast<long>(total) : 0;
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s URLS_FILE ITEMS_PER_URL [BODY_BYTES]\n", argv[0]);
    return 2;
  }
  int items = std::atoi(argv[2]);
  std::size_t body_bytes = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 1024;
  std::string body(body_bytes, 'x');
  if (body_bytes >= 2) body.front() = '{', body.back() = '}';

  std::vector<connection> conns;
  std::ifstream in(argv[1]);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    connection c;
    std::string host_port, path;
    if (!parse_url(line, c.address, host_port, path)) {
      std::fprintf(stderr, "epoll_client: not an http://IPV4:PORT/ URL: %s\n", line.c_str());
      return 2;
    }
    c.request = "POST " + path + " HTTP/1.1\r\nHost: " + host_port +
                "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                "\r\n\r\n" + body;
    c.remaining = items;
    conns.push_back(std::move(c));
  }
  if (conns.empty() || items <= 0) return 2;

  int ep = epoll_create1(EPOLL_CLOEXEC);
  long delivered = 0, failed = 0, connections = 0;
  std::size_t finished = 0;  // connections with nothing left to send
  char buffer[16384];

  // Opens (or reopens) the connection of `i`; its first write happens when it is writable.
  auto open = [&](std::size_t i) {
    connection& c = conns[i];
    c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ++connections;
    int r = connect(c.fd, reinterpret_cast<const sockaddr*>(&c.address), sizeof c.address);
    if (r != 0 && errno != EINPROGRESS) return false;
    c.connecting = true;
    c.want_write = true;
    c.sent = 0;
    c.answer.clear();
    epoll_event ev{EPOLLOUT | EPOLLIN, {.u64 = i}};
    epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
    return true;
  };
  auto close_conn = [&](connection& c) {
    close(c.fd);  // also leaves the epoll set
    c.fd = -1;
  };
  // Writes what is left of the current request; waits for EPOLLOUT only after a short write.
  auto write_some = [&](std::size_t i) {
    connection& c = conns[i];
    while (c.sent < c.request.size()) {
      ssize_t n = send(c.fd, c.request.data() + c.sent, c.request.size() - c.sent, MSG_NOSIGNAL);
      if (n > 0) { c.sent += static_cast<std::size_t>(n); continue; }
      if (n < 0 && errno == EAGAIN) break;
      return false;
    }
    bool want = c.sent < c.request.size();
    if (want != c.want_write) {
      epoll_event ev{want ? EPOLLIN | EPOLLOUT : EPOLLIN, {.u64 = i}};
      epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
      c.want_write = want;
    }
    return true;
  };
  // A connection that failed: its current request counts as failed; reconnect for the rest.
  auto fail = [&](std::size_t i) {
    connection& c = conns[i];
    close_conn(c);
    ++failed;
    if (--c.remaining == 0 || !open(i)) {
      failed += c.remaining;
      c.remaining = 0;
      ++finished;
    }
  };

  auto t0 = std::chrono::steady_clock::now();
  double cpu0 = cpu_seconds();
  for (std::size_t i = 0; i < conns.size(); ++i)
    if (!open(i)) fail(i);

  std::vector<epoll_event> events(1024);
  const auto deadline = t0 + std::chrono::seconds(120);  // never hang a benchmark run
  while (finished < conns.size() && std::chrono::steady_clock::now() < deadline) {
    int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), 1000);
    for (int k = 0; k < n; ++k) {
      std::size_t i = events[k].data.u64;
      connection& c = conns[i];
      if (c.fd < 0) continue;
      if (c.connecting) {
        if (!(events[k].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) continue;
        int error = 0;
        socklen_t len = sizeof error;
        getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &error, &len);
        if (error != 0) { fail(i); continue; }
        c.connecting = false;
        if (!write_some(i)) fail(i);
        continue;
      }
      if ((events[k].events & EPOLLOUT) && c.sent < c.request.size() && !write_some(i)) { fail(i); continue; }
      if (!(events[k].events & (EPOLLIN | EPOLLERR | EPOLLHUP))) continue;
      ssize_t got = recv(c.fd, buffer, sizeof buffer, 0);
      if (got < 0 && errno == EAGAIN) continue;
      if (got <= 0) { fail(i); continue; }
      c.answer.append(buffer, static_cast<std::size_t>(got));
      int status = 0;
      long used = complete_answer(c.answer, status);
      if (used == 0) continue;
      if (used < 0 || static_cast<std::size_t>(used) != c.answer.size()) { fail(i); continue; }
      if (status / 100 == 2) ++delivered; else ++failed;
      c.answer.clear();
      if (--c.remaining == 0) {
        close_conn(c);
        ++finished;
        continue;
      }
      c.sent = 0;
      if (!write_some(i)) fail(i);
    }
  }
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double cpu = cpu_seconds() - cpu0;
  for (auto& c : conns) {
    failed += c.remaining;  // left when the deadline passed
    if (c.fd >= 0) close(c.fd);
  }
  std::printf("{\"delivered\":%ld,\"failed\":%ld,\"connections\":%ld,\"elapsed_s\":%.3f,"
              "\"deliveries_per_s\":%.0f,\"cpu_us_per_delivery\":%.2f}\n",
              delivered, failed, connections, elapsed, delivered / elapsed,
              delivered ? cpu * 1e6 / static_cast<double>(delivered) : 0.0);
  return failed ? 1 : 0;
}
