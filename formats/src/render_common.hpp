#pragma once
// Pieces shared by the XML renderers: namespace prefixes for pass-through extensions,
// element writers, the text-to-HTML conversions between syntaxes, and the guards that keep
// every output well-formed whatever the model holds (names, xhtml, IRIs).

#include <syndic/formats/diagnostic.hpp>
#include <syndic/formats/model.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace syndic::formats::detail {

// What a renderer left out or rewrote (an extension whose name is no XML name, xhtml that is
// not well-formed). Null when the caller does not ask: rendering never fails.
class render_notes {
public:
  explicit render_notes(std::vector<diagnostic>* out) : out_(out) {}
  void add(std::string message);

private:
  std::vector<diagnostic>* out_;
};

// XML's NCName (a Name without ':'; Namespaces in XML 1.0), restricted to ASCII so that
// readers on XML 1.0 fourth edition's name tables (expat) accept it too.
bool is_ncname(std::string_view s);
// prefix:local or local, each an NCName.
bool is_qname(std::string_view s);

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
// (an unqualified extension under a default namespace gets xmlns=""). An element whose name
// is no NCName, or in a namespace no element may use, is dropped with its children; so is an
// attribute with such a name, or one written twice. Each drop is noted. False: dropped.
bool write_extension(std::string& out, const extension& x, const prefix_map& prefixes,
                     bool default_ns, render_notes& notes);

// True when escaping leaves nothing but XML whitespace of `value` (it is empty, or holds only
// characters XML cannot carry, such as U+FFFF): such a value cannot fill a required element.
bool blank(std::string_view value);

// <name>escaped</name>, skipped when value is blank.
void element(std::string& out, std::string_view name, std::string_view value);
void attribute(std::string& out, std::string_view name, std::string_view value);

// <media:thumbnail url=".." .../> and <media:content .../>: Media RSS in RSS and Atom alike.
void write_media(std::string& out, std::string_view name, const media_object& m);

// Content for an HTML-only slot (RSS description): text is escaped into HTML.
std::string as_html(std::string_view value, text_type type);
// Content for a text-only slot (RSS title): HTML tags stripped, entities decoded.
std::string as_text(std::string_view value, text_type type);

// An xhtml value re-serialised from a parse, so that it can be written inside an Atom
// <div xmlns="http://www.w3.org/1999/xhtml">: true only when `markup` is well-formed and
// namespace-well-formed as the content of that div (every name valid, every prefix declared,
// no entity but XML's five, no attribute twice). Otherwise the caller sends it as html.
bool xhtml_fragment(std::string_view markup, std::string& out);

// An absolute IRI (RFC 3987): a scheme, then only characters an IRI may hold, and
// well-formed %HH escapes.
bool is_absolute_iri(std::string_view s);
// `s` with what no IRI reference may hold (space, controls, "<>\^`{|}, a '%' that starts no
// escape, C1 controls) percent-encoded: what Atom's href, uri, icon and logo require.
std::string iri_reference(std::string_view s);
// A urn:uuid (version 8, RFC 9562) derived from a and b: the same on every run and machine.
std::string uuid_urn(std::string_view a, std::string_view b);

std::string hex_hash(std::string_view a, std::string_view b, std::string_view c);

}  // namespace syndic::formats::detail
