// Coordinators on ONE real SQLite store stand for several syndic instances. Rounds are driven
// by hand (coordinator::tick) on a clock the test moves, both the store's (lease expiry) and
// the coordinators' steady clocks, so expiry and takeover are reached by moving the clock,
// never by sleeping. One test runs the coordinators' own threads on real time, with bounded
// waits only.
//
// Ownership is checked two ways after every round: what the callbacks said (on_gain/on_lose:
// no partition is ever gained while another live instance has it) and what the store's lease
// rows say (each owned partition's row names its owner, with the fence's token, unexpired).

#include "cluster/coordinator.hpp"

#include "store_test_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

namespace syndic::cluster {
namespace {

using namespace engine::store_test;
using namespace std::chrono_literals;

constexpr auto ttl = 10'000ms;
constexpr auto refresh = 2'500ms;

// On each backend (Backends/ClusterCoordinator.*/sqlite and /postgres). SQLite: every
// instance on the one store object; PostgreSQL: each instance a store object of its own on
// the test's schema, as separate processes have. Lease expiry is judged by the test's clock
// on both (the options' clock).
struct ClusterCoordinator : backend_test {
  manual_clock clock;
  std::unique_ptr<engine::store> db;
  std::vector<std::unique_ptr<engine::store>> stores;  // PostgreSQL: one per instance

  void SetUp() override {
    backend_test::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    db = open(store_options());
  }
  void TearDown() override {
    for (auto& [id, n] : nodes) n.c.reset();  // before their stores
  }

  engine::store_test::options store_options() {
    engine::store_test::options o;
    o.clock = clock.fn();
    return o;
  }
  engine::store& store_for_instance() {
    if (!is_postgres()) return *db;
    stores.push_back(open(store_options()));
    return *stores.back();
  }
  steady_clock::time_point steady_now() const {
    return steady_clock::time_point(std::chrono::microseconds(clock.us.load()));
  }

  // What the callbacks said, all instances together.
  std::mutex mutex;
  std::map<std::uint32_t, std::string> owner;
  std::map<std::uint32_t, engine::fence> fences;
  std::vector<std::string> violations;
  std::map<std::string, std::map<lose_reason, std::size_t>> losses;

  struct node {
    std::string id;
    std::unique_ptr<coordinator> c;
    bool dead = false;
  };
  std::map<std::string, node> nodes;
  std::set<std::string> stalled;  // not ticked for now: its view is stale

  coordinator& add(const std::string& id, engine::store* store = nullptr) {
    coordinator_options o;
    o.instance_id = id;
    o.lease_ttl = ttl;
    o.refresh = refresh;
    o.base_url = "http://127.0.0.1:80" + std::to_string(nodes.size()) + "/";
    o.clock = [this] { return steady_now(); };
    o.store_clock = clock.fn();
    coordinator_callbacks cb;
    cb.on_gain = [this, id](const std::vector<partition_grant>& grants) {
      std::lock_guard lock(mutex);
      for (const auto& g : grants) {
        // Another instance still acting for it: it lists the partition and its own clock
        // says its lease is still good (a stalled one's guard has fired by then).
        if (auto it = owner.find(g.partition); it != owner.end() && !nodes[it->second].dead) {
          auto other = nodes[it->second].c->view();
          if (std::count(other.owned.begin(), other.owned.end(), g.partition) && other.good_until > steady_now())
            violations.push_back(id + " gained partition " + std::to_string(g.partition) + " held by " + it->second);
        }
        owner[g.partition] = id;
        fences[g.partition] = g.fence;
        if (g.fence.lease != partition_lease_name(g.partition)) violations.push_back("fence names " + g.fence.lease);
      }
    };
    cb.on_lose = [this, id](const std::vector<std::uint32_t>& parts, lose_reason why, std::chrono::milliseconds) {
      std::lock_guard lock(mutex);
      losses[id][why] += parts.size();
      for (auto p : parts) {
        auto it = owner.find(p);
        if (it == owner.end() || it->second != id) {
          // A stalled instance learning late that its lease went: someone has it since.
          if (why != lose_reason::expired && why != lose_reason::lost)
            violations.push_back(id + " lost partition " + std::to_string(p) + " it did not have");
          continue;
        }
        owner.erase(it);
      }
    };
    auto& n = nodes[id];
    n.id = id;
    n.c = std::make_unique<coordinator>(store ? *store : store_for_instance(), o, cb);
    return *n.c;
  }

  // A dead instance: it never runs again, and what it believed no longer counts.
  void kill(const std::string& id) {
    std::lock_guard lock(mutex);
    nodes[id].dead = true;
    for (auto it = owner.begin(); it != owner.end();) it = it->second == id ? owner.erase(it) : std::next(it);
  }

