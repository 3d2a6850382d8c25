// JSON Feed 1.1 (https://jsonfeed.org/version/1.1) plus `_syndic` objects for what JSON Feed
// cannot say. The shape is documented in docs/json-output.md.

#include "render_common.hpp"
#include "text.hpp"

#include <syndic/formats/dates.hpp>
#include <syndic/formats/render.hpp>

#include <charconv>

namespace syndic::formats {
namespace {

using detail::append_json_escaped;

// A small JSON writer: tracks whether a comma is due at each nesting level.
class json_writer {
public:
  explicit json_writer(std::string& out) : out_(out) {}

  void begin_object() { value_prefix(); out_ += '{'; first_.push_back(true); }
  void end_object() { out_ += '}'; first_.pop_back(); }
  void begin_array() { value_prefix(); out_ += '['; first_.push_back(true); }
  void end_array() { out_ += ']'; first_.pop_back(); }
  void key(std::string_view k) {
    comma();
    out_ += '"';
    append_json_escaped(out_, k);
    out_ += "\":";
    after_key_ = true;
  }
  void string(std::string_view v) {
    value_prefix();
    out_ += '"';
    append_json_escaped(out_, v);
    out_ += '"';
  }
  void number(std::uint64_t v) { value_prefix(); out_ += std::to_string(v); }
  void number(double v) {
    value_prefix();
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, ec == std::errc{} ? end : buf);
  }
  void boolean(bool v) { value_prefix(); out_ += v ? "true" : "false"; }

  // Members with no value are left out, never written as null.
  void member(std::string_view k, std::string_view v) {
    if (v.empty()) return;
    key(k);
    string(v);
  }
  template <class T>
  void member(std::string_view k, const std::optional<T>& v) {
    if (!v) return;
    key(k);
    number(*v);
  }

private:
  void comma() {
    if (!first_.back()) out_ += ',';
    first_.back() = false;
  }
  void value_prefix() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (!first_.empty()) comma();
  }

  std::string& out_;
  std::vector<bool> first_;
  bool after_key_ = false;
};

// Text for a plain-text member: markup stripped, entities decoded.
std::string plain(std::string_view value, text_type type) {
  return std::string(detail::trim(detail::as_text(value, type)));
}

void date_member(json_writer& w, std::string_view k, const std::optional<timestamp>& t) {
  if (t) w.member(k, format_rfc3339(*t));
}

void type_member(json_writer& w, std::string_view k, text_type t, text_type fallback) {
  if (t != fallback) w.member(k, to_string(t));
}

void people(json_writer& w, std::string_view k, const std::vector<person>& ps, bool with_email) {
  if (ps.empty()) return;
  w.key(k);
  w.begin_array();
  for (const auto& p : ps) {
    if (p.empty()) continue;
    w.begin_object();
    w.member("name", p.name);
    if (with_email) w.member("email", p.email);
    // A JSON Feed author has a name, url or avatar: an e-mail address alone becomes a mailto:
    // URL rather than an empty object.
    if (!with_email && p.url.empty() && !p.email.empty()) w.member("url", "mailto:" + p.email);
    else w.member("url", p.url);
    w.end_object();
  }
  w.end_array();
}

void links(json_writer& w, const std::vector<link>& ls) {
  if (ls.empty()) return;
  w.key("links");
  w.begin_array();
  for (const auto& l : ls) {
    w.begin_object();
    w.member("href", l.href);
    w.member("rel", l.rel);
    w.member("type", l.type);
    w.member("hreflang", l.hreflang);
    w.member("title", l.title);
    w.member("length", l.length);
    w.end_object();
  }
  w.end_array();
}

void categories(json_writer& w, const std::vector<category>& cs) {
  if (cs.empty()) return;
  w.key("categories");
  w.begin_array();
  for (const auto& c : cs) {
    w.begin_object();
    w.member("term", c.term);
    w.member("scheme", c.scheme);
    w.member("label", c.label);
    w.end_object();
  }
  w.end_array();
}

void media(json_writer& w, std::string_view k, const std::vector<media_object>& ms) {
  if (ms.empty()) return;
  w.key(k);
  w.begin_array();
  for (const auto& m : ms) {
    w.begin_object();
    w.member("url", m.url);
    w.member("type", m.type);
    w.member("medium", m.medium);
    w.member("width", m.width ? std::optional<std::uint64_t>(*m.width) : std::nullopt);
    w.member("height", m.height ? std::optional<std::uint64_t>(*m.height) : std::nullopt);
    w.end_object();
  }
  w.end_array();
}

void extension_object(json_writer& w, const extension& x) {
  w.begin_object();
  w.member("ns", x.ns);
  w.member("name", x.name);
  w.member("value", x.value);
  if (!x.attributes.empty()) {
    w.key("attributes");
    w.begin_object();
    for (const auto& [k, v] : x.attributes) {
      w.key(k);
      w.string(v);
    }
    w.end_object();
  }
  if (!x.children.empty()) {
    w.key("children");
    w.begin_array();
    for (const auto& c : x.children) extension_object(w, c);
    w.end_array();
  }
  w.end_object();
}

void extensions(json_writer& w, const std::vector<extension>& xs) {
  if (xs.empty()) return;
  w.key("extensions");
  w.begin_array();
  for (const auto& x : xs) extension_object(w, x);
  w.end_array();
}

std::string_view related_url(const item& it) {
  for (const auto& l : it.links)
    if (l.rel == "related") return l.href;
  return {};
}

