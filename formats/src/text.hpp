#pragma once
// Text primitives shared by the format parsers and renderers: entity decoding (we parse XML
// without pugixml's escape processing so that HTML entities, which feeds use everywhere, can be
// decoded and reported), escaping for XML and JSON output, and UTF-8 validation and repair.
// Every function accepts arbitrary bytes; none of them throws except std::bad_alloc.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace syndic::formats::detail {

// What decode_entities met that a strict XML parser would have rejected. The parser turns these
// into diagnostics; the decoded text is usable either way.
struct entity_stats {
  std::size_t html_named = 0;       // named entities XML does not define but HTML does (&nbsp;),
                                    // including legacy forms without ';' (&copy) — decoded
  std::size_t unknown = 0;          // &bogus; — kept literally
  std::size_t bare_ampersands = 0;  // '&' not starting a reference — kept literally
  std::size_t bad_numeric = 0;      // &#0; &#xD800; &#x110000; &#1; (→ U+FFFD), &#150; (read as
                                    // windows-1252, as HTML does), &#233 without ';' — decoded
  std::size_t first_problem = std::string_view::npos;  // offset in `raw` of the first of these
};

// Which named references decode_entities knows.
enum class entity_set : std::uint8_t {
  html,  // the 5 XML entities and all of HTML's (what feeds mean, whatever they declare)
  xml,   // only &amp; &lt; &gt; &quot; &apos;; HTML names count as unknown and stay as written
};

// Decodes entity and character references in `raw` and appends the result to `out` as UTF-8:
// the 5 XML entities; &#NNN; and &#xHHH; (0, surrogates, code points above U+10FFFF and those
// XML 1.0 forbids become U+FFFD; 0x80-0x9F are read as windows-1252 like HTML does, since that
// is what the author meant); and with entity_set::html every WHATWG named reference, case
// sensitive, with ';' — or without it for HTML's legacy names (&amp &copy &nbsp) when not
// followed by '=' (the rule HTML uses in attributes, so "?a=1&copy=2" in a URL survives).
// Anything else is copied literally and counted in `stats`.
void decode_entities(std::string_view raw, std::string& out, entity_stats* stats = nullptr,
                     entity_set set = entity_set::html);

// The UTF-8 value of an HTML named reference ("eacute" → "é"; name without '&' and ';'), or an
// empty view if HTML defines no such name. Implemented in the generated html_entities.cpp.
std::string_view lookup_html_entity(std::string_view name_without_amp_and_semicolon);
// Same, but only for the legacy names HTML accepts without a semicolon ("amp", "copy", "nbsp").
std::string_view lookup_legacy_html_entity(std::string_view name_without_amp);
// Length of the longest HTML entity name ("CounterClockwiseContourIntegral"); longer names can
// be rejected without a lookup.
inline constexpr std::size_t max_html_entity_name = 31;

// Removes XML whitespace (space, tab, CR, LF) from both ends. Not Unicode whitespace: an
// NBSP at the end of a title is content.
std::string_view trim(std::string_view s);

// Appends cp as UTF-8; surrogates and values above U+10FFFF become U+FFFD.
void append_utf8(std::string& out, char32_t cp);

// The code point windows-1252 (as WHATWG defines it) gives to byte b; the five bytes
// Microsoft left undefined map to the C1 control of the same value.
char32_t windows_1252_code_point(unsigned char b);

// Escaping for XML output. Input is expected to be UTF-8 (invalid bytes are copied through).
// Text: & < > become entities, CR becomes &#13; (a parser would turn a literal CR into LF).
// Characters XML 1.0 cannot represent at all (C0 controls other than tab/LF/CR, U+FFFE, U+FFFF)
// are dropped: there is no escape for them.
void append_xml_escaped(std::string& out, std::string_view text);
// Attribute values additionally escape " and also tab and LF, which attribute-value
// normalisation would otherwise turn into spaces.
void append_xml_attr_escaped(std::string& out, std::string_view text);

// JSON string body (no surrounding quotes): " and \ and control characters (\n \t \r \b \f,
// others \u00XX). Non-ASCII UTF-8 passes through unchanged, as RFC 8259 allows.
void append_json_escaped(std::string& out, std::string_view text);

// Whether s is well-formed UTF-8 (Unicode 15 table 3-7: no overlongs, no surrogates, nothing
// above U+10FFFF, no truncated sequences).
bool is_valid_utf8(std::string_view s);

// A count of what s contains, to guess whether text that is not valid UTF-8 is damaged UTF-8
// or another encoding altogether.
struct utf8_census {
  std::size_t multibyte = 0;          // well-formed sequences of 2-4 bytes
  std::size_t invalid_sequences = 0;  // maximal ill-formed subparts (each would be one U+FFFD)
  std::size_t invalid_bytes = 0;      // bytes in them
  std::size_t first_invalid = std::string_view::npos;
};
utf8_census scan_utf8(std::string_view s);

// Replaces each maximal ill-formed subsequence (the Unicode "best practice" also used by
// WHATWG's decoder: F0 9F 98 followed by 'A' is one U+FFFD, not three) with U+FFFD. Returns the
// number of replacements; valid input is left untouched and costs one scan.
std::size_t repair_utf8(std::string& s);

}  // namespace syndic::formats::detail
