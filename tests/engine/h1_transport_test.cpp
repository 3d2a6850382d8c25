// The plain-HTTP client on its own, against the sink on loopback: connection lifetime.

#include "http/h1_transport.hpp"
#include "raw_http_server.hpp"

#include <syndic/testkit/sink.hpp>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <condition_variable>
#include <future>

#include <sys/resource.h>

namespace syndic::engine::http {
namespace {

using namespace syndic::testkit;  // the sink plays the outlets

using namespace std::chrono_literals;

struct h1_fixture : ::testing::Test {
  std::unique_ptr<sink> server;
  std::string url;
  void SetUp() override {
    server = std::make_unique<sink>(sink_options{});
    server->start();
    url = "http://127.0.0.1:" + std::to_string(server->ports().front()) + "/x";
  }
  // Posts one request and runs the io_context for `run`; returns the status.
  int post_and_run(h1_transport& t, boost::asio::io_context& io, std::chrono::milliseconds run) {
    int status = -1;
    request r;
    r.url = url;
    r.body = std::make_shared<const std::string>("{}");
    t.post(r, [&](response resp) { status = resp.status; });
    io.run_for(run);
    io.restart();
    return status;
  }
};

TEST_F(h1_fixture, KeptAliveConnectionIsReused) {
  boost::asio::io_context io;
  h1_transport t(io);
  EXPECT_EQ(post_and_run(t, io, 200ms), 204);
  EXPECT_EQ(post_and_run(t, io, 200ms), 204);
  EXPECT_EQ(t.open_connections(), 1u);
  EXPECT_EQ(server->stats().connections, 1u);
}

TEST_F(h1_fixture, IdleConnectionsAreClosedAfterTheirTimeout) {
  boost::asio::io_context io;
  h1_options o;
  o.idle_timeout = 100ms;
  h1_transport t(io, o);
  EXPECT_EQ(post_and_run(t, io, 400ms), 204);  // the idle check runs every 50 ms
  EXPECT_EQ(t.open_connections(), 0u);
  EXPECT_EQ(post_and_run(t, io, 200ms), 204);  // a new connection, no failure
  EXPECT_EQ(server->stats().connections, 2u);
}

using testing::raw_http_server;
using tcp = boost::asio::ip::tcp;

// Runs the io_context until `done()` or `limit` passes (bounded either way).
template <class Done>
void run_until(boost::asio::io_context& io, Done done, std::chrono::milliseconds limit = 5000ms) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < end) {
    io.run_for(10ms);
    io.restart();
  }
}

request make_request(const std::string& url, std::chrono::milliseconds timeout = 5000ms) {
  request r;
  r.url = url;
  r.body = std::make_shared<const std::string>("{}");
  r.timeout = timeout;
  return r;
}

std::string loopback(std::uint16_t port, const std::string& path = "/x") {
  return "http://127.0.0.1:" + std::to_string(port) + path;
}

// A server that answers each request twice, the second answer a little later, as a broken
// proxy might. The second answer must never be read as the answer to our next request
// (which may be another outlet's): the connection it arrives on is closed instead.
TEST(H1Transport, UnaskedForBytesCloseTheConnection) {
  raw_http_server server([](int fd, const std::string&, std::size_t) {
    raw_http_server::send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    std::this_thread::sleep_for(30ms);
    raw_http_server::send_all(fd, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
  });
  boost::asio::io_context io;
  h1_transport t(io);
  for (int i = 0; i < 3; ++i) {
    int status = -1;
    t.post(make_request(loopback(server.port())), [&](response r) { status = r.status; });
    run_until(io, [&] { return status != -1; });
    EXPECT_EQ(status, 200) << "request " << i;
    io.run_for(150ms);  // the late second answer arrives while the connection is idle
    io.restart();
  }
  EXPECT_EQ(server.connections(), 3u);
}

TEST(H1Transport, TwoAnswersInOneSegmentCloseTheConnection) {
  raw_http_server server([](int fd, const std::string&, std::size_t) {
    raw_http_server::send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
  });
  boost::asio::io_context io;
  h1_transport t(io);
  for (int i = 0; i < 2; ++i) {
    int status = -1;
    t.post(make_request(loopback(server.port())), [&](response r) { status = r.status; });
    run_until(io, [&] { return status != -1; });
    EXPECT_EQ(status, 200) << "request " << i;
  }
  EXPECT_EQ(server.connections(), 2u);
}

// A Link header is built from feed URLs: CR/LF in one must not start a header of its own.
// (h1 used to drop the whole header silently; libcurl sent it as given.)
TEST(H1Transport, HeaderValuesCannotStartAHeader) {
  raw_http_server server([](int fd, const std::string&, std::size_t) {
    raw_http_server::send_all(fd, "HTTP/1.1 204 No Content\r\n\r\n");
  });
  boost::asio::io_context io;
  h1_transport t(io);
  auto r = make_request(loopback(server.port()));
  r.headers.push_back("Link: <http://hub/\r\nX-Injected: 1>; rel=\"hub\"");
  int status = -1;
  t.post(r, [&](response resp) { status = resp.status; });
  run_until(io, [&] { return status != -1; });
  EXPECT_EQ(status, 204);
  auto got = server.requests();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].find("\r\nX-Injected"), std::string::npos) << got[0];
  EXPECT_NE(got[0].find("\r\nLink: <http://hub/%0D%0AX-Injected: 1>; rel=\"hub\"\r\n"), std::string::npos) << got[0];
}

