// The load-test report as one HTML page that opens with no network: inline CSS and SVG, no
// scripts, no fonts or images to fetch (a Content-Security-Policy says so to the browser too).
// The markup is also well-formed XML (XHTML-compatible: every element closed, only XML's own
// entities), so a test can parse it.

#include <syndic/testkit/loadtest_report.hpp>

#include "testkit/report_svg.hpp"
#include "testkit/report_text.hpp"

#include <cmath>
#include <initializer_list>
#include <limits>

namespace syndic::testkit {
namespace {

using namespace report_detail;

constexpr std::string_view style = R"css(
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f4f5f7; color: #1f2328;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1200px; margin: 0 auto; padding: 24px 20px 40px; }
header.top { display: flex; align-items: center; justify-content: space-between; gap: 24px;
  background: #fff; border: 1px solid #d8dee4; border-radius: 10px; padding: 20px 24px; }
header.top h1 { margin: 0; font-size: 24px; font-weight: 650; }
header.top .sub { margin: 4px 0 0; color: #57606a; }
.verdict { text-align: right; }
.badge { display: inline-block; font-size: 34px; font-weight: 800; letter-spacing: 0.06em;
  padding: 6px 22px; border-radius: 8px; color: #fff; }
.badge.passed { background: #1a7f37; }
.badge.failed { background: #cf222e; }
.verdict .why { margin-top: 6px; font-weight: 600; }
.verdict .why.failed { color: #a40e26; }
.verdict .why.passed { color: #1a7f37; }
.banner { margin: 14px 0 0; padding: 10px 16px; border-radius: 8px; background: #fff8c5;
  border: 1px solid #d4a72c; color: #6f4e00; font-weight: 600; }
.cards { display: grid; grid-template-columns: repeat(5, 1fr); gap: 12px; margin: 16px 0; }
.card { background: #fff; border: 1px solid #d8dee4; border-radius: 10px; padding: 12px 16px; }
.card .k { color: #57606a; font-size: 13px; text-transform: uppercase; letter-spacing: 0.04em; }
.card .v { font-size: 24px; font-weight: 700; font-variant-numeric: tabular-nums; }
.card .v.bad { color: #cf222e; }
.card .n { color: #57606a; font-size: 13px; }
section { background: #fff; border: 1px solid #d8dee4; border-radius: 10px; padding: 16px 20px;
  margin: 16px 0; }
section h2 { margin: 0 0 10px; font-size: 18px; }
section p.note { margin: 6px 0 0; color: #57606a; font-size: 13px; }
.two { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
.two section { margin: 0; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 5px 10px; border-bottom: 1px solid #eaeef2; text-align: left; vertical-align: top; }
thead th { border-bottom: 2px solid #d8dee4; font-size: 13px; color: #57606a; font-weight: 600; }
td.num, th.num { text-align: right; white-space: nowrap; }
table.kv th { width: 1%; white-space: nowrap; font-weight: 500; color: #57606a; padding-right: 24px; }
table.kv td.num { white-space: normal; overflow-wrap: break-word; }
td.bad { color: #cf222e; font-weight: 700; }
td.ok { color: #1a7f37; }
td.name { word-break: break-all; }
tr.all td { font-weight: 650; background: #f6f8fa; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 3px; margin-right: 8px;
  vertical-align: -1px; }
.legend { display: flex; flex-wrap: wrap; gap: 6px 22px; margin: 8px 0 0 76px; font-size: 14px; }
.legend .none { color: #8c959f; }
svg.chart { display: block; }
svg.chart .plot-bg { fill: #fbfcfd; }
svg.chart .grid { stroke: #e3e7eb; stroke-width: 1; }
svg.chart .minor { stroke: #f0f2f4; stroke-width: 1; }
svg.chart .axis { stroke: #8c959f; stroke-width: 1.2; }
svg.chart .tick { fill: #57606a; font-size: 12px; }
svg.chart .axis-title { fill: #1f2328; font-size: 13px; font-weight: 600; }
svg.chart .area { fill: #0072b2; fill-opacity: 0.16; stroke: none; }
svg.chart .rate { fill: none; stroke: #0072b2; stroke-width: 2; stroke-linejoin: round; }
svg.chart .dot { fill: #0072b2; }
svg.chart .mean { stroke: #d55e00; stroke-width: 1.5; stroke-dasharray: 6 4; }
svg.chart .mean-label { fill: #d55e00; font-size: 12px; font-weight: 600; }
svg.chart .cdf { fill: none; stroke-width: 2.2; stroke-linejoin: round; }
svg.chart .nodata { fill: #8c959f; font-size: 18px; font-weight: 600; }
ul.missing { columns: 3; margin: 0; padding-left: 20px; font: 13px/1.6 ui-monospace, "SFMono-Regular",
  Menlo, Consolas, "DejaVu Sans Mono", monospace; }
@media (max-width: 900px) {
  .cards { grid-template-columns: repeat(2, 1fr); }
  .two { grid-template-columns: 1fr; }
  ul.missing { columns: 1; }
}
footer { color: #8c959f; font-size: 12px; text-align: center; margin-top: 20px; }
)css";

// Helpers that append one piece of markup.
struct page {
  std::string out;

  void raw(std::string_view s) { out += s; }
  void text(std::string_view s) { append_escaped(out, s); }

  void kv_row(std::string_view key, std::string_view value, std::string_view td_class = {}) {
    raw("<tr><th>");
    text(key);
    raw(td_class.empty() ? "</th><td class=\"num\">" : "</th><td class=\"num ");
    if (!td_class.empty()) {
      text(td_class);
      raw("\">");
    }
    text(value);
    raw("</td></tr>");
  }

  void card(std::string_view key, std::string_view value, std::string_view note, bool bad = false) {
    raw("<div class=\"card\"><div class=\"k\">");
    text(key);
    raw(bad ? "</div><div class=\"v bad\">" : "</div><div class=\"v\">");
    text(value);
    raw("</div><div class=\"n\">");
    text(note);
    raw("</div></div>");
  }
};

double percent(std::uint64_t part, std::uint64_t whole) {
  return whole == 0 ? 0 : 100.0 * static_cast<double>(part) / static_cast<double>(whole);
}

// "must be 0" counts: red when not.
std::string_view zero_class(std::uint64_t n) { return n == 0 ? "ok" : "bad"; }

double mean_rate(const loadtest_report& r) {
  // Unknown (no duration): NaN, shown as a dash and not drawn.
  return r.duration_s > 0 && std::isfinite(r.duration_s) ? static_cast<double>(r.delivered) / r.duration_s
                                                         : std::numeric_limits<double>::quiet_NaN();
}

void header(page& p, const loadtest_report& r) {
  const bool passed = r.passed();
  p.raw("<header class=\"top\"><div><h1>syndic load test</h1><p class=\"sub\">");
  p.text(count_text(r.items) + " items to " + count_text(r.outlets) + " outlets \xC2\xB7 target ");
  p.text(r.target.empty() ? "in-process" : r.target);
  p.text(" \xC2\xB7 " + seconds_text(r.duration_s));
  p.raw("</p></div><div class=\"verdict\">");
  p.raw(passed ? "<div class=\"badge passed\">&#10003; PASSED</div>" : "<div class=\"badge failed\">&#10007; FAILED</div>");
  std::string why;
  auto reason = [&](std::uint64_t n, std::string_view what) {
    if (n == 0) return;
    if (!why.empty()) why += " \xC2\xB7 ";
    why += count_text(n);
    why += ' ';
    why += what;
  };
  reason(r.lost, "lost");
  reason(r.bad_signatures, r.bad_signatures == 1 ? "bad signature" : "bad signatures");
  reason(r.order_violations, r.order_violations == 1 ? "order violation" : "order violations");
  if (passed) why = r.expected == 0 ? "nothing was expected: no pair to check"
                                    : "every expected delivery arrived, signed and in order";
  p.raw(passed ? "<div class=\"why passed\">" : "<div class=\"why failed\">");
  p.text(why);
  p.raw("</div></div></header>");
  if (r.interrupted) {
    p.raw("<div class=\"banner\">Interrupted: the run was stopped before it finished. The counts are "
          "what had arrived by then.</div>");
  }
}

void cards(page& p, const loadtest_report& r) {
  p.raw("<div class=\"cards\">");
  p.card("Delivered", count_text(r.delivered),
         "of " + count_text(r.expected) + " expected (" + number_text(percent(r.delivered, r.expected), 2) + "%)");
  p.card("Lost", count_text(r.lost), number_text(percent(r.lost, r.expected), 3) + "% of expected", r.lost != 0);
  p.card("Throughput", number_text(mean_rate(r), 0) + " /s", "mean over " + seconds_text(r.duration_s));
  if (r.latency.count == 0)
    p.card("Latency p99", "\xE2\x80\x94", "no latency recorded");
  else
    p.card("Latency p99", ms_text(r.latency.p99), "p50 " + ms_text(r.latency.p50) + " \xC2\xB7 max " + ms_text(r.latency.max));
  p.card("Retries", count_text(r.retries),
         count_text(r.attempts) + " attempts \xC2\xB7 " + count_text(r.dead_letters) + " dead letters");
  p.raw("</div>");
}

void scenario(page& p, const loadtest_report& r) {
  p.raw("<section><h2>Scenario</h2><table class=\"kv\"><tbody>");
  p.kv_row("Target", r.target.empty() ? "in-process" : r.target);
  p.kv_row("Outlets", count_text(r.outlets));
  p.kv_row("Items", count_text(r.items));
  // A stopped run expects only what it published.
  if (r.items_published != r.items && r.items_published != 0)
    p.kv_row("Items published", count_text(r.items_published), "bad");
  if (r.faults.empty()) {
    p.kv_row("Faults", "none");
  } else {  // a long profile breaks after its commas, not inside "429=2%"
    p.raw("<tr><th>Faults</th><td class=\"num\">");
    std::string_view rest = r.faults;
    for (std::size_t comma; (comma = rest.find(',')) != std::string_view::npos; rest.remove_prefix(comma + 1)) {
      p.text(rest.substr(0, comma + 1));
      p.raw("<wbr/>");
    }
    p.text(rest);
    p.raw("</td></tr>");
  }
  p.kv_row("Publish rate", r.publish_rate > 0 && std::isfinite(r.publish_rate)
                               ? number_text(r.publish_rate, r.publish_rate < 100 ? 1 : 0) + " items/s"
                               : "all at once (burst)");
  p.kv_row("Payload format", r.format.empty() ? "\xE2\x80\x94" : r.format);
  p.kv_row("Duration", seconds_text(r.duration_s));
  p.kv_row("Interrupted", r.interrupted ? "yes (Ctrl-C or time limit)" : "no", r.interrupted ? "bad" : "");
  p.raw("</tbody></table></section>");
}

void correctness(page& p, const loadtest_report& r) {
  p.raw("<section><h2>Correctness</h2><table class=\"kv\"><tbody>");
  p.kv_row("Expected (item, outlet) pairs", count_text(r.expected));
  p.kv_row("Delivered (distinct pairs)", count_text(r.delivered), r.delivered == r.expected ? "ok" : "bad");
  p.kv_row("Lost", count_text(r.lost), zero_class(r.lost));
  p.kv_row("Duplicates, same delivery id (retries)", count_text(r.duplicates_same_id));
  p.kv_row("Duplicates, different id (second sends)", count_text(r.duplicates_different_id));
  p.kv_row("Duplicates, total", count_text(r.duplicates));
  p.kv_row("Bad signatures", count_text(r.bad_signatures), zero_class(r.bad_signatures));
  p.kv_row("Order violations", count_text(r.order_violations), zero_class(r.order_violations));
  p.raw("</tbody></table><p class=\"note\">Passes when nothing is lost, every signature is valid and "
        "ordered outlets saw items in order. Duplicates are counted, not failed: delivery is at least "
        "once.</p></section>");
}

void latency_row(page& p, std::string_view row_class, std::string_view swatch, std::string_view name,
                 std::string_view outlets, std::uint64_t expected, std::uint64_t delivered, std::uint64_t lost,
                 std::uint64_t duplicates, const latency_summary& l) {
  p.raw(row_class.empty() ? "<tr>" : "<tr class=\"all\">");
  p.raw("<td class=\"name\">");
  if (!swatch.empty()) {
    p.raw("<span class=\"swatch\" style=\"background:");
    p.text(swatch);
    p.raw("\"></span>");
  }
  p.text(name);
  p.raw("</td>");
  auto num = [&](std::string_view v, std::string_view cls = {}) {
    p.raw(cls == "bad" ? "<td class=\"num bad\">" : "<td class=\"num\">");
    p.text(v);
    p.raw("</td>");
  };
  num(outlets);
  num(count_text(expected));
  num(count_text(delivered));
  num(count_text(lost), lost != 0 ? "bad" : "");
  num(count_text(duplicates));
  const bool none = l.count == 0;
  for (double v : {l.p50, l.p90, l.p99, l.p999, l.max}) num(none ? "\xE2\x80\x94" : ms_text(v));
  p.raw("</tr>");
}

void latency_table(page& p, const loadtest_report& r) {
  p.raw("<table><thead><tr><th>Outlet class</th><th class=\"num\">Outlets</th><th class=\"num\">Expected</th>"
        "<th class=\"num\">Delivered</th><th class=\"num\">Lost</th><th class=\"num\">Duplicates</th>"
        "<th class=\"num\">p50</th><th class=\"num\">p90</th><th class=\"num\">p99</th>"
        "<th class=\"num\">p99.9</th><th class=\"num\">max</th></tr></thead><tbody>");
  for (std::size_t i = 0; i < r.classes.size(); ++i) {
    const outlet_class_report& c = r.classes[i];
    latency_row(p, "", class_colour(i), c.name, count_text(c.outlets), c.expected, c.delivered, c.lost,
                c.duplicates, c.latency);
  }
  latency_row(p, "all", "", "All outlets", count_text(r.outlets), r.expected, r.delivered, r.lost, r.duplicates,
              r.latency);
  p.raw("</tbody></table>");
}

void latency_section(page& p, const loadtest_report& r) {
  p.raw("<section><h2>Latency, publish to receipt</h2>");
  p.raw(latency_svg(r.classes));
  p.raw("<div class=\"legend\">");
  for (std::size_t i = 0; i < r.classes.size(); ++i) {
    const outlet_class_report& c = r.classes[i];
    bool has_data = false;
    for (const latency_bucket& b : c.histogram) has_data = has_data || (b.count > 0 && std::isfinite(b.upper_ms));
    p.raw(has_data ? "<span>" : "<span class=\"none\">");
    p.raw("<span class=\"swatch\" style=\"background:");
    p.text(class_colour(i));
    p.raw("\"></span>");
    p.text(c.name);
    p.text(has_data ? " (p99 " + ms_text(c.latency.p99) + ")" : " (no data)");
    p.raw("</span>");
  }
  if (r.classes.empty()) p.raw("<span class=\"none\">no outlet classes</span>");
  p.raw("</div><p class=\"note\">Each line is a class's cumulative distribution: read across at a "
        "percentile to get its latency. The vertical scale stretches the tail (90%, 99%, 99.9% evenly "
        "spaced).</p>");
  latency_table(p, r);
  p.raw("</section>");
}

void engine_section(page& p, const loadtest_report& r) {
  p.raw("<section><h2>Engine</h2><table class=\"kv\"><tbody>");
  p.kv_row("Attempts", count_text(r.attempts));
  p.kv_row("Retries", count_text(r.retries));
  p.kv_row("Dead letters", count_text(r.dead_letters));
  p.kv_row("Attempts per delivered pair", r.delivered == 0 ? "\xE2\x80\x94"
                                                            : number_text(static_cast<double>(r.attempts) /
                                                                              static_cast<double>(r.delivered), 3));
  p.kv_row("Peak memory (RSS)", r.engine_peak_rss_mb > 0 ? number_text(r.engine_peak_rss_mb, 1) + " MB" : "not measured");
  p.kv_row("CPU time", r.engine_cpu_s > 0 ? seconds_text(r.engine_cpu_s) : "not measured");
  const bool cpu_known = r.engine_cpu_s > 0 && r.duration_s > 0 && std::isfinite(r.engine_cpu_s / r.duration_s);
  p.kv_row("CPU, average cores busy", cpu_known ? number_text(r.engine_cpu_s / r.duration_s, 2) : "\xE2\x80\x94");
  p.kv_row("Delivered, as the engine counted", count_text(r.engine_delivered));
  p.raw("</tbody></table><p class=\"note\">");
  p.text(r.engine_figures_note.empty() ? "" : "Memory and CPU: " + r.engine_figures_note + ". ");
  p.raw("Known for the in-process and daemon targets; an external system's figures are not "
        "measured. The engine also counts deliveries to drop outlets, which record nothing.</p></section>");
}

// The sink's own counters beside the ledger's: a second count of what arrived.
void sink_section(page& p, const loadtest_report& r) {
  p.raw("<section><h2>Sink</h2><table class=\"kv\"><tbody>");
  p.kv_row("Requests received", count_text(r.sink_requests));
  p.kv_row("Answered 2xx and recorded", count_text(r.sink_answered));
  p.kv_row("Items they carried", count_text(r.sink_items));
  p.kv_row("Answered 2xx by drop outlets (not recorded)", count_text(r.sink_dropped));
  p.kv_row("Stray receipts (not this run's)", count_text(r.stray), r.stray == 0 ? "" : "bad");
  const bool agrees = r.sink_items == r.delivered + r.duplicates + r.stray;
  p.kv_row("Items = delivered + duplicates + stray", agrees ? "yes" : "no", agrees ? "ok" : "bad");
  p.raw("</tbody></table></section>");
}

// The first lost pairs, to start looking from.
void missing_section(page& p, const loadtest_report& r) {
  if (r.missing_sample.empty()) return;
  p.raw("<section><h2>Lost pairs (the first ");
  p.text(count_text(r.missing_sample.size()));
  p.raw(" of ");
  p.text(count_text(r.lost));
  p.raw(")</h2><ul class=\"missing\">");
  for (const std::string& m : r.missing_sample) {
    p.raw("<li>");
    p.text(m);
    p.raw("</li>");
  }
  p.raw("</ul></section>");
}

}  // namespace

std::string render_html(const loadtest_report& r) {
  page p;
  p.out.reserve(32 * 1024);
  p.raw("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\"/>"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/><title>");
  p.text(std::string(r.passed() ? "PASSED" : "FAILED") + " \xC2\xB7 syndic load test \xC2\xB7 " +
         count_text(r.outlets) + " outlets");
  p.raw("</title><style>");
  p.raw(style);
  p.raw("</style></head><body><main>");
  header(p, r);
  cards(p, r);
  p.raw("<div class=\"two\">");
  scenario(p, r);
  correctness(p, r);
  p.raw("</div><section><h2>Throughput over time</h2>");
  p.raw(throughput_svg(r.throughput, r.duration_s, mean_rate(r)));
  p.raw("<p class=\"note\">Distinct deliveries per second, each point over the interval that ends "
        "there; the dashed line is the mean over the run.</p></section>");
  latency_section(p, r);
  p.raw("<div class=\"two\">");
  engine_section(p, r);
  sink_section(p, r);
  p.raw("</div>");
  missing_section(p, r);
  p.raw("<footer>syndic loadtest \xC2\xB7 a self-contained page: no scripts, nothing fetched</footer>");
  p.raw("</main></body></html>\n");
  return std::move(p.out);
}

}  // namespace syndic::testkit
