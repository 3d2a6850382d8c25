// The standalone HTTP client (http/client.hpp) against loopback servers: callbacks run once
// each, on the client's thread, from any sending thread; stop() and the destructor cancel
// what is pending (each callback once, with `local`); libcurl's route for https; addresses
// refused before connecting.

#include "http/client.hpp"
#include "raw_http_server.hpp"
#include "tls_test_server.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace syndic::engine::http {
namespace {

using namespace std::chrono_literals;
using testing::raw_http_server;

// Collects callbacks from the client's thread; waits are bounded (10 s) and never asserted on.
struct results {
  std::mutex mutex;
  std::condition_variable changed;
  std::map<int, std::vector<response>> by_id;  // every call, so a second one shows
  std::map<int, std::thread::id> threads;
  std::size_t calls = 0;

  client::completion callback(int id) {
    return [this, id](response r) {
      std::lock_guard lock(mutex);
      by_id[id].push_back(std::move(r));
      threads[id] = std::this_thread::get_id();
      ++calls;
      changed.notify_all();
    };
  }
  bool wait_for(std::size_t n) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, 10s, [&] { return calls >= n; });
  }
  response only(int id) {
    std::lock_guard lock(mutex);
    auto& v = by_id[id];
    return v.size() == 1 ? v[0] : response{};
  }
};

request get(std::uint16_t port, std::string path = "/x") {
  request r;
  r.method = method::get;
  r.url = "http://127.0.0.1:" + std::to_string(port) + path;
  r.timeout = 5000ms;
  r.max_response_body = 1024;
  return r;
}

// Answers "challenge=<the query>" so each request's answer is its own.
raw_http_server echo_server() {
  return raw_http_server([](int fd, const std::string& req, std::size_t) {
    std::string target = req.substr(4, req.find(' ', 4) - 4);
    std::string body = "echo " + target;
    raw_http_server::send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
  });
}

TEST(HttpClient, GetCallsBackOnItsOwnThread) {
  auto server = echo_server();
  results got;
  client c;
  c.send(get(server.port(), "/verify?hub.challenge=abc"), got.callback(1));
  ASSERT_TRUE(got.wait_for(1));
  response r = got.only(1);
  EXPECT_EQ(r.status, 200) << r.error_detail;
  EXPECT_EQ(r.body, "echo /verify?hub.challenge=abc");
  std::lock_guard lock(got.mutex);
  EXPECT_NE(got.threads[1], std::this_thread::get_id());
}

TEST(HttpClient, SendsFromManyThreadsEachCallbackOnce) {
  auto server = echo_server();
  results got;
  {
    client c;
    std::vector<std::thread> senders;
    for (int t = 0; t < 4; ++t)
      senders.emplace_back([&, t] {
        for (int i = 0; i < 25; ++i) {
          int id = t * 100 + i;
          c.send(get(server.port(), "/n" + std::to_string(id)), got.callback(id));
        }
      });
    for (auto& s : senders) s.join();
    ASSERT_TRUE(got.wait_for(100));
  }  // the destructor finds nothing pending: no second call
  std::lock_guard lock(got.mutex);
  EXPECT_EQ(got.calls, 100u);
  for (auto& [id, calls] : got.by_id) {
    ASSERT_EQ(calls.size(), 1u) << id;
    EXPECT_EQ(calls[0].status, 200) << calls[0].error_detail;
    EXPECT_EQ(calls[0].body, "echo /n" + std::to_string(id));
  }
}

// A server that accepts (the kernel's backlog) and never answers: requests stay pending.
TEST(HttpClient, StopCancelsWhatIsPendingOnce) {
  raw_http_server silent(nullptr);
  results got;
  client c;
  for (int i = 0; i < 5; ++i) {
    request r = get(silent.port());
    r.timeout = 60'000ms;
    c.send(r, got.callback(i));
  }
  c.stop();
  // stop() has joined the thread: every callback has run by now.
  {
    std::lock_guard lock(got.mutex);
    EXPECT_EQ(got.calls, 5u);
    for (int i = 0; i < 5; ++i) {
      ASSERT_EQ(got.by_id[i].size(), 1u) << i;
      const response& r = got.by_id[i][0];
      EXPECT_EQ(r.status, 0);
      EXPECT_EQ(r.error, transport_error::local);
      EXPECT_TRUE(r.local_failure);
      EXPECT_EQ(r.error_detail, "cancelled: the HTTP client stopped");
    }
  }
  // After stop: cancelled at once, inside send().
  c.send(get(silent.port()), got.callback(9));
  EXPECT_EQ(got.only(9).error, transport_error::local);
  c.stop();  // again: nothing happens
  std::lock_guard lock(got.mutex);
  EXPECT_EQ(got.calls, 6u);
}

