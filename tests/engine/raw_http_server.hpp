#pragma once
// A loopback HTTP/1.1 server for transport tests that must misbehave in ways a real server
// will not: answer twice, answer at odd moments, show the exact bytes it received. Blocking
// POSIX sockets, one thread per connection; every wait is bounded (poll with a timeout).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace syndic::engine::testing {

class raw_http_server {
public:
  // Called for each request read (its head and body as received); writes its answer to `fd`.
  using responder = std::function<void(int fd, const std::string& request, std::size_t nth)>;

  explicit raw_http_server(responder r, int backlog = 16) : respond_(std::move(r)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(listener_, backlog);
    socklen_t len = sizeof a;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    if (respond_) acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~raw_http_server() {
    stop_ = true;
    if (acceptor_.joinable()) acceptor_.join();
    for (auto& t : workers_) t.join();
    ::close(listener_);
  }

  std::uint16_t port() const { return port_; }
  std::size_t connections() const { return connections_; }
  std::vector<std::string> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  static void send_all(int fd, const std::string& s) {
    std::size_t off = 0;
    while (off < s.size()) {
      ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return;
      off += static_cast<std::size_t>(n);
    }
  }

private:
  bool wait_readable(int fd, int ms) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, ms) > 0;
  }
  void accept_loop() {
    while (!stop_) {
      if (!wait_readable(listener_, 20)) continue;
      int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0) continue;
      ++connections_;
      workers_.emplace_back([this, fd] { serve(fd); });
    }
  }
  void serve(int fd) {
    std::string in;
    char buf[4096];
    while (!stop_) {
      auto end = in.find("\r\n\r\n");
      if (end != std::string::npos) {
        std::size_t body = 0;
        auto cl = in.find("Content-Length: ");
        if (cl != std::string::npos && cl < end) body = std::stoul(in.substr(cl + 16));
        if (in.size() >= end + 4 + body) {
          std::string request = in.substr(0, end + 4 + body);
          in.erase(0, request.size());
          std::size_t nth;
          {
            std::lock_guard lock(mutex_);
            requests_.push_back(request);
            nth = requests_.size();
          }
          respond_(fd, request, nth);
          continue;
        }
      }
      if (!wait_readable(fd, 20)) continue;
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      in.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
  }

  responder respond_;
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> connections_{0};
  std::thread acceptor_;
  std::vector<std::thread> workers_;  // touched by the acceptor thread, joined after it
  mutable std::mutex mutex_;
  std::vector<std::string> requests_;
};

}  // namespace syndic::engine::testing
