#include "daemon/text.hpp"

namespace syndic::daemon {
namespace {
constexpr char hex_digits[] = "0123456789ABCDEF";
}

std::string quote_value(std::string_view v) {
  std::string out = "'";
  for (std::size_t i = 0; i < v.size() && i < 80; ++i) {
    auto c = static_cast<unsigned char>(v[i]);
    if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += static_cast<char>(hex_digits[c >> 4] | 0x20);  // lower-case hex
      out += static_cast<char>(hex_digits[c & 15] | 0x20);
    } else {
      out += v[i];
    }
  }
  if (v.size() > 80) out += "...";
  return out + "'";
}

std::string percent_encode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex_digits[c >> 4];
      out += hex_digits[c & 15];
    }
  }
  return out;
}

std::string redact_url(std::string_view url) {
  std::string out(url);
  // userinfo: between "://" and the last '@' before the path.
  auto scheme_end = out.find("://");
  if (scheme_end != std::string::npos) {
    std::size_t auth = scheme_end + 3;
    std::size_t path = out.find_first_of("/?#", auth);
    std::size_t at = out.rfind('@', path == std::string::npos ? std::string::npos : path);
    if (at != std::string::npos && at >= auth) {
      std::size_t colon = out.find(':', auth);
      if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "<redacted>");
    }
  }
  // password=... in the query (libpq accepts connection parameters there).
  for (std::size_t p = out.find("password="); p != std::string::npos; p = out.find("password=", p + 1)) {
    if (p > 0 && out[p - 1] != '?' && out[p - 1] != '&') continue;
    std::size_t v = p + 9, end = out.find_first_of("&#", v);
    out.replace(v, (end == std::string::npos ? out.size() : end) - v, "<redacted>");
  }
  return out;
}

}  // namespace syndic::daemon
