#pragma once
// Text for the load-test report's HTML page: escaping and numbers formatted for people.
// Locale-independent (std::to_chars), so a report renders the same bytes everywhere. A value
// that is not finite is shown as an em dash in text and never reaches an SVG attribute.

#include <cstdint>
#include <string>
#include <string_view>

namespace syndic::testkit::report_detail {

// text made safe for element content and double-quoted attributes (XHTML-compatible: & < > "
// as entities, invalid UTF-8 repaired to U+FFFD, characters XML cannot hold dropped).
void append_escaped(std::string& out, std::string_view text);
std::string escaped(std::string_view text);

// 1234567 -> "1,234,567".
std::string count_text(std::uint64_t n);
// v with `decimals` digits after the point and thousands separators; huge values (1e15 and
// more) in scientific notation; not finite: an em dash.
std::string number_text(double v, int decimals);
// Milliseconds with a precision that suits the magnitude: "0.042 ms", "4.21 ms", "42.1 ms",
// "421 ms", "12,345 ms".
std::string ms_text(double ms);
// Seconds: "0.35 s", "12.4 s", "1,234 s".
std::string seconds_text(double s);
// An axis tick: "0", "250", "2.5k", "12M", "1.5e+18".
std::string tick_text(double v);
// A coordinate for an SVG attribute: one decimal, and 0 for anything not finite.
std::string coord(double v);

}  // namespace syndic::testkit::report_detail
