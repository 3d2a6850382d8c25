#pragma once
// The XML layer shared by the RSS and Atom readers: namespace resolution by URI, xml:base
// and xml:lang inheritance, entity decoding, inner-markup serialisation, depth limits and
// diagnostics with line and column. pugixml parses without escape processing so that our
// own decoder sees every '&' (HTML entities and bare ampersands are recovered, not fatal).

#include <syndic/formats/diagnostic.hpp>
#include <syndic/formats/parse.hpp>

#include "html_urls.hpp"

#include <pugixml.hpp>

#include <cstddef>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace syndic::formats::detail {

struct ns_binding {
  std::string_view prefix;  // "" for the default namespace
  std::string_view uri;
};

// What an element inherits from its ancestors. Lives on the walker's stack; a scope is only
// valid while its parent is.
struct xml_scope {
  const xml_scope* parent = nullptr;
  // The nearest ancestor that declares namespaces: lookups skip the scopes that declare none.
  const xml_scope* ns_parent = nullptr;
  std::vector<ns_binding> bindings;  // declared on this element only; sorted by prefix (stable)
                                     // when there are many, so a lookup stays logarithmic
  std::string own_base;              // set when this element carries xml:base
  const std::string* base = nullptr; // effective base (own_base or an ancestor's)
  std::string_view lang;             // effective xml:lang
  std::size_t depth = 0;

  std::string_view lookup(std::string_view prefix) const;
};

// Line and column (1-based) of byte offsets in one buffer. One pass over the buffer, made on
// the first query, records a checkpoint every 4 KiB; a query then scans at most 4 KiB. A
// diagnostic late in a large document costs the same as an early one, in any order.
class line_index {
public:
  explicit line_index(std::string_view text) : text_(text) {}
  std::pair<std::uint32_t, std::uint32_t> at(std::size_t offset);

private:
  static constexpr std::size_t stride = 4096;
  struct checkpoint {
    std::uint32_t line;      // of the byte at the checkpoint
    std::size_t line_start;  // offset where that line starts
  };
  void build();

  std::string_view text_;
  std::vector<checkpoint> checkpoints_;
  bool built_ = false;
};

// An element with its name resolved to (namespace URI, local name).
struct xml_element {
  pugi::xml_node node;
  std::string_view ns;
  std::string_view name;
  bool is(std::string_view uri, std::string_view local) const { return ns == uri && name == local; }
};

class xml_reader {
public:
  xml_reader(const parse_options& options, diagnostics_sink& diags, std::string_view buffer,
             std::size_t buffer_origin);

  // Builds the scope of `node` (its own xmlns, xml:base, xml:lang) under `parent`.
  void enter(const xml_scope* parent, pugi::xml_node node, xml_scope& out,
             const std::string* document_base);
  xml_element resolve(const xml_scope& scope, pugi::xml_node node);

  // Calls f(xml_element, const xml_scope&) for each element child of `parent`, skipping (and
  // reporting once) children deeper than the depth limit.
  template <class F>
  void for_each_child(const xml_scope& scope, pugi::xml_node parent, F&& f) {
    for (pugi::xml_node c = parent.first_child(); c; c = c.next_sibling()) {
      if (c.type() != pugi::node_element) continue;
      if (scope.depth + 1 > options_.max_depth) {
        depth_exceeded(c);
        continue;
      }
      xml_scope cs;
      enter(&scope, c, cs, nullptr);
      f(resolve(cs, c), static_cast<const xml_scope&>(cs));
    }
  }

  // Decoded, trimmed character content. Child elements (markup that should have been
  // escaped) are serialised back to markup so nothing is silently dropped.
  std::string text(const xml_scope& scope, pugi::xml_node node);
  // Decoded value of an attribute (empty if absent), trimmed.
  std::string attr(pugi::xml_node node, const char* name);
  // Same, for an attribute in hand (a lookup by name would make a walk over every attribute
  // quadratic, and would read the first of duplicated names twice).
  std::string attr(pugi::xml_node node, pugi::xml_attribute a);
  // An attribute looked up by namespace URI and local name (e.g. rdf:about).
  std::string attr_ns(const xml_scope& scope, pugi::xml_node node, std::string_view uri,
                      std::string_view local);
  // Children of `node` as markup (for Atom xhtml and inline XML content).
  std::string inner_markup(const xml_scope& scope, pugi::xml_node node, bool strip_xhtml_div);
  // A URI value resolved against the effective base.
  std::string url(const xml_scope& scope, std::string_view ref);

