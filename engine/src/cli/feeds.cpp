// `syndic feeds --listen 127.0.0.1:PORT --count N --rate R`: a server playing N source feeds
// that gain items at R per second, with HTTP caching, faults and WebSub (testkit/feeds.hpp).

#include "cli/commands.hpp"
#include "cli/fd_limit.hpp"

#include <syndic/testkit/feeds.hpp>

#include <CLI/CLI.hpp>

#include <charconv>
#include <cmath>
#include <csignal>
#include <iostream>

namespace syndic::cli {
namespace {

struct feeds_cli {
  std::vector<std::string> listen{"127.0.0.1:8950"};
  std::string format = "mixed";
  std::string faults;
  std::vector<std::string> fault_feeds;
  std::string latency;
  std::string bad_signature;
  int max_age = -1;
  int retry_after = 120;
  int slow_ms = 2000;
  int tick_ms = 5;
  bool no_gzip = false;
  bool no_etag = false;
  bool no_last_modified = false;
  double duration_s = 0;
  testkit::feeds_options options;
};

bool fail(const std::string& message) {
  std::cerr << "syndic feeds: " << message << '\n';
  return false;
}

bool parse_listen(const std::string& s, testkit::feeds_options::address& a) {
  auto colon = s.rfind(':');
  unsigned port = 0;
  if (colon == std::string::npos || colon == 0) return fail("--listen '" + s + "': expected HOST:PORT (an IP address; port 0: any free port)");
  std::string_view p = std::string_view(s).substr(colon + 1);
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
  if (p.empty() || ec != std::errc{} || end != p.data() + p.size() || port > 65535)
    return fail("--listen '" + s + "': the port must be a number from 0 to 65535");
  a.host = s.substr(0, colon);
  if (a.host.size() > 2 && a.host.front() == '[' && a.host.back() == ']') a.host = a.host.substr(1, a.host.size() - 2);
  a.port = static_cast<std::uint16_t>(port);
  return true;
}

// "ID=FAULT" or "ID=hostile:SHAPE".
bool parse_fault_feed(const std::string& s, testkit::feeds_options& o) {
  auto eq = s.find('=');
  std::size_t id = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + (eq == std::string::npos ? s.size() : eq), id);
  if (eq == std::string::npos || ec != std::errc{} || end != s.data() + eq)
    return fail("--fault '" + s + "': expected ID=FAULT (a feed number from 0, e.g. 3=gone or 4=hostile:deep)");
  if (id >= o.count) return fail("--fault '" + s + "': there are only " + std::to_string(o.count) + " feeds (0 to " + std::to_string(o.count - 1) + ")");
  std::string_view kind = std::string_view(s).substr(eq + 1);
  std::string_view shape;
  if (auto colon = kind.find(':'); colon != std::string_view::npos) {
    shape = kind.substr(colon + 1);
    kind = kind.substr(0, colon);
  }
  auto f = testkit::feed_fault_from_string(kind);
  if (!f) return fail("--fault '" + s + "': unknown fault '" + std::string(kind) + "'");
  o.fault_feeds[id] = *f;
  if (!shape.empty()) {
    if (*f != testkit::feed_fault::hostile) return fail("--fault '" + s + "': only hostile takes a shape");
    bool found = false;
    for (std::size_t i = 0; i < testkit::hostile_shape_count; ++i)
      if (testkit::to_string(static_cast<testkit::hostile_shape>(i)) == shape) {
        o.hostile_feeds[id] = static_cast<testkit::hostile_shape>(i);
        found = true;
      }
    if (!found) return fail("--fault '" + s + "': unknown shape '" + std::string(shape) + "' (deep, entities, prefixes, huge)");
  }
  return true;
}

bool check(feeds_cli& c) {
  auto& o = c.options;
  o.listen.clear();
  for (const auto& l : c.listen) {
    o.listen.emplace_back();
    if (!parse_listen(l, o.listen.back())) return false;
  }
  if (o.count == 0 || o.count > 1'000'000) return fail("--count: from 1 to 1,000,000 feeds");
  if (!std::isfinite(o.rate) || o.rate < 0 || o.rate > 1'000'000) return fail("--rate: from 0 to 1,000,000 items per second");
  if (o.items == 0 || o.items > 10'000) return fail("--items: from 1 to 10,000 items kept per feed");
  if (o.channels == 0) return fail("--channels: at least 1");
  if (c.format == "rss") o.format = testkit::feeds_format::rss;
  else if (c.format == "atom") o.format = testkit::feeds_format::atom;
  else if (c.format == "json") o.format = testkit::feeds_format::json;
  else if (c.format == "mixed") o.format = testkit::feeds_format::mixed;
  else return fail("--format '" + c.format + "': rss, atom, json or mixed");
  if (!c.faults.empty()) {
    std::string error;
    auto shares = testkit::parse_fault_shares(c.faults, error);
    if (!shares) return fail("--faults: " + error);
    o.fault_shares = *shares;
  }
  for (const auto& f : c.fault_feeds)
    if (!parse_fault_feed(f, o)) return false;
  if (!c.latency.empty()) {
    auto d = testkit::latency_distribution::parse(c.latency);
    if (!d) return fail("--latency-ms '" + c.latency + "': expected MS, MIN-MAX or exp:MEAN (milliseconds)");
    o.latency = *d;
  }
  if (c.max_age >= 0) o.max_age = static_cast<std::uint32_t>(c.max_age);
  if (c.retry_after < 0) return fail("--retry-after: seconds, 0 or more");
  if (c.slow_ms < 0) return fail("--slow-ms: milliseconds, 0 or more");
  if (c.tick_ms < 1 || c.tick_ms > 1000) return fail("--tick-ms: from 1 to 1000");
  o.retry_after = std::chrono::seconds(c.retry_after);
  o.slow = std::chrono::milliseconds(c.slow_ms);
  o.tick = std::chrono::milliseconds(c.tick_ms);
  o.gzip = !c.no_gzip;
  o.etag = !c.no_etag;
  o.last_modified = !c.no_last_modified;
  if (!o.hub.empty() && o.hub != "self" && !o.hub.starts_with("http://") && !o.hub.starts_with("https://"))
    return fail("--hub '" + o.hub + "': 'self' (the built-in hub at /hub) or the http(s) URL of a hub");
  if (!c.bad_signature.empty()) {
    std::string_view v = c.bad_signature;
    if (v.ends_with('%')) v.remove_suffix(1);
    double p = -1;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), p);
    if (v.empty() || ec != std::errc{} || end != v.data() + v.size() || !(p >= 0 && p <= 100))
      return fail("--hub-bad-signature '" + c.bad_signature + "': a percentage from 0 to 100");
    if (o.hub != "self") return fail("--hub-bad-signature needs --hub self (only the built-in hub signs deliveries)");
    o.hub_bad_signature = p;
  }
  if (o.threads == 0) return fail("--threads: at least 1");
  return true;
}