void write_item(json_writer& w, const item& it) {
  w.begin_object();
  w.member("id", synthesized_item_id(it));
  w.member("url", it.url());
  w.member("external_url", related_url(it));
  // title and summary are plain text in JSON Feed; markup stays in _syndic.title/summary.
  w.member("title", plain(it.title, it.title_type));
  // content_html or content_text is required: the summary stands in for missing content
  // (an RSS item with only a description), else the content is the empty text.
  bool from_summary = it.content.empty() && !it.summary.empty();
  const std::string& content = from_summary ? it.summary : it.content;
  text_type content_type = from_summary ? it.summary_type : it.content_type;
  w.key(content_type == text_type::text ? "content_text" : "content_html");
  w.string(content);
  w.member("summary", plain(it.summary, it.summary_type));
  if (!it.thumbnails.empty()) w.member("image", it.thumbnails.front().url);
  date_member(w, "date_published", it.published);
  date_member(w, "date_modified", it.updated);
  people(w, "authors", it.authors, false);
  if (!it.categories.empty()) {
    w.key("tags");
    w.begin_array();
    for (const auto& c : it.categories) w.string(c.term);
    w.end_array();
  }
  w.member("language", it.language);
  if (!it.enclosures.empty()) {
    w.key("attachments");
    w.begin_array();
    for (const auto& e : it.enclosures) {
      if (e.url.empty()) continue;  // url is required
      w.begin_object();
      w.member("url", e.url);
      // mime_type is required by JSON Feed.
      w.key("mime_type");
      w.string(e.type.empty() ? "application/octet-stream" : e.type);
      w.member("title", e.title);
      w.member("size_in_bytes", e.length);
      w.member("duration_in_seconds", e.duration_seconds);
      w.end_object();
    }
    w.end_array();
  }
  w.key("_syndic");
  w.begin_object();
  if (it.id_is_permalink) {
    w.key("id_is_permalink");
    w.boolean(true);
  }
  if (from_summary) {
    w.key("content_is_summary");
    w.boolean(true);
  }
  type_member(w, "title_type", it.title_type, text_type::text);
  if (it.title_type != text_type::text) w.member("title", it.title);
  type_member(w, "summary_type", it.summary_type, text_type::text);
  if (it.summary_type != text_type::text) w.member("summary", it.summary);
  type_member(w, "content_type", it.content_type, text_type::html);
  links(w, it.links);
  people(w, "authors", it.authors, true);
  categories(w, it.categories);
  media(w, "thumbnails", it.thumbnails);
  media(w, "media", it.media);
  w.member("comments", it.comments);
  if (!it.source.empty()) {
    w.key("source");
    w.begin_object();
    w.member("title", it.source.title);
    w.member("url", it.source.url);
    w.member("id", it.source.id);
    w.end_object();
  }
  extensions(w, it.extensions);
  w.end_object();
  w.end_object();
}

}  // namespace

void render_json(const feed& f, std::string& out, std::vector<diagnostic>*) {
  std::size_t estimate = 1024;
  for (const auto& it : f.items) estimate += 512 + it.summary.size() * 9 / 8 + it.content.size() * 9 / 8;
  out.reserve(out.size() + estimate);
  json_writer w(out);
  w.begin_object();
  w.member("version", "https://jsonfeed.org/version/1.1");
  w.key("title");  // the only required member besides version and items; plain text
  w.string(plain(f.title, f.title_type));
  w.member("home_page_url", f.link);
  w.member("feed_url", f.self_link);
  w.member("description", f.description);
  for (const auto& l : f.links)
    if (l.rel == "next") {
      w.member("next_url", l.href);
      break;
    }
  w.member("icon", f.logo.url);
  w.member("favicon", f.icon);
  w.member("language", f.language);
  people(w, "authors", f.authors, false);
  if (!f.hubs.empty()) {
    w.key("hubs");
    w.begin_array();
    for (const auto& h : f.hubs) {
      if (h.empty()) continue;  // url is required
      w.begin_object();
      w.member("type", "WebSub");
      w.member("url", h);
      w.end_object();
    }
    w.end_array();
  }
  w.key("_syndic");
  w.begin_object();
  w.member("format", to_string(f.format));
  w.member("encoding", f.encoding);
  w.member("id", f.id);
  type_member(w, "title_type", f.title_type, text_type::text);
  if (f.title_type != text_type::text) w.member("title", f.title);
  type_member(w, "description_type", f.description_type, text_type::text);
  date_member(w, "updated", f.updated);
  people(w, "authors", f.authors, true);
  categories(w, f.categories);
  if (!f.logo.empty() || !f.logo.title.empty()) {
    w.key("image");
    w.begin_object();
    w.member("url", f.logo.url);
    w.member("title", f.logo.title);
    w.member("link", f.logo.link);
    w.end_object();
  }
  w.member("generator", f.generator);
  w.member("rights", f.rights);
  if (f.ttl_minutes) w.member("ttl_minutes", std::optional<std::uint64_t>(*f.ttl_minutes));
  if (f.update_period_seconds)
    w.member("update_period_seconds", std::optional<std::uint64_t>(*f.update_period_seconds));
  if (f.skip_hours) w.member("skip_hours", std::optional<std::uint64_t>(f.skip_hours));
  if (f.skip_days) w.member("skip_days", std::optional<std::uint64_t>(f.skip_days));
  links(w, f.links);
  extensions(w, f.extensions);
  w.end_object();
  w.key("items");
  w.begin_array();
  for (const auto& it : f.items) write_item(w, it);
  w.end_array();
  w.end_object();
  out += '\n';
}

}  // namespace syndic::formats
