#include <syndic/formats/diagnostic.hpp>

namespace syndic::formats {

void diagnostics_sink::add(severity level, diag_code code, std::string message,
                           std::size_t offset, std::uint32_t line, std::uint32_t column) {
  out_.push_back(diagnostic{level, code, std::move(message), offset, line, column});
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
