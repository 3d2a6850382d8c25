// Metrics: the exact text of a small registry, escaping, histogram buckets, collectors,
// misuse refused, and exact totals under concurrent updates.

#include "daemon/metrics.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <thread>

namespace syndic::daemon {
namespace {

TEST(DaemonMetrics, ExpositionOfASmallRegistry) {
  metrics_registry r;
  auto& items = r.add_counter("syndic_items_in_total", "Items appended to the log.");
  auto& deliveries = r.add_counter("syndic_deliveries_total", "Deliveries by outcome.", {"outcome", "shard"});
  auto& lag = r.add_gauge("syndic_lag_seconds", "Age of the oldest undelivered item.");
  auto& latency = r.add_histogram("syndic_delivery_seconds", "Delivery latency.", {0.1, 1, 2.5}, {"format"});
  auto& unused = r.add_counter("syndic_unused_total", "Labeled, never touched: not shown.", {"x"});
  (void)unused;
  items.get().inc();
  items.get().inc(41);
  deliveries.with({"ok", "1"}).inc(7);
  deliveries.with({"dead_letter", "0"}).inc();
  deliveries.with({"ok", "0"}).inc(3);
  lag.get().set(0.25);
  auto& atom = latency.with({"atom"});
  atom.observe(0.05);
  atom.observe(0.1);  // a bound is inclusive
  atom.observe(2);
  atom.observe(30);
  EXPECT_EQ(r.expose(),
            "# HELP syndic_items_in_total Items appended to the log.\n"
            "# TYPE syndic_items_in_total counter\n"
            "syndic_items_in_total 42\n"
            "# HELP syndic_deliveries_total Deliveries by outcome.\n"
            "# TYPE syndic_deliveries_total counter\n"
            "syndic_deliveries_total{outcome=\"dead_letter\",shard=\"0\"} 1\n"
            "syndic_deliveries_total{outcome=\"ok\",shard=\"0\"} 3\n"
            "syndic_deliveries_total{outcome=\"ok\",shard=\"1\"} 7\n"
            "# HELP syndic_lag_seconds Age of the oldest undelivered item.\n"
            "# TYPE syndic_lag_seconds gauge\n"
            "syndic_lag_seconds 0.25\n"
            "# HELP syndic_delivery_seconds Delivery latency.\n"
            "# TYPE syndic_delivery_seconds histogram\n"
            "syndic_delivery_seconds_bucket{format=\"atom\",le=\"0.1\"} 2\n"
            "syndic_delivery_seconds_bucket{format=\"atom\",le=\"1\"} 2\n"
            "syndic_delivery_seconds_bucket{format=\"atom\",le=\"2.5\"} 3\n"
            "syndic_delivery_seconds_bucket{format=\"atom\",le=\"+Inf\"} 4\n"
            "syndic_delivery_seconds_sum{format=\"atom\"} 32.15\n"
            "syndic_delivery_seconds_count{format=\"atom\"} 4\n");
  EXPECT_EQ(metrics_registry::content_type, "text/plain; version=0.0.4; charset=utf-8");
}

TEST(DaemonMetrics, UnlabeledFamiliesShowZeroFromTheStart) {
  metrics_registry r;
  r.add_counter("a_total", "A.");
  r.add_histogram("h_seconds", "H.", {1});
  EXPECT_EQ(r.expose(),
            "# HELP a_total A.\n# TYPE a_total counter\na_total 0\n"
            "# HELP h_seconds H.\n# TYPE h_seconds histogram\n"
            "h_seconds_bucket{le=\"1\"} 0\nh_seconds_bucket{le=\"+Inf\"} 0\nh_seconds_sum 0\nh_seconds_count 0\n");
}

TEST(DaemonMetrics, EscapingOfHelpAndLabelValues) {
  metrics_registry r;
  auto& c = r.add_counter("escaped_total", "Help with a \\ backslash,\na line feed and \"quotes\".", {"path"});
  c.with({"C:\\dir \"x\"\nnext"}).inc();
  EXPECT_EQ(r.expose(),
            "# HELP escaped_total Help with a \\\\ backslash,\\na line feed and \"quotes\".\n"
            "# TYPE escaped_total counter\n"
            "escaped_total{path=\"C:\\\\dir \\\"x\\\"\\nnext\"} 1\n");
}

TEST(DaemonMetrics, NumbersAsPrometheusPrintsThem) {
  metrics_registry r;
  auto& g = r.add_gauge("g", "G.", {"k"});
  g.with({"a"}).set(1e-7);
  g.with({"b"}).set(-3);
  g.with({"c"}).set(std::numeric_limits<double>::infinity());
  g.with({"d"}).set(-std::numeric_limits<double>::infinity());
  g.with({"e"}).set(std::nan(""));
  g.with({"f"}).set(123456789012.5);
  g.with({"g"}).add(0.5);
  g.with({"g"}).inc();
  g.with({"g"}).dec();
  EXPECT_EQ(r.expose(),
            "# HELP g G.\n# TYPE g gauge\n"
            "g{k=\"a\"} 1e-07\n"
            "g{k=\"b\"} -3\n"
            "g{k=\"c\"} +Inf\n"
            "g{k=\"d\"} -Inf\n"
            "g{k=\"e\"} NaN\n"
            "g{k=\"f\"} 123456789012.5\n"
            "g{k=\"g\"} 0.5\n");
}

TEST(DaemonMetrics, HistogramBuckets) {
  metrics_registry r;
  auto& h = r.add_histogram("latency_seconds", "L.", default_latency_buckets()).get();
  for (double v : {0.0, 0.005, 0.0051, 0.3, 10.0, 10.5, -1.0}) h.observe(v);
  h.observe(std::nan(""));
  histogram::snapshot s = h.read();
  ASSERT_EQ(s.cumulative.size(), 12u);
  EXPECT_EQ(s.cumulative[0], 3u);   // le 0.005: 0, 0.005 and -1
  EXPECT_EQ(s.cumulative[1], 4u);   // le 0.01: 0.0051
  EXPECT_EQ(s.cumulative[5], 4u);   // le 0.25
  EXPECT_EQ(s.cumulative[6], 5u);   // le 0.5: 0.3
  EXPECT_EQ(s.cumulative[10], 6u);  // le 10: 10
  EXPECT_EQ(s.cumulative[11], 8u);  // +Inf: 10.5 and NaN
  EXPECT_EQ(s.count, 8u);
  EXPECT_TRUE(std::isnan(s.sum));
}

TEST(DaemonMetrics, CollectorsWriteScrapeTimeValues) {
  metrics_registry r;
  r.add_counter("own_total", "Own.");
  std::uint64_t engine_attempts = 5;
  r.add_collector([&](metrics_writer& w) {
    w.counter("engine_attempts_total", "Attempts.", engine_attempts);
    w.header("engine_queue_depth", "gauge", "Queue depth per shard.");
    w.sample("engine_queue_depth", {{"shard", "0"}}, std::uint64_t{3});
    w.sample("engine_queue_depth", {{"shard", "1"}}, 4.5);
  });
  engine_attempts = 9;
  EXPECT_EQ(r.expose(),
            "# HELP own_total Own.\n# TYPE own_total counter\nown_total 0\n"
            "# HELP engine_attempts_total Attempts.\n# TYPE engine_attempts_total counter\n"
            "engine_attempts_total 9\n"
            "# HELP engine_queue_depth Queue depth per shard.\n# TYPE engine_queue_depth gauge\n"
            "engine_queue_depth{shard=\"0\"} 3\n"
            "engine_queue_depth{shard=\"1\"} 4.5\n");
}

TEST(DaemonMetrics, MisuseIsRefused) {
  metrics_registry r;
  EXPECT_THROW(r.add_counter("", "x"), std::invalid_argument);
  EXPECT_THROW(r.add_counter("1st", "x"), std::invalid_argument);
  EXPECT_THROW(r.add_counter("has-dash", "x"), std::invalid_argument);
  EXPECT_THROW(r.add_counter("has space", "x"), std::invalid_argument);
  EXPECT_NO_THROW(r.add_counter("ns:sub_total", "x"));
  EXPECT_THROW(r.add_counter("ns:sub_total", "again"), std::invalid_argument);
  EXPECT_THROW(r.add_gauge("g1", "x", {"__reserved"}), std::invalid_argument);
  EXPECT_THROW(r.add_gauge("g2", "x", {"a:b"}), std::invalid_argument);
  EXPECT_THROW(r.add_gauge("g3", "x", {"a", "a"}), std::invalid_argument);
  EXPECT_THROW(r.add_histogram("h1", "x", {1}, {"le"}), std::invalid_argument);
  EXPECT_THROW(r.add_histogram("h2", "x", {}), std::invalid_argument);
  EXPECT_THROW(r.add_histogram("h3", "x", {1, 1}), std::invalid_argument);
  EXPECT_THROW(r.add_histogram("h4", "x", {1, std::numeric_limits<double>::infinity()}), std::invalid_argument);
  auto& c = r.add_counter("c_total", "x", {"a", "b"});
  EXPECT_THROW(c.with({"only one"}), std::invalid_argument);
  EXPECT_THROW(c.get(), std::invalid_argument);
  metrics_registry other;
  std::string out;
  metrics_writer w(out);
  EXPECT_THROW(w.header("bad name", "gauge", "x"), std::invalid_argument);
  EXPECT_TRUE(valid_metric_name(":a"));
  EXPECT_FALSE(valid_label_name(":a"));
}

// N threads update shared and per-thread children while another scrapes: totals are exact.
TEST(DaemonMetrics, ConcurrentUpdatesAreExact) {
  metrics_registry r;
  auto& shared = r.add_counter("shared_total", "S.").get();
  auto& per_thread = r.add_counter("per_thread_total", "P.", {"thread"});
  auto& g = r.add_gauge("in_flight", "G.").get();
  auto& h = r.add_histogram("h_seconds", "H.", {0.5, 1.5}).get();
  constexpr int threads = 8, per = 20'000;
  std::atomic<bool> done{false};
  std::thread scraper([&] {
    for (int i = 0; i < 1000 && !done.load(); ++i) (void)r.expose();
  });
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      auto& mine = per_thread.with({std::to_string(t % 4)});  // two threads share each child
      for (int i = 0; i < per; ++i) {
        shared.inc();
        mine.inc(2);
        g.inc();
        h.observe(i % 2 ? 1.0 : 0.25);  // sums are exact in binary floating point
        g.dec();
      }
    });
  for (auto& w : workers) w.join();
  done = true;
  scraper.join();
  EXPECT_EQ(shared.value(), std::uint64_t{threads} * per);
  std::uint64_t total = 0;
  for (int t = 0; t < 4; ++t) total += per_thread.with({std::to_string(t)}).value();
  EXPECT_EQ(total, std::uint64_t{threads} * per * 2);
  EXPECT_EQ(g.value(), 0);
  histogram::snapshot s = h.read();
  EXPECT_EQ(s.count, std::uint64_t{threads} * per);
  EXPECT_EQ(s.cumulative[0], std::uint64_t{threads} * per / 2);
  EXPECT_EQ(s.sum, threads * (per / 2) * 1.25);
  std::string text = r.expose();
  EXPECT_NE(text.find("shared_total 160000\n"), std::string::npos) << text;
  EXPECT_NE(text.find("h_seconds_count 160000\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace syndic::daemon
