#include "daemon/daemon_metrics.hpp"
#include "poll/poller.hpp"

#include "daemon/fanout.hpp"
#include "daemon/hub.hpp"

namespace syndic::daemon {

daemon_metrics::daemon_metrics()
    : delivery_latency(registry.add_histogram("syndic_delivery_latency_seconds",
                                              "Time from a pair's hand-over to the engine to its final outcome.",
                                              default_latency_buckets(), {"outcome"})),
      attempt_duration(registry.add_histogram("syndic_attempt_duration_seconds",
                                              "One HTTP attempt, from send to answer or failure.",
                                              default_latency_buckets(), {"result"})),
      publish_duration(registry
                           .add_histogram("syndic_publish_duration_seconds",
                                          "A publish, from the request read to its 202 (durable).",
                                          default_latency_buckets())
                           .get()),
      publish_requests(registry.add_counter("syndic_publish_requests_total", "POST /v1/publish requests.").get()),
      items_in(registry.add_counter("syndic_items_in_total", "Items appended to the log.").get()) {}

void daemon_metrics::collect_polling(const poll::poller& poller) {
  registry.add_collector([&poller](metrics_writer& w) {
    auto c = poller.counters();
    w.header("syndic_polls_total", "counter", "Polls of sources, by result.");
    const std::pair<const char*, std::uint64_t> results[] = {{"changed", c.changed},
                                                             {"not_modified", c.not_modified},
                                                             {"unchanged", c.unchanged},
                                                             {"error", c.errors}};
    for (const auto& [name, v] : results) w.sample("syndic_polls_total", {{"result", name}}, v);
    w.counter("syndic_polled_items_total", "New items found by polls and hub pushes, appended to the log.",
              c.new_items);
    w.counter("syndic_pushed_bodies_total", "Feed bodies pushed by WebSub hubs with a good signature.",
              c.pushed_bodies);
    w.gauge("syndic_poll_fetches_in_flight", "Source fetches in flight.", static_cast<double>(c.in_flight));
    w.gauge("syndic_poll_parse_queue", "Fetched bodies waiting for a parse worker.", static_cast<double>(c.parse_queue));
  });
}

void daemon_metrics::collect(engine::engine& eng, fanout& fan, engine::store& db, const hub* websub) {
  registry.add_collector([&eng, &fan, &db, websub](metrics_writer& w) {
    auto c = fan.counters();
    w.gauge("syndic_log_head", "The log's highest sequence number.", static_cast<double>(fan.head()));
    w.counter("syndic_pairs_handed_total", "Pairs handed to the delivery engine.", c.handed);
    w.counter("syndic_pairs_filtered_total", "Pairs resolved by an outlet's filters, not sent.", c.filtered);
    w.counter("syndic_store_errors_total", "Store reads and writes that failed.", c.store_errors);
    w.counter("syndic_fenced_writes_total",
              "Outcome writes the store refused: their partition's lease had moved to another instance.", c.fenced);
    w.counter("syndic_outcomes_late_total",
              "Outcomes that came after their partition was dropped, written under its old fence.", c.late);
    w.counter("syndic_outcomes_dropped_total",
              "Outcomes of partitions no longer held, not recorded (the new holder sends those pairs again).", c.dropped);

    auto st = eng.stats();
    w.header("syndic_deliveries_total", "counter", "Pairs ended, by outcome.");
    const std::pair<const char*, std::uint64_t> outcomes[] = {
        {"delivered", st.delivered}, {"dead_lettered", st.dead_lettered}, {"retired", st.retired},
        {"gave_up", st.gave_up},     {"cancelled", st.cancelled},         {"expired", st.expired}};
    for (const auto& [name, v] : outcomes) w.sample("syndic_deliveries_total", {{"outcome", name}}, v);
    w.counter("syndic_attempts_total", "HTTP attempts made.", st.attempts);
    w.counter("syndic_retries_total", "Attempts that were retries.", st.retries);
    w.counter("syndic_connections_opened_total", "Connections opened to outlets.", st.connections_opened);
    w.gauge("syndic_engine_pending", "Pairs in the delivery engine, not yet ended.", static_cast<double>(eng.pending()));

    auto shards = eng.shard_loads();
    w.header("syndic_shard_queued", "gauge", "Pairs queued or waiting for a retry, per shard.");
    for (std::size_t i = 0; i < shards.size(); ++i)
      w.sample("syndic_shard_queued", {{"shard", std::to_string(i)}}, static_cast<double>(shards[i].queued));
    w.header("syndic_shard_in_flight", "gauge", "Requests in flight, per shard.");
    for (std::size_t i = 0; i < shards.size(); ++i)
      w.sample("syndic_shard_in_flight", {{"shard", std::to_string(i)}}, static_cast<double>(shards[i].in_flight));
    std::uint64_t open = 0;
    for (const auto& s : shards) open += s.circuits_open;
    w.gauge("syndic_circuits_open", "Outlets whose circuit is open (failing; probed after the cool-down).",
            static_cast<double>(open));

    std::uint64_t lag = 0, retired = 0;
    double max_lag = 0;
    for (const auto& o : fan.outlets()) {
      lag += o.lag;
      retired += o.retired;
      max_lag = std::max(max_lag, static_cast<double>(o.lag));
    }
    w.gauge("syndic_outlet_lag_pairs", "Pairs owed to outlets, all outlets together.", static_cast<double>(lag));
    w.gauge("syndic_outlet_lag_max_pairs", "Pairs owed to the outlet that is furthest behind.", max_lag);
    w.gauge("syndic_outlets_retired", "Outlets that answered 410.", static_cast<double>(retired));

    auto s = db.stats();
    w.counter("syndic_store_transactions_total", "Transactions committed by the store's writer.", s.transactions);
    w.counter("syndic_store_operations_total", "Writes applied by the store.", s.operations);
    w.gauge("syndic_store_queued", "Writes waiting for the store's writer.", static_cast<double>(s.queued));
    w.gauge("syndic_store_last_commit_seconds", "Duration of the latest commit, fsync included.",
            static_cast<double>(s.last_commit.count()) / 1e6);

    if (websub) {
      auto h = websub->counters();
      w.gauge("syndic_websub_subscriptions", "Active WebSub subscriptions.", static_cast<double>(websub->subscriptions()));
      w.counter("syndic_websub_requests_total", "Requests to the hub.", h.requests);
      w.counter("syndic_websub_verified_total", "Intents verified (subscribe and unsubscribe).", h.verified);
      w.counter("syndic_websub_verification_failed_total", "Verifications that failed.", h.refused_verification);
      w.counter("syndic_websub_expired_total", "Subscriptions whose lease ended.", h.expired);
      w.counter("syndic_websub_gone_total", "Subscriptions ended by a 410.", h.ended_by_410);
    }
  });
}

}  // namespace syndic::daemon
