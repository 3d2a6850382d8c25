#include "testkit/report_text.hpp"

#include "formats/src/text.hpp"

#include <charconv>
#include <cmath>

namespace syndic::testkit::report_detail {
namespace {

constexpr std::string_view em_dash = "\xE2\x80\x94";

// Digits of a non-negative fixed-point number with a comma every three integer digits.
std::string group_thousands(std::string_view digits) {
  const std::size_t point = digits.find('.');
  const std::size_t int_len = point == std::string_view::npos ? digits.size() : point;
  std::string out;
  out.reserve(digits.size() + int_len / 3);
  for (std::size_t i = 0; i < int_len; ++i) {
    if (i > 0 && (int_len - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  out.append(digits.substr(int_len));
  return out;
}

std::string fixed(double v, int decimals) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, decimals);
  if (ec != std::errc()) return std::string(em_dash);
  return std::string(buf, end);
}

}  // namespace

void append_escaped(std::string& out, std::string_view text) {
  std::string repaired(text);
  formats::detail::repair_utf8(repaired);
  formats::detail::append_xml_attr_escaped(out, repaired);
}

std::string escaped(std::string_view text) {
  std::string out;
  append_escaped(out, text);
  return out;
}

std::string count_text(std::uint64_t n) {
  return group_thousands(std::to_string(n));
}

std::string number_text(double v, int decimals) {
  if (!std::isfinite(v)) return std::string(em_dash);
  if (std::fabs(v) >= 1e15) {
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific, 3);
    return ec == std::errc() ? std::string(buf, end) : std::string(em_dash);
  }
  std::string digits = fixed(std::fabs(v), decimals);
  const bool zero = digits.find_first_not_of("0.") == std::string::npos;  // -0.001 shows as 0.00
  return (v < 0 && !zero ? "-" : "") + group_thousands(digits);
}

std::string ms_text(double ms) {
  if (!std::isfinite(ms)) return std::string(em_dash);
  const double a = std::fabs(ms);
  const int decimals = a == 0 ? 0 : a < 1 ? 3 : a < 10 ? 2 : a < 100 ? 1 : 0;
  return number_text(ms, decimals) + " ms";
}

std::string seconds_text(double s) {
  if (!std::isfinite(s)) return std::string(em_dash);
  const double a = std::fabs(s);
  const int decimals = a < 10 ? 2 : a < 100 ? 1 : 0;
  return number_text(s, decimals) + " s";
}

std::string tick_text(double v) {
  if (!std::isfinite(v)) return std::string(em_dash);
  const double a = std::fabs(v);
  struct unit { double scale; const char* suffix; };
  static constexpr unit units[] = {{1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}};
  if (a >= 1e15) {  // short scientific, to fit the axis's margin: "1.2e300"
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific, 1);
    std::string t = ec == std::errc() ? std::string(buf, end) : std::string(em_dash);
    if (const auto plus = t.find("e+"); plus != std::string::npos) t.erase(plus + 1, 1);
    if (t.find(".0e") != std::string::npos) t.erase(t.find(".0e"), 2);
    return t;
  }
  for (const unit& u : units) {
    if (a >= u.scale) {
      // Shortest form that round-trips at 3 significant digits: 2.5k, 12k, 125k.
      char buf[32];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, std::round(v / u.scale * 100) / 100);
      return ec == std::errc() ? std::string(buf, end) + u.suffix : std::string(em_dash);
    }
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, std::round(v * 1000) / 1000);
  std::string s = ec == std::errc() ? std::string(buf, end) : std::string(em_dash);
  return s == "-0" ? "0" : s;
}

std::string coord(double v) {
  if (!std::isfinite(v)) v = 0;
  // Coordinates stay near the drawing; a clamp keeps one wild value from printing 300 digits.
  if (v > 1e6) v = 1e6;
  if (v < -1e6) v = -1e6;
  std::string s = fixed(v, 1);
  if (s.size() > 2 && s.ends_with(".0")) s.resize(s.size() - 2);
  return s == "-0" ? "0" : s;
}

}  // namespace syndic::testkit::report_detail
