// The WebSub subscriber (engine/src/daemon/websub_subscriber.hpp) against a small hub served by
// the project's HTTP server on 127.0.0.1: the hub records subscribe and unsubscribe requests,
// verifies intent with GETs to the callback, which the daemon's own API handler serves
// (make_api_handler), and delivers signed and mis-signed content there. The subscriber's store
// is a real SQLite file. Every wait is bounded; nothing asserts on how long something took.

#include "daemon/api.hpp"
#include "daemon/api_routes.hpp"
#include "daemon/metrics.hpp"
#include "daemon/websub_subscriber.hpp"
#include "http/client.hpp"
#include "http/server.hpp"

#include <syndic/engine/signer.hpp>
#include <syndic/engine/store.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <stdlib.h>

#include <condition_variable>
#include <filesystem>
#include <future>
#include <mutex>
#include <set>
#include <thread>

namespace syndic::daemon {
namespace {

using namespace std::chrono_literals;
using engine::http::responder;
using engine::http::server_request;
using engine::http::server_response;

constexpr auto patience = 20s;  // the bound on every wait (sanitizer builds are slow)

struct temp_dir {
  std::string path;
  temp_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "syndic_websub_XXXXXX").string();
    path = ::mkdtemp(tmpl.data());
  }
  ~temp_dir() { std::filesystem::remove_all(path); }
};

std::unique_ptr<engine::store> open_store(const std::string& dir) {
  engine::sqlite_options o;
  o.synchronous = engine::sqlite_sync::normal;
  auto r = engine::open_sqlite_store(dir, o);
  EXPECT_TRUE(r.ok()) << r.status.message;
  return std::move(r.value);
}

// One io_context with its thread, for the servers of a test.
struct io_thread {
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard{io.get_executor()};
  std::thread thread{[this] { io.run(); }};
  ~io_thread() {
    guard.reset();
    io.stop();
    thread.join();
  }
};

std::unique_ptr<engine::http::server> serve(io_thread& t, engine::http::handler h) {
  engine::http::server_options o;
  o.listen = {{"127.0.0.1", 0}};
  auto s = std::make_unique<engine::http::server>(std::vector<boost::asio::io_context*>{&t.io}, std::move(o), std::move(h));
  s->start();
  return s;
}

// A request through an http::client, waited for (bounded).
engine::http::response fetch(engine::http::client& c, engine::http::request r) {
  auto p = std::make_shared<std::promise<engine::http::response>>();
  auto f = p->get_future();
  r.timeout = 10s;
  if (r.max_response_body == 0) r.max_response_body = 64 * 1024;
  c.send(std::move(r), [p](engine::http::response resp) { p->set_value(std::move(resp)); });
  if (f.wait_for(patience) != std::future_status::ready) return {};
  return f.get();
}

std::string hmac_hex(const EVP_MD* md, std::string_view key, std::string_view body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  HMAC(md, key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(body.data()), body.size(),
       mac, &len);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += hex[mac[i] >> 4];
    out += hex[mac[i] & 15];
  }
  return out;
}

std::string encode(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') out += static_cast<char>(c);
    else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// ---- the hub --------------------------------------------------------------------------------

struct hub_request {
  std::string mode, topic, callback, secret, lease, content_type;
};
struct hub_verification {
  std::string mode, topic;
  int status = 0;
  bool echoed = false;  // the body was the challenge
};

// A hub: records every POST; answers it `status` (or holds it while `hold` is set, for the
// test to release); with `auto_verify`, verifies intent (GET to the callback with a fresh
// challenge and hub.lease_seconds = `lease`) once it has answered, or before it answers when
// `verify_first`.
struct test_hub {
  io_thread io;
  engine::http::client client;
  std::mutex m;
  std::condition_variable cv;
  std::vector<hub_request> requests;
  std::vector<hub_verification> verifications;
  std::deque<responder> held;
  int in_flight = 0, max_in_flight = 0;
  std::vector<int> statuses;  // the answers to the first requests, in order; then `status`
  int status = 202;
  bool hold = false, auto_verify = false, verify_first = false;
  std::size_t verify_limit = SIZE_MAX;  // auto_verify: only the first N requests
  std::string lease = "3600";
  std::unique_ptr<engine::http::server> server;
  int challenges = 0;

  test_hub() {
    server = serve(io, [this](server_request&& req, responder answer) { take(std::move(req), std::move(answer)); });
  }
  ~test_hub() {
    {
      std::lock_guard lock(m);
      for (auto& r : held) r.send(server_response(500));
      held.clear();
    }
    server->stop(0ms);
    client.stop();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server->ports().front()) + "/hub"; }

  void take(server_request&& req, responder answer) {
    using routes::query_param;
    hub_request r;
    r.mode = query_param(req.body, "hub.mode");
    r.topic = query_param(req.body, "hub.topic");
    r.callback = query_param(req.body, "hub.callback");
    r.secret = query_param(req.body, "hub.secret");
    r.lease = query_param(req.body, "hub.lease_seconds");
    r.content_type = std::string(req.header("content-type"));
    std::unique_lock lock(m);
    std::size_t n = requests.size();
    requests.push_back(r);
    max_in_flight = std::max(max_in_flight, ++in_flight);
    int answer_with = n < statuses.size() ? statuses[n] : status;
    bool verify = auto_verify && answer_with / 100 == 2 && n < verify_limit;
    cv.notify_all();
    if (hold) {
      held.push_back(answer);
      return;
    }
    if (verify && verify_first) {
      lock.unlock();
      verify_intent(r, [this, answer, answer_with] {
        std::lock_guard l(m);
        --in_flight;
        answer.send(server_response(answer_with));
      });
      return;
    }
    --in_flight;
    lock.unlock();
    answer.send(server_response(answer_with));
    if (verify) verify_intent(r, [] {});
  }

  // Answers the oldest held request.
  bool release(int with) {
    std::lock_guard lock(m);
    if (held.empty()) return false;
    --in_flight;
    held.front().send(server_response(with));
    held.pop_front();
    return true;
  }

  void verify_intent(const hub_request& r, std::function<void()> then) {
    std::string challenge;
    {
      std::lock_guard lock(m);
      challenge = "challenge-" + std::to_string(++challenges);
    }
    engine::http::request get;
    get.method = engine::http::method::get;
    get.url = r.callback + "?hub.mode=" + r.mode + "&hub.topic=" + encode(r.topic) + "&hub.challenge=" + challenge;
    if (r.mode == "subscribe") get.url += "&hub.lease_seconds=" + lease;
    get.max_response_body = 4096;
    get.timeout = 10s;
    client.send(std::move(get), [this, r, challenge, then](engine::http::response resp) {
      {
        std::lock_guard lock(m);
        verifications.push_back({r.mode, r.topic, resp.status, resp.body == challenge});
        cv.notify_all();
      }
      then();
    });
  }

  bool wait_requests(std::size_t n) {
    std::unique_lock lock(m);
    return cv.wait_for(lock, patience, [&] { return requests.size() >= n; });
  }
  bool wait_verifications(std::size_t n) {
    std::unique_lock lock(m);
    return cv.wait_for(lock, patience, [&] { return verifications.size() >= n; });
  }
  bool wait_held(std::size_t n) {
    std::unique_lock lock(m);
    return cv.wait_for(lock, patience, [&] { return held.size() >= n; });
  }
  std::vector<hub_request> seen() {
    std::lock_guard lock(m);
    return requests;
  }
  std::vector<hub_verification> verified() {
    std::lock_guard lock(m);
    return verifications;
  }
};

