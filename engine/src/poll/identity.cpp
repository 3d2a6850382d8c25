// Item identity and fingerprint (identity.hpp). The hashes end up in the store's idempotency
// keys and the poller's seen-sets, so they must never change between runs, builds or
// machines: FNV-1a over bytes (delivery/ids.hpp's, the one the delivery ids use), each field
// tagged with its name and folded in with a 64-bit finaliser, never std::hash.

#include "poll/identity.hpp"

#include "delivery/ids.hpp"

#include <array>

namespace syndic::poll {
namespace {

// SplitMix64's finaliser: every input bit reaches every output bit, so combining field hashes
// with it is order-sensitive ((a, b) and (b, a) differ) without being weak.
constexpr std::uint64_t mix(std::uint64_t h) {
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h;
}

// Fields folded in one after the other; `tag` names the field so that a value moving from
// one field to another (a title that becomes the summary) changes the hash.
class field_hasher {
 public:
  explicit field_hasher(std::string_view domain) : h_(engine::detail::fnv1a(domain)) {}
  void text(std::string_view tag, std::string_view value) { fold(engine::detail::fnv1a(tag, value)); }
  void number(std::string_view tag, std::uint64_t v) {
    // Little-endian bytes, whatever the machine's order.
    std::array<char, 8> b{};
    for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
    text(tag, std::string_view(b.data(), b.size()));
  }
  void absent(std::string_view tag) { fold(engine::detail::fnv1a(tag, "\xff-absent")); }
  std::uint64_t value() const { return h_; }

 private:
  void fold(std::uint64_t field) { h_ = mix(h_ ^ mix(field + 0x9e3779b97f4a7c15ull)); }
  std::uint64_t h_;
};

void append_hex16(std::string& out, std::uint64_t h) {
  static constexpr char digits[] = "0123456789abcdef";
  char buf[16];
  for (int i = 15; i >= 0; --i, h >>= 4) buf[i] = digits[h & 15];
  out.append(buf, sizeof buf);
}

}  // namespace

item_identity identify(const formats::item& it) {
  item_identity out;

  // Identity: the kind is part of the hash, so a guid that happens to equal another item's
  // link, or an empty-text item, never collides with an identity of another kind.
  if (!it.id.empty()) {
    field_hasher h("syndic.poll.id/guid");
    h.text("id", it.id);
    out.id_hash = h.value();
  } else if (std::string_view url = it.url(); !url.empty()) {
    field_hasher h("syndic.poll.id/link");
    h.text("link", url);
    out.id_hash = h.value();
  } else {
    // No id and no link: what the item says is all that tells it apart. The summary is in too,
    // as most RSS items without content:encoded carry their text there.
    field_hasher h("syndic.poll.id/text");
    h.text("title", it.title);
    h.text("content", it.content);
    h.text("summary", it.summary);
    out.id_hash = h.value();
  }

  // Fingerprint: what a reader sees. Types are in too: the same bytes read as HTML or as text
  // show differently. Links and enclosures keep their order (the first alternate link is the
  // item's URL).
  field_hasher f("syndic.poll.fingerprint");
  f.text("title", it.title);
  f.number("title_type", static_cast<std::uint64_t>(it.title_type));
  f.text("content", it.content);
  f.number("content_type", static_cast<std::uint64_t>(it.content_type));
  f.text("summary", it.summary);
  f.number("summary_type", static_cast<std::uint64_t>(it.summary_type));
  if (it.updated) f.number("updated", static_cast<std::uint64_t>(it.updated->unix_ms));
  else f.absent("updated");
  f.number("links", it.links.size());
  for (const auto& l : it.links) {
    f.text("link.href", l.href);
    f.text("link.rel", l.rel);
    f.text("link.type", l.type);
  }
  f.number("enclosures", it.enclosures.size());
  for (const auto& e : it.enclosures) {
    f.text("enclosure.url", e.url);
    f.text("enclosure.type", e.type);
    if (e.length) f.number("enclosure.length", *e.length);
    else f.absent("enclosure.length");
  }
  out.fingerprint = f.value();
  return out;
}

std::string idempotency_key(std::string_view source_id, const item_identity& id, bool with_fingerprint) {
  std::string key;
  key.reserve(5 + source_id.size() + 1 + 16 + (with_fingerprint ? 17 : 0));
  key += "poll ";
  key += source_id;
  key += ' ';
  append_hex16(key, id.id_hash);
  if (with_fingerprint) {
    key += ' ';
    append_hex16(key, id.fingerprint);
  }
  return key;
}

}  // namespace syndic::poll
