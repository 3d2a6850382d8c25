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
                    text_type type, bool always = false) {
  if (value.empty() && !always) return;
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
      // Our xhtml values are serialised from parsed XML, so they are well-formed markup.
      out += " type=\"xhtml\"><div xmlns=\"http://www.w3.org/1999/xhtml\">";
      out += value;
      out += "</div>";
      break;
  }
  out += "</";
  out += name;
  out += ">\n";
}

void write_link(std::string& out, const link& l) {
  out += "<link";
  attribute(out, "href", l.href);
  if (!l.rel.empty() && l.rel != "alternate") attribute(out, "rel", l.rel);
  if (!l.type.empty()) attribute(out, "type", l.type);
  if (!l.hreflang.empty()) attribute(out, "hreflang", l.hreflang);
  if (!l.title.empty()) attribute(out, "title", l.title);
  if (l.length) attribute(out, "length", std::to_string(*l.length));
  out += "/>\n";
}

void write_person(std::string& out, std::string_view name, const person& p) {
  out += '<';
  out += name;
  out += ">\n";
  // atom:name is required.
  out += "<name>";
  append_xml_escaped(out, p.name.empty() ? p.email : p.name);
  out += "</name>\n";
  element(out, "email", p.email);
  element(out, "uri", p.url);
  out += "</";
  out += name;
  out += ">\n";
}

void write_category(std::string& out, const category& c) {
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

void write_entry(std::string& out, const item& it, const feed& f, const prefix_map& prefixes) {
  out += "<entry";
  if (!it.language.empty() && it.language != f.language) attribute(out, "xml:lang", it.language);
  out += ">\n";
  element(out, "id", synthesized_item_id(it));
  text_construct(out, "title", it.title, it.title_type, true);
  // updated is required: fall back to published, then to the feed's date.
  std::optional<timestamp> updated = it.updated ? it.updated : it.published;
  if (!updated) updated = latest(f);
  element(out, "updated", format_rfc3339(updated.value_or(timestamp{})));
  if (it.published) element(out, "published", format_rfc3339(*it.published));
  for (const auto& l : it.links) write_link(out, l);
  if (!it.comments.empty()) write_link(out, link{it.comments, "replies", "text/html", {}, {}, {}});
  for (const auto& e : it.enclosures) {
    out += "<link rel=\"enclosure\"";
    attribute(out, "href", e.url);
    if (!e.type.empty()) attribute(out, "type", e.type);
    if (!e.title.empty()) attribute(out, "title", e.title);
    if (e.length) attribute(out, "length", std::to_string(*e.length));
    out += "/>\n";
  }
  for (const auto& p : it.authors) write_person(out, "author", p);
  for (const auto& c : it.categories) write_category(out, c);
  text_construct(out, "summary", it.summary, it.summary_type);
  text_construct(out, "content", it.content, it.content_type);
  if (!it.source.empty()) {
    out += "<source>\n";
    element(out, "id", it.source.id);
    element(out, "title", it.source.title);
    if (!it.source.url.empty()) write_link(out, link{it.source.url, "self", {}, {}, {}, {}});
    out += "</source>\n";
  }
  for (const auto& m : it.thumbnails) write_media(out, "media:thumbnail", m);
  for (const auto& m : it.media) write_media(out, "media:content", m);
  for (const auto& x : it.extensions) {
    write_extension(out, x, prefixes, true);
    out += '\n';
  }
  out += "</entry>\n";
}

}  // namespace

void render_atom(const feed& f, std::string& out) {
  prefix_map prefixes(f, {ns::media});
  std::size_t estimate = 1024;
  for (const auto& it : f.items) estimate += 640 + it.summary.size() * 5 / 4 + it.content.size() * 5 / 4;
  out.reserve(out.size() + estimate);
  out += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\"";
  out += " xmlns:media=\"http://search.yahoo.com/mrss/\"";
  prefixes.declare(out);
  if (!f.language.empty()) attribute(out, "xml:lang", f.language);
  out += ">\n";
  element(out, "id", synthesized_feed_id(f));
  text_construct(out, "title", f.title, f.title_type, true);
  text_construct(out, "subtitle", f.description, f.description_type);
  element(out, "updated", format_rfc3339(latest(f).value_or(timestamp{})));
  if (!f.link.empty()) write_link(out, link{f.link, "alternate", "text/html", {}, {}, {}});
  if (!f.self_link.empty()) write_link(out, link{f.self_link, "self", "application/atom+xml", {}, {}, {}});
  for (const auto& h : f.hubs) write_link(out, link{h, "hub", {}, {}, {}, {}});
  for (const auto& l : f.links) write_link(out, l);
  for (const auto& p : f.authors) write_person(out, "author", p);
  for (const auto& c : f.categories) write_category(out, c);
  element(out, "icon", f.icon);
  element(out, "logo", f.logo.url);
  element(out, "generator", f.generator);
  element(out, "rights", f.rights);
  for (const auto& x : f.extensions) {
    write_extension(out, x, prefixes, true);
    out += '\n';
  }
  for (const auto& it : f.items) write_entry(out, it, f, prefixes);
  out += "</feed>\n";
}

}  // namespace syndic::formats
