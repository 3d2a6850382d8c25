#include "render_common.hpp"

#include "namespaces.hpp"
#include "text.hpp"
#include "url.hpp"

#include <syndic/formats/render.hpp>

#include <pugixml.hpp>

#include <algorithm>
#include <cstdio>

namespace syndic::formats {

std::optional<output_format> output_format_from_string(std::string_view name) {
  if (name == "rss") return output_format::rss;
  if (name == "atom") return output_format::atom;
  if (name == "json" || name == "jsonfeed") return output_format::json;
  return std::nullopt;
}

std::string_view to_string(output_format f) {
  switch (f) {
    case output_format::rss: return "rss";
    case output_format::atom: return "atom";
    case output_format::json: return "json";
  }
  return "?";
}

std::string_view content_type(output_format f) {
  switch (f) {
    case output_format::rss: return "application/rss+xml; charset=utf-8";
    case output_format::atom: return "application/atom+xml; charset=utf-8";
    case output_format::json: return "application/feed+json; charset=utf-8";
  }
  return "application/octet-stream";
}

std::string render(const feed& f, output_format format, std::vector<diagnostic>* notes) {
  std::string out;
  switch (format) {
    case output_format::rss: render_rss(f, out, notes); break;
    case output_format::atom: render_atom(f, out, notes); break;
    case output_format::json: render_json(f, out, notes); break;
  }
  return out;
}

std::string synthesized_item_id(const item& it) {
  if (!it.id.empty()) return it.id;
  if (!it.url().empty()) return std::string(it.url());
  return "urn:syndic:item:" + detail::hex_hash(it.title, it.summary, it.content);
}

std::string synthesized_feed_id(const feed& f) {
  if (!f.id.empty()) return f.id;
  if (!f.self_link.empty()) return f.self_link;
  if (!f.link.empty()) return f.link;
  return "urn:syndic:feed:" + detail::hex_hash(f.title, f.description, {});
}

namespace {

// An id as an IRI: itself, or with the characters no IRI holds percent-encoded when it has
// a scheme ("http://x/a b"), or empty.
std::string as_iri(std::string_view id) {
  if (detail::is_absolute_iri(id)) return std::string(id);
  if (detail::has_scheme(id)) {
    std::string escaped = detail::iri_reference(id);
    if (detail::is_absolute_iri(escaped)) return escaped;
  }
  return {};
}

}  // namespace

std::string atom_feed_id(const feed& f) {
  std::string id = synthesized_feed_id(f);
  std::string iri = as_iri(id);
  return iri.empty() ? detail::uuid_urn("feed", id) : iri;
}

std::string atom_item_id(const feed& f, const item& it) {
  std::string id = synthesized_item_id(it);
  std::string iri = as_iri(id);
  // The feed is part of the hash: "12" in two podcasts is two entries.
  return iri.empty() ? detail::uuid_urn(synthesized_feed_id(f), id) : iri;
}

person synthesized_feed_author(const feed& f) {
  std::string name = detail::as_text(f.title, f.title_type);
  std::string_view trimmed = detail::trim(name);
  return person{trimmed.empty() ? std::string("unknown") : std::string(trimmed), {}, {}};
}

namespace detail {

std::string hex_hash(std::string_view a, std::string_view b, std::string_view c) {
  // FNV-1a, 64 bit: stable across runs and machines, which is all an id needs here.
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (std::string_view part : {a, b, c}) {
    for (unsigned char ch : part) h = (h ^ ch) * 0x100000001b3ull;
    h = (h ^ 0xff) * 0x100000001b3ull;  // separator, so ("ab","c") != ("a","bc")
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

static bool writable_uri(std::string_view uri) {
  std::string escaped;
  append_xml_attr_escaped(escaped, uri);
  return !escaped.empty();
}

prefix_map::prefix_map(const feed& f, std::initializer_list<std::string_view> predeclared) {
  for (auto uri : predeclared) map_.emplace_back(std::string(uri), std::string(ns::customary_prefix(uri)));
  predeclared_ = map_.size();
  collect(f.extensions);
  for (const auto& it : f.items) collect(it.extensions);
}

void prefix_map::collect(const std::vector<extension>& xs) {
  for (const auto& x : xs) {
    auto add = [&](std::string_view uri) {
      // xml is bound without a declaration; xmlns may not be declared at all.
      if (uri.empty() || uri == ns::xml || uri == "http://www.w3.org/2000/xmlns/") return;
      // A URI with nothing XML can carry (only control characters) would be declared as
      // xmlns:p="", an undeclaration that namespaces forbid: it gets no prefix, and what is
      // in it is dropped (write_extension).
      if (!writable_uri(uri)) return;
      for (const auto& [u, p] : map_)
        if (u == uri) return;
      std::string p(ns::customary_prefix(uri));
      for (const auto& entry : map_)
        if (entry.second == p) p.clear();  // customary prefix taken by another URI
      if (p.empty()) p = "ns" + std::to_string(map_.size() + 1);
      map_.emplace_back(std::string(uri), std::move(p));
    };
    add(x.ns);
    for (const auto& [k, v] : x.attributes)
      if (k.starts_with('{')) add(std::string_view(k).substr(1, k.find('}') - 1));
    collect(x.children);
  }
}

std::string_view prefix_map::prefix(std::string_view uri) const {
  if (uri == ns::xml) return "xml";
  for (const auto& [u, p] : map_)
    if (u == uri) return p;
  return {};
}

void prefix_map::declare(std::string& out) const {
  for (std::size_t i = predeclared_; i < map_.size(); ++i) {
    out += " xmlns:";
    out += map_[i].second;
    out += "=\"";
    append_xml_attr_escaped(out, map_[i].first);
    out += '"';
  }
}

namespace {

inline constexpr std::string_view xmlns_uri = "http://www.w3.org/2000/xmlns/";

// What a diagnostic quotes of a hostile name: short, and nothing that breaks a line.
std::string quoted(std::string_view s) {
  std::size_t cut = std::min<std::size_t>(s.size(), 60);
  while (cut < s.size() && cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;  // whole characters
  std::string out = "'";
  for (char c : s.substr(0, cut)) out += static_cast<unsigned char>(c) < 0x20 ? '?' : c;
  if (cut < s.size()) out += "...";
  return out + "'";
}

// An attribute key of the model: "{uri}local" or a bare name.
struct attribute_key {
  std::string_view uri, local;
};
attribute_key split_key(std::string_view k) {
  if (!k.starts_with('{')) return {{}, k};
  std::size_t close = k.find('}');
  if (close == std::string_view::npos) return {{}, k};  // fails the NCName check below
  return {k.substr(1, close - 1), k.substr(close + 1)};
}

}  // namespace

void render_notes::add(std::string message) {
  if (out_) out_->push_back(diagnostic{severity::warning, diag_code::value, std::move(message), 0, 0, 0});
}

bool write_extension(std::string& out, const extension& x, const prefix_map& prefixes,
                     bool default_ns, render_notes& notes) {
  if (!is_ncname(x.name) || x.ns == xmlns_uri) {
    notes.add("extension element " + quoted(x.name) + " is not an XML name; dropped");
    return false;
  }
  std::string name;
  if (!x.ns.empty()) {
    name = prefixes.prefix(x.ns);
    if (name.empty()) {
      notes.add("extension element " + quoted(x.name) + " has a namespace that XML cannot write; dropped");
      return false;
    }
    name += ':';
  }
  name += x.name;
  out += '<';
  out += name;
  if (x.ns.empty() && default_ns) out += " xmlns=\"\"";
  std::vector<std::string> written;  // qualified names, so that none is written twice
  for (const auto& [k, v] : x.attributes) {
    attribute_key key = split_key(k);
    std::string qn;
    if (!key.uri.empty()) {
      qn = prefixes.prefix(key.uri);
      qn += ':';
    }
    qn += key.local;
    bool ok = is_ncname(key.local) && key.uri != xmlns_uri && (key.uri.empty() ? key.local != "xmlns" : qn.size() > key.local.size() + 1);
    if (!ok) {
      notes.add("extension attribute " + quoted(k) + " is not an XML name; dropped");
      continue;
    }
    bool twice = false;
    for (const auto& w : written) twice = twice || w == qn;
    if (twice) {
      notes.add("extension attribute " + quoted(k) + " written twice; the second is dropped");
      continue;
    }
    attribute(out, qn, v);
    written.push_back(std::move(qn));
  }
  if (x.value.empty() && x.children.empty()) {
    out += "/>";
    return true;
  }
  out += '>';
  append_xml_escaped(out, x.value);
  for (const auto& c : x.children) write_extension(out, c, prefixes, default_ns, notes);
  out += "</";
  out += name;
  out += '>';
  return true;
}

void element(std::string& out, std::string_view name, std::string_view value) {
  if (blank(value)) return;
  out += '<';
  out += name;
  out += '>';
  append_xml_escaped(out, value);
  out += "</";
  out += name;
  out += ">\n";
}

void attribute(std::string& out, std::string_view name, std::string_view value) {
  out += ' ';
  out += name;
  out += "=\"";
  append_xml_attr_escaped(out, value);
  out += '"';
}

void write_media(std::string& out, std::string_view name, const media_object& m) {
  if (m.url.empty()) return;
  out += '<';
  out += name;
  attribute(out, "url", m.url);
  if (!m.type.empty()) attribute(out, "type", m.type);
  if (!m.medium.empty()) attribute(out, "medium", m.medium);
  if (m.width) attribute(out, "width", std::to_string(*m.width));
  if (m.height) attribute(out, "height", std::to_string(*m.height));
  out += "/>\n";
}

std::string as_html(std::string_view value, text_type type) {
  if (type != text_type::text) return std::string(value);
  std::string out;
  append_xml_escaped(out, value);
  return out;
}

std::string as_text(std::string_view value, text_type type) {
  if (type == text_type::text) return std::string(value);
  std::string stripped;
  bool in_tag = false;
  for (char c : value) {
    if (c == '<') in_tag = true;
    else if (c == '>' && in_tag) in_tag = false;
    else if (!in_tag) stripped += c;
  }
  std::string out;
  decode_entities(stripped, out);
  return out;
}

namespace {

// Next code point of valid UTF-8 at s[i] (advancing i); U+FFFF for a byte that starts no
// valid sequence, which every caller here rejects.
char32_t next_code_point(std::string_view s, std::size_t& i) {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  std::size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (len == 0 || i + len > s.size() || !is_valid_utf8(s.substr(i, len))) {
    ++i;
    return 0xFFFF;
  }
  char32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
  for (std::size_t k = 1; k < len; ++k) cp = (cp << 6) | (b(i + k) & 0x3F);
  i += len;
  return cp;
}

// Names are held to ASCII letters, digits and "_-.": XML 1.0 fifth edition allows most of
// Unicode, but expat (feedparser, Python, many readers) still applies the fourth edition's
// tables and rejects a document with a name such as "€". A name we cannot be sure every
// reader accepts is not written.
bool is_name_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool is_name_char(char c) {
  return is_name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

bool is_hex(char c) { return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'); }

// ASCII an IRI never holds (RFC 3987 2.2: not unreserved, reserved or '%').
bool iri_forbidden_ascii(unsigned char c) {
  return c <= 0x20 || c == 0x7F || c == '"' || c == '<' || c == '>' || c == '\\' || c == '^' ||
         c == '`' || c == '{' || c == '|' || c == '}';
}

bool is_void_html_element(std::string_view n) {
  for (std::string_view v : {"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
                             "meta", "param", "source", "track", "wbr"})
    if (n == v) return true;
  return false;
}

// The only references an XML parser without a DTD knows; anything else (&nbsp;, a bare '&')
// means the value is HTML, not XML.
bool only_xml_references(std::string_view s) {
  for (std::size_t at = s.find('&'); at != std::string_view::npos; at = s.find('&', at + 1)) {
    std::string_view rest = s.substr(at + 1);
    std::size_t semi = rest.find(';');
    if (semi == std::string_view::npos || semi > 12) return false;
    std::string_view ref = rest.substr(0, semi);
    if (ref == "amp" || ref == "lt" || ref == "gt" || ref == "quot" || ref == "apos") continue;
    bool numeric = ref.size() >= 2 && ref[0] == '#';
    bool hex = numeric && (ref[1] == 'x');
    if (!numeric || ref.size() < (hex ? 3u : 2u)) return false;
    for (char c : ref.substr(hex ? 2 : 1))
      if (hex ? !is_hex(c) : !(c >= '0' && c <= '9')) return false;
  }
  return true;
}

// In-scope prefix bindings while walking a fragment: (prefix, uri), innermost last.
struct ns_binding {
  std::string_view prefix, uri;
};

bool bound(const std::vector<ns_binding>& scope, std::string_view prefix, std::string_view& uri) {
  if (prefix == "xml") {
    uri = ns::xml;
    return true;
  }
  for (auto it = scope.rbegin(); it != scope.rend(); ++it)
    if (it->prefix == prefix) {
      uri = it->uri;
      return !uri.empty() || prefix.empty();
    }
  uri = {};
  return prefix.empty();
}

// Checks one element's names and declarations and writes its start tag (without the '>').
bool start_tag(pugi::xml_node e, std::vector<ns_binding>& scope, std::string& out) {
  std::string_view qn = e.name();
  if (!is_qname(qn)) return false;
  for (pugi::xml_attribute a = e.first_attribute(); a; a = a.next_attribute()) {
    std::string_view an = a.name(), value = a.value();
    if (an == "xmlns" || an.starts_with("xmlns:")) {
      std::string_view p = an == "xmlns" ? std::string_view() : an.substr(6);
      if (!p.empty() && (!is_ncname(p) || value.empty() || p == "xmlns")) return false;
      if ((p == "xml") != (value == ns::xml) || value == "http://www.w3.org/2000/xmlns/") return false;
      scope.push_back({p, value});
    }
  }
  std::string_view uri;
  std::size_t colon = qn.find(':');
  if (!bound(scope, colon == std::string_view::npos ? std::string_view() : qn.substr(0, colon), uri))
    return false;
  out += '<';
  out += qn;
  std::vector<std::pair<std::string_view, std::string_view>> seen;  // (uri or qname, local)
  for (pugi::xml_attribute a = e.first_attribute(); a; a = a.next_attribute()) {
    std::string_view an = a.name();
    if (!is_qname(an)) return false;
    std::size_t c = an.find(':');
    std::pair<std::string_view, std::string_view> key{an, {}};
    if (c != std::string_view::npos && an.substr(0, c) != "xmlns") {
      if (!bound(scope, an.substr(0, c), key.first)) return false;
      key.second = an.substr(c + 1);
    }
    for (const auto& k : seen)
      if (k == key) return false;
    seen.push_back(key);
    attribute(out, an, a.value());
  }
  return true;
}

}  // namespace

bool blank(std::string_view value) {
  for (std::size_t i = 0; i < value.size();) {
    std::size_t at = i;
    char32_t c = next_code_point(value, i);
    if (c == 0xFFFF && i == at + 1 && static_cast<unsigned char>(value[at]) >= 0x80) return false;  // bytes copied as they are
    bool space = c == ' ' || c == '\t' || c == '\r' || c == '\n';
    bool unrepresentable = c < 0x20 || c == 0xFFFE || c == 0xFFFF;
    if (!space && !unrepresentable) return false;
  }
  return true;
}

bool is_ncname(std::string_view s) {
  if (s.empty() || !is_name_start(s[0])) return false;
  for (char c : s.substr(1))
    if (!is_name_char(c)) return false;
  return true;
}

bool is_qname(std::string_view s) {
  std::size_t colon = s.find(':');
  if (colon == std::string_view::npos) return is_ncname(s);
  return is_ncname(s.substr(0, colon)) && is_ncname(s.substr(colon + 1));
}

bool xhtml_fragment(std::string_view markup, std::string& out) {
  if (!only_xml_references(markup)) return false;
  std::string doc = "<div xmlns=\"http://www.w3.org/1999/xhtml\">";
  doc += markup;
  doc += "</div>";
  pugi::xml_document d;
  constexpr unsigned flags = pugi::parse_cdata | pugi::parse_escapes | pugi::parse_eol |
                             pugi::parse_wconv_attribute | pugi::parse_ws_pcdata;
  if (!d.load_buffer(doc.data(), doc.size(), flags, pugi::encoding_utf8)) return false;
  pugi::xml_node root = d.first_child();
  if (!root || root.next_sibling() || root.type() != pugi::node_element) return false;
  // Walked without recursion: a fragment nested a million deep must not end the process.
  std::vector<ns_binding> scope{{{}, ns::xhtml}};
  std::vector<std::size_t> marks;  // scope size at each open element
  std::string result;
  pugi::xml_node n = root.first_child();
  while (n) {
    bool descend = false;
    switch (n.type()) {
      case pugi::node_pcdata:
      case pugi::node_cdata: append_xml_escaped(result, n.value()); break;
      case pugi::node_element:
        marks.push_back(scope.size());
        if (!start_tag(n, scope, result)) return false;
        if (!n.first_child() && is_void_html_element(n.name())) {
          result += " />";
          scope.resize(marks.back());
          marks.pop_back();
        } else {
          result += '>';
          descend = true;
        }
        break;
      default: break;  // comments, processing instructions: not content
    }
    if (descend && n.first_child()) {
      n = n.first_child();
      continue;
    }
    if (descend) {  // an empty element that is not void: <p></p>, as HTML readers expect
      result += "</";
      result += n.name();
      result += '>';
      scope.resize(marks.back());
      marks.pop_back();
    }
    while (!n.next_sibling() && n.parent() != root) {
      n = n.parent();
      result += "</";
      result += n.name();
      result += '>';
      scope.resize(marks.back());
      marks.pop_back();
    }
    n = n.next_sibling();
  }
  out = std::move(result);
  return true;
}

bool is_absolute_iri(std::string_view s) {
  if (!has_scheme(s) || !is_valid_utf8(s)) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80 && iri_forbidden_ascii(c)) return false;
    if (c == '%' && !(i + 2 < s.size() && is_hex(s[i + 1]) && is_hex(s[i + 2]))) return false;
    if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) < 0xA0) return false;  // C1
  }
  return true;
}

std::string iri_reference(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  auto escape = [&](unsigned char c) {
    out += '%';
    out += hex[c >> 4];
    out += hex[c & 15];
  };
  for (std::size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    bool c1 = c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) < 0xA0;
    if (c1) {
      escape(c);
      escape(static_cast<unsigned char>(s[++i]));
    } else if ((c < 0x80 && iri_forbidden_ascii(c)) ||
               (c == '%' && !(i + 2 < s.size() && is_hex(s[i + 1]) && is_hex(s[i + 2])))) {
      escape(c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string uuid_urn(std::string_view a, std::string_view b) {
  std::string h = hex_hash(a, b, "uuid-high") + hex_hash(a, b, "uuid-low");
  h[12] = '8';                                                      // version 8: custom
  h[16] = "89ab"[(h[16] <= '9' ? h[16] - '0' : h[16] - 'a' + 10) & 3];  // RFC 9562 variant
  return "urn:uuid:" + h.substr(0, 8) + '-' + h.substr(8, 4) + '-' + h.substr(12, 4) + '-' +
         h.substr(16, 4) + '-' + h.substr(20, 12);
}

}  // namespace detail
}  // namespace syndic::formats
