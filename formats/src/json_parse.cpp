// JSON Feed 1.0 and 1.1 (and our own `_syndic` extension objects, so that
// `syndic convert --to json` output reads back into the same model).

#include "encoding.hpp"
#include "parse_common.hpp"
#include "strings.hpp"
#include "text.hpp"
#include "url.hpp"

#include <syndic/formats/dates.hpp>
#include <syndic/formats/parse.hpp>

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cmath>

namespace syndic::formats {
namespace {

using detail::trim;
using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

class json_reader {
public:
  json_reader(diagnostics_sink& diags, const parse_options& options)
      : diags_(diags), options_(options) {}

  std::string str(const element& parent, std::string_view key) {
    element v;
    if (parent[key].get(v)) return {};
    std::string_view s;
    if (!v.get_string().get(s)) return std::string(trim(s));
    if (v.is_number()) return number_text(v);
    if (!v.is_null()) bad_type(key, "a string");
    return {};
  }

  std::string url(const element& parent, std::string_view key) {
    std::string ref = str(parent, key);
    if (ref.empty() || options_.document_url.empty()) return ref;
    return detail::resolve_url(options_.document_url, ref);
  }

  std::optional<timestamp> date(const element& parent, std::string_view key) {
    std::string v = str(parent, key);
    if (v.empty()) return std::nullopt;
    auto t = parse_iso8601(v);
    if (!t) t = parse_date(v);  // RFC 822 dates in JSON feeds are seen in the wild
    if (!t) {
      std::string message;  // left empty when only counted in the summary
      if (diags_.keeps(diag_code::date, severity::warning))
        message = "unparseable date '" + v.substr(0, 64) + "' in \"" + std::string(key) +
                  "\": left out";
      diags_.add(severity::warning, diag_code::date, std::move(message));
    }
    return t;
  }

  std::optional<std::uint64_t> uint(const element& parent, std::string_view key) {
    element v;
    if (parent[key].get(v)) return std::nullopt;
    std::uint64_t u;
    if (!v.get_uint64().get(u)) return u;
    double d;
    if (!v.get_double().get(d) && d >= 0 && d < 1.8e19) return static_cast<std::uint64_t>(d);
    std::string_view s;
    if (!v.get_string().get(s)) {
      std::uint64_t n = 0;
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
      if (ec == std::errc{} && end == s.data() + s.size()) return n;
    }
    if (!v.is_null()) bad_type(key, "a non-negative number");
    return std::nullopt;
  }

  std::optional<double> number(const element& parent, std::string_view key) {
    element v;
    if (parent[key].get(v)) return std::nullopt;
    double d;
    if (!v.get_double().get(d) && std::isfinite(d)) return d;
    std::int64_t i;
    if (!v.get_int64().get(i)) return static_cast<double>(i);
    std::uint64_t u;
    if (!v.get_uint64().get(u)) return static_cast<double>(u);
    if (!v.is_null()) bad_type(key, "a number");
    return std::nullopt;
  }

  bool boolean(const element& parent, std::string_view key) {
    bool b = false;
    element v;
    if (parent[key].get(v)) return false;
    if (v.get_bool().get(b)) bad_type(key, "true or false");
    return b;
  }

  // Iterates an array member; a non-array is reported and skipped.
  template <class F>
  void each(const element& parent, std::string_view key, F&& f) {
    element v;
    if (parent[key].get(v) || v.is_null()) return;
    array a;
    if (v.get_array().get(a)) {
      bad_type(key, "an array");
      return;
    }
    for (element e : a) f(e);
  }

  void bad_type(std::string_view key, std::string_view expected) {
    if (!diags_.keeps(diag_code::value, severity::warning))
      return diags_.add(severity::warning, diag_code::value, {});  // counted in the summary only
    diags_.add(severity::warning, diag_code::value,
               "\"" + std::string(key) + "\" is not " + std::string(expected) + ": ignored");
  }

