// RSS 2.0 (https://www.rssboard.org/rss-specification) with the modules that carry what
// RSS core lacks: atom:link (self, hub, other links), dc (creator, date, language),
// content:encoded and Media RSS.

#include "namespaces.hpp"
#include "render_common.hpp"
#include "text.hpp"
#include "url.hpp"

#include <syndic/formats/dates.hpp>
#include <syndic/formats/render.hpp>

#include <algorithm>

namespace syndic::formats {
namespace {

using namespace detail;

void write_atom_link(std::string& out, const link& l) {
  if (l.href.empty()) return;  // href is required
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

// sy:updatePeriod is hourly, daily, weekly, monthly or yearly (the lengths modules.cpp reads)
// and sy:updateFrequency how many times per period: the shortest period that holds
// `seconds` a whole number of times, else the shortest that holds it at all.
std::pair<std::string_view, std::uint32_t> sy_period(std::uint32_t seconds) {
  static constexpr std::pair<std::string_view, std::uint32_t> periods[] = {
      {"hourly", 3600}, {"daily", 86400}, {"weekly", 7 * 86400}, {"monthly", 30 * 86400},
      {"yearly", 365 * 86400}};
  for (const auto& [name, length] : periods)
    if (seconds <= length && length % seconds == 0) return {name, length / seconds};
  for (const auto& [name, length] : periods)
    if (seconds <= length) return {name, std::max<std::uint32_t>(1, (length + seconds / 2) / seconds)};
  return {"yearly", 1};
}

// A pass-through element without a namespace named like an RSS core element this renderer
// writes would repeat it (a second <title> or <guid>): the model's is written instead.
bool passes_through(const extension& x) {
  static constexpr std::string_view core[] = {
      "title", "link", "description", "author", "category", "comments", "enclosure", "guid",
      "pubDate", "source", "language", "copyright", "lastBuildDate", "generator", "ttl",
      "image", "item", "channel"};
  if (!x.ns.empty()) return true;
  for (std::string_view c : core)
    if (x.name == c) return false;
  return true;
}

void write_item(std::string& out, const item& it, const prefix_map& prefixes, render_notes& notes) {
  out += "<item>\n";
  std::string title = as_text(it.title, it.title_type);
  std::string description = as_html(it.summary, it.summary_type);
  // RSS 2.0: "at least one of title or description must be present". Content, else the
  // item's link or id, stands in.
  std::string id = synthesized_item_id(it);
  if (blank(id)) id = "urn:syndic:item:" + hex_hash(it.id, it.title, it.summary);
  if (blank(title) && blank(description)) {
    if (!blank(it.content)) description = as_html(it.content, it.content_type);
    else title = id;
  }
  element(out, "title", title);
  std::string_view url = it.url();
  element(out, "link", url);
  element(out, "description", description);
  for (const auto& p : it.authors) write_person(out, p, true);
  for (const auto& c : it.categories) write_category(out, c);
  element(out, "comments", it.comments);
  for (const auto& e : it.enclosures) {
    if (blank(e.url)) continue;  // url is required
    out += "<enclosure";
    attribute(out, "url", e.url);
    // Both are required by RSS 2.0.
    attribute(out, "length", std::to_string(e.length.value_or(0)));
    attribute(out, "type", e.type.empty() ? "application/octet-stream" : e.type);
    out += "/>\n";
  }
  out += "<guid";
  // A permalink is a URL a browser can open: an id without a scheme ("b-1") is none, whatever
  // the source said (RSS makes isPermaLink="true" the default).
  attribute(out, "isPermaLink", it.id_is_permalink && has_scheme(id) ? "true" : "false");
  out += '>';
  append_xml_escaped(out, id);
  out += "</guid>\n";
  if (it.published) element(out, "pubDate", format_rfc822(*it.published));
  if (it.updated) element(out, "dc:date", format_rfc3339(*it.updated));
  if (!blank(it.source.url)) {  // RSS requires url; a source without one has no place here
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
    if (passes_through(x) && write_extension(out, x, prefixes, false, notes)) out += '\n';
  }
  out += "</item>\n";
}

}  // namespace

void render_rss(const feed& f, std::string& out, std::vector<diagnostic>* diagnostics) {
  render_notes notes(diagnostics);
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
  // title, link and description are required, and an empty one says nothing: each falls
  // back on what the model has (a link on the feed's id, which is a URL for most feeds).
  std::string_view channel_link = !blank(f.link) ? std::string_view(f.link) : f.self_link;
  std::string fallback_link;
  if (blank(channel_link)) {
    channel_link = {};
    for (const auto& l : f.links)
      if (channel_link.empty() && !blank(l.href) && (l.rel.empty() || l.rel == "alternate")) channel_link = l.href;
    if (channel_link.empty()) channel_link = fallback_link = synthesized_feed_id(f);
    if (blank(channel_link)) channel_link = fallback_link = "urn:syndic:feed:" + hex_hash(f.id, f.title, {});
  }
  std::string title = as_text(f.title, f.title_type);
  if (blank(title)) title = channel_link;
  std::string description = as_html(f.description, f.description_type);
  if (blank(description)) description = as_html(title, text_type::text);
  element(out, "title", title);
  element(out, "link", channel_link);
  element(out, "description", description);
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
    auto [period, frequency] = sy_period(*f.update_period_seconds);
    element(out, "sy:updatePeriod", period);
    element(out, "sy:updateFrequency", std::to_string(frequency));
  }
  if (!blank(f.logo.url)) {
    // url, title and link are all required; title and link default to the channel's.
    out += "<image>\n";
    element(out, "url", f.logo.url);
    element(out, "title", blank(f.logo.title) ? title : f.logo.title);
    element(out, "link", blank(f.logo.link) ? channel_link : std::string_view(f.logo.link));
    out += "</image>\n";
  }
  // After <image>, in the order of the RSS 2.0 spec; bits outside 0-23 and 0-6 name nothing.
  if (f.skip_hours & 0xffffffu) {
    out += "<skipHours>\n";
    for (unsigned h = 0; h < 24; ++h)
      if (f.skip_hours & (std::uint32_t(1) << h)) element(out, "hour", std::to_string(h));
    out += "</skipHours>\n";
  }
  if (f.skip_days & 0x7fu) {
    static constexpr std::string_view days[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                                "Thursday", "Friday", "Saturday"};
    out += "<skipDays>\n";
    for (unsigned d = 0; d < 7; ++d)
      if (f.skip_days & (1u << d)) element(out, "day", days[d]);
    out += "</skipDays>\n";
  }
  for (const auto& x : f.extensions) {
    if (passes_through(x) && write_extension(out, x, prefixes, false, notes)) out += '\n';
  }
  for (const auto& it : f.items) write_item(out, it, prefixes, notes);
  out += "</channel>\n</rss>\n";
}

}  // namespace syndic::formats
