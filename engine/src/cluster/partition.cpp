#include "cluster/partition.hpp"

#include <charconv>
#include <cstdio>

namespace syndic::cluster {

std::uint64_t fnv1a64(std::string_view bytes) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : bytes) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

std::uint32_t partition_of(std::string_view outlet_id, std::uint32_t partitions) {
  if (partitions <= 1) return 0;
  return static_cast<std::uint32_t>(fnv1a64(outlet_id) % partitions);
}

std::string partition_lease_name(std::uint32_t partition) {
  char digits[16];
  std::snprintf(digits, sizeof digits, "%03u", partition);
  return std::string(partition_lease_prefix) + digits;
}

std::optional<std::uint32_t> parse_partition_lease(std::string_view name) {
  if (!name.starts_with(partition_lease_prefix)) return std::nullopt;
  name.remove_prefix(partition_lease_prefix.size());
  if (name.empty() || name.size() > 9) return std::nullopt;
  std::uint32_t n = 0;
  auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), n);
  if (ec != std::errc() || end != name.data() + name.size()) return std::nullopt;
  return n;
}

std::string member_lease_name(std::string_view instance) {
  return std::string(member_lease_prefix) + std::string(instance);
}

}  // namespace syndic::cluster
