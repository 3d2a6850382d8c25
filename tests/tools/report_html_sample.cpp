// Writes the load-test report's HTML page for a made-up but realistic run, so the page can be
// opened in a browser (tests/cli/report_html_chromium_test.sh) without running a load test.
//   report_html_sample OUT.html [passed|failed|empty|hostile]
// The data is deterministic: the same page every time.

#include <syndic/testkit/loadtest_report.hpp>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <limits>
#include <string>
#include <string_view>

namespace {

using namespace syndic::testkit;

// A small deterministic generator (xorshift), so that the sample is the same on every machine.
struct noise {
  std::uint64_t s = 0x9e3779b97f4a7c15ULL;
  double next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return static_cast<double>(s >> 11) / 9007199254740992.0;  // [0, 1)
  }
};

// A log-normal-ish histogram with 8 buckets per power of ten, as the sink records it.
std::vector<latency_bucket> histogram(double median_ms, double spread, std::uint64_t n, double tail_ms) {
  std::vector<latency_bucket> h;
  std::uint64_t left = n;
  for (int i = -16; i <= 40 && left > 0; ++i) {
    const double upper = std::pow(10.0, i / 8.0);
    const double z = (std::log10(upper) - std::log10(median_ms)) / spread;
    const double cdf = 0.5 * std::erfc(-z / std::sqrt(2.0));
    auto want = static_cast<std::uint64_t>(cdf * static_cast<double>(n));
    const std::uint64_t done = n - left;
    std::uint64_t c = want > done ? want - done : 0;
    if (upper >= tail_ms || cdf > 0.99999) c = left;  // the rest: one bucket at the tail
    c = std::min(c, left);
    left -= c;
    h.push_back({upper, c});
  }
  return h;
}

latency_summary summary(const std::vector<latency_bucket>& h) {
  latency_summary s;
  for (const latency_bucket& b : h) s.count += b.count;
  auto at = [&](double q) {
    std::uint64_t seen = 0;
    for (const latency_bucket& b : h) {
      seen += b.count;
      if (static_cast<double>(seen) >= q * static_cast<double>(s.count)) return b.upper_ms;
    }
    return h.empty() ? 0.0 : h.back().upper_ms;
  };
  if (s.count > 0) {
    s.p50 = at(0.5), s.p90 = at(0.9), s.p99 = at(0.99), s.p999 = at(0.999), s.max = at(1.0);
  }
  return s;
}

