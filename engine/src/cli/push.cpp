// `syndic push --outlets FILE FEED...`: pushes every item of the feeds to every matching
// outlet, waits for each pair to end, prints a summary. The engine's first real user.

#include "cli/commands.hpp"
#include "cli/fd_limit.hpp"
#include "cli/json_string.hpp"
#include "cli/read_file.hpp"

#include <syndic/engine/engine.hpp>
#include <syndic/formats/parse.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>
#include <mutex>
#include <span>
#include <thread>

#include <unistd.h>

namespace syndic::cli {
namespace {

struct push_options {
  std::string outlets;
  std::vector<std::string> feeds;
  double deadline_s = 600;
  bool json = false;
  unsigned shards = 0;
  std::size_t max_in_flight = 4096;
  std::size_t max_pending = engine::engine_options{}.max_pending_pairs;
  std::size_t max_queue = engine::engine_options{}.max_queue;
  double max_age_s = 0;  // 0: the engine's default
  long max_host_connections = engine::engine_options{}.max_host_connections;
  bool insecure = false;
  std::string ca_file;
  bool fixed_concurrency = false;
};

// The most frequent failure reasons first; the rest summed up, so that a thousand outlets
// failing a thousand slightly different ways stay readable.
void print_top_failures(const std::map<std::string, std::uint64_t>& failures, std::size_t top) {
  std::vector<std::pair<std::uint64_t, const std::string*>> sorted;
  for (const auto& [k, v] : failures) sorted.emplace_back(v, &k);
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::uint64_t rest = 0;
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    if (i < top) std::printf("  %8llu  %s\n", (unsigned long long)sorted[i].first, sorted[i].second->c_str());
    else rest += sorted[i].first;
  }
  if (sorted.size() > top)
    std::printf("  %8llu  (%zu other reasons; --json lists them all)\n", (unsigned long long)rest, sorted.size() - top);
}

struct tally {
  std::mutex mutex;
  std::vector<double> latencies_ms;
  std::map<std::string, std::uint64_t> failures;  // "state: reason" -> count
};

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::size_t k = std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

int run_push(const push_options& o) {
  engine::outlets_result outlets = engine::load_outlets(o.outlets);
  for (const auto& e : outlets.errors) std::cerr << e.to_string() << '\n';
  if (!outlets.ok()) {
    std::cerr << "syndic push: " << outlets.errors.size() << " problem(s) in " << o.outlets
              << "; nothing was sent\n";
    return 1;
  }
  std::vector<formats::feed> feeds;
  for (const auto& path : o.feeds) {
    std::string error;
    auto bytes = read_input(path, 64u << 20, error);
    if (!bytes) {
      std::cerr << "syndic push: " << error << '\n';
      return 1;
    }
    formats::parse_result r = formats::parse(bytes->view());
    for (const auto& d : r.diagnostics)
      if (d.level != formats::severity::warning) std::cerr << path << ':' << formats::format_diagnostic(d) << '\n';
    if (!r.ok()) {
      std::cerr << "syndic push: " << path << ": no feed could be read; nothing was sent\n";
      return 1;
    }
    feeds.push_back(std::move(*r.value));
  }

  // Connections are file descriptors: fit the concurrency to the limit, and say so.
  std::size_t fd_limit = raise_fd_limit();
  std::size_t wanted = 0;
  for (const auto& cfg : outlets.outlets) wanted += cfg.ordered ? 1 : cfg.max_in_flight;
  wanted = std::min(wanted, o.max_in_flight);
  std::size_t room = fd_limit > 128 ? fd_limit - 128 : fd_limit / 2;  // stdio, files, listeners
  std::size_t max_in_flight = o.max_in_flight;
  if (wanted > room) {
    std::cerr << "syndic push: " << wanted << " concurrent connections wanted but the file "
              << "descriptor limit is " << fd_limit << " (ulimit -n): capping concurrent requests at "
              << room << "\n";
    max_in_flight = room;
  }

  tally t;
  engine::engine_options eo;
  eo.shards = o.shards;
  eo.max_in_flight = max_in_flight;
  eo.verify_tls = !o.insecure;
  eo.ca_file = o.ca_file;
  eo.max_host_connections = o.max_host_connections;
  eo.adaptive_concurrency = !o.fixed_concurrency;
  eo.max_pending_pairs = o.max_pending;
  eo.max_queue = o.max_queue;
  if (o.max_age_s > 0)
    eo.max_age = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::duration<double>(o.max_age_s));
  engine::engine e(eo);
  e.on_outcome([&t](const engine::delivery_outcome& out) {
    std::lock_guard lock(t.mutex);
    if (out.state == engine::final_state::delivered)
      t.latencies_ms.push_back(static_cast<double>(out.latency.count()) / 1000.0);
    else
      ++t.failures[std::string(engine::to_string(out.state)) + ": " + out.reason];
  });
  const std::size_t outlet_count = outlets.outlets.size();
  for (auto& cfg : outlets.outlets) e.add_outlet(std::move(cfg));
  // The engine has its own copies: the file's go now, and the pairs submitted next reuse
  // their memory rather than fresh pages (half a kilobyte an outlet).
  outlets.outlets = {};
  {
    // At most one latency per pair: reserved once rather than grown (and copied) as they come.
    std::size_t items = 0;
    for (const auto& f : feeds) items += f.items.size();
    std::lock_guard lock(t.mutex);
    t.latencies_ms.reserve(std::min<std::size_t>(items * outlet_count, std::size_t{1} << 24));
  }
  auto start = std::chrono::steady_clock::now();
  std::size_t total = 0, refused = 0;
  std::map<std::string, std::size_t> refused_by_outlet;
  auto deadline = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                              std::chrono::duration<double>(o.deadline_s));
  bool told_full = false;
  std::size_t unsubmitted = 0;  // items never taken before the deadline
  for (const auto& f : feeds) {
    // The whole feed at once; when the engine's bound on pending pairs refuses it, smaller
    // slices, each offered again as room is made (back-pressure: push waits, nothing is lost).
    std::span<const formats::item> rest(f.items);
    std::size_t slice = rest.size();
    while (!rest.empty()) {
      auto part = rest.first(std::min(slice, rest.size()));
      engine::submit_result r = e.submit(f, part);
      if (r.status == engine::submit_status::engine_full) {
        if (!told_full) {
          std::cerr << "syndic push: more pairs than --max-pending (" << eo.max_pending_pairs
                    << ") at once: the rest is submitted as deliveries end\n";
          told_full = true;
        }
        if (slice > 1) slice = (slice + 1) / 2;
        else if (std::chrono::steady_clock::now() >= deadline) {
          unsubmitted += rest.size();
          break;
        }
        else e.wait_idle(std::chrono::milliseconds(10));
        continue;
      }
      total += r.queued;
      refused += r.refused;
      for (const auto& [id, n] : r.full_outlets) refused_by_outlet[id] += n;
      rest = rest.subspan(part.size());
    }
  }
  if (unsubmitted > 0)
    std::cerr << "syndic push: the deadline passed with " << unsubmitted << " item(s) never submitted (engine full)\n";
  if (refused > 0) {
    // Pairs an outlet's queue had no room for (--max-queue): not sent, and counted as failed.
    std::lock_guard lock(t.mutex);
    for (const auto& [id, n] : refused_by_outlet)
      t.failures["refused: outlet " + id + " queue full (--max-queue)"] += n;
  }

  bool tty = isatty(STDERR_FILENO);
  auto last_report = start;
  while (e.pending() > 0 && std::chrono::steady_clock::now() < deadline) {
    // Returns as soon as everything is done, so `elapsed` is not rounded up to a poll period.
    auto step = std::min<std::chrono::steady_clock::duration>(
        std::chrono::milliseconds(tty ? 200 : 100), deadline - std::chrono::steady_clock::now());
    if (e.wait_idle(std::chrono::duration_cast<std::chrono::milliseconds>(step))) break;
    auto now = std::chrono::steady_clock::now();
    if (tty || now - last_report >= std::chrono::seconds(5)) {
      auto s = e.stats();
      std::fprintf(stderr, "%s%llu/%zu delivered, %llu retries, %zu pending%s", tty ? "\r" : "",
                   static_cast<unsigned long long>(s.delivered), total,
                   static_cast<unsigned long long>(s.retries), e.pending(), tty ? "   " : "\n");
      last_report = now;
    }
  }
  if (tty) std::fprintf(stderr, "\n");
  bool timed_out = e.pending() > 0;
  e.stop();  // anything left is cancelled
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  auto s = e.stats();
  std::lock_guard lock(t.mutex);
  double p50 = percentile(t.latencies_ms, 0.50), p90 = percentile(t.latencies_ms, 0.90),
         p99 = percentile(t.latencies_ms, 0.99), pmax = percentile(t.latencies_ms, 1.0);
  std::uint64_t failed = s.dead_lettered + s.retired + s.gave_up + s.cancelled + s.expired + refused;
  double rate = elapsed > 0 ? static_cast<double>(s.delivered) / elapsed : 0;
  if (o.json) {
    std::printf("{\"pairs\":%zu,\"delivered\":%llu,\"retries\":%llu,\"failed\":%llu,\"dead_lettered\":%llu,"
                "\"retired\":%llu,\"gave_up\":%llu,\"cancelled\":%llu,\"expired\":%llu,\"refused\":%zu,\"elapsed_s\":%.3f,"
                "\"deliveries_per_s\":%.1f,\"connections_opened\":%llu,"
                "\"latency_ms\":{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"max\":%.3f},\"failures\":{",
                total, (unsigned long long)s.delivered, (unsigned long long)s.retries,
                (unsigned long long)failed, (unsigned long long)s.dead_lettered,
                (unsigned long long)s.retired, (unsigned long long)s.gave_up,
                (unsigned long long)s.cancelled, (unsigned long long)s.expired, refused, elapsed, rate,
                (unsigned long long)s.connections_opened, p50, p90, p99, pmax);
    bool first = true;
    for (const auto& [k, v] : t.failures) {
      std::printf("%s%s:%llu", first ? "" : ",", json_string(k).c_str(), (unsigned long long)v);
      first = false;
    }
    std::printf("}}\n");
  } else {
    std::printf("pairs:        %zu (items x matching outlets)\n", total + refused);
    if (refused > 0) std::printf("refused:      %zu (outlet queues full; never sent)\n", refused);
    std::printf("delivered:    %llu\n", (unsigned long long)s.delivered);
    std::printf("retries:      %llu\n", (unsigned long long)s.retries);
    std::printf("failed:       %llu\n", (unsigned long long)failed);
    print_top_failures(t.failures, 10);
    std::printf("elapsed:      %.3f s%s\n", elapsed, timed_out ? " (deadline reached)" : "");
    std::printf("rate:         %.0f deliveries/s\n", rate);
    std::printf("connections:  %llu opened; at most %u requests in flight to one outlet\n",
                (unsigned long long)s.connections_opened, s.peak_outlet_in_flight);
    std::printf("latency (ms): p50 %.2f  p90 %.2f  p99 %.2f  max %.2f\n", p50, p90, p99, pmax);
  }
  return failed == 0 && !timed_out && unsubmitted == 0 ? 0 : 1;
}

}  // namespace