// ---- what the subscriber tells the poller -----------------------------------------------------

struct recorder {
  std::mutex m;
  std::condition_variable cv;
  struct body {
    std::string source, text, type;
  };
  std::vector<body> ingested;
  std::vector<std::pair<std::string, bool>> pushed;
  enum class reply { ok, fail, never } mode = reply::ok;
  std::vector<std::function<void(bool)>> unanswered;  // mode never: kept, never called
  std::vector<std::string> logs;

  websub_hooks hooks() {
    websub_hooks h;
    h.ingest = [this](const std::string& source, std::string text, std::string type, std::function<void(bool)> done) {
      std::unique_lock lock(m);
      ingested.push_back({source, std::move(text), std::move(type)});
      cv.notify_all();
      reply r = mode;
      if (r == reply::never) {
        unanswered.push_back(std::move(done));
        return;
      }
      lock.unlock();
      done(r == reply::ok);
    };
    h.set_pushed = [this](const std::string& source, bool active) {
      std::lock_guard lock(m);
      pushed.emplace_back(source, active);
      cv.notify_all();
    };
    h.log = [this](const std::string& line) {
      std::lock_guard lock(m);
      logs.push_back(line);
    };
    return h;
  }
  // Waits until the last set_pushed for `source` said `active`.
  bool wait_pushed(const std::string& source, bool active) {
    std::unique_lock lock(m);
    return cv.wait_for(lock, patience, [&] {
      for (auto it = pushed.rbegin(); it != pushed.rend(); ++it)
        if (it->first == source) return it->second == active;
      return false;
    });
  }
  std::size_t ingested_count() {
    std::lock_guard lock(m);
    return ingested.size();
  }
  std::vector<std::pair<std::string, bool>> pushes() {
    std::lock_guard lock(m);
    return pushed;
  }
};

// ---- the daemon's side: a store, the API handler serving /websub/, a subscriber ----------------

struct subscriber_side {
  temp_dir dir;
  std::unique_ptr<engine::store> db = open_store(dir.path);
  io_thread io;
  api_context api;
  std::unique_ptr<engine::http::server> server = serve(io, make_api_handler(api));
  engine::http::client client;  // the test's own requests to the callback
  recorder rec;
  websub_subscriber_options options;
  std::unique_ptr<websub_subscriber> sub;

  subscriber_side() {
    options.base_url = "http://127.0.0.1:" + std::to_string(server->ports().front());
    options.allow_private_targets = true;  // the hub is on 127.0.0.1
    options.lease = 3600s;
    options.retry_min = 50ms;
    options.retry_max = 400ms;
    options.verify_wait = 10s;
    options.request_timeout = 5s;
    options.ingest_wait = 5s;
  }
  ~subscriber_side() {
    api.subscriber = nullptr;
    if (sub) sub->stop();
    server->stop(0ms);
    client.stop();
    sub.reset();
    if (db) db->close();
  }

  void start() {
    sub = std::make_unique<websub_subscriber>(*db, options, rec.hooks());
    api.subscriber = sub.get();
  }
  // A restart: the subscriber and the store closed, the store opened again, load().
  void restart(recorder& fresh, std::function<bool(const std::string&)> known = {}) {
    api.subscriber = nullptr;
    sub->stop();
    sub.reset();
    db->close();
    db = open_store(dir.path);
    sub = std::make_unique<websub_subscriber>(*db, options, fresh.hooks());
    // Reachable before load(), as in `syndic run`: load() may unsubscribe, and the hub's
    // verification of that can come before load() returns.
    api.subscriber = sub.get();
    EXPECT_EQ(sub->load(known), "");
  }

