// Item identity and fingerprint (identity.hpp). The hashes end up in the store's idempotency
// keys and the poller's seen-sets, so they must never change between runs, builds or
// machines: the poller's stable_hash (8 bytes a step, the same everywhere; it also hashes
// bodies) of each field, tagged with the field and folded in with a 64-bit finaliser; never
// std::hash. tests/engine/poll_identity_test.cpp pins the values: a change of either is a
// republication of every item of every source.

#include "poll/identity.hpp"

#include "poll/poller_impl.hpp"  // stable_hash

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

// Fields folded in one after the other, each after a tag naming it, so that a value moving
// from one field to another (a title that becomes the summary) changes the hash.
enum class tag : std::uint64_t {
  guid = 1, link, text,  // the kinds of identity
  fingerprint,
  title, title_type, content, content_type, summary, summary_type, updated, no_updated,
  links, link_href, link_rel, link_type,
  enclosures, enclosure_url, enclosure_type, enclosure_length, no_enclosure_length,
};

class field_hasher {
 public:
  explicit field_hasher(tag domain) { fold(static_cast<std::uint64_t>(domain)); }
  void text(tag t, std::string_view value) {
    fold(static_cast<std::uint64_t>(t));
    fold(stable_hash(value));  // the length is in it: ("ab", "") and ("a", "b") differ
  }
  void number(tag t, std::uint64_t v) {
    fold(static_cast<std::uint64_t>(t));
    fold(v);
  }
  void mark(tag t) { fold(static_cast<std::uint64_t>(t)); }
  std::uint64_t value() const { return h_; }

 private:
  void fold(std::uint64_t x) { h_ = mix(h_ ^ mix(x + 0x9e3779b97f4a7c15ull)); }
  std::uint64_t h_ = 0x736f757263652121ull;
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
    field_hasher h(tag::guid);
    h.text(tag::guid, it.id);
    out.id_hash = h.value();
  } else if (std::string_view url = it.url(); !url.empty()) {
    field_hasher h(tag::link);
    h.text(tag::link, url);
    out.id_hash = h.value();
  } else {
    // No id and no link: what the item says is all that tells it apart. The summary is in too,
    // as most RSS items without content:encoded carry their text there.
    field_hasher h(tag::text);
    h.text(tag::title, it.title);
    h.text(tag::content, it.content);
    h.text(tag::summary, it.summary);
    out.id_hash = h.value();
  }

  // Fingerprint: what a reader sees. Types are in too: the same bytes read as HTML or as text
  // show differently. Links and enclosures keep their order (the first alternate link is the
  // item's URL). The instant of `updated` counts, not the zone it was written in.
  field_hasher f(tag::fingerprint);
  f.text(tag::title, it.title);
  f.number(tag::title_type, static_cast<std::uint64_t>(it.title_type));
  f.text(tag::content, it.content);
  f.number(tag::content_type, static_cast<std::uint64_t>(it.content_type));
  f.text(tag::summary, it.summary);
  f.number(tag::summary_type, static_cast<std::uint64_t>(it.summary_type));
  if (it.updated) f.number(tag::updated, static_cast<std::uint64_t>(it.updated->unix_ms));
  else f.mark(tag::no_updated);
  f.number(tag::links, it.links.size());
  for (const auto& l : it.links) {
    f.text(tag::link_href, l.href);
    f.text(tag::link_rel, l.rel);
    f.text(tag::link_type, l.type);
  }
  f.number(tag::enclosures, it.enclosures.size());
  for (const auto& e : it.enclosures) {
    f.text(tag::enclosure_url, e.url);
    f.text(tag::enclosure_type, e.type);
    if (e.length) f.number(tag::enclosure_length, *e.length);
    else f.mark(tag::no_enclosure_length);
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
