#include "cluster/assignment.hpp"
#include "cluster/partition.hpp"

#include <algorithm>
#include <numeric>
#include <unordered_map>

namespace syndic::cluster {

namespace {

// splitmix64's finalizer: FNV-1a alone mixes its last bytes poorly.
std::uint64_t mix(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

}  // namespace

std::uint64_t preference(std::string_view member, std::uint32_t partition) {
  return mix(fnv1a64(member) ^ (static_cast<std::uint64_t>(partition + 1) * 0x9e3779b97f4a7c15ull));
}

std::vector<std::uint32_t> quotas(const std::vector<std::string>& members,
                                  const std::vector<std::uint32_t>& holdings, std::uint32_t partitions) {
  const std::size_t n = members.size();
  std::vector<std::uint32_t> q(n, 0);
  if (n == 0) return q;
  const auto base = static_cast<std::uint32_t>(partitions / n);
  std::size_t extra = partitions % n;
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  // The remainder goes to those holding most: a split already at 86/85/85 stays put.
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    std::uint32_t ha = a < holdings.size() ? holdings[a] : 0, hb = b < holdings.size() ? holdings[b] : 0;
    if (ha != hb) return ha > hb;
    return members[a] < members[b];
  });
  for (std::size_t i = 0; i < n; ++i) q[order[i]] = base + (i < extra ? 1 : 0);
  return q;
}

assignment_plan plan_assignment(const assignment_input& in) {
  assignment_plan plan;
  const std::uint32_t P = in.partitions;
  if (P == 0 || in.self.empty()) return plan;

  std::vector<const partition_lease_row*> row_of(P, nullptr);
  for (const auto& r : in.leases)
    if (r.partition < P) row_of[r.partition] = &r;
  auto live_owner = [&](std::uint32_t p) -> const std::string* {
    const partition_lease_row* r = row_of[p];
    return r && r->live && !r->owner.empty() ? &r->owner : nullptr;
  };

  // What we hold, minus what the rows say is gone.
  std::vector<char> mine(P, 0);
  for (const auto& h : in.held) {
    if (h.partition >= P || mine[h.partition]) continue;
    const partition_lease_row* r = row_of[h.partition];
    if (!r || r->owner != in.self || r->token != h.token) {
      plan.lost.push_back(h.partition);
      continue;
    }
    mine[h.partition] = 1;
  }
  std::vector<std::uint32_t> strays;
  for (std::uint32_t p = 0; p < P; ++p) {
    const std::string* owner = live_owner(p);
    if (!mine[p] && owner && *owner == in.self) strays.push_back(p);
  }

  std::vector<std::string> members = in.members;
  std::sort(members.begin(), members.end());
  members.erase(std::unique(members.begin(), members.end()), members.end());
  auto self_it = std::find(members.begin(), members.end(), in.self);
  if (self_it == members.end()) {
    // Not a live member: take nothing; strays go back so that the members can have them.
    plan.release = strays;
    return plan;
  }
  const std::size_t self_index = static_cast<std::size_t>(self_it - members.begin());

  std::unordered_map<std::string_view, std::size_t> index;
  for (std::size_t i = 0; i < members.size(); ++i) index.emplace(members[i], i);
  std::vector<std::uint32_t> holdings(members.size(), 0);
  std::vector<std::uint32_t> self_set;  // held first, then strays
  for (std::uint32_t p = 0; p < P; ++p)
    if (mine[p]) self_set.push_back(p);
  self_set.insert(self_set.end(), strays.begin(), strays.end());
  for (std::uint32_t p = 0; p < P; ++p) {
    const std::string* owner = live_owner(p);
    if (!owner || *owner == in.self) continue;
    if (auto it = index.find(*owner); it != index.end()) ++holdings[it->second];
  }
  holdings[self_index] = static_cast<std::uint32_t>(self_set.size());

  auto q = quotas(members, holdings, P);
  plan.quota = q[self_index];

  // Keep what we hold over strays, then what we prefer; hand back the rest.
  std::stable_sort(self_set.begin(), self_set.end(), [&](std::uint32_t a, std::uint32_t b) {
    bool ha = mine[a], hb = mine[b];
    if (ha != hb) return ha;
    std::uint64_t pa = preference(in.self, a), pb = preference(in.self, b);
    if (pa != pb) return pa > pb;
    return a < b;
  });
  std::vector<std::uint32_t> kept_strays;
  for (std::size_t i = 0; i < self_set.size(); ++i) {
    std::uint32_t p = self_set[i];
    if (i < plan.quota) {
      if (!mine[p]) kept_strays.push_back(p);
    } else {
      plan.release.push_back(p);
    }
  }

  // Deal the free partitions to the members with room, each to the one preferring it most.
  std::vector<std::uint32_t> room(members.size(), 0);
  for (std::size_t i = 0; i < members.size(); ++i) room[i] = q[i] > holdings[i] ? q[i] - holdings[i] : 0;
  std::uint32_t room_left = std::accumulate(room.begin(), room.end(), 0u);
  for (std::uint32_t p = 0; p < P && room_left > 0; ++p) {
    if (mine[p] || live_owner(p)) continue;
    std::size_t best = members.size();
    std::uint64_t best_pref = 0;
    for (std::size_t i = 0; i < members.size(); ++i) {
      if (room[i] == 0) continue;
      std::uint64_t pref = preference(members[i], p);
      if (best == members.size() || pref > best_pref) {
        best = i;
        best_pref = pref;
      }
    }
    --room[best];
    --room_left;
    if (best == self_index) plan.acquire.push_back(p);
  }
  std::sort(kept_strays.begin(), kept_strays.end());
  plan.acquire.insert(plan.acquire.end(), kept_strays.begin(), kept_strays.end());
  std::sort(plan.release.begin(), plan.release.end());
  return plan;
}

}  // namespace syndic::cluster
