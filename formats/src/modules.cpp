// Namespaced modules read the same way in RSS and Atom: Dublin Core, content:encoded,
// Media RSS, iTunes, Syndication, and atom:link inside RSS. Plus pass-through extensions.

#include "namespaces.hpp"
#include "strings.hpp"
#include "text.hpp"
#include "xml_feed.hpp"

#include <syndic/formats/dates.hpp>

#include <algorithm>
#include <charconv>

namespace syndic::formats::detail {
namespace {

media_object read_media_object(xml_reader& r, const xml_element& e, const xml_scope& s) {
  media_object m;
  m.url = r.url(s, r.attr(e.node, "url"));
  m.type = r.attr(e.node, "type");
  m.medium = r.attr(e.node, "medium");
  auto dim = [&](const char* name) -> std::optional<std::uint32_t> {
    std::string v = r.attr(e.node, name);
    if (v.empty()) return std::nullopt;
    auto n = read_uint(r, e.node, name, v);
    if (!n || *n > 0xffffffffu) return std::nullopt;
    return static_cast<std::uint32_t>(*n);
  };
  m.width = dim("width");
  m.height = dim("height");
  return m;
}

// media:content and media:group carry thumbnails, titles and descriptions of their own.
void read_media_container(xml_reader& r, const xml_element& e, const xml_scope& s, item& it) {
  r.for_each_child(s, e.node, [&](const xml_element& c, const xml_scope& cs) {
    if (c.ns != ns::media) return;
    if (c.name == "content") {
      it.media.push_back(read_media_object(r, c, cs));
      read_media_container(r, c, cs, it);
    } else if (c.name == "thumbnail") {
      it.thumbnails.push_back(read_media_object(r, c, cs));
    } else if (c.name == "title" && it.title.empty()) {
      it.title = r.text(cs, c.node);
    } else if (c.name == "description" && it.summary.empty()) {
      it.summary = r.text(cs, c.node);
      it.summary_type = ascii_iequals(r.attr(c.node, "type"), "html") ? text_type::html
                                                                      : text_type::text;
    }
  });
}

std::optional<std::uint32_t> period_seconds(std::string_view period) {
  if (period == "hourly") return 3600;
  if (period == "daily") return 86400;
  if (period == "weekly") return 7 * 86400;
  if (period == "monthly") return 30 * 86400;
  if (period == "yearly") return 365 * 86400;
  return std::nullopt;
}

}  // namespace

void reserve_items(xml_reader& r, feed& f, pugi::xml_node parent, std::string_view local_name) {
  std::size_t n = 0, others = 0;
  for (pugi::xml_node c = parent.first_child(); c; c = c.next_sibling()) {
    if (c.type() != pugi::node_element) continue;
    std::string_view name = c.name();
    if (name.size() >= local_name.size() && name.ends_with(local_name) &&
        (name.size() == local_name.size() || name[name.size() - local_name.size() - 1] == ':'))
      ++n;
    else
      ++others;
  }
  f.items.reserve(f.items.size() + std::min(n, r.options().max_items));
  // The other children are few in a feed, but 80,000 unknown elements would otherwise move
  // the vector of extensions (150 bytes each) seventeen times.
  if (others > 64) f.extensions.reserve(f.extensions.size() + others);
}

item* append_item(xml_reader& r, feed& f, pugi::xml_node at) {
  if (f.items.size() < r.options().max_items) return &f.items.emplace_back();
  if (!r.item_limit_reported) {
    r.item_limit_reported = true;
    r.report(at, severity::error, diag_code::limit,
             "more than " + std::to_string(r.options().max_items) + " items: the rest are skipped");
  }
  return nullptr;
}

std::optional<timestamp> read_date(xml_reader& r, const xml_element& e, const xml_scope& s) {
  std::string v = r.text(s, e.node);
  if (v.empty()) return std::nullopt;
  auto t = parse_date(v);
  if (!t && r.will_list(severity::warning, diag_code::date))
    r.report(e.node, severity::warning, diag_code::date,
             "unparseable date '" + v.substr(0, 64) + "' in <" + std::string(e.name) +
                 ">: left out");
  return t;
}

std::optional<std::uint64_t> read_uint(xml_reader& r, pugi::xml_node at, std::string_view what,
                                       std::string_view value) {
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (ec != std::errc{} || end != value.data() + value.size()) {
    if (r.will_list(severity::warning, diag_code::value))
      r.report(at, severity::warning, diag_code::value,
               "not a number in " + std::string(what) + ": '" +
                   std::string(value.substr(0, 32)) + "'");
    return std::nullopt;
  }
  return n;
}

// An addr-spec as feeds write it: one '@' with something on each side, and none of the
// characters that end an address in running text (space, angle brackets, parentheses).
static bool looks_like_address(std::string_view v) {
  std::size_t at = v.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == v.size()) return false;
  if (v.find('@', at + 1) != std::string_view::npos) return false;
  return v.find_first_of(" \t\r\n<>()") == std::string_view::npos;
}