  void tick(const std::string& id) {
    nodes[id].c->tick();
    check();
  }
  void tick_all() {
    for (auto& [id, n] : nodes)
      if (!n.dead) tick(id);
  }
  std::size_t count(const std::string& id) { return nodes[id].c->owned().size(); }

  // The callbacks' story agrees with the coordinators' and with the store's rows.
  void check() {
    std::lock_guard lock(mutex);
    for (const auto& v : violations) ADD_FAILURE() << v;
    violations.clear();
    auto rows = db->leases("partition/");
    ASSERT_TRUE(rows.ok()) << rows.status.message;
    std::map<std::uint32_t, engine::lease> row_of;
    for (const auto& l : rows.value) row_of[*parse_partition_lease(l.name)] = l;
    for (const auto& [p, id] : owner) {
      const auto& r = row_of[p];
      EXPECT_EQ(r.owner, id) << "partition " << p;
      EXPECT_EQ(r.token, fences[p].token) << "partition " << p;
      EXPECT_GT(r.expires, clock.now()) << "partition " << p;
    }
    for (const auto& [p, r] : row_of)
      if (!r.owner.empty() && r.expires > clock.now() && !nodes[r.owner].dead) {
        EXPECT_EQ(owner.count(p) ? owner[p] : "(nobody)", r.owner) << "partition " << p;
      }
    for (auto& [id, n] : nodes) {
      if (n.dead || stalled.count(id)) continue;
      std::set<std::uint32_t> said;
      for (const auto& [p, o] : owner)
        if (o == id) said.insert(p);
      auto owned = n.c->owned();
      EXPECT_EQ(said, std::set<std::uint32_t>(owned.begin(), owned.end())) << id;
    }
  }