  std::string callback(std::string_view source) const { return options.base_url + "/websub/" + std::string(source); }

  engine::http::response verify(std::string_view source, std::string_view mode, std::string_view topic,
                                std::string_view challenge, std::string_view extra = "") {
    engine::http::request get;
    get.method = engine::http::method::get;
    get.url = callback(source) + "?hub.mode=" + std::string(mode) + "&hub.topic=" + encode(topic);
    if (!challenge.empty()) get.url += "&hub.challenge=" + std::string(challenge);
    get.url += extra;
    return fetch(client, std::move(get));
  }

  engine::http::response deliver(std::string_view source, std::string body, std::string signature) {
    engine::http::request post;
    post.method = engine::http::method::post;
    post.url = callback(source);
    post.headers = {"Content-Type: application/atom+xml"};
    if (!signature.empty()) post.headers.push_back("X-Hub-Signature: " + signature);
    post.body = std::make_shared<const std::string>(std::move(body));
    return fetch(client, std::move(post));
  }

  bool wait_state(const std::string& source, std::string_view state) {
    for (int i = 0; i < 2000; ++i) {
      auto s = sub->status(source);
      if (s && s->state == state) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }
};

const std::string topic = "https://news.example/feed.atom";

// ---- the signature check, directly ------------------------------------------------------------

TEST(WebsubSignature, EveryAlgorithmTheSpecNamesInEitherCase) {
  std::string body = "<feed>an update</feed>";
  EXPECT_TRUE(verify_hub_signature("k3y", body, engine::websub_signature("k3y", body)));
  EXPECT_TRUE(verify_hub_signature("k3y", body, "sha1=" + hmac_hex(EVP_sha1(), "k3y", body)));
  EXPECT_TRUE(verify_hub_signature("k3y", body, "sha384=" + hmac_hex(EVP_sha384(), "k3y", body)));
  EXPECT_TRUE(verify_hub_signature("k3y", body, "sha512=" + hmac_hex(EVP_sha512(), "k3y", body)));
  std::string upper = "SHA256=" + hmac_hex(EVP_sha256(), "k3y", body);
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_TRUE(verify_hub_signature("k3y", body, upper));

  std::string good = engine::websub_signature("k3y", body);
  EXPECT_FALSE(verify_hub_signature("other", body, good));
  EXPECT_FALSE(verify_hub_signature("k3y", body + " ", good));
  EXPECT_FALSE(verify_hub_signature("k3y", body, good.substr(0, good.size() - 2)));  // too short
  EXPECT_FALSE(verify_hub_signature("k3y", body, good + "00"));                      // too long
  EXPECT_FALSE(verify_hub_signature("k3y", body, "md5=" + hmac_hex(EVP_md5(), "k3y", body)));
  EXPECT_FALSE(verify_hub_signature("k3y", body, "sha1=" + hmac_hex(EVP_sha256(), "k3y", body)));  // wrong length
  std::string bad_hex = good;
  bad_hex.back() = 'g';
  EXPECT_FALSE(verify_hub_signature("k3y", body, bad_hex));
  EXPECT_FALSE(verify_hub_signature("k3y", body, hmac_hex(EVP_sha256(), "k3y", body)));  // no "sha256="
  EXPECT_FALSE(verify_hub_signature("", body, "sha256=" + hmac_hex(EVP_sha256(), "", body)));  // no secret, no trust
}

// ---- the flow ------------------------------------------------------------------------------

TEST(WebsubSubscriber, SubscribesVerifiesAndTakesOnlyCorrectlySignedContent) {
  test_hub hub;
  subscriber_side side;
  side.start();
  side.sub->hub_advertised("src1", topic, hub.url());
  ASSERT_TRUE(hub.wait_requests(1));
  hub_request r = hub.seen()[0];
  EXPECT_EQ(r.mode, "subscribe");
  EXPECT_EQ(r.topic, topic);
  EXPECT_EQ(r.callback, side.callback("src1"));
  EXPECT_EQ(r.lease, "3600");
  EXPECT_EQ(r.content_type, "application/x-www-form-urlencoded");
  EXPECT_EQ(r.secret.size(), 64u);  // 32 random bytes in hex: under WebSub's 200
  EXPECT_EQ(r.secret.find_first_not_of("0123456789abcdef"), std::string::npos);
  ASSERT_TRUE(side.wait_state("src1", "verifying"));

  // Verifications that match nothing of ours: 404, and nothing changes.
  EXPECT_EQ(side.verify("src1", "subscribe", topic + "/other", "c1").status, 404);
  EXPECT_EQ(side.verify("src1", "subscribe", "https://news.example/feed", "c1").status, 404);
  EXPECT_EQ(side.verify("src1", "unsubscribe", topic, "c1").status, 404);
  EXPECT_EQ(side.verify("src2", "subscribe", topic, "c1").status, 404);
  EXPECT_EQ(side.verify("src1", "subscribe", topic, "").status, 404);  // no challenge
  EXPECT_EQ(side.verify("src1", "publish", topic, "c1").status, 404);
  EXPECT_EQ(side.verify("..%2Fsrc1", "subscribe", topic, "c1").status, 404);
  EXPECT_EQ(side.sub->status("src1")->state, "verifying");
  EXPECT_TRUE(side.rec.pushes().empty());

  auto before = std::chrono::system_clock::now();
  auto ok = side.verify("src1", "subscribe", topic, "the-challenge-42", "&hub.lease_seconds=7200");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "the-challenge-42");
  EXPECT_EQ(ok.content_type, "text/plain");
  ASSERT_TRUE(side.rec.wait_pushed("src1", true));
  auto st = *side.sub->status("src1");
  EXPECT_EQ(st.state, "active");
  EXPECT_EQ(st.lease, 7200s);  // the hub's lease, not the one asked for
  ASSERT_TRUE(st.expiry.has_value());
  EXPECT_GE(*st.expiry, before + 7200s);
  EXPECT_LE(*st.expiry, std::chrono::system_clock::now() + 7200s);
  // Verified again with nothing of ours pending (not a WebSub 1.0 hub's doing; anyone who knows
  // the topic can send it): acknowledged, and the lease stays the one verified.
  auto unasked = side.verify("src1", "subscribe", topic, "again", "&hub.lease_seconds=1");
  EXPECT_EQ(unasked.status, 200);
  EXPECT_EQ(unasked.body, "again");
  EXPECT_EQ(side.sub->status("src1")->expiry, st.expiry);
  EXPECT_EQ(side.sub->status("src1")->lease, 7200s);

