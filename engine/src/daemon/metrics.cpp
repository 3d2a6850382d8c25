// Prometheus text format 0.0.4: families, children, escaping, number formatting.

#include "daemon/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>
#include <stdexcept>
#include <type_traits>

namespace syndic::daemon {
namespace {

bool name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool name_char(char c) { return name_start(c) || (c >= '0' && c <= '9'); }

// Go's strconv.FormatFloat(v, 'g', -1, 64) as the Prometheus clients print: the shortest text
// that reads back to the same double, and +Inf, -Inf, NaN.
void append_number(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
    return;
  }
  if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
    return;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

void append_number(std::string& out, std::uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

void check_name(std::string_view name) {
  if (!valid_metric_name(name)) throw std::invalid_argument("bad metric name '" + std::string(name) + "'");
}

void check_labels(std::string_view metric, const std::vector<std::string>& labels, bool is_histogram) {
  std::set<std::string_view> seen;
  for (const std::string& l : labels) {
    if (!valid_label_name(l))
      throw std::invalid_argument("metric '" + std::string(metric) + "': bad label name '" + l + "'");
    if (is_histogram && l == "le")
      throw std::invalid_argument("metric '" + std::string(metric) + "': 'le' is the histogram's own label");
    if (!seen.insert(l).second)
      throw std::invalid_argument("metric '" + std::string(metric) + "': label '" + l + "' named twice");
  }
}

std::vector<metric_label> zip(const std::vector<std::string>& names, const std::vector<std::string>& values) {
  std::vector<metric_label> out;
  out.reserve(names.size() + 1);
  for (std::size_t i = 0; i < names.size(); ++i) out.emplace_back(names[i], values[i]);
  return out;
}

template <class Metric>
constexpr std::string_view type_name() {
  if constexpr (std::is_same_v<Metric, counter>) return "counter";
  else if constexpr (std::is_same_v<Metric, gauge>) return "gauge";
  else return "histogram";
}

}  // namespace

bool valid_metric_name(std::string_view name) {
  if (name.empty() || !(name_start(name[0]) || name[0] == ':')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return name_char(c) || c == ':'; });
}

bool valid_label_name(std::string_view name) {
  if (name.empty() || !name_start(name[0]) || name.starts_with("__")) return false;
  return std::all_of(name.begin(), name.end(), name_char);
}

// ---- writer

void metrics_writer::header(std::string_view name, std::string_view type, std::string_view help) {
  check_name(name);
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  for (char c : help) {  // HELP escapes only backslash and line feed
    if (c == '\\') out_ += "\\\\";
    else if (c == '\n') out_ += "\\n";
    else out_ += c;
  }
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void metrics_writer::labels(std::span<const metric_label> labels) {
  if (labels.empty()) return;
  out_ += '{';
  bool first = true;
  for (const auto& [name, value] : labels) {
    if (!first) out_ += ',';
    first = false;
    out_ += name;
    out_ += "=\"";
    for (char c : value) {
      if (c == '\\') out_ += "\\\\";
      else if (c == '"') out_ += "\\\"";
      else if (c == '\n') out_ += "\\n";
      else out_ += c;
    }
    out_ += '"';
  }
  out_ += '}';
}

void metrics_writer::sample(std::string_view name, std::span<const metric_label> l, double value) {
  out_ += name;
  labels(l);
  out_ += ' ';
  append_number(out_, value);
  out_ += '\n';
}

void metrics_writer::sample(std::string_view name, std::span<const metric_label> l, std::uint64_t value) {
  out_ += name;
  labels(l);
  out_ += ' ';
  append_number(out_, value);
  out_ += '\n';
}

void metrics_writer::counter(std::string_view name, std::string_view help, std::uint64_t value) {
  header(name, "counter", help);
  sample(name, {}, value);
}

void metrics_writer::gauge(std::string_view name, std::string_view help, double value) {
  header(name, "gauge", help);
  sample(name, {}, value);
}

// ---- histogram

histogram::histogram(std::span<const double> bounds)
    : bounds_(bounds), counts_(new std::atomic<std::uint64_t>[bounds.size() + 1]) {
  for (std::size_t i = 0; i <= bounds.size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
}

void histogram::observe(double v) noexcept {
  // The first bound >= v (buckets are "less than or equal"); NaN and values above every bound
  // count in +Inf only.
  std::size_t i = std::isnan(v) ? bounds_.size()
                                : static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

histogram::snapshot histogram::read() const {
  snapshot s;
  s.cumulative.resize(bounds_.size() + 1);
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    running += counts_[i].load(std::memory_order_relaxed);
    s.cumulative[i] = running;
  }
  s.count = running;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

std::vector<double> default_latency_buckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

// ---- family

template <class Metric>
metric_family<Metric>::metric_family(std::string name, std::string help, std::vector<std::string> labels,
                                     std::vector<double> bounds)
    : name_(std::move(name)), help_(std::move(help)), labels_(std::move(labels)), bounds_(std::move(bounds)) {}

template <class Metric>
Metric& metric_family<Metric>::find_or_make(std::vector<std::string> values) {
  if (values.size() != labels_.size())
    throw std::invalid_argument("metric '" + name_ + "': " + std::to_string(values.size()) + " label values for " +
                                std::to_string(labels_.size()) + " labels");
  std::lock_guard lock(mutex_);
  auto it = children_.find(values);
  if (it != children_.end()) return *it->second;
  std::unique_ptr<Metric> m;
  if constexpr (std::is_same_v<Metric, histogram>) m = std::make_unique<histogram>(std::span<const double>(bounds_));
  else m = std::make_unique<Metric>();
  return *children_.emplace(std::move(values), std::move(m)).first->second;
}

template <class Metric>
Metric& metric_family<Metric>::with(std::initializer_list<std::string_view> label_values) {
  return find_or_make(std::vector<std::string>(label_values.begin(), label_values.end()));
}

template <class Metric>
Metric& metric_family<Metric>::with(std::span<const std::string> label_values) {
  return find_or_make(std::vector<std::string>(label_values.begin(), label_values.end()));
}

template <class Metric>
void metric_family<Metric>::write(metrics_writer& w) const {
  std::lock_guard lock(mutex_);
  if (children_.empty()) return;
  w.header(name_, type_name<Metric>(), help_);
  for (const auto& [values, metric] : children_) {
    std::vector<metric_label> l = zip(labels_, values);
    if constexpr (std::is_same_v<Metric, histogram>) {
      histogram::snapshot s = metric->read();
      std::string bucket = name_ + "_bucket";
      std::string le;
      l.emplace_back("le", std::string_view());
      for (std::size_t i = 0; i <= bounds_.size(); ++i) {
        le.clear();
        if (i < bounds_.size()) append_number(le, bounds_[i]);
        else le = "+Inf";
        l.back().second = le;
        w.sample(bucket, l, s.cumulative[i]);
      }
      l.pop_back();
      w.sample(name_ + "_sum", l, s.sum);
      w.sample(name_ + "_count", l, s.count);
    } else {
      w.sample(name_, l, metric->value());
    }
  }
}

template class metric_family<counter>;
template class metric_family<gauge>;
template class metric_family<histogram>;

// ---- registry

struct metrics_registry::entry {
  std::string name;
  std::unique_ptr<metric_family<counter>> counters;
  std::unique_ptr<metric_family<gauge>> gauges;
  std::unique_ptr<metric_family<histogram>> histograms;
  void write(metrics_writer& w) const {
    if (counters) counters->write(w);
    if (gauges) gauges->write(w);
    if (histograms) histograms->write(w);
  }
};

metrics_registry::metrics_registry() = default;
metrics_registry::~metrics_registry() = default;

void metrics_registry::add(std::string_view name, std::unique_ptr<entry> e) {
  std::lock_guard lock(mutex_);
  for (const auto& f : families_)
    if (f->name == name) throw std::invalid_argument("metric '" + std::string(name) + "' registered twice");
  families_.push_back(std::move(e));
}

metric_family<counter>& metrics_registry::add_counter(std::string name, std::string help,
                                                      std::vector<std::string> labels) {
  check_name(name);
  check_labels(name, labels, false);
  auto e = std::make_unique<entry>();
  e->name = name;
  e->counters.reset(new metric_family<counter>(std::move(name), std::move(help), std::move(labels)));
  auto& f = *e->counters;
  if (f.labels_.empty()) f.get();
  add(f.name(), std::move(e));
  return f;
}

metric_family<gauge>& metrics_registry::add_gauge(std::string name, std::string help, std::vector<std::string> labels) {
  check_name(name);
  check_labels(name, labels, false);
  auto e = std::make_unique<entry>();
  e->name = name;
  e->gauges.reset(new metric_family<gauge>(std::move(name), std::move(help), std::move(labels)));
  auto& f = *e->gauges;
  if (f.labels_.empty()) f.get();
  add(f.name(), std::move(e));
  return f;
}

metric_family<histogram>& metrics_registry::add_histogram(std::string name, std::string help,
                                                          std::vector<double> bounds, std::vector<std::string> labels) {
  check_name(name);
  check_labels(name, labels, true);
  if (bounds.empty()) throw std::invalid_argument("histogram '" + name + "' has no buckets");
  for (std::size_t i = 0; i < bounds.size(); ++i)
    if (!std::isfinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1]))
      throw std::invalid_argument("histogram '" + name + "': bucket bounds must be finite and increasing");
  auto e = std::make_unique<entry>();
  e->name = name;
  e->histograms.reset(
      new metric_family<histogram>(std::move(name), std::move(help), std::move(labels), std::move(bounds)));
  auto& f = *e->histograms;
  if (f.labels_.empty()) f.get();
  add(f.name(), std::move(e));
  return f;
}

void metrics_registry::add_collector(std::function<void(metrics_writer&)> collect) {
  std::lock_guard lock(mutex_);
  collectors_.push_back(std::move(collect));
}

std::string metrics_registry::expose() const {
  std::string out;
  metrics_writer w(out);
  std::vector<std::function<void(metrics_writer&)>> collectors;
  {
    std::lock_guard lock(mutex_);
    for (const auto& f : families_) f->write(w);
    collectors = collectors_;
  }
  // Outside the lock: a collector may take locks of its own (an engine's stats).
  for (const auto& c : collectors) c(w);
  return out;
}

}  // namespace syndic::daemon
