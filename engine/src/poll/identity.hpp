#pragma once
// Which items of a fetched feed are new: an item's identity is its guid/id, else its link,
// else a hash of its title and content; its fingerprint hashes what a reader sees (title,
// content, summary, updated, links, enclosures), so an update of the same item is told apart.
// Hashes are stable across runs and machines (the store keeps keys made from them).

#include <syndic/formats/model.hpp>

#include <cstdint>
#include <string>

namespace syndic::poll {

struct item_identity {
  std::uint64_t id_hash = 0;      // of the identity string, with which kind it came from
  std::uint64_t fingerprint = 0;  // of the visible content
  friend bool operator==(const item_identity&, const item_identity&) = default;
};

item_identity identify(const formats::item& it);

// The log's idempotency key for the item of `source_id`: the identity, plus the fingerprint
// when updates are republished. Contains a space, which publishers' Idempotency-Keys (visible
// ASCII only) cannot, so a publisher can never take a source's key.
std::string idempotency_key(std::string_view source_id, const item_identity& id, bool with_fingerprint);

}  // namespace syndic::poll
