#pragma once
// Pieces shared by the XML renderers: namespace prefixes for pass-through extensions,
// element writers, and the text-to-HTML conversions between syntaxes.

#include <syndic/formats/model.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace syndic::formats::detail {

// Prefixes for every namespace the extensions of a feed use; declared once on the root.
class prefix_map {
public:
  explicit prefix_map(const feed& f, std::initializer_list<std::string_view> predeclared);
  std::string_view prefix(std::string_view uri) const;  // "" when uri is empty / default
  // Writes xmlns:p="uri" for every namespace that is not predeclared.
  void declare(std::string& out) const;

private:
  void collect(const std::vector<extension>& xs);
  std::vector<std::pair<std::string, std::string>> map_;  // uri -> prefix
  std::size_t predeclared_ = 0;
};

// <p:name a="v">value<children/></p:name>; `default_ns` is the document's default namespace
// (an unqualified extension under a default namespace gets xmlns="").
void write_extension(std::string& out, const extension& x, const prefix_map& prefixes,
                     bool default_ns);

// <name>escaped</name>, skipped when value is empty.
void element(std::string& out, std::string_view name, std::string_view value);
void attribute(std::string& out, std::string_view name, std::string_view value);

// <media:thumbnail url=".." .../> and <media:content .../>: Media RSS in RSS and Atom alike.
void write_media(std::string& out, std::string_view name, const media_object& m);

// Content for an HTML-only slot (RSS description): text is escaped into HTML.
std::string as_html(std::string_view value, text_type type);
// Content for a text-only slot (RSS title): HTML tags stripped, entities decoded.
std::string as_text(std::string_view value, text_type type);

std::string hex_hash(std::string_view a, std::string_view b, std::string_view c);

}  // namespace syndic::formats::detail
