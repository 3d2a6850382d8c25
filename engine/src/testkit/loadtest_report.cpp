// The load-test report as JSON, and its figures taken from the sink's ledger.

#include <syndic/testkit/loadtest_report.hpp>

#include "testkit/loadtest_parts.hpp"

#include "formats/src/text.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace syndic::testkit {
namespace {

struct json_writer {
  std::string out;
  bool first = true;
  void key(std::string_view k) {
    if (!first) out += ',';
    first = false;
    out += '"';
    out += k;
    out += "\":";
  }
  void number(std::string_view k, double v) {
    key(k);
    if (!std::isfinite(v)) v = 0;
    char buf[40];
    if (v == std::floor(v) && std::fabs(v) < 1e15) std::snprintf(buf, sizeof buf, "%.0f", v);
    else std::snprintf(buf, sizeof buf, "%.3f", v);
    out += buf;
  }
  void integer(std::string_view k, std::uint64_t v) {
    key(k);
    out += std::to_string(v);
  }
  void string(std::string_view k, std::string_view v) {
    key(k);
    out += '"';
    formats::detail::append_json_escaped(out, v);
    out += '"';
  }
  void boolean(std::string_view k, bool v) {
    key(k);
    out += v ? "true" : "false";
  }
  void open(std::string_view k, char c) {
    key(k);
    out += c;
    first = true;
  }
  void open_anonymous(char c) {
    if (!first) out += ',';
    out += c;
    first = true;
  }
  void close(char c) {
    out += c;
    first = false;
  }
};

void latency_object(json_writer& w, std::string_view name, const latency_summary& l) {
  w.open(name, '{');
  w.integer("count", l.count);
  w.number("p50", l.p50);
  w.number("p90", l.p90);
  w.number("p99", l.p99);
  w.number("p999", l.p999);
  w.number("max", l.max);
  w.close('}');
}

latency_summary summarize(const std::vector<std::pair<double, std::uint64_t>>& h, double max_ms) {
  latency_summary s;
  for (const auto& [upper, n] : h) s.count += n;
  s.p50 = detail::histogram_percentile(h, 0.50, max_ms);
  s.p90 = detail::histogram_percentile(h, 0.90, max_ms);
  s.p99 = detail::histogram_percentile(h, 0.99, max_ms);
  s.p999 = detail::histogram_percentile(h, 0.999, max_ms);
  s.max = s.count ? max_ms : 0;
  return s;
}

}  // namespace

std::string loadtest_report::to_json() const {
  json_writer w;
  w.out = "{";
  w.string("target", target);
  w.integer("outlets", outlets);
  w.integer("items", items);
  w.integer("items_published", items_published);
  w.string("faults", faults);
  w.number("publish_rate", publish_rate);
  w.string("format", format);
  w.number("duration_s", duration_s);
  w.boolean("interrupted", interrupted);
  w.boolean("passed", passed());
  w.integer("expected", expected);
  w.integer("delivered", delivered);
  w.integer("lost", lost);
  w.integer("duplicates", duplicates);
  w.integer("duplicates_same_id", duplicates_same_id);
  w.integer("duplicates_different_id", duplicates_different_id);
  w.integer("bad_signatures", bad_signatures);
  w.integer("order_violations", order_violations);
  latency_object(w, "latency_ms", latency);
  w.open("throughput", '[');
  for (const auto& p : throughput) {
    w.open_anonymous('{');
    w.number("t_s", p.t_s);
    w.number("per_second", p.per_second);
    w.close('}');
  }
  w.close(']');
  w.open("classes", '[');
  for (const auto& c : classes) {
    w.open_anonymous('{');
    w.string("name", c.name);
    w.integer("outlets", c.outlets);
    w.integer("expected", c.expected);
    w.integer("delivered", c.delivered);
    w.integer("lost", c.lost);
    w.integer("duplicates", c.duplicates);
    latency_object(w, "latency_ms", c.latency);
    w.open("histogram", '[');
    for (const auto& b : c.histogram) {
      w.open_anonymous('[');
      w.out += std::to_string(b.upper_ms) + "," + std::to_string(b.count);
      w.close(']');
    }
    w.close(']');
    w.close('}');
  }
  w.close(']');
  w.open("engine", '{');
  w.integer("attempts", attempts);
  w.integer("retries", retries);
  w.integer("dead_letters", dead_letters);
  w.integer("delivered", engine_delivered);
  w.number("peak_rss_mb", engine_peak_rss_mb);
  w.number("cpu_s", engine_cpu_s);
  w.string("note", engine_figures_note);
  w.close('}');
  w.integer("attempts", attempts);
  w.integer("retries", retries);
  w.integer("dead_letters", dead_letters);
  w.open("sink", '{');
  w.integer("requests", sink_requests);
  w.integer("answered_2xx", sink_answered);
  w.integer("items", sink_items);
  w.integer("dropped", sink_dropped);
  w.integer("stray", stray);
  w.close('}');
  w.open("missing_sample", '[');
  for (const auto& m : missing_sample) {
    w.open_anonymous('"');
    formats::detail::append_json_escaped(w.out, m);
    w.close('"');
  }
  w.close(']');
  w.out += '}';
  return w.out;
}

