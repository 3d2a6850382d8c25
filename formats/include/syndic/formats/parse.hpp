#pragma once
// Parsing: bytes in, a feed and its diagnostics out. No I/O.

#include <syndic/formats/diagnostic.hpp>
#include <syndic/formats/model.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace syndic::formats {

// Limits a hostile feed cannot get past. Exceeding a limit is a diagnostic: items beyond
// max_items are dropped, elements deeper than max_depth are skipped, inputs over max_bytes
// are rejected outright.
struct parse_options {
  std::size_t max_bytes = 64u << 20;
  std::size_t max_items = 100'000;
  std::size_t max_depth = 128;
  // Diagnostics listed per code; the rest are counted in one "N more like this" line.
  std::size_t max_diagnostics_per_code = diagnostics_sink::default_max_per_code;
  // Where the document was fetched from: the base for relative links (after xml:base).
  std::string document_url;
  // Charset from the transport (e.g. Content-Type). Order of authority, as in browsers and
  // RFC 3023: byte-order mark, then this, then the XML declaration, then UTF-8 (with a
  // windows-1252 fallback for bytes that are not UTF-8).
  std::string transport_charset;
};

struct parse_result {
  std::optional<feed> value;              // empty only when the input holds no feed
  std::vector<diagnostic> diagnostics;    // in input order
  bool ok() const { return value.has_value(); }
  // True when anything was recovered from (feedparser calls such a feed "bozo").
  bool recovered() const;
};

enum class input_kind : std::uint8_t { unknown, xml, json };

// Sniffs the syntax by content: skips BOM and whitespace, then '<' means XML, '{' JSON.
input_kind detect_input_kind(std::string_view bytes);

// Reads RSS 0.9x/1.0/2.0, Atom 0.3/1.0 or JSON Feed 1.0/1.1, detected by content.
parse_result parse(std::string_view bytes, const parse_options& options = {});

parse_result parse_xml(std::string_view bytes, const parse_options& options = {});
parse_result parse_json(std::string_view bytes, const parse_options& options = {});

}  // namespace syndic::formats
