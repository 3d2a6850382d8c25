// The sink's ledger (sink_ledger_options): what a load test's correctness check reads. Real
// requests over loopback to a real sink; the bodies carry the links syndic loadtest puts in
// items ("/items/RUN/K?created_ms=MS").

#include "http/h1_transport.hpp"
#include "testkit/sink_ledger.hpp"

#include <syndic/engine/signer.hpp>
#include <syndic/testkit/sink.hpp>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

namespace syndic::engine {
namespace {

using namespace syndic::testkit;
using namespace std::chrono_literals;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string body_of(std::uint64_t run, std::initializer_list<std::uint64_t> ks, std::int64_t created_ms) {
  std::string b = R"({"items":[)";
  for (auto k : ks)
    b += R"({"url":"http://x.invalid/items/)" + std::to_string(run) + "/" + std::to_string(k) +
         "?created_ms=" + std::to_string(created_ms) + R"("},)";
  b.back() = ']';
  return b + "}";
}

struct ledger_sink : ::testing::Test {
  std::unique_ptr<sink> server;
  boost::asio::io_context io;
  std::unique_ptr<http::h1_transport> client;

  void start(sink_options o) {
    server = std::make_unique<sink>(std::move(o));
    server->start();
    client = std::make_unique<http::h1_transport>(io);
  }
  static sink_ledger_options ledger(std::size_t items, std::size_t outlets) {
    sink_ledger_options l;
    l.items = items;
    l.outlets = outlets;
    l.run = 7;
    return l;
  }
  int post(const std::string& path, const std::string& body, const std::string& id = "") {
    http::request r;
    r.url = "http://127.0.0.1:" + std::to_string(server->ports().front()) + path;
    r.body = std::make_shared<const std::string>(body);
    if (!id.empty()) r.headers = {"webhook-id: " + id, "webhook-timestamp: 1"};
    int status = -1;
    client->post(r, [&](http::response resp) { status = resp.status; });
    for (int i = 0; i < 500 && status == -1; ++i) {
      io.run_for(10ms);
      io.restart();
    }
    return status;
  }
};

TEST_F(ledger_sink, CountsPairsDuplicatesByIdStrayAndMissing) {
  sink_options o;
  o.ledger = ledger(4, 3);
  start(o);
  std::int64_t ms = now_ms() - 5;
  EXPECT_EQ(post("/o/0", body_of(7, {0, 1}, ms), "msg_a"), 204);  // a batch of two
  EXPECT_EQ(post("/o/1", body_of(7, {0}, ms), "msg_b"), 204);
  EXPECT_EQ(post("/o/1", body_of(7, {0}, ms), "msg_b"), 204);      // a retry: same id
  EXPECT_EQ(post("/o/1", body_of(7, {0}, ms), "msg_c"), 204);      // a second send: other id
  EXPECT_EQ(post("/o/2", body_of(8, {0}, ms), "msg_d"), 204);      // another run's item
  EXPECT_EQ(post("/o/9", body_of(7, {0}, ms), "msg_e"), 204);      // no such outlet
  EXPECT_EQ(post("/o/2", body_of(7, {3}, ms)), 204);               // no id: the body stands for it
  EXPECT_EQ(post("/o/2", body_of(7, {3}, ms)), 204);
  sink_ledger_snapshot l = server->ledger(100);
  EXPECT_EQ(l.delivered, 4u);  // (0,0) (1,0) (0,1) (3,2)
  EXPECT_EQ(l.duplicates, 3u);
  EXPECT_EQ(l.duplicates_same_id, 2u);
  EXPECT_EQ(l.duplicates_different_id, 1u);
  EXPECT_EQ(l.stray, 2u);
  EXPECT_EQ(l.missing.size(), 12u - 4u);
  EXPECT_EQ(l.missing.front(), (std::pair<std::size_t, std::size_t>{0, 2}));
  EXPECT_EQ(l.delivered_per_outlet, (std::vector<std::uint64_t>{2, 1, 1}));
  EXPECT_EQ(l.delivered_in_range, 4u);
  sink_ledger_snapshot first_item = server->ledger(100, 1);  // item 0 only: (0,0) and (0,1)
  EXPECT_EQ(first_item.delivered_in_range, 2u);
  EXPECT_EQ(first_item.missing, (std::vector<std::pair<std::size_t, std::size_t>>{{0, 2}}));
  ASSERT_EQ(l.classes.size(), 1u);
  std::uint64_t in_histogram = 0;
  for (const auto& [upper, n] : l.classes[0].histogram) {
    EXPECT_GE(upper, 5.0);  // created 5 ms before the first request
    in_histogram += n;
  }
  EXPECT_EQ(in_histogram, 4u);
  EXPECT_EQ(l.arrivals_per_100ms.empty(), false);
  // The sink's own counters agree: 2xx requests and the items they carried.
  sink_stats s = server->stats();
  EXPECT_EQ(s.requests, 8u);
  EXPECT_EQ(s.delivered, 8u);
  EXPECT_EQ(s.items, 9u);  // 4 first receipts, 3 duplicates, 2 strays
  EXPECT_EQ(s.duplicates, 3u);
}