loadtest_report realistic(bool with_loss) {
  loadtest_report r;
  r.target = "in-process";
  r.outlets = 1000;
  r.items = 200;
  r.faults = with_loss ? "slow=5%,fail=3%,429=2%,blackhole=1%,reset=1%,drop=1%"
                       : "slow=5%,fail=3%,429=2%,blackhole=1%,reset=1%";
  r.publish_rate = 50;
  r.format = "json (1 KiB)";
  r.duration_s = 14.6;

  struct cls { const char* name; std::size_t outlets; double median, spread, tail; double dup; };
  const cls spec[] = {{"healthy", with_loss ? 870u : 880u, 3.2, 0.25, 60, 0},
                      {"slow", 50, 260, 0.12, 900, 0},
                      {"fail", 30, 1200, 0.3, 30000, 0.02},
                      {"429", 20, 2100, 0.2, 30000, 0.01},
                      {"blackhole", 10, 5200, 0.05, 30000, 0.0},
                      {"reset", 10, 9.5, 0.4, 400, 0.05},
                      {"drop", with_loss ? 10u : 0u, 0, 0, 0, 0}};
  for (const cls& c : spec) {
    if (c.outlets == 0) continue;
    outlet_class_report o;
    o.name = c.name;
    o.outlets = c.outlets;
    o.expected = c.outlets * r.items;
    const bool dropped = std::string_view(c.name) == "drop";
    o.delivered = dropped ? 0 : o.expected;
    o.lost = o.expected - o.delivered;
    o.duplicates = static_cast<std::uint64_t>(c.dup * static_cast<double>(o.delivered));
    if (!dropped) o.histogram = histogram(c.median, c.spread, o.delivered, c.tail);
    o.latency = summary(o.histogram);
    r.expected += o.expected;
    r.delivered += o.delivered;
    r.lost += o.lost;
    r.duplicates += o.duplicates;
    r.classes.push_back(std::move(o));
  }
  r.duplicates_same_id = r.duplicates * 9 / 10;
  r.duplicates_different_id = r.duplicates - r.duplicates_same_id;
  r.latency = {r.delivered, 3.6, 240, 2400, 6200, 9100};

  // Deliveries per second, every 0.25 s: a ramp, a plateau with noise, the retries' long tail.
  noise n;
  double remaining = static_cast<double>(r.delivered);
  for (int i = 1; i <= 58 && remaining > 0; ++i) {
    const double t = i * 0.25;
    double rate = t < 1 ? 52000 * t : t < 4.2 ? 52000 + 6000 * (n.next() - 0.5) : 2200 * std::exp(-(t - 4.2) / 3);
    rate = std::min(rate, remaining / 0.25);
    remaining -= rate * 0.25;
    r.throughput.push_back({t, rate});
  }
  r.attempts = r.delivered + r.delivered / 12;
  r.retries = r.attempts - r.delivered;
  r.dead_letters = 0;
  r.engine_peak_rss_mb = 183.4;
  r.engine_cpu_s = 9.84;
  r.engine_figures_note = "this process: the engine and the sink together (getrusage)";
  r.engine_delivered = r.delivered + r.lost;  // drop outlets answer 2xx
  r.sink_answered = r.sink_items = r.delivered + r.duplicates;
  r.sink_dropped = r.lost;
  r.sink_requests = r.attempts + r.lost;
  for (std::size_t i = 0; i < 12 && r.lost > 0; ++i)
    r.missing_sample.push_back("item " + std::to_string(i / 4) + " -> outlet " + std::to_string(870 + i % 4) + " (drop)");
  return r;
}

// Strings that must be escaped and numbers that must not reach the SVG as they are.
loadtest_report hostile() {
  loadtest_report r = realistic(true);
  r.target = "daemon http://127.0.0.1:8080/?a=1&b=<2>";
  r.faults = "slow=5%,\"<script>alert(1)</script>\"";
  r.format = "json' onload='x";
  r.classes[0].name = "<script>alert('class')</script>";
  r.classes[1].histogram.push_back({std::numeric_limits<double>::infinity(), 5});
  r.classes[2].histogram.push_back({std::numeric_limits<double>::quiet_NaN(), 5});
  r.classes[3].histogram = {{0, 10}, {1e300, 1}};
  r.throughput.push_back({std::numeric_limits<double>::quiet_NaN(), 1});
  r.throughput.push_back({20, std::numeric_limits<double>::infinity()});
  r.throughput.push_back({21, 1e300});
  r.duration_s = std::numeric_limits<double>::quiet_NaN();
  r.latency.p99 = std::numeric_limits<double>::infinity();
  r.engine_figures_note = "daemon <pid> & \"friends\"";
  r.missing_sample.push_back("item <img src=x> -> outlet 1 (<script>)");
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::cerr << "usage: report_html_sample OUT.html [passed|failed|empty|hostile]\n";
    return 2;
  }
  const std::string_view kind = argc == 3 ? argv[2] : "failed";
  loadtest_report r;
  if (kind == "passed") r = realistic(false);
  else if (kind == "failed") r = realistic(true);
  else if (kind == "hostile") r = hostile();
  else if (kind != "empty") {
    std::cerr << "report_html_sample: unknown kind " << kind << '\n';
    return 2;
  }
  std::ofstream out(argv[1], std::ios::binary);
  out << render_html(r);
  out.close();
  if (!out) {
    std::cerr << "report_html_sample: cannot write " << argv[1] << '\n';
    return 1;
  }
  return 0;
}