  // Deliveries that are not signed right: 2xx as the spec asks, and nothing is ingested.
  // (The handler ingests before it answers: after each answer, the count is final.)
  std::string body = "<feed xmlns='http://www.w3.org/2005/Atom'><title>t</title></feed>";
  auto unsigned_answer = side.deliver("src1", body, "");
  EXPECT_EQ(unsigned_answer.status / 100, 2);
  EXPECT_EQ(side.rec.ingested_count(), 0u);
  auto wrong_key = side.deliver("src1", body, engine::websub_signature("not-the-secret", body));
  EXPECT_EQ(wrong_key.status / 100, 2);
  EXPECT_EQ(side.rec.ingested_count(), 0u);
  auto other_body = side.deliver("src1", body, engine::websub_signature(r.secret, body + "x"));
  EXPECT_EQ(other_body.status / 100, 2);
  auto garbage = side.deliver("src1", body, "sha256=zz");
  EXPECT_EQ(garbage.status / 100, 2);
  auto md5 = side.deliver("src1", body, "md5=" + hmac_hex(EVP_md5(), r.secret, body));
  EXPECT_EQ(md5.status / 100, 2);
  EXPECT_EQ(side.rec.ingested_count(), 0u);

  // Signed right, with each of the spec's algorithms: ingested, body and type as sent.
  EXPECT_EQ(side.deliver("src1", body, engine::websub_signature(r.secret, body)).status, 202);
  EXPECT_EQ(side.deliver("src1", body + "1", "sha1=" + hmac_hex(EVP_sha1(), r.secret, body + "1")).status, 202);
  EXPECT_EQ(side.deliver("src1", body + "2", "sha512=" + hmac_hex(EVP_sha512(), r.secret, body + "2")).status, 202);
  {
    std::lock_guard lock(side.rec.m);
    ASSERT_EQ(side.rec.ingested.size(), 3u);
    EXPECT_EQ(side.rec.ingested[0].source, "src1");
    EXPECT_EQ(side.rec.ingested[0].text, body);
    EXPECT_EQ(side.rec.ingested[0].type, "application/atom+xml");
    EXPECT_EQ(side.rec.ingested[2].text, body + "2");
  }
  // No subscription for that source: 410, which ends a subscription at hubs.
  EXPECT_EQ(side.deliver("nosuch", body, engine::websub_signature(r.secret, body)).status, 410);

  auto c = side.sub->counters();
  EXPECT_EQ(c.unsigned_deliveries, 1u);
  EXPECT_EQ(c.bad_signatures, 4u);
  EXPECT_EQ(c.deliveries, 3u);
  EXPECT_EQ(c.unknown_deliveries, 1u);
  EXPECT_EQ(c.verifications_refused, 7u);
  EXPECT_EQ(c.verified, 1u);
  EXPECT_EQ(c.active, 1u);
  EXPECT_EQ(c.subscribe_requests, 1u);

