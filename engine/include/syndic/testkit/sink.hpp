#pragma once
// A real HTTP server that plays many outlets, for tests, benchmarks and load-testing other
// syndication systems. One listener per port; every path on a port is an outlet of its own
// ("PORT/PATH"). Faults are injected per port or path; signatures are verified when given
// the secret; deliveries are counted per outlet and duplicates spotted by webhook-id.
//
// Part of the test kit (syndic::testkit, library syndic_testkit), not of syndic::engine: the
// `syndic sink` command, the tests and embedders' own tests link it. It serves on the
// engine's HTTP server (engine/src/http/server.hpp) with its own threads.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace syndic::testkit {

// How long the sink waits before answering: fixed, uniform between two bounds, or
// exponential (mostly quick answers and a long tail, as real receivers have).
struct latency_distribution {
  enum class shape : std::uint8_t { fixed, uniform, exponential };
  latency_distribution(std::chrono::milliseconds fixed = std::chrono::milliseconds(0)) : a(fixed) {}
  shape kind = shape::fixed;
  std::chrono::milliseconds a{0};  // the fixed value, the uniform minimum or the exponential mean
  std::chrono::milliseconds b{0};  // the uniform maximum
  // The delay at quantile u in [0, 1). Exponential delays stop at 10 times the mean (about
  // one answer in 22,000), so that every answer comes.
  std::chrono::milliseconds at(double u) const;
  bool zero() const { return kind == shape::fixed && a.count() == 0; }
  // "50" (fixed), "20-200" (uniform), "exp:50" (exponential, mean 50), all in milliseconds.
  static std::optional<latency_distribution> parse(std::string_view spec);
};

// How one outlet (or all outlets on a port, or all) answers.
struct sink_behaviour {
  int status = 204;
  latency_distribution latency;
  double error_rate = 0;  // share of requests answered with error_status instead
  int error_status = 503;
  std::uint32_t fail_first = 0;  // the first N requests to each outlet get error_status
  std::optional<int> retry_after_seconds;  // sent with 429 and 503
  // The delay of the answers given error_status (fail_first, error_rate); unset: `latency`.
  // A quick refusal among slow successes (or the reverse) is how in-flight races are staged.
  std::optional<latency_distribution> error_latency;
  std::string location;  // sent as Location with a 3xx answer
  bool blackhole = false;                  // read the request, never answer
  bool reset = false;                      // close the connection without answering
  // Shares of requests (0 to 1) that are blackholed or reset instead of answered: an outlet
  // that misbehaves now and then, so that a sender's retries still get every item through.
  double blackhole_rate = 0;
  double reset_rate = 0;
  // Answer `status` (2xx) and record nothing: simulated loss, for a checker to find.
  bool drop = false;
};

// The load test's ledger (sink_options::ledger): what arrived, per (item, outlet) pair.
// Items are recognised by the links `syndic feeds` and `syndic loadtest` put in them,
// ".../items/RUN/K?created_ms=MS" (created_items() in feeds.hpp: a bounded scan, no parse);
// outlets by their path, PREFIX{J} ("/o/17"). Memory: one bit per pair (10,000 x 10,000 is
// 12.5 MB) and a few words per outlet; atomics only, no lock on the request path.
struct sink_ledger_options {
  std::size_t items = 0;    // K in [0, items)
  std::size_t outlets = 0;  // J in [0, outlets)
  std::string path_prefix = "/o/";
  // Only items whose RUN is this count (another run's stragglers are "stray"); nullopt: any
  // RUN (syndic feeds' feed numbers, where K is already unique).
  std::optional<std::uint64_t> run;
  // Each outlet's class (an index into class_names; empty: all class 0), and optionally each
  // class's behaviour (used instead of the rules for outlet paths; empty: the rules).
  std::vector<std::uint8_t> outlet_class;
  std::vector<std::string> class_names{"all"};
  std::vector<sink_behaviour> class_behaviour;
  std::vector<bool> ordered;  // outlets whose items must come in K order
  // Same-id duplicates are told apart from different-id ones among the last this many
  // receipts (older first receipts are forgotten: their duplicates count as different-id).
  std::size_t id_window = 1'000'000;
};

// What the ledger recorded (sink::ledger()).
struct sink_ledger_class {
  std::string name;
  std::size_t outlets = 0;
  std::uint64_t delivered = 0;  // distinct pairs
  std::uint64_t duplicates = 0, duplicates_same_id = 0, duplicates_different_id = 0;
  std::uint64_t dropped = 0;    // requests answered 2xx by a `drop` outlet and not recorded
  // Latency (arrival - created_ms) of first receipts: log-bucketed, 8 buckets per power of
  // two microseconds (about 9% wide). (upper bound in ms, count), ascending, empty ones left out.
  std::vector<std::pair<double, std::uint64_t>> histogram;
  double max_ms = 0;
};

