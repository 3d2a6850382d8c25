// Fan-outs in partitioned mode on ONE real SQLite store, each with its own real engine,
// delivering to a loopback sink whose ledger counts every (item, outlet) pair and tells
// duplicates with the same delivery id from those with another. The partition leases are
// taken by the test itself (the coordinator's part is tested in cluster_coordinator_test):
// what is checked here is the fan-out's side of a handover, takeover and fencing.

#include "cluster/coordinator.hpp"
#include "cluster/partition.hpp"
#include "daemon/fanout.hpp"
#include "daemon/item_codec.hpp"

#include "store_test_support.hpp"

#include <syndic/engine/engine.hpp>
#include <syndic/testkit/sink.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <thread>

namespace syndic::daemon {
namespace {

using namespace engine::store_test;
using namespace std::chrono_literals;
using cluster::partition_lease_name;
using cluster::partition_of;

constexpr std::uint32_t P = 8;
constexpr std::size_t M = 24;  // outlets

// Waits (10 ms steps, 20 s at most) until `done`; returns its last answer.
template <class F>
bool eventually(F done) {
  for (int i = 0; i < 2000 && !done(); ++i) std::this_thread::sleep_for(10ms);
  return done();
}

struct instance {
  std::string id;
  std::unique_ptr<engine::store> own_store;  // PostgreSQL: a store object per instance
  std::unique_ptr<engine::engine> eng;
  std::unique_ptr<fanout> fan;
  std::map<std::uint32_t, engine::lease> leases;
  // The engine stops first: its last outcomes still find the fan-out, which then records
  // them and flushes into a store still open.
  ~instance() {
    if (eng) eng->stop();
    fan.reset();
    eng.reset();
    own_store.reset();
  }
};

// On each backend (Backends/ClusterFanout.*/sqlite and /postgres). SQLite: every instance on
// the one store object; PostgreSQL: each instance a store object of its own on the test's
// schema. Lease expiry is judged by the test's clock on both.
struct ClusterFanout : backend_test {
  manual_clock clock;
  std::unique_ptr<engine::store> db;
  std::unique_ptr<testkit::sink> sink;
  std::uint16_t port = 0;
  std::size_t published = 0;
  static constexpr std::size_t max_items = 200;

  void start_sink(std::chrono::milliseconds latency) {
    testkit::sink_options so;
    so.default_behaviour.latency = testkit::latency_distribution(latency);
    testkit::sink_ledger_options ledger;
    ledger.items = max_items;
    ledger.outlets = M;
    ledger.path_prefix = "/o/";
    so.ledger = ledger;
    sink = std::make_unique<testkit::sink>(so);
    sink->start();
    port = sink->ports().front();
  }

  engine::store_test::options store_options() {
    engine::store_test::options o;
    o.clock = clock.fn();
    return o;
  }
  void SetUp() override {
    backend_test::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    db = open(store_options());
  }

  static std::string outlet_id(std::size_t j) { return "outlet-" + std::to_string(j); }

  engine::outlet_config outlet(std::size_t j) const {
    engine::outlet_config o;
    o.id = outlet_id(j);
    o.url = "http://127.0.0.1:" + std::to_string(port) + "/o/" + std::to_string(j);
    o.timeout = 5000ms;
    o.retry.base = 50ms;
    o.retry.cap = 200ms;
    return o;
  }

  std::unique_ptr<instance> make(const std::string& id) {
    auto in = std::make_unique<instance>();
    in->id = id;
    engine::engine_options eo;
    eo.shards = 1;
    in->eng = std::make_unique<engine::engine>(eo);
    fanout_options fo;
    fo.partitions = P;
    fo.idle_round = 50ms;
    if (is_postgres()) in->own_store = open(store_options());
    in->fan = std::make_unique<fanout>(in->own_store ? *in->own_store : *db, *in->eng, fo);
    in->fan->attach();
    for (std::size_t j = 0; j < M; ++j) EXPECT_EQ(in->fan->add_outlet(outlet(j)), "");
    in->fan->start();
    return in;
  }