command add_push(CLI::App& app) {
  auto o = std::make_shared<push_options>();
  CLI::App* cmd = app.add_subcommand(
      "push",
      "Push every item of the given feeds to every matching outlet and wait until each "
      "(item, outlet) pair is delivered, dead-lettered, retired or out of retries.\n"
      "Prints delivered, retried, failed (reasons counted), elapsed, deliveries/s and latency "
      "percentiles. Exit status 0 when everything was delivered, 1 otherwise.");
  cmd->add_option("--outlets", o->outlets,
                  "Outlets file: CSV with a header row (id,url,format required) or TOML")
      ->required();
  cmd->add_option("feeds", o->feeds, "Feed files (any RSS, Atom or JSON Feed)")->required();
  cmd->add_option("--deadline", o->deadline_s, "Give up waiting after this many seconds")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--json", o->json, "Write the summary as JSON");
  cmd->add_option("--shards", o->shards, "Shard threads (default: one per hardware thread)");
  cmd->add_option("--max-in-flight", o->max_in_flight, "Global cap on concurrent requests")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-host-connections", o->max_host_connections,
                  "Connections per host:port and shard (0: no cap); requests beyond wait for one")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--max-pending", o->max_pending,
                  "Pairs queued at once, all outlets together; the rest waits its turn (0: no bound)")
      ->capture_default_str();
  cmd->add_option("--max-queue", o->max_queue,
                  "Pairs queued per outlet; beyond, an outlet's pairs are refused and counted as failed (0: no bound)")
      ->capture_default_str();
  cmd->add_option("--max-age", o->max_age_s,
                  "Seconds after which an undelivered pair expires (default: the engine's, 26 h)")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--fixed-concurrency", o->fixed_concurrency,
                "Let every outlet send max_in_flight requests at once from the start (default: "
                "start at one and open more only while its queue backs up and its latency stays flat)");
  cmd->add_flag("--insecure", o->insecure, "Do not verify TLS certificates");
  cmd->add_option("--cacert", o->ca_file, "Trust the CAs in this PEM file for https outlets")
      ->check(CLI::ExistingFile);
  return [o] { return run_push(*o); };
}

}  // namespace syndic::cli