// Header lines are checked 8 bytes at a time: every control byte, at every offset within a
// word, is still encoded (and HTAB, DEL's neighbours and UTF-8 are sent as they are).
TEST(H1Transport, EveryControlByteIsEncodedWhereverItFalls) {
  raw_http_server server([](int fd, const std::string&, std::size_t) {
    raw_http_server::send_all(fd, "HTTP/1.1 204 No Content\r\n\r\n");
  });
  boost::asio::io_context io;
  h1_transport t(io);
  auto r = make_request(loopback(server.port()));
  std::vector<std::string> expected;
  for (int c = 0; c < 0x80; ++c) {
    if (c >= 0x20 && c != 0x7f) continue;
    for (std::size_t offset : {0, 3, 7, 8, 13}) {
      std::string line = "X-" + std::string(offset, 'a') + ": v";
      line += static_cast<char>(c);
      line += "\xc3\xa9~\x80 end";
      r.headers.push_back(line);
      expected.push_back(safe_header_line(line));
    }
  }
  r.headers.push_back("X-Clean: tab\there, UTF-8 \xc3\xa9, tilde ~ and space");
  int status = -1;
  t.post(r, [&](response resp) { status = resp.status; });
  run_until(io, [&] { return status != -1; });
  EXPECT_EQ(status, 204);
  auto got = server.requests();
  ASSERT_EQ(got.size(), 1u);
  for (const auto& line : expected) {
    EXPECT_NE(got[0].find("\r\n" + line + "\r\n"), std::string::npos) << line;
    EXPECT_EQ(line.find_first_of(std::string("\0\r\n\x7f", 4)), std::string::npos) << line;
  }
  EXPECT_NE(got[0].find("\r\nX-Clean: tab\there, UTF-8 \xc3\xa9, tilde ~ and space\r\n"), std::string::npos);
}

// An origin_hint only saves a lookup: a hint to another origin, or one kept while its origin
// was pruned (idle, unused), still sends each request to its own URL's server.
TEST(H1Transport, AnOriginHintNeverSendsARequestElsewhere) {
  auto answer = [](int fd, const std::string&, std::size_t) {
    raw_http_server::send_all(fd, "HTTP/1.1 204 No Content\r\n\r\n");
  };
  raw_http_server a(answer), b(answer);
  boost::asio::io_context io;
  h1_options o;
  o.idle_timeout = 100ms;
  h1_transport t(io, o);
  origin_hint hint;
  auto send = [&](std::uint16_t port) {
    int status = -1;
    t.post(make_request(loopback(port)), header_block{}, [&](response resp) { status = resp.status; }, &hint);
    run_until(io, [&] { return status != -1; });
    return status;
  };
  EXPECT_EQ(send(a.port()), 204);
  EXPECT_EQ(send(b.port()), 204);  // the hint names a's origin
  EXPECT_EQ(send(a.port()), 204);
  EXPECT_EQ(a.requests().size(), 2u);
  EXPECT_EQ(b.requests().size(), 1u);
  EXPECT_EQ(t.origins(), 2u);
  // Both origins go once unused for the idle timeout (checked every 50 ms); the hint stays.
  run_until(io, [&] { return t.origins() == 0; }, 2000ms);
  ASSERT_EQ(t.origins(), 0u);
  EXPECT_EQ(send(a.port()), 204);
  EXPECT_EQ(send(b.port()), 204);
  EXPECT_EQ(a.requests().size(), 3u);
  EXPECT_EQ(b.requests().size(), 2u);
  EXPECT_EQ(t.origins(), 2u);
}

