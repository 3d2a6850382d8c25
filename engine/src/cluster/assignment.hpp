#pragma once
// The partition policy of a cluster instance, pure (no clock, no store): from what the store's
// lease rows say now, what this instance should acquire and what it should hand back.
//
// Balance. With N live members and P partitions, each member has a quota of floor(P/N), and
// the P mod N members holding the most (ties: the smaller id) one more, so the quotas add up
// to P and no member aims above ceil(P/N). Every member computes every member's quota from the
// same rows, so they agree (3 members, 256 partitions: 86/85/85).
//
// No stampede. Free partitions (no live lease) are dealt out in one plan that every member
// computes alike: in ascending order, each goes to the member with room left (holdings below
// quota) that prefers it most; a member's preference for a partition is a hash of (member,
// partition) (rendezvous hashing). Each member then acquires only its own share, so survivors
// of a death take disjoint sets instead of racing for the same leases.
//
// Handing back. A member above its quota releases the partitions it prefers least; the
// members below quota take them in a later round (once released they are free).
//
// Leases held by an owner that is not a live member (its heartbeat lapsed first) count as
// taken until they expire: nobody can acquire them before. Leases in this instance's name
// that it does not hold (acquired by a completion that came too late, or by an earlier run of
// the same instance id) are "strays": kept (acquired again: the same owner keeps the token)
// when within quota, released otherwise.

#include <cstdint>
#include <string>
#include <vector>

namespace syndic::cluster {

// One partition lease row as read (store::leases("partition/")).
struct partition_lease_row {
  std::uint32_t partition = 0;
  std::string owner;       // "" when released
  std::uint64_t token = 0;
  bool live = false;       // expires after the reader's "now" (and owner not empty)
};

struct assignment_input {
  std::string self;
  std::uint32_t partitions = 0;
  // Live members (membership lease unexpired), self included when its own membership is
  // confirmed; without self, the plan acquires nothing and releases only strays.
  std::vector<std::string> members;
  std::vector<partition_lease_row> leases;  // partitions without a row are free
  struct held_lease {
    std::uint32_t partition = 0;
    std::uint64_t token = 0;
  };
  std::vector<held_lease> held;  // what this instance holds (renewal confirmed)
};

struct assignment_plan {
  std::uint32_t quota = 0;               // this instance's share
  std::vector<std::uint32_t> acquire;    // free partitions dealt to us, then strays kept
  std::vector<std::uint32_t> release;    // held (or stray) partitions to hand back
  // Held per `held`, but the row names another owner or token: the lease is gone already.
  std::vector<std::uint32_t> lost;
};

// A member's preference for a partition (higher: preferred). Stable across processes.
std::uint64_t preference(std::string_view member, std::uint32_t partition);

// Every member's quota, in `members`' order; `holdings[i]` is what member i holds now.
std::vector<std::uint32_t> quotas(const std::vector<std::string>& members,
                                  const std::vector<std::uint32_t>& holdings, std::uint32_t partitions);

assignment_plan plan_assignment(const assignment_input& in);

}  // namespace syndic::cluster
