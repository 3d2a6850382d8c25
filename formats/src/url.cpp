#include "url.hpp"

#include "text.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

namespace syndic::formats::detail {

bool has_scheme(std::string_view ref) {
  // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"
  if (ref.empty() || !((ref[0] | 0x20) >= 'a' && (ref[0] | 0x20) <= 'z')) return false;
  for (std::size_t i = 1; i < ref.size(); ++i) {
    char c = ref[i];
    if (c == ':') return true;
    bool ok = ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
              c == '-' || c == '.';
    if (!ok) return false;
  }
  return false;
}

namespace {

// Feeds carry IRIs (RFC 3987): non-ASCII bytes and spaces are percent-encoded for parsing
// and decoded again afterwards, so the result reads as it was written.
std::string to_uri(std::string_view iri) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(iri.size());
  for (unsigned char c : iri) {
    if (c >= 0x80 || c == ' ') {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// Decodes the %HH escapes of non-ASCII bytes back into characters, but only where they spell
// well-formed UTF-8: "%FF" or a lone "%C3" stays escaped, so the result is always valid UTF-8
// (escapes of ASCII are left alone: they may be delimiters).
std::string to_iri(std::string_view uri) {
  auto val = [](char c) {
    return c >= '0' && c <= '9' ? c - '0' : (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10 : -1;
  };
  auto escaped_byte = [&](std::size_t at) {
    if (at + 2 >= uri.size() || uri[at] != '%' || val(uri[at + 1]) < 0 || val(uri[at + 2]) < 0) return -1;
    return val(uri[at + 1]) * 16 + val(uri[at + 2]);
  };
  std::string out;
  out.reserve(uri.size());
  for (std::size_t i = 0; i < uri.size();) {
    int lead = escaped_byte(i);
    if (lead >= 0x80) {
      std::string bytes(1, static_cast<char>(lead));
      std::size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
      std::size_t j = i + 3;
      while (bytes.size() < need) {
        int b = escaped_byte(j);
        if (b < 0x80 || b > 0xBF) break;
        bytes += static_cast<char>(b);
        j += 3;
      }
      if (bytes.size() == need && is_valid_utf8(bytes)) {
        out += bytes;
        i = j;
        continue;
      }
    }
    out += uri[i++];
  }
  return out;
}

bool is_ascii(std::string_view s) {
  for (unsigned char c : s)
    if (c >= 0x80) return false;
  return true;
}

}  // namespace

std::string resolve_url(std::string_view base, std::string_view ref) {
  if (base.empty() || has_scheme(ref)) return std::string(ref);
  bool iri = !is_ascii(base) || !is_ascii(ref);
  std::string base_uri = iri ? to_uri(base) : std::string(base);
  std::string ref_uri = iri ? to_uri(ref) : std::string(ref);
  auto b = boost::urls::parse_uri(base_uri);
  if (!b) return std::string(ref);
  auto r = boost::urls::parse_uri_reference(ref_uri);
  if (!r) return std::string(ref);
  boost::urls::url out;
  if (auto rv = boost::urls::resolve(*b, *r, out); !rv) return std::string(ref);
  return iri ? to_iri(out.buffer()) : std::string(out.buffer());
}

}  // namespace syndic::formats::detail
