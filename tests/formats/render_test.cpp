// Rendering: required elements, escaping, stable synthesised ids.

#include "test_util.hpp"

#include <syndic/formats/dates.hpp>
#include <syndic/formats/render.hpp>

namespace syndic::formats {
namespace {

feed sample() {
  feed f;
  f.title = "A <b> & \"quoted\" title";
  f.link = "https://x.example/?a=1&b=2";
  item it;
  it.title = "Item </title><script>alert(1)</script>";
  it.summary = "<p>html & stuff</p>";
  it.summary_type = text_type::html;
  f.items.push_back(it);
  return f;
}

TEST(Render, EscapingSurvivesEveryFormat) {
  feed f = sample();
  for (auto fmt : {output_format::rss, output_format::atom, output_format::json}) {
    std::string out = render(f, fmt);
    if (fmt != output_format::json) {
      EXPECT_EQ(out.find("<script>"), std::string::npos) << out;
    }
    feed back = testing::must_parse(out);
    EXPECT_EQ(back.title, f.title) << to_string(fmt);
    EXPECT_EQ(back.items.at(0).title, f.items[0].title) << to_string(fmt);
    EXPECT_EQ(back.items.at(0).summary, f.items[0].summary) << to_string(fmt);
  }
}

TEST(Render, AtomHasRequiredElementsAndStableIds) {
  feed f = sample();
  std::string a = render(f, output_format::atom);
  std::string b = render(f, output_format::atom);
  EXPECT_EQ(a, b);
  feed back = testing::must_parse(a);
  EXPECT_FALSE(back.id.empty());
  ASSERT_EQ(back.items.size(), 1u);
  EXPECT_EQ(back.items[0].id.rfind("urn:syndic:item:", 0), 0u) << back.items[0].id;
  EXPECT_TRUE(back.items[0].updated.has_value());  // atom:updated is required
  EXPECT_NE(a.find("<updated>1970-01-01T00:00:00Z</updated>"), std::string::npos);
}

TEST(Render, AtomUpdatedFallsBackToPublishedThenFeedDate) {
  feed f;
  f.title = "t";
  item it;
  it.id = "1";
  it.published = parse_iso8601("2024-05-06T07:08:09+02:00");
  f.items.push_back(it);
  std::string out = render(f, output_format::atom);
  EXPECT_NE(out.find("<updated>2024-05-06T07:08:09+02:00</updated>"), std::string::npos) << out;
}

TEST(Render, RssTextToHtmlConversionEscapes) {
  feed f;
  f.description = "1 < 2 & 3";
  f.description_type = text_type::text;
  std::string out = render(f, output_format::rss);
  feed back = testing::must_parse(out);
  EXPECT_EQ(back.description, "1 &lt; 2 &amp; 3");  // HTML whose text reads "1 < 2 & 3"
  EXPECT_EQ(back.description_type, text_type::html);
}

TEST(Render, RssTitleFromHtmlIsPlainText) {
  feed f;
  item it;
  it.title = "<b>Bold</b> &amp; co";
  it.title_type = text_type::html;
  f.items.push_back(it);
  feed back = testing::must_parse(render(f, output_format::rss));
  EXPECT_EQ(back.items.at(0).title, "Bold & co");
}

TEST(Render, XmlForbiddenControlCharactersAreDropped) {
  feed f;
  f.title = std::string("bell\x07 and nul") + '\0' + "!";
  for (auto fmt : {output_format::rss, output_format::atom}) {
    parse_result r = parse(render(f, fmt));
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r.recovered()) << testing::diags_text(r);
    EXPECT_EQ(r.value->title, "bell and nul!");
  }
  feed back = testing::must_parse(render(f, output_format::json));
  EXPECT_EQ(back.title, f.title);  // JSON can carry them, escaped
}

TEST(Render, JsonFeedHasRequiredMembers) {
  feed f;
  f.items.push_back(item{});
  std::string out = render(f, output_format::json);
  EXPECT_NE(out.find("\"version\":\"https://jsonfeed.org/version/1.1\""), std::string::npos);
  EXPECT_NE(out.find("\"title\":\"\""), std::string::npos);
  EXPECT_NE(out.find("\"items\":[{\"id\":\"urn:syndic:item:"), std::string::npos) << out;
}

}  // namespace
}  // namespace syndic::formats