person parse_person_text(std::string_view s) {
  s = trim(s);
  person p;
  if (s.empty()) return p;
  // "email (Name)" and "Name (email)"
  if (auto open = s.rfind('('); open != std::string_view::npos && s.back() == ')') {
    std::string_view before = trim(s.substr(0, open));
    std::string_view inside = trim(s.substr(open + 1, s.size() - open - 2));
    if (looks_like_address(before)) {
      p.email = std::string(before);
      p.name = std::string(inside);
      return p;
    }
    if (looks_like_address(inside)) {
      p.email = std::string(inside);
      p.name = std::string(before);
      return p;
    }
  }
  // "Name <email>"
  if (auto open = s.find('<'); open != std::string_view::npos && s.back() == '>') {
    std::string_view inner = trim(s.substr(open + 1, s.size() - open - 2));
    if (looks_like_address(inner)) {
      p.email = std::string(inner);
      p.name = std::string(trim(s.substr(0, open)));
      return p;
    }
  }
  if (s.find('@') != std::string_view::npos && s.find(' ') == std::string_view::npos)
    p.email = std::string(s);
  else
    p.name = std::string(s);
  return p;
}

extension read_extension(xml_reader& r, const xml_element& e, const xml_scope& s) {
  extension x;
  x.ns = std::string(e.ns);
  x.name = std::string(e.name);
  for (pugi::xml_attribute a = e.node.first_attribute(); a; a = a.next_attribute()) {
    std::string_view an = a.name();
    if (an == "xmlns" || an.starts_with("xmlns:")) continue;
    std::string value = r.attr(e.node, a);
    auto colon = an.find(':');
    if (colon == std::string_view::npos) {
      x.attributes.emplace_back(std::string(an), std::move(value));
    } else {
      // Prefixed attributes are kept in Clark notation, "{uri}local": prefixes do not survive.
      std::string_view prefix = an.substr(0, colon);
      std::string_view uri = s.lookup(prefix);
      if (uri.empty()) uri = ns::well_known_prefix(prefix);
      x.attributes.emplace_back("{" + std::string(uri) + "}" + std::string(an.substr(colon + 1)),
                                std::move(value));
    }
  }
  bool has_children = false;
  r.for_each_child(s, e.node, [&](const xml_element& c, const xml_scope& cs) {
    has_children = true;
    x.children.push_back(read_extension(r, c, cs));
  });
  if (!has_children) {
    x.value = r.text(s, e.node);
  } else {
    for (pugi::xml_node c = e.node.first_child(); c; c = c.next_sibling())
      if (c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) {
        std::string part;
        decode_entities(c.value(), part);
        x.value += trim(part);
      }
  }
  return x;
}

bool read_item_module(xml_reader& r, const xml_element& e, const xml_scope& s, item& it) {
  if (e.ns == ns::dc || e.ns == ns::dcterms) {
    if (e.name == "creator" || e.name == "author" ||
        (e.name == "contributor" && it.authors.empty())) {
      person p = parse_person_text(r.text(s, e.node));
      if (!p.empty()) it.authors.push_back(std::move(p));
    } else if (e.name == "date" || e.name == "modified") {
      if (auto t = read_date(r, e, s)) it.updated = t;
    } else if (e.name == "issued" || e.name == "created") {
      if (auto t = read_date(r, e, s); t && !it.published) it.published = t;
    } else if (e.name == "subject") {
      category c{r.text(s, e.node), {}, {}};
      if (!c.term.empty()) it.categories.push_back(std::move(c));
    } else if (e.name == "title") {
      if (it.title.empty()) it.title = r.text(s, e.node);
    } else if (e.name == "description") {
      if (it.summary.empty()) it.summary = r.text(s, e.node);
    } else if (e.name == "language") {
      it.language = r.text(s, e.node);
    } else if (e.name == "identifier") {
      if (it.id.empty()) it.id = r.text(s, e.node);
    } else {
      return false;
    }
    return true;
  }
  if (e.ns == ns::content && e.name == "encoded") {
    it.content = r.html(s, e.node);
    it.content_type = text_type::html;
    return true;
  }
  if (e.ns == ns::media) {
    if (e.name == "thumbnail") it.thumbnails.push_back(read_media_object(r, e, s));
    else if (e.name == "content") {
      it.media.push_back(read_media_object(r, e, s));
      read_media_container(r, e, s, it);
    } else if (e.name == "group") {
      read_media_container(r, e, s, it);
    } else if (e.name == "category") {
      category c{r.text(s, e.node), r.attr(e.node, "scheme"), r.attr(e.node, "label")};
      if (c.scheme.empty()) c.scheme = "http://search.yahoo.com/mrss/category_schema";
      if (!c.term.empty()) it.categories.push_back(std::move(c));
    } else if (e.name == "title") {
      if (it.title.empty()) it.title = r.text(s, e.node);
    } else {
      return false;
    }
    return true;
  }
  if (e.ns == ns::atom10 && e.name == "link") {
    // atom:link inside an RSS item: keep its rel.
    link l{r.url(s, r.attr(e.node, "href")), r.attr(e.node, "rel"), r.attr(e.node, "type"),
           r.attr(e.node, "hreflang"), r.attr(e.node, "title"), {}};
    if (l.rel.empty()) l.rel = "alternate";
    if (std::string len = r.attr(e.node, "length"); !len.empty())
      l.length = read_uint(r, e.node, "link length", len);
    if (!l.href.empty()) it.links.push_back(std::move(l));
    return true;
  }
  return false;
}

