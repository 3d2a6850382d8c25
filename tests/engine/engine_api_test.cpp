// The engine's public contract: bounded queues with back-pressure the caller can act on,
// expiry by age, and use from several threads at once (engine.hpp states the rules).

#include "delivery_fixture.hpp"

#include <atomic>
#include <stdexcept>

namespace syndic::engine {
namespace {

// Its own suite name: gtest wants one fixture class per suite, and each test file has its own.
struct engine_api : fixture {};

// A server that reads requests and never answers: pairs stay queued as long as a test needs.
std::unique_ptr<sink> blackhole() {
  sink_behaviour hole;
  hole.blackhole = true;
  return fixture::other_sink(hole);
}

TEST_F(engine_api, OutletQueueIsBoundedAndSubmitSaysWhatItRefused) {
  engine_options eo;
  eo.max_queue = 5;
  start({}, eo);
  auto hole = blackhole();
  auto stuck = outlet("stuck", hole->ports().front());
  stuck.timeout = 10'000ms;
  eng->add_outlet(stuck);
  eng->add_outlet(outlet("fine", port));
  auto f = feed_with(8);
  submit_result r = eng->submit(f, f.items);
  EXPECT_EQ(r.status, submit_status::outlets_full);
  EXPECT_EQ(r.queued, 5u + 5u);  // each outlet takes the first five items
  EXPECT_EQ(r.refused, 3u + 3u);
  ASSERT_TRUE(eng->wait_idle(50ms) == false);
  // The healthy outlet drains; then it has room again while the stuck one has none.
  auto t0 = std::chrono::steady_clock::now();
  while (server->stats().delivered < 5 && std::chrono::steady_clock::now() - t0 < 5s)
    std::this_thread::sleep_for(5ms);
  std::this_thread::sleep_for(20ms);  // the outcomes follow the answers
  auto g = feed_with(2, "more");
  r = eng->submit(g, g.items);
  EXPECT_EQ(r.queued, 2u);
  EXPECT_EQ(r.refused, 2u);
  ASSERT_EQ(r.full_outlets.size(), 1u);
  EXPECT_EQ(r.full_outlets[0].first, "stuck");
  EXPECT_EQ(r.full_outlets[0].second, 2u);
  eng->stop();
  // Only what was queued gets an outcome: 5 + 5 + 2.
  EXPECT_EQ(rec.outcomes.size(), 12u);
  EXPECT_EQ(eng->pending(), 0u);
}

TEST_F(engine_api, EngineBoundRefusesAWholeSubmitAndTakesItOnceThereIsRoom) {
  engine_options eo;
  eo.max_pending_pairs = 10;
  eo.breaker_failures = 100;  // five timeouts in a row would otherwise hold the sixth for 30 s
  start({}, eo);
  auto hole = blackhole();
  auto stuck = outlet("stuck", hole->ports().front());
  stuck.timeout = 300ms;
  stuck.retry.max_attempts = 1;
  eng->add_outlet(stuck);
  auto f = feed_with(6);
  EXPECT_EQ(eng->submit(f, f.items).status, submit_status::accepted);
  submit_result r = eng->submit(f, f.items);
  EXPECT_EQ(r.status, submit_status::engine_full);
  EXPECT_EQ(r.queued, 0u);
  EXPECT_EQ(r.refused, 6u);
  EXPECT_EQ(eng->pending(), 6u);
  ASSERT_TRUE(eng->wait_idle(5s)) << eng->pending() << " pending, " << eng->stats().attempts << " attempts, "
                                  << eng->stats().gave_up << " gave up";  // the six time out: room again
  EXPECT_EQ(eng->submit(f, f.items).status, submit_status::accepted);
  eng->stop();
  EXPECT_EQ(rec.outcomes.size(), 12u);
}

TEST_F(engine_api, PairsWaitingBehindAnOpenCircuitExpire) {
  // The first answer (503) opens the circuit for 600 ms; the five pairs are older than
  // max_age (300 ms) when the probe is due, and end as expired, saying why.
  sink_options so;
  so.default_behaviour.status = 503;
  engine_options eo;
  eo.breaker_failures = 1;
  eo.breaker_cooldown = 600ms;
  eo.max_age = 300ms;
  start(so, eo);
  auto o = outlet("down", port);
  o.max_in_flight = 1;
  eng->add_outlet(o);
  push_and_wait(5, 5s);
  EXPECT_EQ(rec.by_state()[final_state::expired], 5);
  EXPECT_EQ(eng->stats().expired, 5u);
  EXPECT_EQ(server->stats().requests, 1u);
  std::lock_guard lock(rec.mutex);
  for (const auto& out : rec.outcomes) EXPECT_NE(out.reason.find("max_age"), std::string::npos) << out.reason;
}

TEST_F(engine_api, AnOutletIsCheckedWhenAddedAndABadOneIsNotAdded) {
  // The URL is parsed once, here, by the outlets file's rules: a bad one is refused with a
  // message instead of failing every send for a day.
  start({});
  auto bad = outlet("bad", port);
  bad.url = "gopher://127.0.0.1:" + std::to_string(port) + "/x";
  std::string error = eng->add_outlet(bad);
  EXPECT_NE(error.find("url"), std::string::npos) << error;
  EXPECT_EQ(eng->add_outlet(outlet("good", port)), "");
  auto f = feed_with(2);
  EXPECT_EQ(eng->submit(f, f.items).queued, 2u);  // the good outlet only
  ASSERT_TRUE(eng->wait_idle(5s));
  EXPECT_EQ(rec.by_state()[final_state::delivered], 2);
}

TEST_F(engine_api, OutcomeCallbackMustBeSetBeforeTheEngineStarts) {
  start({});
  eng->add_outlet(outlet("o", port));
  EXPECT_THROW(eng->on_outcome([](const delivery_outcome&) {}), std::logic_error);
}

TEST_F(engine_api, StopFromInsideTheOutcomeCallback) {
  // The callback runs on a shard thread, which cannot join itself: stop() there asks the
  // shards to stop, every pair still ends exactly once, and the destructor joins.
  sink_options so;
  so.default_behaviour.latency = 30ms;
  start(so);
  std::atomic<int> seen{0};
  engine_options eo;
  eo.shards = 2;
  eng = std::make_unique<engine>(eo);
  eng->on_outcome([&](const delivery_outcome& o) {
    rec(o);
    if (++seen == 3) eng->stop();
  });
  for (int i = 0; i < 4; ++i) eng->add_outlet(outlet("o" + std::to_string(i), port, "/" + std::to_string(i)));
  auto f = feed_with(20);
  EXPECT_EQ(eng->submit(f, f.items).queued, 80u);
  ASSERT_TRUE(eng->wait_idle(5s));
  EXPECT_EQ(eng->submit(f, f.items).status, submit_status::stopped);
  eng.reset();  // joins
  expect_one_outcome_each(rec, 80);
  EXPECT_GT(rec.by_state()[final_state::cancelled], 0);
}

TEST_F(engine_api, SubmitAddRemoveAndStopFromManyThreads) {
  // Two threads submit, one adds and removes outlets, one stops the engine midway, and the
  // outcome callback submits too. Whatever the interleaving, every pair accepted ends with
  // exactly one outcome and nothing is left pending. (Run under ThreadSanitizer: scripts/tsan.sh.)
  sink_options so;
  so.default_behaviour.latency = 5ms;
  engine_options eo;
  eo.shards = 2;
  start(so, eo);
  std::atomic<std::size_t> accepted{0};
  std::atomic<bool> done{false};
  std::atomic<int> from_callback{0};
  eng = std::make_unique<engine>(eo);
  eng->on_outcome([&](const delivery_outcome& o) {
    rec(o);
    if (int n = from_callback.fetch_add(1); n < 20) {
      auto one = feed_with(1, "cb" + std::to_string(n));
      accepted += eng->submit(one, one.items).queued;
    }
  });
  for (int i = 0; i < 4; ++i) eng->add_outlet(outlet("base" + std::to_string(i), port, "/b" + std::to_string(i)));
  auto deadline = std::chrono::steady_clock::now() + 3s;
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t)
    threads.emplace_back([&, t] {
      for (int round = 0; round < 200 && !done && std::chrono::steady_clock::now() < deadline; ++round) {
        auto f = feed_with(3, "t" + std::to_string(t) + "r" + std::to_string(round));
        accepted += eng->submit(f, f.items).queued;
        std::this_thread::sleep_for(1ms);
      }
    });
  threads.emplace_back([&] {
    for (int round = 0; round < 200 && !done && std::chrono::steady_clock::now() < deadline; ++round) {
      std::string id = "churn" + std::to_string(round % 3);
      eng->add_outlet(outlet(id, port, "/" + id));
      std::this_thread::sleep_for(1ms);
      eng->remove_outlet(id);
    }
  });
  threads.emplace_back([&] {
    std::this_thread::sleep_for(150ms);
    eng->stop();
    done = true;
  });
  for (auto& th : threads) th.join();
  eng->stop();
  EXPECT_EQ(eng->pending(), 0u);
  EXPECT_GT(accepted.load(), 0u);
  expect_one_outcome_each(rec, accepted.load());
  eng.reset();
}

}  // namespace
}  // namespace syndic::engine
