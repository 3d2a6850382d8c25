// Relative links inside HTML content become absolute (formats/src/html_urls.cpp).

#include "html_urls.hpp"
#include "url.hpp"

#include <gtest/gtest.h>

namespace syndic::formats::detail {
namespace {

struct url_case {
  const char* html;
  const char* expected;
};

class ResolveHtmlUrls : public ::testing::TestWithParam<url_case> {};

TEST_P(ResolveHtmlUrls, AgainstBase) {
  EXPECT_EQ(resolve_html_urls(GetParam().html, "http://example.com/a/b.html"), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ResolveHtmlUrls,
    ::testing::Values(
        url_case{R"(<a href="c.html">x</a>)", R"(<a href="http://example.com/a/c.html">x</a>)"},
        url_case{R"(<img src='/i.png' alt="a">)", R"(<img src='http://example.com/i.png' alt="a">)"},
        url_case{R"(<a href=../up>x</a>)", R"(<a href=http://example.com/up>x</a>)"},
        url_case{R"(<A HREF="q?x=1&amp;y=2">)", R"(<A HREF="http://example.com/a/q?x=1&amp;y=2">)"},
        url_case{R"(<a href="https://other.example/">)", R"(<a href="https://other.example/">)"},
        url_case{R"(<a href="#frag">)", R"(<a href="#frag">)"},
        url_case{R"(<a href="mailto:x@y.example">)", R"(<a href="mailto:x@y.example">)"},
        url_case{R"(<a title="src=x" href="y">)", R"(<a title="src=x" href="http://example.com/a/y">)"},
        url_case{R"(1 < 2 and <b>bold</b>)", R"(1 < 2 and <b>bold</b>)"},
        url_case{R"(<!-- <a href="c"> -->)", R"(<!-- <a href="c"> -->)"},
        url_case{R"(<a href="unterminated)", R"(<a href="http://example.com/a/unterminated)"},
        url_case{R"(<video poster="p.jpg" src="v.mp4">)",
                 R"(<video poster="http://example.com/a/p.jpg" src="http://example.com/a/v.mp4">)"}));

TEST(ResolveHtmlUrls, NoBaseChangesNothing) {
  EXPECT_EQ(resolve_html_urls(R"(<a href="c.html">)", ""), R"(<a href="c.html">)");
}

TEST(ResolveHtmlUrls, NonAsciiReferencesStayReadable) {
  EXPECT_EQ(resolve_html_urls("<a href=\"\xC3\x80\">", "http://any.test/"),
            "<a href=\"http://any.test/\xC3\x80\">");
}

// resolve_reference's fast path (plain relative paths against plain http(s) bases) gives
// what Boost.URL's RFC 3986 resolution gives, for every base and reference here, including
// the ones that must fall back to it.
TEST(ResolveReference, SameAsRfc3986Resolution) {
  const char* bases[] = {
      "http://example.com/a/b.html", "https://example.com/a/", "http://A.Example/Dir/File",
      "https://h.example:8080/x/y", "http://user@h.example/p/q", "http://h.example/a//b",
      "http://h.example/", "http://h.example", "HTTP://h.example/a/b", "http://h.example/a/../b",
      "http://h.example/a/./b", "http://h.example/a/..", "http://h.example/a?q=1",
      "http://h.example/a#f", "http://h.example/%7Ea/b", "http://[::1]/a/b",
      "http://h.example/a;p=1/b", "ftp://h.example/a/b", "http://h.example/a/b.",
      "http://h.example/.a/b"};
  const char* refs[] = {"c", "c.html", "c/", "c/d", "c//d", ".c", "c.", "..c", "c..", "~u",
                        "./c", "../c", "c/./d", "c/../d", ".", "..", "/c", "//c", "?q",
                        "#f", "c?q", "c#f", "c;p", "c%20d", "C-D_E~F.G", "a:b", "g:h"};
  for (const char* base : bases)
    for (const char* ref : refs)
      EXPECT_EQ(resolve_reference(base, ref), resolve_url(base, ref)) << base << " + " << ref;
}

}  // namespace
}  // namespace syndic::formats::detail
