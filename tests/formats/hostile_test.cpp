// Hostile shapes: inputs built to make a parser slow, huge or wrong. No test here times
// anything (bench/formats_bench.cpp measures the speed); each checks what a linear parser must
// still get right: capped diagnostics with a summary, positions late in a large document,
// entity expansion within its budget, every unclosed item recovered.

#include "test_util.hpp"
#include "xml_reader.hpp"

#include <algorithm>
#include <string>

namespace syndic::formats {
namespace {

using testing::diags_text;

std::size_t count_code(const parse_result& r, diag_code c) {
  return static_cast<std::size_t>(std::count_if(r.diagnostics.begin(), r.diagnostics.end(),
                                                [&](const diagnostic& d) { return d.code == c; }));
}

const diagnostic* last_of(const parse_result& r, diag_code c) {
  const diagnostic* found = nullptr;
  for (const auto& d : r.diagnostics)
    if (d.code == c) found = &d;
  return found;
}

std::string rss(const std::string& channel_body) {
  return "<rss version=\"2.0\"><channel><title>t</title>\n" + channel_body + "</channel></rss>\n";
}

// 80,000 elements with an undeclared prefix: 100 diagnostics, then one summary of the rest.
TEST(Hostile, RepeatedDiagnosticsAreCappedWithASummary) {
  std::string body;
  for (int i = 0; i < 80'000; ++i) body += "<x:a/>";
  parse_result r = parse(rss(body));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(count_code(r, diag_code::xml), 101u);
  const diagnostic* summary = last_of(r, diag_code::xml);
  ASSERT_NE(summary, nullptr);
  EXPECT_EQ(format_diagnostic(*summary), "warning[xml]: 79,900 more like this");
  EXPECT_EQ(summary->line, 0u);
  // The ones listed keep their positions (an element's is its name's): the 100th <x:a/> is
  // at column 2 + 6 * 99 of line 2.
  const diagnostic& hundredth = r.diagnostics[99];
  EXPECT_EQ(hundredth.line, 2u) << format_diagnostic(hundredth);
  EXPECT_EQ(hundredth.column, 2u + 6u * 99u) << format_diagnostic(hundredth);
}

TEST(Hostile, CapIsAnOption) {
  std::string body;
  for (int i = 0; i < 50; ++i) body += "<x:a/>";
  parse_options o;
  o.max_diagnostics_per_code = 10;
  parse_result r = parse(rss(body), o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(count_code(r, diag_code::xml), 11u);
  EXPECT_EQ(last_of(r, diag_code::xml)->message, "40 more like this");
}

TEST(Hostile, ManyBadDatesAreCapped) {
  std::string body;
  for (int i = 0; i < 20'000; ++i)
    body += "<item><guid>g" + std::to_string(i) + "</guid><pubDate>not a date</pubDate></item>\n";
  parse_result r = parse(rss(body));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value->items.size(), 20'000u);
  EXPECT_EQ(count_code(r, diag_code::date), 101u);
  EXPECT_EQ(last_of(r, diag_code::date)->message, "19,900 more like this");
}

TEST(Hostile, ManyBadNumbersAreCapped) {
  std::string body;
  for (int i = 0; i < 20'000; ++i)
    body += "<item><guid>g" + std::to_string(i) +
            "</guid><enclosure url=\"http://e.example/a.mp3\" length=\"x\"/></item>\n";
  parse_result r = parse(rss(body));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(count_code(r, diag_code::value), 101u);
  EXPECT_EQ(last_of(r, diag_code::value)->message, "19,900 more like this");
}

TEST(Hostile, ManyBadDatesInJsonAreCapped) {
  std::string items;
  for (int i = 0; i < 5'000; ++i) {
    if (i) items += ',';
    items += R"({"id":")" + std::to_string(i) + R"(","date_published":"yesterday"})";
  }
  parse_result r = parse(R"({"version":"https://jsonfeed.org/version/1.1","title":"t","items":[)" +
                         items + "]}");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value->items.size(), 5'000u);
  EXPECT_EQ(count_code(r, diag_code::date), 101u);
  EXPECT_EQ(last_of(r, diag_code::date)->message, "4,900 more like this");
}

TEST(Hostile, FatalDiagnosticsAreNeverCapped) {
  std::vector<diagnostic> list;
  diagnostics_sink sink(list, 1);
  sink.add(severity::warning, diag_code::limit, "one");
  sink.add(severity::error, diag_code::limit, "two");
  sink.add(severity::fatal, diag_code::limit, "three");
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(format_diagnostic(list[1]), "error[limit]: 1 more like this");  // the worst dropped
  EXPECT_EQ(list[2].message, "three");
  EXPECT_EQ(sink.dropped(diag_code::limit), 1u);
}

// Line and column of a diagnostic late in a large document, past many lines and in a long
// line, agree with a count made here.
TEST(Hostile, PositionsLateInALargeDocument) {
  std::string doc = "<rss version=\"2.0\"><channel><title>t</title>\n";
  for (int i = 0; i < 30'000; ++i) doc += "<item><title>n" + std::to_string(i) + "</title></item>\n";
  doc += std::string(10'000, ' ');
  std::size_t bad = doc.size();
  doc += "<item><pubDate>never</pubDate></item></channel></rss>\n";
  parse_result r = parse(doc);
  ASSERT_TRUE(r.ok());
  const diagnostic* d = last_of(r, diag_code::date);
  ASSERT_NE(d, nullptr) << diags_text(r);
  EXPECT_EQ(d->line, 30'002u);
  EXPECT_EQ(d->column, 10'001u + 7u);  // "pubDate" is 7 bytes after "<item>"
  EXPECT_EQ(d->offset, bad + 7);
}

// A declared entity used 7,500 times would expand 30 KB into 7.5 MB: expansion stops at the
// budget (twice the input plus 64 KiB), the rest stays as written, and that is reported once.
TEST(Hostile, EntityExpansionStaysWithinItsBudget) {
  std::string doc = "<!DOCTYPE rss [<!ENTITY e \"" + std::string(1000, 'A') +
                    "\">]>\n<rss version=\"2.0\"><channel><title>t</title><item><title>";
  for (int i = 0; i < 7'500; ++i) doc += "&e;";
  doc += "</title></item></channel></rss>\n";
  parse_result r = parse(doc);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.value->items.size(), 1u);
  const std::string& title = r.value->items[0].title;
  EXPECT_LE(title.size(), 3 * doc.size() + (64u << 10));
  EXPECT_GT(title.size(), doc.size());  // expanded up to the budget
  EXPECT_NE(title.find("&e;"), std::string::npos);  // then left as written
  EXPECT_EQ(count_code(r, diag_code::limit), 1u) << diags_text(r);
}

TEST(Hostile, EntitiesExpandInOnePass) {
  // "&a;" must not be expanded inside "&ab;" nor "&ab;" be split; values are not re-scanned.
  parse_result r = parse(R"(<!DOCTYPE rss [<!ENTITY a "1"><!ENTITY ab "2"><!ENTITY c "&amp;a;">]>
<rss version="2.0"><channel><title>&a;&ab;&a;x&ab;</title></channel></rss>)");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value->title, "121x2");
}

TEST(Hostile, DeclarationQuotedInsideAValueIsNoDeclaration) {
  parse_result r = parse(R"(<!DOCTYPE rss [<!ENTITY a "<!ENTITY b 'x'>"><!ENTITY c "y">]>
<rss version="2.0"><channel><title>&b;&c;</title></channel></rss>)");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value->title, "&b;y");
}

// 5,000 items, none closed: every one is recovered with its own title and guid.
TEST(Hostile, ManyUnclosedItemsAreAllRecovered) {
  std::string doc = "<rss version=\"2.0\"><channel><title>t</title>\n";
  for (int i = 0; i < 5'000; ++i)
    doc += "<item><guid>g" + std::to_string(i) + "</guid><title>t" + std::to_string(i) + "\n";
  parse_result r = parse(doc);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.value->items.size(), 5'000u) << diags_text(r).substr(0, 2000);
  for (std::size_t i = 0; i < r.value->items.size(); i += 499) {
    EXPECT_EQ(r.value->items[i].id, "g" + std::to_string(i));
    EXPECT_EQ(r.value->items[i].title, "t" + std::to_string(i));
  }
}

// Diagnostics from items recovered one by one point into the document, not into the copy
// each item was parsed from.
TEST(Hostile, RecoveredItemsReportTheirOwnPositions) {
  std::string doc = "<rss version=\"2.0\"><channel><title>t</title>\n";
  for (int i = 0; i < 10; ++i) doc += "<item><title>t" + std::to_string(i) + "</title></item>\n";
  doc += "<item><title>broken</b></title></item>\n";                  // line 12
  doc += "<item><title>late</title>\n  <pubDate>never</pubDate></item>\n";  // lines 13-14
  doc += "</channel></rss>\n";
  parse_result r = parse(doc);
  ASSERT_TRUE(r.ok());
  const diagnostic* d = last_of(r, diag_code::date);
  ASSERT_NE(d, nullptr) << diags_text(r);
  EXPECT_EQ(d->line, 14u) << diags_text(r);
  EXPECT_EQ(d->column, 4u) << diags_text(r);  // the name, after "  <"
}

TEST(Hostile, RecoveredItemsKeepTheRootsNamespaces) {
  parse_result r = parse(R"(<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"
  xml:base="http://base.example/dir/"><channel><title>t</title>
<item><dc:creator>Ann</dc:creator><link>a.html</link><title>one
<item><dc:creator>Bob</dc:creator><title>two</title></item>)");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.value->items.size(), 2u) << diags_text(r);
  ASSERT_EQ(r.value->items[0].authors.size(), 1u) << diags_text(r);
  EXPECT_EQ(r.value->items[0].authors[0].name, "Ann");
  EXPECT_EQ(r.value->items[0].url(), "http://base.example/dir/a.html");
  ASSERT_EQ(r.value->items[1].authors.size(), 1u);
  EXPECT_EQ(r.value->items[1].authors[0].name, "Bob");
}

// Every attribute of an unknown element is kept with its own value, duplicates included (a
// lookup by name would read the first one twice, and cost a scan per attribute).
TEST(Hostile, LongAttributeListsKeepEveryValue) {
  std::string attrs;
  for (int i = 0; i < 2'000; ++i) attrs += " a" + std::to_string(i) + "=\"v" + std::to_string(i) + "\"";
  parse_result r = parse(rss("<x:y xmlns:x=\"urn:x\"" + attrs + " d=\"1\" d=\"2\"/>"));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.value->extensions.size(), 1u);
  const auto& a = r.value->extensions[0].attributes;
  ASSERT_EQ(a.size(), 2'002u);
  EXPECT_EQ(a[1'999].second, "v1999");
  EXPECT_EQ(a[2'000], (std::pair<std::string, std::string>{"d", "1"}));
  EXPECT_EQ(a[2'001], (std::pair<std::string, std::string>{"d", "2"}));
}

// Many namespace declarations on the root: lookups are still right (sorted, binary search).
TEST(Hostile, ManyNamespaceDeclarations) {
  std::string decls;
  for (int i = 0; i < 500; ++i) decls += " xmlns:p" + std::to_string(i) + "=\"urn:p" + std::to_string(i) + "\"";
  parse_result r = parse("<rss version=\"2.0\"" + decls +
                         " xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><channel><title>t</title>"
                         "<p250:z>v</p250:z><item><dc:creator>Ann</dc:creator></item></channel></rss>");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.value->extensions.size(), 1u);
  EXPECT_EQ(r.value->extensions[0].ns, "urn:p250");
  ASSERT_EQ(r.value->items.size(), 1u);
  ASSERT_EQ(r.value->items[0].authors.size(), 1u);
  EXPECT_EQ(r.value->items[0].authors[0].name, "Ann");
  EXPECT_FALSE(testing::has_code(r, diag_code::xml)) << diags_text(r);
}

// A 60 KB xml:base and 2,000 one-letter links would make 120 MB of URLs out of 150 KB: URLs
// are resolved until their bytes reach four times the input (plus 64 KiB), then left as
// written, and that is reported once.
TEST(Hostile, LongBaseUrlsStayWithinTheResolutionBudget) {
  std::string base = "https://base.example/" + std::string(60'000, 'd') + "/";
  std::string body;
  for (int i = 0; i < 2'000; ++i)
    body += "<item><link>i" + std::to_string(i) + "</link><description>&lt;a href=\"r" +
            std::to_string(i) + "\"&gt;x&lt;/a&gt;</description></item>\n";
  std::string doc = "<rss version=\"2.0\" xml:base=\"" + base + "\"><channel><title>t</title>\n" +
                    body + "</channel></rss>\n";
  parse_result r = parse(doc);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.value->items.size(), 2'000u);
  // (EXPECT_TRUE: a failure would print 60 KB strings.)
  EXPECT_TRUE(r.value->items.front().url() == base + "i0");
  EXPECT_TRUE(r.value->items.back().url() == "i1999");
  EXPECT_TRUE(r.value->items.back().summary == "<a href=\"r1999\">x</a>");
  std::size_t url_bytes = 0;
  for (const auto& it : r.value->items) url_bytes += it.url().size() + it.summary.size();
  EXPECT_LE(url_bytes, 5 * doc.size() + (64u << 10));
  EXPECT_EQ(count_code(r, diag_code::limit), 1u) << diags_text(r);
}

// An item with 20,000 <link>s keeps them all, in the order links always had: the RSS links
// first, the last one first, then the atom:links in document order.
TEST(Hostile, ManyLinksInOneItemKeepTheirOrder) {
  std::string body = "<item><atom:link href=\"https://a.example/x\" rel=\"related\"/>";
  for (int i = 0; i < 20'000; ++i) body += "<link>https://l.example/" + std::to_string(i) + "</link>";
  body += "<atom:link href=\"https://a.example/y\" rel=\"related\"/></item>";
  parse_result r = parse(rss(body).replace(0, 19, "<rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\">"));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.value->items.size(), 1u);
  const auto& links = r.value->items[0].links;
  ASSERT_EQ(links.size(), 20'002u);
  EXPECT_EQ(links[0].href, "https://l.example/19999");
  EXPECT_EQ(links[19'999].href, "https://l.example/0");
  EXPECT_EQ(links[20'000].href, "https://a.example/x");
  EXPECT_EQ(links[20'001].href, "https://a.example/y");
  EXPECT_EQ(r.value->items[0].url(), "https://l.example/19999");
}

// RSS 1.0 with 3,000 <channel>s: the first is the channel (each one read used to finish the
// feed again over all the extensions before it, and overwrite the title); the rest are
// reported once. RSS 2.0 already read only the first.
TEST(Hostile, OnlyTheFirstOfManyChannelsIsRead) {
  std::string doc = R"(<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">)";
  for (int i = 0; i < 3'000; ++i)
    doc += "<channel><title>c" + std::to_string(i) + "</title><x:a xmlns:x=\"urn:x\">v</x:a></channel>\n";
  doc += "<item><title>one</title></item></rdf:RDF>";
  parse_result r = parse(doc);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value->title, "c0");
  EXPECT_EQ(r.value->extensions.size(), 1u);
  ASSERT_EQ(r.value->items.size(), 1u);
  std::size_t reported = 0;
  for (const auto& d : r.diagnostics) reported += d.message.find("more than one <channel>") != std::string::npos;
  EXPECT_EQ(reported, 1u) << diags_text(r);

  parse_result rss2 = parse("<rss version=\"2.0\"><channel><title>a</title></channel><channel><title>b</title></channel></rss>");
  ASSERT_TRUE(rss2.ok());
  EXPECT_EQ(rss2.value->title, "a");
}

// The line index agrees with a count from the start at every offset, checkpoint boundaries
// and the end included, asked in any order.
TEST(Hostile, LineIndexAgreesWithACountFromTheStart) {
  std::string text;
  for (int i = 0; text.size() < 3 * 4096 + 100; ++i)
    text += std::string(static_cast<std::size_t>(i % 7 == 0 ? 5000 : i % 13), 'x') + "\n";
  detail::line_index index(text);
  auto check = [&](std::size_t probe) {
    std::uint32_t line = 1;
    std::size_t line_start = 0;
    for (std::size_t i = 0; i < probe; ++i)
      if (text[i] == '\n') ++line, line_start = i + 1;
    auto [l, c] = index.at(probe);
    EXPECT_EQ(l, line) << probe;
    EXPECT_EQ(c, probe - line_start + 1) << probe;
  };
  const std::size_t n = text.size();
  for (std::size_t probe : {n, std::size_t{0}, std::size_t{4095}, std::size_t{4096},
                            std::size_t{4097}, std::size_t{8192}, std::size_t{12288}, n - 1})
    check(probe);
  for (std::size_t k = 0; k < 400; ++k) check((k * 7919) % (n + 1));  // a scrambled order
}

}  // namespace
}  // namespace syndic::formats
