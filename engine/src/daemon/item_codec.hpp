#pragma once
// How an item is kept in the log: the source's metadata and the one item, as a JSON Feed
// document (formats' own JSON, whose `_syndic` extensions carry what JSON Feed has no field
// for, so every format renders from it as from the original). Decoding the same bytes always
// gives the same item, so the delivery ids made from it are the same after a restart.

#include <syndic/engine/store.hpp>
#include <syndic/formats/model.hpp>

#include <memory>
#include <string>

namespace syndic::daemon {

inline constexpr std::string_view item_content_type = "application/feed+json";

// A log entry for `it` from `source` (its metadata only; its items are ignored).
engine::log_entry encode_item(const formats::feed& source, const formats::item& it, std::string channel,
                              std::string origin);

// The one-item document of a record; null and `error` set when the bytes are not a JSON
// Feed with one item (a record written by something else, or damaged).
std::shared_ptr<const formats::feed> decode_item(const engine::log_record& record, std::string& error);

}  // namespace syndic::daemon
