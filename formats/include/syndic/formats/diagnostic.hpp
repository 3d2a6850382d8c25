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

// Appends diagnostics; knows the original input to turn an offset into line and column.
class diagnostics_sink {
public:
  explicit diagnostics_sink(std::vector<diagnostic>& out) : out_(out) {}
  void add(severity level, diag_code code, std::string message, std::size_t offset = 0,
           std::uint32_t line = 0, std::uint32_t column = 0);
  std::vector<diagnostic>& list() { return out_; }

private:
  std::vector<diagnostic>& out_;
};

// "line:column: warning[xml]: message" (or "warning[xml]: message" without a position).
std::string format_diagnostic(const diagnostic& d);
std::string_view to_string(severity s);
std::string_view to_string(diag_code c);

}  // namespace syndic::formats