  metrics_registry registry;
  side.sub->add_metrics(registry);
  std::string text = registry.expose();
  EXPECT_NE(text.find("syndic_websub_client_active 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("syndic_websub_client_deliveries_total 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("syndic_websub_client_dropped_total{reason=\"unsigned\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("syndic_websub_client_dropped_total{reason=\"bad_signature\"} 4\n"), std::string::npos) << text;
}

TEST(WebsubSubscriber, FailedSubscribesAreRetriedOneAtATimeWithFreshSecrets) {
  test_hub hub;
  hub.hold = true;
  subscriber_side side;
  side.start();
  side.sub->hub_advertised("src1", topic, hub.url());
  // Two failures (a 500, then a 403), each held a while so a second request could overlap.
  for (int with : {500, 403}) {
    ASSERT_TRUE(hub.wait_held(1));
    for (int i = 0; i < 5; ++i) {  // the poller tells the hub again at every poll
      side.sub->hub_advertised("src1", topic, hub.url());
      std::this_thread::sleep_for(20ms);
    }
    ASSERT_TRUE(hub.release(with));
  }
  ASSERT_TRUE(hub.wait_held(1));
  {
    std::lock_guard lock(hub.m);
    hub.hold = false;
    hub.auto_verify = true;
  }
  ASSERT_TRUE(hub.release(202));
  // The third was accepted but held, so no auto verification: verify by hand.
  auto third = hub.seen()[2];
  EXPECT_EQ(side.verify("src1", "subscribe", topic, "c3").status, 200);
  ASSERT_TRUE(side.rec.wait_pushed("src1", true));

  auto seen = hub.seen();
  ASSERT_EQ(seen.size(), 3u);
  {
    std::lock_guard lock(hub.m);
    EXPECT_EQ(hub.max_in_flight, 1);
  }
  std::set<std::string> secrets;
  for (const auto& r : seen) secrets.insert(r.secret);
  EXPECT_EQ(secrets.size(), 3u);
  auto st = *side.sub->status("src1");
  EXPECT_EQ(st.state, "active");
  EXPECT_EQ(st.failures, 0u);
  EXPECT_EQ(side.sub->counters().subscribe_failures, 2u);
  // The verified request's secret is the one deliveries are checked with.
  std::string body = "<rss/>";
  EXPECT_EQ(side.deliver("src1", body, engine::websub_signature(third.secret, body)).status, 202);
  EXPECT_EQ(side.rec.ingested_count(), 1u);
  EXPECT_EQ(side.deliver("src1", body, engine::websub_signature(seen[0].secret, body)).status, 202);
  EXPECT_EQ(side.rec.ingested_count(), 1u);  // a failed request's secret is worth nothing
}

TEST(WebsubSubscriber, RenewsTheLeaseBeforeItLapses) {
  test_hub hub;
  hub.auto_verify = true;
  hub.lease = "3";
  hub.verify_limit = 3;  // then renewals are accepted and never verified: the secret stays put
  subscriber_side side;
  side.options.renew_fraction = 0.5;  // at 1.5 s of 3: room for a slow machine before it lapses
  side.start();
  side.sub->hub_advertised("src1", topic, hub.url());
  ASSERT_TRUE(side.rec.wait_pushed("src1", true));
  // Two renewals: each a new subscribe request (with a new secret), verified again.
  ASSERT_TRUE(hub.wait_verifications(3));
  auto v = hub.verified();
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(v[i].mode, "subscribe");
    EXPECT_EQ(v[i].status, 200);
    EXPECT_TRUE(v[i].echoed);
  }
  auto seen = hub.seen();
  ASSERT_GE(seen.size(), 3u);
  EXPECT_NE(seen[0].secret, seen[1].secret);
  EXPECT_NE(seen[1].secret, seen[2].secret);
  EXPECT_GE(side.sub->counters().verified, 3u);
  // Renewed before it lapsed: the poller was never told to poll normally again.
  EXPECT_EQ(side.sub->counters().lapsed, 0u);
  for (const auto& [source, active] : side.rec.pushes()) EXPECT_TRUE(active);
  // Content signed with the latest verified secret is taken, the first one's no longer.
  std::string body = "<rss/>";
  EXPECT_EQ(side.deliver("src1", body, engine::websub_signature(seen[2].secret, body)).status, 202);
  EXPECT_EQ(side.rec.ingested_count(), 1u);
}

TEST(WebsubSubscriber, ALeaseThatLapsesFallsBackToPolling) {
  test_hub hub;
  hub.auto_verify = true;
  hub.lease = "1";
  hub.statuses = {202};  // then every renewal fails
  hub.status = 503;
  subscriber_side side;
  side.start();
  side.sub->hub_advertised("src1", topic, hub.url());
  ASSERT_TRUE(side.rec.wait_pushed("src1", true));
  ASSERT_TRUE(side.rec.wait_pushed("src1", false));
  auto st = *side.sub->status("src1");
  EXPECT_NE(st.state, "active");
  EXPECT_FALSE(st.pushed);
  EXPECT_GE(side.sub->counters().lapsed, 1u);
  EXPECT_GE(hub.seen().size(), 2u);  // it kept trying
}

TEST(WebsubSubscriber, AHubThatVerifiesBeforeAnsweringIsFine) {
  test_hub hub;
  hub.auto_verify = true;
  hub.verify_first = true;
  subscriber_side side;
  side.start();
  side.sub->hub_advertised("src1", topic, hub.url());
  ASSERT_TRUE(side.rec.wait_pushed("src1", true));
  ASSERT_TRUE(hub.wait_verifications(1));
  EXPECT_EQ(hub.verified()[0].status, 200);
  ASSERT_TRUE(side.wait_state("src1", "active"));
  EXPECT_EQ(side.sub->counters().subscribe_failures, 0u);
}

TEST(WebsubSubscriber, StateSurvivesARestartOnTheSameStore) {
  test_hub hub;
  hub.auto_verify = true;
  subscriber_side side;
  side.start();
  side.sub->hub_advertised("src1", topic, hub.url());
  ASSERT_TRUE(side.rec.wait_pushed("src1", true));
  ASSERT_TRUE(side.wait_state("src1", "active"));
  auto expiry = *side.sub->status("src1")->expiry;
  std::string secret = hub.seen()[0].secret;

  recorder after;
  side.restart(after);
  ASSERT_TRUE(after.wait_pushed("src1", true));  // told at load: the poller keeps it pushed
  auto st = *side.sub->status("src1");
  EXPECT_EQ(st.state, "active");
  EXPECT_EQ(st.hub, hub.url());
  EXPECT_EQ(st.topic, topic);
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(*st.expiry - expiry).count(), 0);
  // Deliveries keep verifying with the stored secret, and wrong ones are still refused.
  std::string body = "<feed/>";
  EXPECT_EQ(side.deliver("src1", body, engine::websub_signature("guess", body)).status, 202);
  EXPECT_EQ(after.ingested_count(), 0u);
  EXPECT_EQ(side.deliver("src1", body, engine::websub_signature(secret, body)).status, 202);
  EXPECT_EQ(after.ingested_count(), 1u);
  // The same hub and topic advertised again: nothing to do (decided before hub_advertised returns).
  side.sub->hub_advertised("src1", topic, hub.url());
  EXPECT_EQ(side.sub->counters().subscribe_requests, 0u);
  EXPECT_EQ(hub.seen().size(), 1u);
}

