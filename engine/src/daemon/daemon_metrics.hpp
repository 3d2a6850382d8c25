#pragma once
// What /metrics shows, on the registry of metrics.hpp: histograms observed where things happen
// (deliveries' latency, attempts' round trips, publishes' time to durable), and collectors that
// read the engine's, the fan-out's, the store's and the hub's counters at each scrape.

#include "daemon/metrics.hpp"

#include <syndic/engine/engine.hpp>
#include <syndic/engine/store.hpp>

namespace syndic::daemon {

class fanout;
class hub;
}  // namespace syndic::daemon
namespace syndic::poll {
class poller;
}
namespace syndic::daemon {

struct daemon_metrics {
  metrics_registry registry;
  // Submit to final outcome, per outcome.
  metric_family<histogram>& delivery_latency;
  // One attempt, send to answer (or failure).
  metric_family<histogram>& attempt_duration;
  // A publish, request read to 202 sent (the group commit included).
  histogram& publish_duration;
  counter& publish_requests;
  counter& items_in;

  daemon_metrics();
  // The collectors: called once the parts exist; they must outlive the registry's scrapes.
  void collect(engine::engine& eng, fanout& fan, engine::store& db, const hub* websub);
  // The poller's counters (sources polled, 304s, new items...).
  void collect_polling(const poll::poller& poller);
};

}  // namespace syndic::daemon