// The shard's header lines come as a block (header_block): names and values of every length
// (the tail of a word is checked apart from whole words), with a control byte at every
// offset, are encoded as safe_header_line encodes them, in the order they were added, and
// split back into request::headers' lines for libcurl unchanged.
TEST(H1Transport, AHeaderBlockEncodesEveryControlByteWhereverItFalls) {
  raw_http_server server([](int fd, const std::string&, std::size_t) {
    raw_http_server::send_all(fd, "HTTP/1.1 204 No Content\r\n\r\n");
  });
  boost::asio::io_context io;
  h1_transport t(io);
  header_block block;
  std::vector<std::string> expected;
  for (int c : {0x00, 0x0a, 0x0d, 0x1f, 0x7f})
    for (std::size_t length = 1; length <= 17; ++length)
      for (std::size_t at = 0; at < length; ++at) {
        std::string value(length, 'v');
        value[at] = static_cast<char>(c);
        std::string name = "X-" + std::to_string(length) + "-" + std::to_string(at);
        block.add(name, value);
        expected.push_back(safe_header_line(name + ": " + value));
      }
  block.add("X-Name\r\nInjected", "1");
  expected.push_back("X-Name%0D%0AInjected: 1");
  block.add("X-Number", std::int64_t{-1733100000});
  expected.push_back("X-Number: -1733100000");
  block.add("X-Clean", "tab\there, UTF-8 \xc3\xa9, tilde ~");
  expected.push_back("X-Clean: tab\there, UTF-8 \xc3\xa9, tilde ~");
  std::vector<std::string> split;
  block.split_into(split);
  EXPECT_EQ(split, expected);
  int status = -1;
  t.post(make_request(loopback(server.port())), block, [&](response resp) { status = resp.status; });
  run_until(io, [&] { return status != -1; });
  EXPECT_EQ(status, 204);
  auto got = server.requests();
  ASSERT_EQ(got.size(), 1u);
  std::string lines;
  for (const auto& line : expected) {
    EXPECT_EQ(line.find_first_of(std::string("\0\r\n\x7f", 4)), std::string::npos) << line;
    lines += line + "\r\n";
  }
  EXPECT_NE(got[0].find("\r\n" + lines), std::string::npos) << got[0];
}

// The wait for a connection (per-host cap) is part of the one deadline: the second request
// times out while the first still holds the only connection. It used to wait, then start
// its own full timeout.
TEST(H1Transport, WaitForAConnectionCountsAgainstTheDeadline) {
  sink_options so;
  so.default_behaviour.latency = latency_distribution(700ms);
  sink server(so);
  server.start();
  boost::asio::io_context io;
  h1_options o;
  o.max_host_connections = 1;
  h1_transport t(io, o);
  std::string url = loopback(server.ports().front());
  std::vector<int> order;
  response first, second;
  t.post(make_request(url, 5000ms), [&](response r) { first = r; order.push_back(1); });
  t.post(make_request(url, 200ms), [&](response r) { second = r; order.push_back(2); });
  run_until(io, [&] { return order.size() == 2; });
  ASSERT_EQ(order, (std::vector<int>{2, 1}));
  EXPECT_EQ(second.error, transport_error::timeout);
  EXPECT_EQ(first.status, 204);
}

// A lookup that hangs holds up only its own name (lookups used to run one at a time per
// shard), and a request waiting for it ends at its deadline.
TEST(H1Transport, SlowLookupHoldsUpNoOtherName) {
  sink server(sink_options{});
  server.start();
  std::uint16_t port = server.ports().front();
  auto release = std::make_shared<std::promise<void>>();
  std::shared_future<void> released = release->get_future().share();
  h1_options o;
  o.resolve = [port, released](const std::string& host, std::uint16_t, std::string& error) {
    if (host == "slow.test") {
      released.wait_for(3s);
      error = "no such name";
      return std::vector<tcp::endpoint>{};
    }
    return std::vector<tcp::endpoint>{tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port)};
  };
  boost::asio::io_context io;
  h1_transport t(io, o);
  std::vector<std::string> order;
  response slow, fast;
  t.post(make_request("http://slow.test/x", 500ms), [&](response r) { slow = r; order.push_back("slow"); });
  t.post(make_request("http://fast.test/x", 3000ms), [&](response r) { fast = r; order.push_back("fast"); });
  run_until(io, [&] { return order.size() == 2; });
  release->set_value();
  ASSERT_EQ(order, (std::vector<std::string>{"fast", "slow"}));
  EXPECT_EQ(fast.status, 204);
  EXPECT_EQ(slow.error, transport_error::timeout);
}

