#pragma once
// `syndic loadtest`: simulated outlets (the sink, with its ledger) and simulated publishing,
// a driver that runs a scenario against a target and checks what arrived. The target is
// syndic in this process (the default), a `syndic run` daemon at a URL, or an external system
// (only the simulators run, and what arrives is measured).
//
// Items carry "/items/RUN/K?created_ms=MS" in their link (as `syndic feeds`' do), outlets are
// the sink's paths "/o/J": the ledger recognises both with a bounded scan of each body.

#include <syndic/testkit/loadtest_report.hpp>
#include <syndic/testkit/sink.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace syndic::testkit {

// The outlet classes, in the order outlets are given them: a share of the outlets each.
inline constexpr std::string_view loadtest_fault_names[] = {"slow", "fail", "429", "blackhole", "reset", "drop"};

// "slow=5%,fail=3%,429=2%,blackhole=1%,reset=1%,drop=1%" ('%' optional; at most 100 in all).
std::optional<std::map<std::string, double>> parse_loadtest_faults(std::string_view spec, std::string& error);

struct loadtest_options {
  std::string target = "in-process";  // "in-process", "http://HOST:PORT" (a daemon), "external"
  std::string token;                  // the daemon's API token
  int daemon_pid = 0;                 // its process, for peak memory and CPU (0: not known)
  std::size_t outlets = 100;
  std::size_t items = 100;
  std::string faults;                       // as given, for the report
  std::map<std::string, double> fault_shares;  // percent of the outlets per class
  double rate = 0;                          // items per second; 0: a burst
  std::string format = "webhook";           // webhook, jsonfeed, atom, rss or mixed
  std::size_t payload_bytes = 0;            // extra content per item
  double duration_s = 0;                    // stop after this long (0: when everything arrived, or timeout_s)
  double timeout_s = 300;                   // the longest a run waits for the last pair
  double ordered_share = 0;                 // percent of the outlets that are ordered
  std::string secret;                       // whsec_...; empty: one made for the run
  // The sink: where it listens (port 0: any), its threads. Outlets are spread over the ports.
  std::string sink_host = "127.0.0.1";
  std::uint16_t sink_first_port = 0, sink_last_port = 0;
  unsigned sink_threads = 1;
  // external: `syndic feeds` started too, when set ("HOST:PORT"), with `feeds_count` feeds.
  std::string feeds_listen;
  std::size_t feeds_count = 10;
  // external: items made in the last this many seconds are not expected (still on their way:
  // a poller's interval); make it longer than the target's poll interval.
  double settle_s = 3;
  // The faulty classes' behaviour.
  latency_distribution slow_latency = latency_distribution::parse("50-250").value();
  double fault_rate = 0.3;  // fail, 429, blackhole, reset: the share of their requests that misbehave
  std::uint32_t outlet_timeout_ms = 2000;  // an outlet's request timeout (blackholes end by it)
  std::uint32_t max_in_flight = 4;         // per outlet
  unsigned shards = 0;                     // in-process engine
};

// What the live view shows (every ~200 ms).
struct loadtest_progress {
  double elapsed_s = 0;
  std::uint64_t delivered = 0, expected = 0;
  double rate = 0;  // first receipts per second over the last second or so
  std::uint64_t retries = 0;
  double p99_ms = 0;
};

// Runs the scenario. `stop` (set by a signal handler) ends it early: the report says
// interrupted. Returns the report; `error` set (and the report empty) when the run could not
// start (a port in use, a daemon that refuses the outlets).
loadtest_report run_loadtest(const loadtest_options& options, const std::atomic<bool>& stop,
                             const std::function<void(const loadtest_progress&)>& on_progress,
                             std::string& error);

}  // namespace syndic::testkit