  // True when a diagnostic of this code and level will be listed: the caller then builds its
  // message and reports it. Otherwise it is counted in the "N more" summary here, and the
  // caller skips the work (tens of thousands of messages nobody will read).
  bool will_list(severity level, diag_code code) {
    if (diags_.keeps(code, level)) return true;
    diags_.add(level, code, {});
    return false;
  }
  void report(pugi::xml_node at, severity level, diag_code code, std::string message);
  // `offset` is in the document given to the constructor.
  void report_offset(std::size_t offset, severity level, diag_code code, std::string message);

  const parse_options& options() const { return options_; }
  // While items are recovered one by one, nodes live in a copy of part of the document:
  // node offsets plus this shift are offsets in the document (0 otherwise).
  void set_node_shift(std::ptrdiff_t shift) { node_shift_ = shift; }
  // Set once the item limit has been reported, so a huge feed gets one diagnostic.
  bool item_limit_reported = false;
  // The namespace a feed put its core elements in when it is not the standard one
  // (<rss xmlns="http://backend.userland.com/rss2">, Atom 0.3 drafts): read as core.
  std::string_view core_alias;
  // Text-only entities declared in the internal DTD subset (<!ENTITY id "tag:...">). Only
  // values without '&', '%' or '<' are kept, so no expansion can recurse or grow.
  std::vector<std::pair<std::string, std::string>> dtd_entities;

  // Like text(), for HTML content: relative URLs inside the markup are made absolute.
  std::string html(const xml_scope& scope, pugi::xml_node node);
  // Relative URLs inside `markup` made absolute against the scope's base (within the budget).
  std::string resolve_markup_urls(const xml_scope& scope, std::string markup, pugi::xml_node at);
  diagnostics_sink& diags() { return diags_; }

private:
  void depth_exceeded(pugi::xml_node at);
  // resolve_url within urls_; `ref` as it was when the budget is spent.
  std::string resolve(std::string_view base, std::string_view ref, pugi::xml_node at);
  void report_url_budget(pugi::xml_node at);
  std::size_t node_offset(pugi::xml_node at) const;
  // Replaces references to the internal subset's entities in `raw` (one pass, within
  // entity_budget_), returning `raw` itself when there is nothing to replace.
  std::string_view expand_declared(std::string_view raw, std::string& expanded,
                                   pugi::xml_node at);
  void decode(std::string_view raw, std::string& out, pugi::xml_node at);
  // An attribute value with its references decoded, for values scopes keep as views
  // (namespace URIs, xml:lang): `raw` itself when it has none, else a copy kept in
  // decoded_values_ for the reader's lifetime (a deque: growing it never moves a string).
  std::string_view decoded_value(std::string_view raw, pugi::xml_node at);
  void serialize(const xml_scope& scope, pugi::xml_node node, std::string& out);

  const parse_options& options_;
  diagnostics_sink& diags_;
  std::string_view buffer_;
  std::size_t origin_;  // offset of buffer_ in the input as given (leading junk skipped)
  line_index lines_;
  std::ptrdiff_t node_shift_ = 0;
  // Bytes the internal subset's entities may still add to the document's text: twice the
  // input plus 64 KiB, so 30 KB of "&e;" cannot become megabytes. Spent across the document.
  std::size_t entity_budget_;
  bool entity_budget_reported_ = false;
  // Bytes URL resolution may produce: four times the input plus 64 KiB (see url_budget).
  url_budget urls_;
  bool url_budget_reported_ = false;
  bool depth_reported_ = false;
  std::size_t entity_reports_ = 0;
  std::deque<std::string> decoded_values_;
};

// Maps U+0080..U+009F (windows-1252 punctuation mislabelled as latin-1) to what was meant.
void repair_c1_controls(std::string& s);

}  // namespace syndic::formats::detail
