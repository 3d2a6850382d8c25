#pragma once
// Which partition an outlet belongs to, and the names of the leases a cluster of syndic
// instances coordinates through (docs/cluster.md). Every instance must compute the same
// answers: the hash is plain 64-bit FNV-1a of the outlet id's bytes (offset basis
// 0xcbf29ce484222325, prime 0x100000001b3), modulo the partition count, so a script can
// compute it too:
//   h = 0xcbf29ce484222325; for b in id.encode(): h = ((h ^ b) * 0x100000001b3) % 2**64
//   partition = h % P
// It differs on purpose from the shard hash (delivery/ids.hpp), so that a partition's outlets
// still spread over every shard.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace syndic::cluster {

inline constexpr std::uint32_t default_partitions = 256;
inline constexpr std::uint32_t max_partitions = 4096;

inline constexpr std::string_view partition_lease_prefix = "partition/";
inline constexpr std::string_view member_lease_prefix = "member/";
// kv namespace: key = instance id, value = JSON {"url": ..., "started": ...}.
inline constexpr std::string_view members_kv_namespace = "cluster.members";

std::uint64_t fnv1a64(std::string_view bytes);

// The outlet's partition in 0..partitions-1 (partitions >= 1).
std::uint32_t partition_of(std::string_view outlet_id, std::uint32_t partitions);

// "partition/007": zero-padded to 3 digits, so names sort numerically up to 1000 partitions
// (beyond, they still parse; only their listing order is not numeric).
std::string partition_lease_name(std::uint32_t partition);
// The partition a lease name stands for; nullopt when the name is not "partition/<digits>".
std::optional<std::uint32_t> parse_partition_lease(std::string_view name);

// "member/<instance>".
std::string member_lease_name(std::string_view instance);

}  // namespace syndic::cluster
