// Broken input is the normal case: recover every item that can be, report what and where,
// reject only what holds no feed. Limits a hostile document cannot get past.

#include "test_util.hpp"

namespace syndic::formats {
namespace {

using testing::diags_text;
using testing::has_code;

TEST(Recovery, BareAmpersandAndUndefinedEntities) {
  parse_result r = parse(R"(<rss version="2.0"><channel><title>Tom & Jerry &bogus; &nbsp;x&eacute;&mdash;</title>
    </channel></rss>)");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value->title, "Tom & Jerry &bogus; \u00a0x\u00e9\u2014");
  EXPECT_TRUE(has_code(r, diag_code::xml)) << diags_text(r);
  EXPECT_TRUE(r.recovered());
}

TEST(Recovery, HtmlEntitiesAloneAreAnEntityDiagnostic) {
  parse_result r = parse(R"(<rss version="2.0"><channel><title>caf&eacute;</title></channel></rss>)");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value->title, "café");
  EXPECT_TRUE(has_code(r, diag_code::entity));
  EXPECT_FALSE(has_code(r, diag_code::xml));
}

TEST(Recovery, TruncatedDocumentKeepsItsItems) {
  std::string doc = R"(<rss version="2.0"><channel><title>T</title>
    <item><title>one</title></item>
    <item><title>two</title></item>
    <item><title>thr)";
  parse_result r = parse(doc);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value->title, "T");
  ASSERT_GE(r.value->items.size(), 2u);
  EXPECT_EQ(r.value->items[0].title, "one");
  EXPECT_EQ(r.value->items[1].title, "two");
  EXPECT_TRUE(has_code(r, diag_code::xml));
  bool positioned = false;
  for (const auto& d : r.diagnostics) positioned |= d.code == diag_code::xml && d.line == 4;
  EXPECT_TRUE(positioned) << diags_text(r);
}

TEST(Recovery, BrokenItemInTheMiddleCostsOnlyItself) {
  parse_result r = parse(R"(<rss version="2.0"><channel><title>T</title>
    <item><title>one</title></item>
    <item><title>two</b></title></item>
    <item><title>three</title></item>
    <item><title>four</title></item>
  </channel></rss>)");
  ASSERT_TRUE(r.ok());
  std::vector<std::string> titles;
  for (const auto& it : r.value->items) titles.push_back(it.title);
  ASSERT_GE(titles.size(), 4u) << diags_text(r);
  EXPECT_EQ(titles[0], "one");
  EXPECT_EQ(titles[2], "three");
  EXPECT_EQ(titles[3], "four");
}

TEST(Recovery, BrokenAtomEntryInTheMiddle) {
  parse_result r = parse(R"(<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title>
    <entry><id>1</id><title>one</title></entry>
    <entry><id>2</id><title>two<br></title></entry>
    <entry><id>3</id><title>three</title></entry>
  </feed>)");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.value->items.size(), 3u) << diags_text(r);
  EXPECT_EQ(r.value->items[2].id, "3");
}

TEST(Recovery, JunkBeforeTheXmlDeclaration) {
  parse_result r = parse("\n\n  Warning: something in /var/www/feed.php\n<?xml version=\"1.0\"?>"
                         "<rss version=\"2.0\"><channel><title>T</title></channel></rss>");
  ASSERT_TRUE(r.ok()) << diags_text(r);
  EXPECT_EQ(r.value->title, "T");
  EXPECT_TRUE(has_code(r, diag_code::xml));
}

TEST(Recovery, WhitespaceBeforeTheDeclarationIsSilent) {
  parse_result r = parse("\n  \n<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>T</title></channel></rss>");
  ASSERT_TRUE(r.ok()) << diags_text(r);
  EXPECT_FALSE(r.recovered()) << diags_text(r);
}

TEST(Recovery, UndeclaredPrefixReadAsItsUsualNamespace) {
  parse_result r = parse(R"(<rss version="2.0"><channel><title>T</title>
    <item><dc:creator>Ann</dc:creator></item></channel></rss>)");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value->items.at(0).authors.at(0).name, "Ann");
  EXPECT_TRUE(has_code(r, diag_code::xml));
}

TEST(Recovery, NoFeedIsAClearError) {
  struct no_feed_case {
    const char* doc;
    const char* words;
  };
  for (auto [doc, words] : {no_feed_case{"", "empty"},
                            no_feed_case{"just some text", "not a feed"},
                            no_feed_case{"<html><body>hi</body></html>", "HTML page"},
                            no_feed_case{"<?xml version=\"1.0\"?><catalog/>", "<catalog>"},
                            no_feed_case{"<?xml version=\"1.0\"?>", "no root element"}}) {
    parse_result r = parse(doc);
    EXPECT_FALSE(r.ok()) << doc;
    ASSERT_FALSE(r.diagnostics.empty()) << doc;
    EXPECT_NE(diags_text(r).find(words), std::string::npos) << diags_text(r);
  }
}

