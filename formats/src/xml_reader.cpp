#include "xml_reader.hpp"

#include "html_urls.hpp"
#include "namespaces.hpp"
#include "text.hpp"
#include "url.hpp"

#include <algorithm>
#include <cstring>

namespace syndic::formats::detail {
namespace {

// After this many entity diagnostics per document, stop: a feed full of &nbsp; is one problem.
constexpr std::size_t max_entity_reports = 3;

// A scope with more namespace declarations than this keeps them sorted for binary search.
constexpr std::size_t sorted_bindings = 8;

std::string_view prefix_of(std::string_view qname) {
  auto colon = qname.find(':');
  return colon == std::string_view::npos ? std::string_view{} : qname.substr(0, colon);
}

std::string_view local_of(std::string_view qname) {
  auto colon = qname.find(':');
  return colon == std::string_view::npos ? qname : qname.substr(colon + 1);
}

bool is_void_html_element(std::string_view name) {
  static constexpr std::string_view voids[] = {"area", "base", "br",   "col",   "embed",
                                               "hr",   "img",  "input", "link", "meta",
                                               "source", "track", "wbr"};
  return std::find(std::begin(voids), std::end(voids), name) != std::end(voids);
}

}  // namespace

std::string_view xml_scope::lookup(std::string_view prefix) const {
  for (const xml_scope* s = bindings.empty() ? ns_parent : this; s; s = s->ns_parent) {
    if (s->bindings.size() > sorted_bindings) {
      auto it = std::lower_bound(s->bindings.begin(), s->bindings.end(), prefix,
                                 [](const ns_binding& b, std::string_view p) { return b.prefix < p; });
      if (it != s->bindings.end() && it->prefix == prefix) return it->uri;
      continue;
    }
    for (const auto& b : s->bindings)
      if (b.prefix == prefix) return b.uri;
  }
  if (prefix == "xml") return ns::xml;
  return {};
}

void line_index::build() {
  built_ = true;
  checkpoints_.reserve(text_.size() / stride + 1);
  checkpoint cp{1, 0};
  for (std::size_t at = 0;; at += stride) {
    checkpoints_.push_back(cp);
    if (at + stride > text_.size()) break;
    std::string_view block = text_.substr(at, stride);
    auto newlines = static_cast<std::uint32_t>(std::count(block.begin(), block.end(), '\n'));
    if (newlines) {
      cp.line += newlines;
      cp.line_start = at + block.rfind('\n') + 1;
    }
  }
}

std::pair<std::uint32_t, std::uint32_t> line_index::at(std::size_t offset) {
  if (!built_) build();
  offset = std::min(offset, text_.size());
  const checkpoint& cp = checkpoints_[std::min(offset / stride, checkpoints_.size() - 1)];
  const std::size_t from = (offset / stride) * stride;
  std::string_view part = text_.substr(std::min(from, offset), offset - std::min(from, offset));
  std::uint32_t line = cp.line;
  std::size_t line_start = cp.line_start;
  if (auto last = part.rfind('\n'); last != std::string_view::npos) {
    line += static_cast<std::uint32_t>(std::count(part.begin(), part.end(), '\n'));
    line_start = from + last + 1;
  }
  return {line, static_cast<std::uint32_t>(offset - line_start + 1)};
}

xml_reader::xml_reader(const parse_options& options, diagnostics_sink& diags,
                       std::string_view buffer, std::size_t buffer_origin)
    : options_(options),
      diags_(diags),
      buffer_(buffer),
      origin_(buffer_origin),
      lines_(buffer),
      entity_budget_(2 * buffer.size() + (64u << 10)),
      urls_{4 * buffer.size() + (64u << 10)} {}

std::string xml_reader::resolve(std::string_view base, std::string_view ref, pugi::xml_node at) {
  if (base.empty() || ref.empty() || has_scheme(ref)) return std::string(ref);
  if (!urls_.spend(base, ref)) {
    report_url_budget(at);
    return std::string(ref);
  }
  return resolve_reference(base, ref);
}

void xml_reader::report_url_budget(pugi::xml_node at) {
  if (url_budget_reported_ || !urls_.ran_out) return;
  url_budget_reported_ = true;
  report(at, severity::error, diag_code::limit,
         "resolved URLs would exceed " + std::to_string(4 * buffer_.size() + (64u << 10)) +
             " bytes (long base URLs): further relative URLs are left as written");
}

std::string xml_reader::resolve_markup_urls(const xml_scope& scope, std::string markup,
                                            pugi::xml_node at) {
  if (!scope.base || scope.base->empty() || markup.find('<') == std::string::npos) return markup;
  std::string out = resolve_html_urls(markup, *scope.base, &urls_);
  report_url_budget(at);
  return out;
}

void xml_reader::enter(const xml_scope* parent, pugi::xml_node node, xml_scope& out,
                       const std::string* document_base) {
  out.parent = parent;
  out.depth = parent ? parent->depth + 1 : 0;
  out.base = parent ? parent->base : document_base;
  out.lang = parent ? parent->lang : std::string_view{};
  out.ns_parent = parent ? (parent->bindings.empty() ? parent->ns_parent : parent) : nullptr;
  for (pugi::xml_attribute a = node.first_attribute(); a; a = a.next_attribute()) {
    const char* n = a.name();
    if (n[0] != 'x' || n[1] != 'm' || n[2] != 'l') continue;  // cheap reject: most attributes
    std::string_view name(n);
    if (name == "xmlns") {
      out.bindings.push_back({"", decoded_value(a.value(), node)});
    } else if (name.starts_with("xmlns:")) {
      out.bindings.push_back({name.substr(6), decoded_value(a.value(), node)});
    } else if (name == "xml:base") {
      std::string ref;
      decode(a.value(), ref, node);
      out.own_base = out.base ? resolve(*out.base, trim(ref), node) : std::string(trim(ref));
      out.base = &out.own_base;
    } else if (name == "xml:lang") {
      out.lang = trim(decoded_value(a.value(), node));
    }
  }
  if (out.bindings.size() > sorted_bindings)
    std::stable_sort(out.bindings.begin(), out.bindings.end(),
                     [](const ns_binding& a, const ns_binding& b) { return a.prefix < b.prefix; });
}

xml_element xml_reader::resolve(const xml_scope& scope, pugi::xml_node node) {
  std::string_view qname = node.name();
  std::string_view prefix = prefix_of(qname);
  std::string_view uri = ns::canonical(scope.lookup(prefix));
  if (uri.empty() && !prefix.empty()) {
    uri = ns::well_known_prefix(prefix);
    if (will_list(severity::warning, diag_code::xml))
      report(node, severity::warning, diag_code::xml,
             "namespace prefix '" + std::string(prefix) + "' is not declared" +
                 (uri.empty() ? std::string() : "; read as " + std::string(uri)));
  }
  return {node, uri, local_of(qname)};
}

std::string_view xml_reader::expand_declared(std::string_view raw, std::string& expanded,
                                             pugi::xml_node at) {
  if (dtd_entities.empty()) return raw;
  std::size_t longest = 0;
  for (const auto& e : dtd_entities) longest = std::max(longest, e.first.size());
  std::size_t copied = 0;
  for (std::size_t amp = raw.find('&'); amp != std::string_view::npos; amp = raw.find('&', amp + 1)) {
    // The ';' is looked for within the longest declared name only: a text of many '&' and
    // no ';' must not be scanned to its end once per '&'.
    std::string_view window = raw.substr(amp + 1, longest + 1);
    std::size_t semi = window.find(';');
    if (semi == std::string_view::npos) continue;
    std::string_view name = window.substr(0, semi);
    auto e = std::find_if(dtd_entities.begin(), dtd_entities.end(),
                          [&](const auto& d) { return d.first == name; });
    if (e == dtd_entities.end()) continue;
    if (e->second.size() > entity_budget_) {
      // Left as written (and then reported as an undefined entity by the decoder).
      if (!entity_budget_reported_) {
        entity_budget_reported_ = true;
        std::size_t off = node_offset(at);
        if (at && at.type() == pugi::node_pcdata) off += amp;
        report_offset(off, severity::error, diag_code::limit,
                      "declared entities expand to more than " +
                          std::to_string(2 * buffer_.size() + (64u << 10)) +
                          " bytes: further references are left unexpanded");
      }
      continue;
    }
    entity_budget_ -= e->second.size();
    if (copied == 0) expanded.reserve(raw.size() + e->second.size());
    expanded.append(raw.substr(copied, amp - copied));
    expanded.append(e->second);
    copied = amp + 1 + semi + 1;
    amp = copied - 1;
  }
  if (copied == 0) return raw;
  expanded.append(raw.substr(copied));
  return expanded;
}

std::size_t xml_reader::node_offset(pugi::xml_node at) const {
  if (!at) return 0;
  std::ptrdiff_t off = at.offset_debug();
  if (off < 0) return 0;
  return static_cast<std::size_t>(std::max<std::ptrdiff_t>(0, off + node_shift_));
}

std::string_view xml_reader::decoded_value(std::string_view raw, pugi::xml_node at) {
  // pugixml runs without parse_escapes: `xmlns:x="a&amp;b"` binds "a&b", not "a&amp;b".
  if (raw.find('&') == std::string_view::npos) return raw;
  std::string& out = decoded_values_.emplace_back();
  decode(raw, out, at);
  return out;
}

void xml_reader::decode(std::string_view raw, std::string& out, pugi::xml_node at) {
  entity_stats stats;
  std::string expanded;
  // Declared entities first; their values hold no markup and no references.
  raw = expand_declared(raw, expanded, at);
  decode_entities(raw, out, &stats);
  if (stats.first_problem == std::string_view::npos) return;
  if (entity_reports_++ >= max_entity_reports) return;
  std::string what;
  diag_code code = diag_code::entity;
  if (stats.bare_ampersands) what = "a bare '&' (kept as text)", code = diag_code::xml;
  else if (stats.unknown) what = "an undefined entity (kept as text)", code = diag_code::xml;
  else if (stats.html_named) what = "an HTML entity XML does not define (decoded)";
  else
    // &#146; and friends: windows-1252 code points written as references, read as browsers
    // read them; or a reference to a character XML forbids, replaced with U+FFFD.
    what = "a numeric character reference to a C1 control or invalid character (repaired)",
    code = diag_code::value;
  severity level = severity::warning;
  // Report at the entity itself when the raw text is a text node (its bytes are the input's);
  // otherwise (an attribute) at the element.
  std::size_t off = node_offset(at);
  // Offsets in expanded text are not offsets in the input: then the node's own is reported.
  if (at && at.type() == pugi::node_pcdata && expanded.empty()) off += stats.first_problem;
  report_offset(off, level, code, what);
}

std::string xml_reader::text(const xml_scope& scope, pugi::xml_node node) {
  std::string out;
  bool has_elements = false;
  for (pugi::xml_node c = node.first_child(); c; c = c.next_sibling()) {
    switch (c.type()) {
      case pugi::node_pcdata: decode(c.value(), out, c); break;
      case pugi::node_cdata: out.append(c.value()); break;
      case pugi::node_element: has_elements = true; break;
      default: break;
    }
  }
  if (has_elements) {
    // Unescaped markup inside a text element: keep it as markup, as readers do.
    out.clear();
    for (pugi::xml_node c = node.first_child(); c; c = c.next_sibling()) serialize(scope, c, out);
  }
  repair_c1_controls(out);
  std::string_view t = trim(out);
  if (t.size() != out.size()) return std::string(t);
  return out;
}

void repair_c1_controls(std::string& s) {
  // U+0080..U+009F are control characters nobody means: they are windows-1252 punctuation
  // (smart quotes, dashes) mislabelled as latin-1 upstream. Map them as browsers do.
  std::size_t p = s.find('\xC2');
  if (p == std::string::npos) return;
  std::string out;
  out.reserve(s.size());
  std::size_t copied = 0;
  for (; p != std::string::npos && p + 1 < s.size(); p = s.find('\xC2', p + 1)) {
    unsigned char next = static_cast<unsigned char>(s[p + 1]);
    if (next < 0x80 || next > 0x9F) continue;
    out.append(s, copied, p - copied);
    append_utf8(out, windows_1252_code_point(next));
    copied = p + 2;
  }
  if (copied == 0) return;
  out.append(s, copied, std::string::npos);
  s = std::move(out);
}

std::string xml_reader::html(const xml_scope& scope, pugi::xml_node node) {
  return resolve_markup_urls(scope, text(scope, node), node);
}

std::string xml_reader::attr(pugi::xml_node node, const char* name) {
  pugi::xml_attribute a = node.attribute(name);
  if (!a) return {};
  std::string out;
  decode(a.value(), out, node);
  std::string_view t = trim(out);
  return t.size() == out.size() ? out : std::string(t);
}

std::string xml_reader::attr(pugi::xml_node node, pugi::xml_attribute a) {
  std::string out;
  decode(a.value(), out, node);
  std::string_view t = trim(out);
  return t.size() == out.size() ? out : std::string(t);
}

std::string xml_reader::attr_ns(const xml_scope& scope, pugi::xml_node node, std::string_view uri,
                                std::string_view local) {
  for (pugi::xml_attribute a = node.first_attribute(); a; a = a.next_attribute()) {
    std::string_view qname = a.name();
    std::string_view prefix = prefix_of(qname);
    if (prefix.empty() || local_of(qname) != local) continue;
    std::string_view u = scope.lookup(prefix);
    if (u.empty()) u = ns::well_known_prefix(prefix);
    if (u != uri) continue;
    std::string out;
    decode(a.value(), out, node);
    return std::string(trim(out));
  }
  return {};
}

std::string xml_reader::url(const xml_scope& scope, std::string_view ref) {
  if (ref.empty()) return {};
  if (!scope.base || scope.base->empty()) return std::string(ref);
  return resolve(*scope.base, ref, {});
}

void xml_reader::serialize(const xml_scope& scope, pugi::xml_node node, std::string& out) {
  switch (node.type()) {
    case pugi::node_pcdata: {
      std::string decoded;
      decode(node.value(), decoded, node);
      append_xml_escaped(out, decoded);
      return;
    }
    case pugi::node_cdata: append_xml_escaped(out, node.value()); return;
    case pugi::node_element: break;
    default: return;
  }
  if (scope.depth + 1 > options_.max_depth) {
    depth_exceeded(node);
    return;
  }
  xml_scope cs;
  enter(&scope, node, cs, nullptr);
  std::string_view qname = node.name();
  // XHTML elements are written without a prefix: the result is read as HTML.
  std::string_view prefix = prefix_of(qname);
  std::string_view name = (!prefix.empty() && cs.lookup(prefix) == ns::xhtml) ? local_of(qname)
                                                                               : qname;
  out += '<';
  out += name;
  // Namespace plumbing is dropped for XHTML (read as HTML), but a foreign element keeps what
  // it needs to stay namespace-well-formed on its own: its prefix's declaration (made here or
  // on an ancestor outside the markup), those of its prefixed attributes, its own xmlns="".
  std::string_view declared[4];
  std::size_t n_declared = 0;
  auto declare = [&](std::string_view p) {
    if (p.empty() || p == "xml" || p == "xmlns" || n_declared == std::size(declared)) return;
    std::string_view uri = cs.lookup(p);
    if (uri.empty() || uri == ns::xhtml) return;
    for (std::size_t i = 0; i < n_declared; ++i)
      if (declared[i] == p) return;
    declared[n_declared++] = p;
    out += " xmlns:";
    out += p;
    out += "=\"";
    append_xml_attr_escaped(out, uri);
    out += '"';
  };
  declare(prefix);
  for (pugi::xml_attribute a = node.first_attribute(); a; a = a.next_attribute()) {
    std::string_view an = a.name();
    if (an == "xmlns") {
      // Decoded, then escaped once: the raw value escaped again grew a level per round trip.
      if (std::string_view uri = decoded_value(a.value(), node); uri != ns::xhtml) {
        out += " xmlns=\"";
        append_xml_attr_escaped(out, uri);
        out += '"';
      }
      continue;
    }
    if (an == "xmlns" || an.starts_with("xmlns:")) continue;
    declare(prefix_of(an));
  }
  for (pugi::xml_attribute a = node.first_attribute(); a; a = a.next_attribute()) {
    std::string_view an = a.name();
    if (an == "xmlns" || an.starts_with("xmlns:")) continue;  // written above, or plumbing
    std::string value;
    decode(a.value(), value, node);
    if (cs.base && !cs.base->empty() && is_url_attribute(local_of(an)))
      value = resolve(*cs.base, trim(value), node);
    out += ' ';
    out += an;
    out += "=\"";
    append_xml_attr_escaped(out, value);
    out += '"';
  }
  if (!node.first_child() && is_void_html_element(name)) {
    out += " />";
    return;
  }
  out += '>';
  for (pugi::xml_node c = node.first_child(); c; c = c.next_sibling()) serialize(cs, c, out);
  out += "</";
  out += name;
  out += '>';
}

std::string xml_reader::inner_markup(const xml_scope& scope, pugi::xml_node node,
                                     bool strip_xhtml_div) {
  pugi::xml_node parent = node;
  xml_scope div_scope;
  const xml_scope* s = &scope;
  if (strip_xhtml_div) {
    // Atom: "The content SHOULD be a single XHTML div"; its children are the content.
    pugi::xml_node only;
    int elements = 0;
    bool other_text = false;
    for (pugi::xml_node c = node.first_child(); c; c = c.next_sibling()) {
      if (c.type() == pugi::node_element) {
        ++elements;
        only = c;
      } else if ((c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) &&
                 !trim(c.value()).empty()) {
        other_text = true;
      }
    }
    if (elements == 1 && !other_text) {
      enter(&scope, only, div_scope, nullptr);
      xml_element e = resolve(div_scope, only);
      if (e.name == "div" && (e.ns == ns::xhtml || e.ns.empty())) {
        parent = only;
        s = &div_scope;
      }
    }
  }
  std::string out;
  for (pugi::xml_node c = parent.first_child(); c; c = c.next_sibling()) serialize(*s, c, out);
  std::string_view t = trim(out);
  return t.size() == out.size() ? out : std::string(t);
}

void xml_reader::report(pugi::xml_node at, severity level, diag_code code, std::string message) {
  report_offset(node_offset(at), level, code, std::move(message));
}

void xml_reader::report_offset(std::size_t offset, severity level, diag_code code,
                               std::string message) {
  if (!diags_.keeps(code, level)) {
    diags_.add(level, code, std::move(message));  // counted in the summary; no position needed
    return;
  }
  auto [line, column] = lines_.at(offset);
  diags_.add(level, code, std::move(message), origin_ + offset, line, column);
}

void xml_reader::depth_exceeded(pugi::xml_node at) {
  if (depth_reported_) return;
  depth_reported_ = true;
  report(at, severity::error, diag_code::limit,
         "elements nested deeper than " + std::to_string(options_.max_depth) + " are skipped");
}

}  // namespace syndic::formats::detail
