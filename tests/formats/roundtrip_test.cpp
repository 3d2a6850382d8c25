// Property test: for every field a format carries, parse(render(model)) == model, over
// generated feeds (titles with markup, every Unicode plane, odd dates and offsets).

#include "test_util.hpp"
#include "text.hpp"

#include <syndic/formats/render.hpp>

#include <random>

namespace syndic::formats {
namespace {

// What a syntax can carry; the generator only fills those fields.
struct profile {
  output_format format;
  bool rich_text_types;  // title/summary/content may be html or xhtml (Atom, JSON)
  bool person_urls;
  bool category_labels;
  bool millisecond_published;
  bool source_id;
  bool enclosure_extras;  // enclosure title and duration
  bool permalink_flag;
  bool ttl;
  bool logo_details;
  bool feed_id;
};

constexpr profile rss_profile{output_format::rss, false, false, false, false, false, false, true, true, true, false};
constexpr profile atom_profile{output_format::atom, true, true, true, true, true, false, false, false, false, true};
constexpr profile json_profile{output_format::json, true, true, true, true, true, true, true, true, true, true};

class generator {
public:
  explicit generator(std::uint32_t seed) : rng_(seed) {}

  std::size_t n(std::size_t lo, std::size_t hi) {
    return std::uniform_int_distribution<std::size_t>(lo, hi)(rng_);
  }
  bool coin(int percent = 50) { return n(0, 99) < static_cast<std::size_t>(percent); }

  // Text from every plane; markup and entity look-alikes; never leading/trailing whitespace
  // (every parser trims) and no characters XML 1.0 cannot carry.
  std::string text(std::size_t max_len = 24) {
    static const char* specials[] = {"<b>", "&amp;", "&", "<", ">", "\"", "'", "&nbsp;", "]]>", "&#233;", " ", "\t", "\n"};
    std::string s;
    std::size_t len = n(1, max_len);
    for (std::size_t i = 0; i < len; ++i) {
      switch (n(0, 5)) {
        case 0: s += specials[n(0, std::size(specials) - 1)]; break;
        case 1: detail::append_utf8(s, static_cast<char32_t>(n(0xA0, 0xD7FF))); break;
        case 2: detail::append_utf8(s, static_cast<char32_t>(n(0xE000, 0xFFFD))); break;
        case 3: detail::append_utf8(s, static_cast<char32_t>(n(0x10000, 0x10FFFD))); break;
        default: s += static_cast<char>(n('a', 'z')); break;
      }
    }
    std::string_view t = detail::trim(s);
    return t.empty() ? std::string("x") : "x" + std::string(t) + "y";
  }
  std::string word() {
    std::string s;
    for (std::size_t i = 0, len = n(1, 10); i < len; ++i) s += static_cast<char>(n('a', 'z'));
    return s;
  }
  std::string url() { return "https://" + word() + ".example/" + word() + "?q=" + word() + "&r=1"; }
  std::string email() { return word() + "@" + word() + ".example"; }
  timestamp time(bool millis) {
    timestamp t;
    t.unix_ms = static_cast<std::int64_t>(n(0, 4102444800ull)) * 1000;  // 1970..2100
    if (millis) t.unix_ms += static_cast<std::int64_t>(n(0, 999));
    t.offset_minutes = coin(30) ? 0 : static_cast<std::int32_t>(n(0, 2 * 1439)) - 1439;
    return t;
  }
  void typed_text(const profile& p, std::string& value, text_type& type, text_type plain) {
    value = text();
    type = plain;
    if (!p.rich_text_types) return;
    switch (n(0, 2)) {
      case 0: type = text_type::text; break;
      case 1: type = text_type::html; break;
      default: {
        // A canonical XHTML fragment: what our serialiser writes for parsed XHTML.
        type = text_type::xhtml;
        value = "<p>";
        detail::append_xml_escaped(value, text());
        value += "</p>";
      }
    }
  }
  extension ext(int depth = 0) {
    extension x;
    x.ns = "urn:test:" + word();
    x.name = word();
    if (coin()) x.attributes.emplace_back(word(), text());
    if (coin(20)) x.attributes.emplace_back("{urn:test:attrs}" + word(), text());
    if (depth < 2 && coin(30)) {
      for (std::size_t i = 0, c = n(1, 3); i < c; ++i) x.children.push_back(ext(depth + 1));
    } else if (coin(80)) {
      x.value = text();
    }
    return x;
  }
  person someone(const profile& p) {
    person who;
    who.name = word() + " " + word();
    if (coin()) who.email = email();
    if (p.person_urls && coin()) who.url = url();
    return who;
  }
  media_object media() {
    media_object m{url(), coin() ? "image/jpeg" : "", coin() ? "image" : "", {}, {}};
    if (coin()) m.width = static_cast<std::uint32_t>(n(1, 4000));
    if (coin()) m.height = static_cast<std::uint32_t>(n(1, 4000));
    return m;
  }

