// JSON Feed 1.0 and 1.1.

#include "test_util.hpp"

#include <syndic/formats/dates.hpp>

namespace syndic::formats {
namespace {

using testing::must_parse;

TEST(ParseJson, Version11) {
  feed f = must_parse(R"({
    "version": "https://jsonfeed.org/version/1.1",
    "title": "JF", "home_page_url": "https://j.example/", "feed_url": "https://j.example/feed.json",
    "description": "Desc", "icon": "https://j.example/icon.png", "favicon": "https://j.example/fav.ico",
    "language": "de", "authors": [{"name": "A", "url": "https://a.example/"}],
    "hubs": [{"type": "WebSub", "url": "https://hub.example/"}],
    "items": [{
      "id": "1", "url": "https://j.example/1", "external_url": "https://ext.example/",
      "title": "One", "content_html": "<p>Hi</p>", "summary": "S",
      "image": "https://j.example/1.png",
      "date_published": "2020-01-02T03:04:05+02:00", "date_modified": "2020-01-03T00:00:00Z",
      "authors": [{"name": "B"}], "tags": ["x", "y"], "language": "en",
      "attachments": [{"url": "https://j.example/1.mp3", "mime_type": "audio/mpeg",
                       "title": "Audio", "size_in_bytes": 100, "duration_in_seconds": 61.5}]
    }]})");
  EXPECT_EQ(f.format, feed_format::json11);
  EXPECT_EQ(f.title, "JF");
  EXPECT_EQ(f.link, "https://j.example/");
  EXPECT_EQ(f.self_link, "https://j.example/feed.json");
  EXPECT_EQ(f.logo.url, "https://j.example/icon.png");
  EXPECT_EQ(f.icon, "https://j.example/fav.ico");
  EXPECT_EQ(f.language, "de");
  EXPECT_EQ(f.authors.at(0).url, "https://a.example/");
  EXPECT_EQ(f.hubs.at(0), "https://hub.example/");
  const item& it = f.items.at(0);
  EXPECT_EQ(it.id, "1");
  EXPECT_EQ(it.url(), "https://j.example/1");
  EXPECT_EQ(it.links.at(1).rel, "related");
  EXPECT_EQ(it.content, "<p>Hi</p>");
  EXPECT_EQ(it.content_type, text_type::html);
  EXPECT_EQ(it.thumbnails.at(0).url, "https://j.example/1.png");
  EXPECT_EQ(format_rfc3339(*it.published), "2020-01-02T03:04:05+02:00");
  EXPECT_EQ(it.categories.size(), 2u);
  EXPECT_EQ(it.enclosures.at(0).length, 100u);
  EXPECT_EQ(it.enclosures.at(0).duration_seconds, 61.5);
}

TEST(ParseJson, Version10AuthorAndNumericIds) {
  feed f = must_parse(R"({"version": "https://jsonfeed.org/version/1", "title": "Old",
    "author": {"name": "Solo", "url": "https://solo.example/"},
    "items": [{"id": 42, "content_text": "plain"}, {"id": 1.5e3, "content_text": "x"},
              {"id": 18446744073709551615, "content_text": "big"}]})");
  EXPECT_EQ(f.format, feed_format::json10);
  EXPECT_EQ(f.authors.at(0).name, "Solo");
  ASSERT_EQ(f.items.size(), 3u);
  EXPECT_EQ(f.items[0].id, "42");
  EXPECT_EQ(f.items[0].content_type, text_type::text);
  EXPECT_EQ(f.items[1].id, "1500");
  EXPECT_EQ(f.items[2].id, "18446744073709551615");
}

TEST(ParseJson, MalformedJsonIsFatal) {
  parse_result r = parse(R"({"version": "https://jsonfeed.org/version/1.1", "items": [)");
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(testing::has_code(r, diag_code::json));
}

TEST(ParseJson, JsonThatIsNoFeedIsRejected) {
  parse_result r = parse(R"({"hello": "world"})");
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(testing::has_code(r, diag_code::format));
}

TEST(ParseJson, WrongTypesAreReportedNotFatal) {
  parse_result r = parse(R"({"version": "https://jsonfeed.org/version/1.1", "title": ["no"],
    "items": [{"id": "1", "tags": "not-an-array", "date_published": "yesterday"}, 7]})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value->items.size(), 1u);
  EXPECT_TRUE(testing::has_code(r, diag_code::value));
  EXPECT_TRUE(testing::has_code(r, diag_code::date));
}

TEST(ParseJson, RelativeUrlsResolveAgainstDocument) {
  parse_options o;
  o.document_url = "https://j.example/feeds/feed.json";
  feed f = must_parse(R"({"version": "https://jsonfeed.org/version/1.1", "title": "t",
    "items": [{"id": "1", "url": "posts/1"}]})", o);
  EXPECT_EQ(f.items.at(0).url(), "https://j.example/feeds/posts/1");
}

TEST(ParseJson, DepthLimit) {
  parse_options o;
  o.max_depth = 8;
  std::string deep = R"({"version": "https://jsonfeed.org/version/1.1", "title": "t", "items": [], "x": )";
  for (int i = 0; i < 50; ++i) deep += "[";
  for (int i = 0; i < 50; ++i) deep += "]";
  deep += "}";
  parse_result r = parse(deep, o);
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(testing::has_code(r, diag_code::limit));
}

}  // namespace
}  // namespace syndic::formats
