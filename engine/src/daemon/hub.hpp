#pragma once
// The WebSub hub (W3C WebSub, section 5 and 7) for the daemon's own topics, the served feeds
// (BASE/feeds/CHANNEL.rss|.atom|.json):
//  - POST /hub with hub.mode=subscribe|unsubscribe, hub.callback, hub.topic, and optionally
//    hub.lease_seconds and hub.secret (under 200 bytes): checked, answered 202, then the
//    intent is verified with a GET to the callback carrying hub.challenge; only a 2xx whose
//    body is the challenge makes it so. Unknown parameters are ignored.
//  - A subscription is an outlet of the fan-out (id "websub/<hash of topic and callback>",
//    the channel's items only, in the topic's format, with Link: hub/self and, with a secret,
//    X-Hub-Signature: sha256=...). Subscribing again renews it (one outlet, one delivery).
//  - Leases end: an expired subscription is removed; a subscriber that answers 410 too.
//  - hub.mode=publish (hub.topic or hub.url) is taken as a ping: 202 (this hub's topics are
//    updated by /v1/publish; polling will act on pings for sources).
// Subscriptions are kept in the store and come back after a restart.
//
// Threads: handle() runs on the server's threads; verifications complete on the HTTP
// client's thread; expiry runs on the hub's own maintenance thread.

#include "daemon/fanout.hpp"
#include "daemon/settings.hpp"
#include "http/client.hpp"
#include "http/server.hpp"

#include <syndic/engine/store.hpp>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace syndic::daemon {

struct hub_options {
  std::string base_url;  // "http://127.0.0.1:8080": topics are BASE/feeds/..., the hub BASE/hub
  std::chrono::milliseconds verify_timeout{10'000};
  std::chrono::milliseconds expiry_check{30'000};
  std::size_t max_subscriptions = 100'000;
};

struct hub_counters {
  std::uint64_t requests = 0, verified = 0, refused_verification = 0, expired = 0, ended_by_410 = 0;
};

class hub {
public:
  hub(engine::store& db, fanout& fan, const run_settings& settings, hub_options options);
  ~hub();  // stop()

  // Puts every stored, unexpired subscription back into the fan-out.
  std::string load();
  // Several instances on one store: subscriptions made (or renewed with a new secret) through
  // another instance reach this one's fan-out, and those ended there leave it. Called every
  // second by the outlet sync; a no-op read when nothing changed.
  void sync();
  engine::http::server_response handle(const engine::http::server_request& req);
  void stop();
  hub_counters counters() const;
  std::size_t subscriptions() const;

private:
  struct request;  // one parsed hub.* request
  void verify(request r);
  void apply(const request& r);
  std::string add_subscription_outlet(const engine::subscription& s);
  void maintain();

  engine::store& db_;
  fanout& fan_;
  const run_settings& settings_;
  hub_options options_;
  engine::http::client client_;

  mutable std::mutex mutex_;
  hub_counters counters_;
  std::size_t active_ = 0;  // subscriptions in the fan-out
  std::map<std::string, std::string> synced_;  // outlet id -> secret, as last put in the fan-out
  std::condition_variable wake_;
  bool quit_ = false;
  std::thread maintenance_;
};

// "websub/<16 hex>" for a (topic, callback) pair.
std::string subscription_outlet_id(std::string_view topic, std::string_view callback);

}  // namespace syndic::daemon