TEST(WebsubSubscriber, ARestartForgetsSourcesRemovedMeanwhile) {
  test_hub hub;
  hub.auto_verify = true;
  subscriber_side side;
  side.start();
  side.sub->hub_advertised("kept", topic, hub.url());
  side.sub->hub_advertised("removed", topic + "?2", hub.url());
  ASSERT_TRUE(side.wait_state("kept", "active"));
  ASSERT_TRUE(side.wait_state("removed", "active"));
  recorder after;
  side.restart(after, [](const std::string& id) { return id == "kept"; });
  EXPECT_EQ(side.sub->status("kept")->state, "active");
  EXPECT_FALSE(side.sub->status("removed").has_value());
  ASSERT_TRUE(hub.wait_verifications(3));  // two subscribes, then the unsubscribe
  auto v = hub.verified()[2];
  EXPECT_EQ(v.mode, "unsubscribe");
  EXPECT_EQ(v.topic, topic + "?2");
  EXPECT_EQ(v.status, 200);
  ASSERT_TRUE(after.wait_pushed("kept", true));
  for (const auto& [source, active] : after.pushes()) EXPECT_EQ(source, "kept");
  ASSERT_TRUE(side.db->flush().ok());
  auto kv = side.db->kv_get("websub.client", "removed");
  ASSERT_TRUE(kv.ok());
  EXPECT_FALSE(kv.value.has_value());
}

TEST(WebsubSubscriber, APendingSubscriptionSurvivesARestart) {
  test_hub hub;  // accepts, never verifies by itself
  subscriber_side side;
  side.start();
  side.sub->hub_advertised("src1", topic, hub.url());
  ASSERT_TRUE(side.wait_state("src1", "verifying"));
  recorder after;
  side.restart(after);
  EXPECT_EQ(side.sub->status("src1")->state, "verifying");
  EXPECT_EQ(side.verify("src1", "subscribe", topic, "late").body, "late");
  ASSERT_TRUE(after.wait_pushed("src1", true));
  std::string body = "<feed/>";
  EXPECT_EQ(side.deliver("src1", body, engine::websub_signature(hub.seen()[0].secret, body)).status, 202);
  EXPECT_EQ(after.ingested_count(), 1u);
}

TEST(WebsubSubscriber, ANewTopicSubscribesAnewAndUnsubscribesTheOld) {
  test_hub hub;
  hub.auto_verify = true;
  subscriber_side side;
  side.start();
  side.sub->hub_advertised("src1", topic, hub.url());
  ASSERT_TRUE(side.wait_state("src1", "active"));
  std::string topic2 = "https://news.example/feed2.atom";
  side.sub->hub_advertised("src1", topic2, hub.url());
  ASSERT_TRUE(hub.wait_verifications(3));
  ASSERT_TRUE(side.wait_state("src1", "active"));
  auto seen = hub.seen();
  ASSERT_EQ(seen.size(), 3u);
  bool unsubscribed_old = false, subscribed_new = false;
  for (const auto& r : seen) {
    unsubscribed_old |= r.mode == "unsubscribe" && r.topic == topic && r.callback == side.callback("src1");
    subscribed_new |= r.mode == "subscribe" && r.topic == topic2;
  }
  EXPECT_TRUE(unsubscribed_old);
  EXPECT_TRUE(subscribed_new);
  for (const auto& v : hub.verified()) {
    EXPECT_EQ(v.status, 200) << v.mode << " " << v.topic;
    EXPECT_TRUE(v.echoed);
  }
  EXPECT_EQ(side.sub->status("src1")->topic, topic2);
  EXPECT_EQ(side.verify("src1", "subscribe", topic, "old").status, 404);
  EXPECT_EQ(side.verify("src1", "unsubscribe", topic, "again").status, 404);  // done already
  EXPECT_EQ(side.sub->counters().unsubscribed, 1u);
}

TEST(WebsubSubscriber, AQuietHubFallsBackToPollingUntilItDeliversAgain) {
  test_hub hub;
  hub.auto_verify = true;
  subscriber_side side;
  side.start();
  side.sub->hub_advertised("src1", topic, hub.url());
  ASSERT_TRUE(side.rec.wait_pushed("src1", true));
  ASSERT_TRUE(side.wait_state("src1", "active"));
  side.sub->hub_missed_items("src1");  // the poller's safety-net poll found new items
  ASSERT_TRUE(side.rec.wait_pushed("src1", false));
  EXPECT_EQ(side.sub->counters().quiet, 1u);
  // Subscribed anew at once (a fresh subscription may mend it); still quiet once verified.
  ASSERT_TRUE(hub.wait_verifications(2));
  ASSERT_TRUE(side.wait_state("src1", "quiet"));
  EXPECT_FALSE(side.sub->status("src1")->pushed);
  side.sub->hub_missed_items("src1");  // quiet already: counted once
  EXPECT_EQ(side.sub->counters().quiet, 1u);
  // A correctly signed delivery: pushed again.
  std::string body = "<feed/>";
  EXPECT_EQ(side.deliver("src1", body, engine::websub_signature(hub.seen()[1].secret, body)).status, 202);
  ASSERT_TRUE(side.rec.wait_pushed("src1", true));
  EXPECT_EQ(side.sub->status("src1")->state, "active");
}

