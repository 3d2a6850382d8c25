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

}  // namespace syndic::daemon
