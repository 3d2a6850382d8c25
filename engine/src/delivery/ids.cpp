#include "delivery/ids.hpp"

#include <cstdio>

namespace syndic::engine::detail {
namespace {

std::string hex_id(const char* prefix, std::uint64_t h) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s%016llx", prefix, static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace

std::uint64_t fnv1a(std::string_view a, std::string_view b) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : a) h = (h ^ c) * 0x100000001b3ull;
  h = (h ^ 0xff) * 0x100000001b3ull;
  for (unsigned char c : b) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

std::string delivery_id(std::string_view outlet, std::string_view item) {
  return hex_id("msg_", fnv1a(outlet, item));
}

std::string batch_delivery_id(std::string_view member_ids) {
  return hex_id("msg_batch_", fnv1a(member_ids));
}

}  // namespace syndic::engine::detail
