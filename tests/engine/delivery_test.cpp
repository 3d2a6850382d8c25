// The engine against `syndic::engine::sink` on loopback: real sockets, real curl.

#include <syndic/engine/engine.hpp>
#include <syndic/engine/sink.hpp>

#include <gtest/gtest.h>

#include <map>
#include <mutex>

namespace syndic::engine {
namespace {

using namespace std::chrono_literals;

formats::feed feed_with(std::size_t n, const std::string& prefix = "item") {
  formats::feed f;
  f.title = "Test wire";
  f.self_link = "http://127.0.0.1/feed";
  f.hubs.push_back("http://127.0.0.1/hub");
  for (std::size_t i = 0; i < n; ++i) {
    formats::item it;
    it.id = prefix + "-" + std::to_string(i);
    it.title = "Item " + std::to_string(i);
    it.language = i % 2 ? "fr" : "en";
    f.items.push_back(it);
  }
  return f;
}

struct recorder {
  std::mutex mutex;
  std::vector<delivery_outcome> outcomes;
  std::vector<std::chrono::steady_clock::time_point> at;  // when each outcome came
  void operator()(const delivery_outcome& o) {
    std::lock_guard lock(mutex);
    outcomes.push_back(o);
    at.push_back(std::chrono::steady_clock::now());
  }
  std::map<final_state, int> by_state() {
    std::lock_guard lock(mutex);
    std::map<final_state, int> m;
    for (const auto& o : outcomes) ++m[o.state];
    return m;
  }
};

outlet_config outlet(const std::string& id, std::uint16_t port, const std::string& path = "/hook") {
  outlet_config o;
  o.id = id;
  o.url = "http://127.0.0.1:" + std::to_string(port) + path;
  o.timeout = 2000ms;
  o.retry.base = 50ms;
  o.retry.cap = 200ms;
  return o;
}

struct fixture : ::testing::Test {
  std::unique_ptr<sink> server;
  std::uint16_t port = 0;
  recorder rec;
  std::unique_ptr<engine> eng;

  void start(sink_options so, engine_options eo = {}) {
    so.first_port = 0;
    server = std::make_unique<sink>(so);
    server->start();
    port = server->ports().front();
    eo.shards = eo.shards ? eo.shards : 2;
    eng = std::make_unique<engine>(eo);
    eng->on_outcome([this](const delivery_outcome& o) { rec(o); });
  }

  // Submits n items to every outlet and waits until each pair has ended.
  void push_and_wait(std::size_t n, std::chrono::seconds limit = 10s) {
    auto f = feed_with(n);
    eng->submit(f, f.items);
    ASSERT_TRUE(eng->wait_idle(limit));
  }

  // Like push_and_wait, and returns how long it took from submit to the last outcome.
  std::chrono::steady_clock::duration timed_push_and_wait(std::size_t n, std::chrono::seconds limit = 10s) {
    auto t0 = std::chrono::steady_clock::now();
    push_and_wait(n, limit);
    return std::chrono::steady_clock::now() - t0;
  }

  // Adds 20 healthy outlets on the main sink, submits 5 items to every outlet, and returns how
  // long the 100 healthy deliveries took (5 s at most), without waiting for the rest.
  std::chrono::steady_clock::duration healthy_delivery_time() {
    for (int i = 0; i < 20; ++i) eng->add_outlet(outlet("ok" + std::to_string(i), port, "/" + std::to_string(i)));
    auto f = feed_with(5);
    auto t0 = std::chrono::steady_clock::now();
    eng->submit(f, f.items);
    while (server->stats().delivered < 100 && std::chrono::steady_clock::now() - t0 < 5s)
      std::this_thread::sleep_for(5ms);
    return std::chrono::steady_clock::now() - t0;
  }

  // The delivered outcomes name item-0, item-1, ... item-(n-1), in that order.
  void expect_delivered_in_log_order(std::size_t n) {
    std::vector<std::string> delivered;
    for (const auto& out : rec.outcomes)
      if (out.state == final_state::delivered) delivered.push_back(out.item_id);
    ASSERT_EQ(delivered.size(), n);
    for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(delivered[i], "item-" + std::to_string(i));
  }

