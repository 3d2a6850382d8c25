#pragma once
// Stable identities: which shard owns an outlet, and the delivery ids receivers de-duplicate
// on. All are FNV-1a, so they are the same in every process and across restarts.

#include <syndic/formats/model.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace syndic::engine::detail {

// FNV-1a of `a`, a separator, then `b`, so that ("ab", "c") and ("a", "bc") differ.
std::uint64_t fnv1a(std::string_view a, std::string_view b = {});

// A hash of what an item says (ids, dates, title, texts, links, people, categories,
// enclosures, media, extensions): an edit changes it, a re-poll of the same item does not.
std::uint64_t item_version(const formats::item& it);

// "ITEM-ID\n<16 hex version>": what a delivery id says of the item, made once per item.
std::string item_key(std::string_view item_id, std::uint64_t version);

// "msg_<16 hex>" for one (outlet, item_key) pair: the same on every retry and every re-push
// of the same content, new when the item is updated (else receivers drop the update as a
// duplicate).
std::string delivery_id(std::string_view outlet, std::string_view item_key);

// "msg_batch_<16 hex>" for a batch, from its members' delivery ids in order.
std::string batch_delivery_id(std::string_view member_ids);

}  // namespace syndic::engine::detail
