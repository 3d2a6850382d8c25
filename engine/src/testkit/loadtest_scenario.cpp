// The scenario's outlets: their classes (fault profile), order, format and the sink's
// behaviour for each class.

#include "testkit/loadtest_parts.hpp"

#include <syndic/formats/base64.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <numeric>
#include <random>

namespace syndic::testkit {

std::optional<std::map<std::string, double>> parse_loadtest_faults(std::string_view spec, std::string& error) {
  std::map<std::string, double> out;
  double total = 0;
  while (!spec.empty()) {
    auto comma = spec.find(',');
    std::string_view part = spec.substr(0, comma);
    spec = comma == std::string_view::npos ? std::string_view{} : spec.substr(comma + 1);
    if (part.empty()) continue;
    auto eq = part.find('=');
    std::string name(part.substr(0, eq));
    if (std::find(std::begin(loadtest_fault_names), std::end(loadtest_fault_names), name) == std::end(loadtest_fault_names)) {
      error = "--faults: unknown class '" + name + "' (slow, fail, 429, blackhole, reset, drop)";
      return std::nullopt;
    }
    std::string_view v = eq == std::string_view::npos ? std::string_view{} : part.substr(eq + 1);
    if (v.ends_with('%')) v.remove_suffix(1);
    double share = -1;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), share);
    if (v.empty() || ec != std::errc{} || end != v.data() + v.size() || share < 0 || share > 100) {
      error = "--faults: '" + std::string(part) + "': expected CLASS=PERCENT, 0 to 100";
      return std::nullopt;
    }
    out[name] = share;
    total += share;
  }
  if (total > 100) {
    error = "--faults: the shares add up to more than 100%";
    return std::nullopt;
  }
  return out;
}

namespace detail {

std::string make_secret() {
  std::random_device rd;
  std::string key(24, '\0');
  for (auto& c : key) c = static_cast<char>(rd() & 0xff);
  return "whsec_" + formats::base64_encode(key);
}

loadtest_plan make_plan(const loadtest_options& o) {
  loadtest_plan p;
  p.run = static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count() / 1000) % 1'000'000'000;
  p.class_names.push_back("healthy");
  sink_behaviour healthy;
  healthy.status = 204;
  p.behaviours.push_back(healthy);
  p.outlet_class.assign(o.outlets, 0);
  // A fixed shuffle: the faulty outlets are spread over the ports and shards, the same every run.
  std::vector<std::size_t> order(o.outlets);
  std::iota(order.begin(), order.end(), 0);
  std::mt19937 rng(20261202);
  std::shuffle(order.begin(), order.end(), rng);
  std::size_t next = 0;
  for (std::string_view name : loadtest_fault_names) {
    auto it = o.fault_shares.find(std::string(name));
    if (it == o.fault_shares.end() || it->second <= 0) continue;
    sink_behaviour b = healthy;
    if (name == "slow") b.latency = o.slow_latency;
    else if (name == "fail") b.error_rate = o.fault_rate, b.error_status = 500;
    else if (name == "429") b.error_rate = o.fault_rate, b.error_status = 429, b.retry_after_seconds = 1;
    else if (name == "blackhole") b.blackhole_rate = o.fault_rate;
    else if (name == "reset") b.reset_rate = o.fault_rate;
    else if (name == "drop") b.drop = true;
    auto cls = static_cast<std::uint8_t>(p.class_names.size());
    p.class_names.emplace_back(name);
    p.behaviours.push_back(b);
    auto n = static_cast<std::size_t>(std::llround(it->second / 100.0 * static_cast<double>(o.outlets)));
    if (n == 0) n = 1;  // a class asked for is never empty
    for (std::size_t i = 0; i < n && next < order.size(); ++i) p.outlet_class[order[next++]] = cls;
  }
  p.ordered.assign(o.outlets, false);
  auto n_ordered = static_cast<std::size_t>(std::llround(o.ordered_share / 100.0 * static_cast<double>(o.outlets)));
  for (std::size_t i = 0; i < n_ordered && i < o.outlets; ++i) p.ordered[order[o.outlets - 1 - i]] = true;
  static constexpr std::string_view mixed[] = {"webhook", "jsonfeed", "atom", "rss"};
  p.outlet_format.resize(o.outlets);
  for (std::size_t j = 0; j < o.outlets; ++j)
    p.outlet_format[j] = o.format == "mixed" ? std::string(mixed[j % 4]) : o.format;
  return p;
}

sink_options make_sink_options(const loadtest_options& o, const loadtest_plan& plan) {
  sink_options s;
  s.host = o.sink_host;
  s.first_port = o.sink_first_port;
  s.last_port = o.sink_last_port ? o.sink_last_port : o.sink_first_port;
  s.threads = o.sink_threads;
  s.secret = o.secret;
  sink_ledger_options l;
  l.items = o.items;
  l.outlets = o.outlets;
  if (o.target != "external") l.run = plan.run;
  l.outlet_class = plan.outlet_class;
  l.class_names = plan.class_names;
  l.class_behaviour = plan.behaviours;
  l.ordered = plan.ordered;
  s.ledger = std::move(l);
  return s;
}

}  // namespace detail
}  // namespace syndic::testkit
