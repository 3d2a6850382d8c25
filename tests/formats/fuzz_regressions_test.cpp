// Defects the fuzz targets found (fuzz/regressions/, /work/notes/fuzz-findings.md), one test
// each, written from the minimized reproducer. Each failed before its fix.

#include "test_util.hpp"

#include <syndic/formats/dates.hpp>
#include <syndic/formats/render.hpp>

#include <string>

namespace syndic::formats {
namespace {

using testing::must_parse;

// Finding 1: pugixml parsing in place took the buffer's last byte as its terminator, so text
// left open at the end of input lost its last byte (here half of "é": invalid UTF-8).
TEST(FuzzRegressions, TextOpenAtEndOfInputKeepsItsLastByte) {
  feed f = must_parse("<rss version=\"2.0\"><channel><title>ab\xC3\xA9");
  EXPECT_EQ(f.title, "ab\xC3\xA9");
  feed g = must_parse("<rss version=\"2.0\"><channel><title>abc");
  EXPECT_EQ(g.title, "abc");
}

// Finding 2: Atom 0.3 mode="base64" text was used as decoded even when the bytes were not
// text (0xFF, NUL), which no renderer can write.
TEST(FuzzRegressions, Atom03Base64BinaryIsNotTakenAsText) {
  auto title_of = [](const std::string& b64) {
    feed f = must_parse(
        "<feed version=\"0.3\" xmlns=\"http://purl.org/atom/ns#\"><entry><title mode=\"base64\">" +
        b64 + "</title></entry></feed>");
    return f.items.empty() ? std::string("<no item>") : f.items[0].title;
  };
  EXPECT_EQ(title_of("/w=="), "/w==");                   // 0xFF
  EXPECT_EQ(title_of("AA=="), "AA==");                   // NUL
  EXPECT_EQ(title_of("aGVsbG8gd29ybGQ="), "hello world");  // text still decoded
}

// Finding 3: namespace declarations and xml:lang were bound to the raw attribute value, with
// its references undecoded.
TEST(FuzzRegressions, NamespaceAndLangAttributesAreDecoded) {
  feed f = must_parse(
      "<rss version=\"2.0\" xmlns:x=\"a&amp;b\"><channel><title>t</title><x:y>v</x:y>"
      "</channel></rss>");
  ASSERT_EQ(f.extensions.size(), 1u);
  EXPECT_EQ(f.extensions[0].ns, "a&b");
  // A namespace URI written with a character reference is still the namespace.
  feed g = must_parse(
      "<rss version=\"2.0\" xmlns:dc=\"http://purl.org/dc/elements/1.1&#x2F;\"><channel>"
      "<title>t</title><item><title>i</title><dc:creator>Ann</dc:creator></item></channel></rss>");
  ASSERT_EQ(g.items.size(), 1u);
  ASSERT_EQ(g.items[0].authors.size(), 1u);
  EXPECT_EQ(g.items[0].authors[0].name, "Ann");
  feed h = must_parse(
      "<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"en&#x2D;GB\"><title>t</title></feed>");
  EXPECT_EQ(h.language, "en-GB");
}

// The same for a default namespace declared inside xhtml content, which the content's markup
// writes again: escaped once, not once more per round trip.
TEST(FuzzRegressions, XhtmlDefaultNamespaceIsWrittenEscapedOnce) {
  feed f = must_parse(
      "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>t</title><entry><title>e</title>"
      "<content type=\"xhtml\"><div xmlns=\"http://www.w3.org/1999/xhtml\">"
      "<p xmlns=\"urn:a&amp;b&gt;\">x</p></div></content></entry></feed>");
  ASSERT_EQ(f.items.size(), 1u);
  EXPECT_NE(f.items[0].content.find("xmlns=\"urn:a&amp;b&gt;\""), std::string::npos)
      << f.items[0].content;
}

// Finding 5: 9999-12-31T24:00 is year 10000, which the formatters cannot write as RFC 3339.
TEST(FuzzRegressions, EndOfDayPastYear9999IsRefused) {
  EXPECT_FALSE(parse_iso8601("9999-12-31T24:00Z"));
  EXPECT_FALSE(parse_iso8601("9999-12-31T24:00:00+01:00"));
  EXPECT_FALSE(parse_date("9999-12-31T24:00Z"));
  EXPECT_TRUE(parse_iso8601("9999-12-31T23:59:59.999Z"));
  EXPECT_TRUE(parse_iso8601("9998-12-31T24:00Z"));
  auto late = parse_iso8601("9999-12-31T23:00-05:00");  // later than 9999 in UTC: local 9999
  ASSERT_TRUE(late);
  EXPECT_TRUE(parse_iso8601(format_rfc3339(*late)));
}

// Finding 6: in "Name <email>", anything between the angle brackets with an '@' was taken as
// the address (spaces and angle brackets included).
TEST(FuzzRegressions, PersonNameWithAngleBracketsNeedsAnAddress) {
  auto person_of = [](const std::string& text) {
    feed f = must_parse(
        "<rss version=\"2.0\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><channel><title>t"
        "</title><item><title>i</title><dc:creator>" + text + "</dc:creator></item></channel></rss>");
    return f.items.empty() || f.items[0].authors.empty() ? person{} : f.items[0].authors[0];
  };
  person odd = person_of("&lt;e&gt; @&amp;gt;&lt;/e&gt;");
  EXPECT_EQ(odd.email, "");
  EXPECT_EQ(odd.name, "<e> @&gt;</e>");
  person two = person_of("Ann &lt;a@b@c&gt;");
  EXPECT_EQ(two.email, "");
  person ok = person_of("Ann Lee &lt;ann@example.org&gt;");
  EXPECT_EQ(ok.email, "ann@example.org");
  EXPECT_EQ(ok.name, "Ann Lee");
}

// Finding 7: a namespace URI made only of characters XML cannot carry (here C0 controls) was
// declared as xmlns:ns6="" once escaped: an undeclaration, which XML 1.0 namespaces forbid.
// Such an extension is dropped with a note, in every XML renderer.
TEST(FuzzRegressions, NamespaceUriWithNothingWritableIsNotDeclaredEmpty) {
  feed f = must_parse("<rss version=\"2.0\"><channel><title>t</title><item><title>i</title></item></channel></rss>");
  extension x;
  x.ns = std::string("\x01\x00\x02", 3);
  x.name = "symbol";
  x.value = "XML";
  f.extensions.push_back(x);
  f.items[0].extensions.push_back(x);
  for (auto render : {render_rss, render_atom}) {
    std::string out;
    render(f, out, nullptr);
    EXPECT_EQ(out.find("=\"\""), std::string::npos) << out;
    EXPECT_EQ(out.find("symbol"), std::string::npos) << out;
    feed back = must_parse(out);
    EXPECT_EQ(back.items.size(), 1u);
  }
}

}  // namespace
}  // namespace syndic::formats
