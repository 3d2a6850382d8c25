// `syndic sink --listen 127.0.0.1:PORT[-PORT]`: a server playing many outlets, with faults.

#include "cli/commands.hpp"
#include "cli/fd_limit.hpp"

#include <syndic/testkit/sink.hpp>

#include <CLI/CLI.hpp>

#include <charconv>
#include <csignal>
#include <iostream>
#include <thread>

namespace syndic::cli {
namespace {

struct sink_cli {
  std::string listen = "127.0.0.1:8900";
  std::vector<std::string> rules;
  double duration_s = 0;
  testkit::sink_options options;
  int retry_after = -1;
  std::size_t ledger_items = 0, ledger_outlets = 0;  // both set: the ledger is on
};

// "HOST:PORT" or "HOST:FIRST-LAST".
bool parse_listen(const std::string& s, testkit::sink_options& o, std::string& error) {
  auto colon = s.rfind(':');
  if (colon == std::string::npos) {
    error = "--listen '" + s + "': expected HOST:PORT or HOST:FIRST-LAST";
    return false;
  }
  o.host = s.substr(0, colon);
  std::string_view ports = std::string_view(s).substr(colon + 1);
  auto dash = ports.find('-');
  auto num = [](std::string_view v, std::uint16_t& out) {
    unsigned n = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc{} || end != v.data() + v.size() || n > 65535) return false;
    out = static_cast<std::uint16_t>(n);
    return true;
  };
  if (!num(ports.substr(0, dash), o.first_port) ||
      (dash != std::string_view::npos && !num(ports.substr(dash + 1), o.last_port))) {
    error = "--listen '" + s + "': ports must be numbers from 0 to 65535";
    return false;
  }
  if (dash == std::string_view::npos) o.last_port = o.first_port;
  if (o.last_port < o.first_port) {
    error = "--listen '" + s + "': the last port is below the first";
    return false;
  }
  return true;
}

// "PORT[/path]=OPT[,OPT...]" with OPT one of N (status), status=N, latency=SPEC (MS, MIN-MAX, exp:MEAN),
// error-rate=P, error-status=N, error-latency=SPEC, fail-first=N, retry-after=S, location=URL, blackhole, reset.
bool parse_rule(const std::string& s, const testkit::sink_behaviour& base, testkit::sink_options& o,
                std::string& error) {
  auto eq = s.find('=');
  if (eq == std::string::npos || eq == 0) {
    error = "--rule '" + s + "': expected PORT[/path]=OPTIONS";
    return false;
  }
  testkit::sink_behaviour b = base;
  std::string_view opts = std::string_view(s).substr(eq + 1);
  while (!opts.empty()) {
    auto comma = opts.find(',');
    std::string_view opt = opts.substr(0, comma);
    auto oeq = opt.find('=');
    std::string_view key = opt.substr(0, oeq), value = oeq == std::string_view::npos ? "" : opt.substr(oeq + 1);
    auto as_int = [&](std::string_view v, int& out) {
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
      return ec == std::errc{} && end == v.data() + v.size();
    };
    int n = 0;
    double d = 0;
    if (oeq == std::string_view::npos && as_int(key, n)) b.status = n;
    else if (key == "status" && as_int(value, n)) b.status = n;
    else if (key == "latency" && testkit::latency_distribution::parse(value)) b.latency = *testkit::latency_distribution::parse(value);
    else if (key == "error-status" && as_int(value, n)) b.error_status = n;
    else if (key == "error-latency" && testkit::latency_distribution::parse(value)) b.error_latency = testkit::latency_distribution::parse(value);
    else if (key == "location" && !value.empty()) b.location = std::string(value);
    else if (key == "retry-after" && as_int(value, n)) b.retry_after_seconds = n;
    else if (key == "fail-first" && as_int(value, n) && n >= 0) b.fail_first = static_cast<std::uint32_t>(n);
    else if (key == "error-rate" && std::from_chars(value.data(), value.data() + value.size(), d).ec == std::errc{}) b.error_rate = d;
    else if (key == "blackhole" && value.empty()) b.blackhole = true;
    else if (key == "reset" && value.empty()) b.reset = true;
    else {
      error = "--rule '" + s + "': unknown or malformed option '" + std::string(opt) + "'";
      return false;
    }
    if (comma == std::string_view::npos) break;
    opts.remove_prefix(comma + 1);
  }
  o.rules[s.substr(0, eq)] = b;
  return true;
}

int run_sink(sink_cli& c) {
  std::string error;
  if (!parse_listen(c.listen, c.options, error)) {
    std::cerr << "syndic sink: " << error << '\n';
    return 2;
  }
  if (c.retry_after >= 0) c.options.default_behaviour.retry_after_seconds = c.retry_after;
  for (const auto& r : c.rules)
    if (!parse_rule(r, c.options.default_behaviour, c.options, error)) {
      std::cerr << "syndic sink: " << error << '\n';
      return 2;
    }
  if ((c.ledger_items > 0) != (c.ledger_outlets > 0)) {
    std::cerr << "syndic sink: --ledger-items and --ledger-outlets go together\n";
    return 2;
  }
  if (c.ledger_items > 0) {
    testkit::sink_ledger_options l;
    l.items = c.ledger_items;
    l.outlets = c.ledger_outlets;
    c.options.ledger = l;
  }
  // Block the stop signals in every thread; this one waits for them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::size_t fd_limit = raise_fd_limit();
  std::size_t listeners = static_cast<std::size_t>(c.options.last_port - c.options.first_port) + 1;
  if (listeners + 64 > fd_limit) {
    std::cerr << "syndic sink: " << listeners << " listeners do not fit the file descriptor limit of "
              << fd_limit << " (ulimit -n)\n";
    return 1;
  }
  testkit::sink s(c.options);
  try {
    s.start();
  } catch (const std::exception& e) {
    std::cerr << "syndic " << e.what() << '\n';
    return 1;
  }
  auto ports = s.ports();
  std::cerr << "syndic sink: listening on " << c.options.host << ":" << ports.front();
  if (ports.size() > 1) std::cerr << "-" << ports.back();
  std::cerr << " (" << ports.size() << " port(s)); GET /_stats for counts; Ctrl-C or SIGTERM to stop\n";
  if (c.duration_s > 0) {
    timespec ts{static_cast<time_t>(c.duration_s), static_cast<long>((c.duration_s - static_cast<double>(static_cast<time_t>(c.duration_s))) * 1e9)};
    sigtimedwait(&set, nullptr, &ts);
  } else {
    int sig = 0;
    sigwait(&set, &sig);
  }
  s.stop();
  std::cout << s.stats().to_json() << std::endl;
  if (c.options.ledger) {
    auto l = s.ledger(0);
    std::cout << "{\"ledger\":{\"delivered\":" << l.delivered << ",\"duplicates\":" << l.duplicates
              << ",\"duplicates_same_id\":" << l.duplicates_same_id << ",\"duplicates_different_id\":"
              << l.duplicates_different_id << ",\"order_violations\":" << l.order_violations
              << ",\"stray\":" << l.stray << "}}" << std::endl;
  }
  return 0;
}

}  // namespace