  item make_item(const profile& p) {
    item it;
    it.id = coin(80) ? "urn:item:" + word() : url();
    if (p.permalink_flag) it.id_is_permalink = coin(30);
    typed_text(p, it.title, it.title_type, text_type::text);
    it.links.push_back(link{url(), "alternate", {}, {}, {}, {}});
    for (std::size_t i = 0, c = n(0, 2); i < c; ++i)
      it.links.push_back(link{url(), coin() ? "related" : "via", coin() ? "text/html" : "", coin() ? "en" : "",
                              coin() ? text() : "", coin() ? std::optional<std::uint64_t>(n(0, 1u << 30)) : std::nullopt});
    if (coin(80)) typed_text(p, it.summary, it.summary_type, text_type::html);
    if (coin(60)) typed_text(p, it.content, it.content_type, text_type::html);
    if (coin(80)) it.published = time(p.millisecond_published);
    it.updated = time(true);
    for (std::size_t i = 0, c = n(0, 2); i < c; ++i) it.authors.push_back(someone(p));
    for (std::size_t i = 0, c = n(0, 3); i < c; ++i)
      it.categories.push_back(category{text(), coin() ? url() : "", p.category_labels && coin() ? text() : ""});
    for (std::size_t i = 0, c = n(0, 2); i < c; ++i) {
      enclosure e{url(), "audio/mpeg", {}, static_cast<std::uint64_t>(n(0, 1ull << 40)), {}};
      if (p.enclosure_extras && coin()) e.title = text();
      if (p.enclosure_extras && coin()) e.duration_seconds = static_cast<double>(n(1, 100000)) / 4;
      it.enclosures.push_back(std::move(e));
    }
    for (std::size_t i = 0, c = n(0, 2); i < c; ++i) it.thumbnails.push_back(media());
    for (std::size_t i = 0, c = n(0, 2); i < c; ++i) it.media.push_back(media());
    if (coin()) it.language = coin() ? "fr" : "pt-BR";
    if (coin()) it.comments = url();
    if (coin(30)) it.source = source_ref{text(), url(), p.source_id ? "urn:src:" + word() : ""};
    for (std::size_t i = 0, c = n(0, 3); i < c; ++i) it.extensions.push_back(ext());
    return it;
  }

