// RSS 0.90, 0.91-0.94, 2.0 and 1.0, and the modules read inside them.

#include "test_util.hpp"

#include <syndic/formats/dates.hpp>

namespace syndic::formats {
namespace {

using testing::must_parse;

std::string rfc3339(const std::optional<timestamp>& t) { return t ? format_rfc3339(*t) : "-"; }

TEST(ParseRss, Rss20CoreElements) {
  feed f = must_parse(R"(<?xml version="1.0"?>
<rss version="2.0"><channel>
  <title>Wire &amp; Co</title><link>https://wire.example/</link>
  <description>&lt;b&gt;News&lt;/b&gt;</description><language>en-us</language>
  <copyright>(c) Wire</copyright><generator>gen 1</generator><ttl>15</ttl>
  <managingEditor>ed@wire.example (Ed Itor)</managingEditor>
  <lastBuildDate>Sat, 07 Sep 2002 09:42:31 GMT</lastBuildDate>
  <category domain="https://cats.example/">Business</category>
  <image><url>https://wire.example/logo.png</url><title>Logo</title><link>https://wire.example/</link></image>
  <item>
    <title>First</title><link>https://wire.example/1</link>
    <description><![CDATA[<p>Hello <b>world</b></p>]]></description>
    <author>jane@wire.example (Jane Doe)</author>
    <category>Markets</category><comments>https://wire.example/1#c</comments>
    <enclosure url="https://wire.example/1.mp3" length="12345" type="audio/mpeg"/>
    <guid isPermaLink="false">wire-1</guid>
    <pubDate>Sun, 08 Sep 2002 10:00:00 -0500</pubDate>
    <source url="https://origin.example/rss">Origin</source>
  </item>
</channel></rss>)");
  EXPECT_EQ(f.format, feed_format::rss20);
  EXPECT_EQ(f.title, "Wire & Co");
  EXPECT_EQ(f.link, "https://wire.example/");
  EXPECT_EQ(f.description, "<b>News</b>");
  EXPECT_EQ(f.description_type, text_type::html);
  EXPECT_EQ(f.language, "en-us");
  EXPECT_EQ(f.rights, "(c) Wire");
  EXPECT_EQ(f.generator, "gen 1");
  EXPECT_EQ(f.ttl_minutes, 15u);
  ASSERT_EQ(f.authors.size(), 1u);
  EXPECT_EQ(f.authors[0].email, "ed@wire.example");
  EXPECT_EQ(f.authors[0].name, "Ed Itor");
  EXPECT_EQ(rfc3339(f.updated), "2002-09-07T09:42:31Z");
  ASSERT_EQ(f.categories.size(), 1u);
  EXPECT_EQ(f.categories[0].scheme, "https://cats.example/");
  EXPECT_EQ(f.logo.url, "https://wire.example/logo.png");
  EXPECT_EQ(f.logo.title, "Logo");
  ASSERT_EQ(f.items.size(), 1u);
  const item& it = f.items[0];
  EXPECT_EQ(it.title, "First");
  EXPECT_EQ(it.url(), "https://wire.example/1");
  EXPECT_EQ(it.summary, "<p>Hello <b>world</b></p>");
  EXPECT_EQ(it.summary_type, text_type::html);
  ASSERT_EQ(it.authors.size(), 1u);
  EXPECT_EQ(it.authors[0].name, "Jane Doe");
  EXPECT_EQ(it.categories.at(0).term, "Markets");
  EXPECT_EQ(it.comments, "https://wire.example/1#c");
  ASSERT_EQ(it.enclosures.size(), 1u);
  EXPECT_EQ(it.enclosures[0].length, 12345u);
  EXPECT_EQ(it.enclosures[0].type, "audio/mpeg");
  EXPECT_EQ(it.id, "wire-1");
  EXPECT_FALSE(it.id_is_permalink);
  EXPECT_EQ(rfc3339(it.published), "2002-09-08T10:00:00-05:00");
  EXPECT_EQ(it.source.url, "https://origin.example/rss");
  EXPECT_EQ(it.source.title, "Origin");
}

TEST(ParseRss, PermalinkGuidIsTheLinkWhenThereIsNone) {
  feed f = must_parse(R"(<rss version="2.0"><channel><title>t</title>
    <item><guid>https://x.example/a</guid></item>
    <item><guid isPermaLink="true">https://x.example/b</guid><link>https://x.example/b2</link></item>
  </channel></rss>)");
  ASSERT_EQ(f.items.size(), 2u);
  EXPECT_TRUE(f.items[0].id_is_permalink);
  EXPECT_EQ(f.items[0].url(), "https://x.example/a");
  EXPECT_EQ(f.items[1].url(), "https://x.example/b2");
}

struct version_case {
  const char* doc;
  feed_format expected;
};

class RssVersions : public ::testing::TestWithParam<version_case> {};

TEST_P(RssVersions, DetectedByContent) {
  feed f = must_parse(GetParam().doc);
  EXPECT_EQ(f.format, GetParam().expected) << to_string(f.format);
  ASSERT_EQ(f.items.size(), 1u);
  EXPECT_EQ(f.items[0].title, "It");
  EXPECT_EQ(f.title, "Chan");
}

INSTANTIATE_TEST_SUITE_P(
    All, RssVersions,
    ::testing::Values(
        version_case{R"(<rss version="0.91"><channel><title>Chan</title><item><title>It</title></item></channel></rss>)", feed_format::rss091},
        version_case{R"(<rss version="0.92"><channel><title>Chan</title><item><title>It</title></item></channel></rss>)", feed_format::rss092},
        version_case{R"(<rss version="0.93"><channel><title>Chan</title><item><title>It</title></item></channel></rss>)", feed_format::rss093},
        version_case{R"(<rss version="0.94"><channel><title>Chan</title><item><title>It</title></item></channel></rss>)", feed_format::rss094},
        version_case{R"(<rss version="2.0"><channel><title>Chan</title><item><title>It</title></item></channel></rss>)", feed_format::rss20},
        version_case{R"(<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://my.netscape.com/rdf/simple/0.9/"><channel><title>Chan</title></channel><item><title>It</title></item></rdf:RDF>)", feed_format::rss090},
        version_case{R"(<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"><channel rdf:about="https://x.example/"><title>Chan</title></channel><item rdf:about="https://x.example/1"><title>It</title></item></rdf:RDF>)", feed_format::rss10}));

TEST(ParseRss, Rss10ItemIdentityAndDublinCore) {
  feed f = must_parse(R"(<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
         xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://x.example/rss"><title>Chan</title><link>https://x.example/</link>
    <dc:language>fr</dc:language><dc:date>2003-12-13T18:30:02+01:00</dc:date></channel>
  <image rdf:about="https://x.example/i.png"><url>https://x.example/i.png</url><title>I</title></image>
  <item rdf:about="https://x.example/1"><title>It</title><link>https://x.example/1</link>
    <dc:creator>Marie</dc:creator><dc:subject>Science</dc:subject>
    <dc:date>2003-12-13T18:30:02+01:00</dc:date><description>Text</description></item>
</rdf:RDF>)");
  EXPECT_EQ(f.format, feed_format::rss10);
  EXPECT_EQ(f.language, "fr");
  EXPECT_EQ(rfc3339(f.updated), "2003-12-13T18:30:02+01:00");
  EXPECT_EQ(f.logo.url, "https://x.example/i.png");
  ASSERT_EQ(f.items.size(), 1u);
  EXPECT_EQ(f.items[0].id, "https://x.example/1");
  EXPECT_EQ(f.items[0].authors.at(0).name, "Marie");
  EXPECT_EQ(f.items[0].categories.at(0).term, "Science");
  EXPECT_EQ(rfc3339(f.items[0].updated), "2003-12-13T18:30:02+01:00");
}

TEST(ParseRss, NamespacesMatchByUriNotPrefix) {
  // Unusual prefixes for the usual namespaces, and the usual prefix bound to something else.
  feed f = must_parse(R"(<rss version="2.0" xmlns:c="http://purl.org/rss/1.0/modules/content/"
      xmlns:dublin="http://purl.org/dc/elements/1.1/" xmlns:dc="urn:not-dublin-core">
    <channel><title>t</title><item><title>i</title>
      <c:encoded><![CDATA[<p>full</p>]]></c:encoded>
      <dublin:creator>Right</dublin:creator><dc:creator>Wrong</dc:creator>
    </item></channel></rss>)");
  ASSERT_EQ(f.items.size(), 1u);
  EXPECT_EQ(f.items[0].content, "<p>full</p>");
  ASSERT_EQ(f.items[0].authors.size(), 1u);
  EXPECT_EQ(f.items[0].authors[0].name, "Right");
  ASSERT_EQ(f.items[0].extensions.size(), 1u);
  EXPECT_EQ(f.items[0].extensions[0].ns, "urn:not-dublin-core");
}

TEST(ParseRss, AtomLinksInsideRss) {
  feed f = must_parse(R"(<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>
    <title>t</title><link>https://x.example/</link>
    <atom:link rel="self" href="https://x.example/feed.xml" type="application/rss+xml"/>
    <atom:link rel="hub" href="https://hub.example/"/>
    <atom:link rel="next" href="https://x.example/feed.xml?page=2"/>
    <item><title>i</title><atom:link rel="related" href="https://y.example/" length="10"/></item>
  </channel></rss>)");
  EXPECT_EQ(f.self_link, "https://x.example/feed.xml");
  ASSERT_EQ(f.hubs.size(), 1u);
  EXPECT_EQ(f.hubs[0], "https://hub.example/");
  ASSERT_EQ(f.links.size(), 1u);
  EXPECT_EQ(f.links[0].rel, "next");
  ASSERT_EQ(f.items.at(0).links.size(), 1u);
  EXPECT_EQ(f.items[0].links[0].rel, "related");
  EXPECT_EQ(f.items[0].links[0].length, 10u);
}

TEST(ParseRss, MediaRss) {
  feed f = must_parse(R"(<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>t</title>
    <item><title>i</title>
      <media:thumbnail url="https://x.example/t.jpg" width="120" height="90"/>
      <media:group>
        <media:content url="https://x.example/v.mp4" type="video/mp4" medium="video" width="640"/>
        <media:description>Group description</media:description>
      </media:group>
      <media:content url="https://x.example/a.jpg" medium="image">
        <media:thumbnail url="https://x.example/a-small.jpg"/>
      </media:content>
    </item></channel></rss>)");
  const item& it = f.items.at(0);
  ASSERT_EQ(it.thumbnails.size(), 2u);
  EXPECT_EQ(it.thumbnails[0].width, 120u);
  EXPECT_EQ(it.thumbnails[1].url, "https://x.example/a-small.jpg");
  ASSERT_EQ(it.media.size(), 2u);
  EXPECT_EQ(it.media[0].type, "video/mp4");
  EXPECT_EQ(it.media[0].medium, "video");
  EXPECT_EQ(it.media[1].medium, "image");
  EXPECT_EQ(it.summary, "Group description");
}

TEST(ParseRss, ItunesPodcastPassesThroughAndFillsGaps) {
  feed f = must_parse(R"(<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel>
    <title>Pod</title><itunes:author>Host</itunes:author>
    <itunes:image href="https://x.example/cover.jpg"/>
    <itunes:category text="News"><itunes:category text="Politics"/></itunes:category>
    <item><title>Ep 1</title><itunes:duration>01:02:03</itunes:duration>
      <itunes:summary>About ep 1</itunes:summary><itunes:explicit>false</itunes:explicit>
      <enclosure url="https://x.example/1.mp3" length="1" type="audio/mpeg"/></item>
  </channel></rss>)");
  EXPECT_EQ(f.authors.at(0).name, "Host");
  EXPECT_EQ(f.logo.url, "https://x.example/cover.jpg");
  ASSERT_EQ(f.extensions.size(), 3u);
  EXPECT_EQ(f.extensions[2].name, "category");
  ASSERT_EQ(f.extensions[2].children.size(), 1u);
  EXPECT_EQ(f.extensions[2].children[0].attributes.at(0).second, "Politics");
  const item& it = f.items.at(0);
  EXPECT_EQ(it.summary, "About ep 1");
  ASSERT_EQ(it.extensions.size(), 3u);
  EXPECT_EQ(it.extensions[0].ns, "http://www.itunes.com/dtds/podcast-1.0.dtd");
  EXPECT_EQ(it.extensions[0].value, "01:02:03");
}

TEST(ParseRss, SyndicationModule) {
  feed f = must_parse(R"(<rss version="2.0" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"><channel>
    <title>t</title><sy:updatePeriod>hourly</sy:updatePeriod><sy:updateFrequency>4</sy:updateFrequency>
  </channel></rss>)");
  EXPECT_EQ(f.update_period_seconds, 900u);
}

TEST(ParseRss, SkipHoursAndSkipDaysAreBitmasks) {
  feed f = must_parse(R"(<rss version="2.0"><channel><title>t</title><ttl>60</ttl>
    <skipHours><hour>0</hour><hour> 7 </hour><hour>23</hour></skipHours>
    <skipDays><day>Sunday</day><day>saturday</day><day>WEDNESDAY</day></skipDays>
  </channel></rss>)");
  EXPECT_EQ(f.skip_hours, (1u << 0) | (1u << 7) | (1u << 23));
  EXPECT_EQ(f.skip_days, (1u << 0) | (1u << 6) | (1u << 3));
  EXPECT_TRUE(f.extensions.empty()) << f.extensions.at(0).name;  // read, not passed through
}

TEST(ParseRss, SkipHoursAndDaysOutOfRangeAreReportedAndLeftOut) {
  parse_result r = parse(R"(<rss version="2.0"><channel><title>t</title>
    <skipHours><hour>24</hour><hour>5</hour><hour>-1</hour><hour>99999999999999999999999</hour></skipHours>
    <skipDays><day>Funday</day><day>Monday</day><day></day></skipDays>
  </channel></rss>)");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value->skip_hours, 1u << 5);
  EXPECT_EQ(r.value->skip_days, 1u << 1);
  std::string d = testing::diags_text(r);
  EXPECT_NE(d.find("hour 24 in <skipHours>"), std::string::npos) << d;
  EXPECT_NE(d.find("'-1'"), std::string::npos) << d;
  EXPECT_NE(d.find("unknown day 'Funday'"), std::string::npos) << d;
  for (const auto& x : r.diagnostics) EXPECT_EQ(x.code, diag_code::value) << format_diagnostic(x);
}

TEST(ParseRss, RelativeLinksResolveAgainstDocumentUrlAndXmlBase) {
  parse_options o;
  o.document_url = "https://x.example/news/feed.xml";
  feed f = must_parse(R"(<rss version="2.0"><channel><title>t</title><link>/</link>
    <item><link>story/1</link></item>
    <item xml:base="https://other.example/dir/"><link>2</link>
      <enclosure url="../a.mp3" length="1" type="audio/mpeg"/></item>
  </channel></rss>)", o);
  EXPECT_EQ(f.link, "https://x.example/");
  EXPECT_EQ(f.items.at(0).url(), "https://x.example/news/story/1");
  EXPECT_EQ(f.items.at(1).url(), "https://other.example/dir/2");
  EXPECT_EQ(f.items.at(1).enclosures.at(0).url, "https://other.example/a.mp3");
}

TEST(ParseRss, UnparseableDateIsAbsentWithDiagnostic) {
  parse_result r = parse(R"(<rss version="2.0"><channel><title>t</title>
    <item><pubDate>sometime last week</pubDate></item></channel></rss>)");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r.value->items.at(0).published);
  ASSERT_TRUE(testing::has_code(r, diag_code::date)) << testing::diags_text(r);
  EXPECT_FALSE(r.recovered());  // an odd value is not a malformed document
  for (const auto& d : r.diagnostics) {
    if (d.code == diag_code::date) {
      EXPECT_EQ(d.line, 2u);
    }
  }
}

TEST(ParseRss, UnescapedMarkupInDescriptionIsKeptAsMarkup) {
  feed f = must_parse(R"(<rss version="2.0"><channel><title>t</title>
    <item><description>Hello <b>bold</b> &amp; <br/>more</description></item></channel></rss>)");
  EXPECT_EQ(f.items.at(0).summary, "Hello <b>bold</b> &amp; <br />more");
}

TEST(ParseRss, PeopleInEveryWrittenShape) {
  feed f = must_parse(R"(<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>
    <author>Chief Editor (chief@x.example)</author>
    <item><author>jane@x.example (Jane Doe)</author><dc:author>Plain Name</dc:author></item>
    <item><author>John Roe &lt;john@x.example&gt;</author></item>
    <item><author>solo@x.example</author></item>
  </channel></rss>)");
  EXPECT_EQ(f.authors.at(0), (person{"Chief Editor", "chief@x.example", {}}));
  EXPECT_EQ(f.items.at(0).authors.at(0), (person{"Jane Doe", "jane@x.example", {}}));
  EXPECT_EQ(f.items.at(0).authors.at(1), (person{"Plain Name", {}, {}}));
  EXPECT_EQ(f.items.at(1).authors.at(0), (person{"John Roe", "john@x.example", {}}));
  EXPECT_EQ(f.items.at(2).authors.at(0), (person{{}, "solo@x.example", {}}));
}

TEST(ParseRss, CoreElementsInAPrivateNamespace) {
  // Userland and Harvard published RSS 2.0 in namespaces of their own.
  for (const char* uri : {"http://backend.userland.com/rss2", "http://blogs.law.harvard.edu/tech/rss"}) {
    feed f = must_parse(std::string("<rss version=\"2.0\" xmlns=\"") + uri +
                        "\"><channel><title>T</title><item><title>I</title></item></channel></rss>");
    EXPECT_EQ(f.title, "T") << uri;
    EXPECT_EQ(f.items.at(0).title, "I") << uri;
  }
}

TEST(ParseRss, InternalDtdTextEntitiesAreExpanded) {
  parse_result r = parse(R"(<!DOCTYPE rss [ <!ENTITY id "tag:example.com,"> <!ENTITY nested "&id;x"> ]>
<rss version="2.0"><channel><item><guid isPermaLink="false">&id;2006:/blog/</guid><title>&nested;</title></item></channel></rss>)");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value->items.at(0).id, "tag:example.com,2006:/blog/");
  EXPECT_EQ(r.value->items.at(0).title, "&nested;");  // a value with a reference is refused
}

TEST(ParseRss, RelativeUrlsInsideContentBecomeAbsolute) {
  parse_options o;
  o.document_url = "https://x.example/news/feed.xml";
  feed f = must_parse(R"(<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>
    <item><description>&lt;a href="story/1"&gt;more&lt;/a&gt;</description>
      <content:encoded><![CDATA[<img src="/img/1.png">]]></content:encoded></item></channel></rss>)", o);
  EXPECT_EQ(f.items.at(0).summary, R"(<a href="https://x.example/news/story/1">more</a>)");
  EXPECT_EQ(f.items.at(0).content, R"(<img src="https://x.example/img/1.png">)");
}

TEST(ParseRss, WindowsPunctuationMislabelledAsLatin1IsRepaired) {
  feed f = must_parse("<rss version=\"2.0\"><channel><title>don\xC2\x92t</title></channel></rss>");
  EXPECT_EQ(f.title, "don\u2019t");
}

TEST(ParseRss, LanguageTagsUseHyphens) {
  feed f = must_parse(R"(<rss version="2.0"><channel><language>en_US</language></channel></rss>)");
  EXPECT_EQ(f.language, "en-US");
}

}  // namespace
}  // namespace syndic::formats
