#include "testkit/report_svg.hpp"

#include "testkit/report_text.hpp"

#include <algorithm>
#include <cmath>

namespace syndic::testkit::report_detail {
namespace {

// One drawing size for both charts: the page's column is about 1,180 px wide at 1280 px, so
// the viewBox maps close to one unit per pixel and the text stays at its nominal size.
constexpr double width = 1120, height = 340;
constexpr double left = 76, right = 28, top = 18, bottom = 52;
constexpr double plot_w = width - left - right, plot_h = height - top - bottom;

struct linear_axis {
  double max = 1;
  std::vector<double> ticks;
};

// 0 to a round number at or above max_value, in steps of 1, 2 or 5 times a power of ten
// (about `target` of them). Anything not positive and finite draws as 0..1.
linear_axis nice_axis(double max_value, int target) {
  if (!std::isfinite(max_value) || max_value <= 0) max_value = 1;
  const double raw = max_value / target;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double norm = raw / magnitude;
  double step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * magnitude;
  double top_value = std::ceil(max_value / step - 1e-9) * step;
  if (!std::isfinite(step) || !std::isfinite(top_value) || step <= 0) {
    step = max_value / target;  // near the largest double: plain steps, no rounding up
    top_value = max_value;
  }
  linear_axis axis;
  axis.max = top_value;
  for (int i = 0; i <= 3 * target; ++i) {
    const double v = i * step;
    if (v > top_value * (1 + 1e-9)) break;
    axis.ticks.push_back(v);
  }
  return axis;
}

void open_svg(std::string& out, std::string_view id, std::string_view title) {
  out += "<svg id=\"";
  out += id;
  out += "\" class=\"chart\" viewBox=\"0 0 " + coord(width) + ' ' + coord(height) +
         "\" width=\"100%\" role=\"img\" aria-label=\"";
  append_escaped(out, title);
  out += "\"><title>";
  append_escaped(out, title);
  out += "</title>";
}

void text_at(std::string& out, double x, double y, std::string_view cls, std::string_view text,
             std::string_view extra = {}) {
  out += "<text x=\"" + coord(x) + "\" y=\"" + coord(y) + "\" class=\"";
  out += cls;
  out += '"';
  if (!extra.empty()) {
    out += ' ';
    out += extra;
  }
  out += '>';
  append_escaped(out, text);
  out += "</text>";
}

void line(std::string& out, double x1, double y1, double x2, double y2, std::string_view cls) {
  out += "<line x1=\"" + coord(x1) + "\" y1=\"" + coord(y1) + "\" x2=\"" + coord(x2) + "\" y2=\"" +
         coord(y2) + "\" class=\"";
  out += cls;
  out += "\"/>";
}

void frame(std::string& out) {
  out += "<rect x=\"" + coord(left) + "\" y=\"" + coord(top) + "\" width=\"" + coord(plot_w) +
         "\" height=\"" + coord(plot_h) + "\" class=\"plot-bg\"/>";
}

void axis_titles(std::string& out, std::string_view x_title, std::string_view y_title) {
  text_at(out, left + plot_w / 2, height - 10, "axis-title", x_title, "text-anchor=\"middle\"");
  const double cy = top + plot_h / 2;
  text_at(out, 18, cy, "axis-title", y_title,
          "text-anchor=\"middle\" transform=\"rotate(-90 18 " + coord(cy) + ")\"");
}

void no_data(std::string& out, std::string_view message) {
  text_at(out, left + plot_w / 2, top + plot_h / 2, "nodata", message,
          "text-anchor=\"middle\" dominant-baseline=\"middle\"");
}

// ---- throughput over time ----

std::vector<throughput_point> drawable(const std::vector<throughput_point>& points) {
  std::vector<throughput_point> out;
  out.reserve(points.size());
  for (const throughput_point& p : points) {
    if (!std::isfinite(p.t_s) || !std::isfinite(p.per_second)) continue;
    out.push_back({std::max(p.t_s, 0.0), std::max(p.per_second, 0.0)});
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const throughput_point& a, const throughput_point& b) { return a.t_s < b.t_s; });
  // More points than pixels draw nothing more: average them per column of the plot.
  const auto columns = static_cast<std::size_t>(plot_w);
  if (out.size() > 2 * columns) {
    std::vector<throughput_point> merged;
    merged.reserve(columns);
    for (std::size_t c = 0; c < columns; ++c) {
      const std::size_t from = out.size() * c / columns, to = out.size() * (c + 1) / columns;
      if (from == to) continue;
      double rate = 0;
      for (std::size_t i = from; i < to; ++i) rate += out[i].per_second / static_cast<double>(to - from);
      merged.push_back({out[to - 1].t_s, rate});
    }
    out = std::move(merged);
  }
  return out;
}

}  // namespace