struct sink_ledger_snapshot {
  std::uint64_t delivered = 0, duplicates = 0, duplicates_same_id = 0, duplicates_different_id = 0;
  std::uint64_t order_violations = 0;
  std::uint64_t stray = 0;  // items or paths outside the ledger's ranges (or another run's)
  std::uint64_t dropped = 0;
  std::vector<sink_ledger_class> classes;
  // First receipts per 100 ms since the ledger started (the sink's start), up to the last non-empty.
  std::vector<std::uint64_t> arrivals_per_100ms;
  std::vector<std::uint64_t> delivered_per_outlet;  // distinct pairs per outlet
  // Distinct pairs received among items K < the `items_in_range` asked for (all: = delivered):
  // what an external run checks, leaving out items made too late to have arrived.
  std::uint64_t delivered_in_range = 0;
  // The first missing pairs (item, outlet) in that range, at most `max_missing` asked for.
  std::vector<std::pair<std::size_t, std::size_t>> missing;
};

struct sink_options {
  std::string host = "127.0.0.1";
  std::uint16_t first_port = 0;  // 0: any free port (one listener)
  std::uint16_t last_port = 0;
  unsigned threads = 1;
  // When set, signatures are verified (401 when wrong or missing): Standard Webhooks
  // (webhook-signature) on requests with a webhook-id, WebSub's X-Hub-Signature (sha256=, the
  // secret used as is) on requests with one or with a Link rel="hub" header.
  std::string secret;
  // Standard Webhooks: a webhook-timestamp further than this from the sink's clock is refused
  // (replayed or badly delayed deliveries). 0: not checked.
  std::chrono::seconds timestamp_tolerance{300};
  // Server-side connection management, as real servers do it: a connection idle this long is
  // closed (nginx's keepalive_timeout; 0 = never), and the Nth answer on a connection says
  // `Connection: close` (nginx's keepalive_requests; 0 = no limit).
  std::chrono::milliseconds idle_timeout{0};
  std::uint32_t max_requests_per_connection = 0;
  sink_behaviour default_behaviour;
  // "PORT" or "PORT/path" -> behaviour; the most specific match wins.
  std::map<std::string, sink_behaviour> rules;
  // Request header names (case-insensitive) whose presence is counted in sink_stats::headers:
  // a test can tell that a secret header did (or did not) reach this server.
  std::vector<std::string> count_headers;
  // Memory stays bounded on long runs: duplicates are spotted among the last this many
  // delivered ids (older ones are forgotten), and at most this many distinct "PORT/path"
  // outlets are counted one by one (the rest are summed under "(other)").
  std::size_t duplicate_window = 1'000'000;
  std::size_t max_outlets_counted = 100'000;
  // Off by default (the plain sink stays as fast as it was). On: 2xx requests are recorded in
  // the ledger, and the counters below are kept with atomics, without the per-outlet map.
  std::optional<sink_ledger_options> ledger;
};

struct sink_stats {
  std::uint64_t requests = 0;
  std::uint64_t delivered = 0;  // answered 2xx
  std::uint64_t items = 0;      // items carried by the 2xx requests (a batch carries several)
  std::uint64_t duplicates = 0;
  std::uint64_t bad_signatures = 0;
  std::uint64_t connections = 0;
  std::uint64_t dropped = 0;  // answered 2xx by a `drop` outlet and not counted as delivered
  std::map<std::string, std::uint64_t> per_outlet;  // "PORT/path" -> requests
  std::map<std::string, std::uint64_t> headers;     // sink_options::count_headers -> requests
  std::string to_json() const;
};

class sink {
public:
  explicit sink(sink_options options);
  ~sink();
  sink(const sink&) = delete;
  sink& operator=(const sink&) = delete;

  // Binds every port (throws std::runtime_error naming the port that cannot be bound) and
  // starts serving on background threads.
  void start();
  void stop();
  std::vector<std::uint16_t> ports() const;
  sink_stats stats() const;
  // The ledger's record so far (empty when sink_options::ledger is off); safe while serving.
  sink_ledger_snapshot ledger(std::size_t max_missing = 20, std::size_t items_in_range = SIZE_MAX) const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace syndic::testkit
