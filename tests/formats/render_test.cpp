// Rendering: required elements, escaping, stable synthesised ids.

#include "test_util.hpp"

#include <syndic/formats/dates.hpp>
#include <syndic/formats/render.hpp>

#include "text.hpp"
#include "url.hpp"

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

// ---------------------------------------------------------------------------------------------
// Hostile models and the validity of every output (issue 7, formats items 1, 5 and 6).
// ---------------------------------------------------------------------------------------------
namespace syndic::formats {
namespace {

// Parses our own output; it must be well-formed (and namespace-well-formed) XML or JSON.
feed reread(const std::string& out) {
  parse_result r = parse(out);
  EXPECT_TRUE(r.ok()) << out;
  EXPECT_FALSE(r.recovered()) << testing::diags_text(r) << out;
  return r.value ? *r.value : feed{};
}

std::size_t count(std::string_view hay, std::string_view needle) {
  std::size_t n = 0;
  for (std::size_t at = hay.find(needle); at != std::string_view::npos; at = hay.find(needle, at + 1)) ++n;
  return n;
}

feed injection_model() {
  feed f;
  f.title = "t";
  f.link = "https://x.example/";
  item it;
  it.id = "https://x.example/1";
  it.title = "a";
  it.links.push_back(link{"https://x.example/1", "alternate", {}, {}, {}, {}});
  extension x;
  x.name = "x/></item><item><title>INJECTED</title><guid>evil";
  x.value = "v";
  it.extensions.push_back(x);
  extension y;
  y.ns = "urn:y";
  y.name = "ok";
  y.attributes = {{"a\" b=\"c", "1"}, {"{}q", "2"}, {"xmlns:z", "u"},
                  {"{http://www.w3.org/2000/xmlns/}w", "u"}, {"fine", "3"}, {"fine", "4"}};
  extension child;
  child.name = "1bad";
  y.children.push_back(child);
  it.extensions.push_back(y);
  f.items.push_back(it);
  f.extensions.push_back(x);
  return f;
}

TEST(RenderHostile, ExtensionNamesThatAreNoXmlNamesAreDropped) {
  for (auto fmt : {output_format::rss, output_format::atom}) {
    std::string out = render(injection_model(), fmt);
    EXPECT_EQ(out.find("INJECTED"), std::string::npos) << out;
    feed back = reread(out);
    ASSERT_EQ(back.items.size(), 1u) << out;
    EXPECT_EQ(back.items[0].title, "a");
  }
}

TEST(RenderHostile, ExtensionAttributeNamesAreCheckedAndWrittenOnce) {
  for (auto fmt : {output_format::rss, output_format::atom}) {
    std::string out = render(injection_model(), fmt);
    reread(out);
    EXPECT_EQ(count(out, " fine=\"3\""), 1u) << out;
    EXPECT_EQ(out.find("fine=\"4\""), std::string::npos) << out;
    EXPECT_EQ(out.find("xmlns:z"), std::string::npos) << out;
    EXPECT_EQ(out.find("1bad"), std::string::npos) << out;
  }
}

TEST(RenderHostile, NonAsciiExtensionNamesAreDropped) {
  // "€" is a name by XML 1.0 fifth edition, not by the fourth that expat still applies.
  feed f;
  f.title = "t";
  extension x;
  x.ns = "urn:x";
  x.name = "\xE2\x82\xAC";
  x.value = "v";
  extension y = x;
  y.name = "ok";
  y.attributes = {{"\xC3\xA9t\xC3\xA9", "1"}};
  f.extensions = {x, y};
  for (auto fmt : {output_format::rss, output_format::atom}) {
    std::string out = render(f, fmt);
    EXPECT_EQ(out.find("\xE2\x82\xAC"), std::string::npos) << out;
    EXPECT_EQ(out.find("\xC3\xA9t"), std::string::npos) << out;
    EXPECT_NE(out.find(":ok>v</"), std::string::npos) << out;
  }
}

TEST(RenderHostile, DroppedNamesAreReported) {
  std::vector<diagnostic> notes;
  render(injection_model(), output_format::rss, &notes);
  std::string all;
  for (const auto& d : notes) all += format_diagnostic(d) + "\n";
  EXPECT_NE(all.find("extension element 'x/></item><item><title>INJECTED</title><guid>evil' is not an XML name"),
            std::string::npos) << all;
  EXPECT_NE(all.find("'1bad'"), std::string::npos) << all;
  EXPECT_NE(all.find("'xmlns:z'"), std::string::npos) << all;
  EXPECT_NE(all.find("written twice"), std::string::npos) << all;
}

TEST(RenderHostile, AtomXhtmlThatIsNotWellFormedIsSentAsHtml) {
  feed f;
  f.title = "t";
  item it;
  it.id = "urn:x:1";
  it.title = "</div></title><title>INJECTED";
  it.title_type = text_type::xhtml;
  it.content = "<p>hi</p><script>";
  it.content_type = text_type::xhtml;
  it.summary = "a &nbsp; b <b>c</b>";  // an HTML entity: not XML
  it.summary_type = text_type::xhtml;
  f.items.push_back(it);
  std::string out = render(f, output_format::atom);
  EXPECT_EQ(out.find("<title>INJECTED"), std::string::npos) << out;
  feed back = reread(out);
  ASSERT_EQ(back.items.size(), 1u);
  EXPECT_EQ(back.items[0].title, it.title);
  EXPECT_EQ(back.items[0].title_type, text_type::html);
  EXPECT_EQ(back.items[0].content, it.content);
  EXPECT_EQ(back.items[0].summary, it.summary);
}

TEST(RenderHostile, AtomXhtmlThatIsWellFormedStaysXhtml) {
  feed f;
  item it;
  it.id = "urn:x:1";
  it.content = "<p>fine &amp; <m:b xmlns:m=\"urn:m\">dandy</m:b><br /></p>";
  it.content_type = text_type::xhtml;
  f.items.push_back(it);
  std::string out = render(f, output_format::atom);
  EXPECT_NE(out.find("<content type=\"xhtml\"><div xmlns=\"http://www.w3.org/1999/xhtml\"><p>fine &amp; "
                     "<m:b xmlns:m=\"urn:m\">dandy</m:b><br /></p></div></content>"),
            std::string::npos) << out;
  reread(out);
}

constexpr std::string_view namespaced_atom = R"(<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:m="http://www.w3.org/1998/Math/MathML">
<title>n</title><id>urn:x:feed</id><updated>2024-01-02T03:04:05Z</updated>
<author><name>a</name></author>
<entry><title>svg in xhtml</title><id>urn:x:1</id><updated>2024-01-02T03:04:05Z</updated>
<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>c</p><svg xmlns="http://www.w3.org/2000/svg"><circle r="4"/></svg><m:math><m:mi>x</m:mi></m:math></div></content>
</entry>
<entry><title>an svg document</title><id>urn:x:2</id><updated>2024-01-02T03:04:05Z</updated>
<content type="image/svg+xml"><svg xmlns="http://www.w3.org/2000/svg"><rect width="1" height="1"/></svg></content>
</entry>
</feed>)";

TEST(RenderValid, AtomXhtmlKeepsItsNamespaceDeclarations) {
  feed f = testing::must_parse(namespaced_atom);
  std::string out = render(f, output_format::atom);
  feed back = reread(out);  // m:math without its declaration would be an unbound prefix
  EXPECT_NE(out.find("<svg xmlns=\"http://www.w3.org/2000/svg\"><circle r=\"4\"></circle></svg>"), std::string::npos) << out;
  EXPECT_NE(out.find("<m:math xmlns:m=\"http://www.w3.org/1998/Math/MathML\">"), std::string::npos) << out;
  ASSERT_EQ(back.items.size(), 2u);
  EXPECT_EQ(back.items[0].content_type, text_type::xhtml);
}

TEST(RenderValid, AtomSvgContentIsNotTurnedIntoXhtml) {
  feed f = testing::must_parse(namespaced_atom);
  ASSERT_EQ(f.items.size(), 2u);
  EXPECT_NE(f.items[1].content_type, text_type::xhtml);
  std::string out = render(f, output_format::atom);
  std::size_t second = out.find("<id>urn:x:2</id>");
  ASSERT_NE(second, std::string::npos);
  EXPECT_EQ(out.find("type=\"xhtml\"", second), std::string::npos) << out.substr(second);
  reread(out);
}

TEST(RenderValid, AtomFeedHasAnAuthorWhenAnEntryHasNone) {
  feed f;
  f.title = "<b>Wire</b>";
  f.title_type = text_type::html;
  item with, without;
  with.id = "urn:x:1";
  with.authors.push_back(person{"Ann", {}, {}});
  without.id = "urn:x:2";
  f.items = {with, without};
  feed back = reread(render(f, output_format::atom));
  ASSERT_EQ(back.authors.size(), 1u);
  EXPECT_EQ(back.authors[0].name, "Wire");
  f.items = {with};  // every entry has one: none is invented
  EXPECT_TRUE(reread(render(f, output_format::atom)).authors.empty());
}

TEST(RenderValid, AtomIdsAreAbsoluteIris) {
  feed f;
  f.title = "pod";
  f.id = "podcast 7";  // no IRI either
  item it;
  it.id = "pod-12";
  item spaced;
  spaced.id = "http://x.example/a b";
  f.items = {it, spaced};
  std::string out = render(f, output_format::atom);
  EXPECT_EQ(out, render(f, output_format::atom));  // stable
  feed back = reread(out);
  EXPECT_EQ(back.id.rfind("urn:uuid:", 0), 0u) << back.id;
  ASSERT_EQ(back.items.size(), 2u);
  EXPECT_EQ(back.items[0].id.rfind("urn:uuid:", 0), 0u) << back.items[0].id;
  EXPECT_EQ(back.items[0].id.size(), std::string_view("urn:uuid:12345678-1234-8234-8234-123456789012").size());
  EXPECT_EQ(back.items[1].id, "http://x.example/a%20b");
  feed other = f;
  other.id = "podcast 8";  // the same guid in another feed is another entry
  EXPECT_NE(reread(render(other, output_format::atom)).items[0].id, back.items[0].id);
  EXPECT_EQ(render(f, output_format::rss).find("urn:uuid"), std::string::npos);  // RSS keeps the guid
}

TEST(RenderValid, AtomEntryWithoutLinkOrContentHasContent) {
  feed f = testing::must_parse(R"(<rss version="2.0"><channel><title>t</title><item><guid isPermaLink="false">g1</guid><description>only &lt;b&gt;this&lt;/b&gt;</description></item></channel></rss>)");
  std::string out = render(f, output_format::atom);
  EXPECT_NE(out.find("<content type=\"html\">only &lt;b&gt;this&lt;/b&gt;</content>"), std::string::npos) << out;
  reread(out);
}

TEST(RenderValid, AtomEmailIsWrittenOnlyWhenItIsAnAddress) {
  feed f;
  f.authors.push_back(person{"Ann", "not an address", {}});
  f.authors.push_back(person{{}, "bob@x.example", {}});
  std::string out = render(f, output_format::atom);
  EXPECT_EQ(out.find("<email>not an address</email>"), std::string::npos) << out;
  EXPECT_NE(out.find("<name>bob@x.example</name>\n<email>bob@x.example</email>"), std::string::npos) << out;
  reread(out);
}

TEST(RenderValid, JsonItemWithOnlyADescriptionHasContent) {
  feed f = testing::must_parse(R"(<rss version="2.0"><channel><title>t</title><item><guid isPermaLink="false">g1</guid><description>only &lt;b&gt;this&lt;/b&gt;</description></item><item><guid isPermaLink="false">g2</guid><title>bare</title></item></channel></rss>)");
  std::string out = render(f, output_format::json);
  EXPECT_NE(out.find(R"("content_html":"only <b>this</b>")"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("title":"bare","content_html":"")"), std::string::npos) << out;
  feed back = reread(out);  // content_is_summary: the model is unchanged
  ASSERT_EQ(back.items.size(), 2u);
  EXPECT_EQ(back.items[0].content, "");
  EXPECT_EQ(back.items[0].summary, "only <b>this</b>");
}

TEST(RenderValid, JsonTitleAndSummaryArePlainText) {
  feed f;
  f.title = "<i>Feed</i> &amp; co";
  f.title_type = text_type::html;
  item it;
  it.id = "1";
  it.title = "<b>Bold</b> &amp; co";
  it.title_type = text_type::html;
  it.summary = "<p>Para &lt;3</p>";
  it.summary_type = text_type::html;
  f.items.push_back(it);
  std::string out = render(f, output_format::json);
  EXPECT_NE(out.find(R"("title":"Feed & co")"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("title":"Bold & co")"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("summary":"Para <3")"), std::string::npos) << out;
  feed back = reread(out);  // the markup is kept in _syndic
  EXPECT_EQ(back.title, f.title);
  ASSERT_EQ(back.items.size(), 1u);
  EXPECT_EQ(back.items[0].title, it.title);
  EXPECT_EQ(back.items[0].summary, it.summary);
}

TEST(RenderValid, JsonAuthorWithOnlyAnEmailHasAMailtoUrl) {
  feed f;
  item it;
  it.id = "1";
  it.authors.push_back(person{{}, "ann@x.example", {}});
  it.authors.push_back(person{});  // nothing at all: left out
  f.items.push_back(it);
  std::string out = render(f, output_format::json);
  EXPECT_NE(out.find(R"("authors":[{"url":"mailto:ann@x.example"}])"), std::string::npos) << out;
  EXPECT_EQ(out.find("{}"), std::string::npos) << out;
}

TEST(RenderValid, RssSourceWithoutUrlIsLeftOut) {
  feed f;
  item it;
  it.title = "t";
  it.source = source_ref{"Elsewhere", {}, {}};
  f.items.push_back(it);
  EXPECT_EQ(render(f, output_format::rss).find("<source"), std::string::npos);
  it.source.url = "https://else.example/rss";
  f.items = {it};
  EXPECT_NE(render(f, output_format::rss).find("<source url=\"https://else.example/rss\">Elsewhere</source>"),
            std::string::npos);
}

TEST(RenderValid, RssImageHasItsRequiredTitleAndLink) {
  feed f;
  f.title = "<b>T</b>";
  f.title_type = text_type::html;
  f.self_link = "https://x.example/feed";
  f.logo.url = "https://x.example/logo.png";
  std::string out = render(f, output_format::rss);
  EXPECT_NE(out.find("<image>\n<url>https://x.example/logo.png</url>\n<title>T</title>\n"
                     "<link>https://x.example/feed</link>\n</image>"),
            std::string::npos) << out;
}

TEST(RenderValid, RssUpdatePeriodsKeepTheirUnit) {
  struct {
    std::uint32_t seconds;
    std::string_view period, frequency;
  } cases[] = {{900, "hourly", "4"},      {7200, "daily", "12"},        {86400, "daily", "1"},
               {7 * 86400, "weekly", "1"}, {15 * 86400, "monthly", "2"}, {30 * 86400, "monthly", "1"},
               {365 * 86400, "yearly", "1"}};
  for (const auto& c : cases) {
    feed f;
    f.title = "t";
    f.update_period_seconds = c.seconds;
    std::string out = render(f, output_format::rss);
    EXPECT_NE(out.find("<sy:updatePeriod>" + std::string(c.period) + "</sy:updatePeriod>\n<sy:updateFrequency>" +
                       std::string(c.frequency) + "</sy:updateFrequency>"),
              std::string::npos) << c.seconds << "\n" << out;
    EXPECT_EQ(reread(out).update_period_seconds, c.seconds);
  }
}

TEST(RenderValid, SkipHoursAndDaysSurviveRssAndJson) {
  feed f;
  f.title = "t";
  f.ttl_minutes = 30;
  f.skip_hours = (1u << 0) | (1u << 12) | (1u << 23);
  f.skip_days = (1u << 0) | (1u << 6);
  std::string rss = render(f, output_format::rss);
  EXPECT_NE(rss.find("<skipHours>\n<hour>0</hour>\n<hour>12</hour>\n<hour>23</hour>\n</skipHours>\n"
                     "<skipDays>\n<day>Sunday</day>\n<day>Saturday</day>\n</skipDays>"),
            std::string::npos) << rss;
  feed back = reread(rss);
  EXPECT_EQ(back.skip_hours, f.skip_hours);
  EXPECT_EQ(back.skip_days, f.skip_days);
  std::string json = render(f, output_format::json);
  EXPECT_NE(json.find("\"skip_hours\""), std::string::npos) << json;
  back = reread(json);
  EXPECT_EQ(back.skip_hours, f.skip_hours);
  EXPECT_EQ(back.skip_days, f.skip_days);
  // None set: nothing written.
  f.skip_hours = 0;
  f.skip_days = 0;
  rss = render(f, output_format::rss);
  EXPECT_EQ(rss.find("skip"), std::string::npos) << rss;
  EXPECT_EQ(render(f, output_format::json).find("skip_"), std::string::npos);
}

TEST(RenderValid, RssChannelLinkAndDescriptionAreNeverEmpty) {
  feed f;
  f.title = "Only a title";
  std::string out = render(f, output_format::rss);
  EXPECT_EQ(out.find("<link></link>"), std::string::npos) << out;
  EXPECT_EQ(out.find("<description></description>"), std::string::npos) << out;
  EXPECT_NE(out.find("<description>Only a title</description>"), std::string::npos) << out;
  f.self_link = "https://x.example/feed.xml";
  EXPECT_NE(render(f, output_format::rss).find("<link>https://x.example/feed.xml</link>"), std::string::npos);
}

TEST(RenderValid, RssRequiredElementsAreNeverBlank) {
  // U+FFFF cannot be written in XML at all: a value made of it is as good as empty.
  const std::string nothing = "\xEF\xBF\xBF\xEF\xBF\xBF";
  feed f;
  f.title = nothing;
  f.link = nothing;
  f.logo = image{"https://x.example/logo.png", nothing, nothing};
  item it;
  it.id = nothing;
  it.title = nothing;
  f.items.push_back(it);
  std::string out = render(f, output_format::rss);
  for (std::string_view empty : {"<title></title>", "<link></link>", "<description></description>", "<guid isPermaLink=\"false\"></guid>"})
    EXPECT_EQ(out.find(empty), std::string::npos) << empty << "\n" << out;
  reread(out);
}

TEST(RenderValid, RssPermalinkOnlyForUrls) {
  feed f;
  item it;
  it.title = "t";
  it.id = "b-1";
  it.id_is_permalink = true;  // what a bare <guid>b-1</guid> says
  f.items.push_back(it);
  EXPECT_NE(render(f, output_format::rss).find("<guid isPermaLink=\"false\">b-1</guid>"), std::string::npos);
}

TEST(RenderValid, UrlEscapesAreDecodedOnlyIntoValidUtf8) {
  EXPECT_EQ(detail::resolve_url("http://x.example/\xC3\xA9/", "a%FF%C3%A9%C3"),
            "http://x.example/\xC3\xA9/a%FF\xC3\xA9%C3");
  feed f = testing::must_parse(R"(<feed xmlns="http://www.w3.org/2005/Atom" xml:base="http://x.example/d/"><title>t</title>
    <entry><title>e</title><id>urn:x:1</id><link href="caf%C3%A9/%FF/é"/></entry></feed>)");
  ASSERT_EQ(f.items.size(), 1u);
  EXPECT_TRUE(detail::is_valid_utf8(f.items[0].url())) << f.items[0].url();
  for (auto fmt : {output_format::rss, output_format::atom, output_format::json}) reread(render(f, fmt));
}

TEST(RenderValid, JsonExposesTheDetectedCharset) {
  auto encoding_of = [](std::string_view doc, std::string charset = {}) {
    parse_options o;
    o.transport_charset = std::move(charset);
    return testing::must_parse(doc, o).encoding;
  };
  constexpr std::string_view latin1 = "<?xml version=\"1.0\" encoding=\"iso-8859-1\"?><rss version=\"2.0\"><channel><title>caf\xE9</title></channel></rss>";
  EXPECT_EQ(encoding_of(latin1), "iso-8859-1");
  EXPECT_EQ(encoding_of("<?xml version=\"1.0\" encoding=\"windows-1252\"?><rss version=\"2.0\"><channel><title>\x93q\x94</title></channel></rss>"), "windows-1252");
  EXPECT_EQ(encoding_of("<rss version=\"2.0\"><channel><title>ascii</title></channel></rss>", "us-ascii"), "us-ascii");
  EXPECT_EQ(encoding_of("<rss version=\"2.0\"><channel><title>caf\xC3\xA9</title></channel></rss>"), "utf-8");
  feed f;
  f.encoding = "iso-8859-1";
  EXPECT_NE(render(f, output_format::json).find(R"("_syndic":{"format":"unknown","encoding":"iso-8859-1")"),
            std::string::npos);
}

}  // namespace
}  // namespace syndic::formats
