// `syndic run`: the daemon. Items published over HTTP go into the durable log; every outlet
// is fed from its cursor; the API serves feeds, admin and metrics. SIGTERM/SIGINT drain and
// exit 0; SIGHUP reloads the outlets file and the sources. Sources are polled, and their new
// items go into the same log.

#include "cli/commands.hpp"
#include "cli/fd_limit.hpp"
#include "daemon/api.hpp"
#include "daemon/daemon_metrics.hpp"
#include "daemon/data_dir.hpp"
#include "daemon/fanout.hpp"
#include "daemon/hub.hpp"
#include "cluster/coordinator.hpp"
#include "daemon/outlet_json.hpp"
#include "daemon/cluster_view.hpp"
#include "daemon/outlet_sync.hpp"
#include "daemon/settings.hpp"
#include "daemon/text.hpp"
#include "daemon/websub_subscriber.hpp"
#include "daemon/ssrf.hpp"
#include "http/server.hpp"
#include "poll/poller.hpp"
#include "poll/sources_file.hpp"

#include <syndic/engine/engine.hpp>
#include <syndic/engine/store.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/executor_work_guard.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <csignal>
#include <iostream>
#include <map>
#include <optional>
#include <thread>

namespace syndic::cli {
namespace {

using namespace std::chrono_literals;

void log_line(const std::string& s) { std::cerr << "syndic run: " << s << std::endl; }

// The outlets the operator's file names (trusted: no private-address check).
bool load_outlets_file(const std::string& path, std::map<std::string, engine::outlet_config>& out) {
  auto r = engine::load_outlets(path);
  if (!r.ok()) {
    for (const auto& e : r.errors) std::cerr << "syndic run: " << e.to_string() << "\n";
    return false;
  }
  for (auto& o : r.outlets) out[o.id] = std::move(o);
  return true;
}

// The sources of the config file's [[source]] tables and of --sources, checked together.
bool load_sources(const daemon::run_flags& flags, const daemon::run_settings& s, std::vector<poll::source>& out) {
  poll::source_defaults defaults{s.poll_min_interval, s.poll_max_interval};
  auto r = poll::load_file_sources(flags.config_path, s.sources_file, defaults);
  if (!r.ok()) {
    for (const auto& e : r.errors) std::cerr << "syndic run: " << e.to_string() << "\n";
    return false;
  }
  out = std::move(r.sources);
  return true;
}

poll::poller_options poller_options_of(const daemon::run_settings& s) {
  poll::poller_options o;
  o.parse_threads = s.poll_parse_threads;
  o.host_connections = s.poll_host_connections;
  o.host_gap = s.poll_host_gap;
  o.max_body_bytes = s.poll_max_body_bytes;
  o.timeout = s.poll_timeout;
  o.max_redirects = s.poll_max_redirects;
  o.start_spread = s.poll_start_spread;
  if (!s.poll_user_agent.empty()) o.user_agent = s.poll_user_agent;
  // Sources added through the API are strangers' URLs: private addresses only when allowed.
  if (!s.allow_private_targets)
    o.refuse_address = [](const sockaddr& a) {
      auto c = daemon::check_address(a);
      return c ? std::string() : c.reason;
    };
  return o;
}

bool same_config(const engine::outlet_config& a, const engine::outlet_config& b) {
  return a.url == b.url && a.format == b.format && a.headers == b.headers && a.secret == b.secret &&
         a.languages == b.languages && a.categories == b.categories && a.sources == b.sources &&
         a.rate == b.rate && a.burst == b.burst && a.max_in_flight == b.max_in_flight && a.batch == b.batch &&
         a.ordered == b.ordered && a.timeout == b.timeout && a.follow_redirects == b.follow_redirects &&
         a.http2 == b.http2;
}

int run_daemon(const daemon::run_flags& flags) {
  // Signals are taken by sigwait on this thread: blocked before any thread starts, so that
  // every thread (shards, store writer, server) inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto loaded = daemon::load_run_settings(flags);
  for (const auto& w : loaded.warnings) log_line("warning: " + w.to_string());
  if (!loaded.ok()) {
    for (const auto& e : loaded.errors) std::cerr << "syndic run: " << e.to_string() << "\n";
    return 2;
  }
  const daemon::run_settings& settings = loaded.settings;
  raise_fd_limit();

  // The store: SQLite in the data directory (one instance), or a shared PostgreSQL.
  std::optional<daemon::data_dir_result> dir;
  engine::store_result<std::unique_ptr<engine::store>> opened;
  std::string store_name;
  if (!settings.store_url.empty()) {
    engine::postgres_options po;
    po.schema = settings.store_schema;
    if (settings.commit_interval.count() > 0)
      po.commit_interval = std::chrono::duration_cast<std::chrono::microseconds>(settings.commit_interval);
    po.commit_max_ops = settings.commit_batch;
    opened = engine::open_postgres_store(settings.store_url, po);
    store_name = daemon::redact_url(settings.store_url) + " (schema " + settings.store_schema + ")";
  } else {
    dir.emplace(daemon::open_data_dir(settings.data_dir));
    if (!dir->dir) {
      log_line(dir->error);
      return 1;
    }
    engine::sqlite_options so;
    so.synchronous = settings.synchronous == daemon::sync_mode::full ? engine::sqlite_sync::full : engine::sqlite_sync::normal;
    so.commit_interval = std::chrono::duration_cast<std::chrono::microseconds>(settings.commit_interval);
    so.commit_max_ops = settings.commit_batch;
    opened = engine::open_sqlite_store(dir->dir->path().string(), so);
    store_name = dir->dir->path().string();
  }
  if (!opened.ok()) {
    log_line(opened.status.message);
    return 1;
  }
  engine::store& db = *opened.value;

  std::map<std::string, engine::outlet_config> file_outlets;
  if (!settings.outlets_file.empty() && !load_outlets_file(settings.outlets_file, file_outlets)) return 2;
  std::vector<poll::source> file_sources;
  if (!load_sources(flags, settings, file_sources)) return 2;

  engine::engine_options eo;
  eo.shards = settings.shards;
  eo.max_in_flight = settings.max_in_flight;
  engine::engine eng(eo);
  // A shared store: outlets hash into partitions, and this instance feeds those it holds.
  const bool clustered = !settings.store_url.empty();
  daemon::fanout_options fo;
  if (clustered) fo.partitions = settings.cluster_partitions;
  daemon::fanout fan(db, eng, fo);
  daemon::daemon_metrics metrics;
  auto& latency_delivered = metrics.delivery_latency.with({"delivered"});
  fan.attach(
      [&metrics, &latency_delivered](const engine::delivery_outcome& o) {
        double s = static_cast<double>(o.latency.count()) / 1e6;
        if (o.state == engine::final_state::delivered) latency_delivered.observe(s);
        else metrics.delivery_latency.with({engine::to_string(o.state)}).observe(s);
      },
      [&metrics](const engine::attempt_report& a) {
        const char* result = a.status >= 200 && a.status < 300 ? "2xx" : a.status >= 500 ? "5xx"
                           : a.status >= 400 ? "4xx" : a.status >= 300 ? "3xx" : "no_answer";
        metrics.attempt_duration.with({result}).observe(static_cast<double>(a.round_trip.count()) / 1e6);
      });
  for (const auto& [id, o] : file_outlets)
    if (std::string e = fan.add_outlet(o); !e.empty()) {
      log_line("outlet '" + id + "': " + e);
      return 1;
    }
  std::size_t api_outlets = 0;
  auto parse_stored = [&settings](const engine::stored_outlet& s, engine::outlet_config& out) {
    auto parsed = daemon::outlet_from_json(s.config, s.id);
    parsed.outlet.public_only = !settings.allow_private_targets;
    out = std::move(parsed.outlet);
    return parsed.error;
  };
  auto stored = db.outlets();
  if (!stored.ok()) {
    log_line(stored.status.message);
    return 1;
  }
  for (const auto& s : stored.value) {
    if (file_outlets.count(s.id)) continue;  // the operator's file wins
    engine::outlet_config cfg;
    std::string e = parse_stored(s, cfg);
    if (e.empty()) e = fan.add_outlet(std::move(cfg));
    if (!e.empty()) log_line("stored outlet '" + s.id + "' not loaded: " + e);
    else ++api_outlets;
  }

  boost::asio::io_context io;
  auto work = boost::asio::make_work_guard(io);
  std::atomic<bool> ready{false};
  daemon::api_context ctx;
  ctx.db = &db;
  ctx.fan = &fan;
  ctx.eng = &eng;
  ctx.settings = &settings;
  daemon::bearer_auth auth(settings.token);
  ctx.auth = &auth;
  ctx.ready = &ready;

  engine::http::server_options opts;
  opts.listen.push_back({settings.listen.host, settings.listen.port});
  opts.max_body_bytes = settings.max_body_bytes;
  opts.body_limit = [&settings](const engine::http::server_request& head) { return daemon::api_body_limit(settings, head); };
  engine::http::server srv({&io}, opts, daemon::make_api_handler(ctx));
  try {
    srv.start();
  } catch (const std::exception& e) {
    log_line(e.what());
    return 1;
  }
  std::uint16_t port = srv.ports().front();
  ctx.base_url = settings.base_url(port);
  daemon::hub_options ho;
  ho.base_url = ctx.base_url;
  daemon::hub websub(db, fan, settings, ho);
  if (std::string e = websub.load(); !e.empty()) {
    log_line("WebSub subscriptions not loaded: " + e);
    return 1;
  }
  ctx.websub = &websub;
  ctx.metrics = &metrics;

  // Several instances on one store: a coordinator takes this instance's share of the partition
  // leases and tells the fan-out which outlets to feed; outlets and subscriptions changed
  // through another instance's API are read back every second.
  std::unique_ptr<cluster::coordinator> coord;
  std::unique_ptr<daemon::outlet_sync> sync;
  std::string instance_id = settings.instance_id.empty() ? daemon::default_instance_id() : settings.instance_id;
  if (clustered) {
    cluster::coordinator_options co;
    co.instance_id = instance_id;
    co.partitions = settings.cluster_partitions;
    co.lease_ttl = settings.lease_ttl;
    // Heartbeat first, partitions after one refresh: instances started together then split the
    // partitions at once, rather than the first taking all and handing most back a round later.
    co.join_delay = settings.lease_ttl / 3;
    co.base_url = daemon::instance_url(settings.listen, port);  // where the others reach this one
    cluster::coordinator_callbacks cb;
    cb.on_gain = [&fan](const std::vector<cluster::partition_grant>& grants) {
      for (const auto& g : grants)
        if (std::string e = fan.own(g.partition, g.fence); !e.empty()) log_line("partition " + std::to_string(g.partition) + ": " + e);
    };
    cb.on_lose = [&fan](const std::vector<std::uint32_t>& parts, cluster::lose_reason why, std::chrono::milliseconds budget) {
      fan.disown(parts, budget);
      if (why != cluster::lose_reason::handback && why != cluster::lose_reason::stopping)
        log_line(std::to_string(parts.size()) + " partition(s) " + std::string(cluster::to_string(why)) + ": no longer delivering for them");
    };
    coord = std::make_unique<cluster::coordinator>(db, co, std::move(cb));
    ctx.cluster_json = [&coord] { return daemon::cluster_view_json(coord->view()); };
    ctx.owner_url = [&db, p = settings.cluster_partitions](const std::string& outlet) {
      return daemon::owner_url(db, outlet, p);
    };
    daemon::outlet_sync_options so;
    for (const auto& [id, o] : file_outlets) so.file_ids.insert(id);
    so.parse = parse_stored;
    so.log = [](const std::string& l) { log_line(l); };
    so.also = [&websub] { websub.sync(); };
    sync = std::make_unique<daemon::outlet_sync>(db, fan, std::move(so));
    sync->seed(stored.value);
  }

  auto po = poller_options_of(settings);
  if (coord)  // a source is polled by the instance holding its id's partition
    po.owns = [&coord, p = settings.cluster_partitions](const std::string& id) {
      auto owned = coord->owned();
      return std::binary_search(owned.begin(), owned.end(), cluster::partition_of("source/" + id, p));
    };
  poll::poller poller(db, po, [&fan] { fan.notify(); });
  for (const auto& e : poller.set_file_sources(file_sources)) log_line("source " + e);
  ctx.sources = &poller;
  metrics.collect_polling(poller);
  // Sources whose feeds advertise a WebSub hub are subscribed to; while a subscription is
  // verified they are polled only at their max interval.
  daemon::websub_subscriber_options wo;
  wo.base_url = ctx.base_url;
  wo.allow_private_targets = settings.allow_private_targets;
  daemon::websub_subscriber subscriber(db, wo, daemon::poller_hooks(poller, [](const std::string& l) { log_line(l); }));
  if (std::string e = subscriber.load([&poller](const std::string& id) { return poller.status(id).has_value(); });
      !e.empty())
    log_line("WebSub subscriptions (as a subscriber) not loaded: " + e);
  poller.set_hub_listener(&subscriber);
  ctx.subscriber = &subscriber;
  subscriber.add_metrics(metrics.registry);
  metrics.collect(eng, fan, db, &websub);
  std::vector<std::thread> io_threads;
  for (int i = 0; i < 2; ++i) io_threads.emplace_back([&io] { io.run(); });

  fan.start();
  if (coord) coord->start();
  if (sync) sync->start();
  fan.notify();
  poller.start();
  ready = true;
  auto head = db.head();
  daemon::run_settings bound = settings;  // the address bound, whatever the public URL says
  bound.public_url.clear();
  log_line("listening on " + bound.base_url(port) + "; " + (settings.public_url.empty() ? "" : "public URL " + ctx.base_url + "; ") + "store " + store_name + "; " +
           (clustered ? "instance " + instance_id + ", " + std::to_string(settings.cluster_partitions) + " partitions; " : std::string()) +
           std::to_string(file_outlets.size()) + " outlets from the file, " + std::to_string(api_outlets) +
           " from the API; " + std::to_string(poller.list().size()) + " sources; log head " +
           std::to_string(head.ok() ? head.value : 0));

  for (;;) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGHUP) {
      std::vector<poll::source> fresh_sources;
      if (!load_sources(flags, settings, fresh_sources)) {
        log_line("SIGHUP: the sources have errors; the running sources are kept");
      } else {
        auto errors = poller.set_file_sources(std::move(fresh_sources));
        for (const auto& e : errors) log_line("SIGHUP: source " + e);
        log_line("SIGHUP: sources reloaded: " + std::to_string(poller.list().size()) + " sources");
      }
      if (settings.outlets_file.empty()) {
        log_line("SIGHUP: no outlets file to reload");
        continue;
      }
      std::map<std::string, engine::outlet_config> fresh;
      if (!load_outlets_file(settings.outlets_file, fresh)) {
        log_line("SIGHUP: the outlets file has errors; the running outlets are kept");
        continue;
      }
      std::size_t added = 0, changed = 0, removed = 0;
      for (const auto& [id, o] : fresh) {
        auto old = file_outlets.find(id);
        if (old != file_outlets.end() && same_config(old->second, o)) continue;
        if (std::string e = fan.add_outlet(o); !e.empty()) log_line("SIGHUP: outlet '" + id + "': " + e);
        else (old == file_outlets.end() ? added : changed) += 1;
      }
      for (const auto& [id, o] : file_outlets)
        if (!fresh.count(id)) {
          fan.remove_outlet(id);
          ++removed;
        }
      file_outlets = std::move(fresh);
      log_line("SIGHUP: outlets reloaded: " + std::to_string(added) + " added, " + std::to_string(changed) +
               " changed, " + std::to_string(removed) + " removed");
      continue;
    }
    break;  // SIGTERM, SIGINT
  }