// An expired answer is used while a fresh one is looked up: a hanging refresh delays nothing.
TEST(H1Transport, ExpiredDnsAnswerServesWhileItIsRefreshed) {
  sink server(sink_options{});
  server.start();
  std::uint16_t port = server.ports().front();
  auto release = std::make_shared<std::promise<void>>();
  std::shared_future<void> released = release->get_future().share();
  auto calls = std::make_shared<std::atomic<int>>(0);
  h1_options o;
  o.dns_ttl = 0s;
  o.resolve = [port, released, calls](const std::string&, std::uint16_t, std::string&) {
    if ((*calls)++ > 0) released.wait_for(3s);  // every refresh hangs
    return std::vector<tcp::endpoint>{tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port)};
  };
  boost::asio::io_context io;
  h1_transport t(io, o);
  for (int i = 0; i < 2; ++i) {
    int status = -1;
    t.post(make_request("http://name.test/x", 1000ms), [&](response r) { status = r.status; });
    run_until(io, [&] { return status != -1; });
    EXPECT_EQ(status, 204) << i;
    io.run_for(20ms);
    io.restart();
  }
  release->set_value();
  EXPECT_GE(calls->load(), 2);
}

// A listening socket whose accept queue is full drops new SYNs: connecting to it hangs, as
// to a host that is down.
struct blackhole {
  raw_http_server server{nullptr, 0};
  std::vector<int> fillers;
  blackhole() {
    for (int i = 0; i < 2; ++i) {
      int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(server.port());
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
      fillers.push_back(fd);
    }
    std::this_thread::sleep_for(50ms);
  }
  ~blackhole() {
    for (int fd : fillers) ::close(fd);
  }
};

// A name with two addresses, the first of which never answers: the second is tried within
// the same deadline. One connect attempt used to cover every address, and the first one took
// all the time there was.
TEST(H1Transport, EachAddressIsTriedInTurn) {
  blackhole dead;
  sink server(sink_options{});
  server.start();
  auto lo = boost::asio::ip::make_address("127.0.0.1");
  std::vector<tcp::endpoint> addresses{tcp::endpoint(lo, dead.server.port()), tcp::endpoint(lo, server.ports().front())};
  h1_options o;
  o.resolve = [addresses](const std::string&, std::uint16_t, std::string&) { return addresses; };
  boost::asio::io_context io;
  h1_transport t(io, o);
  response got;
  bool done = false;
  t.post(make_request("http://two.test/x", 2000ms), [&](response r) { got = r; done = true; });
  run_until(io, [&] { return done; });
  EXPECT_EQ(got.status, 204) << got.error_detail;
}

// The connection budget: an idle connection to one host is closed to make room for another
// host; with every unit busy, the request fails as *our* shortage, not the outlet's.
TEST(H1Transport, BudgetReclaimsIdleConnectionsThenFailsLocally) {
  sink_options slow_options;
  slow_options.default_behaviour.latency = latency_distribution(800ms);
  sink a(sink_options{}), b(sink_options{}), slow(slow_options);
  a.start();
  b.start();
  slow.start();
  h1_options o;
  o.budget = std::make_shared<connection_budget>(1);
  boost::asio::io_context io;
  h1_transport t(io, o);
  auto post = [&](std::uint16_t port, std::chrono::milliseconds timeout = 3000ms) {
    response got;
    bool done = false;
    t.post(make_request(loopback(port), timeout), [&](response r) { got = r; done = true; });
    run_until(io, [&] { return done; });
    return got;
  };
  EXPECT_EQ(post(a.ports().front()).status, 204);
  EXPECT_EQ(t.idle_connections(), 1u);
  EXPECT_EQ(post(b.ports().front()).status, 204);  // a's idle connection made room
  EXPECT_EQ(t.open_connections(), 1u);
  EXPECT_EQ(o.budget->in_use(), 1u);

  response busy, refused;
  int done = 0;
  t.post(make_request(loopback(slow.ports().front())), [&](response r) { busy = r; ++done; });
  t.post(make_request(loopback(a.ports().front())), [&](response r) { refused = r; ++done; });
  run_until(io, [&] { return done == 2; });
  EXPECT_EQ(busy.status, 204);
  EXPECT_TRUE(refused.local_failure);
  EXPECT_EQ(refused.status, 0);
  EXPECT_FALSE(busy.local_failure);
}