  // The test takes the lease in the instance's name and hands the fan-out its fence.
  void own(instance& in, std::uint32_t p, std::chrono::milliseconds ttl = 600s) {
    auto l = db->acquire_lease_sync(partition_lease_name(p), in.id, ttl);
    ASSERT_TRUE(l.ok() && l.value) << "partition " << p << " for " << in.id;
    in.leases[p] = *l.value;
    EXPECT_EQ(in.fan->own(p, engine::fence{l.value->name, l.value->token}), "");
  }

  void publish(std::size_t n, std::initializer_list<instance*> tell) {
    formats::feed f;
    f.title = "Wire";
    f.self_link = "http://127.0.0.1/feed";
    engine::append_request req;
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    for (std::size_t i = 0; i < n; ++i, ++published) {
      formats::item it;
      it.id = "item-" + std::to_string(published);
      it.title = "Item " + std::to_string(published);
      // What the sink's ledger recognises: item K of run 1.
      it.links.push_back({"http://127.0.0.1/items/1/" + std::to_string(published) + "?created_ms=" + std::to_string(ms),
                          "alternate", "", "", "", std::nullopt});
      req.entries.push_back(encode_item(f, it, "news", "publish"));
    }
    auto r = db->append_sync(std::move(req));
    ASSERT_TRUE(r.ok()) << r.status.message;
    for (auto* in : tell) in->fan->notify();
  }

  testkit::sink_ledger_snapshot ledger() const { return sink->ledger(); }

  // Every outlet's stored cursor is at the log's head: every outcome recorded.
  bool all_recorded() {
    auto head = db->head().value;
    for (std::size_t j = 0; j < M; ++j) {
      auto p = db->progress(outlet_id(j));
      if (!p.ok() || !p.value || p.value->cursor != head) return false;
    }
    return true;
  }

