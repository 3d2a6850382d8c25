#include <syndic/formats/diagnostic.hpp>

#include <charconv>

namespace syndic::formats {

namespace {

// Writes "79,900 more like this" into `out`, reusing its capacity: the summary is rewritten
// for every diagnostic it counts, which can be tens of thousands of times.
void write_summary(std::string& out, std::size_t n) {
  char digits[24];
  const int len = static_cast<int>(std::to_chars(digits, digits + sizeof digits, n).ptr - digits);
  out.clear();
  for (int i = 0; i < len; ++i) {
    if (i && (len - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  out.append(" more like this");
}

}  // namespace

void diagnostics_sink::add(severity level, diag_code code, std::string message,
                           std::size_t offset, std::uint32_t line, std::uint32_t column) {
  const std::size_t c = index(code);
  if (keeps(code, level)) {
    if (level != severity::fatal) ++kept_[c];
    out_.push_back(diagnostic{level, code, std::move(message), offset, line, column});
    return;
  }
  ++dropped_[c];
  if (summary_at_[c] == 0 || summary_at_[c] > out_.size()) {
    out_.push_back(diagnostic{level, code, {}, 0, 0, 0});
    summary_at_[c] = out_.size();
  }
  diagnostic& summary = out_[summary_at_[c] - 1];
  if (level > summary.level) summary.level = level;
  write_summary(summary.message, dropped_[c]);
}

std::string_view to_string(severity s) {
  switch (s) {
    case severity::warning: return "warning";
    case severity::error: return "error";
    case severity::fatal: return "fatal";
  }
  return "?";
}

std::string_view to_string(diag_code c) {
  switch (c) {
    case diag_code::xml: return "xml";
    case diag_code::entity: return "entity";
    case diag_code::encoding: return "encoding";
    case diag_code::json: return "json";
    case diag_code::date: return "date";
    case diag_code::value: return "value";
    case diag_code::limit: return "limit";
    case diag_code::format: return "format";
  }
  return "?";
}

std::string format_diagnostic(const diagnostic& d) {
  std::string out;
  if (d.line) out += std::to_string(d.line) + ":" + std::to_string(d.column) + ": ";
  out += to_string(d.level);
  out += '[';
  out += to_string(d.code);
  out += "]: ";
  out += d.message;
  return out;
}

}  // namespace syndic::formats
