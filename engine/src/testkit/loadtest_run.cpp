// run_loadtest: the sink (with its ledger) up, the target's outlets added, items published at
// the rate (or at once), progress reported, and the report made from what the sink recorded.

#include <syndic/testkit/feeds.hpp>
#include <syndic/testkit/loadtest.hpp>

#include "testkit/feeds_plan.hpp"
#include "testkit/loadtest_targets.hpp"

#include <algorithm>
#include <chrono>
#include <deque>
#include <optional>
#include <thread>

namespace syndic::testkit {

using clock_type = std::chrono::steady_clock;

namespace {

double seconds_since(clock_type::time_point t) { return std::chrono::duration<double>(clock_type::now() - t).count(); }

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

loadtest_report run_loadtest(const loadtest_options& given, const std::atomic<bool>& stop,
                             const std::function<void(const loadtest_progress&)>& on_progress, std::string& error) {
  loadtest_options o = given;
  bool external = o.target == "external";
  // Ours sign with a secret made for the run; an external system's are checked only when its
  // secret is given.
  if (o.secret.empty() && !external) o.secret = detail::make_secret();
  bool daemon = o.target.starts_with("http://");
  detail::loadtest_plan plan = detail::make_plan(o);
  loadtest_report r;
  r.target = daemon ? "daemon " + o.target : o.target;
  r.outlets = o.outlets;
  r.items = o.items;
  r.faults = o.faults;
  r.publish_rate = o.rate;
  r.format = o.format;

  auto sink_made = clock_type::now();  // the ledger's clock starts here
  sink s(detail::make_sink_options(o, plan));
  try {
    s.start();
  } catch (const std::exception& e) {
    error = e.what();
    return {};
  }
  std::vector<std::uint16_t> ports = s.ports();
  std::vector<std::string> urls(o.outlets);
  for (std::size_t j = 0; j < o.outlets; ++j)
    urls[j] = "http://" + o.sink_host + ":" + std::to_string(ports[j % ports.size()]) + "/o/" + std::to_string(j);

  std::unique_ptr<detail::loadtest_target> target;
  std::unique_ptr<feeds> simulated_feeds;
  if (external) {
    if (!o.feeds_listen.empty()) {
      feeds_options fo;
      auto colon = o.feeds_listen.rfind(':');
      fo.listen = {{o.feeds_listen.substr(0, colon), static_cast<std::uint16_t>(std::stoi(o.feeds_listen.substr(colon + 1)))}};
      fo.count = o.feeds_count;
      fo.rate = o.rate > 0 ? o.rate : 10;
      fo.content_bytes = o.payload_bytes;
      simulated_feeds = std::make_unique<feeds>(fo);
      try {
        simulated_feeds->start();
      } catch (const std::exception& e) {
        error = e.what();
        return {};
      }
    }
  } else {
    target = daemon ? detail::make_daemon_target(o) : detail::make_in_process_target(o);
    if (std::string e = target->add_outlets(o, plan, urls); !e.empty()) {
      error = e;
      target->finish();
      return {};
    }
  }

  formats::feed source;
  source.title = "syndic loadtest run " + std::to_string(plan.run);
  source.link = "http://loadtest.invalid/";
  source.id = "urn:syndic:loadtest:" + std::to_string(plan.run);
  const std::string base = "http://loadtest.invalid";

  auto start = clock_type::now();
  std::size_t published = 0;
  std::size_t slice = std::max<std::size_t>(1, std::min<std::size_t>(o.items, 1000));
  std::vector<formats::item> batch;
  std::deque<std::pair<double, std::uint64_t>> recent;  // (time, delivered) for the current rate
  auto last_progress = clock_type::now() - std::chrono::seconds(1);
  bool interrupted = false;
  std::optional<std::size_t> items_made_before_settle;  // external with feeds
  std::uint64_t expected_pairs = static_cast<std::uint64_t>(o.items) * o.outlets;
  for (;;) {
    double t = seconds_since(start);
    if (stop.load()) {
      interrupted = true;
      break;
    }
    if (simulated_feeds && !items_made_before_settle && o.duration_s > 0 && t >= o.duration_s - o.settle_s)
      items_made_before_settle = simulated_feeds->stats().items;
    if (o.duration_s > 0 && t >= o.duration_s) {
      interrupted = !external;  // an external run lasts its duration by design
      break;
    }
    if (o.duration_s <= 0 && t >= o.timeout_s) {
      interrupted = true;
      break;
    }
    // Publish what is due: everything at once (in slices the engine takes), or at the rate.
    if (target && published < o.items) {
      std::size_t due = o.rate > 0 ? std::min<std::size_t>(o.items, static_cast<std::size_t>(t * o.rate) + 1) : o.items;
      while (published < due) {
        std::size_t n = std::min(slice, due - published);
        batch.clear();
        std::int64_t ms = now_ms();
        for (std::size_t k = published; k < published + n; ++k)
          batch.push_back(detail::make_item(plan.run, detail::made_item{k, ms}, base, o.payload_bytes));
        std::size_t taken = target->publish(source, batch, error);
        if (!error.empty()) {
          target->finish();
          return {};
        }
        if (taken == 0) {
          slice = std::max<std::size_t>(1, slice / 2);  // full: smaller slices, offered again soon
          break;
        }
        published += taken;
      }
    }
    bool all_published = !target || published >= o.items;
    // Done when every pair published has ended at the target (and, external, never: the duration ends it).
    if (target && all_published && target->settled(expected_pairs)) break;
    auto now = clock_type::now();
    if (on_progress && now - last_progress >= std::chrono::milliseconds(200)) {
      last_progress = now;
      auto l = s.ledger(0);
      loadtest_progress p;
      p.elapsed_s = t;
      p.delivered = l.delivered;
      p.expected = external && simulated_feeds ? std::min<std::uint64_t>(simulated_feeds->stats().items, o.items) * o.outlets
                                               : expected_pairs;
      recent.emplace_back(t, l.delivered);
      while (recent.size() > 2 && t - recent.front().first > 1.0) recent.pop_front();
      if (recent.size() >= 2 && recent.back().first > recent.front().first)
        p.rate = static_cast<double>(recent.back().second - recent.front().second) / (recent.back().first - recent.front().first);
      if (target) p.retries = target->figures().retries;
      std::map<double, std::uint64_t> all;
      double max_ms = 0;
      for (const auto& c : l.classes) {
        for (const auto& [u, n] : c.histogram) all[u] += n;
        max_ms = std::max(max_ms, c.max_ms);
      }
      p.p99_ms = detail::histogram_percentile({all.begin(), all.end()}, 0.99, max_ms);
      on_progress(p);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(o.rate > 0 ? 5 : 20));
  }
  // Stopped early: publishing ends, and what was published gets a moment (2 s) to arrive.
  if (interrupted && target)
    for (auto until = clock_type::now() + std::chrono::seconds(2); clock_type::now() < until && !target->settled(static_cast<std::uint64_t>(published) * o.outlets);)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
  double duration = seconds_since(start);
  if (target) {
    detail::engine_figures f = target->figures();
    r.attempts = f.attempts;
    r.retries = f.retries;
    r.dead_letters = f.dead_letters;
    r.engine_delivered = f.delivered;
    r.engine_peak_rss_mb = f.peak_rss_mb;
    r.engine_cpu_s = f.cpu_s;
    r.engine_figures_note = f.note;
    target->finish();
  } else {
    r.engine_figures_note = "external system: not measured";
  }
  // Pairs of items never published (a stop before the end) are not expected, nor lost.
  std::size_t items = target ? published : o.items;
  if (external && simulated_feeds)
    items = std::min<std::size_t>(items_made_before_settle.value_or(simulated_feeds->stats().items), o.items);
  if (simulated_feeds) simulated_feeds->stop();
  s.stop();
  auto skip = static_cast<std::size_t>(std::chrono::duration_cast<std::chrono::milliseconds>(start - sink_made).count() / 100);
  detail::fill_from_sink(r, plan, s.ledger(20, items), s.stats(), items, duration, skip);
  r.interrupted = interrupted;
  return r;
}

}  // namespace syndic::testkit
