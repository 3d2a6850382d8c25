#pragma once
// The load-test report's two charts as inline SVG (no scripts, no external references):
// throughput over time, and the latency distribution of each outlet class. Data that cannot be
// drawn (empty series, values not finite) gives a visible "no data" note, never a broken
// element: every number written into an attribute is finite.

#include <syndic/testkit/loadtest_report.hpp>

#include <string>
#include <vector>

namespace syndic::testkit::report_detail {

// Deliveries per second against seconds since the start: an area under a line, axes, ticks and
// gridlines, and a dashed line at mean_per_s (skipped when not positive and finite).
// <svg id="throughput-chart">.
std::string throughput_svg(const std::vector<throughput_point>& points, double duration_s,
                           double mean_per_s);

// One cumulative line per class from its histogram: latency (log scale, ms) against the share
// of deliveries at or under it, on a percentile scale that spreads out the tail (50%, 90%, 99%,
// 99.9%). Line colours are class_colour(index). <svg id="latency-chart">.
std::string latency_svg(const std::vector<outlet_class_report>& classes);

// The colour of the index-th class, the same in the chart and in its legend.
const char* class_colour(std::size_t index);

}  // namespace syndic::testkit::report_detail
