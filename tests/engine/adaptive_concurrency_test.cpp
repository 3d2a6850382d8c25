// Adaptive per-outlet concurrency through the whole engine, against the sink on loopback:
// outlets start with one connection and open more only when their queue backs up behind a
// slow (but parallel) remote. No timed assertions: connection counts and peaks only.

#include "delivery_fixture.hpp"

namespace syndic::engine {
namespace {

struct AdaptiveConcurrency : fixture {
  void add_outlets(int n) {
    for (int i = 0; i < n; ++i) eng->add_outlet(outlet("o" + std::to_string(i), port, "/" + std::to_string(i)));
  }
};

TEST_F(AdaptiveConcurrency, FastSinkOpensAboutOneConnectionPerOutlet) {
  // Engine defaults (adaptive, each outlet up to 4 in flight), but no cap per host: the 50
  // outlets share the sink's port, and its cap would hide what each outlet opens.
  engine_options eo;
  eo.max_host_connections = 0;
  start({}, eo);
  add_outlets(50);
  push_and_wait(20);
  auto s = eng->stats();
  EXPECT_EQ(s.delivered, 1000u);
  expect_one_outcome_each(rec, 1000);
  // One connection per outlet; a few more would be a probe, never 4 per outlet.
  EXPECT_GE(s.connections_opened, 50u);
  EXPECT_LE(s.connections_opened, 60u);
  EXPECT_EQ(s.peak_outlet_in_flight, 1u);
}

TEST_F(AdaptiveConcurrency, FixedLimitOpensMaxInFlightPerOutlet) {
  // Today's behaviour, kept for comparison: every outlet sends 4 at once from the start.
  engine_options eo;
  eo.adaptive_concurrency = false;
  eo.max_host_connections = 0;
  start({}, eo);
  add_outlets(50);
  push_and_wait(20);
  auto s = eng->stats();
  EXPECT_EQ(s.delivered, 1000u);
  EXPECT_GT(s.connections_opened, 150u);
  EXPECT_EQ(s.peak_outlet_in_flight, 4u);
}

TEST_F(AdaptiveConcurrency, SlowSinkWithDeepQueueGrowsPastOne) {
  sink_options so;
  so.default_behaviour.latency = latency_distribution(std::chrono::milliseconds(20));
  engine_options eo;
  eo.concurrency_backlog = std::chrono::milliseconds(500);  // the default 5 s would make this test slow
  start(so, eo);
  // 100 items behind a 20 ms remote that answers in parallel: 2 s at one connection.
  add_outlets(1);
  push_and_wait(100, 20s);
  auto s = eng->stats();
  EXPECT_EQ(s.delivered, 100u);
  expect_one_outcome_each(rec, 100);
  EXPECT_GT(s.peak_outlet_in_flight, 1u);
  EXPECT_LE(s.peak_outlet_in_flight, 4u);  // never past the outlet's max_in_flight
  EXPECT_GT(s.connections_opened, 1u);
  EXPECT_EQ(server->stats().delivered, 100u);
}

TEST_F(AdaptiveConcurrency, OrderedOutletStaysAtOne) {
  sink_options so;
  so.default_behaviour.latency = latency_distribution(std::chrono::milliseconds(5));
  start(so);
  auto o = outlet("ordered", port);
  o.ordered = true;
  eng->add_outlet(o);
  push_and_wait(100, 20s);
  EXPECT_EQ(eng->stats().delivered, 100u);
  EXPECT_EQ(eng->stats().peak_outlet_in_flight, 1u);
  expect_delivered_in_log_order(100);
}

}  // namespace
}  // namespace syndic::engine
