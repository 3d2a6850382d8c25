#pragma once
// The daemon's HTTP API, as one handler for http::server:
//   POST /v1/publish[?channel=NAME]   JSON Feed item or document, RSS or Atom -> 202 {"seqs":[...]}
//                                     once durable; Idempotency-Key makes a retry safe
//   GET|HEAD /feeds/{channel}.rss|.atom|.json   the channel's latest items; ETag, 304; Link
//   GET /v1/outlets, POST /v1/outlets, GET|PUT|DELETE /v1/outlets/{id},
//   POST /v1/outlets/{id}/replay?from=N, GET|DELETE /v1/outlets/{id}/dead-letters,
//   POST /v1/outlets/{id}/dead-letters/retry                    admin
//   GET|POST /v1/sources, GET|PUT|DELETE /v1/sources/{id}, POST /v1/sources/{id}/poll  admin
//   GET|POST /websub/{source}         the WebSub subscriber's callback (intent check, content)
//   GET /v1/cluster                   this instance's view of the cluster (admin; 404 alone)
//   GET /metrics, /healthz, /readyz
// Publish and admin need `Authorization: Bearer TOKEN`. Every error is a 4xx/5xx with
// {"error":"..."}; client bytes are never echoed unescaped.

#include "daemon/auth.hpp"
#include "daemon/daemon_metrics.hpp"
#include "daemon/fanout.hpp"
#include "daemon/settings.hpp"
#include "http/server.hpp"

#include <syndic/engine/store.hpp>

#include <atomic>
#include <mutex>
#include <unordered_map>
#include <functional>
#include <string>

namespace syndic::poll {
class poller;
}

namespace syndic::daemon {

class hub;
class websub_subscriber;

struct api_context {
  engine::store* db = nullptr;
  fanout* fan = nullptr;
  hub* websub = nullptr;  // POST /hub
  poll::poller* sources = nullptr;               // /v1/sources (api_sources.cpp)
  websub_subscriber* subscriber = nullptr;       // /websub/{source} (api_websub.cpp)
  engine::engine* eng = nullptr;
  const run_settings* settings = nullptr;
  const bearer_auth* auth = nullptr;  // publish and admin
  std::string base_url;  // "http://127.0.0.1:8080": self and hub links
  std::atomic<bool>* ready = nullptr;
  daemon_metrics* metrics = nullptr;
  // GET /v1/cluster: the coordinator's view as JSON; empty when the store is not shared.
  std::function<std::string()> cluster_json;
  // The URL of the instance that delivers for an outlet ("" when unknown): replay and dead
  // letter retries are the owner's, and the answer says where to send them.
  std::function<std::string(const std::string& outlet)> owner_url;

  // Served feeds, rendered once per log head: a feed is read far more often than items are
  // published. Keyed by "channel.ext"; bounded (cleared when full).
  struct rendered_feed {
    engine::seq_t head = 0;
    std::string body, etag;
  };
  std::mutex feeds_mutex;
  std::unordered_map<std::string, rendered_feed> feeds;
  static constexpr std::size_t max_cached_feeds = 4096;
};

// The handler; `ctx` must outlive the server.
engine::http::handler make_api_handler(api_context& ctx);

// The body limit per route (server_options::body_limit): publish may carry a whole feed.
std::size_t api_body_limit(const run_settings& s, const engine::http::server_request& head);

// Channel names: 1-64 of [A-Za-z0-9._-], not starting with '.'.
bool valid_channel(std::string_view name);

}  // namespace syndic::daemon
