// Atom 1.0 (RFC 4287) and Atom 0.3: the feed and its entries.

#include "html_urls.hpp"
#include "namespaces.hpp"
#include "strings.hpp"
#include "text.hpp"
#include "xml_feed.hpp"

#include <syndic/formats/base64.hpp>

namespace syndic::formats::detail {
namespace {

struct text_construct {
  std::string value;
  text_type type = text_type::text;
};

bool is_html_mime(std::string_view t) { return t == "html" || t == "text/html"; }
bool is_xhtml_mime(std::string_view t) {
  return t == "xhtml" || t == "application/xhtml+xml";
}
bool is_xml_mime(std::string_view t) {
  return t.ends_with("+xml") || t.ends_with("/xml");
}

// Whether base64-decoded bytes are text a renderer can write: UTF-8 without the C0 controls
// XML cannot carry. Anything else (0xFF, NUL) is binary and stays encoded.
bool is_text(std::string_view s) {
  if (!is_valid_utf8(s)) return false;
  for (unsigned char c : s)
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') return false;
  return true;
}

text_construct read_text_construct(xml_reader& r, const xml_scope& s, pugi::xml_node n,
                                   bool v03) {
  std::string type = ascii_lowered(r.attr(n, "type"));
  text_construct out;
  if (v03) {
    std::string mode = ascii_lowered(r.attr(n, "mode"));
    bool markup = is_html_mime(type) || is_xhtml_mime(type);
    if (mode == "base64") {
      out.value = r.text(s, n);
      std::string decoded(trim(base64_decode_lenient(out.value)));
      if (is_text(decoded)) {
        out.value = std::move(decoded);
        if (markup) out.value = r.resolve_markup_urls(s, std::move(out.value), n);
      }
    } else if (mode == "escaped") {
      out.value = markup ? r.html(s, n) : r.text(s, n);
    } else if (markup && n.find_child([](pugi::xml_node c) { return c.type() == pugi::node_element; })) {
      // Atom 0.3 inline XML is taken whole: the XHTML div is part of the content.
      out.value = r.inner_markup(s, n, false);
    } else {
      out.value = r.text(s, n);
    }
    out.type = markup ? text_type::html : text_type::text;
    return out;
  }
  if (type.empty() || type == "text" || type == "text/plain") {
    out.value = r.text(s, n);
  } else if (is_html_mime(type)) {
    out.value = r.html(s, n);
    out.type = text_type::html;
  } else if (is_xhtml_mime(type)) {
    out.value = r.inner_markup(s, n, true);
    out.type = text_type::xhtml;
  } else if (is_xml_mime(type)) {
    // Other XML (image/svg+xml, MathML) is no XHTML div: it is kept as markup, which HTML
    // readers embed as it is (inline <svg> and <math> are HTML).
    out.value = r.inner_markup(s, n, false);
    out.type = text_type::html;
  } else if (type.starts_with("text/")) {
    out.value = r.text(s, n);
  } else {
    // Other media types are base64 (RFC 4287 4.1.3.3). Decoded when the result is text;
    // binary content stays encoded.
    out.value = r.text(s, n);
    std::string decoded(trim(base64_decode_lenient(out.value)));
    if (!decoded.empty() && is_text(decoded)) out.value = std::move(decoded);
  }
  return out;
}

person read_person(xml_reader& r, const xml_scope& s, pugi::xml_node n) {
  person p;
  r.for_each_child(s, n, [&](const xml_element& e, const xml_scope& cs) {
    if (e.ns != ns::atom10 && e.ns != ns::atom03) return;
    if (e.name == "name") p.name = r.text(cs, e.node);
    else if (e.name == "email") p.email = r.text(cs, e.node);
    else if (e.name == "uri" || e.name == "url" || e.name == "homepage")
      p.url = r.url(cs, r.text(cs, e.node));
  });
  return p;
}

link read_link(xml_reader& r, const xml_scope& s, pugi::xml_node n) {
  link l;
  std::string href = r.attr(n, "href");
  if (href.empty() && n.attribute("href") && s.base) {
    l.href = *s.base;  // href="" is the base itself (RFC 3986 5.2)
  } else {
    if (href.empty()) href = r.text(s, n);  // <link>http://...</link>, as RSS writes it
    l.href = r.url(s, href);
  }
  l.rel = r.attr(n, "rel");
  if (l.rel.empty()) l.rel = "alternate";
  l.type = r.attr(n, "type");
  l.hreflang = r.attr(n, "hreflang");
  l.title = r.attr(n, "title");
  std::string len = r.attr(n, "length");
  if (!len.empty()) l.length = read_uint(r, n, "link length", len);
  return l;
}

category read_category(xml_reader& r, pugi::xml_node n) {
  return category{r.attr(n, "term"), r.attr(n, "scheme"), r.attr(n, "label")};
}

bool is_atom(const xml_reader& r, std::string_view uri, bool v03) {
  if (!v03) return uri == ns::atom10;
  // Atom 0.3 drafts used several namespaces (and none): the root's own counts as core.
  return uri == ns::atom03 || uri.empty() || (!r.core_alias.empty() && uri == r.core_alias);
}

}  // namespace

void read_atom_entry(xml_reader& r, const xml_scope& s, pugi::xml_node node, item& it, bool v03) {
  it.language = std::string(s.lang);
  it.content_type = text_type::text;
  bool has_content = false;
  r.for_each_child(s, node, [&](const xml_element& e, const xml_scope& cs) {
    if (is_atom(r, e.ns, v03)) {
      if (e.name == "id") it.id = r.text(cs, e.node);
      else if (e.name == "title") {
        auto t = read_text_construct(r, cs, e.node, v03);
        it.title = std::move(t.value);
        it.title_type = t.type;
      } else if (e.name == "link") {
        link l = read_link(r, cs, e.node);
        if (l.href.empty()) return;
        if (l.rel == "enclosure")
          it.enclosures.push_back(enclosure{l.href, l.type, l.title, l.length, {}});
        else if (l.rel == "replies" && it.comments.empty() && (l.type.empty() || l.type == "text/html"))
          it.comments = std::move(l.href);  // the comments page, as RSS <comments>
        else
          it.links.push_back(std::move(l));
      } else if (e.name == "summary") {
        auto t = read_text_construct(r, cs, e.node, v03);
        it.summary = std::move(t.value);
        it.summary_type = t.type;
      } else if (e.name == "content") {
        // Atom 0.3 allows several contents (alternatives); the first one wins.
        if (has_content) return;
        has_content = true;
        std::string src = r.attr(e.node, "src");
        if (!src.empty()) {
          std::string href = r.url(cs, src);
          bool has_alternate = false;
          for (const auto& l : it.links) has_alternate |= l.rel == "alternate";
          if (!has_alternate) it.links.push_back(link{href, "alternate", r.attr(e.node, "type"), {}, {}, {}});
          return;
        }
        auto t = read_text_construct(r, cs, e.node, v03);
        it.content = std::move(t.value);
        it.content_type = t.type;
      } else if (e.name == "published" || e.name == "issued" || e.name == "created") {
        if (auto t = read_date(r, e, cs); t && (e.name != "created" || !it.published))
          it.published = t;
      } else if (e.name == "updated" || e.name == "modified") {
        it.updated = read_date(r, e, cs);
      } else if (e.name == "author") {
        person p = read_person(r, cs, e.node);
        if (!p.empty()) it.authors.push_back(std::move(p));
      } else if (e.name == "contributor") {
        it.extensions.push_back(read_extension(r, e, cs));
      } else if (e.name == "category") {
        category c = read_category(r, e.node);
        if (!c.term.empty()) it.categories.push_back(std::move(c));
      } else if (e.name == "source") {
        r.for_each_child(cs, e.node, [&](const xml_element& c, const xml_scope& ccs) {
          if (!is_atom(r, c.ns, v03)) return;
          if (c.name == "id") it.source.id = r.text(ccs, c.node);
          else if (c.name == "title") it.source.title = read_text_construct(r, ccs, c.node, v03).value;
          else if (c.name == "link") {
            link l = read_link(r, ccs, c.node);
            if (l.rel == "self" || (l.rel == "alternate" && it.source.url.empty()))
              it.source.url = l.href;
          }
        });
      } else if (e.name == "rights" || e.name == "copyright") {
        it.extensions.push_back(read_extension(r, e, cs));
      } else {
        it.extensions.push_back(read_extension(r, e, cs));
      }
      return;
    }
    if (read_item_module(r, e, cs, it)) return;
    it.extensions.push_back(read_extension(r, e, cs));
  });
  finish_item(it);
}

void read_atom_feed(xml_reader& r, const xml_scope& s, pugi::xml_node node, feed& f, bool v03) {
  f.language = std::string(s.lang);
  reserve_items(r, f, node, "entry");
  r.for_each_child(s, node, [&](const xml_element& e, const xml_scope& cs) {
    if (is_atom(r, e.ns, v03)) {
      if (e.name == "entry") {
        if (item* it = append_item(r, f, e.node)) read_atom_entry(r, cs, e.node, *it, v03);
      } else if (e.name == "title") {
        auto t = read_text_construct(r, cs, e.node, v03);
        f.title = std::move(t.value);
        f.title_type = t.type;
      } else if (e.name == "subtitle" || e.name == "tagline") {
        auto t = read_text_construct(r, cs, e.node, v03);
        f.description = std::move(t.value);
        f.description_type = t.type;
      } else if (e.name == "link") {
        link l = read_link(r, cs, e.node);
        if (l.href.empty()) return;
        if (l.rel == "self") f.self_link = l.href;
        else if (l.rel == "hub") f.hubs.push_back(l.href);
        else if (l.rel == "alternate" && f.link.empty()) f.link = l.href;
        else f.links.push_back(std::move(l));
      } else if (e.name == "id") {
        f.id = r.text(cs, e.node);
      } else if (e.name == "updated" || e.name == "modified") {
        f.updated = read_date(r, e, cs);
      } else if (e.name == "author") {
        person p = read_person(r, cs, e.node);
        if (!p.empty()) f.authors.push_back(std::move(p));
      } else if (e.name == "category") {
        category c = read_category(r, e.node);
        if (!c.term.empty()) f.categories.push_back(std::move(c));
      } else if (e.name == "icon") {
        f.icon = r.url(cs, r.text(cs, e.node));
      } else if (e.name == "logo") {
        f.logo.url = r.url(cs, r.text(cs, e.node));
      } else if (e.name == "generator") {
        f.generator = r.text(cs, e.node);
      } else if (e.name == "rights" || e.name == "copyright") {
        f.rights = read_text_construct(r, cs, e.node, v03).value;
      } else {
        f.extensions.push_back(read_extension(r, e, cs));
      }
      return;
    }
    if (read_feed_module(r, e, cs, f)) return;
    f.extensions.push_back(read_extension(r, e, cs));
  });
  finish_feed(f);
}

}  // namespace syndic::formats::detail