int run_feeds(feeds_cli& c) {
  if (!check(c)) return 2;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  raise_fd_limit();
  testkit::feeds f(c.options);
  try {
    f.start();
  } catch (const std::exception& e) {
    std::cerr << "syndic " << e.what() << '\n';
    return 1;
  }
  auto ports = f.ports();
  std::string urls;
  for (std::size_t i = 0; i < ports.size(); ++i) {
    const std::string& host = c.options.listen[i].host;
    urls += (i ? "," : "") + std::string("http://") + (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
            std::to_string(ports[i]);
  }
  std::string first = urls.substr(0, urls.find(','));
  // The first line on stdout is for scripts (the port chosen for :0), in the daemon's words.
  std::cout << "listening on " << urls << "; " << c.options.count << " feeds; sources " << first << "/feeds.csv"
            << std::endl;
  std::cerr << "syndic feeds: " << c.options.count << " feeds at " << c.options.rate
            << " new items/s; GET /feeds.csv for the list, /stats for counts"
            << (c.options.hub == "self" ? ", /hub/subscriptions for the hub's" : "") << "; Ctrl-C or SIGTERM to stop\n";
  if (c.duration_s > 0) {
    timespec ts{static_cast<time_t>(c.duration_s),
                static_cast<long>((c.duration_s - static_cast<double>(static_cast<time_t>(c.duration_s))) * 1e9)};
    sigtimedwait(&set, nullptr, &ts);
  } else {
    int sig = 0;
    sigwait(&set, &sig);
  }
  f.stop();
  std::cout << f.stats().to_json() << std::endl;
  return 0;
}

}  // namespace

