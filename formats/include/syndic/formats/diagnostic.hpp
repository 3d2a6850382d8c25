#pragma once
// Diagnostics: what a parser noticed, where, and whether the feed was still usable.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace syndic::formats {

enum class severity : std::uint8_t {
  warning,  // recovered: the feed is complete despite it (an unparseable date, an HTML entity)
  error,    // recovered with loss: part of the document could not be read (truncation)
  fatal,    // no feed could be read at all
};

// What a diagnostic is about, so tools can tell a malformed document (feedparser's "bozo")
// from a merely odd value. Printed as e.g. "warning[xml]".
enum class diag_code : std::uint8_t {
  xml,       // not well-formed XML: bare '&', mismatched or unclosed tags, junk
  entity,    // an HTML entity XML does not define (decoded anyway)
  encoding,  // wrong or undeclared charset, invalid bytes replaced
  json,      // malformed JSON
  date,      // an unparseable date (left absent)
  value,     // another unusable value (a bad number, an unknown version)
  limit,     // a configured limit was hit (size, items, depth)
  format,    // the document is no feed
};

struct diagnostic {
  severity level = severity::warning;
  diag_code code = diag_code::value;
  std::string message;
  std::size_t offset = 0;  // byte offset in the input as given (before re-encoding), if known
  std::uint32_t line = 0;  // 1-based; 0 when unknown
  std::uint32_t column = 0;
};

// Appends diagnostics, at most `max_per_code` of each code: a feed that makes one mistake
// 80,000 times gets 100 diagnostics and one summary ("warning[xml]: 79,900 more like this"),
// not 80,000 lines. Fatal diagnostics are always kept. The summary is written where the first
// dropped diagnostic would have been and its count kept current, so the list is complete at
// any time (no finishing call to forget on an early return).
class diagnostics_sink {
public:
  static constexpr std::size_t default_max_per_code = 100;

  explicit diagnostics_sink(std::vector<diagnostic>& out,
                            std::size_t max_per_code = default_max_per_code)
      : out_(out), max_per_code_(max_per_code) {}
  void add(severity level, diag_code code, std::string message, std::size_t offset = 0,
           std::uint32_t line = 0, std::uint32_t column = 0);
  // Whether add() would keep a diagnostic of this code and level. Callers check it before
  // doing work only a kept diagnostic needs (its line and column).
  bool keeps(diag_code code, severity level) const {
    return level == severity::fatal || kept_[index(code)] < max_per_code_;
  }
  // Diagnostics of `code` counted in a summary instead of listed.
  std::size_t dropped(diag_code code) const { return dropped_[index(code)]; }
  std::vector<diagnostic>& list() { return out_; }

private:
  static constexpr std::size_t codes = 8;  // diag_code's enumerators
  static std::size_t index(diag_code c) { return static_cast<std::size_t>(c) % codes; }

  std::vector<diagnostic>& out_;
  std::size_t max_per_code_;
  std::size_t kept_[codes] = {};
  std::size_t dropped_[codes] = {};
  std::size_t summary_at_[codes] = {};  // 1 + index of the summary in out_; 0 when none yet
};

// "line:column: warning[xml]: message" (or "warning[xml]: message" without a position).
std::string format_diagnostic(const diagnostic& d);
std::string_view to_string(severity s);
std::string_view to_string(diag_code c);

}  // namespace syndic::formats
