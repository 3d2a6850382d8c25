// A minimal publisher for `syndic run`: C connections, each posting JSON Feed documents of K
// items to /v1/publish back to back (keep-alive, one request in flight per connection), for
// D seconds or N requests. Prints acknowledged items/s and the latency of acknowledgements.
// Every answer must be a 202 (anything else is counted and reported).
//
//   publish_client HOST PORT TOKEN [connections=16] [items_per_request=1] [seconds=5]

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

struct result {
  std::uint64_t ok = 0, bad = 0;
  std::vector<double> latency_ms;
};

int connect_to(const char* host, int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  inet_pton(AF_INET, host, &a.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    std::perror("connect");
    std::exit(1);
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

std::string body_for(int conn, std::uint64_t n, int k) {
  std::string b = R"({"version":"https://jsonfeed.org/version/1.1","title":"bench","items":[)";
  for (int i = 0; i < k; ++i) {
    if (i) b += ',';
    std::string id = std::to_string(conn) + "-" + std::to_string(n) + "-" + std::to_string(i);
    b += R"({"id":")" + id + R"(","title":"Release )" + id +
         R"(","content_html":"<p>A press release of a few hundred bytes, as wires send them: a headline, a dateline, two paragraphs and a contact line.</p>","date_published":"2026-12-01T10:00:00Z"})";
  }
  return b + "]}";
}

// Reads one HTTP answer (Content-Length framed); returns its status, 0 on a broken connection.
int read_answer(int fd, std::string& buf) {
  for (;;) {
    auto end = buf.find("\r\n\r\n");
    if (end != std::string::npos) {
      int status = std::atoi(buf.c_str() + 9);
      std::size_t len = 0;
      auto cl = buf.find("Content-Length: ");
      if (cl != std::string::npos && cl < end) len = std::strtoul(buf.c_str() + cl + 16, nullptr, 10);
      if (buf.size() >= end + 4 + len) {
        buf.erase(0, end + 4 + len);
        return status;
      }
    }
    char tmp[8192];
    ssize_t n = read(fd, tmp, sizeof tmp);
    if (n <= 0) return 0;
    buf.append(tmp, static_cast<std::size_t>(n));
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: publish_client HOST PORT TOKEN [connections] [items_per_request] [seconds]\n");
    return 2;
  }
  const char* host = argv[1];
  int port = std::atoi(argv[2]);
  std::string token = argv[3];
  int conns = argc > 4 ? std::atoi(argv[4]) : 16;
  int k = argc > 5 ? std::atoi(argv[5]) : 1;
  double seconds = argc > 6 ? std::atof(argv[6]) : 5;
  auto until = clock_type::now() + std::chrono::duration<double>(seconds);
  std::vector<result> results(static_cast<std::size_t>(conns));
  std::vector<std::thread> threads;
  auto t0 = clock_type::now();
  for (int c = 0; c < conns; ++c)
    threads.emplace_back([&, c] {
      int fd = connect_to(host, port);
      std::string buf;
      result& r = results[static_cast<std::size_t>(c)];
      for (std::uint64_t n = 0; clock_type::now() < until; ++n) {
        std::string body = body_for(c, n, k);
        std::string req = "POST /v1/publish HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer " + token +
                          "\r\nContent-Type: application/feed+json\r\nContent-Length: " + std::to_string(body.size()) +
                          "\r\n\r\n" + body;
        auto s = clock_type::now();
        if (write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) break;
        int status = read_answer(fd, buf);
        if (status == 0) break;
        r.latency_ms.push_back(std::chrono::duration<double, std::milli>(clock_type::now() - s).count());
        (status == 202 ? r.ok : r.bad) += 1;
      }
      close(fd);
    });
  for (auto& t : threads) t.join();
  double elapsed = std::chrono::duration<double>(clock_type::now() - t0).count();
  std::uint64_t ok = 0, bad = 0;
  std::vector<double> lat;
  for (auto& r : results) {
    ok += r.ok;
    bad += r.bad;
    lat.insert(lat.end(), r.latency_ms.begin(), r.latency_ms.end());
  }
  std::sort(lat.begin(), lat.end());
  auto q = [&](double p) { return lat.empty() ? 0.0 : lat[std::min(lat.size() - 1, static_cast<std::size_t>(p * lat.size()))]; };
  std::printf("{\"requests\":%llu,\"refused\":%llu,\"items_acked\":%llu,\"seconds\":%.3f,\"items_per_s\":%.0f,"
              "\"requests_per_s\":%.0f,\"p50_ms\":%.2f,\"p99_ms\":%.2f}\n",
              static_cast<unsigned long long>(ok), static_cast<unsigned long long>(bad),
              static_cast<unsigned long long>(ok * static_cast<std::uint64_t>(k)), elapsed, ok * k / elapsed, ok / elapsed,
              q(0.5), q(0.99));
  return bad ? 1 : 0;
}