command add_feeds(CLI::App& app) {
  auto c = std::make_shared<feeds_cli>();
  auto& o = c->options;
  CLI::App* cmd = app.add_subcommand(
      "feeds",
      "A real HTTP server that plays N source feeds (RSS, Atom, JSON Feed) gaining new items at R per second in "
      "total, for tests, benchmarks and load-testing aggregators: /feeds/{i}.rss|.atom|.json with ETag, "
      "Last-Modified, 304 and gzip; faults per feed; WebSub (an external hub pinged, or a built-in one at /hub). "
      "GET /feeds.csv lists the feeds as a --sources file (the id names the feed's fault); GET /stats counts. "
      "The first line on stdout says where it listens; its counts are printed as JSON on exit.");
  cmd->add_option("--listen", c->listen,
                  "HOST:PORT (port 0: any free one); repeat for more listeners, e.g. 127.0.0.2:0 as another host "
                  "(feed i is listed on listener i mod L)")
      ->capture_default_str();
  cmd->add_option("--count", o.count, "Number of feeds")->capture_default_str();
  cmd->add_option("--rate", o.rate, "New items per second, all feeds together (0: none)")->capture_default_str();
  cmd->add_option("--format", c->format, "rss, atom, json, or mixed (in turn by feed number)")->capture_default_str();
  cmd->add_option("--items", o.items, "Items kept per feed (the latest)")->capture_default_str();
  cmd->add_option("--initial", o.initial, "Items made at start, before the rate applies")->capture_default_str();
  cmd->add_flag("--skew", o.skew,
                "Items go to feeds with weights 1/(i+1) (feed 0 busiest) instead of in turn (item k to feed k mod N)");
  cmd->add_option("--channels", o.channels, "Channels in /feeds.csv: 'feeds', or 'feeds-{i mod C}'")->capture_default_str();
  cmd->add_option("--content-bytes", o.content_bytes, "Extra text in each item's content")->capture_default_str();
  cmd->add_option("--max-age", c->max_age, "Send Cache-Control: max-age=SECONDS with feeds")->check(CLI::NonNegativeNumber);
  cmd->add_option_function<std::uint32_t>(
      "--ttl", [c](std::uint32_t m) { c->options.ttl_minutes = m; }, "RSS <ttl> in the feeds (minutes)");
  cmd->add_option_function<std::uint32_t>(
      "--update-period", [c](std::uint32_t s) { c->options.update_period_seconds = s; },
      "sy:updatePeriod/updateFrequency in the feeds (seconds between updates)");
  cmd->add_flag("--no-gzip", c->no_gzip, "Never gzip, whatever Accept-Encoding says");
  cmd->add_flag("--no-etag", c->no_etag, "Send no ETag and ignore If-None-Match");
  cmd->add_flag("--no-last-modified", c->no_last_modified,
                "Send no Last-Modified and ignore If-Modified-Since (with --no-etag: every GET is a 200)");
  cmd->add_option("--faults", c->faults,
                  "Shares of the feeds with a fault: FAULT=P%[,...] with FAULT gone (410), error (500), unavailable "
                  "(503), throttle (429), slow, moved (301), found (302), redirect308, redirect307, loop, malformed, "
                  "hostile; e.g. gone=2%,throttle=5%");
  cmd->add_option("--fault", c->fault_feeds, "One feed's fault: ID=FAULT, or ID=hostile:deep|entities|prefixes|huge");
  cmd->add_option("--retry-after", c->retry_after, "Retry-After seconds with 429 and 503")->capture_default_str();
  cmd->add_option("--slow-ms", c->slow_ms, "How long slow feeds take to answer")->capture_default_str();
  cmd->add_option("--latency-ms", c->latency, "Delay of every feed answer: MS, MIN-MAX (uniform) or exp:MEAN");
  cmd->add_option("--hub", o.hub,
                  "WebSub: 'self' runs a hub at /hub (subscribe, verify, signed deliveries); a URL is advertised "
                  "and pinged with hub.mode=publish when a feed gains items");
  cmd->add_option("--hub-bad-signature", c->bad_signature, "Share of the built-in hub's deliveries signed wrongly, e.g. 10%");
  cmd->add_option("--threads", o.threads, "Server threads")->capture_default_str();
  cmd->add_option("--tick-ms", c->tick_ms, "Items due are made visible at most this often")->capture_default_str();
  cmd->add_option("--duration", c->duration_s, "Stop after this many seconds");
  return [c] { return run_feeds(*c); };
}

}  // namespace syndic::cli
