// RSS 0.90, 0.91-0.94, 2.0 and RSS 1.0 (RDF): the channel and its items.

#include "namespaces.hpp"
#include "strings.hpp"
#include "text.hpp"
#include "xml_feed.hpp"

#include <cstdint>
#include <iterator>
#include <vector>

namespace syndic::formats::detail {

bool is_rss_core(const xml_reader& r, std::string_view uri) {
  // RSS 0.91+ has no namespace; RSS 0.90 and 1.0 use their own default namespaces; some
  // feeds put RSS 2.0 in a namespace of their own (Userland's, Harvard's).
  return uri.empty() || uri == ns::rss10 || uri == ns::rss090 ||
         (!r.core_alias.empty() && uri == r.core_alias);
}

void read_rss_image(xml_reader& r, const xml_scope& s, pugi::xml_node node, feed& f) {
  r.for_each_child(s, node, [&](const xml_element& e, const xml_scope& cs) {
    if (!is_rss_core(r, e.ns)) return;
    if (e.name == "url") f.logo.url = r.url(cs, r.text(cs, e.node));
    else if (e.name == "title") f.logo.title = r.text(cs, e.node);
    else if (e.name == "link") f.logo.link = r.url(cs, r.text(cs, e.node));
  });
}

// <skipHours><hour>0..23</hour>...</skipHours>: a bit per hour (GMT). A value outside 0-23
// (some feeds write 24 for midnight; the spec has none) is reported and left out.
static void read_rss_skip_hours(xml_reader& r, const xml_scope& s, pugi::xml_node node, feed& f) {
  r.for_each_child(s, node, [&](const xml_element& e, const xml_scope& cs) {
    if (!is_rss_core(r, e.ns) || e.name != "hour") return;
    std::string v = r.text(cs, e.node);
    auto n = read_uint(r, e.node, "skipHours hour", v);
    if (!n) return;
    if (*n > 23) {
      if (r.will_list(severity::warning, diag_code::value))
        r.report(e.node, severity::warning, diag_code::value,
                 "hour " + v.substr(0, 32) + " in <skipHours> is not 0-23: left out");
      return;
    }
    f.skip_hours |= std::uint32_t(1) << *n;
  });
}

// <skipDays><day>Monday</day>...</skipDays>: a bit per day, 0 = Sunday. Names in any case.
static void read_rss_skip_days(xml_reader& r, const xml_scope& s, pugi::xml_node node, feed& f) {
  static constexpr std::string_view names[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                               "Thursday", "Friday", "Saturday"};
  r.for_each_child(s, node, [&](const xml_element& e, const xml_scope& cs) {
    if (!is_rss_core(r, e.ns) || e.name != "day") return;
    std::string v = r.text(cs, e.node);
    for (std::size_t d = 0; d < std::size(names); ++d) {
      if (ascii_iequals(v, names[d])) {
        f.skip_days |= static_cast<std::uint8_t>(1u << d);
        return;
      }
    }
    if (r.will_list(severity::warning, diag_code::value))
      r.report(e.node, severity::warning, diag_code::value,
               "unknown day '" + v.substr(0, 32) + "' in <skipDays>: left out");
  });
}

void read_rss_item(xml_reader& r, const xml_scope& s, pugi::xml_node node, item& it) {
  bool guid_permalink = false;
  // <link>s go before the links modules add (atom:link), the last one first. Collected here
  // and put in place once: an insert at the front for each would be quadratic in their count.
  std::vector<link> core_links;
  it.summary_type = text_type::html;  // RSS descriptions are (escaped) HTML
  it.language = std::string(s.lang);
  r.for_each_child(s, node, [&](const xml_element& e, const xml_scope& cs) {
    if (is_rss_core(r, e.ns)) {
      if (e.name == "title") {
        it.title = r.text(cs, e.node);
        return;
      }
      if (e.name == "link") {
        std::string href = r.url(cs, r.text(cs, e.node));
        if (!href.empty()) core_links.push_back(link{std::move(href), "alternate", {}, {}, {}, {}});
        return;
      }
      if (e.name == "description") {
        it.summary = r.html(cs, e.node);
        return;
      }
      if (e.name == "fullitem") {  // an old Userland name for the full content
        if (it.content.empty()) it.content = r.html(cs, e.node), it.content_type = text_type::html;
        return;
      }
      if (e.name == "guid") {
        it.id = r.text(cs, e.node);
        std::string p = r.attr(e.node, "isPermaLink");
        guid_permalink = p.empty() || ascii_iequals(p, "true");
        return;
      }
      if (e.name == "pubDate") {
        it.published = read_date(r, e, cs);
        return;
      }
      if (e.name == "author") {
        person p = parse_person_text(r.text(cs, e.node));
        if (!p.empty()) it.authors.push_back(std::move(p));
        return;
      }
      if (e.name == "category") {
        category c{r.text(cs, e.node), r.attr(e.node, "domain"), {}};
        if (!c.term.empty()) it.categories.push_back(std::move(c));
        return;
      }
      if (e.name == "enclosure") {
        enclosure en;
        en.url = r.url(cs, r.attr(e.node, "url"));
        en.type = r.attr(e.node, "type");
        std::string len = r.attr(e.node, "length");
        if (!len.empty()) en.length = read_uint(r, e.node, "enclosure length", len);
        if (!en.url.empty()) it.enclosures.push_back(std::move(en));
        return;
      }
      if (e.name == "comments") {
        it.comments = r.url(cs, r.text(cs, e.node));
        return;
      }
      if (e.name == "source") {
        it.source.url = r.url(cs, r.attr(e.node, "url"));
        it.source.title = r.text(cs, e.node);
        return;
      }
    }
    if (e.is(ns::xhtml, "body") || (e.name == "body" && is_rss_core(r, e.ns))) {
      // Inline (X)HTML as the full content, with or without the XHTML namespace.
      it.content = r.inner_markup(cs, e.node, false);
      it.content_type = e.ns == ns::xhtml ? text_type::xhtml : text_type::html;
      return;
    }
    if (read_item_module(r, e, cs, it)) return;
    it.extensions.push_back(read_extension(r, e, cs));
  });
  it.links.insert(it.links.begin(), std::make_move_iterator(core_links.rbegin()),
                  std::make_move_iterator(core_links.rend()));
  if (it.id.empty()) {
    // RSS 1.0 identifies items by rdf:about.
    it.id = r.attr_ns(s, node, ns::rdf, "about");
  } else if (guid_permalink) {
    it.id_is_permalink = true;
    if (it.url().empty()) it.links.insert(it.links.begin(), link{r.url(s, it.id), "alternate", {}, {}, {}, {}});
  }
  finish_item(it);
}

void read_rss_channel(xml_reader& r, const xml_scope& s, pugi::xml_node channel, feed& f) {
  std::optional<timestamp> pub_date, last_build;
  f.description_type = text_type::html;
  if (f.language.empty()) f.language = std::string(s.lang);
  reserve_items(r, f, channel, "item");
  r.for_each_child(s, channel, [&](const xml_element& e, const xml_scope& cs) {
    if (is_rss_core(r, e.ns)) {
      if (e.name == "item") {
        if (item* it = append_item(r, f, e.node)) read_rss_item(r, cs, e.node, *it);
        return;
      }
      if (e.name == "title") f.title = r.text(cs, e.node);
      else if (e.name == "link") f.link = r.url(cs, r.text(cs, e.node));
      else if (e.name == "description") f.description = r.html(cs, e.node);
      else if (e.name == "language") f.language = r.text(cs, e.node);
      else if (e.name == "copyright") f.rights = r.text(cs, e.node);
      else if (e.name == "generator") f.generator = r.text(cs, e.node);
      else if (e.name == "pubDate") pub_date = read_date(r, e, cs);
      else if (e.name == "lastBuildDate") last_build = read_date(r, e, cs);
      else if (e.name == "image") read_rss_image(r, cs, e.node, f);
      else if (e.name == "managingEditor" || e.name == "author") {
        person p = parse_person_text(r.text(cs, e.node));
        if (!p.empty()) f.authors.push_back(std::move(p));
      } else if (e.name == "category") {
        category c{r.text(cs, e.node), r.attr(e.node, "domain"), {}};
        if (!c.term.empty()) f.categories.push_back(std::move(c));
      } else if (e.name == "ttl") {
        std::string v = r.text(cs, e.node);
        if (auto n = read_uint(r, e.node, "ttl", v); n && *n <= 0xffffffffu)
          f.ttl_minutes = static_cast<std::uint32_t>(*n);
      } else if (e.name == "skipHours") {
        read_rss_skip_hours(r, cs, e.node, f);
      } else if (e.name == "skipDays") {
        read_rss_skip_days(r, cs, e.node, f);
      } else {
        f.extensions.push_back(read_extension(r, e, cs));
      }
      return;
    }
    if (read_feed_module(r, e, cs, f)) return;
    f.extensions.push_back(read_extension(r, e, cs));
  });
  if (!f.updated) f.updated = last_build ? last_build : pub_date;
  if (f.id.empty()) f.id = r.attr_ns(s, channel, ns::rdf, "about");
  finish_feed(f);
}

}  // namespace syndic::formats::detail