  feed make_feed(const profile& p) {
    feed f;
    typed_text(p, f.title, f.title_type, text_type::text);
    f.link = url();
    if (coin()) f.self_link = url();
    for (std::size_t i = 0, c = n(0, 2); i < c; ++i) f.hubs.push_back(url());
    if (coin()) f.links.push_back(link{url(), "next", {}, {}, {}, {}});
    if (p.feed_id) f.id = "urn:feed:" + word();
    if (coin(80)) typed_text(p, f.description, f.description_type, p.rich_text_types ? text_type::text : text_type::html);
    if (coin()) f.language = coin() ? "en" : "de-CH";
    f.updated = time(p.millisecond_published);
    for (std::size_t i = 0, c = n(0, 2); i < c; ++i) f.authors.push_back(someone(p));
    for (std::size_t i = 0, c = n(0, 2); i < c; ++i)
      f.categories.push_back(category{text(), coin() ? url() : "", p.category_labels && coin() ? text() : ""});
    if (coin()) f.logo = image{url(), p.logo_details ? text() : "", p.logo_details ? url() : ""};
    if (p.format != output_format::rss && coin()) f.icon = url();
    if (coin()) f.generator = text();
    if (coin()) f.rights = text();
    if (p.ttl && coin()) f.ttl_minutes = static_cast<std::uint32_t>(n(1, 1440));
    if (p.ttl && coin()) f.update_period_seconds = std::uint32_t(3600) / static_cast<std::uint32_t>(n(1, 4));
    for (std::size_t i = 0, c = n(0, 2); i < c; ++i) f.extensions.push_back(ext());
    for (std::size_t i = 0, c = n(0, 6); i < c; ++i) f.items.push_back(make_item(p));
    // Drawn last so the feeds drawn before skipHours/skipDays existed stay the same.
    if (p.ttl && coin(30)) f.skip_hours = static_cast<std::uint32_t>(n(1, 0xffffff));
    if (p.ttl && coin(30)) f.skip_days = static_cast<std::uint8_t>(n(1, 0x7f));
    return f;
  }

private:
  std::mt19937 rng_;
};

// Makes equal what a syntax cannot tell apart: the source format, and the type of an absent
// text. Items written without a language inherit the feed's.
void normalize(feed& f, output_format written_as) {
  f.format = feed_format::unknown;
  f.encoding.clear();  // what the rendered bytes were read in, not the model's
  if (written_as == output_format::atom && f.authors.empty()) {
    // Atom requires a feed author unless every entry has one (RFC 4287 4.1.1).
    bool every_entry = true;
    for (const auto& it : f.items) every_entry = every_entry && !it.authors.empty();
    if (!every_entry) f.authors.push_back(synthesized_feed_author(f));
  }
  if (written_as == output_format::rss && f.description.empty()) {
    // RSS requires a description: the title stands in.
    detail::append_xml_escaped(f.description, f.title);
    f.description_type = text_type::html;
  }
  if (written_as == output_format::atom)
    for (auto& it : f.items)
      if (it.language.empty()) it.language = f.language;  // xml:lang is inherited
  auto fix = [](const std::string& v, text_type& t) {
    if (v.empty()) t = text_type::text;
  };
  fix(f.title, f.title_type);
  fix(f.description, f.description_type);
  for (auto& it : f.items) {
    fix(it.title, it.title_type);
    fix(it.summary, it.summary_type);
    fix(it.content, it.content_type);
  }
}

void expect_round_trip(const profile& p, std::uint32_t seeds) {
  for (std::uint32_t seed = 1; seed <= seeds; ++seed) {
    generator g(seed * 7919 + static_cast<std::uint32_t>(p.format));
    feed model = g.make_feed(p);
    std::string bytes = render(model, p.format);
    parse_result r = parse(bytes);
    ASSERT_TRUE(r.ok()) << "seed " << seed << "\n" << testing::diags_text(r) << bytes;
    EXPECT_TRUE(r.diagnostics.empty()) << "seed " << seed << "\n" << testing::diags_text(r) << bytes;
    feed back = *r.value;
    normalize(model, p.format);
    normalize(back, p.format);
    if (back == model) continue;
    // Show where the two first differ, through their JSON renderings.
    std::string got = render(back, output_format::json), want = render(model, output_format::json);
    std::size_t at = 0;
    while (at < got.size() && at < want.size() && got[at] == want[at]) ++at;
    std::size_t from = at > 300 ? at - 300 : 0;
    ADD_FAILURE() << "seed " << seed << " (" << to_string(p.format) << ") differs at byte " << at
                  << "\n got: ..." << got.substr(from, 400) << "\nwant: ..." << want.substr(from, 400)
                  << "\nrendered:\n" << bytes.substr(0, 3000);
    return;
  }
}

TEST(RoundTrip, Rss) { expect_round_trip(rss_profile, 300); }
TEST(RoundTrip, Atom) { expect_round_trip(atom_profile, 300); }
TEST(RoundTrip, Json) { expect_round_trip(json_profile, 300); }

// Across syntaxes: what both carry survives RSS -> Atom -> JSON -> model.
TEST(RoundTrip, AcrossFormatsKeepsTheCommonFields) {
  for (std::uint32_t seed = 1; seed <= 50; ++seed) {
    generator g(seed);
    feed model = g.make_feed(rss_profile);
    feed back = *parse(render(*parse(render(*parse(render(model, output_format::rss)).value,
                                             output_format::atom)).value,
                                output_format::json)).value;
    ASSERT_EQ(back.items.size(), model.items.size());
    EXPECT_EQ(back.title, model.title);
    for (std::size_t i = 0; i < model.items.size(); ++i) {
      EXPECT_EQ(back.items[i].id, model.items[i].id);
      EXPECT_EQ(back.items[i].title, model.items[i].title);
      EXPECT_EQ(back.items[i].url(), model.items[i].url());
      EXPECT_EQ(back.items[i].published, model.items[i].published);
      EXPECT_EQ(back.items[i].summary, model.items[i].summary);
    }
  }
}

}  // namespace
}  // namespace syndic::formats