  // Stop taking work, then finish what is out within the deadline; what is left stays owed
  // in the store and goes out after the next start.
  auto deadline = std::chrono::steady_clock::now() + settings.shutdown_deadline;
  log_line("stopping: draining for up to " + std::to_string(settings.shutdown_deadline.count()) + " ms");
  ready = false;
  srv.stop(std::min<std::chrono::milliseconds>(2s, settings.shutdown_deadline / 4));
  websub.stop();
  poller.stop();
  if (sync) sync->stop();
  // Hands every partition back (their outcomes recorded first), so that the others take
  // them at once rather than after the lease's expiry.
  if (coord) coord->stop();
  subscriber.stop();
  fan.stop_feeding();
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  bool drained = eng.drain(std::max<std::chrono::milliseconds>(0ms, left));
  fan.finish();
  db.close();
  work.reset();
  io.stop();
  for (auto& t : io_threads) t.join();
  auto c = fan.counters();
  log_line(std::string(drained ? "drained" : "deadline reached; the rest stays owed") + ": " +
           std::to_string(c.delivered) + " delivered, " + std::to_string(c.dead) + " dead letters this run");
  return 0;
}

}  // namespace

command add_run(CLI::App& app) {
  auto* cmd = app.add_subcommand("run",
                                 "Run the daemon: a durable log of published items, delivered to every outlet.\n\n"
                                 "Examples:\n"
                                 "  syndic run --data ./data --outlets outlets.csv --token-file token\n"
                                 "  syndic run --config syndic.toml\n"
                                 "  curl -H 'Authorization: Bearer T' -H 'Content-Type: application/feed+json' \\\n"
                                 "       --data '{\"id\":\"1\",\"title\":\"Hello\"}' http://127.0.0.1:8080/v1/publish\n");
  auto flags = std::make_shared<daemon::run_flags>();
  daemon::add_run_flags(*cmd, *flags);
  return [flags] { return run_daemon(*flags); };
}

}  // namespace syndic::cli