const char* class_colour(std::size_t index) {
  // Distinct on white and for the common colour-vision deficiencies (Okabe-Ito, darkened).
  static constexpr const char* palette[] = {"#0072b2", "#d55e00", "#009e73", "#cc79a7",
                                            "#e69f00", "#56b4e9", "#6a3d9a", "#444444"};
  return palette[index % (sizeof palette / sizeof palette[0])];
}

std::string throughput_svg(const std::vector<throughput_point>& points, double duration_s,
                           double mean_per_s) {
  const std::vector<throughput_point> pts = drawable(points);
  std::string out;
  out.reserve(4096 + pts.size() * 24);
  open_svg(out, "throughput-chart", "Deliveries per second over the run");
  frame(out);

  double x_max = pts.empty() ? 0 : pts.back().t_s;
  if (std::isfinite(duration_s) && duration_s > x_max) x_max = duration_s;
  double y_max = 0;
  for (const throughput_point& p : pts) y_max = std::max(y_max, p.per_second);
  const bool mean_drawn = std::isfinite(mean_per_s) && mean_per_s > 0 && !pts.empty();
  if (mean_drawn) y_max = std::max(y_max, mean_per_s);
  const linear_axis xa = nice_axis(x_max, 10), ya = nice_axis(y_max * 1.05, 5);
  auto x_of = [&](double t) { return left + plot_w * std::clamp(t / xa.max, 0.0, 1.0); };
  auto y_of = [&](double v) { return top + plot_h * (1 - std::clamp(v / ya.max, 0.0, 1.0)); };

  for (double v : ya.ticks) {
    line(out, left, y_of(v), left + plot_w, y_of(v), v == 0 ? "axis" : "grid");
    text_at(out, left - 8, y_of(v) + 4, "tick", tick_text(v), "text-anchor=\"end\"");
  }
  for (double t : xa.ticks) {
    line(out, x_of(t), top, x_of(t), top + plot_h, t == 0 ? "axis" : "grid");
    text_at(out, x_of(t), top + plot_h + 18, "tick", tick_text(t), "text-anchor=\"middle\"");
  }
  axis_titles(out, "seconds since the start of the run", "deliveries / s");

  if (pts.empty()) {
    no_data(out, "No data: no throughput was recorded");
    out += "</svg>";
    return out;
  }

  // The area, then its edge: each point is the rate over the interval that ends at t_s.
  std::string d = "M" + coord(x_of(pts.front().t_s)) + ',' + coord(y_of(0));
  std::string line_points;
  for (const throughput_point& p : pts) {
    const std::string xy = coord(x_of(p.t_s)) + ',' + coord(y_of(p.per_second));
    d += 'L' + xy;
    if (!line_points.empty()) line_points += ' ';
    line_points += xy;
  }
  d += 'L' + coord(x_of(pts.back().t_s)) + ',' + coord(y_of(0)) + 'Z';
  out += "<path class=\"area\" d=\"" + d + "\"/>";
  out += "<polyline class=\"rate\" points=\"" + line_points + "\"/>";
  if (pts.size() <= 60) {
    for (const throughput_point& p : pts)
      out += "<circle class=\"dot\" cx=\"" + coord(x_of(p.t_s)) + "\" cy=\"" + coord(y_of(p.per_second)) +
             "\" r=\"3\"/>";
  }
  if (mean_drawn) {
    line(out, left, y_of(mean_per_s), left + plot_w, y_of(mean_per_s), "mean");
    text_at(out, left + plot_w - 6, y_of(mean_per_s) - 6, "mean-label",
            "mean " + number_text(mean_per_s, mean_per_s < 100 ? 1 : 0) + " /s", "text-anchor=\"end\"");
  }
  out += "</svg>";
  return out;
}