TEST(HttpClient, DestructorCancelsWhatIsPending) {
  raw_http_server silent(nullptr);
  results got;
  {
    client c;
    for (int i = 0; i < 3; ++i) {
      request r = get(silent.port());
      r.timeout = 60'000ms;
      c.send(r, got.callback(i));
    }
  }
  std::lock_guard lock(got.mutex);
  EXPECT_EQ(got.calls, 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(got.by_id[i].size(), 1u) << i;
}

// A callback may send the next request, and may stop the client it runs on.
TEST(HttpClient, CallbacksMaySendAndStop) {
  auto server = echo_server();
  raw_http_server silent(nullptr);
  results got;
  client c;
  auto on_second = got.callback(2);
  c.send(get(server.port(), "/first"), [&, on_second](response first) {
    got.callback(1)(std::move(first));
    c.send(get(server.port(), "/second"), [&, on_second](response second) {
      on_second(std::move(second));
      request stuck = get(silent.port());
      stuck.timeout = 60'000ms;
      c.send(stuck, got.callback(3));
      c.stop();  // on the client's thread: cancels the third after this callback returns
    });
  });
  ASSERT_TRUE(got.wait_for(3));
  EXPECT_EQ(got.only(1).body, "echo /first");
  EXPECT_EQ(got.only(2).body, "echo /second");
  EXPECT_EQ(got.only(3).error, transport_error::local);
  c.stop();  // joins the thread the callback stopped
  std::lock_guard lock(got.mutex);
  EXPECT_EQ(got.calls, 3u);
}

TEST(HttpClient, TimeoutIsAnOutcome) {
  raw_http_server silent(nullptr);
  results got;
  client c;
  request r = get(silent.port());
  r.timeout = 100ms;
  c.send(r, got.callback(1));
  ASSERT_TRUE(got.wait_for(1));
  EXPECT_EQ(got.only(1).error, transport_error::timeout);
}

TEST(HttpClient, HttpsThroughH1AndThroughLibcurl) {
  testing::test_pki pki;
  testing::temp_file ca(pki.ca.cert_pem);
  testing::tls_test_server server(pki.server, testing::tls_test_server::mode::answer);
  for (bool via_curl : {false, true}) {
    client_options o;
    o.ca_file = ca.path;
    o.https_via_curl = via_curl;
    client c(o);
    results got;
    request r;
    r.method = method::get;
    r.url = "https://localhost:" + std::to_string(server.port()) + "/feed";
    r.max_response_body = 16;
    c.send(r, got.callback(1));
    ASSERT_TRUE(got.wait_for(1));
    response answer = got.only(1);
    EXPECT_EQ(answer.status, 200) << (via_curl ? "curl: " : "h1: ") << answer.error_detail;
    EXPECT_EQ(answer.body, "ok");
  }
  EXPECT_EQ(server.requests(), 2);
}

std::string refuse_loopback(const sockaddr& a) {
  if (a.sa_family == AF_INET &&
      reinterpret_cast<const sockaddr_in&>(a).sin_addr.s_addr == htonl(INADDR_LOOPBACK))
    return "loopback address 127.0.0.1";
  return {};
}

TEST(HttpClient, RefusedAddressesAreNeverConnectedTo) {
  auto server = echo_server();
  testing::test_pki pki;
  testing::temp_file ca(pki.ca.cert_pem);
  testing::tls_test_server tls_server(pki.server, testing::tls_test_server::mode::answer);
  client_options o;
  o.ca_file = ca.path;
  o.https_via_curl = true;  // https through libcurl, http through h1: both check
  o.refuse_address = refuse_loopback;
  client c(o);
  results got;
  c.send(get(server.port()), got.callback(1));
  request r = get(tls_server.port());
  r.url = "https://127.0.0.1:" + std::to_string(tls_server.port()) + "/feed";
  c.send(r, got.callback(2));
  ASSERT_TRUE(got.wait_for(2));
  for (int id : {1, 2}) {
    response answer = got.only(id);
    EXPECT_EQ(answer.status, 0) << id;
    EXPECT_EQ(answer.error, transport_error::connect) << id;
    EXPECT_NE(answer.error_detail.find("loopback address 127.0.0.1"), std::string::npos) << answer.error_detail;
  }
  EXPECT_EQ(server.connections(), 0u);
  EXPECT_EQ(tls_server.connections(), 0);
}

TEST(HttpClient, NotAnHttpUrlFailsCleanly) {
  results got;
  client c;
  request r;
  r.method = method::get;
  r.url = "file:///etc/passwd";
  c.send(r, got.callback(1));
  ASSERT_TRUE(got.wait_for(1));
  EXPECT_EQ(got.only(1).status, 0);
  EXPECT_EQ(got.only(1).error, transport_error::other);
}

}  // namespace
}  // namespace syndic::engine::http
