#pragma once
// Charset detection and conversion to UTF-8 for feed documents. Feeds lie about their encoding
// often enough (servers default to iso-8859-1, templates hard-code a declaration the database
// does not honour) that every decision here is lenient: it never fails, it reports.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace syndic::formats::detail {

struct decoded_text {
  std::string utf8;     // the document in UTF-8, BOM removed; empty when `unchanged`
  std::string charset;  // canonical lower-case name of what was used: "utf-8", "utf-16le",
                        // "windows-1252", "shift_jis", ...
  // What a reader calls it when that differs from `charset` (the decoder): "iso-8859-1" for a
  // latin-1 label read as windows-1252, "us-ascii" for ASCII text so declared. Else empty.
  std::string name;
  std::vector<std::string> problems;  // human-readable, one per thing worth a diagnostic
  // The input minus its first `skipped` bytes (a UTF-8 BOM, if any) is already valid UTF-8 and
  // was not copied; use text(bytes) to get whichever applies.
  bool unchanged = false;
  std::size_t skipped = 0;

  // The UTF-8 text: `bytes` must be the input this was decoded from.
  std::string_view text(std::string_view bytes) const {
    return unchanged ? bytes.substr(skipped < bytes.size() ? skipped : bytes.size())
                     : std::string_view(utf8);
  }
};

// Decides the charset of an XML document and converts it to UTF-8. Authority, strongest first:
//  1. a byte-order mark (UTF-8, UTF-16 LE/BE, UTF-32 LE/BE);
//  2. the zero-byte pattern of UTF-16/32 without a BOM (XML 1.0 appendix F) — bytes cannot
//     lie about that, so a transport or declared charset that disagrees is ignored;
//  3. transport_charset (the charset parameter of Content-Type), if non-empty and known;
//  4. the encoding="" of the XML declaration;
//  5. UTF-8.
// iso-8859-1 and us-ascii are read as windows-1252, like browsers do. Text claimed to be UTF-8
// (or us-ascii, or nothing) that is not valid UTF-8 is read as windows-1252 — unless most of
// its non-ASCII sequences are valid UTF-8 (then it is damaged UTF-8 and the bad bytes become
// U+FFFD), or a BOM said UTF-8. Conversely, a windows-1252-family claim, or a transport claim
// contradicted by an utf-8 declaration, loses against bytes that are valid UTF-8 with non-ASCII
// in them: legacy-encoded text essentially never forms valid multi-byte UTF-8 by accident.
// Undecodable bytes become U+FFFD. The result (utf8 or the unchanged input) is valid UTF-8.
// The XML declaration is left in place: the caller must tell its parser the text is UTF-8.
decoded_text decode_xml_bytes(std::string_view bytes, std::string_view transport_charset);

// For JSON: UTF-8 (BOM stripped), or UTF-16/32 told by a BOM or the zero-byte pattern of the
// first characters (RFC 4627 section 3). RFC 8259 requires UTF-8, so the others are noted as
// problems; invalid UTF-8 is handled as in decode_xml_bytes.
decoded_text decode_json_bytes(std::string_view bytes);

// The canonical name decode_xml_bytes would use for a charset label ("Latin1" →
// "windows-1252", "SJIS" → "shift_jis", "UTF-16" → "utf-16"), or "" if it knows no such
// charset. Labels are matched ignoring case and punctuation ("utf8", "UTF_8", "utf-8").
std::string canonical_charset(std::string_view label);

}  // namespace syndic::formats::detail
