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

std::string resolve_url(std::string_view base, std::string_view ref) {
  if (base.empty() || has_scheme(ref)) return std::string(ref);
  auto b = boost::urls::parse_uri(base);
  if (!b) return std::string(ref);
  auto r = boost::urls::parse_uri_reference(ref);
  if (!r) return std::string(ref);
  boost::urls::url out;
  if (auto rv = boost::urls::resolve(*b, *r, out); !rv) return std::string(ref);
  return std::string(out.buffer());
}

}  // namespace syndic::formats::detail
