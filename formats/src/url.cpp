#include "url.hpp"

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

std::string to_iri(std::string_view uri) {
  std::string out;
  out.reserve(uri.size());
  auto val = [](char c) {
    return c >= '0' && c <= '9' ? c - '0' : (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10 : -1;
  };
  for (std::size_t i = 0; i < uri.size(); ++i) {
    if (uri[i] == '%' && i + 2 < uri.size() && val(uri[i + 1]) >= 8 && val(uri[i + 2]) >= 0) {
      out += static_cast<char>(val(uri[i + 1]) * 16 + val(uri[i + 2]));
      i += 2;
    } else {
      out += uri[i];
    }
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
