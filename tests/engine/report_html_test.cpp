// The load-test report's HTML page (engine/src/testkit/report_html.cpp, report_svg.cpp,
// report_text.cpp): well-formed (parsed as XML by pugixml), self-contained (no scripts, nothing
// external), every string escaped, every SVG number finite, and empty or wild data drawn as a
// note rather than a broken chart.

#include <syndic/testkit/loadtest_report.hpp>

#include "testkit/report_text.hpp"

#include <gtest/gtest.h>
#include <pugixml.hpp>

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

namespace {

using namespace syndic::testkit;
namespace rd = syndic::testkit::report_detail;

constexpr double nan_v = std::numeric_limits<double>::quiet_NaN();
constexpr double inf_v = std::numeric_limits<double>::infinity();

outlet_class_report make_class(std::string name, std::size_t outlets, std::uint64_t items, double median) {
  outlet_class_report c;
  c.name = std::move(name);
  c.outlets = outlets;
  c.expected = c.delivered = outlets * items;
  std::uint64_t left = c.delivered;
  for (int i = 0; left > 0; ++i) {
    const double upper = median * std::pow(10.0, (i - 8) / 8.0);
    const std::uint64_t n = i == 16 ? left : std::min<std::uint64_t>(left, c.delivered / 16 + 1);
    c.histogram.push_back({upper, n});
    left -= n;
  }
  c.latency = {c.delivered, median, median * 2, median * 5, median * 9, median * 10};
  return c;
}

loadtest_report sample() {
  loadtest_report r;
  r.target = "in-process";
  r.outlets = 100;
  r.items = 50;
  r.faults = "slow=5%,fail=3%";
  r.publish_rate = 0;
  r.format = "json";
  r.duration_s = 4.5;
  r.classes.push_back(make_class("healthy", 92, 50, 3));
  r.classes.push_back(make_class("slow", 5, 50, 250));
  r.classes.push_back(make_class("fail", 3, 50, 900));
  for (const auto& c : r.classes) r.expected += c.expected, r.delivered += c.delivered;
  r.latency = {r.delivered, 3.5, 40, 800, 2000, 2500};
  for (int i = 1; i <= 18; ++i) r.throughput.push_back({i * 0.25, 1000.0 + 100 * (i % 5)});
  r.attempts = r.delivered + 40;
  r.retries = 40;
  r.engine_peak_rss_mb = 64.5;
  r.engine_cpu_s = 2.25;
  return r;
}

pugi::xml_document parse(const std::string& html) {
  pugi::xml_document doc;
  const pugi::xml_parse_result res = doc.load_buffer(html.data(), html.size(), pugi::parse_default | pugi::parse_doctype);
  EXPECT_TRUE(res) << res.description() << " at byte " << res.offset << ": "
                   << html.substr(static_cast<std::size_t>(std::max<std::ptrdiff_t>(res.offset - 60, 0)), 120);
  return doc;
}

// Every element, depth first.
void each_element(pugi::xml_node n, const auto& f) {
  for (pugi::xml_node c : n.children()) {
    if (c.type() != pugi::node_element) continue;
    f(c);
    each_element(c, f);
  }
}

pugi::xml_node by_id(const pugi::xml_document& doc, const char* id) {
  return doc.find_node([&](pugi::xml_node n) { return std::string_view(n.attribute("id").value()) == id; });
}

// The numbers of an SVG path's d, a polyline's points or a coordinate attribute: every one must
// parse as a finite number, and nothing else may appear but path commands and separators.
void expect_finite_numbers(std::string_view what, std::string_view value) {
  std::string lower(value);
  for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  EXPECT_EQ(lower.find("nan"), std::string::npos) << what << "=" << value;
  EXPECT_EQ(lower.find("inf"), std::string::npos) << what << "=" << value;
  std::size_t i = 0, numbers = 0;
  while (i < value.size()) {
    const char ch = value[i];
    if (std::strchr("MLHVZmlhvz ,", ch) != nullptr) {
      ++i;
      continue;
    }
    const std::string rest(value.substr(i));
    char* end = nullptr;
    const double v = std::strtod(rest.c_str(), &end);
    ASSERT_NE(end, rest.c_str()) << what << ": not a number at " << rest.substr(0, 20);
    EXPECT_TRUE(std::isfinite(v)) << what << "=" << value;
    i += static_cast<std::size_t>(end - rest.c_str());
    ++numbers;
  }
  EXPECT_GT(numbers, 0u) << what << " is empty";
}

// What every page must be, whatever the data: one parseable document, no script, no reference
// to anything outside it, every drawn number finite.
void expect_self_contained(const std::string& html) {
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<SCRIPT"), std::string::npos);
  EXPECT_EQ(html.find("url("), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  const pugi::xml_document doc = parse(html);
  int svgs = 0;
  each_element(doc, [&](pugi::xml_node e) {
    const std::string_view name = e.name();
    EXPECT_NE(name, "script");
    EXPECT_NE(name, "img");
    EXPECT_NE(name, "link");
    EXPECT_NE(name, "iframe");
    EXPECT_NE(name, "object");
    EXPECT_NE(name, "image");
    EXPECT_NE(name, "use");
    if (name == "svg") ++svgs;
    for (pugi::xml_attribute a : e.attributes()) {
      const std::string_view an = a.name(), av = a.value();
      EXPECT_NE(an, "src") << name;
      EXPECT_NE(an, "href") << name;
      EXPECT_NE(an, "xlink:href") << name;
      EXPECT_FALSE(an.starts_with("on")) << name << " " << an;  // event handlers are scripts
      EXPECT_EQ(av.find("http://"), std::string_view::npos) << an << "=" << av;
      EXPECT_EQ(av.find("https://"), std::string_view::npos) << an << "=" << av;
      if (an == "d" || an == "points" || an == "x" || an == "y" || an == "x1" || an == "y1" || an == "x2" ||
          an == "y2" || an == "cx" || an == "cy" || an == "r" || (name != "svg" && (an == "width" || an == "height")))
        expect_finite_numbers(an, av);
    }
  });
  EXPECT_EQ(svgs, 2);
  EXPECT_TRUE(by_id(doc, "throughput-chart"));
  EXPECT_TRUE(by_id(doc, "latency-chart"));
}

std::size_t count(std::string_view hay, std::string_view needle) {
  std::size_t n = 0;
  for (std::size_t at = hay.find(needle); at != std::string_view::npos; at = hay.find(needle, at + 1)) ++n;
  return n;
}

std::size_t count_in(pugi::xml_node chart, const char* element) {
  std::size_t n = 0;
  each_element(chart, [&](pugi::xml_node e) { n += std::string_view(e.name()) == element; });
  return n;
}

bool text_contains(pugi::xml_node n, std::string_view needle) {
  bool found = false;
  each_element(n, [&](pugi::xml_node e) {
    found = found || std::string_view(e.child_value()).find(needle) != std::string_view::npos;
  });
  return found;
}

TEST(ReportHtml, SampleIsSelfContainedAndDrawsBothCharts) {
  const std::string html = render_html(sample());
  expect_self_contained(html);
  const pugi::xml_document doc = parse(html);
  const pugi::xml_node tp = by_id(doc, "throughput-chart"), lat = by_id(doc, "latency-chart");
  EXPECT_EQ(count_in(tp, "path"), 1u);
  EXPECT_EQ(count_in(tp, "polyline"), 1u);
  EXPECT_EQ(count_in(lat, "path"), 3u);  // one line per class
  EXPECT_FALSE(text_contains(tp, "No data"));
  EXPECT_FALSE(text_contains(lat, "No data"));
  EXPECT_NE(html.find("PASSED"), std::string::npos);
  EXPECT_EQ(html.find("FAILED"), std::string::npos);
}

TEST(ReportHtml, ShowsTheScenarioAndCountsForPeople) {
  loadtest_report r = sample();
  r.expected = 1234567;
  r.delivered = 1234560;
  r.lost = 7;
  r.duplicates_same_id = 12000;
  const std::string html = render_html(r);
  EXPECT_NE(html.find("1,234,567"), std::string::npos);
  EXPECT_NE(html.find("1,234,560"), std::string::npos);
  EXPECT_NE(html.find("12,000"), std::string::npos);
  EXPECT_NE(html.find("slow=5%,<wbr/>fail=3%"), std::string::npos);
  EXPECT_NE(html.find("all at once"), std::string::npos);  // publish_rate 0: a burst
  EXPECT_NE(html.find("64.5 MB"), std::string::npos);
  EXPECT_NE(html.find("FAILED"), std::string::npos);
  EXPECT_NE(html.find("7 lost"), std::string::npos);
  EXPECT_EQ(html.find("PASSED"), std::string::npos);
}

TEST(ReportHtml, BadSignaturesAndOrderFailTheVerdict) {
  loadtest_report r = sample();
  r.bad_signatures = 1;
  r.order_violations = 2;
  const std::string html = render_html(r);
  EXPECT_NE(html.find("FAILED"), std::string::npos);
  EXPECT_NE(html.find("1 bad signature"), std::string::npos);
  EXPECT_NE(html.find("2 order violations"), std::string::npos);
}

TEST(ReportHtml, InterruptedRunsSaySo) {
  loadtest_report r = sample();
  r.interrupted = true;
  r.items_published = 20;  // of 50
  EXPECT_NE(render_html(r).find("Interrupted: the run was stopped"), std::string::npos);
  EXPECT_NE(render_html(r).find("<tr><th>Items published</th><td class=\"num bad\">20</td></tr>"), std::string::npos);
  r.items_published = r.items;
  EXPECT_EQ(render_html(r).find("Items published"), std::string::npos);
  EXPECT_EQ(render_html(sample()).find("Interrupted: the run was stopped"), std::string::npos);
}

TEST(ReportHtml, EveryStringIsEscaped) {
  loadtest_report r = sample();
  r.classes[0].name = "<script>alert('x')</script>";
  r.target = "daemon http://127.0.0.1:1/?a=1&b=\"2\"";
  r.faults = "slow=5%,<b>bold</b>";
  r.format = "json\" onload=\"alert(1)";
  const std::string html = render_html(r);
  expect_self_contained(html);
  EXPECT_NE(html.find("&lt;script&gt;alert('x')&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("?a=1&amp;b=&quot;2&quot;"), std::string::npos);
  EXPECT_NE(html.find("&lt;b&gt;bold&lt;/b&gt;"), std::string::npos);
  EXPECT_EQ(html.find("<b>"), std::string::npos);
  EXPECT_EQ(html.find("onload=\""), std::string::npos);
  // The class name is in the table, the legend and its line's tooltip: escaped each time.
  EXPECT_EQ(count(html, "&lt;script&gt;"), 3u);
}

TEST(ReportHtml, LostPairsAndTheSinksCountsAreShownEscaped) {
  loadtest_report r = sample();
  r.lost = 2;
  r.missing_sample = {"item 0 -> outlet 7 (drop)", "item <1> -> outlet & (x)"};
  r.engine_figures_note = "daemon pid 42 <rss & cpu>";
  r.sink_items = r.delivered + 5;  // 5 more than the ledger accounts for
  const std::string html = render_html(r);
  expect_self_contained(html);
  EXPECT_NE(html.find("Lost pairs (the first 2 of 2)"), std::string::npos);
  EXPECT_NE(html.find("<li>item 0 -&gt; outlet 7 (drop)</li>"), std::string::npos);
  EXPECT_NE(html.find("<li>item &lt;1&gt; -&gt; outlet &amp; (x)</li>"), std::string::npos);
  EXPECT_NE(html.find("daemon pid 42 &lt;rss &amp; cpu&gt;"), std::string::npos);
  EXPECT_NE(html.find("Items = delivered + duplicates + stray</th><td class=\"num bad\">no"), std::string::npos);
  r.sink_items = r.delivered;
  r.missing_sample.clear();
  const std::string agreed = render_html(r);
  EXPECT_NE(agreed.find("Items = delivered + duplicates + stray</th><td class=\"num ok\">yes"), std::string::npos);
  EXPECT_EQ(agreed.find("Lost pairs"), std::string::npos);
}

TEST(ReportHtml, InvalidUtf8AndControlCharactersStayWellFormed) {
  loadtest_report r = sample();
  r.classes[0].name = std::string("bad\xff\xfe utf8 \x01\x02 ctl");
  r.faults = std::string("\xc3");
  expect_self_contained(render_html(r));
}

TEST(ReportHtml, EmptyReportShowsNoDataInBothCharts) {
  const std::string html = render_html(loadtest_report{});
  expect_self_contained(html);
  const pugi::xml_document doc = parse(html);
  const pugi::xml_node tp = by_id(doc, "throughput-chart"), lat = by_id(doc, "latency-chart");
  EXPECT_TRUE(text_contains(tp, "No data"));
  EXPECT_TRUE(text_contains(lat, "No data"));
  EXPECT_EQ(count_in(tp, "path") + count_in(tp, "polyline"), 0u);
  EXPECT_EQ(count_in(lat, "path"), 0u);
  EXPECT_NE(html.find("PASSED"), std::string::npos);  // nothing expected, nothing lost
  EXPECT_NE(html.find("nothing was expected"), std::string::npos);
  EXPECT_NE(html.find("no latency recorded"), std::string::npos);
  EXPECT_EQ(html.find(">0 ms<"), std::string::npos);  // no latency is not a latency of 0
}

TEST(ReportHtml, ClassesWithoutLatencyAreNotedInTheLegend) {
  loadtest_report r = sample();
  outlet_class_report drop;
  drop.name = "drop";
  drop.outlets = 3;
  drop.expected = drop.lost = 150;
  r.classes.push_back(drop);
  const std::string html = render_html(r);
  expect_self_contained(html);
  EXPECT_NE(html.find("drop (no data)"), std::string::npos);
  EXPECT_EQ(count_in(by_id(parse(html), "latency-chart"), "path"), 3u);
}

TEST(ReportHtml, SinglePointsAndZerosAreDrawn) {
  loadtest_report r = sample();
  r.throughput = {{0, 0}};
  r.duration_s = 0;
  r.classes.resize(1);
  r.classes[0].histogram = {{0, 7}};  // one bucket at 0 ms
  const std::string html = render_html(r);
  expect_self_contained(html);
  const pugi::xml_document doc = parse(html);
  EXPECT_EQ(count_in(by_id(doc, "throughput-chart"), "polyline"), 1u);
  EXPECT_EQ(count_in(by_id(doc, "throughput-chart"), "circle"), 1u);
  EXPECT_EQ(count_in(by_id(doc, "latency-chart"), "path"), 1u);
}

TEST(ReportHtml, NotFiniteAndHugeValuesNeverReachTheSvg) {
  loadtest_report r = sample();
  r.throughput = {{nan_v, 5}, {1, inf_v}, {2, -inf_v}, {3, 1e300}, {inf_v, 1}, {4, nan_v}, {5, -20}};
  r.duration_s = nan_v;
  r.publish_rate = inf_v;
  r.latency = {1, nan_v, inf_v, -inf_v, 1e300, nan_v};
  r.classes[0].histogram = {{nan_v, 3}, {inf_v, 4}, {-5, 1}, {1e300, 2}, {1e-300, 1}};
  r.classes[1].histogram = {{1, std::numeric_limits<std::uint64_t>::max()}, {2, std::numeric_limits<std::uint64_t>::max()}};
  r.engine_cpu_s = inf_v;
  r.engine_peak_rss_mb = nan_v;
  const std::string html = render_html(r);
  expect_self_contained(html);
  std::string lower = html;
  for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  EXPECT_EQ(lower.find("nan"), std::string::npos);
  EXPECT_EQ(lower.find(">inf"), std::string::npos);
  EXPECT_NE(html.find(">1e300</text>"), std::string::npos);  // the y axis of a 1e300/s point
  EXPECT_NE(html.find("<div class=\"v\">\xE2\x80\x94 /s</div>"), std::string::npos);  // no duration: no mean
}

TEST(ReportHtml, ManyPointsAreMergedToThePlotsWidth) {
  loadtest_report r = sample();
  r.throughput.clear();
  for (int i = 1; i <= 100000; ++i) r.throughput.push_back({i * 0.01, static_cast<double>(i % 100)});
  const std::string html = render_html(r);
  expect_self_contained(html);
  EXPECT_LT(html.size(), 200u * 1024);
}

TEST(ReportHtml, OutputIsDeterministic) {
  EXPECT_EQ(render_html(sample()), render_html(sample()));
}

TEST(ReportText, NumbersForPeople) {
  EXPECT_EQ(rd::count_text(0), "0");
  EXPECT_EQ(rd::count_text(999), "999");
  EXPECT_EQ(rd::count_text(1000), "1,000");
  EXPECT_EQ(rd::count_text(1234567), "1,234,567");
  EXPECT_EQ(rd::count_text(18446744073709551615ULL), "18,446,744,073,709,551,615");
  EXPECT_EQ(rd::number_text(12345.678, 1), "12,345.7");
  EXPECT_EQ(rd::number_text(-1234.6, 0), "-1,235");
  EXPECT_EQ(rd::number_text(-0.0001, 2), "0.00");
  EXPECT_EQ(rd::number_text(nan_v, 2), "\xE2\x80\x94");
  EXPECT_EQ(rd::number_text(2e15, 0), "2.000e+15");
  EXPECT_EQ(rd::ms_text(0), "0 ms");
  EXPECT_EQ(rd::ms_text(0.0421), "0.042 ms");
  EXPECT_EQ(rd::ms_text(4.214), "4.21 ms");
  EXPECT_EQ(rd::ms_text(42.14), "42.1 ms");
  EXPECT_EQ(rd::ms_text(421.4), "421 ms");
  EXPECT_EQ(rd::ms_text(12345.4), "12,345 ms");
  EXPECT_EQ(rd::ms_text(inf_v), "\xE2\x80\x94");
  EXPECT_EQ(rd::seconds_text(14.6), "14.6 s");
  EXPECT_EQ(rd::tick_text(0), "0");
  EXPECT_EQ(rd::tick_text(250), "250");
  EXPECT_EQ(rd::tick_text(2500), "2.5k");
  EXPECT_EQ(rd::tick_text(12000000), "12M");
  EXPECT_EQ(rd::tick_text(0.2), "0.2");
  EXPECT_EQ(rd::tick_text(1.2e300), "1.2e300");
  EXPECT_EQ(rd::tick_text(2e18), "2e18");
  EXPECT_EQ(rd::coord(nan_v), "0");
  EXPECT_EQ(rd::coord(inf_v), "0");
  EXPECT_EQ(rd::coord(5e9), "1000000");
  EXPECT_EQ(rd::coord(12.04), "12");
  EXPECT_EQ(rd::coord(-0.01), "0");
  EXPECT_EQ(rd::escaped("<a href=\"x\">&</a>"), "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;");
}

}  // namespace