// ---- latency distribution ----

namespace {

// The percentile scale: q drawn at -log10(1 - q), so 0%, 90%, 99% and 99.9% are evenly spaced
// and the tail, which a linear scale squeezes into a few pixels, gets as much room as the body.
// The top of the plot is 99.9% (99.99% from 10,000 deliveries in a class: the tail a sample
// that large can resolve); the last deliveries of a class draw along it.
double percentile_height(double q, double decades) {
  if (!(q < 1)) return decades;
  return std::clamp(-std::log10(1 - std::max(q, 0.0)), 0.0, decades);
}

// Latencies are drawn between 1 us and about 11.5 days; beyond that they sit at the edge.
constexpr double min_ms = 1e-3, max_ms = 1e9;

// The latency axis runs between steps of 1, 2 and 5 times a power of ten: step k is
// {1, 2, 5}[k mod 3] x 10^(k div 3), so a run from 150 ms to 17 s draws from 100 ms to 20 s.
double step_value(int k) {
  const int d = k >= 0 ? k / 3 : -((-k + 2) / 3);
  static constexpr double mantissa[] = {1, 2, 5};
  return mantissa[k - 3 * d] * std::pow(10.0, d);
}
int step_at_or_below(double ms) {
  const int d = static_cast<int>(std::floor(std::log10(ms) + 1e-9));
  const double m = ms / std::pow(10.0, d);
  return 3 * d + (m >= 5 - 1e-9 ? 2 : m >= 2 - 1e-9 ? 1 : 0);
}

std::string ms_label(double ms) {
  if (ms >= 1000) return (ms >= 1e6 ? number_text(ms / 1000, 0) : tick_text(ms / 1000)) + " s";
  return tick_text(ms) + " ms";
}

struct cdf_series {
  std::vector<latency_bucket> buckets;  // finite bounds, ascending
  double total = 0;
};

cdf_series series_of(const outlet_class_report& c) {
  cdf_series s;
  for (const latency_bucket& b : c.histogram) {
    if (!std::isfinite(b.upper_ms)) continue;
    s.buckets.push_back({std::clamp(b.upper_ms, min_ms, max_ms), b.count});
    s.total += static_cast<double>(b.count);
  }
  std::stable_sort(s.buckets.begin(), s.buckets.end(),
                   [](const latency_bucket& a, const latency_bucket& b) { return a.upper_ms < b.upper_ms; });
  return s;
}

}  // namespace

