#pragma once
// Independent checks that a rendered feed is well-formed: XML 1.0 + Namespaces in XML (read
// with pugixml, then with expat for what pugixml does not check), and JSON (read with simdjson).

#include "check.hpp"

#include <expat.h>
#include <pugixml.hpp>
#include <simdjson.h>

#include <string>
#include <string_view>

namespace syndic::fuzz {

// XML 1.0 section 2.2: Char ::= #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].
// `s` is valid UTF-8.
inline std::size_t first_non_xml_char(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 && c != 0x09 && c != 0x0A && c != 0x0D) return i;
    // U+FFFE and U+FFFF: EF BF BE / EF BF BF.
    if (c == 0xEF && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0xBF &&
        (static_cast<unsigned char>(s[i + 2]) & 0xFE) == 0xBE)
      return i;
  }
  return std::string_view::npos;
}

// True when the tag around `at`, or one within 1 KiB after it (expat reports the start of the
// bad token or of the text before it), has an element or attribute name with non-ASCII in it:
// names that XML 1.0 fifth edition allows (U+20AC, U+FFFD, ...) and earlier editions, which expat
// implements, do not.
inline bool non_ascii_name(std::string_view xml, std::size_t at) {
  auto from = xml.rfind('<', at);  // `at` may also point into the tag
  for (auto lt = xml.find('<', from == std::string_view::npos ? at : from);
       lt != std::string_view::npos && lt <= at + 1024; lt = xml.find('<', lt + 1)) {
    char quote = 0;
    for (std::size_t i = lt + 1; i < xml.size() && i < lt + 4096; ++i) {
      auto c = static_cast<unsigned char>(xml[i]);
      if (quote) {
        if (c == static_cast<unsigned char>(quote)) quote = 0;
      } else if (c == '"' || c == '\'') {
        quote = static_cast<char>(c);
      } else if (c == '>' || c == '<') {
        break;
      } else if (c >= 0x80) {
        return true;
      }
    }
  }
  return false;
}

// Expat checks what pugixml, a lenient reader, lets through: Namespaces in XML (unbound
// prefixes, "a:b:c" names), undefined entities, '<' in attribute values, repeated attributes.
inline void check_with_expat(std::string_view xml, std::string_view label) {
  // The separator is a character XML cannot contain, so no namespace name is refused for it.
  XML_Parser p = XML_ParserCreateNS("UTF-8", '\x01');
  bool ok = XML_Parse(p, xml.data(), static_cast<int>(xml.size()), 1) == XML_STATUS_OK;
  if (!ok) {
    auto code = XML_GetErrorCode(p);
    auto at = static_cast<std::size_t>(XML_GetCurrentByteIndex(p));
    std::string why = std::string(label) + ": expat: " + XML_ErrorString(code) + " " + around(xml, at);
    // Reported apart: valid XML 1.0 (5th edition), refused by expat-based readers (feedparser).
    bool edition = code == XML_ERROR_INVALID_TOKEN && non_ascii_name(xml, at);
    XML_ParserFree(p);
    check(false, edition ? "xml-name-ed4" : "xml-strict", why, xml);
    return;
  }
  XML_ParserFree(p);
}

// `root` is the expected document element ("rss", "feed").
inline void check_xml(std::string_view xml, std::string_view label, std::string_view root) {
  if (auto bad = invalid_utf8_at(xml); bad != std::string_view::npos) {
    check(false, "xml-utf8", std::string(label) + ": output is not valid UTF-8, " + around(xml, bad), xml);
    return;  // skipped: the checks below assume UTF-8
  }
  if (auto bad = first_non_xml_char(xml); bad != std::string_view::npos)
    check(false, "xml-chars", std::string(label) + ": character XML 1.0 does not allow, " + around(xml, bad), xml);
  pugi::xml_document doc;
  auto r = doc.load_buffer(xml.data(), xml.size(),
                           pugi::parse_default | pugi::parse_declaration | pugi::parse_doctype,
                           pugi::encoding_utf8);
  if (!r) {
    check(false, "xml-parse",
          std::string(label) + ": pugixml: " + r.description() + " " + around(xml, static_cast<std::size_t>(r.offset)),
          xml);
    return;
  }
  check(std::string_view(doc.document_element().name()) == root, "xml-root",
        std::string(label) + ": document element is <" + doc.document_element().name() + ">", xml);
  check_with_expat(xml, label);
}

inline void check_json(std::string_view json, std::string_view label) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  auto err = parser.parse(json.data(), json.size()).get(doc);
  if (err) {
    check(false, "json-parse", std::string(label) + ": simdjson: " + simdjson::error_message(err), json);
    return;
  }
  simdjson::dom::object o;
  bool feed = !doc.get(o);
  std::string_view version;
  simdjson::dom::array items;
  feed = feed && !o["version"].get(version) && !o["items"].get(items);
  std::string_view title;
  feed = feed && !o["title"].get(title);
  check(feed, "json-feed", std::string(label) + ": not a JSON Feed (version, title, items)", json);
}

}  // namespace syndic::fuzz