command add_sink(CLI::App& app) {
  auto c = std::make_shared<sink_cli>();
  CLI::App* cmd = app.add_subcommand(
      "sink",
      "A real HTTP server that plays thousands of outlets: one listener per port, every path "
      "an outlet of its own. Counts deliveries per outlet, spots duplicates by webhook-id, "
      "verifies Standard Webhooks (with a timestamp tolerance) and WebSub signatures when given the secret, and injects faults. "
      "Prints its counts as JSON on exit; GET /_stats shows them while running.");
  cmd->add_option("--listen", c->listen, "HOST:PORT or HOST:FIRST-LAST (one listener per port)")
      ->capture_default_str();
  cmd->add_option("--threads", c->options.threads, "Server threads")->capture_default_str();
  cmd->add_option("--status", c->options.default_behaviour.status, "Status answered")
      ->capture_default_str()
      ->check(CLI::Range(100, 599));
  cmd->add_option_function<std::string>(
         "--latency-ms",
         [c](const std::string& spec) { c->options.default_behaviour.latency = *testkit::latency_distribution::parse(spec); },
         "Delay before each answer: MS, MIN-MAX (uniform) or exp:MEAN (exponential)")
      ->check([](const std::string& spec) {
        return testkit::latency_distribution::parse(spec) ? std::string()
                                                         : "expected MS, MIN-MAX or exp:MEAN (milliseconds), got '" + spec + "'";
      });
  cmd->add_option("--error-rate", c->options.default_behaviour.error_rate,
                  "Share of requests answered with --error-status")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--error-status", c->options.default_behaviour.error_status, "Status for injected errors")
      ->capture_default_str()
      ->check(CLI::Range(100, 599));
  cmd->add_option("--retry-after", c->retry_after, "Retry-After seconds sent with 429 and 503")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--blackhole", c->options.default_behaviour.blackhole, "Accept, read, never answer");
  cmd->add_flag("--reset", c->options.default_behaviour.reset, "Close the connection without answering");
  cmd->add_option("--secret", c->options.secret,
                  "Verify signatures with this secret: Standard Webhooks (whsec_...) on requests with a webhook-id, "
                  "WebSub's X-Hub-Signature on WebSub deliveries; 401 when wrong or missing");
  cmd->add_option_function<int>(
         "--timestamp-tolerance-s",
         [c](int s) { c->options.timestamp_tolerance = std::chrono::seconds(s); },
         "Refuse a webhook-timestamp further than this from the sink's clock (replays); 0: not checked")
      ->default_str("300")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--rule", c->rules,
                  "Per port or path: PORT[/path]=OPT[,OPT...], OPT = N | status=N | latency=MS|MIN-MAX|exp:MEAN | "
                  "error-rate=P | error-status=N | error-latency=SPEC (delay of the error answers) | fail-first=N | "
                  "retry-after=S | location=URL (sent with 3xx) | blackhole | reset");
  cmd->add_option_function<int>(
         "--idle-timeout-ms", [c](int ms) { c->options.idle_timeout = std::chrono::milliseconds(ms); },
         "Close connections idle this long, as a server's keep-alive timeout does (0: never)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--max-requests-per-connection", c->options.max_requests_per_connection,
                  "Answer the Nth request on a connection with Connection: close (0: no limit)");
  cmd->add_option("--duration", c->duration_s, "Stop after this many seconds");
  cmd->add_option("--ledger-items", c->ledger_items,
                  "With --ledger-outlets: record each (item, outlet) pair as syndic loadtest does (items K < N found by "
                  "their links .../items/RUN/K?created_ms=MS, outlets by their path /o/J); printed on exit");
  cmd->add_option("--ledger-outlets", c->ledger_outlets, "Outlets J < N for the ledger (paths /o/0 ... /o/N-1)");
  return [c] { return run_sink(*c); };
}

}  // namespace syndic::cli