std::string latency_svg(const std::vector<outlet_class_report>& classes) {
  std::vector<cdf_series> series;
  series.reserve(classes.size());
  double lo = max_ms, hi = min_ms;
  for (const outlet_class_report& c : classes) {
    series.push_back(series_of(c));
    for (const latency_bucket& b : series.back().buckets) {
      if (b.count == 0) continue;
      lo = std::min(lo, b.upper_ms);
      hi = std::max(hi, b.upper_ms);
    }
  }
  const bool any = lo <= hi;
  double most = 0;
  for (const cdf_series& s : series) most = std::max(most, s.total);
  const double tail_decades = most >= 1e4 ? 4 : 3;
  const int lo_step = any ? step_at_or_below(lo) : 0;  // 1 ms
  int hi_step = any ? step_at_or_below(hi) : 9;        // 1 s
  if (step_value(hi_step) < hi * (1 - 1e-9)) ++hi_step;
  if (hi_step <= lo_step) hi_step = lo_step + 1;
  const double log_lo = std::log10(step_value(lo_step));
  const double span = std::log10(step_value(hi_step)) - log_lo;  // in decades
  auto x_of = [&](double ms) {
    return left + plot_w * std::clamp((std::log10(ms) - log_lo) / span, 0.0, 1.0);
  };
  auto y_of = [&](double q) { return top + plot_h * (1 - percentile_height(q, tail_decades) / tail_decades); };

  std::string out;
  out.reserve(8192);
  open_svg(out, "latency-chart", "Latency from publish to receipt, per outlet class");
  frame(out);

  // 0% is the axis, unlabelled: 50% sits only a few pixels above it.
  static constexpr struct { double q; const char* label; } rows[] = {
      {0, ""}, {0.5, "50%"}, {0.9, "90%"}, {0.99, "99%"}, {0.999, "99.9%"}, {0.9999, "99.99%"}};
  for (const auto& r : rows) {
    if (percentile_height(r.q, tail_decades) < -std::log10(1 - r.q) - 1e-9) continue;  // above the top
    line(out, left, y_of(r.q), left + plot_w, y_of(r.q), r.q == 0 ? "axis" : "grid");
    if (*r.label != 0) text_at(out, left - 8, y_of(r.q) + 4, "tick", r.label, "text-anchor=\"end\"");
  }
  // Gridlines at every step (fainter between decades); labels at every step over a short
  // range, at decades over a long one, at every other decade over a very long one.
  for (int k = lo_step; k <= hi_step; ++k) {
    const bool decade = (k % 3 + 3) % 3 == 0;
    const double x = x_of(step_value(k));
    line(out, x, top, x, top + plot_h, k == lo_step ? "axis" : decade ? "grid" : "minor");
    // The ends too, when they are not a decade, so that the range can be read off the axis.
    const bool end = (k == lo_step || k == hi_step) && !decade && span <= 10;
    const bool labelled = span <= 3.5 || end || (decade && (span <= 10 || (k / 3) % 2 == 0));
    if (labelled)
      text_at(out, x, top + plot_h + 18, "tick", ms_label(step_value(k)), "text-anchor=\"middle\"");
  }
  axis_titles(out, "latency, publish to receipt (log scale)", "deliveries at or under");

  if (!any) {
    no_data(out, "No data: no latency was recorded");
    out += "</svg>";
    return out;
  }

  for (std::size_t i = 0; i < series.size(); ++i) {
    const cdf_series& s = series[i];
    if (s.total <= 0) continue;
    // A bucket holds the latencies above the previous bound and up to its own: the line rises
    // across it. It starts at the bound below the first non-empty bucket and, once every
    // delivery is counted, runs flat at the top to the plot's edge.
    std::size_t first = 0;
    while (first < s.buckets.size() && s.buckets[first].count == 0) ++first;
    const double start = first > 0 ? s.buckets[first - 1].upper_ms : s.buckets[first].upper_ms;
    std::string d = "M" + coord(x_of(start)) + ',' + coord(y_of(0));
    double cumulative = 0;
    for (std::size_t b = first; b < s.buckets.size(); ++b) {
      if (cumulative >= s.total) break;
      cumulative += static_cast<double>(s.buckets[b].count);
      d += 'L' + coord(x_of(s.buckets[b].upper_ms)) + ',' + coord(y_of(cumulative / s.total));
    }
    d += 'H' + coord(left + plot_w);
    out += "<path class=\"cdf\" stroke=\"";
    out += class_colour(i);
    out += "\" d=\"" + d + "\"><title>";
    append_escaped(out, classes[i].name);
    out += "</title></path>";
  }
  out += "</svg>";
  return out;
}

}  // namespace syndic::testkit::report_detail
