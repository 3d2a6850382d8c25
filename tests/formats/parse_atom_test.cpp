// Atom 1.0 and 0.3: text constructs, links, people, xml:base, xml:lang.

#include "test_util.hpp"

#include <syndic/formats/dates.hpp>

namespace syndic::formats {
namespace {

using testing::must_parse;

std::string rfc3339(const std::optional<timestamp>& t) { return t ? format_rfc3339(*t) : "-"; }

TEST(ParseAtom, Atom10Feed) {
  feed f = must_parse(R"(<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">
  <title type="text">Example Feed</title>
  <subtitle type="html">A &lt;em&gt;lot&lt;/em&gt; of effort</subtitle>
  <link href="http://example.org/"/>
  <link rel="self" href="http://example.org/feed.atom"/>
  <link rel="hub" href="http://hub.example.org/"/>
  <updated>2003-12-13T18:30:02Z</updated>
  <author><name>John Doe</name><email>john@example.org</email><uri>http://example.org/john</uri></author>
  <id>urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6</id>
  <category term="tech" scheme="http://example.org/cats" label="Technology"/>
  <icon>http://example.org/favicon.ico</icon><logo>http://example.org/logo.png</logo>
  <generator uri="http://gen.example/" version="1.0">Gen</generator>
  <rights>© 2003 John</rights>
  <entry>
    <title>Atom-Powered Robots Run Amok</title>
    <link href="http://example.org/2003/12/13/atom03"/>
    <link rel="enclosure" href="http://example.org/a.mp3" type="audio/mpeg" length="1337"/>
    <link rel="related" href="http://other.example/"/>
    <id>urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a</id>
    <updated>2003-12-13T18:30:02Z</updated>
    <published>2003-12-13T08:29:29-04:00</published>
    <summary>Some text.</summary>
    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Para <b>bold</b> <i>it</i></p></div></content>
    <source><id>urn:src</id><title>Src</title><link rel="self" href="http://src.example/feed"/></source>
  </entry>
</feed>)");
  EXPECT_EQ(f.format, feed_format::atom10);
  EXPECT_EQ(f.title, "Example Feed");
  EXPECT_EQ(f.description, "A <em>lot</em> of effort");
  EXPECT_EQ(f.description_type, text_type::html);
  EXPECT_EQ(f.link, "http://example.org/");
  EXPECT_EQ(f.self_link, "http://example.org/feed.atom");
  EXPECT_EQ(f.hubs.at(0), "http://hub.example.org/");
  EXPECT_EQ(f.language, "en");
  EXPECT_EQ(rfc3339(f.updated), "2003-12-13T18:30:02Z");
  EXPECT_EQ(f.authors.at(0), (person{"John Doe", "john@example.org", "http://example.org/john"}));
  EXPECT_EQ(f.categories.at(0), (category{"tech", "http://example.org/cats", "Technology"}));
  EXPECT_EQ(f.icon, "http://example.org/favicon.ico");
  EXPECT_EQ(f.logo.url, "http://example.org/logo.png");
  EXPECT_EQ(f.generator, "Gen");
  EXPECT_EQ(f.rights, "© 2003 John");
  ASSERT_EQ(f.items.size(), 1u);
  const item& it = f.items[0];
  EXPECT_EQ(it.id, "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a");
  EXPECT_EQ(it.url(), "http://example.org/2003/12/13/atom03");
  ASSERT_EQ(it.enclosures.size(), 1u);
  EXPECT_EQ(it.enclosures[0].length, 1337u);
  EXPECT_EQ(it.links.size(), 2u);
  EXPECT_EQ(rfc3339(it.published), "2003-12-13T08:29:29-04:00");
  EXPECT_EQ(it.summary, "Some text.");
  EXPECT_EQ(it.summary_type, text_type::text);
  EXPECT_EQ(it.content, "<p>Para <b>bold</b> <i>it</i></p>");
  EXPECT_EQ(it.content_type, text_type::xhtml);
  EXPECT_EQ(it.language, "en");
  EXPECT_EQ(it.source, (source_ref{"Src", "http://src.example/feed", "urn:src"}));
}

TEST(ParseAtom, TextConstructTypes) {
  feed f = must_parse(R"(<feed xmlns="http://www.w3.org/2005/Atom">
    <entry><title type="html">&lt;b&gt;Bold&lt;/b&gt; &amp;amp;</title>
      <summary type="text">1 &lt; 2</summary>
      <content type="html"><![CDATA[<p>cdata</p>]]></content></entry>
    <entry><title type="xhtml"><xhtml:div xmlns:xhtml="http://www.w3.org/1999/xhtml">A <xhtml:b>b</xhtml:b></xhtml:div></title>
      <content type="text/plain">plain</content></entry>
  </feed>)");
  ASSERT_EQ(f.items.size(), 2u);
  EXPECT_EQ(f.items[0].title, "<b>Bold</b> &amp;");
  EXPECT_EQ(f.items[0].title_type, text_type::html);
  EXPECT_EQ(f.items[0].summary, "1 < 2");
  EXPECT_EQ(f.items[0].content, "<p>cdata</p>");
  EXPECT_EQ(f.items[0].content_type, text_type::html);
  EXPECT_EQ(f.items[1].title, "A <b>b</b>");
  EXPECT_EQ(f.items[1].title_type, text_type::xhtml);
  EXPECT_EQ(f.items[1].content, "plain");
  EXPECT_EQ(f.items[1].content_type, text_type::text);
}

TEST(ParseAtom, XmlBaseNestsAndResolves) {
  parse_options o;
  o.document_url = "http://doc.example/feeds/atom.xml";
  feed f = must_parse(R"(<feed xmlns="http://www.w3.org/2005/Atom" xml:base="http://example.org/blog/">
    <link href="index.html"/>
    <entry xml:base="2024/"><link href="post.html"/><id>1</id></entry>
    <entry><link href="/abs"/><id>2</id></entry>
  </feed>)", o);
  EXPECT_EQ(f.link, "http://example.org/blog/index.html");
  EXPECT_EQ(f.items.at(0).url(), "http://example.org/blog/2024/post.html");
  EXPECT_EQ(f.items.at(1).url(), "http://example.org/abs");
}

TEST(ParseAtom, RelativeXmlBaseResolvesAgainstDocument) {
  parse_options o;
  o.document_url = "http://doc.example/feeds/atom.xml";
  feed f = must_parse(R"(<feed xmlns="http://www.w3.org/2005/Atom" xml:base="sub/">
    <entry><link href="x"/><id>1</id></entry></feed>)", o);
  EXPECT_EQ(f.items.at(0).url(), "http://doc.example/feeds/sub/x");
}

TEST(ParseAtom, Atom03) {
  feed f = must_parse(R"(<feed version="0.3" xmlns="http://purl.org/atom/ns#">
    <title mode="escaped" type="text/html">&lt;i&gt;Old&lt;/i&gt;</title>
    <tagline>Tag line</tagline>
    <link rel="alternate" type="text/html" href="http://example.org/"/>
    <modified>2003-12-13T18:30:02Z</modified>
    <copyright>Copy</copyright>
    <author><name>Mark</name><url>http://mark.example/</url></author>
    <entry><title>E</title><id>tag:e</id><link rel="alternate" href="http://example.org/e"/>
      <issued>2003-12-13T08:29:29-04:00</issued><modified>2003-12-13T18:30:02Z</modified>
      <content type="application/xhtml+xml" mode="xml"><div xmlns="http://www.w3.org/1999/xhtml"><p>x</p></div></content>
      <summary mode="base64" type="text/plain">SGVsbG8gYmFzZTY0</summary>
    </entry></feed>)");
  EXPECT_EQ(f.format, feed_format::atom03);
  EXPECT_EQ(f.title, "<i>Old</i>");
  EXPECT_EQ(f.title_type, text_type::html);
  EXPECT_EQ(f.description, "Tag line");
  EXPECT_EQ(f.rights, "Copy");
  EXPECT_EQ(f.authors.at(0).url, "http://mark.example/");
  EXPECT_EQ(rfc3339(f.updated), "2003-12-13T18:30:02Z");
  const item& it = f.items.at(0);
  EXPECT_EQ(rfc3339(it.published), "2003-12-13T08:29:29-04:00");
  EXPECT_EQ(rfc3339(it.updated), "2003-12-13T18:30:02Z");
  EXPECT_EQ(it.content, "<div><p>x</p></div>");  // 0.3 inline XML is kept whole
  EXPECT_EQ(it.summary, "Hello base64");
}

TEST(ParseAtom, UnprefixedAtom03WithoutNamespace) {
  feed f = must_parse(R"(<feed version="0.3"><title>No ns</title><entry><title>E</title></entry></feed>)");
  EXPECT_EQ(f.format, feed_format::atom03);
  EXPECT_EQ(f.items.at(0).title, "E");
}

TEST(ParseAtom, ForeignElementsPassThrough) {
  feed f = must_parse(R"(<feed xmlns="http://www.w3.org/2005/Atom" xmlns:g="http://www.georss.org/georss"
      xmlns:x="urn:x"><entry><id>1</id><g:point>45.256 -71.92</g:point>
      <x:thing x:attr="v" plain="p"><x:child>c</x:child></x:thing></entry></feed>)");
  const auto& xs = f.items.at(0).extensions;
  ASSERT_EQ(xs.size(), 2u);
  EXPECT_EQ(xs[0].ns, "http://www.georss.org/georss");
  EXPECT_EQ(xs[0].value, "45.256 -71.92");
  EXPECT_EQ(xs[1].attributes.at(0).first, "{urn:x}attr");
  EXPECT_EQ(xs[1].attributes.at(1).first, "plain");
  EXPECT_EQ(xs[1].children.at(0).value, "c");
}

TEST(ParseAtom, RepliesLinkIsTheCommentsPage) {
  feed f = must_parse(R"(<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>1</id>
    <link rel="replies" type="text/html" href="http://x.example/c"/></entry></feed>)");
  EXPECT_EQ(f.items.at(0).comments, "http://x.example/c");
  EXPECT_TRUE(f.items.at(0).links.empty());
}

}  // namespace
}  // namespace syndic::formats
