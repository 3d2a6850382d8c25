#include "delivery/ids.hpp"

#include <array>
#include <cstring>

namespace syndic::engine::detail {
namespace {

// 16 lower-case hex digits, as "%016llx" wrote them (snprintf was 1,200 instructions of each
// delivery's 2,000 on the submitting thread), a byte (two digits) at a time from a table.
void hex16(char* out, std::uint64_t h) {
  static constexpr auto pairs = [] {
    std::array<char, 512> t{};
    constexpr char digits[] = "0123456789abcdef";
    for (int b = 0; b < 256; ++b) {
      t[2 * b] = digits[b >> 4];
      t[2 * b + 1] = digits[b & 15];
    }
    return t;
  }();
  for (int i = 7; i >= 0; --i, h >>= 8) std::memcpy(out + 2 * i, &pairs[2 * (h & 0xff)], 2);
}

void append_hex16(std::string& out, std::uint64_t h) {
  char buf[16];
  hex16(buf, h);
  out.append(buf, sizeof buf);
}

// PREFIX and 16 hex digits, into a key (every prefix here is short enough to stay inline).
template <std::size_t N>
void hex_key(const char (&prefix)[N], std::uint64_t h, delivery_key& out) {
  char buf[N - 1 + 16];
  std::memcpy(buf, prefix, N - 1);
  hex16(buf + N - 1, h);
  out = std::string_view(buf, sizeof buf);
}

std::string hex_id(std::string_view prefix, std::uint64_t h) {
  std::string out;
  out.reserve(prefix.size() + 16);
  out += prefix;
  append_hex16(out, h);
  return out;
}

}  // namespace

std::uint64_t fnv1a(std::string_view a, std::string_view b) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : a) h = (h ^ c) * 0x100000001b3ull;
  h = (h ^ 0xff) * 0x100000001b3ull;
  for (unsigned char c : b) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

namespace {

// FNV-1a, fed field by field; each field ends with a separator byte that text cannot hold
// in that place (a length would do as well), so ("ab","c") and ("a","bc") differ.
struct hasher {
  std::uint64_t h = 0xcbf29ce484222325ull;
  void bytes(std::string_view s) {
    for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
    h = (h ^ 0xff) * 0x100000001b3ull;
  }
  void number(std::uint64_t v) {
    for (int i = 0; i < 8; ++i) h = (h ^ ((v >> (8 * i)) & 0xff)) * 0x100000001b3ull;
  }
  void time(const std::optional<formats::timestamp>& t) {
    number(t ? 1 : 0);
    if (t) number(static_cast<std::uint64_t>(t->unix_ms));
  }
  void ext(const formats::extension& e) {
    bytes(e.ns);
    bytes(e.name);
    bytes(e.value);
    number(e.attributes.size());
    for (const auto& [k, v] : e.attributes) {
      bytes(k);
      bytes(v);
    }
    number(e.children.size());
    for (const auto& c : e.children) ext(c);
  }
};

}  // namespace

std::uint64_t item_version(const formats::item& it) {
  hasher x;
  x.bytes(it.id);
  x.time(it.published);
  x.time(it.updated);
  x.bytes(it.title);
  x.number(static_cast<std::uint64_t>(it.title_type));
  x.bytes(it.summary);
  x.bytes(it.content);
  x.number(static_cast<std::uint64_t>(it.content_type));
  x.number(it.links.size());
  for (const auto& l : it.links) {
    x.bytes(l.href);
    x.bytes(l.rel);
    x.bytes(l.type);
  }
  x.number(it.authors.size());
  for (const auto& p : it.authors) {
    x.bytes(p.name);
    x.bytes(p.email);
    x.bytes(p.url);
  }
  x.number(it.categories.size());
  for (const auto& c : it.categories) {
    x.bytes(c.term);
    x.bytes(c.scheme);
  }
  x.number(it.enclosures.size());
  for (const auto& e : it.enclosures) {
    x.bytes(e.url);
    x.bytes(e.type);
    x.number(e.length.value_or(0));
  }
  x.number(it.thumbnails.size() + it.media.size());
  for (const auto* v : {&it.thumbnails, &it.media})
    for (const auto& m : *v) x.bytes(m.url);
  x.bytes(it.language);
  x.bytes(it.comments);
  x.bytes(it.source.id);
  x.bytes(it.source.url);
  x.number(it.extensions.size());
  for (const auto& e : it.extensions) x.ext(e);
  return x.h;
}

std::string item_key(std::string_view item_id, std::uint64_t version) {
  std::string key;
  key.reserve(item_id.size() + 17);
  key += item_id;
  key += '\n';
  append_hex16(key, version);
  return key;
}

std::string delivery_id(std::string_view outlet, std::string_view item_key) {
  return hex_id("msg_", fnv1a(outlet, item_key));
}

void delivery_id(std::string_view outlet, std::string_view item_key, delivery_key& out) {
  hex_key("msg_", fnv1a(outlet, item_key), out);
}

std::string batch_delivery_id(std::string_view member_ids) {
  return hex_id("msg_batch_", fnv1a(member_ids));
}

void batch_delivery_id(std::string_view member_ids, delivery_key& out) {
  hex_key("msg_batch_", fnv1a(member_ids), out);
}

}  // namespace syndic::engine::detail
