// The engine against `syndic::engine::sink` on loopback: real sockets, real curl.

#include "delivery_fixture.hpp"

namespace syndic::engine {
namespace {

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
  EXPECT_EQ(eng->submit(f, f.items).queued, 50u);
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
  // The failures say Retry-After: 1, so that all three fail before any retry goes out (with
  // the fixture's 0-50 ms jittered delay, item-0's retry could come due before the second
  // batch was sent, take the third failure, and leave that batch one attempt).
  sink_options so;
  so.default_behaviour.fail_first = 3;
  so.default_behaviour.retry_after_seconds = 1;
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
  ASSERT_EQ(eng->submit(f, f.items).queued, 50u);
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

// The outcome callback runs on the shard's thread between an answer and the outlet's next
// request. However long it takes, that request's deadline counts from when it goes: taken
// from the answer's clock reading, the second request here had 200 ms for a 400 ms answer.
TEST_F(fixture, ASlowOutcomeCallbackDoesNotShortenTheNextRequestsDeadline) {
  sink_options so;
  so.default_behaviour.latency = 400ms;
  start(so);
  engine_options eo;
  eo.shards = 1;
  eng = std::make_unique<engine>(eo);
  eng->on_outcome([this](const delivery_outcome& o) {
    rec(o);
    std::this_thread::sleep_for(800ms);
  });
  outlet_config out = outlet("o", port);
  out.timeout = 1000ms;
  out.max_in_flight = 1;  // the second item goes after the first one's answer and callback
  eng->add_outlet(out);
  push_and_wait(2, 20s);
  EXPECT_EQ(rec.by_state()[final_state::delivered], 2);
  EXPECT_EQ(eng->stats().retries, 0u) << "a request timed out before its 1,000 ms";
  EXPECT_EQ(server->stats().requests, 2u);
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
  EXPECT_EQ(eng->submit(f, f.items).queued, 15u);  // 5 French items + 10 for everyone
  ASSERT_TRUE(eng->wait_idle(10s));
  auto s = server->stats();
  EXPECT_EQ(s.per_outlet[std::to_string(port) + "/fr"], 5u);
  EXPECT_EQ(s.per_outlet[std::to_string(port) + "/all"], 10u);
}

TEST_F(fixture, GoneWhileOtherRequestsAreInFlightEndsEveryPair) {
  // The first POST is refused at once with 410; the three sent beside it come back 0.3 s
  // later with 503. Those answers reach a retired outlet: their pairs must end (retired), not
  // wait in a retry queue that nothing will ever pump again.
  sink_options so;
  so.default_behaviour.status = 503;
  so.default_behaviour.latency = 300ms;
  so.default_behaviour.fail_first = 1;
  so.default_behaviour.error_status = 410;
  so.default_behaviour.error_latency = latency_distribution(0ms);
  engine_options eo;
  eo.shards = 1;
  eo.adaptive_concurrency = false;  // the race needs four in flight from the start
  start(so, eo);
  eng->add_outlet(outlet("gone", port));  // 4 in flight, the default
  push_and_wait(10, 5s);
  EXPECT_EQ(rec.by_state()[final_state::retired], 10);
  expect_one_outcome_each(rec, 10);
  EXPECT_EQ(server->stats().requests, 4u);
}

TEST_F(fixture, LateAnswersForARemovedOutletLeaveItsSuccessorAlone) {
  // Four requests to a slow host are in flight when the outlet is removed and added again
  // under the same id, now pointing at a quick host. The late answers belong to the old
  // outlet: they must not touch the new one's in-flight count (which would wrap and freeze it).
  sink_options so;
  engine_options eo;
  eo.shards = 1;
  eo.adaptive_concurrency = false;  // the race needs four in flight from the start
  start(so, eo);
  sink_behaviour slow;
  slow.latency = 400ms;
  auto sluggish = other_sink(slow);
  eng->add_outlet(outlet("x", sluggish->ports().front()));
  auto f = feed_with(4, "old");
  eng->submit(f, f.items);
  std::this_thread::sleep_for(100ms);  // all four in flight
  eng->remove_outlet("x");
  eng->add_outlet(outlet("x", port));
  push_and_wait(3, 5s);                // quick: done before the late answers
  std::this_thread::sleep_for(500ms);  // the four late answers have come back
  auto g = feed_with(3, "new");
  eng->submit(g, g.items);
  ASSERT_TRUE(eng->wait_idle(5s)) << "the re-added outlet froze";
  EXPECT_EQ(server->stats().delivered, 6u);
  expect_one_outcome_each(rec, 10);
  // The old requests were answered 2xx: their pairs were delivered, whatever became of the outlet.
  EXPECT_EQ(rec.by_state()[final_state::delivered], 10);
}

TEST_F(fixture, SlowHostDoesNotTakeEverySlot) {
  // Twenty outlets on one slow host (2xx after 1.5 s), four in flight each, two connections
  // per host: the requests waiting for one of its connections must not hold the shard's
  // slots, so twenty outlets on another host keep flowing. Through both transports.
  for (bool fast : {true, false}) {
    SCOPED_TRACE(fast ? "h1_transport" : "libcurl");
    engine_options eo;
    eo.shards = 1;
    eo.max_in_flight = 16;
    eo.max_host_connections = 2;
    eo.adaptive_concurrency = false;  // four in flight each from the start, as said
    eo.fast_http = fast;
    start({}, eo);
    sink_behaviour slow;
    slow.latency = 1500ms;
    auto sluggish = other_sink(slow);
    for (int i = 0; i < 20; ++i)
      eng->add_outlet(outlet("slow" + std::to_string(i), sluggish->ports().front(), "/" + std::to_string(i)));
    auto f = feed_with(2, "backlog");
    eng->submit(f, f.items);
    std::this_thread::sleep_for(100ms);
    EXPECT_LT(healthy_delivery_time(), 1s) << "the slow host held the shard's slots";
    EXPECT_EQ(server->stats().delivered, 100u);
    eng->stop();
    eng.reset();
  }
}

TEST_F(fixture, SinkForgetsOldIdsAndCapsTheOutletsItCounts) {
  // A load test may run for weeks: the sink remembers the last `duplicate_window` ids and
  // counts at most `max_outlets_counted` paths one by one.
  sink_options so;
  so.duplicate_window = 3;
  so.max_outlets_counted = 1;
  start(so);
  auto o = outlet("o", port, "/a");
  o.ordered = true;  // the ids reach the sink in log order
  eng->add_outlet(o);
  auto f = feed_with(5);
  push_and_wait(5);
  std::vector<formats::item> again{f.items[0], f.items[4]};
  eng->submit(f, again);  // item-0 is forgotten, item-4 is among the last three
  ASSERT_TRUE(eng->wait_idle(5s));
  auto other = outlet("p", port, "/b");
  eng->add_outlet(other);
  eng->remove_outlet("o");
  std::this_thread::sleep_for(20ms);
  push_and_wait(1);
  auto s = server->stats();
  EXPECT_EQ(s.delivered, 8u);
  EXPECT_EQ(s.duplicates, 1u);
  EXPECT_EQ(s.per_outlet.size(), 2u);
  EXPECT_EQ(s.per_outlet[std::to_string(port) + "/a"], 7u);
  EXPECT_EQ(s.per_outlet["(other)"], 1u);
}

TEST_F(fixture, UpdatedItemGetsANewDeliveryIdAndARetryKeepsIt) {
  // The same item sent again unchanged is a duplicate (same id); edited, with a later
  // `updated`, it is news: a new id, which the receiver does not drop.
  sink_options so;
  so.default_behaviour.fail_first = 1;  // the first attempt fails: the retry keeps its id
  start(so);
  eng->add_outlet(outlet("o", port));
  auto f = feed_with(1);
  push_and_wait(1);
  eng->submit(f, f.items);  // the same content again
  ASSERT_TRUE(eng->wait_idle(5s));
  f.items[0].title = "Item 0, corrected";
  f.items[0].updated = formats::timestamp{1'800'000'000'000, 0};
  eng->submit(f, f.items);
  ASSERT_TRUE(eng->wait_idle(5s));
  auto s = server->stats();
  EXPECT_EQ(s.delivered, 3u);
  EXPECT_EQ(s.duplicates, 1u);  // the unchanged resend, and only it
  std::lock_guard lock(rec.mutex);
  ASSERT_EQ(rec.outcomes.size(), 3u);
  EXPECT_EQ(rec.outcomes[0].attempts, 2u);
  EXPECT_EQ(rec.outcomes[0].delivery_id, rec.outcomes[1].delivery_id);
  EXPECT_NE(rec.outcomes[2].delivery_id, rec.outcomes[0].delivery_id);
}

TEST_F(fixture, RedirectsAreNotFollowedByDefault) {
  // Standard Webhooks: a 3xx is a failure. It is not retried either (the same request gets
  // the same answer); the pair is dead-lettered, to be replayed once the URL is fixed.
  start({});
  sink_behaviour moved;
  moved.status = 307;
  moved.location = "http://127.0.0.1:" + std::to_string(port) + "/elsewhere";
  auto old_home = other_sink(moved);
  eng->add_outlet(outlet("moved", old_home->ports().front()));
  push_and_wait(2);
  EXPECT_EQ(rec.by_state()[final_state::dead_lettered], 2);
  EXPECT_EQ(server->stats().requests, 0u);
  EXPECT_EQ(old_home->stats().requests, 2u);
}

TEST_F(fixture, FollowedRedirectToAnotherOriginCarriesNoSecrets) {
  // An outlet that opts in follows 307/308 to http(s) URLs only; on another origin its
  // custom headers and signatures stay behind (the same origin still gets them).
  sink_options so;
  so.count_headers = {"Authorization", "webhook-signature", "webhook-id"};
  start(so);
  auto moved_to = [&](const std::string& url) {
    sink_behaviour b;
    b.status = 308;
    b.location = url;
    return other_sink(b);
  };
  auto cross = moved_to("http://127.0.0.1:" + std::to_string(port) + "/new");
  auto gopher = moved_to("gopher://127.0.0.1:" + std::to_string(port) + "/x");
  for (auto* s : {cross.get(), gopher.get()}) {
    auto o = outlet(s == cross.get() ? "cross" : "gopher", s->ports().front());
    o.follow_redirects = true;
    o.secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    o.headers.push_back({"Authorization", "Bearer outlet-secret"});
    eng->add_outlet(o);
  }
  push_and_wait(2);
  auto s = server->stats();
  EXPECT_EQ(s.delivered, 2u);  // the cross-origin outlet's two items, redirected
  EXPECT_EQ(s.headers["webhook-id"], 2u);
  EXPECT_EQ(s.headers["Authorization"], 0u);
  EXPECT_EQ(s.headers["webhook-signature"], 0u);
  std::lock_guard lock(rec.mutex);
  for (const auto& out : rec.outcomes) {
    if (out.outlet_id == "cross") EXPECT_EQ(out.state, final_state::delivered);
    else EXPECT_EQ(out.state, final_state::dead_lettered) << out.reason;
  }
}

TEST_F(fixture, RunningOutOfConnectionsIsBackPressureNotTheOutletsFault) {
  // One connection for the whole engine, two outlets on two hosts. While one outlet's request
  // holds it, the other's finds none (local_failure): that must neither count as an attempt
  // nor open its circuit (one failure would) nor use up its single attempt; it waits its turn.
  engine_options eo;
  eo.shards = 1;
  eo.max_connections = 1;
  eo.breaker_failures = 1;
  sink_options so;
  so.default_behaviour.latency = 100ms;
  start(so, eo);
  sink_behaviour slow;
  slow.latency = 100ms;
  auto second = other_sink(slow);
  for (auto [id, p] : {std::pair{"a", port}, std::pair{"b", second->ports().front()}}) {
    auto o = outlet(id, p);
    o.max_in_flight = 1;
    o.retry.max_attempts = 1;
    eng->add_outlet(o);
  }
  push_and_wait(3, 10s);
  EXPECT_EQ(rec.by_state()[final_state::delivered], 6);
  EXPECT_EQ(eng->stats().attempts, 6u);
  EXPECT_EQ(eng->stats().retries, 0u);
  EXPECT_EQ(server->stats().delivered + second->stats().delivered, 6u);
}

}  // namespace
}  // namespace syndic::engine
