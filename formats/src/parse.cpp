#include "parse_common.hpp"

#include <syndic/formats/parse.hpp>

namespace syndic::formats {

namespace detail {

bool within_size_limit(std::string_view bytes, const parse_options& options,
                       diagnostics_sink& diags) {
  if (bytes.size() <= options.max_bytes) return true;
  diags.add(severity::fatal, diag_code::limit,
            "document is " + std::to_string(bytes.size()) + " bytes, over the limit of " +
                std::to_string(options.max_bytes));
  return false;
}

}  // namespace detail

bool parse_result::recovered() const {
  for (const auto& d : diagnostics)
    if (d.code == diag_code::xml || d.code == diag_code::entity ||
        d.code == diag_code::encoding || d.code == diag_code::json)
      return true;
  return false;
}

input_kind detect_input_kind(std::string_view b) {
  // Byte-order marks first: UTF-16/32 documents are XML or JSON all the same.
  if (b.starts_with("\xEF\xBB\xBF")) b.remove_prefix(3);
  for (char c : b) {
    switch (c) {
      case ' ': case '\t': case '\r': case '\n': case '\0': continue;
      case '<': return input_kind::xml;
      case '{': return input_kind::json;
      default:
        // UTF-16/32 byte-order marks (FE FF, FF FE) and the zero bytes of their ASCII
        // characters are skipped: the first real character decides.
        if (static_cast<unsigned char>(c) >= 0xFE) continue;
        return input_kind::unknown;
    }
  }
  return input_kind::unknown;
}

parse_result parse(std::string_view bytes, const parse_options& options) {
  switch (detect_input_kind(bytes)) {
    case input_kind::json: return parse_json(bytes, options);
    case input_kind::xml: return parse_xml(bytes, options);
    case input_kind::unknown: break;
  }
  // Junk before the XML (a PHP warning, a blank line): XML recovery skips to the first '<'.
  if (bytes.find('<') != std::string_view::npos) return parse_xml(bytes, options);
  parse_result r;
  r.diagnostics.push_back(diagnostic{severity::fatal, diag_code::format,
                                     bytes.empty() ? "the document is empty"
                                                   : "neither XML nor JSON: not a feed",
                                     0, 0, 0});
  return r;
}

}  // namespace syndic::formats
