// `syndic loadtest --outlets N --items N [--faults ...] --report FILE.json --html FILE.html`:
// simulated outlets and publishing against syndic in this process, a daemon, or an external
// system; a live view; the correctness check; the report. Exit 0: nothing lost and nothing
// bad; 1: something was; 2: bad flags.

#include "cli/commands.hpp"
#include "cli/fd_limit.hpp"
#include "cli/read_file.hpp"

#include <syndic/testkit/loadtest.hpp>

#include <CLI/CLI.hpp>
#include <toml++/toml.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>

#include <unistd.h>

namespace syndic::cli {
namespace {

std::atomic<bool> stop_requested{false};
extern "C" void on_stop_signal(int) { stop_requested.store(true); }

struct loadtest_cli {
  testkit::loadtest_options o;
  std::string scenario, report, html, sink_listen, slow = "50-250";
  double ordered = 0;
  CLI::App* cmd = nullptr;
};

bool bad(const std::string& message) {
  std::cerr << "syndic loadtest: " << message << '\n';
  return false;
}

// "HOST:PORT" or "HOST:FIRST-LAST".
bool parse_listen(const std::string& s, testkit::loadtest_options& o) {
  auto colon = s.rfind(':');
  if (colon == std::string::npos) return bad("--sink-listen '" + s + "': expected HOST:PORT or HOST:FIRST-LAST");
  o.sink_host = s.substr(0, colon);
  try {
    std::string ports = s.substr(colon + 1);
    auto dash = ports.find('-');
    std::size_t used = 0;
    int first = std::stoi(ports.substr(0, dash), &used);
    int last = dash == std::string::npos ? first : std::stoi(ports.substr(dash + 1));
    if (first < 0 || last > 65535 || last < first) throw std::out_of_range("ports");
    o.sink_first_port = static_cast<std::uint16_t>(first);
    o.sink_last_port = static_cast<std::uint16_t>(last);
  } catch (const std::exception&) {
    return bad("--sink-listen '" + s + "': ports must be numbers from 0 to 65535, the last not below the first");
  }
  return true;
}

// The scenario file's keys are the flags' names; a flag given on the command line wins.
bool apply_scenario(loadtest_cli& c) {
  toml::table doc;
  try {
    doc = toml::parse_file(c.scenario);
  } catch (const toml::parse_error& e) {
    return bad("--scenario " + c.scenario + ": " + std::string(e.description()));
  }
  auto given = [&](const std::string& flag) {
    const CLI::Option* opt = c.cmd->get_option_no_throw(flag);
    return opt != nullptr && opt->count() > 0;
  };
  for (auto&& entry : doc) {
    // Named, not a structured binding: clang before 16 cannot capture one in the lambdas below.
    auto& value = entry.second;
    std::string k(entry.first.str());
    std::string flag = "--" + k;
    if (given(flag)) continue;
    auto num = [&](auto& out) {
      if (auto v = value.template value<double>()) {
        out = static_cast<std::remove_reference_t<decltype(out)>>(*v);
        return true;
      }
      return bad("--scenario " + c.scenario + ": '" + k + "' must be a number");
    };
    auto str = [&](std::string& out) {
      if (auto v = value.template value<std::string>()) {
        out = *v;
        return true;
      }
      return bad("--scenario " + c.scenario + ": '" + k + "' must be a string");
    };
    bool ok = true;
    if (k == "outlets") ok = num(c.o.outlets);
    else if (k == "items") ok = num(c.o.items);
    else if (k == "rate") ok = num(c.o.rate);
    else if (k == "payload-bytes" || k == "payload_bytes") ok = num(c.o.payload_bytes);
    else if (k == "duration") ok = num(c.o.duration_s);
    else if (k == "timeout") ok = num(c.o.timeout_s);
    else if (k == "ordered") ok = num(c.ordered);
    else if (k == "faults") ok = str(c.o.faults);
    else if (k == "format") ok = str(c.o.format);
    else if (k == "target") ok = str(c.o.target);
    else if (k == "token") ok = str(c.o.token);
    else if (k == "secret") ok = str(c.o.secret);
    else if (k == "report") ok = str(c.report);
    else if (k == "html") ok = str(c.html);
    else if (k == "sink-listen" || k == "sink_listen") ok = str(c.sink_listen);
    else if (k == "feeds-listen" || k == "feeds_listen") ok = str(c.o.feeds_listen);
    else if (k == "slow-ms" || k == "slow_ms") ok = str(c.slow);
    else ok = bad("--scenario " + c.scenario + ": unknown key '" + k + "'");
    if (!ok) return false;
  }
  return true;
}

bool check(loadtest_cli& c) {
  if (!c.scenario.empty() && !apply_scenario(c)) return false;
  auto& o = c.o;
  if (o.outlets == 0 || o.outlets > 100'000) return bad("--outlets: from 1 to 100000");
  if (o.items == 0 || o.items > 10'000'000) return bad("--items: from 1 to 10000000");
  if (static_cast<double>(o.items) * static_cast<double>(o.outlets) > 4e9) return bad("--items x --outlets: at most 4e9 pairs");
  if (o.rate < 0) return bad("--rate: items per second, 0 or more");
  if (c.ordered < 0 || c.ordered > 100) return bad("--ordered: a percentage from 0 to 100");
  o.ordered_share = c.ordered;
  if (o.format != "webhook" && o.format != "jsonfeed" && o.format != "atom" && o.format != "rss" && o.format != "mixed")
    return bad("--format '" + o.format + "': webhook, jsonfeed, atom, rss or mixed");
  std::string error;
  auto shares = testkit::parse_loadtest_faults(o.faults, error);
  if (!shares) return bad(error);
  o.fault_shares = *shares;
  auto slow = testkit::latency_distribution::parse(c.slow);
  if (!slow) return bad("--slow-ms '" + c.slow + "': MS, MIN-MAX or exp:MEAN");
  o.slow_latency = *slow;
  if (o.target != "in-process" && o.target != "external" && !o.target.starts_with("http://"))
    return bad("--target '" + o.target + "': in-process, external or a daemon's http://HOST:PORT");
  if (o.target.starts_with("http://") && o.token.empty()) {
    if (const char* t = std::getenv("SYNDIC_TOKEN")) o.token = t;
    else return bad("--token: a daemon target needs its API token (or SYNDIC_TOKEN)");
  }
  if (o.target == "external" && c.sink_listen.empty()) return bad("--sink-listen: an external target needs the sink's address");
  if (o.target == "external" && o.duration_s <= 0) return bad("--duration: an external run lasts a set time");
  if (!c.sink_listen.empty() && !parse_listen(c.sink_listen, o)) return false;
  if (!o.feeds_listen.empty() && o.feeds_listen.rfind(':') == std::string::npos)
    return bad("--feeds-listen '" + o.feeds_listen + "': expected HOST:PORT");
  return true;
}

void show(const testkit::loadtest_progress& p, bool tty, double& last_line) {
  if (tty) {
    double share = p.expected ? static_cast<double>(p.delivered) / static_cast<double>(p.expected) : 0;
    int filled = static_cast<int>(std::min(1.0, share) * 30);
    std::fprintf(stderr, "\r[%-30s] %llu/%llu delivered  %.0f/s  retries %llu  p99 %.1f ms   ",
                 std::string(static_cast<std::size_t>(filled), '#').c_str(), (unsigned long long)p.delivered,
                 (unsigned long long)p.expected, p.rate, (unsigned long long)p.retries, p.p99_ms);
    std::fflush(stderr);
  } else if (p.elapsed_s - last_line >= 2.0) {
    last_line = p.elapsed_s;
    std::fprintf(stderr, "%.1fs: %llu/%llu delivered, %.0f/s, %llu retries, p99 %.1f ms\n", p.elapsed_s,
                 (unsigned long long)p.delivered, (unsigned long long)p.expected, p.rate,
                 (unsigned long long)p.retries, p.p99_ms);
  }
}

bool write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  if (!out) {
    std::cerr << "syndic loadtest: cannot write " << path << '\n';
    return false;
  }
  return true;
}

int run_loadtest_command(loadtest_cli& c) {
  if (!check(c)) return 2;
  raise_fd_limit();
  stop_requested.store(false);
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  bool tty = isatty(STDERR_FILENO);
  double last_line = -10;
  std::string error;
  testkit::loadtest_report r = testkit::run_loadtest(
      c.o, stop_requested, [&](const testkit::loadtest_progress& p) { show(p, tty, last_line); }, error);
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  if (tty) std::fprintf(stderr, "\n");
  if (!error.empty()) {
    std::cerr << "syndic loadtest: " << error << '\n';
    return 1;
  }
  bool written = true;
  if (!c.report.empty()) written = write_file(c.report, r.to_json() + "\n") && written;
  if (!c.html.empty()) written = write_file(c.html, testkit::render_html(r)) && written;
  std::printf("target:      %s\n", r.target.c_str());
  std::printf("pairs:       %llu expected, %llu delivered, %llu lost%s\n", (unsigned long long)r.expected,
              (unsigned long long)r.delivered, (unsigned long long)r.lost, r.interrupted ? " (interrupted)" : "");
  if (r.target == "external")
    std::printf("items:       %zu made by the simulated feeds (or --items) in the run\n", r.items_published);
  else if (r.items_published < r.items)
    std::printf("published:   %zu of %zu items (stopped early)\n", r.items_published, r.items);
  std::printf("duplicates:  %llu (%llu same delivery id, %llu another)\n", (unsigned long long)r.duplicates,
              (unsigned long long)r.duplicates_same_id, (unsigned long long)r.duplicates_different_id);
  std::printf("bad:         %llu bad signatures, %llu out of order\n", (unsigned long long)r.bad_signatures,
              (unsigned long long)r.order_violations);
  std::printf("rate:        %.0f deliveries/s over %.2f s\n", r.duration_s > 0 ? static_cast<double>(r.delivered) / r.duration_s : 0,
              r.duration_s);
  std::printf("latency ms:  p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f\n", r.latency.p50, r.latency.p90,
              r.latency.p99, r.latency.p999, r.latency.max);
  std::printf("engine:      %llu attempts, %llu retries, %llu dead letters; peak RSS %.1f MB, CPU %.2f s (%s)\n",
              (unsigned long long)r.attempts, (unsigned long long)r.retries, (unsigned long long)r.dead_letters,
              r.engine_peak_rss_mb, r.engine_cpu_s, r.engine_figures_note.c_str());
  for (const auto& m : r.missing_sample) std::printf("lost:        %s\n", m.c_str());
  std::printf("check:       %s\n", r.passed() && !r.interrupted ? "passed" : "FAILED");
  return r.passed() && !r.interrupted && written ? 0 : 1;
}

}  // namespace

command add_loadtest(CLI::App& app) {
  auto c = std::make_shared<loadtest_cli>();
  CLI::App* cmd = app.add_subcommand(
      "loadtest",
      "Load-test syndic (in this process, or a daemon at a URL) or an external system: simulated outlets "
      "(the sink, recording every (item, outlet) pair) with a fault profile, items published at a rate or at "
      "once, a live view, and the correctness check (nothing lost, duplicates counted, signatures valid, "
      "order kept). Exit 0 when it passes, 1 when not, 2 for bad flags.");
  c->cmd = cmd;
  auto& o = c->o;
  cmd->add_option("--scenario", c->scenario, "TOML file whose keys are these flags' names (flags win)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--target", o.target, "in-process, external, or a daemon's http://HOST:PORT")->capture_default_str();
  cmd->add_option("--token", o.token, "The daemon's API token (or SYNDIC_TOKEN)");
  cmd->add_option("--daemon-pid", o.daemon_pid, "The daemon's process id, for its peak memory and CPU");
  cmd->add_option("--outlets", o.outlets, "Simulated outlets")->capture_default_str();
  cmd->add_option("--items", o.items, "Items published (in-process and daemon)")->capture_default_str();
  cmd->add_option("--faults", o.faults,
                  "Share of faulty outlets per class: slow=5%,fail=3%,429=2%,blackhole=1%,reset=1%,drop=1% "
                  "(drop answers 2xx and records nothing: simulated loss)");
  cmd->add_option("--rate", o.rate, "Items per second (0: all at once)")->capture_default_str();
  cmd->add_option("--format", o.format, "webhook, jsonfeed, atom, rss or mixed")->capture_default_str();
  cmd->add_option("--payload-bytes", o.payload_bytes, "Extra content per item")->capture_default_str();
  cmd->add_option("--duration", o.duration_s, "Stop after this many seconds (0: when every pair has ended)");
  cmd->add_option("--timeout", o.timeout_s, "Without --duration: give up after this many seconds")->capture_default_str();
  cmd->add_option("--ordered", c->ordered, "Percent of the outlets that are ordered");
  cmd->add_option("--secret", o.secret, "Webhook secret (whsec_...); default: one made for the run");
  cmd->add_option("--report", c->report, "Write the report as JSON");
  cmd->add_option("--html", c->html, "Write the report as a self-contained HTML page");
  cmd->add_option("--sink-listen", c->sink_listen, "The sink's HOST:PORT[-PORT] (default 127.0.0.1, any free port)");
  cmd->add_option("--sink-threads", o.sink_threads, "The sink's threads")->capture_default_str();
  cmd->add_option("--feeds-listen", o.feeds_listen, "external: also run `syndic feeds` here (HOST:PORT), gaining --rate items/s");
  cmd->add_option("--feeds", o.feeds_count, "external: the number of simulated feeds")->capture_default_str();
  cmd->add_option("--settle", o.settle_s,
                  "external: items made in the last S seconds are not expected (longer than the target's poll interval)")
      ->capture_default_str();
  cmd->add_option("--slow-ms", c->slow, "Delay of slow outlets: MS, MIN-MAX or exp:MEAN")->capture_default_str();
  cmd->add_option("--fault-rate", o.fault_rate, "Share of a faulty outlet's requests that fail (fail, 429, blackhole, reset)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--outlet-timeout-ms", o.outlet_timeout_ms, "Outlets' request timeout")->capture_default_str();
  cmd->add_option("--max-in-flight", o.max_in_flight, "Requests in flight per outlet")->capture_default_str();
  cmd->add_option("--shards", o.shards, "In-process engine's shard threads (0: one per CPU)");
  return [c] { return run_loadtest_command(*c); };
}

}  // namespace syndic::cli