  std::vector<std::size_t> outlets_of(std::uint32_t p) const {
    std::vector<std::size_t> out;
    for (std::size_t j = 0; j < M; ++j)
      if (partition_of(outlet_id(j), P) == p) out.push_back(j);
    return out;
  }
};

TEST_P(ClusterFanout, TwoInstancesOwningHalfThePartitionsDeliverEveryPairExactlyOnce) {
  start_sink(0ms);
  auto a = make("node-a");
  auto b = make("node-b");
  for (std::uint32_t p = 0; p < P; ++p) own(p < P / 2 ? *a : *b, p);
  // Each feeds only its own partitions' outlets; the others are parked.
  for (const auto& v : a->fan->outlets()) EXPECT_EQ(v.active, v.partition < P / 2) << v.id;
  for (const auto& v : b->fan->outlets()) EXPECT_EQ(v.active, v.partition >= P / 2) << v.id;
  publish(30, {a.get(), b.get()});
  ASSERT_TRUE(eventually([&] { return ledger().delivered == 30 * M; })) << ledger().delivered;
  ASSERT_TRUE(eventually([&] { return all_recorded(); }));
  EXPECT_TRUE(a->eng->wait_idle(5s));
  EXPECT_TRUE(b->eng->wait_idle(5s));
  auto l = ledger();
  EXPECT_EQ(l.duplicates, 0u);
  EXPECT_EQ(l.stray, 0u);
  for (std::size_t j = 0; j < M; ++j) EXPECT_EQ(l.delivered_per_outlet[j], 30u) << j;
  EXPECT_EQ(a->fan->counters().handed + b->fan->counters().handed, 30 * M);
  EXPECT_EQ(a->fan->counters().fenced + b->fan->counters().fenced, 0u);
}

TEST_P(ClusterFanout, WhenOneDiesTheOtherTakesItsPartitionsAndEveryPairArrivesWithItsFirstId) {
  start_sink(15ms);  // pairs are in flight when the instance dies
  auto a = make("node-a");
  auto b = make("node-b");
  for (std::uint32_t p = 0; p < P; ++p) {
    if (p < P / 2) own(*a, p, 5s);  // node-a's leases run out 5 s after the test's clock
    else own(*b, p, 600s);
  }
  publish(40, {a.get(), b.get()});
  ASSERT_TRUE(eventually([&] { return ledger().delivered >= 40 * M / 4; }));
  // node-a dies in the middle of the fan-out: its engine stops at once (whatever was in
  // flight is abandoned, delivered or not) and it records nothing more.
  a->fan->stop_feeding();
  a->eng->stop();
  const auto before = ledger().delivered;
  EXPECT_LT(before, 40 * M) << "the fan-out ended before the death; nothing was in flight";
  // Its leases expire; node-b takes them (new tokens) and resumes from the stored progress.
  clock.advance(6s);
  for (std::uint32_t p = 0; p < P / 2; ++p) own(*b, p);
  for (std::uint32_t p = 0; p < P / 2; ++p) EXPECT_GT(b->leases[p].token, a->leases[p].token);
  ASSERT_TRUE(eventually([&] { return ledger().delivered == 40 * M; })) << ledger().delivered;
  ASSERT_TRUE(eventually([&] { return all_recorded(); }));
  auto l = ledger();
  // At least once: pairs node-a had sent without recording them come again, with the same
  // delivery id (the receiver can drop them); never under another id.
  EXPECT_EQ(l.duplicates_different_id, 0u);
  EXPECT_EQ(l.duplicates, l.duplicates_same_id);
  for (std::size_t j = 0; j < M; ++j) EXPECT_EQ(l.delivered_per_outlet[j], 40u) << j;
  // What node-a would still write carries its old fences: refused.
  a->fan->finish();
  EXPECT_TRUE(all_recorded());
}

TEST_P(ClusterFanout, AHandbackLetsInFlightPairsEndSoTheNewOwnerSendsNothingTwice) {
  start_sink(30ms);
  auto a = make("node-a");
  auto b = make("node-b");
  for (std::uint32_t p = 0; p < P; ++p) own(*a, p);
  publish(20, {a.get()});
  ASSERT_TRUE(eventually([&] { return ledger().delivered >= M; }));
  // node-a hands everything back (node-b joined): in-flight pairs end and are recorded, the
  // queued ones are cancelled (owed), and their writes are durable when disown returns.
  std::vector<std::uint32_t> all;
  for (std::uint32_t p = 0; p < P; ++p) all.push_back(p);
  a->fan->disown(all, 5s);
  EXPECT_TRUE(a->fan->owned_partitions().empty());
  EXPECT_EQ(a->eng->pending(), 0u);
  const auto handed_back_at = ledger().delivered;
  EXPECT_LT(handed_back_at, 20 * M) << "the fan-out ended before the handback";
  for (std::uint32_t p = 0; p < P; ++p) ASSERT_TRUE(db->release_lease_sync(a->leases[p]).ok());
  for (std::uint32_t p = 0; p < P; ++p) own(*b, p);
  ASSERT_TRUE(eventually([&] { return ledger().delivered == 20 * M; })) << ledger().delivered;
  ASSERT_TRUE(eventually([&] { return all_recorded(); }));
  EXPECT_TRUE(b->eng->wait_idle(5s));
  auto l = ledger();
  EXPECT_EQ(l.duplicates, 0u);
  EXPECT_EQ(a->fan->counters().dropped, 0u);
  EXPECT_EQ(a->fan->counters().fenced, 0u);
}

TEST_P(ClusterFanout, AStalledOwnersWritesAreFencedAndItStopsFeedingThatPartition) {
  start_sink(0ms);
  auto a = make("node-a");
  for (std::uint32_t p = 0; p < P; ++p) own(*a, p, 5s);
  publish(5, {a.get()});
  ASSERT_TRUE(eventually([&] { return ledger().delivered == 5 * M && all_recorded(); }));
  // node-a stalls past its lease of partition `lost`; someone else takes it (new token).
  const std::uint32_t lost = partition_of(outlet_id(0), P);
  const auto victims = outlets_of(lost);
  clock.advance(6s);
  auto taken = db->acquire_lease_sync(partition_lease_name(lost), "node-b", 600s);
  ASSERT_TRUE(taken.ok() && taken.value);
  const auto cursor_before = db->progress(outlet_id(0)).value->cursor;
  // node-a resumes unaware and delivers item 5 (what its own clock's guard exists to stop;
  // here only the store stands in the way): its records for partition `lost` are refused,
  // and the refusal takes the partition away from it.
  publish(1, {a.get()});
  ASSERT_TRUE(eventually([&] { return a->fan->counters().fenced > 0; }));
  ASSERT_TRUE(eventually([&] {
    auto owned = a->fan->owned_partitions();
    return std::find(owned.begin(), owned.end(), lost) == owned.end();
  }));
  EXPECT_EQ(db->progress(outlet_id(0)).value->cursor, cursor_before);  // nothing moved it
  for (const auto& v : a->fan->outlets()) EXPECT_EQ(v.active, v.partition != lost) << v.id;
  // Item 6: node-a still delivers its other partitions (their tokens did not move), not this one.
  publish(1, {a.get()});
  ASSERT_TRUE(eventually([&] {
    auto l = ledger();
    for (std::size_t j = 0; j < M; ++j)
      if (partition_of(outlet_id(j), P) != lost && l.delivered_per_outlet[j] != 7) return false;
    return true;
  }));
  ASSERT_TRUE(a->eng->wait_idle(5s));
  auto l = ledger();
  for (auto j : victims) EXPECT_LE(l.delivered_per_outlet[j], 6u) << j;
  // Admin calls for those outlets are the owner's now.
  EXPECT_NE(a->fan->replay(outlet_id(0), 1).find("partition/"), std::string::npos);
}

TEST_P(ClusterFanout, AnOutletAddedWhereItIsNotOwnedStartsAtTheHeadForItsOwner) {
  start_sink(0ms);
  auto a = make("node-a");
  publish(3, {a.get()});
  // node-a owns nothing: a new outlet is parked, and its progress starts at the head, so
  // that its owner owes it only what comes after.
  engine::outlet_config late = outlet(0);
  late.id = "late-outlet";
  EXPECT_EQ(a->fan->add_outlet(late), "");
  // node-a's own store took the write (on PostgreSQL each instance has one): flushing the
  // test's store alone raced with node-a's writer, and a full run once read no progress.
  ASSERT_TRUE((a->own_store ? *a->own_store : *db).flush().ok());
  auto p = db->progress("late-outlet");
  ASSERT_TRUE(p.ok() && p.value);
  EXPECT_EQ(p.value->cursor, 3u);
  // A bad outlet is refused even parked.
  engine::outlet_config bad = outlet(1);
  bad.id = "bad";
  bad.url = "ftp://nowhere";
  EXPECT_NE(a->fan->add_outlet(bad), "");
}

// The whole: coordinators (driven by hand on the test's clock) hand partitions to real
// fan-outs. Three instances serve; a fourth joins while items flow, and nothing is lost or
// sent twice (handbacks drain and record before the lease goes); then one dies mid-fan-out,
// and the others take its partitions: every pair arrives, duplicates only with their first id.
TEST_P(ClusterFanout, CoordinatedInstancesRebalanceWithoutDuplicatesAndSurviveADeath) {
  start_sink(5ms);
  struct node {
    std::unique_ptr<instance> in;
    std::unique_ptr<cluster::coordinator> c;
    bool dead = false;
  };
  std::map<std::string, node> nodes;
  auto steady_now = [this] { return cluster::steady_clock::time_point(std::chrono::microseconds(clock.us.load())); };
  auto add = [&](const std::string& id) {
    node& n = nodes[id];
    n.in = make(id);
    cluster::coordinator_options o;
    o.instance_id = id;
    o.partitions = P;
    o.lease_ttl = 10s;
    o.refresh = 2500ms;
    o.handback_budget = 3s;
    o.clock = steady_now;
    o.store_clock = clock.fn();
    fanout* fan = n.in->fan.get();
    cluster::coordinator_callbacks cb;
    cb.on_gain = [fan](const std::vector<cluster::partition_grant>& grants) {
      for (const auto& g : grants) EXPECT_EQ(fan->own(g.partition, g.fence), "");
    };
    cb.on_lose = [fan](const std::vector<std::uint32_t>& parts, cluster::lose_reason, std::chrono::milliseconds budget) {
      fan->disown(parts, budget);
    };
    n.c = std::make_unique<cluster::coordinator>(n.in->own_store ? *n.in->own_store : *db, o, cb);
  };
  auto round = [&] {
    for (auto& [id, n] : nodes)
      if (!n.dead) n.c->tick();
    clock.advance(1s);
    // No partition is fed by two live fan-outs at once.
    std::map<std::uint32_t, std::string> fed_by;
    for (auto& [id, n] : nodes) {
      if (n.dead) continue;
      for (auto p : n.in->fan->owned_partitions()) {
        auto [it, fresh] = fed_by.emplace(p, id);
        EXPECT_TRUE(fresh) << "partition " << p << " fed by " << it->second << " and " << id;
      }
    }
  };
  auto notify_all = [&] {
    for (auto& [id, n] : nodes)
      if (!n.dead) n.in->fan->notify();
  };
  auto publish_now = [&](std::size_t n) {
    publish(n, {});
    notify_all();
  };

  add("node-a");
  add("node-b");
  add("node-c");
  for (int r = 0; r < 5; ++r) round();
  publish_now(20);
  add("node-d");
  for (int r = 0; r < 6; ++r) {
    publish_now(5);
    round();
  }
  for (const char* id : {"node-a", "node-b", "node-c", "node-d"})
    EXPECT_EQ(nodes[id].in->fan->owned_partitions().size(), P / 4) << id;
  ASSERT_TRUE(eventually([&] { return ledger().delivered == published * M; })) << ledger().delivered;
  ASSERT_TRUE(eventually([&] { return all_recorded(); }));
  EXPECT_EQ(ledger().duplicates, 0u);

  // node-b dies in the middle of a fan-out.
  publish_now(40);
  ASSERT_TRUE(eventually([&] { return ledger().delivered >= (published - 40) * M + 40 * M / 8; }));
  nodes["node-b"].dead = true;
  nodes["node-b"].in->fan->stop_feeding();
  nodes["node-b"].in->eng->stop();
  for (int r = 0; r < 16; ++r) round();
  std::size_t owned = 0;
  for (auto& [id, n] : nodes)
    if (!n.dead) owned += n.in->fan->owned_partitions().size();
  EXPECT_EQ(owned, P);
  ASSERT_TRUE(eventually([&] { return ledger().delivered == published * M; })) << ledger().delivered;
  ASSERT_TRUE(eventually([&] { return all_recorded(); }));
  auto l = ledger();
  EXPECT_EQ(l.duplicates_different_id, 0u);
  for (std::size_t j = 0; j < M; ++j) EXPECT_EQ(l.delivered_per_outlet[j], published) << j;
  for (auto& [id, n] : nodes) n.c->stop();
}

// The guard dropped a partition (its renewal was late) while requests were in flight, and
// nobody took the lease meanwhile: their answers, arriving after, are still recorded under the
// fence the partition was owned with, so that owning it again (same token) resends nothing.
// Before, they were dropped and every one of those pairs went out twice.
TEST_P(ClusterFanout, AnswersArrivingAfterADropAreRecordedWhileNobodyTookThePartition) {
  start_sink(150ms);
  auto a = make("node-a");
  for (std::uint32_t p = 0; p < P; ++p) own(*a, p);
  publish(1, {a.get()});
  // Every outlet's request is in flight (the sink answers after 150 ms): drop everything.
  ASSERT_TRUE(eventually([&] { return a->fan->counters().handed == M; }));
  std::vector<std::uint32_t> all;
  for (std::uint32_t p = 0; p < P; ++p) all.push_back(p);
  a->fan->disown(all, 0ms);
  ASSERT_TRUE(eventually([&] { return ledger().delivered == M; }));
  ASSERT_TRUE(eventually([&] { return all_recorded(); }));  // under the old fences: still good
  EXPECT_EQ(a->fan->counters().dropped, 0u);
  EXPECT_GT(a->fan->counters().late, 0u);
  // Owned again with the same tokens (the leases never changed hands): nothing to resend.
  for (std::uint32_t p = 0; p < P; ++p) own(*a, p);
  for (std::uint32_t p = 0; p < P; ++p) EXPECT_EQ(a->leases[p].token, 1u);
  publish(1, {a.get()});
  ASSERT_TRUE(eventually([&] { return ledger().delivered == 2 * M && all_recorded(); }));
  EXPECT_TRUE(a->eng->wait_idle(5s));
  EXPECT_EQ(ledger().duplicates, 0u);
}

SYNDIC_STORE_BACKENDS(ClusterFanout);

// A store that forwards to a real one, except that reads of the log fail while told to (a
// PostgreSQL server restarting, a disk error): fault injection at the store's interface.
class flaky_log_store : public engine::store {
public:
  explicit flaky_log_store(engine::store& real) : real_(real) {}
  std::atomic<bool> fail_reads{false};
  std::atomic<bool> fail_progress{false};
  std::atomic<int> failed{0};