TEST(H1Transport, IdleConnectionsAreCappedOldestFirst) {
  sink a(sink_options{}), b(sink_options{}), c(sink_options{});
  a.start();
  b.start();
  c.start();
  h1_options o;
  o.max_idle = 2;
  boost::asio::io_context io;
  h1_transport t(io, o);
  for (sink* s : {&a, &b, &c}) {
    bool done = false;
    t.post(make_request(loopback(s->ports().front())), [&](response) { done = true; });
    run_until(io, [&] { return done; });
  }
  EXPECT_EQ(t.idle_connections(), 2u);
  EXPECT_EQ(t.open_connections(), 2u);
}

TEST(H1Transport, UnusedOriginsAreForgotten) {
  sink server(sink_options{});
  server.start();
  h1_options o;
  o.idle_timeout = 100ms;
  boost::asio::io_context io;
  h1_transport t(io, o);
  bool done = false;
  t.post(make_request(loopback(server.ports().front())), [&](response) { done = true; });
  run_until(io, [&] { return done; });
  EXPECT_EQ(t.origins(), 1u);
  run_until(io, [&] { return t.origins() == 0; }, 2000ms);
  EXPECT_EQ(t.origins(), 0u);
}

// Out of descriptors (EMFILE) is our problem: reported as a local failure, so that the
// outlet's circuit breaker does not open on a healthy outlet.
TEST(H1Transport, OutOfDescriptorsIsALocalFailure) {
#if defined(__SANITIZE_ADDRESS__)
  // The sanitized build also checks vptrs (UBSan), and that check probes memory through a
  // pipe, which cannot be opened while every descriptor is taken: it then reports a false
  // "invalid vptr" and aborts. The plain build runs this test.
  GTEST_SKIP() << "needs free descriptors in sanitized builds";
#endif
  sink server(sink_options{});
  server.start();
  boost::asio::io_context io;
  h1_transport t(io);
  rlimit old{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &old), 0);
  std::vector<int> fds;
  rlimit low = old;
  low.rlim_cur = 256;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  for (int i = 0; i < 300; ++i) {
    int fd = ::dup(0);
    if (fd < 0) break;
    fds.push_back(fd);
  }
  response got;
  bool done = false;
  t.post(make_request(loopback(server.ports().front())), [&](response r) { got = r; done = true; });
  run_until(io, [&] { return done; });
  for (int fd : fds) ::close(fd);
  setrlimit(RLIMIT_NOFILE, &old);
  EXPECT_EQ(got.status, 0);
  EXPECT_TRUE(got.local_failure) << got.error_detail;
}

// The URL's parts come from parse_outlet_url: what the outlets file accepts is what is sent
// (split_url used to refuse an empty port, and any URL with userinfo).
TEST(H1Transport, SendsWhatTheOutletsFileAccepts) {
  raw_http_server server([](int fd, const std::string&, std::size_t) {
    raw_http_server::send_all(fd, "HTTP/1.1 204 No Content\r\n\r\n");
  });
  boost::asio::io_context io;
  h1_transport t(io);
  int status = -1;
  t.post(make_request("http://user:p%40ss@127.0.0.1:" + std::to_string(server.port()) + "/a/b?c=d#frag"),
         [&](response r) { status = r.status; });
  run_until(io, [&] { return status != -1; });
  EXPECT_EQ(status, 204);
  auto got = server.requests();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0].starts_with("POST /a/b?c=d HTTP/1.1\r\n")) << got[0];
  EXPECT_NE(got[0].find("\r\nAuthorization: Basic dXNlcjpwQHNz\r\n"), std::string::npos) << got[0];  // user:p@ss
}

}  // namespace
}  // namespace syndic::engine::http
