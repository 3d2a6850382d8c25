// The cluster's pure pieces: partition_of and lease names, and the assignment policy, run
// over simulated clusters (members joining, dying, views shared) with every invariant checked
// after every step. No store, no clock: the policy is pure.

#include "cluster/assignment.hpp"
#include "cluster/partition.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace syndic::cluster {
namespace {

TEST(ClusterPartition, Fnv1aMatchesTheReferenceValues) {
  EXPECT_EQ(fnv1a64(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(fnv1a64("a"), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(fnv1a64("foobar"), 0x85944171f73967e8ull);
  // The values a script computes (docs: h = fnv1a64(id) % P).
  EXPECT_EQ(partition_of("outlet-1", 256), 98u);
  EXPECT_EQ(partition_of("newsroom-42", 256), 202u);
  EXPECT_EQ(partition_of("anything", 1), 0u);
  EXPECT_EQ(partition_of("anything", 0), 0u);
}

TEST(ClusterPartition, OutletsSpreadOverEveryPartition) {
  std::vector<int> count(256, 0);
  for (int i = 0; i < 25'600; ++i) ++count[partition_of("outlet-" + std::to_string(i), 256)];
  for (int p = 0; p < 256; ++p) {
    EXPECT_GT(count[p], 50) << p;
    EXPECT_LT(count[p], 160) << p;
  }
}

TEST(ClusterPartition, LeaseNamesSortNumericallyAndParseBack) {
  EXPECT_EQ(partition_lease_name(0), "partition/000");
  EXPECT_EQ(partition_lease_name(7), "partition/007");
  EXPECT_EQ(partition_lease_name(255), "partition/255");
  EXPECT_EQ(partition_lease_name(1234), "partition/1234");
  EXPECT_LT(partition_lease_name(9), partition_lease_name(10));
  for (std::uint32_t p : {0u, 7u, 99u, 255u, 1234u}) EXPECT_EQ(parse_partition_lease(partition_lease_name(p)), p);
  for (const char* bad : {"partition/", "partition/x1", "partition/1x", "member/a", "partition/-1", "partition/ 1",
                          "partition/99999999999"})
    EXPECT_FALSE(parse_partition_lease(bad).has_value()) << bad;
  EXPECT_EQ(member_lease_name("node-a"), "member/node-a");
}

TEST(ClusterAssignment, QuotasAddUpAndDifferByOneAtMost) {
  for (std::uint32_t P : {1u, 2u, 7u, 64u, 255u, 256u, 1000u}) {
    for (std::size_t n = 1; n <= 9; ++n) {
      std::vector<std::string> members;
      std::vector<std::uint32_t> holdings;
      for (std::size_t i = 0; i < n; ++i) {
        members.push_back("m" + std::to_string(i));
        holdings.push_back(static_cast<std::uint32_t>((i * 37) % 11));
      }
      auto q = quotas(members, holdings, P);
      std::uint32_t sum = 0, lo = P, hi = 0;
      for (auto x : q) {
        sum += x;
        lo = std::min(lo, x);
        hi = std::max(hi, x);
      }
      EXPECT_EQ(sum, P) << P << " " << n;
      EXPECT_LE(hi - lo, 1u) << P << " " << n;
      EXPECT_LE(hi, (P + n - 1) / n);
    }
  }
  // The remainder goes to those holding most (a split in place stays put), ties by id.
  EXPECT_EQ(quotas({"a", "b", "c"}, {85, 86, 85}, 256), (std::vector<std::uint32_t>{85, 86, 85}));
  EXPECT_EQ(quotas({"a", "b", "c"}, {0, 0, 0}, 256), (std::vector<std::uint32_t>{86, 85, 85}));
}

// A simulated store of partition leases: owner and token per partition.
struct sim {
  std::uint32_t P;
  std::set<std::string> live;  // members whose heartbeat holds
  struct row {
    std::string owner;
    std::uint64_t token = 0;
    bool live = false;
  };
  std::vector<row> rows;
  std::map<std::string, std::map<std::uint32_t, std::uint64_t>> held;  // what each member thinks it holds

  explicit sim(std::uint32_t p) : P(p), rows(p) {}

  assignment_input input(const std::string& self) const {
    assignment_input in;
    in.self = self;
    in.partitions = P;
    in.members.assign(live.begin(), live.end());
    for (std::uint32_t p = 0; p < P; ++p)
      if (rows[p].token > 0) in.leases.push_back({p, rows[p].owner, rows[p].token, rows[p].live});
    if (auto it = held.find(self); it != held.end())
      for (auto [p, t] : it->second) in.held.push_back({p, t});
    return in;
  }
  // What the store does: acquire only a free (or own) lease, release only with the token.
  void apply(const std::string& self, const assignment_plan& plan) {
    auto& mine = held[self];
    for (auto p : plan.lost) mine.erase(p);
    for (auto p : plan.release) {
      ASSERT_EQ(rows[p].owner, self);
      mine.erase(p);
      rows[p].owner.clear();
      rows[p].live = false;
    }
    for (auto p : plan.acquire) {
      row& r = rows[p];
      if (r.live && r.owner != self) continue;  // someone else got it first
      if (!r.live) ++r.token;
      r.owner = self;
      r.live = true;
      mine[p] = r.token;
    }
  }
  void kill(const std::string& m) {
    live.erase(m);
    held.erase(m);
    for (auto& r : rows)
      if (r.owner == m) r.live = false;  // its leases expire with its heartbeat
  }
  // Invariants at every instant: no partition held by two members; what a member holds is
  // its row.
  void check() const {
    std::map<std::uint32_t, std::string> owner;
    for (const auto& [m, parts] : held)
      for (auto [p, t] : parts) {
        EXPECT_TRUE(owner.emplace(p, m).second) << "partition " << p << " held by " << owner[p] << " and " << m;
        EXPECT_EQ(rows[p].owner, m);
        EXPECT_EQ(rows[p].token, t);
        EXPECT_TRUE(rows[p].live);
      }
  }
  std::size_t count(const std::string& m) const {
    auto it = held.find(m);
    return it == held.end() ? 0 : it->second.size();
  }
  std::size_t unowned() const {
    std::size_t n = 0;
    for (const auto& r : rows) n += !r.live;
    return n;
  }
  // One round: each member plans from the same snapshot (no one has acted yet), then all act.
  // Returns whether anything changed.
  bool round_simultaneous() {
    std::map<std::string, assignment_plan> plans;
    for (const auto& m : live) plans[m] = plan_assignment(input(m));
    // Members acting on the same view never go for the same partition.
    std::map<std::uint32_t, std::string> wanted;
    for (const auto& [m, plan] : plans)
      for (auto p : plan.acquire) {
        auto [it, fresh] = wanted.emplace(p, m);
        EXPECT_TRUE(fresh) << "partition " << p << " wanted by " << it->second << " and " << m;
      }
    bool changed = false;
    for (const auto& [m, plan] : plans) {
      changed |= !plan.acquire.empty() || !plan.release.empty() || !plan.lost.empty();
      apply(m, plan);
      check();
    }
    return changed;
  }
  // One round, members one after another (each sees what the previous did).
  bool round_sequential() {
    bool changed = false;
    for (const auto& m : std::vector<std::string>(live.begin(), live.end())) {
      auto plan = plan_assignment(input(m));
      changed |= !plan.acquire.empty() || !plan.release.empty() || !plan.lost.empty();
      apply(m, plan);
      check();
    }
    return changed;
  }
  int settle(bool simultaneous) {
    for (int r = 1; r <= 10; ++r)
      if (!(simultaneous ? round_simultaneous() : round_sequential())) return r - 1;
    ADD_FAILURE() << "did not settle in 10 rounds";
    return 10;
  }
  void expect_balanced() const {
    std::size_t n = live.size(), lo = P, hi = 0, sum = 0;
    for (const auto& m : live) {
      lo = std::min(lo, count(m));
      hi = std::max(hi, count(m));
      sum += count(m);
    }
    EXPECT_EQ(sum, P);
    EXPECT_EQ(unowned(), 0u);
    EXPECT_LE(hi - lo, 1u);
    EXPECT_LE(hi, (P + n - 1) / n);
  }
};

std::string name(int i) { return "node-" + std::to_string(i); }

TEST(ClusterAssignment, ThreeMembersSplit256As86_85_85) {
  for (bool simultaneous : {true, false}) {
    sim s(256);
    for (int i = 0; i < 3; ++i) s.live.insert(name(i));
    s.settle(simultaneous);
    std::vector<std::size_t> counts{s.count(name(0)), s.count(name(1)), s.count(name(2))};
    std::sort(counts.begin(), counts.end());
    EXPECT_EQ(counts, (std::vector<std::size_t>{85, 85, 86}));
    s.expect_balanced();
    // Simultaneous: one round is enough (the plan deals disjoint shares).
    if (simultaneous) {
      sim t(256);
      for (int i = 0; i < 3; ++i) t.live.insert(name(i));
      t.round_simultaneous();
      EXPECT_EQ(t.unowned(), 0u);
    }
  }
}

TEST(ClusterAssignment, EveryClusterSizeSettlesBalancedAfterJoinsAndDeaths) {
  for (std::uint32_t P : {1u, 3u, 16u, 256u}) {
    for (bool simultaneous : {true, false}) {
      SCOPED_TRACE("P=" + std::to_string(P) + (simultaneous ? " simultaneous" : " sequential"));
      sim s(P);
      // Members join one at a time: after each join the cluster settles balanced.
      for (int i = 0; i < 6; ++i) {
        s.live.insert(name(i));
        s.settle(simultaneous);
        s.expect_balanced();
      }
      // Members die one at a time: survivors take everything over, in one round when they
      // act on the same view.
      for (int i = 0; i < 5; ++i) {
        s.kill(name(i));
        if (simultaneous) {
          s.round_simultaneous();
          EXPECT_EQ(s.unowned(), 0u) << "after the death of " << name(i);
        }
        s.settle(simultaneous);
        s.expect_balanced();
      }
    }
  }
}

TEST(ClusterAssignment, AJoinMovesOnlyWhatTheNewcomerNeeds) {
  sim s(256);
  for (int i = 0; i < 3; ++i) s.live.insert(name(i));
  s.settle(true);
  auto before = s.held;
  s.live.insert(name(3));
  // Round 1: the others hand back their extras; round 2: the newcomer takes them.
  EXPECT_TRUE(s.round_simultaneous());
  EXPECT_EQ(s.count(name(3)), 0u);
  EXPECT_EQ(s.unowned(), 256u - 3 * 64);
  s.round_simultaneous();
  EXPECT_EQ(s.count(name(3)), 64u);
  s.expect_balanced();
  EXPECT_FALSE(s.round_simultaneous());
  // What the old members kept, they held before (nothing moved between them).
  for (int i = 0; i < 3; ++i)
    for (auto [p, t] : s.held[name(i)]) {
      EXPECT_TRUE(before[name(i)].count(p)) << p;
      EXPECT_EQ(before[name(i)][p], t);
    }
}

TEST(ClusterAssignment, SurvivorsTakeADeadMembersPartitionsInDisjointShares) {
  sim s(256);
  for (int i = 0; i < 3; ++i) s.live.insert(name(i));
  s.settle(true);
  s.kill(name(1));
  auto a = plan_assignment(s.input(name(0)));
  auto c = plan_assignment(s.input(name(2)));
  std::set<std::uint32_t> both(a.acquire.begin(), a.acquire.end());
  for (auto p : c.acquire) EXPECT_TRUE(both.insert(p).second) << p;
  EXPECT_EQ(both.size(), s.unowned());
  EXPECT_EQ(a.quota + c.quota, 256u);
  EXPECT_TRUE(a.release.empty());
  EXPECT_TRUE(c.release.empty());
}

TEST(ClusterAssignment, LeasesOfAnOwnerNotAliveCountAsTakenUntilTheyExpire) {
  sim s(16);
  s.live = {"a", "b"};
  s.settle(true);
  // b's heartbeat lapses first; its partition leases still run.
  s.live.erase("b");
  auto plan = plan_assignment(s.input("a"));
  EXPECT_EQ(plan.quota, 16u);
  EXPECT_TRUE(plan.acquire.empty());
  s.kill("b");
  plan = plan_assignment(s.input("a"));
  EXPECT_EQ(plan.acquire.size(), 8u);
}

TEST(ClusterAssignment, AHeldLeaseWithAnotherOwnerOrTokenIsLost) {
  assignment_input in;
  in.self = "a";
  in.partitions = 4;
  in.members = {"a", "b"};
  in.leases = {{0, "a", 5, true}, {1, "b", 6, true}, {2, "a", 9, true}, {3, "", 2, false}};
  in.held = {{0, 5}, {1, 3}, {2, 8}};
  auto plan = plan_assignment(in);
  EXPECT_EQ(plan.lost, (std::vector<std::uint32_t>{1, 2}));
  // Partition 2's row is ours with another token: a stray, kept (acquired again) within quota.
  // Quotas 2/2: we hold 0 and the stray 2; partition 3 is free and b has room for 1 more.
  EXPECT_EQ(plan.quota, 2u);
  EXPECT_TRUE(std::count(plan.acquire.begin(), plan.acquire.end(), 2u));
  EXPECT_TRUE(plan.release.empty());
}

TEST(ClusterAssignment, StraysBeyondQuotaAreReleasedAndNotAMemberTakesNothing) {
  assignment_input in;
  in.self = "a";
  in.partitions = 4;
  in.members = {"a", "b"};
  // A restart of "a": its old leases on 0..3 still run, nothing held.
  for (std::uint32_t p = 0; p < 4; ++p) in.leases.push_back({p, "a", 1, true});
  auto plan = plan_assignment(in);
  EXPECT_EQ(plan.quota, 2u);
  EXPECT_EQ(plan.acquire.size(), 2u);
  EXPECT_EQ(plan.release.size(), 2u);
  // Not a live member: nothing acquired, strays handed back, held ones kept.
  in.members = {"b"};
  in.held = {{0, 1}};
  plan = plan_assignment(in);
  EXPECT_TRUE(plan.acquire.empty());
  EXPECT_EQ(plan.release, (std::vector<std::uint32_t>{1, 2, 3}));
  EXPECT_TRUE(plan.lost.empty());
}

TEST(ClusterAssignment, PreferenceIsStableAndDiffersBetweenMembers) {
  EXPECT_EQ(preference("node-a", 17), preference("node-a", 17));
  int same_top = 0;
  for (std::uint32_t p = 0; p < 256; ++p) same_top += preference("node-a", p) > preference("node-b", p);
  // Roughly half each: neither member is preferred everywhere.
  EXPECT_GT(same_top, 90);
  EXPECT_LT(same_top, 166);
}

}  // namespace
}  // namespace syndic::cluster
