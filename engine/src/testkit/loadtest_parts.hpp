#pragma once
// The load-test driver's pieces (loadtest_*.cpp), behind run_loadtest.

#include <syndic/testkit/loadtest.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace syndic::testkit::detail {

// Which outlet is in which class, which are ordered, and each class's sink behaviour.
struct loadtest_plan {
  std::vector<std::string> class_names;       // "healthy" first, then the faulty ones given
  std::vector<sink_behaviour> behaviours;     // per class
  std::vector<std::uint8_t> outlet_class;     // per outlet
  std::vector<bool> ordered;                  // per outlet
  std::vector<std::string> outlet_format;     // per outlet: webhook, jsonfeed, atom, rss
  std::uint64_t run = 0;                      // the items' RUN: this run's, not a straggler's
};

loadtest_plan make_plan(const loadtest_options& o);
sink_options make_sink_options(const loadtest_options& o, const loadtest_plan& plan);

// Percentile q (0..1) of a histogram of (upper bound ms, count), ascending; capped at max_ms.
double histogram_percentile(const std::vector<std::pair<double, std::uint64_t>>& h, double q, double max_ms);
// Fills the report's correctness, latency, throughput and sink figures from the sink's.
// `skip_slots`: the ledger's 100 ms slots before the run started (the sink starts first).
void fill_from_sink(loadtest_report& r, const loadtest_plan& plan, const sink_ledger_snapshot& l,
                    const sink_stats& s, std::size_t items, double duration_s, std::size_t skip_slots = 0);

// A minimal blocking HTTP/1.1 client for the daemon's API (http:// only, Connection: close).
struct http_answer {
  int status = 0;  // 0: no answer (`error` says why)
  std::string body, error;
};
http_answer http_call(const std::string& base_url, const std::string& method, const std::string& target,
                      const std::string& token, const std::string& content_type, const std::string& body,
                      double timeout_s = 30);

// A whsec_ secret for a run.
std::string make_secret();

}  // namespace syndic::testkit::detail