  void settle(int rounds = 8) {
    for (int r = 0; r < rounds; ++r) {
      tick_all();
      clock.advance(1s);
    }
  }
};

TEST_P(ClusterCoordinator, ThreeInstancesSplit256As86_85_85) {
  add("node-a");
  add("node-b");
  add("node-c");
  settle();
  std::vector<std::size_t> counts{count("node-a"), count("node-b"), count("node-c")};
  std::sort(counts.begin(), counts.end());
  EXPECT_EQ(counts, (std::vector<std::size_t>{85, 85, 86}));
  EXPECT_EQ(owner.size(), 256u);
  auto v = nodes["node-a"].c->view();
  EXPECT_TRUE(v.member);
  EXPECT_EQ(v.members, (std::vector<std::string>{"node-a", "node-b", "node-c"}));
  EXPECT_EQ(v.partitions, 256u);
  // Who they are, for whoever wants to reach them.
  auto members = db->kv_list(members_kv_namespace, "", 10);
  ASSERT_TRUE(members.ok());
  ASSERT_EQ(members.value.size(), 3u);
  EXPECT_EQ(members.value[0].key, "node-a");
  EXPECT_NE(members.value[0].value.find("\"url\":\"http://127.0.0.1:800/\""), std::string::npos)
      << members.value[0].value;
}

TEST_P(ClusterCoordinator, ADeadInstancesPartitionsAreTakenWithinTtlPlusRefresh) {
  add("node-a");
  add("node-b");
  add("node-c");
  settle();
  // node-c's last round (its last heartbeat and renewals), then nothing: it died.
  tick("node-c");
  const auto died = clock.now();
  const std::size_t orphaned = count("node-c");
  ASSERT_GT(orphaned, 80u);
  kill("node-c");
  auto taken = [&] { return count("node-a") + count("node-b") == 256; };
  for (int step = 0; step < 20 && !taken(); ++step) {
    clock.advance(refresh);
    tick("node-a");
    tick("node-b");
  }
  ASSERT_TRUE(taken());
  EXPECT_LE(clock.now() - died, ttl + refresh);
  EXPECT_EQ(count("node-a"), 128u);
  EXPECT_EQ(count("node-b"), 128u);
  EXPECT_EQ(nodes["node-a"].c->view().members, (std::vector<std::string>{"node-a", "node-b"}));
}

TEST_P(ClusterCoordinator, AFourthInstanceJoinsAndNoPartitionHasTwoLiveOwners) {
  add("node-a");
  add("node-b");
  add("node-c");
  settle();
  auto before = std::map<std::uint32_t, std::string>(owner);
  std::size_t handed_before = 0;
  for (const char* id : {"node-a", "node-b", "node-c"}) handed_before += losses[id][lose_reason::handback];
  add("node-d");
  // Every round, every tick: the callbacks and the rows are checked (check()).
  settle();
  for (const char* id : {"node-a", "node-b", "node-c", "node-d"}) EXPECT_EQ(count(id), 64u) << id;
  EXPECT_EQ(owner.size(), 256u);
  // Only what node-d needed moved: the others kept partitions they had.
  for (const auto& [p, id] : owner)
    if (id != "node-d") {
      EXPECT_EQ(before[p], id) << p;
    }
  std::size_t handed = 0;
  for (const char* id : {"node-a", "node-b", "node-c"}) handed += losses[id][lose_reason::handback];
  EXPECT_EQ(handed - handed_before, 64u);
}

TEST_P(ClusterCoordinator, AStalledOwnerStopsByItsOwnClockAndItsFenceIsRefused) {
  add("node-a");
  add("node-b");
  settle();
  ASSERT_EQ(count("node-a"), 128u);
  std::uint32_t p = nodes["node-a"].c->owned().front();
  engine::fence old = fences[p];
  // node-a stalls (no round runs: a SIGSTOP); node-b carries on. Every gain of node-b is
  // checked against node-a's own clock (on_gain above): node-a's guard has passed by then.
  stalled.insert("node-a");
  for (int step = 0; step < 20 && count("node-b") < 256; ++step) {
    clock.advance(refresh);
    tick("node-b");
  }
  ASSERT_EQ(count("node-b"), 256u);
  EXPECT_EQ(nodes["node-a"].c->owned().size(), 128u);  // it has not run since: stale
  EXPECT_LE(nodes["node-a"].c->view().good_until, steady_now());
  // A write node-a had in flight, carrying its old fence, is refused.
  auto s = db->write_sync({engine::start_outlet{"outlet-x", 1}}, old);
  EXPECT_EQ(s.code, engine::store_errc::fenced) << s.message;
  EXPECT_NE(fences[p].token, old.token);
  // node-a resumes: before anything else its guard drops every partition (expired).
  stalled.erase("node-a");
  tick("node-a");
  EXPECT_EQ(losses["node-a"][lose_reason::expired], 128u);
  // Then it rejoins and the split is even again.
  settle();
  EXPECT_EQ(count("node-a"), 128u);
  EXPECT_EQ(count("node-b"), 128u);
}

TEST_P(ClusterCoordinator, ARenewalNotConfirmedInTimeDropsThePartitions) {
  // A store of its own that the test closes: renewals then fail.
  auto lonely = open(store_options());
  auto& a = add("node-a", lonely.get());
  a.tick();
  ASSERT_EQ(a.owned().size(), 256u);
  lonely->close();
  clock.advance(3s);
  a.tick();  // renewals fail (closed): not confirmed, but still good until t0 + ttl - margin
  EXPECT_EQ(a.owned().size(), 256u);
  EXPECT_GT(a.view().store_errors, 0u);
  clock.advance(5s);  // 8 s after the last confirmed renewal: ttl - margin
  a.tick();
  EXPECT_TRUE(a.owned().empty());
  EXPECT_EQ(losses["node-a"][lose_reason::expired], 256u);
  EXPECT_FALSE(a.view().member);
  a.stop();  // before its store goes
  std::lock_guard lock(mutex);
  EXPECT_TRUE(violations.empty());
}

TEST_P(ClusterCoordinator, AnUnconfirmedPartitionStillInOurNameIsTakenBack) {
  auto& a = add("node-a");
  a.tick();
  ASSERT_EQ(a.owned().size(), 256u);
  auto token = fences[0].token;
  // No round for ttl - margin: the guard drops everything, though the store still lists
  // node-a until ttl. The next round finds those leases in its name and takes them again
  // (the same owner keeps the token).
  clock.advance(8s);
  tick("node-a");
  EXPECT_EQ(losses["node-a"][lose_reason::expired], 256u);
  EXPECT_EQ(a.owned().size(), 256u);
  EXPECT_EQ(fences[0].token, token);
}

TEST_P(ClusterCoordinator, StopHandsEverythingBackAndLeaves) {
  add("node-a");
  add("node-b");
  settle();
  nodes["node-b"].c->stop();
  EXPECT_EQ(losses["node-b"][lose_reason::stopping], 128u);
  kill("node-b");  // stopped: not ticked again
  auto rows = db->leases("partition/");
  std::size_t free_rows = 0;
  for (const auto& r : rows.value) free_rows += r.owner.empty();
  EXPECT_EQ(free_rows, 128u);
  auto b = db->get_lease("member/node-b");
  ASSERT_TRUE(b.ok() && b.value);
  EXPECT_EQ(b.value->owner, "");
  EXPECT_FALSE(db->kv_get(members_kv_namespace, "node-b").value.has_value());
  // The survivor takes them at its next round, without waiting for any expiry.
  tick("node-a");
  EXPECT_EQ(count("node-a"), 256u);
}

SYNDIC_STORE_BACKENDS(ClusterCoordinator);

TEST(ClusterCoordinatorThreads, TwoInstancesSplitThenOneStopsAndTheOtherTakesAll) {
  temp_dir dir;
  engine::sqlite_options so;
  so.synchronous = engine::sqlite_sync::normal;
  auto db = open_or_fail(dir.path, so);
  std::mutex mutex;
  std::map<std::uint32_t, std::string> owner;
  std::vector<std::string> violations;
  auto make = [&](const std::string& id) {
    coordinator_options o;
    o.instance_id = id;
    o.partitions = 64;
    o.lease_ttl = 900ms;  // refresh 300 ms
    coordinator_callbacks cb;
    cb.on_gain = [&, id](const std::vector<partition_grant>& grants) {
      std::lock_guard lock(mutex);
      for (const auto& g : grants) {
        if (owner.count(g.partition)) violations.push_back(id + " gained a held partition");
        owner[g.partition] = id;
      }
    };
    cb.on_lose = [&, id](const std::vector<std::uint32_t>& parts, lose_reason, std::chrono::milliseconds) {
      std::lock_guard lock(mutex);
      for (auto p : parts) {
        if (owner[p] != id) violations.push_back(id + " lost a partition it did not have");
        owner.erase(p);
      }
    };
    return std::make_unique<coordinator>(*db, o, cb);
  };
  auto a = make("node-a");
  auto b = make("node-b");
  a->start();
  b->start();
  auto wait_for = [&](auto done) {
    for (int i = 0; i < 1000 && !done(); ++i) std::this_thread::sleep_for(10ms);  // 10 s at most
    return done();
  };
  EXPECT_TRUE(wait_for([&] { return a->owned().size() == 32 && b->owned().size() == 32; }));
  b->stop();
  EXPECT_TRUE(b->owned().empty());
  EXPECT_TRUE(wait_for([&] { return a->owned().size() == 64; }));
  a->stop();
  std::lock_guard lock(mutex);
  EXPECT_TRUE(owner.empty());
  for (const auto& v : violations) ADD_FAILURE() << v;
}

TEST(ClusterCoordinatorThreads, InstancesStartedTogetherWithAJoinDelaySplitWithoutHandingBack) {
  temp_dir dir;
  engine::sqlite_options so;
  so.synchronous = engine::sqlite_sync::normal;
  auto db = open_or_fail(dir.path, so);
  std::mutex mutex;
  std::map<std::string, std::size_t> gained, handed;
  std::vector<std::unique_ptr<coordinator>> nodes;
  for (const char* id : {"node-a", "node-b", "node-c"}) {
    coordinator_options o;
    o.instance_id = id;
    o.partitions = 64;
    o.lease_ttl = 3s;
    o.join_delay = 1s;  // every heartbeat is in long before anyone deals partitions
    coordinator_callbacks cb;
    cb.on_gain = [&, id = std::string(id)](const std::vector<partition_grant>& g) {
      std::lock_guard lock(mutex);
      gained[id] += g.size();
    };
    cb.on_lose = [&, id = std::string(id)](const std::vector<std::uint32_t>& p, lose_reason why, std::chrono::milliseconds) {
      std::lock_guard lock(mutex);
      if (why == lose_reason::handback) handed[id] += p.size();
    };
    nodes.push_back(std::make_unique<coordinator>(*db, o, cb));
  }
  for (auto& n : nodes) n->start();
  auto split = [&] {
    std::size_t total = 0;
    for (auto& n : nodes) total += n->owned().size();
    return total == 64;
  };
  for (int i = 0; i < 1000 && !split(); ++i) std::this_thread::sleep_for(10ms);  // 10 s at most
  ASSERT_TRUE(split());
  std::vector<std::size_t> counts;
  for (auto& n : nodes) counts.push_back(n->owned().size());
  std::sort(counts.begin(), counts.end());
  EXPECT_EQ(counts, (std::vector<std::size_t>{21, 21, 22}));
  for (auto& n : nodes) n->stop();
  std::lock_guard lock(mutex);
  for (const auto& [id, n] : handed) EXPECT_EQ(n, 0u) << id << " handed partitions back";
}

}  // namespace
}  // namespace syndic::cluster
