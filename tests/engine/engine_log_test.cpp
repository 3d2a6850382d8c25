// The engine as a durable log drives it: items submitted to one outlet with their sequence
// numbers (submit_to), every attempt reported (on_attempt), and drain().

#include "delivery_fixture.hpp"

#include <set>

namespace syndic::engine {
namespace {

struct engine_log : fixture {
  std::mutex attempts_mutex;
  std::vector<attempt_report> attempts;

  void start_with_attempts(sink_options so, engine_options eo = {}) {
    start(std::move(so), eo);
    eng->on_attempt([this](const attempt_report& a) {
      std::lock_guard lock(attempts_mutex);
      attempts.push_back(a);
    });
  }

  static std::vector<log_item> log_items(std::size_t n, std::uint64_t first_seq) {
    auto f = feed_with(n);
    std::vector<log_item> out;
    for (std::size_t i = 0; i < n; ++i) {
      auto doc = std::make_shared<formats::feed>(f);
      doc->items = {f.items[i]};
      out.push_back(log_item{first_seq + i, std::move(doc), {}, 0});
    }
    return out;
  }
};

TEST_F(engine_log, SubmitToReachesOnlyThatOutletAndOutcomesCarryTheSeq) {
  start_with_attempts({});
  ASSERT_EQ(eng->add_outlet(outlet("a", port, "/a")), "");
  ASSERT_EQ(eng->add_outlet(outlet("b", port, "/b")), "");
  auto items = log_items(5, 100);
  auto r = eng->submit_to("a", items);
  EXPECT_EQ(r.queued, 5u);
  ASSERT_TRUE(eng->wait_idle(10s));
  std::set<std::uint64_t> seqs;
  for (const auto& o : rec.outcomes) {
    EXPECT_EQ(o.outlet_id, "a");
    EXPECT_EQ(o.state, final_state::delivered);
    seqs.insert(o.seq);
  }
  EXPECT_EQ(seqs, (std::set<std::uint64_t>{100, 101, 102, 103, 104}));
  auto st = server->stats();
  EXPECT_EQ(st.delivered, 5u);
  EXPECT_EQ(st.per_outlet.count(std::to_string(port) + "/b"), 0u);
  std::lock_guard lock(attempts_mutex);
  EXPECT_EQ(attempts.size(), 5u);
}

TEST_F(engine_log, SubmitToAnUnknownOutletRefusesEverything) {
  start_with_attempts({});
  auto items = log_items(3, 1);
  auto r = eng->submit_to("nobody", items);
  EXPECT_EQ(r.queued, 0u);
  EXPECT_EQ(r.refused, 3u);
  EXPECT_EQ(eng->pending(), 0u);
}

TEST_F(engine_log, TheDeliveryIdIsTheSameForTheSameItemKeyAndOutlet) {
  // What makes a resend after a restart carry the first attempt's id.
  start_with_attempts({});
  ASSERT_EQ(eng->add_outlet(outlet("a", port, "/a")), "");
  auto first = log_items(1, 7);
  first[0].item_key = "key-7";
  auto again = log_items(1, 7);
  again[0].item_key = "key-7";
  eng->submit_to("a", first);
  eng->submit_to("a", again);
  ASSERT_TRUE(eng->wait_idle(10s));
  ASSERT_EQ(rec.outcomes.size(), 2u);
  EXPECT_EQ(rec.outcomes[0].delivery_id, rec.outcomes[1].delivery_id);
  EXPECT_EQ(server->stats().duplicates, 1u);
}

TEST_F(engine_log, EveryAttemptIsReportedWithItsRetryTime) {
  sink_options so;
  so.default_behaviour.fail_first = 2;  // 503, 503, then 204
  start_with_attempts(so);
  ASSERT_EQ(eng->add_outlet(outlet("a", port, "/a")), "");
  auto items = log_items(1, 42);
  eng->submit_to("a", items);
  ASSERT_TRUE(eng->wait_idle(10s));
  std::lock_guard lock(attempts_mutex);
  ASSERT_EQ(attempts.size(), 3u);
  for (std::uint32_t i = 0; i < 3; ++i) {
    EXPECT_EQ(attempts[i].attempt, i + 1);
    EXPECT_EQ(attempts[i].seq, 42u);
    EXPECT_EQ(attempts[i].delivery_id, rec.outcomes.at(0).delivery_id);
  }
  EXPECT_TRUE(attempts[0].will_retry);
  EXPECT_EQ(attempts[0].status, 503);
  EXPECT_GT(attempts[0].retry_at, std::chrono::system_clock::now() - 10s);
  EXPECT_TRUE(attempts[1].will_retry);
  EXPECT_FALSE(attempts[2].will_retry);
  EXPECT_EQ(attempts[2].status, 204);
  EXPECT_EQ(rec.outcomes.at(0).attempts, 3u);
}

TEST_F(engine_log, AResumedPairKeepsItsAttemptCount) {
  start_with_attempts({});
  ASSERT_EQ(eng->add_outlet(outlet("a", port, "/a")), "");
  auto items = log_items(1, 9);
  items[0].attempts = 4;
  eng->submit_to("a", items);
  ASSERT_TRUE(eng->wait_idle(10s));
  ASSERT_EQ(rec.outcomes.size(), 1u);
  EXPECT_EQ(rec.outcomes[0].attempts, 5u);
  EXPECT_EQ(rec.outcomes[0].state, final_state::delivered);
}

TEST_F(engine_log, AResumedRetryWaitsForItsTime) {
  // A pair resumed after a restart keeps its backoff: not sent before `not_before`. (A lower
  // bound only: a slow machine makes it later, never earlier.)
  start_with_attempts({});
  ASSERT_EQ(eng->add_outlet(outlet("a", port, "/a")), "");
  auto items = log_items(1, 5);
  items[0].attempts = 2;
  items[0].not_before = std::chrono::system_clock::now() + 400ms;
  auto t0 = std::chrono::steady_clock::now();
  eng->submit_to("a", items);
  ASSERT_TRUE(eng->wait_idle(10s));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 350ms);
  ASSERT_EQ(rec.outcomes.size(), 1u);
  EXPECT_EQ(rec.outcomes[0].state, final_state::delivered);
  EXPECT_EQ(rec.outcomes[0].attempts, 3u);
}

TEST_F(engine_log, DrainFinishesWhatIsPendingAndRefusesNewWork) {
  sink_options so;
  so.default_behaviour.latency = latency_distribution(std::chrono::milliseconds(20));
  start_with_attempts(so);
  ASSERT_EQ(eng->add_outlet(outlet("a", port, "/a")), "");
  auto items = log_items(10, 1);
  ASSERT_EQ(eng->submit_to("a", items).queued, 10u);
  EXPECT_TRUE(eng->drain(10s));
  EXPECT_EQ(rec.by_state()[final_state::delivered], 10);
  auto late = log_items(1, 11);
  EXPECT_EQ(eng->submit_to("a", late).status, submit_status::stopped);
}

TEST_F(engine_log, DrainPastItsDeadlineCancelsWhatIsLeft) {
  sink_options so;
  so.default_behaviour.status = 503;  // never delivered: retries until the drain's deadline
  start_with_attempts(so);
  ASSERT_EQ(eng->add_outlet(outlet("a", port, "/a")), "");
  auto items = log_items(3, 1);
  eng->submit_to("a", items);
  EXPECT_FALSE(eng->drain(300ms));
  EXPECT_EQ(eng->pending(), 0u);
  EXPECT_EQ(rec.by_state()[final_state::cancelled], 3);
}

TEST_F(engine_log, APublicOnlyOutletNeverConnectsToAPrivateAddress) {
  // The sink listens on 127.0.0.1: a public_only outlet (one a stranger added through the
  // API) is refused at connect time, whatever its URL said; a trusted one on the same server
  // is delivered, on connections of its own.
  start_with_attempts({});
  auto o = outlet("stranger", port, "/s");
  o.public_only = true;
  o.retry.max_attempts = 1;
  ASSERT_EQ(eng->add_outlet(o), "");
  ASSERT_EQ(eng->add_outlet(outlet("trusted", port, "/t")), "");
  auto items = log_items(1, 1);
  eng->submit_to("stranger", items);
  eng->submit_to("trusted", items);
  ASSERT_TRUE(eng->wait_idle(10s));
  std::map<std::string, delivery_outcome> by_outlet;
  for (const auto& out : rec.outcomes) by_outlet[out.outlet_id] = out;
  EXPECT_EQ(by_outlet["trusted"].state, final_state::delivered);
  EXPECT_NE(by_outlet["stranger"].state, final_state::delivered);
  EXPECT_NE(by_outlet["stranger"].reason.find("loopback"), std::string::npos) << by_outlet["stranger"].reason;
  EXPECT_EQ(server->stats().per_outlet.count(std::to_string(port) + "/s"), 0u);
}

}  // namespace
}  // namespace syndic::engine