namespace detail {

double histogram_percentile(const std::vector<std::pair<double, std::uint64_t>>& h, double q, double max_ms) {
  std::uint64_t total = 0;
  for (const auto& [u, n] : h) total += n;
  if (total == 0) return 0;
  auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(total)));
  std::uint64_t seen = 0;
  for (const auto& [u, n] : h) {
    seen += n;
    if (seen >= rank) return std::min(u, max_ms);
  }
  return max_ms;
}

void fill_from_sink(loadtest_report& r, const loadtest_plan& plan, const sink_ledger_snapshot& l,
                    const sink_stats& s, std::size_t items, double duration_s, std::size_t skip_slots) {
  r.expected = static_cast<std::uint64_t>(items) * plan.outlet_class.size();
  r.delivered = l.delivered_in_range;
  r.lost = r.expected > r.delivered ? r.expected - r.delivered : 0;
  r.duplicates = l.duplicates;
  r.duplicates_same_id = l.duplicates_same_id;
  r.duplicates_different_id = l.duplicates_different_id;
  r.bad_signatures = s.bad_signatures;
  r.order_violations = l.order_violations;
  r.sink_requests = s.requests;
  r.sink_answered = s.delivered;
  r.sink_items = s.items;
  r.sink_dropped = s.dropped;
  r.stray = l.stray;
  r.classes.clear();
  std::map<double, std::uint64_t> all;
  double all_max = 0;
  for (const auto& c : l.classes) {
    outlet_class_report oc;
    oc.name = c.name;
    oc.outlets = c.outlets;
    oc.expected = static_cast<std::uint64_t>(items) * c.outlets;
    oc.delivered = c.delivered;
    oc.lost = oc.expected > oc.delivered ? oc.expected - oc.delivered : 0;
    oc.duplicates = c.duplicates;
    oc.latency = summarize(c.histogram, c.max_ms);
    for (const auto& [u, n] : c.histogram) {
      oc.histogram.push_back({std::min(u, c.max_ms), n});
      all[u] += n;
    }
    all_max = std::max(all_max, c.max_ms);
    r.classes.push_back(std::move(oc));
  }
  r.latency = summarize({all.begin(), all.end()}, all_max);
  // Throughput: 100 ms slots from the run's start, summed into at most ~120 points.
  r.throughput.clear();
  // Slots before the run's start (the sink starts first) hold nothing of this run's, but an
  // external system may post early: those go into the first slot, not lost.
  const auto& a = l.arrivals_per_100ms;
  std::vector<std::uint64_t> slots(a.begin() + static_cast<std::ptrdiff_t>(std::min(skip_slots, a.size())), a.end());
  for (std::size_t k = 0; k < std::min(skip_slots, a.size()); ++k) {
    if (slots.empty()) slots.push_back(0);
    slots.front() += a[k];
  }
  std::size_t n = slots.size();
  std::size_t group = std::max<std::size_t>(1, (n + 119) / 120);
  for (std::size_t i = 0; i < n; i += group) {
    std::uint64_t sum = 0;
    std::size_t end = std::min(n, i + group);
    for (std::size_t k = i; k < end; ++k) sum += slots[k];
    r.throughput.push_back({static_cast<double>(end) / 10.0, static_cast<double>(sum) / (static_cast<double>(end - i) / 10.0)});
  }
  r.missing_sample.clear();
  for (const auto& [k, j] : l.missing) {
    std::string cls = j < plan.outlet_class.size() ? plan.class_names[plan.outlet_class[j]] : "?";
    r.missing_sample.push_back("item " + std::to_string(k) + " -> outlet " + std::to_string(j) + " (" + cls + ")");
  }
  r.duration_s = duration_s;
  r.items_published = items;
}

}  // namespace detail
}  // namespace syndic::testkit