TEST(Limits, BillionLaughsIsNeverExpanded) {
  std::string doc = R"(<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<rss version="2.0"><channel><title>&lol9;</title></channel></rss>)";
  parse_result r = parse(doc);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value->title, "&lol9;");  // kept literally: DTD entities are never defined
}

TEST(Limits, ExternalEntitiesAreNeverFetched) {
  parse_result r = parse(R"(<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>&xxe;</title></channel></rss>)");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value->title, "&xxe;");
}

TEST(Limits, MaxBytes) {
  parse_options o;
  o.max_bytes = 100;
  std::string doc = "<rss version=\"2.0\"><channel><title>" + std::string(200, 'x') +
                    "</title></channel></rss>";
  parse_result r = parse(doc, o);
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(has_code(r, diag_code::limit));
}

TEST(Limits, MaxItems) {
  parse_options o;
  o.max_items = 3;
  std::string doc = "<rss version=\"2.0\"><channel><title>t</title>";
  for (int i = 0; i < 10; ++i) doc += "<item><title>" + std::to_string(i) + "</title></item>";
  doc += "</channel></rss>";
  parse_result r = parse(doc, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value->items.size(), 3u);
  EXPECT_TRUE(has_code(r, diag_code::limit));
  int limit_reports = 0;
  for (const auto& d : r.diagnostics) limit_reports += d.code == diag_code::limit;
  EXPECT_EQ(limit_reports, 1);
}

TEST(Limits, MaxItemsJson) {
  parse_options o;
  o.max_items = 2;
  parse_result r = parse(R"({"version":"https://jsonfeed.org/version/1.1","title":"t",
    "items":[{"id":"1"},{"id":"2"},{"id":"3"}]})", o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value->items.size(), 2u);
  EXPECT_TRUE(has_code(r, diag_code::limit));
}

TEST(Limits, MaxDepthSkipsDeepElements) {
  parse_options o;
  o.max_depth = 16;
  std::string doc = "<rss version=\"2.0\"><channel><title>t</title><item><title>i</title><x:deep xmlns:x=\"urn:x\">";
  for (int i = 0; i < 100000; ++i) doc += "<x:d>";
  for (int i = 0; i < 100000; ++i) doc += "</x:d>";
  doc += "</x:deep></item></channel></rss>";
  parse_result r = parse(doc, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value->items.at(0).title, "i");
  EXPECT_TRUE(has_code(r, diag_code::limit));
}

TEST(Encodings, Latin1Declaration) {
  std::string doc = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss version=\"2.0\"><channel>"
                    "<title>caf\xe9</title></channel></rss>";
  parse_result r = parse(doc);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value->title, "café");
}

TEST(Encodings, Windows1252SmartQuotes) {
  std::string doc = "<?xml version=\"1.0\" encoding=\"windows-1252\"?><rss version=\"2.0\"><channel>"
                    "<title>\x93quoted\x94 \x80</title></channel></rss>";
  parse_result r = parse(doc);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value->title, "\u201cquoted\u201d \u20ac");
}

TEST(Encodings, Utf16WithBom) {
  std::string utf8 = "<?xml version=\"1.0\" encoding=\"utf-16\"?><rss version=\"2.0\"><channel><title>\xc3\xa9t\xc3\xa9</title></channel></rss>";
  // Build UTF-16LE by hand (all characters are in the BMP).
  std::string doc = "\xff\xfe";
  for (std::size_t i = 0; i < utf8.size();) {
    unsigned char c = static_cast<unsigned char>(utf8[i]);
    char32_t cp = c;
    if (c >= 0xc0) {
      cp = ((c & 0x1f) << 6) | (static_cast<unsigned char>(utf8[i + 1]) & 0x3f);
      i += 2;
    } else {
      ++i;
    }
    doc += static_cast<char>(cp & 0xff);
    doc += static_cast<char>(cp >> 8);
  }
  parse_result r = parse(doc);
  ASSERT_TRUE(r.ok()) << diags_text(r);
  EXPECT_EQ(r.value->title, "été");
}

TEST(Encodings, InvalidUtf8FallsBackToWindows1252WithDiagnostic) {
  parse_result r = parse("<rss version=\"2.0\"><channel><title>na\xefve</title></channel></rss>");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value->title, "naïve");
  EXPECT_TRUE(has_code(r, diag_code::encoding));
}

TEST(Encodings, TransportCharsetOverridesDeclarationNotBom) {
  parse_options o;
  o.transport_charset = "koi8-r";
  std::string doc = "<?xml version=\"1.0\" encoding=\"iso-8859-1\"?><rss version=\"2.0\"><channel>"
                    "<title>\xf0\xd2\xc9\xd7\xc5\xd4</title></channel></rss>";
  parse_result r = parse(doc, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value->title, "Привет");
}

}  // namespace
}  // namespace syndic::formats
