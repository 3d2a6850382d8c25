#pragma once
// What `syndic loadtest` measured and checked: filled by the driver (loadtest.cpp), written as
// JSON (to_json, loadtest_report.cpp) and as a self-contained HTML page with inline SVG charts
// (render_html, report_html.cpp). Plain data: no I/O, no clocks.

#include <cstdint>
#include <string>
#include <vector>

namespace syndic::testkit {

// Percentiles of publish-to-receipt latency, in milliseconds.
struct latency_summary {
  std::uint64_t count = 0;
  double p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0;
};

// One bucket of a latency histogram: the deliveries whose latency was <= upper_ms (and above
// the previous bucket's bound). Buckets ascend; the last one's upper_ms is the max.
struct latency_bucket {
  double upper_ms = 0;
  std::uint64_t count = 0;
};

// Outlets that behave alike ("healthy", "slow", "fail", "429", "blackhole", "reset", "drop").
struct outlet_class_report {
  std::string name;
  std::size_t outlets = 0;
  std::uint64_t expected = 0;   // pairs that should arrive at these outlets
  std::uint64_t delivered = 0;  // distinct pairs that did (drop: recorded by nothing: lost)
  std::uint64_t lost = 0;
  std::uint64_t duplicates = 0;
  latency_summary latency;
  std::vector<latency_bucket> histogram;
};

// Deliveries per second over one interval of the run (t_s: its end, seconds from the start).
struct throughput_point {
  double t_s = 0;
  double per_second = 0;
};

struct loadtest_report {
  // The scenario, as run.
  std::string target;  // "in-process", "daemon http://127.0.0.1:8080", "external"
  std::size_t outlets = 0;
  std::size_t items = 0;
  // Items actually published (fewer than `items` when stopped early); expected counts these.
  std::size_t items_published = 0;
  std::string faults;    // as given: "slow=5%,fail=3%"
  double publish_rate = 0;  // items per second; 0: all at once (a burst)
  std::string format;       // payload format(s)
  double duration_s = 0;    // wall time of the run, publish to last receipt (or the stop)
  bool interrupted = false; // stopped by Ctrl-C or the time limit: counts are what had arrived

  // The correctness check (always on).
  std::uint64_t expected = 0;
  std::uint64_t delivered = 0;   // distinct (item, outlet) pairs received
  std::uint64_t lost = 0;        // expected - delivered
  std::uint64_t duplicates = 0;  // receipts beyond the first of a pair
  std::uint64_t duplicates_same_id = 0;       // ... with the first receipt's delivery id (a retry)
  std::uint64_t duplicates_different_id = 0;  // ... with another id (a second send)
  std::uint64_t bad_signatures = 0;
  std::uint64_t order_violations = 0;  // ordered outlets: an item before one published earlier
  bool passed() const { return lost == 0 && bad_signatures == 0 && order_violations == 0; }

  latency_summary latency;  // all classes together
  std::vector<throughput_point> throughput;
  std::vector<outlet_class_report> classes;

  // What the engine did (in-process and daemon targets; 0 when not known).
  std::uint64_t attempts = 0, retries = 0, dead_letters = 0;
  double engine_peak_rss_mb = 0;
  double engine_cpu_s = 0;
  // What those two figures cover ("this process: engine and sink together", "daemon pid N").
  std::string engine_figures_note;
  std::uint64_t engine_delivered = 0;  // pairs the engine counted delivered (drop outlets' too)

  // The sink's own counters, to cross-check the ledger's: requests, 2xx answers recorded,
  // items they carried (= delivered + duplicates), 2xx answers of drop outlets, and receipts
  // the ledger could not place (another run's items, unknown paths).
  std::uint64_t sink_requests = 0, sink_answered = 0, sink_items = 0, sink_dropped = 0, stray = 0;
  std::vector<std::string> missing_sample;  // the first lost pairs, "item K -> outlet J (class)"

  std::string to_json() const;
};

// The report as one HTML page: inline CSS and SVG (throughput over time; latency distribution
// per class), no scripts or network fetches. Every string from the scenario is escaped.
std::string render_html(const loadtest_report& report);

}  // namespace syndic::testkit