TEST(WebsubSubscriber, ADenialIsRecordedAndFallsBackToPolling) {
  test_hub hub;
  hub.auto_verify = true;
  hub.verify_limit = 1;  // the second request is accepted, then left pending
  subscriber_side side;
  side.start();
  side.sub->hub_advertised("src1", topic, hub.url());
  ASSERT_TRUE(side.rec.wait_pushed("src1", true));
  EXPECT_EQ(side.verify("src1", "denied", topic + "/x", "", "&hub.reason=no").status, 404);
  // Nothing of ours pending: the subscription ends, and a new request asks again at once.
  auto unasked = side.verify("src1", "denied", topic, "", "&hub.reason=over%20quota");
  EXPECT_EQ(unasked.status, 200);
  ASSERT_TRUE(side.rec.wait_pushed("src1", false));
  ASSERT_TRUE(hub.wait_requests(2));
  ASSERT_TRUE(side.wait_state("src1", "verifying"));
  // Denied again, now that a request of ours is pending: honoured.
  EXPECT_EQ(side.verify("src1", "denied", topic, "", "&hub.reason=over%20quota").status, 200);
  auto st = *side.sub->status("src1");
  EXPECT_EQ(st.state, "denied");
  EXPECT_FALSE(st.pushed);
  EXPECT_NE(st.last_error.find("over quota"), std::string::npos);
  EXPECT_EQ(side.sub->counters().denied, 2u);
  // The record stays (for the retry after denied_retry): deliveries are still checked.
  std::string body = "<feed/>";
  EXPECT_EQ(side.deliver("src1", body, "").status, 202);
  EXPECT_EQ(side.rec.ingested_count(), 0u);
}

TEST(WebsubSubscriber, AGoneSourceIsUnsubscribedAndForgotten) {
  test_hub hub;
  hub.auto_verify = true;
  subscriber_side side;
  side.start();
  side.sub->hub_advertised("src1", topic, hub.url());
  ASSERT_TRUE(side.wait_state("src1", "active"));
  side.sub->source_gone("src1");
  EXPECT_FALSE(side.sub->status("src1").has_value());
  ASSERT_TRUE(hub.wait_verifications(2));
  auto v = hub.verified()[1];
  EXPECT_EQ(v.mode, "unsubscribe");
  EXPECT_EQ(v.status, 200);
  EXPECT_TRUE(v.echoed);
  std::string body = "<feed/>";
  EXPECT_EQ(side.deliver("src1", body, engine::websub_signature(hub.seen()[0].secret, body)).status, 410);
  EXPECT_EQ(side.rec.ingested_count(), 0u);
  ASSERT_TRUE(side.db->flush().ok());
  auto kv = side.db->kv_get("websub.client", "src1");
  ASSERT_TRUE(kv.ok());
  EXPECT_FALSE(kv.value.has_value());
}

TEST(WebsubSubscriber, PrivateHubsAreRefusedUnlessAllowed) {
  subscriber_side side;
  side.options.allow_private_targets = false;
  side.start();
  side.sub->hub_advertised("a", topic, "http://127.0.0.1:9/hub");
  side.sub->hub_advertised("b", topic, "http://localhost/hub");
  side.sub->hub_advertised("c", topic, "http://169.254.169.254/latest");
  side.sub->hub_advertised("d", topic, "ftp://hub.example/");
  for (const char* id : {"a", "b", "c", "d"}) {
    auto st = side.sub->status(id);
    ASSERT_TRUE(st.has_value()) << id;
    EXPECT_EQ(st->state, "refused") << id;
    EXPECT_FALSE(st->last_error.empty());
  }
  auto c = side.sub->counters();
  EXPECT_EQ(c.refused_hubs, 4u);
  EXPECT_EQ(c.subscribe_requests, 0u);  // decided inside hub_advertised: nothing is ever sent
  EXPECT_EQ(side.verify("a", "subscribe", topic, "x").status, 404);
}

TEST(WebsubSubscriber, TheAnswerToADeliveryFollowsTheIngest) {
  test_hub hub;
  hub.auto_verify = true;
  subscriber_side side;
  side.options.ingest_wait = 300ms;
  side.start();
  side.sub->hub_advertised("src1", topic, hub.url());
  ASSERT_TRUE(side.rec.wait_pushed("src1", true));
  std::string secret = hub.seen()[0].secret, body = "<feed/>";
  {
    std::lock_guard lock(side.rec.m);
    side.rec.mode = recorder::reply::fail;
  }
  auto failed = side.deliver("src1", body, engine::websub_signature(secret, body));
  EXPECT_EQ(failed.status, 503);  // the hub may retry
  EXPECT_EQ(failed.retry_after, "60");
  {
    std::lock_guard lock(side.rec.m);
    side.rec.mode = recorder::reply::never;
  }
  // No answer from the ingest within ingest_wait: 202 anyway (being processed).
  EXPECT_EQ(side.deliver("src1", body, engine::websub_signature(secret, body)).status, 202);
  EXPECT_EQ(side.rec.ingested_count(), 2u);
  EXPECT_EQ(side.sub->counters().ingest_failed, 1u);
  std::lock_guard lock(side.rec.m);
  for (auto& done : side.rec.unanswered) done(true);  // late: ignored, nothing breaks
}

