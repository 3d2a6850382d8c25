// RSS 2.0 (https://www.rssboard.org/rss-specification) with the modules that carry what
// RSS core lacks: atom:link (self, hub, other links), dc (creator, date, language),
// content:encoded and Media RSS.

#include "namespaces.hpp"
#include "render_common.hpp"
#include "text.hpp"

#include <syndic/formats/dates.hpp>
#include <syndic/formats/render.hpp>

#include <algorithm>

namespace syndic::formats {
namespace {

using namespace detail;

void write_atom_link(std::string& out, const link& l) {
  out += "<atom:link";
  attribute(out, "href", l.href);
  attribute(out, "rel", l.rel.empty() ? "alternate" : l.rel);
  if (!l.type.empty()) attribute(out, "type", l.type);
  if (!l.hreflang.empty()) attribute(out, "hreflang", l.hreflang);
  if (!l.title.empty()) attribute(out, "title", l.title);
  if (l.length) attribute(out, "length", std::to_string(*l.length));
  out += "/>\n";
}

// People: <author> wants an email address; names alone go to dc:creator.
void write_person(std::string& out, const person& p, bool item_level) {
  if (!p.email.empty() && item_level) {
    element(out, "author", p.name.empty() ? p.email : p.email + " (" + p.name + ")");
  } else if (!p.email.empty()) {
    element(out, "dc:creator", p.name.empty() ? p.email : p.email + " (" + p.name + ")");
  } else {
    element(out, "dc:creator", p.name);
  }
}

void write_category(std::string& out, const category& c) {
  out += "<category";
  if (!c.scheme.empty()) attribute(out, "domain", c.scheme);
  out += '>';
  append_xml_escaped(out, c.term);
  out += "</category>\n";
}

void write_item(std::string& out, const item& it, const prefix_map& prefixes) {
  out += "<item>\n";
  element(out, "title", as_text(it.title, it.title_type));
  std::string_view url = it.url();
  element(out, "link", url);
  element(out, "description", as_html(it.summary, it.summary_type));
  for (const auto& p : it.authors) write_person(out, p, true);
  for (const auto& c : it.categories) write_category(out, c);
  element(out, "comments", it.comments);
  for (const auto& e : it.enclosures) {
    out += "<enclosure";
    attribute(out, "url", e.url);
    // Both are required by RSS 2.0.
    attribute(out, "length", std::to_string(e.length.value_or(0)));
    attribute(out, "type", e.type.empty() ? "application/octet-stream" : e.type);
    out += "/>\n";
  }
  std::string id = synthesized_item_id(it);
  out += "<guid";
  attribute(out, "isPermaLink", it.id_is_permalink ? "true" : "false");
  out += '>';
  append_xml_escaped(out, id);
  out += "</guid>\n";
  if (it.published) element(out, "pubDate", format_rfc822(*it.published));
  if (it.updated) element(out, "dc:date", format_rfc3339(*it.updated));
  if (!it.source.empty()) {
    out += "<source";
    attribute(out, "url", it.source.url);
    out += '>';
    append_xml_escaped(out, it.source.title);
    out += "</source>\n";
  }
  if (!it.content.empty()) element(out, "content:encoded", as_html(it.content, it.content_type));
  element(out, "dc:language", it.language);
  bool first_alternate = true;
  for (const auto& l : it.links) {
    if ((l.rel.empty() || l.rel == "alternate") && first_alternate && l.href == url) {
      first_alternate = false;  // already written as <link>
      continue;
    }
    write_atom_link(out, l);
  }
  for (const auto& m : it.thumbnails) write_media(out, "media:thumbnail", m);
  for (const auto& m : it.media) write_media(out, "media:content", m);
  for (const auto& x : it.extensions) {
    write_extension(out, x, prefixes, false);
    out += '\n';
  }
  out += "</item>\n";
}

}  // namespace

void render_rss(const feed& f, std::string& out) {
  prefix_map prefixes(f, {ns::atom10, ns::dc, ns::content, ns::media, ns::sy});
  std::size_t estimate = 1024;
  for (const auto& it : f.items) estimate += 512 + it.summary.size() * 5 / 4 + it.content.size() * 5 / 4;
  out.reserve(out.size() + estimate);
  out += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"";
  out += " xmlns:atom=\"http://www.w3.org/2005/Atom\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\"";
  out += " xmlns:content=\"http://purl.org/rss/1.0/modules/content/\"";
  out += " xmlns:media=\"http://search.yahoo.com/mrss/\"";
  out += " xmlns:sy=\"http://purl.org/rss/1.0/modules/syndication/\"";
  prefixes.declare(out);
  out += ">\n<channel>\n";
  // title, link and description are required; an empty element is valid.
  out += "<title>";
  append_xml_escaped(out, as_text(f.title, f.title_type));
  out += "</title>\n<link>";
  append_xml_escaped(out, f.link.empty() ? f.self_link : f.link);
  out += "</link>\n<description>";
  append_xml_escaped(out, as_html(f.description, f.description_type));
  out += "</description>\n";
  if (!f.self_link.empty()) write_atom_link(out, link{f.self_link, "self", "application/rss+xml", {}, {}, {}});
  for (const auto& h : f.hubs) write_atom_link(out, link{h, "hub", {}, {}, {}, {}});
  for (const auto& l : f.links) write_atom_link(out, l);
  element(out, "language", f.language);
  element(out, "copyright", f.rights);
  for (const auto& p : f.authors) write_person(out, p, false);
  element(out, "generator", f.generator);
  if (f.updated) element(out, "lastBuildDate", format_rfc822(*f.updated));
  for (const auto& c : f.categories) write_category(out, c);
  if (f.ttl_minutes) element(out, "ttl", std::to_string(*f.ttl_minutes));
  if (f.update_period_seconds && *f.update_period_seconds > 0) {
    // sy expresses a period as "hourly" (or daily) times a frequency.
    std::uint32_t s = *f.update_period_seconds;
    bool hourly = s <= 3600;
    element(out, "sy:updatePeriod", hourly ? "hourly" : "daily");
    element(out, "sy:updateFrequency", std::to_string(std::max<std::uint32_t>(1, (hourly ? 3600 : 86400) / s)));
  }
  if (!f.logo.empty()) {
    out += "<image>\n";
    element(out, "url", f.logo.url);
    element(out, "title", f.logo.title.empty() ? as_text(f.title, f.title_type) : f.logo.title);
    element(out, "link", f.logo.link.empty() ? f.link : f.logo.link);
    out += "</image>\n";
  }
  for (const auto& x : f.extensions) {
    write_extension(out, x, prefixes, false);
    out += '\n';
  }
  for (const auto& it : f.items) write_item(out, it, prefixes);
  out += "</channel>\n</rss>\n";
}

}  // namespace syndic::formats
