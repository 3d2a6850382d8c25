#pragma once
// One syndic instance's part in a cluster (docs/cluster.md): it heartbeats, reads who is alive
// and who holds which partition, takes and hands back partition leases by the policy of
// assignment.hpp, and tells the fan-out what it may deliver for.
//
// Leases (all in the shared store, engine::store's lease calls):
//  - "member/<instance>": the heartbeat; its kv entry cluster.members/<instance> holds
//    {"url": base_url, "started": <unix seconds>} for whoever wants to reach the instance;
//  - "partition/NNN": the right to deliver for the outlets of partition NNN (partition.hpp).
// Every refresh period (default ttl/3) one round: renew what is held (the renewals are queued
// together: the store commits them in one transaction), read store.leases("member/") and
// ("partition/"), plan, hand back extras, acquire our share of the free partitions.
//
// Safety. A lease renewed (or acquired) by a request sent at t0 on our steady clock is good
// until t0 + ttl - margin by that clock; the store expires it at its own t1 + ttl with t1 >= t0.
// When a renewal is not confirmed in time the partition is dropped (on_lose, reason expired)
// at that moment, by a guard thread of its own, even when the store or the round is stuck.
// The store's fencing (each fan-out write carries the partition's fence) covers the rest:
// whatever a stalled ex-owner still sends to the store after a takeover is refused.
//
// Callbacks run on the coordinator's threads, one at a time, except on_lose(expired) from the
// guard, which may overlap another callback (never for the same partitions): it must not
// wait for a slow on_gain to finish (fanout's own/disown are thread-safe).
//  - on_gain(grants): the leases are held; start delivering for these partitions with these
//    fences (fanout::own);
//  - on_lose(partitions, reason, budget): stop delivering for them now. For a handback (and
//    at stop) the lease is released only after on_lose returns, so the callback records and
//    flushes what it has first, within `budget` (fanout::disown); for lost and expired leases
//    the budget is 0 and nothing is released (the lease is gone).
// A callback must not call the coordinator's stop().
//
// Wiring (syndic run), the fan-out in partitioned mode with the same partition count:
//   daemon::fanout fan(store, eng, {.partitions = P});   // add every outlet, then fan.start()
//   cluster::coordinator coord(store, {.instance_id = id, .partitions = P, .base_url = url},
//     {.on_gain = [&](const std::vector<cluster::partition_grant>& grants) {
//        for (const auto& g : grants) fan.own(g.partition, g.fence); },
//      .on_lose = [&](const std::vector<std::uint32_t>& parts, cluster::lose_reason,
//                     std::chrono::milliseconds budget) { fan.disown(parts, budget); }});
//   coord.start();
//   ... on SIGTERM: coord.stop() first (hands every partition back: in-flight pairs end and
//   are recorded, then the leases go, so the others take over at once), then the fan-out's
//   stop_feeding / engine drain / finish as today.
//
// Threads: every public member function may be called from any thread.

#include <syndic/engine/store.hpp>

#include "cluster/assignment.hpp"
#include "cluster/partition.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace syndic::cluster {

using steady_clock = std::chrono::steady_clock;

struct coordinator_options {
  std::string instance_id;  // required: unique among the instances, stable across restarts
  std::uint32_t partitions = default_partitions;  // the same on every instance
  std::chrono::milliseconds lease_ttl{10'000};
  std::chrono::milliseconds refresh{0};          // 0: lease_ttl / 3
  std::chrono::milliseconds margin{0};           // 0: lease_ttl / 5 (stop this long before expiry)
  std::chrono::milliseconds handback_budget{0};  // 0: refresh / 2 (on_lose's time for a handback)
  std::string base_url;                          // published in cluster.members
  // start(): the heartbeat goes first, and partitions are dealt only this long after it, so
  // that instances started together see each other and split the partitions at once instead
  // of the first taking them all and handing most back a round later. 0: no wait (a lone
  // instance delivers at once). A refresh period is a good value for a cluster's start.
  std::chrono::milliseconds join_delay{0};
  // Tests: our steady clock, and the clock that judges whether a lease row read is live
  // (default: the system clock; for PostgreSQL the server's clock decides when acquiring, so
  // a skew only costs a failed acquisition). With a substituted clock, drive the coordinator
  // with tick() rather than start().
  std::function<steady_clock::time_point()> clock;
  std::function<engine::store_time()> store_clock;
};

struct partition_grant {
  std::uint32_t partition = 0;
  engine::fence fence;  // {"partition/NNN", token}: every write for its outlets carries it
};

enum class lose_reason : std::uint8_t {
  handback,  // extra partition given back (another member joined): released after on_lose
  lost,      // the store says another owner (or token) holds it now
  expired,   // its renewal was not confirmed in time (our steady clock)
  stopping,  // coordinator::stop(): released after on_lose
};
std::string_view to_string(lose_reason r);

struct coordinator_callbacks {
  std::function<void(const std::vector<partition_grant>&)> on_gain;
  std::function<void(const std::vector<std::uint32_t>&, lose_reason, std::chrono::milliseconds budget)> on_lose;
};

// What the coordinator knows now (metrics, GET /v1/cluster).
struct coordinator_view {
  std::string instance;
  std::uint32_t partitions = 0;
  std::uint32_t quota = 0;            // our share at the latest round
  bool member = false;                // our heartbeat lease is held
  std::vector<std::uint32_t> owned;   // ascending
  // When the guard drops the first owned partition unless a renewal is confirmed before (our
  // steady clock); the epoch when nothing is owned.
  steady_clock::time_point good_until{};
  std::vector<std::string> members;   // live members at the latest round, ascending
  std::uint64_t rounds = 0, gained = 0, handed_back = 0, lost = 0, expired = 0, store_errors = 0;
};

class coordinator {
public:
  coordinator(engine::store& db, coordinator_options options, coordinator_callbacks callbacks);
  ~coordinator();  // stop()
  coordinator(const coordinator&) = delete;
  coordinator& operator=(const coordinator&) = delete;

  // Starts the round thread and the guard thread. The first round runs at once.
  void start();
  // Stops the threads, hands every partition back (on_lose, reason stopping, then release),
  // releases the heartbeat and erases the kv entry. Idempotent.
  void stop();

  // One round on the caller's thread (tests drive coordinators this way, with their clock):
  // drops overdue partitions, renews, reads, plans, hands back, acquires.
  void tick();

  coordinator_view view() const;
  std::vector<std::uint32_t> owned() const;

private:
  struct held_partition {
    engine::lease lease;
    steady_clock::time_point valid_until{};
  };

  steady_clock::time_point now() const;
  std::chrono::milliseconds refresh() const;
  steady_clock::time_point valid_until(steady_clock::time_point sent) const;
  void expire_overdue();
  void renew_round();
  void release_leases(std::vector<engine::lease> leases);
  void guard_loop();
  void round_loop();

  engine::store& db_;
  coordinator_options options_;
  coordinator_callbacks callbacks_;

  std::mutex callback_mutex_;  // one callback at a time; held_ changes with its callback
  mutable std::mutex mutex_;   // everything below
  std::map<std::uint32_t, held_partition> held_;
  std::optional<engine::lease> membership_;
  steady_clock::time_point membership_valid_until_{};
  bool announced_ = false;
  coordinator_view stats_;
  bool quit_ = false;
  bool stopped_ = false;
  std::condition_variable wake_;
  std::thread round_thread_, guard_thread_;
};

}  // namespace syndic::cluster