// ---- with the real poller ---------------------------------------------------------------------

std::string atom_feed(const std::string& hub, const std::string& self, int entries) {
  std::string s =
      "<?xml version=\"1.0\"?><feed xmlns=\"http://www.w3.org/2005/Atom\"><title>T</title><id>urn:t</id>"
      "<updated>2026-01-01T00:00:00Z</updated><link rel=\"hub\" href=\"" + hub + "\"/><link rel=\"self\" href=\"" +
      self + "\"/>";
  for (int i = entries; i >= 1; --i)
    s += "<entry><id>urn:e" + std::to_string(i) + "</id><title>entry " + std::to_string(i) +
         "</title><updated>2026-01-0" + std::to_string(i) + "T00:00:00Z</updated><link href=\"https://x.example/" +
         std::to_string(i) + "\"/></entry>";
  return s + "</feed>";
}

// A feed that advertises the hub, polled by the real poller: it finds the hub and tells the
// subscriber, which subscribes; the poller is told the source is pushed; a body the hub pushes
// signed right lands in the log, one signed wrong does not.
TEST(WebsubSubscriber, WithThePollerFromDiscoveryToTheLog) {
  test_hub hub;
  hub.auto_verify = true;
  temp_dir dir;
  auto db = open_store(dir.path);
  const std::string self = "https://news.example/feed.atom";
  io_thread io;
  auto feed_server = serve(io, engine::http::synchronous([&](const server_request&) {
    return server_response(200, atom_feed(hub.url(), self, 1), "application/atom+xml");
  }));
  api_context api;
  auto callback_server = serve(io, make_api_handler(api));

  poll::poller_options po;
  po.start_spread = 0s;
  po.host_gap = 0ms;
  po.timeout = 5s;
  auto polls = std::make_unique<poll::poller>(*db, po, [] {});
  poll::source src;
  src.id = "src1";
  src.url = "http://127.0.0.1:" + std::to_string(feed_server->ports().front()) + "/feed.atom";
  src.channel = "news";
  src.min_interval = 60s;
  src.max_interval = 120s;
  ASSERT_TRUE(polls->set_file_sources({src}).empty());

  websub_subscriber_options o;
  o.base_url = "http://127.0.0.1:" + std::to_string(callback_server->ports().front());
  o.allow_private_targets = true;
  o.lease = 3600s;
  auto sub = std::make_unique<websub_subscriber>(*db, o, poller_hooks(*polls));
  api.subscriber = sub.get();
  api.sources = polls.get();
  polls->set_hub_listener(sub.get());
  polls->start();

  auto wait_for = [](const std::function<bool()>& pred) {
    for (int i = 0; i < 2000; ++i) {
      if (pred()) return true;
      std::this_thread::sleep_for(10ms);
    }
    return pred();
  };
  auto head = [&] {
    auto h = db->head();
    return h.ok() ? h.value : 0;
  };
  ASSERT_TRUE(wait_for([&] { return head() == 1; })) << "the first poll's item";
  ASSERT_TRUE(wait_for([&] {
    auto s = polls->status("src1");
    return s && s->pushed;
  })) << "the poller told the subscription is active";
  auto seen = hub.seen();
  ASSERT_GE(seen.size(), 1u);
  EXPECT_EQ(seen[0].topic, self);
  EXPECT_EQ(seen[0].callback, o.base_url + "/websub/src1");

  engine::http::client client;
  auto push = [&](const std::string& body, const std::string& signature) {
    engine::http::request post;
    post.method = engine::http::method::post;
    post.url = o.base_url + "/websub/src1";
    post.headers = {"Content-Type: application/atom+xml", "X-Hub-Signature: " + signature};
    post.body = std::make_shared<const std::string>(body);
    return fetch(client, std::move(post));
  };
  std::string two = atom_feed(hub.url(), self, 2);
  EXPECT_EQ(push(two, engine::websub_signature("forged", two)).status, 202);
  EXPECT_EQ(head(), 1u);  // dropped before the poller saw it
  // Signed right: 202 once the new item is durable (the answer waits for the ingest).
  EXPECT_EQ(push(two, engine::websub_signature(seen[0].secret, two)).status, 202);
  EXPECT_EQ(head(), 2u);
  EXPECT_EQ(polls->counters().pushed_bodies, 1u);

  // Removing the source unsubscribes it.
  EXPECT_TRUE(polls->remove_source("src1"));
  ASSERT_TRUE(wait_for([&] { return !sub->status("src1").has_value(); }));
  ASSERT_TRUE(hub.wait_verifications(2));
  EXPECT_EQ(hub.verified()[1].mode, "unsubscribe");
  EXPECT_EQ(hub.verified()[1].status, 200);

  polls->stop();
  api.subscriber = nullptr;
  sub->stop();
  callback_server->stop(0ms);
  feed_server->stop(0ms);
  client.stop();
  db->close();
}

}  // namespace
}  // namespace syndic::daemon
