#pragma once
// Stable identities: which shard owns an outlet, and the delivery ids receivers de-duplicate
// on. All are FNV-1a, so they are the same in every process and across restarts.

#include <cstdint>
#include <string>
#include <string_view>

namespace syndic::engine::detail {

// FNV-1a of `a`, a separator, then `b`, so that ("ab", "c") and ("a", "bc") differ.
std::uint64_t fnv1a(std::string_view a, std::string_view b = {});

// "msg_<16 hex>" for one (outlet, item) pair: the same on every retry and every re-push.
std::string delivery_id(std::string_view outlet, std::string_view item);

// "msg_batch_<16 hex>" for a batch, from its members' delivery ids in order.
std::string batch_delivery_id(std::string_view member_ids);

}  // namespace syndic::engine::detail