  // A second server on its own port, answering as `b` says.
  static std::unique_ptr<sink> other_sink(sink_behaviour b) {
    sink_options o;
    o.default_behaviour = b;
    auto s = std::make_unique<sink>(o);
    s->start();
    return s;
  }
};

TEST_F(fixture, SignedWebhooksAreVerifiedByTheSinkAndEachPairDeliveredOnce) {
  sink_options so;
  so.secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  start(so);
  for (int i = 0; i < 5; ++i) {
    auto o = outlet("o" + std::to_string(i), port, "/o" + std::to_string(i));
    o.secret = so.secret;
    eng->add_outlet(o);
  }
  auto f = feed_with(10);
  EXPECT_EQ(eng->submit(f, f.items), 50u);
  ASSERT_TRUE(eng->wait_idle(10s));
  auto s = server->stats();
  EXPECT_EQ(s.delivered, 50u);
  EXPECT_EQ(s.bad_signatures, 0u);
  EXPECT_EQ(s.duplicates, 0u);
  EXPECT_EQ(rec.by_state()[final_state::delivered], 50);
}

TEST_F(fixture, WrongSecretIsRefusedAndDeadLettered) {
  sink_options so;
  so.secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  start(so);
  auto o = outlet("bad", port);
  o.secret = "whsec_Zm9vYmFy";
  eng->add_outlet(o);
  push_and_wait(3);
  EXPECT_EQ(server->stats().bad_signatures, 3u);
  EXPECT_EQ(rec.by_state()[final_state::dead_lettered], 3);  // 401 is permanent
}

TEST_F(fixture, OneConnectionServesManySequentialDeliveries) {
  start({});
  auto o = outlet("seq", port);
  o.ordered = true;
  eng->add_outlet(o);
  push_and_wait(20);
  EXPECT_EQ(server->stats().delivered, 20u);
  EXPECT_EQ(server->stats().connections, 1u);
  EXPECT_EQ(eng->stats().connections_opened, 1u);
}

TEST_F(fixture, OrderedOutletGetsItemsInOrderEvenThroughRetries) {
  // Failing its first two requests, the outlet must still see items in log order.
  sink_options so;
  so.default_behaviour.fail_first = 2;
  start(so);
  auto o = outlet("ord", port);
  o.ordered = true;
  eng->add_outlet(o);
  push_and_wait(6);
  expect_delivered_in_log_order(6);
}

TEST_F(fixture, GoneRetiresTheOutlet) {
  sink_options so;
  so.default_behaviour.status = 410;
  start(so);
  auto o = outlet("gone", port);
  o.max_in_flight = 1;
  eng->add_outlet(o);
  push_and_wait(5);
  EXPECT_EQ(rec.by_state()[final_state::retired], 5);
  EXPECT_EQ(server->stats().requests, 1u);  // nothing more is sent to a retired outlet
}

TEST_F(fixture, RetryAfterIsObeyedThenDelivered) {
  sink_options so;
  sink_behaviour busy;
  busy.fail_first = 1;
  busy.error_status = 503;
  busy.retry_after_seconds = 1;
  so.default_behaviour = busy;
  start(so);
  auto o = outlet("busy", port);
  o.max_in_flight = 1;
  eng->add_outlet(o);
  auto took = timed_push_and_wait(1);
  EXPECT_GE(took, 1s);   // waited as told, not the 50 ms backoff
  EXPECT_LT(took, 3s);
  ASSERT_EQ(rec.outcomes.size(), 1u);
  EXPECT_EQ(rec.outcomes[0].state, final_state::delivered);
  EXPECT_EQ(rec.outcomes[0].attempts, 2u);
}

// Requests per outcome batch size, for the outcomes of one outlet.
std::map<std::uint32_t, int> batch_sizes(recorder& rec, const std::string& outlet_id) {
  std::lock_guard lock(rec.mutex);
  std::map<std::uint32_t, int> m;
  for (const auto& o : rec.outcomes)
    if (o.outlet_id == outlet_id && o.state == final_state::delivered) ++m[o.batch_size];
  return m;
}

TEST_F(fixture, ThrottledOutletGetsItsQueueInBatches) {
  // At 4/s with a burst of 1, the first item goes alone; the ten queued behind the empty
  // bucket go as two batches of five, each a feed the sink reads (and verifies) item by item.
  sink_options so;
  so.secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  start(so);
  for (auto format : {payload_format::webhook, payload_format::atom, payload_format::rss}) {
    std::string name(to_string(format));
    auto o = outlet(name, port, "/" + name);
    o.format = format;
    o.secret = so.secret;
    o.rate = 4;
    o.burst = 1;
    o.batch = 5;
    eng->add_outlet(o);
  }
  auto plain = outlet("unbatched", port, "/unbatched");
  plain.max_in_flight = 1;
  plain.secret = so.secret;
  eng->add_outlet(plain);
  push_and_wait(11);
  auto s = server->stats();
  std::string p = std::to_string(port);
  for (std::string name : {"webhook", "atom", "rss"}) {
    EXPECT_EQ(s.per_outlet[p + "/" + name], 3u) << name;
    EXPECT_EQ(batch_sizes(rec, name), (std::map<std::uint32_t, int>{{1, 1}, {5, 10}})) << name;
  }
  EXPECT_EQ(s.per_outlet[p + "/unbatched"], 11u);  // batch 1: one item per request
  EXPECT_EQ(s.items, 44u);
  EXPECT_EQ(s.bad_signatures, 0u);
  EXPECT_EQ(rec.by_state()[final_state::delivered], 44);
}

TEST_F(fixture, OrderedOutletBatchesKeepLogOrder) {
  start({});
  auto o = outlet("ord", port);
  o.ordered = true;  // one in flight: the rest queue up and go in batches of 3
  o.batch = 3;
  eng->add_outlet(o);
  push_and_wait(7);
  expect_delivered_in_log_order(7);
  EXPECT_EQ(server->stats().per_outlet[std::to_string(port) + "/hook"], 3u);  // 1 + 3 + 3
  EXPECT_EQ(server->stats().items, 7u);
}

TEST_F(fixture, FailedBatchIsRetriedWholeUnderTheSameId) {
  // The first three requests fail: the single first item, then two batches of five. Each is
  // retried as it was sent, so the receiver sees each batch id delivered exactly once.
  sink_options so;
  so.default_behaviour.fail_first = 3;
  engine_options eo;
  eo.breaker_failures = 100;
  start(so, eo);
  auto o = outlet("b", port);
  o.max_in_flight = 1;
  o.batch = 5;
  eng->add_outlet(o);
  push_and_wait(11);
  auto s = server->stats();
  EXPECT_EQ(s.requests, 6u);
  EXPECT_EQ(s.delivered, 3u);
  EXPECT_EQ(s.items, 11u);
  EXPECT_EQ(s.duplicates, 0u);
  std::lock_guard lock(rec.mutex);
  ASSERT_EQ(rec.outcomes.size(), 11u);
  for (const auto& out : rec.outcomes) {
    EXPECT_EQ(out.state, final_state::delivered);
    EXPECT_EQ(out.attempts, 2u) << out.item_id;
    EXPECT_EQ(out.batch_size, out.item_id == "item-0" ? 1u : 5u) << out.item_id;
  }
}

TEST_F(fixture, HostConnectionCapIsHeldAndEveryOutletServed) {
  // Twelve outlets on one host:port, three connections allowed: the requests queue for them,
  // through the plain-HTTP client and through libcurl alike.
  for (bool fast : {true, false}) {
    SCOPED_TRACE(fast ? "h1_transport" : "libcurl");
    sink_options so;
    so.default_behaviour.latency = 20ms;
    engine_options eo;
    eo.shards = 1;
    eo.max_host_connections = 3;
    eo.fast_http = fast;
    start(so, eo);
    for (int i = 0; i < 12; ++i) eng->add_outlet(outlet("o" + std::to_string(i), port, "/" + std::to_string(i)));
    push_and_wait(2);
    auto s = server->stats();
    EXPECT_EQ(s.delivered, 24u);
    EXPECT_LE(s.connections, 3u);
    EXPECT_LE(eng->stats().connections_opened, 3u);
    eng.reset();
  }
}

TEST_F(fixture, HostNamesAreResolved) {
  // "localhost" may resolve to ::1 first, where nothing listens: the next address is tried.
  start({});
  for (const char* path : {"/a", "/b"}) {
    auto o = outlet(path, port);
    o.url = "http://localhost:" + std::to_string(port) + path;
    eng->add_outlet(o);
  }
  push_and_wait(3);
  EXPECT_EQ(rec.by_state()[final_state::delivered], 6);
  EXPECT_EQ(server->stats().delivered, 6u);
}

TEST_F(fixture, StoppingEndsEveryPairWithOneOutcome) {
  // Requests in flight, queued pairs and a submit still being posted all end as cancelled,
  // each exactly once: an embedder can account for everything it handed over.
  sink_options so;
  so.default_behaviour.latency = 2000ms;
  start(so);
  for (int i = 0; i < 5; ++i) eng->add_outlet(outlet("o" + std::to_string(i), port, "/" + std::to_string(i)));
  auto f = feed_with(10);
  ASSERT_EQ(eng->submit(f, f.items), 50u);
  std::this_thread::sleep_for(100ms);
  eng->submit(f, f.items);  // right before the stop
  eng->stop();
  std::lock_guard lock(rec.mutex);
  EXPECT_EQ(rec.outcomes.size(), 100u);
  std::map<std::string, int> per_delivery;
  for (const auto& o : rec.outcomes) {
    EXPECT_EQ(o.state, final_state::cancelled);
    ++per_delivery[o.delivery_id];
  }
  EXPECT_EQ(per_delivery.size(), 50u);  // the resubmitted pairs carry the same ids
  EXPECT_EQ(eng->pending(), 0u);
}

TEST_F(fixture, ConnectionsTheServerClosesAreReplacedWithoutFailures) {
  // The server ends each connection after 3 answers (Connection: close) and closes those
  // idle for 100 ms: deliveries past each limit and after a pause go out on new
  // connections, and no attempt fails.
  for (bool fast : {true, false}) {
    SCOPED_TRACE(fast ? "h1_transport" : "libcurl");
    sink_options so;
    so.idle_timeout = 100ms;
    so.max_requests_per_connection = 3;
    engine_options eo;
    eo.shards = 1;
    eo.fast_http = fast;
    start(so, eo);
    auto o = outlet("o", port);
    o.ordered = true;
    eng->add_outlet(o);
    push_and_wait(5);                       // 3 on the first connection, 2 on the second
    std::this_thread::sleep_for(1200ms);    // the server has closed the second meanwhile
    push_and_wait(2);
    EXPECT_EQ(server->stats().delivered, 7u);
    EXPECT_EQ(server->stats().connections, 3u);
    EXPECT_EQ(eng->stats().retries, 0u);
    EXPECT_EQ(eng->stats().attempts, 7u);
    eng.reset();
  }
}

TEST_F(fixture, RateLimitHoldsBurstPlusRate) {
  start({});
  auto o = outlet("slow", port);
  o.rate = 10;
  o.burst = 5;
  eng->add_outlet(o);
  auto took = timed_push_and_wait(25, 20s);
  double elapsed = std::chrono::duration<double>(took).count();
  // 25 requests at 10/s after a burst of 5 need at least 2 s.
  EXPECT_GE(elapsed, 1.95);
  EXPECT_EQ(server->stats().delivered, 25u);
  // In any window of t seconds, at most 5 + 10 t answers: checked on every pair of answers,
  // with one request and 50 ms of slack for the time an answer takes to come back.
  std::lock_guard lock(rec.mutex);
  for (std::size_t i = 0; i < rec.at.size(); ++i)
    for (std::size_t j = i; j < rec.at.size(); ++j) {
      double t = std::chrono::duration<double>(rec.at[j] - rec.at[i]).count();
      EXPECT_LE(static_cast<double>(j - i + 1), 5 + 10 * (t + 0.05) + 1) << "answers " << i << ".." << j;
    }
}

TEST_F(fixture, BlackholedOutletDoesNotDelayTheOthers) {
  start({});
  // A second sink that accepts connections and never answers.
  sink_behaviour hole;
  hole.blackhole = true;
  auto black = other_sink(hole);
  auto dead = outlet("dead", black->ports().front());
  dead.timeout = 1500ms;
  dead.retry.max_attempts = 1;
  eng->add_outlet(dead);
  auto healthy_done = healthy_delivery_time();
  EXPECT_EQ(server->stats().delivered, 100u);
  EXPECT_LT(healthy_done, 1s) << "healthy outlets waited for the blackholed one";
  ASSERT_TRUE(eng->wait_idle(10s));
  EXPECT_EQ(rec.by_state()[final_state::gave_up], 5);
}

TEST_F(fixture, FailingOutletsCannotTakeEverySlotFromHealthyOnes) {
  // Ten blackholed outlets with work queued fill the shard's 8 slots until their first
  // timeouts. From then on outlets whose last attempt failed may hold only half of the
  // slots, so healthy outlets added later are served while the dead ones keep retrying.
  engine_options eo;
  eo.shards = 1;
  eo.max_in_flight = 8;
  eo.breaker_failures = 100;
  start({}, eo);
  sink_behaviour hole;
  hole.blackhole = true;
  auto black = other_sink(hole);
  for (int i = 0; i < 10; ++i) {
    auto dead = outlet("dead" + std::to_string(i), black->ports().front(), "/" + std::to_string(i));
    dead.timeout = 400ms;
    dead.retry.base = 1ms;
    dead.retry.cap = 1ms;
    dead.retry.max_attempts = 6;
    eng->add_outlet(dead);
  }
  auto f = feed_with(4, "backlog");
  eng->submit(f, f.items);
  std::this_thread::sleep_for(600ms);  // every slot has timed out once; the dead retry at once
  EXPECT_LT(healthy_delivery_time(), 2s) << "healthy outlets found no free slot";
  EXPECT_EQ(server->stats().delivered, 100u);
  eng->stop();
}

TEST_F(fixture, CircuitOpensAfterConsecutiveFailuresAndAProbeClosesIt) {
  sink_options so;
  so.default_behaviour.fail_first = 5;  // 503 five times, then 204
  engine_options eo;
  eo.breaker_failures = 3;
  eo.breaker_cooldown = 400ms;
  start(so, eo);
  auto o = outlet("flaky", port);
  o.max_in_flight = 1;
  o.retry.base = 10ms;
  o.retry.cap = 20ms;
  eng->add_outlet(o);
  auto took = timed_push_and_wait(1);
  // Failures 1-3 open the circuit; probes 4 and 5 fail and reopen it; probe 6 succeeds.
  // Three cooldowns of 400 ms, where backoff alone would have taken well under 200 ms.
  EXPECT_GE(took, 1150ms);
  ASSERT_EQ(rec.outcomes.size(), 1u);
  EXPECT_EQ(rec.outcomes[0].state, final_state::delivered);
  EXPECT_EQ(rec.outcomes[0].attempts, 6u);
}

TEST_F(fixture, SlowOutletCostsOnlyItsOwnSlots) {
  start({});
  sink_behaviour slow;
  slow.latency = 1500ms;
  auto sluggish = other_sink(slow);
  eng->add_outlet(outlet("slow", sluggish->ports().front()));
  EXPECT_LT(healthy_delivery_time(), 1s);
  ASSERT_TRUE(eng->wait_idle(20s));
  EXPECT_EQ(rec.by_state()[final_state::delivered], 105);
}

TEST_F(fixture, NotFoundDeadLettersWithoutRetrying) {
  start({});
  sink_behaviour not_found;
  not_found.status = 404;
  auto missing = other_sink(not_found);
  eng->add_outlet(outlet("nf", missing->ports().front()));
  push_and_wait(3);
  EXPECT_EQ(rec.by_state()[final_state::dead_lettered], 3);
  EXPECT_EQ(missing->stats().requests, 3u);
  EXPECT_EQ(eng->stats().retries, 0u);
}

TEST_F(fixture, FiltersChooseOutletsByLanguage) {
  start({});
  auto fr = outlet("fr", port, "/fr");
  fr.languages = {"fr"};
  eng->add_outlet(fr);
  eng->add_outlet(outlet("all", port, "/all"));
  auto f = feed_with(10);
  EXPECT_EQ(eng->submit(f, f.items), 15u);  // 5 French items + 10 for everyone
  ASSERT_TRUE(eng->wait_idle(10s));
  auto s = server->stats();
  EXPECT_EQ(s.per_outlet[std::to_string(port) + "/fr"], 5u);
  EXPECT_EQ(s.per_outlet[std::to_string(port) + "/all"], 10u);
}

}  // namespace
}  // namespace syndic::engine
