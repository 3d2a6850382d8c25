#pragma once
// Metrics in the Prometheus text format 0.0.4 (what GET /metrics answers): counters, gauges
// and histograms, each a family with optional labels, plus collectors for values that are read
// at scrape time from elsewhere (an engine's stats).
//
// Cost on the hot path: look a metric up once (`family.with({"200"})`, which takes the family's
// mutex) and keep the reference; updating it is then one relaxed atomic add (a histogram
// observe: one add to its bucket and one to its sum). References stay valid for the registry's
// lifetime. Values written by many threads at once share one cache line: for the hottest
// counters give each shard its own child (a "shard" label) rather than one for all.
//
// Misuse (a bad metric or label name, a name registered twice, the wrong number of label
// values) is a programming error and throws std::invalid_argument.

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace syndic::daemon {

using metric_label = std::pair<std::string_view, std::string_view>;  // name, value

// Writes the text format. Used by the registry, and by collectors for scrape-time values.
class metrics_writer {
 public:
  explicit metrics_writer(std::string& out) : out_(out) {}

  // "# HELP name help" and "# TYPE name type" (counter, gauge, histogram or untyped).
  void header(std::string_view name, std::string_view type, std::string_view help);
  // One line: name{l1="v1",...} value. Label values are escaped (\\, \", \n).
  void sample(std::string_view name, std::span<const metric_label> labels, double value);
  void sample(std::string_view name, std::span<const metric_label> labels, std::uint64_t value);
  void sample(std::string_view name, std::initializer_list<metric_label> labels, double value) {
    sample(name, std::span<const metric_label>(labels.begin(), labels.size()), value);
  }
  void sample(std::string_view name, std::initializer_list<metric_label> labels, std::uint64_t value) {
    sample(name, std::span<const metric_label>(labels.begin(), labels.size()), value);
  }
  // A whole family of one unlabeled value.
  void counter(std::string_view name, std::string_view help, std::uint64_t value);
  void gauge(std::string_view name, std::string_view help, double value);

 private:
  void labels(std::span<const metric_label> labels);
  std::string& out_;
};

class counter {
 public:
  void inc(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class gauge {
 public:
  void set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
  void add(double d) noexcept { value_.fetch_add(d, std::memory_order_relaxed); }
  void inc() noexcept { add(1); }
  void dec() noexcept { add(-1); }
  double value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class histogram {
 public:
  // `bounds`: the buckets' upper bounds (inclusive, "le"), increasing; +Inf is implicit.
  // They must outlive the histogram (the family keeps them).
  explicit histogram(std::span<const double> bounds);
  void observe(double v) noexcept;

  struct snapshot {
    std::vector<std::uint64_t> cumulative;  // per bound, then +Inf (== count)
    std::uint64_t count = 0;
    double sum = 0;
  };
  // The +Inf bucket and the count are the same sum, so they always agree; the sum may include
  // an observation that a bucket does not yet (relaxed reads during writes).
  snapshot read() const;

 private:
  std::span<const double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;  // per bound, then one for +Inf
  std::atomic<double> sum_{0};
};

// Prometheus client libraries' default buckets, for latencies in seconds: 5 ms to 10 s.
std::vector<double> default_latency_buckets();

// A metric's children, one per set of label values.
template <class Metric>
class metric_family {
 public:
  // The child for these label values (in the order the labels were named), made on first use.
  Metric& with(std::initializer_list<std::string_view> label_values);
  Metric& with(std::span<const std::string> label_values);
  // The child of a family without labels.
  Metric& get() { return with({}); }

  const std::string& name() const { return name_; }

 private:
  friend class metrics_registry;
  metric_family(std::string name, std::string help, std::vector<std::string> labels, std::vector<double> bounds = {});
  Metric& find_or_make(std::vector<std::string> values);
  void write(metrics_writer& w) const;

  std::string name_, help_;
  std::vector<std::string> labels_;
  std::vector<double> bounds_;  // histograms only
  mutable std::mutex mutex_;
  // Sorted by label values, so scrapes list children in a stable order.
  std::map<std::vector<std::string>, std::unique_ptr<Metric>> children_;
};

class metrics_registry {
 public:
  metrics_registry();
  ~metrics_registry();
  metrics_registry(const metrics_registry&) = delete;
  metrics_registry& operator=(const metrics_registry&) = delete;

  // A family without labels has its one child made now, so it is exposed (as 0) from the start;
  // a labeled family shows once a child is made.
  metric_family<counter>& add_counter(std::string name, std::string help, std::vector<std::string> labels = {});
  metric_family<gauge>& add_gauge(std::string name, std::string help, std::vector<std::string> labels = {});
  metric_family<histogram>& add_histogram(std::string name, std::string help, std::vector<double> bounds,
                                          std::vector<std::string> labels = {});

  // Called at each scrape, after the families, in the order added; writes whole families
  // through the writer (values kept elsewhere: an engine's stats, a store's queue depth).
  void add_collector(std::function<void(metrics_writer&)> collect);

  // The text exposition: families in the order added, then the collectors.
  std::string expose() const;

  static constexpr std::string_view content_type = "text/plain; version=0.0.4; charset=utf-8";

 private:
  struct entry;
  void add(std::string_view name, std::unique_ptr<entry> e);
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<entry>> families_;
  std::vector<std::function<void(metrics_writer&)>> collectors_;
};

bool valid_metric_name(std::string_view name);  // [a-zA-Z_:][a-zA-Z0-9_:]*
bool valid_label_name(std::string_view name);   // [a-zA-Z_][a-zA-Z0-9_]*, not starting "__"

}  // namespace syndic::daemon
