// Atom 1.0 (RFC 4287). Required elements (feed and entry id, title, updated) are always
// written; ids and dates the model lacks are derived deterministically from it.

#include "namespaces.hpp"
#include "render_common.hpp"
#include "text.hpp"

#include <syndic/formats/dates.hpp>
#include <syndic/formats/render.hpp>

namespace syndic::formats {
namespace {

using namespace detail;

void text_construct(std::string& out, std::string_view name, std::string_view value,
                    text_type type, render_notes& notes, bool always = false) {
  if (value.empty() && !always) return;
  // xhtml is written as markup, so it must be well-formed XML with every namespace declared:
  // it is parsed and written again, and sent as html (escaped) when it is not.
  std::string xhtml;
  if (type == text_type::xhtml && !xhtml_fragment(value, xhtml)) {
    notes.add("atom:" + std::string(name) + " is not well-formed xhtml; written as html");
    type = text_type::html;
  }
  out += '<';
  out += name;
  switch (type) {
    case text_type::text:
      out += '>';
      append_xml_escaped(out, value);
      break;
    case text_type::html:
      out += " type=\"html\">";
      append_xml_escaped(out, value);
      break;
    case text_type::xhtml:
      out += " type=\"xhtml\"><div xmlns=\"http://www.w3.org/1999/xhtml\">";
      out += xhtml;
      out += "</div>";
      break;
  }
  out += "</";
  out += name;
  out += ">\n";
}

void write_link(std::string& out, const link& l) {
  if (l.href.empty()) return;  // href is required
  out += "<link";
  attribute(out, "href", iri_reference(l.href));
  if (!l.rel.empty() && l.rel != "alternate") attribute(out, "rel", l.rel);
  if (!l.type.empty()) attribute(out, "type", l.type);
  if (!l.hreflang.empty()) attribute(out, "hreflang", l.hreflang);
  if (!l.title.empty()) attribute(out, "title", l.title);
  if (l.length) attribute(out, "length", std::to_string(*l.length));
  out += "/>\n";
}

void write_person(std::string& out, std::string_view name, const person& p) {
  if (p.empty()) return;
  out += '<';
  out += name;
  out += ">\n";
  // atom:name is required.
  out += "<name>";
  append_xml_escaped(out, !p.name.empty() ? p.name : !p.email.empty() ? p.email : p.url);
  out += "</name>\n";
  // atom:email is an addr-spec (RFC 2822): what has no '@' is no address (it still names).
  if (p.email.find('@') != std::string::npos) element(out, "email", p.email);
  element(out, "uri", iri_reference(p.url));
  out += "</";
  out += name;
  out += ">\n";
}

void write_category(std::string& out, const category& c) {
  if (c.term.empty()) return;  // term is required
  out += "<category";
  attribute(out, "term", c.term);
  if (!c.scheme.empty()) attribute(out, "scheme", c.scheme);
  if (!c.label.empty()) attribute(out, "label", c.label);
  out += "/>\n";
}

std::optional<timestamp> latest(const feed& f) {
  std::optional<timestamp> best = f.updated;
  if (best) return best;
  for (const auto& it : f.items)
    for (const auto& t : {it.updated, it.published})
      if (t && (!best || t->unix_ms > best->unix_ms)) best = t;
  return best;
}

// Pass-through elements in the Atom namespace (an RSS feed's atom:id, atom:updated,
// atom:contributor) would repeat or contradict what is written from the model: only a
// contributor with its required name is kept.
bool passes_through(const extension& x) {
  if (x.ns != ns::atom10) return true;
  if (x.name != "contributor") return false;
  for (const auto& c : x.children)
    if (c.ns == ns::atom10 && c.name == "name" && !c.value.empty()) return true;
  return false;
}

bool has_author(const item& it) {
  for (const auto& p : it.authors)
    if (!p.empty()) return true;
  return false;
}

void write_entry(std::string& out, const item& it, const feed& f, const prefix_map& prefixes,
                 render_notes& notes) {
  out += "<entry";
  if (!it.language.empty() && it.language != f.language) attribute(out, "xml:lang", it.language);
  out += ">\n";
  element(out, "id", atom_item_id(f, it));
  text_construct(out, "title", it.title, it.title_type, notes, true);
  // updated is required: fall back to published, then to the feed's date.
  std::optional<timestamp> updated = it.updated ? it.updated : it.published;
  if (!updated) updated = latest(f);
  element(out, "updated", format_rfc3339(updated.value_or(timestamp{})));
  if (it.published) element(out, "published", format_rfc3339(*it.published));
  // At most one alternate link per (type, hreflang) (RFC 4287 4.1.1): later ones are dropped.
  std::vector<const link*> alternates;
  for (const auto& l : it.links) {
    if (l.rel.empty() || l.rel == "alternate") {
      bool twice = false;
      for (const link* a : alternates) twice = twice || (a->type == l.type && a->hreflang == l.hreflang);
      if (twice || l.href.empty()) continue;
      alternates.push_back(&l);
    }
    write_link(out, l);
  }
  if (!it.comments.empty()) write_link(out, link{it.comments, "replies", "text/html", {}, {}, {}});
  for (const auto& e : it.enclosures) {
    if (e.url.empty()) continue;
    out += "<link rel=\"enclosure\"";
    attribute(out, "href", iri_reference(e.url));
    if (!e.type.empty()) attribute(out, "type", e.type);
    if (!e.title.empty()) attribute(out, "title", e.title);
    if (e.length) attribute(out, "length", std::to_string(*e.length));
    out += "/>\n";
  }
  for (const auto& p : it.authors) write_person(out, "author", p);
  for (const auto& c : it.categories) write_category(out, c);
  text_construct(out, "summary", it.summary, it.summary_type, notes);
  if (it.content.empty() && it.url().empty()) {
    // RFC 4287 4.1.1.1: an entry without content has an alternate link. Without either, the
    // summary is also the content (an RSS item with a guid and a description), else the
    // content is empty.
    text_construct(out, "content", it.summary, it.summary_type, notes, true);
  } else {
    text_construct(out, "content", it.content, it.content_type, notes);
  }
  if (!it.source.empty()) {
    out += "<source>\n";
    if (is_absolute_iri(it.source.id)) element(out, "id", it.source.id);
    element(out, "title", it.source.title);
    if (!it.source.url.empty()) write_link(out, link{it.source.url, "self", {}, {}, {}, {}});
    out += "</source>\n";
  }
  for (const auto& m : it.thumbnails) write_media(out, "media:thumbnail", m);
  for (const auto& m : it.media) write_media(out, "media:content", m);
  for (const auto& x : it.extensions) {
    if (passes_through(x) && write_extension(out, x, prefixes, true, notes)) out += '\n';
  }
  out += "</entry>\n";
}

}  // namespace

void render_atom(const feed& f, std::string& out, std::vector<diagnostic>* diagnostics) {
  render_notes notes(diagnostics);
  prefix_map prefixes(f, {ns::media});
  std::size_t estimate = 1024;
  for (const auto& it : f.items) estimate += 640 + it.summary.size() * 5 / 4 + it.content.size() * 5 / 4;
  out.reserve(out.size() + estimate);
  out += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\"";
  out += " xmlns:media=\"http://search.yahoo.com/mrss/\"";
  prefixes.declare(out);
  if (!f.language.empty()) attribute(out, "xml:lang", f.language);
  out += ">\n";
  element(out, "id", atom_feed_id(f));
  text_construct(out, "title", f.title, f.title_type, notes, true);
  text_construct(out, "subtitle", f.description, f.description_type, notes);
  element(out, "updated", format_rfc3339(latest(f).value_or(timestamp{})));
  if (!f.link.empty()) write_link(out, link{f.link, "alternate", "text/html", {}, {}, {}});
  if (!f.self_link.empty()) write_link(out, link{f.self_link, "self", "application/atom+xml", {}, {}, {}});
  for (const auto& h : f.hubs) write_link(out, link{h, "hub", {}, {}, {}, {}});
  for (const auto& l : f.links) {
    bool alternate = l.rel.empty() || l.rel == "alternate";
    if (alternate && !f.link.empty() && l.type == "text/html" && l.hreflang.empty()) continue;
    write_link(out, l);
  }
  for (const auto& p : f.authors) write_person(out, "author", p);
  // RFC 4287 4.1.1: a feed has an author unless every entry has one.
  bool feed_author = false;
  for (const auto& p : f.authors) feed_author = feed_author || !p.empty();
  bool every_entry = true;
  for (const auto& it : f.items) every_entry = every_entry && has_author(it);
  if (!feed_author && !every_entry) write_person(out, "author", synthesized_feed_author(f));
  for (const auto& c : f.categories) write_category(out, c);
  element(out, "icon", iri_reference(f.icon));
  element(out, "logo", iri_reference(f.logo.url));
  element(out, "generator", f.generator);
  element(out, "rights", f.rights);
  for (const auto& x : f.extensions) {
    if (passes_through(x) && write_extension(out, x, prefixes, true, notes)) out += '\n';
  }
  for (const auto& it : f.items) write_entry(out, it, f, prefixes, notes);
  out += "</feed>\n";
}

}  // namespace syndic::formats