TEST_F(ledger_sink, OrderedOutletsReportAnItemBeforeAnEarlierOne) {
  sink_options o;
  o.ledger = ledger(5, 2);
  o.ledger->ordered = {true, false};
  start(o);
  std::int64_t ms = now_ms();
  for (std::uint64_t k : {0, 2, 1, 3})
    for (const char* path : {"/o/0", "/o/1"}) EXPECT_EQ(post(path, body_of(7, {k}, ms)), 204);
  EXPECT_EQ(server->ledger().order_violations, 1u);  // outlet 0 only: outlet 1 is not ordered
}

TEST_F(ledger_sink, DropAnswers2xxAndRecordsNothing) {
  sink_options o;
  o.ledger = ledger(2, 2);
  o.ledger->outlet_class = {0, 1};
  o.ledger->class_names = {"healthy", "drop"};
  sink_behaviour drop;
  drop.drop = true;
  o.ledger->class_behaviour = {sink_behaviour{}, drop};
  start(o);
  std::int64_t ms = now_ms();
  EXPECT_EQ(post("/o/0", body_of(7, {0}, ms), "msg_1"), 204);
  EXPECT_EQ(post("/o/1", body_of(7, {0}, ms), "msg_2"), 204);
  sink_ledger_snapshot l = server->ledger();
  EXPECT_EQ(l.delivered, 1u);
  EXPECT_EQ(l.dropped, 1u);
  EXPECT_EQ(l.classes[1].dropped, 1u);
  EXPECT_EQ(server->stats().dropped, 1u);
  EXPECT_EQ(server->stats().delivered, 1u);
}

TEST_F(ledger_sink, ClassBehaviourFailsItsShareAndTheLedgerSkipsFailures) {
  sink_options o;
  o.ledger = ledger(50, 1);
  o.ledger->outlet_class = {1};
  o.ledger->class_names = {"healthy", "fail"};
  sink_behaviour fail;
  fail.error_rate = 1.0;
  fail.error_status = 500;
  o.ledger->class_behaviour = {sink_behaviour{}, fail};
  start(o);
  EXPECT_EQ(post("/o/0", body_of(7, {0}, now_ms())), 500);
  EXPECT_EQ(server->ledger().delivered, 0u);
  EXPECT_EQ(server->stats().requests, 1u);
}

TEST_F(ledger_sink, BadSignaturesAreRefusedAndNotRecorded) {
  sink_options o;
  o.secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  o.ledger = ledger(1, 1);
  start(o);
  EXPECT_EQ(post("/o/0", body_of(7, {0}, now_ms()), "msg_x"), 401);  // webhook-id without a valid signature
  EXPECT_EQ(server->stats().bad_signatures, 1u);
  EXPECT_EQ(server->ledger().delivered, 0u);
}

TEST_F(ledger_sink, WithoutALedgerDropIsCountedApartFromDeliveries) {
  sink_options o;
  o.default_behaviour.drop = true;
  start(o);
  EXPECT_EQ(post("/hook", "{}", "msg_1"), 204);
  sink_stats s = server->stats();
  EXPECT_EQ(s.delivered, 0u);
  EXPECT_EQ(s.dropped, 1u);
  EXPECT_EQ(server->ledger().delivered, 0u);  // no ledger: an empty record
}

TEST(sink_ledger_buckets, EveryValueFallsInABucketBelowItsUpperBound) {
  using detail::sink_ledger;
  std::size_t last = 0;
  for (std::uint64_t us : {0ull, 1ull, 7ull, 8ull, 9ull, 15ull, 16ull, 1000ull, 123456ull, 10'000'000ull, (1ull << 40) + 5}) {
    std::size_t b = sink_ledger::bucket_of(us);
    EXPECT_LT(us, sink_ledger::bucket_upper_us(b)) << us;
    if (b > 0) {
      EXPECT_GE(us, sink_ledger::bucket_upper_us(b - 1)) << us;
    }
    EXPECT_GE(b, last);
    last = b;
  }
  // About 9% wide: 1,000 us lies in [960, 1024).
  EXPECT_EQ(sink_ledger::bucket_upper_us(sink_ledger::bucket_of(1000)), 1024u);
}

}  // namespace
}  // namespace syndic::engine
