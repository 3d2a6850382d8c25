#pragma once
// Stable identities: which shard owns an outlet, and the delivery ids receivers de-duplicate
// on. All are FNV-1a, so they are the same in every process and across restarts.

#include <syndic/formats/model.hpp>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace syndic::engine::detail {

// A delivery id, held in place: every id made here ("msg_<16 hex>", "msg_batch_<16 hex>")
// fits in 31 bytes, so a pair carries its id without an allocation, in the 32 bytes a
// std::string takes. As a std::string (20 bytes, past the 15 it keeps inline) the id was a
// malloc on the submitting thread and a free on the shard's, in another arena. A longer id
// (one read back from a store, say) is kept whole, on the heap.
class delivery_key {
public:
  delivery_key() = default;
  delivery_key(std::string_view id) { assign(id); }  // NOLINT: an id converts both ways
  delivery_key(const delivery_key& o) { assign(o.view()); }
  delivery_key(delivery_key&& o) noexcept { steal(o); }
  delivery_key& operator=(const delivery_key& o) {
    if (this != &o) assign(o.view());
    return *this;
  }
  delivery_key& operator=(delivery_key&& o) noexcept {
    if (this != &o) {
      release();
      steal(o);
    }
    return *this;
  }
  delivery_key& operator=(std::string_view id) {
    assign(id);
    return *this;
  }
  ~delivery_key() { release(); }

  operator std::string_view() const { return view(); }  // NOLINT
  std::string_view view() const {
    return is_long() ? std::string_view(*heap()) : std::string_view(raw_, size());
  }
  bool empty() const { return size() == 0; }
  friend bool operator==(const delivery_key& a, std::string_view b) { return a.view() == b; }

private:
  // raw_[31] is the size, or long_marker; a long id's std::string* is in raw_[0..8).
  static constexpr std::size_t inline_capacity = 31;
  static constexpr unsigned char long_marker = 0xff;
  unsigned char size() const { return static_cast<unsigned char>(raw_[inline_capacity]); }
  bool is_long() const { return size() == long_marker; }
  std::string* heap() const {
    std::string* p;
    std::memcpy(&p, raw_, sizeof p);
    return p;
  }
  void release() {
    if (is_long()) delete heap();
    raw_[inline_capacity] = 0;
  }
  void steal(delivery_key& o) {
    std::memcpy(raw_, o.raw_, sizeof raw_);
    o.raw_[inline_capacity] = 0;
  }
  void assign(std::string_view id) {
    if (id.size() <= inline_capacity) {
      std::string* old = is_long() ? heap() : nullptr;  // `id` may point into it
      std::memmove(raw_, id.data(), id.size());
      raw_[inline_capacity] = static_cast<char>(id.size());
      delete old;
    } else if (is_long()) {
      heap()->assign(id);
    } else {
      auto* p = new std::string(id);
      std::memcpy(raw_, &p, sizeof p);
      raw_[inline_capacity] = static_cast<char>(long_marker);
    }
  }
  alignas(8) char raw_[inline_capacity + 1]{};
};

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
// The same, into a pair's key (no allocation).
void delivery_id(std::string_view outlet, std::string_view item_key, delivery_key& out);

// "msg_batch_<16 hex>" for a batch, from its members' delivery ids in order.
std::string batch_delivery_id(std::string_view member_ids);
void batch_delivery_id(std::string_view member_ids, delivery_key& out);

}  // namespace syndic::engine::detail