bool read_feed_module(xml_reader& r, const xml_element& e, const xml_scope& s, feed& f) {
  if (e.ns == ns::dc || e.ns == ns::dcterms) {
    if (e.name == "creator" || e.name == "author") {
      person p = parse_person_text(r.text(s, e.node));
      if (!p.empty()) f.authors.push_back(std::move(p));
    } else if (e.name == "date" || e.name == "modified") {
      if (auto t = read_date(r, e, s)) f.updated = t;
    } else if (e.name == "language") {
      f.language = r.text(s, e.node);
    } else if (e.name == "rights") {
      f.rights = r.text(s, e.node);
    } else if (e.name == "title") {
      if (f.title.empty()) f.title = r.text(s, e.node);
    } else if (e.name == "description") {
      if (f.description.empty()) f.description = r.text(s, e.node);
    } else if (e.name == "subject") {
      category c{r.text(s, e.node), {}, {}};
      if (!c.term.empty()) f.categories.push_back(std::move(c));
    } else {
      return false;
    }
    return true;
  }
  if (e.ns == ns::atom10 && e.name == "link") {
    std::string rel = r.attr(e.node, "rel");
    std::string href = r.url(s, r.attr(e.node, "href"));
    if (href.empty()) return true;
    if (rel == "self") f.self_link = href;
    else if (rel == "hub") f.hubs.push_back(href);
    else if ((rel.empty() || rel == "alternate") && f.link.empty()) f.link = href;
    else
      f.links.push_back(link{href, rel.empty() ? "alternate" : rel, r.attr(e.node, "type"),
                             r.attr(e.node, "hreflang"), r.attr(e.node, "title"), {}});
    return true;
  }
  if (e.ns == ns::sy && (e.name == "updatePeriod" || e.name == "updateFrequency")) {
    // Collected here, combined in finish_feed: the two may come in either order.
    f.extensions.push_back(read_extension(r, e, s));
    return true;
  }
  return false;
}

namespace {
// "en_US" is a POSIX locale name, not a language tag: BCP 47 uses "-".
void normalize_language(std::string& lang) { std::replace(lang.begin(), lang.end(), '_', '-'); }
}  // namespace

void finish_item(item& it) {
  normalize_language(it.language);
  // iTunes elements stay as extensions; they also fill what the item itself left empty.
  for (const auto& x : it.extensions) {
    if (x.ns != ns::itunes) continue;
    if (x.name == "author" && it.authors.empty() && !x.value.empty())
      it.authors.push_back(person{x.value, {}, {}});
    else if ((x.name == "summary" || x.name == "subtitle") && it.summary.empty())
      it.summary = x.value, it.summary_type = text_type::text;
  }
}

void finish_feed(feed& f) {
  normalize_language(f.language);
  // sy:updatePeriod x sy:updateFrequency becomes one number; the elements are not kept, so
  // the renderers write them from the model alone.
  std::string period;
  std::uint64_t frequency = 1;
  bool has_sy = false;
  std::erase_if(f.extensions, [&](const extension& x) {
    if (x.ns != ns::sy) return false;
    if (x.name == "updatePeriod") period = x.value, has_sy = true;
    else if (x.name == "updateFrequency") {
      std::uint64_t n = 0;
      auto [end, ec] = std::from_chars(x.value.data(), x.value.data() + x.value.size(), n);
      if (ec == std::errc{} && n > 0) frequency = n;
      has_sy = true;
    } else {
      return false;
    }
    return true;
  });
  if (has_sy)
    if (auto sec = period_seconds(period.empty() ? "daily" : period))
      f.update_period_seconds = static_cast<std::uint32_t>(std::max<std::uint64_t>(1, *sec / frequency));
  for (const auto& x : f.extensions) {
    if (x.ns != ns::itunes) continue;
    if (x.name == "author" && f.authors.empty() && !x.value.empty())
      f.authors.push_back(person{x.value, {}, {}});
    else if (x.name == "image" && f.logo.url.empty())
      for (const auto& [k, v] : x.attributes)
        if (k == "href") f.logo.url = v;
  }
}

}  // namespace syndic::formats::detail