  void append(engine::append_request r, engine::completion<engine::appended> d) override { real_.append(std::move(r), std::move(d)); }
  void write(std::vector<engine::write_op> ops, std::optional<engine::fence> g, engine::status_completion d) override {
    real_.write(std::move(ops), std::move(g), std::move(d));
  }
  void acquire_lease(std::string n, std::string o, std::chrono::milliseconds t,
                     engine::completion<std::optional<engine::lease>> d) override {
    real_.acquire_lease(std::move(n), std::move(o), t, std::move(d));
  }
  void renew_lease(engine::lease h, std::chrono::milliseconds t, engine::completion<std::optional<engine::lease>> d) override {
    real_.renew_lease(std::move(h), t, std::move(d));
  }
  void release_lease(engine::lease h, engine::status_completion d) override { real_.release_lease(std::move(h), std::move(d)); }
  engine::store_status flush() override { return real_.flush(); }
  void close() override { real_.close(); }
  engine::store_result<engine::seq_t> head() override { return real_.head(); }
  engine::store_result<std::vector<engine::log_record>> read(engine::seq_t from, std::size_t n, std::size_t bytes) override {
    if (fail_reads) {
      ++failed;
      return {{engine::store_errc::io_error, "injected: the log cannot be read now"}, {}};
    }
    return real_.read(from, n, bytes);
  }
  engine::store_result<std::optional<engine::log_record>> get(engine::seq_t seq) override { return real_.get(seq); }
  engine::store_result<std::vector<engine::log_record>> latest(std::string_view c, std::size_t n) override {
    return real_.latest(c, n);
  }
  engine::store_result<std::optional<std::vector<engine::seq_t>>> lookup_idempotency(std::string_view k) override {
    return real_.lookup_idempotency(k);
  }
  engine::store_result<std::vector<engine::stored_outlet>> outlets() override { return real_.outlets(); }
  engine::store_result<std::optional<engine::stored_outlet>> outlet(std::string_view id) override { return real_.outlet(id); }
  engine::store_result<std::optional<engine::progress_summary>> progress(std::string_view o) override {
    if (fail_progress) {
      ++failed;
      return {{engine::store_errc::io_error, "injected: progress cannot be read now"}, {}};
    }
    return real_.progress(o);
  }
  engine::store_result<std::vector<engine::progress_summary>> all_progress() override { return real_.all_progress(); }
  engine::store_result<std::vector<engine::seq_range>> done_above(std::string_view o, engine::seq_t a, std::size_t l) override {
    return real_.done_above(o, a, l);
  }
  engine::store_result<std::vector<engine::retry_entry>> retries(std::string_view o, engine::seq_t a, std::size_t l) override {
    return real_.retries(o, a, l);
  }
  engine::store_result<std::vector<engine::dead_letter>> dead_letters(std::string_view o, engine::seq_t a, std::size_t l) override {
    return real_.dead_letters(o, a, l);
  }
  engine::store_result<std::optional<std::string>> kv_get(std::string_view ns, std::string_view k) override {
    return real_.kv_get(ns, k);
  }
  engine::store_result<std::vector<engine::kv_entry>> kv_list(std::string_view ns, std::string_view a, std::size_t l) override {
    return real_.kv_list(ns, a, l);
  }
  engine::store_result<std::vector<engine::subscription>> subscriptions(std::string_view t) override {
    return real_.subscriptions(t);
  }
  engine::store_result<std::optional<engine::lease>> get_lease(std::string_view n) override { return real_.get_lease(n); }
  engine::store_result<std::vector<engine::lease>> leases(std::string_view p) override { return real_.leases(p); }
  engine::store_stats stats() const override { return real_.stats(); }

private:
  engine::store& real_;
};

// A log read that fails (the store restarting) is not the item's fault: the pairs wait and go
// once the log can be read again, instead of becoming dead letters that nobody receives.
// Failed before: every pair fed while reads failed was dead-lettered ("injected: ...").
TEST(FanoutStoreFaults, AFailedLogReadDelaysPairsAndDoesNotDeadLetterThem) {
  temp_dir dir;
  engine::sqlite_options so;
  so.synchronous = engine::sqlite_sync::normal;
  auto real = open_or_fail(dir.path, so);
  flaky_log_store db(*real);
  testkit::sink_options sink_opts;
  testkit::sink sink(sink_opts);
  sink.start();
  const auto port = sink.ports().front();
  engine::engine_options eo;
  eo.shards = 1;
  engine::engine eng(eo);
  fanout_options fo;
  fo.idle_round = 50ms;
  fanout fan(db, eng, fo);  // unpartitioned: one instance, as `syndic run` on SQLite
  fan.attach();
  for (int j = 0; j < 3; ++j) {
    engine::outlet_config o;
    o.id = "outlet-" + std::to_string(j);
    o.url = "http://127.0.0.1:" + std::to_string(port) + "/o/" + std::to_string(j);
    ASSERT_EQ(fan.add_outlet(o), "");
  }
  fan.start();
  db.fail_reads = true;
  formats::feed f;
  f.title = "Wire";
  engine::append_request req;
  for (int i = 0; i < 5; ++i) {
    formats::item it;
    it.id = "item-" + std::to_string(i);
    req.entries.push_back(encode_item(f, it, "news", "publish"));
  }
  ASSERT_TRUE(db.append_sync(std::move(req)).ok());
  fan.notify();
  ASSERT_TRUE(eventually([&] { return db.failed >= 3; }));  // it tried, and failed, a few rounds
  db.fail_reads = false;
  ASSERT_TRUE(eventually([&] { return sink.stats().delivered == 15; })) << sink.stats().delivered;
  eng.wait_idle(5s);
  EXPECT_EQ(fan.counters().dead, 0u);
  ASSERT_TRUE(eventually([&] {
    for (int j = 0; j < 3; ++j) {
      auto p = db.progress("outlet-" + std::to_string(j));
      if (!p.ok() || !p.value || p.value->cursor != 5 || p.value->dead_letters != 0) return false;
    }
    return true;
  }));
  eng.stop();
  fan.finish();
}

// A partition gained while the store cannot read its outlets' progress: the outlets are fed
// once it can (they were left parked for good before: own() gave up on them).
TEST(FanoutStoreFaults, OutletsWhoseProgressCannotBeReadWhenOwnedAreStartedLater) {
  temp_dir dir;
  engine::sqlite_options so;
  so.synchronous = engine::sqlite_sync::normal;
  auto real = open_or_fail(dir.path, so);
  flaky_log_store db(*real);
  testkit::sink sink(testkit::sink_options{});
  sink.start();
  const auto port = sink.ports().front();
  engine::engine_options eo;
  eo.shards = 1;
  engine::engine eng(eo);
  fanout_options fo;
  fo.idle_round = 50ms;
  fo.partitions = 1;  // one partition: every outlet is in partition 0
  fanout fan(db, eng, fo);
  fan.attach();
  for (int j = 0; j < 3; ++j) {
    engine::outlet_config o;
    o.id = "outlet-" + std::to_string(j);
    o.url = "http://127.0.0.1:" + std::to_string(port) + "/o/" + std::to_string(j);
    ASSERT_EQ(fan.add_outlet(o), "");  // parked, progress started at the head (0)
  }
  fan.start();
  formats::feed f;
  f.title = "Wire";
  engine::append_request req;
  for (int i = 0; i < 4; ++i) {
    formats::item it;
    it.id = "item-" + std::to_string(i);
    req.entries.push_back(encode_item(f, it, "news", "publish"));
  }
  ASSERT_TRUE(db.append_sync(std::move(req)).ok());
  auto l = db.acquire_lease_sync(cluster::partition_lease_name(0), "node-a", 600s);
  ASSERT_TRUE(l.ok() && l.value);
  db.fail_progress = true;
  EXPECT_NE(fan.own(0, engine::fence{l.value->name, l.value->token}), "");
  for (const auto& v : fan.outlets()) EXPECT_FALSE(v.active) << v.id;
  ASSERT_TRUE(eventually([&] { return db.failed >= 6; }));  // tried again, and failed
  db.fail_progress = false;
  fan.notify();
  ASSERT_TRUE(eventually([&] { return sink.stats().delivered == 12; })) << sink.stats().delivered;
  for (const auto& v : fan.outlets()) EXPECT_TRUE(v.active) << v.id;
  eng.stop();
  fan.finish();
}

}  // namespace
}  // namespace syndic::daemon