  diagnostics_sink& diags() { return diags_; }
  const parse_options& options() const { return options_; }

private:
  static std::string number_text(const element& v) {
    // Numeric ids (JSON Feed 1.0 allowed them): written the way they were.
    std::int64_t i;
    if (!v.get_int64().get(i)) return std::to_string(i);
    std::uint64_t u;
    if (!v.get_uint64().get(u)) return std::to_string(u);
    double d = 0;
    if (v.get_double().get(d)) return {};
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
    return ec == std::errc{} ? std::string(buf, end) : std::string();
  }

  diagnostics_sink& diags_;
  const parse_options& options_;
};

text_type text_type_of(std::string_view s, text_type fallback) {
  if (s == "text") return text_type::text;
  if (s == "html") return text_type::html;
  if (s == "xhtml") return text_type::xhtml;
  return fallback;
}

person read_author(json_reader& j, const element& e) {
  return person{j.str(e, "name"), j.str(e, "email"), j.url(e, "url")};
}

void read_authors(json_reader& j, const element& parent, std::vector<person>& out) {
  // JSON Feed 1.1 "authors" replaces 1.0 "author"; feeds carry either or both.
  j.each(parent, "authors", [&](const element& e) {
    person p = read_author(j, e);
    if (!p.empty()) out.push_back(std::move(p));
  });
  element single;
  if (out.empty() && !parent["author"].get(single) && single.is_object()) {
    person p = read_author(j, single);
    if (!p.empty()) out.push_back(std::move(p));
  }
}

std::vector<link> read_links(json_reader& j, const element& parent) {
  std::vector<link> out;
  j.each(parent, "links", [&](const element& e) {
    link l{j.url(e, "href"), j.str(e, "rel"), j.str(e, "type"), j.str(e, "hreflang"),
           j.str(e, "title"), j.uint(e, "length")};
    if (l.rel.empty()) l.rel = "alternate";
    if (!l.href.empty()) out.push_back(std::move(l));
  });
  return out;
}

std::vector<category> read_categories(json_reader& j, const element& parent) {
  std::vector<category> out;
  j.each(parent, "categories", [&](const element& e) {
    category c{j.str(e, "term"), j.str(e, "scheme"), j.str(e, "label")};
    if (!c.term.empty()) out.push_back(std::move(c));
  });
  return out;
}

std::vector<media_object> read_media(json_reader& j, const element& parent, std::string_view key) {
  std::vector<media_object> out;
  j.each(parent, key, [&](const element& e) {
    media_object m{j.url(e, "url"), j.str(e, "type"), j.str(e, "medium"), {}, {}};
    if (auto w = j.uint(e, "width"); w && *w <= 0xffffffffu) m.width = std::uint32_t(*w);
    if (auto h = j.uint(e, "height"); h && *h <= 0xffffffffu) m.height = std::uint32_t(*h);
    out.push_back(std::move(m));
  });
  return out;
}

extension read_extension(json_reader& j, const element& e) {
  extension x{j.str(e, "ns"), j.str(e, "name"), j.str(e, "value"), {}, {}};
  element attrs;
  object o;
  if (!e["attributes"].get(attrs) && !attrs.get_object().get(o))
    for (auto field : o) {
      std::string_view v;
      if (!field.value.get_string().get(v))
        x.attributes.emplace_back(std::string(field.key), std::string(v));
    }
  j.each(e, "children", [&](const element& c) { x.children.push_back(read_extension(j, c)); });
  return x;
}

std::vector<extension> read_extensions(json_reader& j, const element& parent) {
  std::vector<extension> out;
  j.each(parent, "extensions", [&](const element& e) { out.push_back(read_extension(j, e)); });
  return out;
}

void read_item(json_reader& j, const element& e, item& it) {
  it.id = j.str(e, "id");
  it.title = j.str(e, "title");
  if (std::string u = j.url(e, "url"); !u.empty()) it.links.push_back(link{u, "alternate", {}, {}, {}, {}});
  if (std::string u = j.url(e, "external_url"); !u.empty())
    it.links.push_back(link{u, "related", {}, {}, {}, {}});
  std::string html = j.str(e, "content_html");
  if (!html.empty()) {
    it.content = std::move(html);
    it.content_type = text_type::html;
  } else {
    it.content = j.str(e, "content_text");
    it.content_type = text_type::text;
  }
  it.summary = j.str(e, "summary");
  if (std::string img = j.url(e, "image"); !img.empty()) it.thumbnails.push_back(media_object{img, {}, {}, {}, {}});
  it.published = j.date(e, "date_published");
  it.updated = j.date(e, "date_modified");
  read_authors(j, e, it.authors);
  j.each(e, "tags", [&](const element& t) {
    std::string_view s;
    if (!t.get_string().get(s) && !trim(s).empty()) it.categories.push_back(category{std::string(trim(s)), {}, {}});
  });
  it.language = j.str(e, "language");
  j.each(e, "attachments", [&](const element& a) {
    enclosure en{j.url(a, "url"), j.str(a, "mime_type"), j.str(a, "title"),
                 j.uint(a, "size_in_bytes"), j.number(a, "duration_in_seconds")};
    if (!en.url.empty()) it.enclosures.push_back(std::move(en));
  });

  element x;
  if (e["_syndic"].get(x) || !x.is_object()) return;
  it.id_is_permalink = j.boolean(x, "id_is_permalink");
  it.title_type = text_type_of(j.str(x, "title_type"), it.title_type);
  it.summary_type = text_type_of(j.str(x, "summary_type"), it.summary_type);
  it.content_type = text_type_of(j.str(x, "content_type"), it.content_type);
  // Markup titles and summaries: the members above hold their plain text (render_json).
  if (std::string t = j.str(x, "title"); !t.empty()) it.title = std::move(t);
  if (std::string t = j.str(x, "summary"); !t.empty()) it.summary = std::move(t);
  if (j.boolean(x, "content_is_summary")) it.content.clear();  // content_html stood in for it
  if (auto links = read_links(j, x); !links.empty()) it.links = std::move(links);
  if (std::vector<person> authors; read_authors(j, x, authors), !authors.empty())
    it.authors = std::move(authors);
  if (auto cats = read_categories(j, x); !cats.empty()) it.categories = std::move(cats);
  element tmp;
  if (!x["thumbnails"].get(tmp)) it.thumbnails = read_media(j, x, "thumbnails");
  it.media = read_media(j, x, "media");
  it.comments = j.url(x, "comments");
  element src;
  if (!x["source"].get(src) && src.is_object())
    it.source = source_ref{j.str(src, "title"), j.url(src, "url"), j.str(src, "id")};
  it.extensions = read_extensions(j, x);
}

void read_feed_extension(json_reader& j, const element& x, feed& f) {
  f.id = j.str(x, "id");
  f.title_type = text_type_of(j.str(x, "title_type"), f.title_type);
  if (std::string t = j.str(x, "title"); !t.empty()) f.title = std::move(t);
  f.description_type = text_type_of(j.str(x, "description_type"), f.description_type);
  f.updated = j.date(x, "updated");
  if (std::vector<person> authors; read_authors(j, x, authors), !authors.empty())
    f.authors = std::move(authors);
  f.categories = read_categories(j, x);
  element img;
  if (!x["image"].get(img) && img.is_object())
    f.logo = image{j.url(img, "url"), j.str(img, "title"), j.url(img, "link")};
  f.generator = j.str(x, "generator");
  f.rights = j.str(x, "rights");
  if (auto n = j.uint(x, "ttl_minutes"); n && *n <= 0xffffffffu) f.ttl_minutes = std::uint32_t(*n);
  if (auto n = j.uint(x, "update_period_seconds"); n && *n <= 0xffffffffu)
    f.update_period_seconds = std::uint32_t(*n);
  if (auto n = j.uint(x, "skip_hours"); n && *n <= 0xffffffu) f.skip_hours = std::uint32_t(*n);
  if (auto n = j.uint(x, "skip_days"); n && *n <= 0x7fu) f.skip_days = std::uint8_t(*n);
  f.links = read_links(j, x);
  f.extensions = read_extensions(j, x);
}

}  // namespace

parse_result parse_json(std::string_view bytes, const parse_options& options) {
  parse_result result;
  diagnostics_sink diags(result.diagnostics, options.max_diagnostics_per_code);
  if (!detail::within_size_limit(bytes, options, diags)) return result;
  detail::decoded_text decoded = detail::decode_json_bytes(bytes);
  for (auto& p : decoded.problems) diags.add(severity::warning, diag_code::encoding, std::move(p));
  std::string_view text = decoded.unchanged ? bytes : std::string_view(decoded.utf8);
  if (decoded.unchanged && text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);

  // One parser per thread: its buffers are reused across documents.
  thread_local simdjson::dom::parser parser;
  if (parser.max_depth() != options.max_depth || parser.capacity() < text.size()) {
    if (auto err = parser.allocate(std::max(text.size(), parser.capacity()), options.max_depth)) {
      diags.add(severity::fatal, diag_code::limit,
                std::string("cannot allocate the JSON parser: ") + simdjson::error_message(err));
      return result;
    }
  }
  // simdjson reads SIMDJSON_PADDING bytes past the end: copy into a per-thread padded buffer
  // whose capacity is reused (a fresh allocation per document costs more than the parse).
  thread_local std::string padded;
  padded.reserve(text.size() + simdjson::SIMDJSON_PADDING);
  padded.assign(text);
  element doc;
  if (auto err = parser.parse(padded.data(), padded.size(), false).get(doc)) {
    diags.add(severity::fatal, err == simdjson::DEPTH_ERROR ? diag_code::limit : diag_code::json,
              std::string("malformed JSON: ") + simdjson::error_message(err));
    return result;
  }
  std::string_view version;
  bool has_version = !doc["version"].get_string().get(version);
  element items_el;
  bool has_items = !doc["items"].get(items_el) && items_el.is_array();
  if (!doc.is_object() || (!has_items && !(has_version && version.find("jsonfeed.org") != std::string_view::npos))) {
    diags.add(severity::fatal, diag_code::format, "a JSON document, but not a JSON Feed (no version, no items)");
    return result;
  }

  json_reader j(diags, options);
  feed f;
  f.encoding = decoded.charset;
  if (version == "https://jsonfeed.org/version/1") f.format = feed_format::json10;
  else {
    f.format = feed_format::json11;
    if (version != "https://jsonfeed.org/version/1.1")
      diags.add(severity::warning, diag_code::value,
                "unknown JSON Feed version '" + std::string(version.substr(0, 64)) + "': read as 1.1");
  }
  f.title = j.str(doc, "title");
  f.link = j.url(doc, "home_page_url");
  f.self_link = j.url(doc, "feed_url");
  f.description = j.str(doc, "description");
  f.logo.url = j.url(doc, "icon");
  f.icon = j.url(doc, "favicon");
  f.language = j.str(doc, "language");
  read_authors(j, doc, f.authors);
  j.each(doc, "hubs", [&](const element& h) {
    std::string u = j.url(h, "url");
    if (!u.empty()) f.hubs.push_back(std::move(u));
  });
  if (std::string next = j.url(doc, "next_url"); !next.empty())
    f.links.push_back(link{next, "next", {}, {}, {}, {}});
  element x;
  if (!doc["_syndic"].get(x) && x.is_object()) read_feed_extension(j, x, f);

  std::size_t count = 0;
  j.each(doc, "items", [&](const element& e) {
    if (!e.is_object()) {
      diags.add(severity::warning, diag_code::value, "an item is not an object: skipped");
      return;
    }
    if (count++ == options.max_items)
      diags.add(severity::error, diag_code::limit,
                "more than " + std::to_string(options.max_items) + " items: the rest are skipped");
    if (count > options.max_items) return;
    read_item(j, e, f.items.emplace_back());
  });
  result.value = std::move(f);
  return result;
}

}  // namespace syndic::formats
