#pragma once
// The WebSub subscriber (W3C WebSub, sections 5 to 7, the subscriber's side): when a polled
// source advertises a hub, syndic subscribes to the source's topic there and takes the content
// the hub pushes, so that the source need only be polled at its max interval (a safety net).
//
//  - Subscribing: POST hub.mode=subscribe, hub.topic, hub.callback = BASE/websub/{source},
//    hub.secret (a fresh 64-hex-digit secret from getrandom for every request, renewals
//    included), hub.lease_seconds. A 2xx means the hub will verify; anything else, or no
//    verification within verify_wait, is retried with exponential backoff and jitter. At most
//    one request per source is in flight. A changed hub or topic subscribes anew and
//    unsubscribes the old pair; a removed source unsubscribes.
//  - Verification of intent (GET on the callback): answered 200 with hub.challenge only for a
//    known source, the exact topic, and a mode that matches a request of ours (subscribe:
//    pending or active; unsubscribe: pending); everything else is 404. The lease starts then:
//    expiry = now + hub.lease_seconds (what we asked, if the hub says nothing). hub.mode=denied
//    for our topic is recorded (its hub.reason), ends the subscription, and is retried only
//    after denied_retry.
//  - Content distribution (POST on the callback): X-Hub-Signature (sha1, sha256, sha384 or
//    sha512 = hex HMAC of the raw body), checked in constant time against the subscription's
//    secret (and, for secret_grace after a renewal changed it, the previous one). A missing
//    or wrong signature is answered 202 as the spec asks, and the body is dropped and counted.
//    A good one goes to hooks.ingest; the answer waits for its `done` up to ingest_wait:
//    done(true) -> 202, done(false) -> 503 (the hub may retry); no answer by then -> 202 (the
//    body is being processed; the max-interval poll covers a crash in between). A callback
//    for a source without a subscription record is answered 410 (hubs end such subscriptions).
//  - Leases are renewed at renew_fraction of their length; one that lapses (or is denied, or
//    unsubscribed) makes hooks.set_pushed(source, false): the poller polls it normally again.
//  - A hub that goes quiet: when a safety-net poll of a pushed source finds new items the hub
//    never pushed (hub_missed_items), the subscription is taken as quiet: set_pushed(false)
//    (adaptive polling again) and a fresh subscribe at once. The next correctly signed
//    delivery ends the quiet spell (set_pushed(true)).
//  - State (source, hub, topic, secrets, lease expiry, failures) is kept in the store's kv,
//    namespace "websub.client", key = source id, so that after a restart (load()) deliveries
//    keep verifying and renewals keep their dates. Pending unsubscriptions are not kept: an
//    abandoned subscription ends with its lease.
//  - SSRF: hubs come from strangers' feeds. Unless allow_private_targets, a hub whose host is
//    private, loopback, link-local or a metadata name is refused (state "refused"), and every
//    address the client resolves is checked again before connecting (ssrf.hpp).
//
// Bounds: one record per source (max_subscriptions), at most max_unsubscribes pending
// unsubscriptions, one request per source in flight, answers waiting for ingest bounded by the
// server's connections.
//
// Threads: one timer thread (renewals, retries, lapses, sending requests, calling set_pushed in
// order) and the HTTP client's own thread; no thread or timer per subscription. hub_advertised
// and source_gone never block and never call back into the poller (safe under its locks).
// handle() runs on the server's threads. Every member function may be called from any thread.

#include "poll/poller.hpp"

#include <syndic/engine/store.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace syndic::engine::http {
struct server_request;
class responder;
}  // namespace syndic::engine::http

namespace syndic::daemon {

class metrics_registry;

struct websub_subscriber_options {
  std::string base_url;  // the daemon's base URL: callbacks are BASE/websub/{source}
  bool allow_private_targets = false;
  std::chrono::seconds lease{864'000};  // asked of hubs (10 days); hubs may grant another
  double renew_fraction = 0.85;         // renew when this much of the granted lease has passed
  std::chrono::milliseconds request_timeout{10'000};  // one subscribe/unsubscribe POST
  std::chrono::milliseconds verify_wait{600'000};     // after a 2xx, for the hub's verification
  std::chrono::milliseconds retry_min{30'000};        // backoff after a failed attempt ...
  std::chrono::milliseconds retry_max{6 * 3600'000};  // ... doubling up to this
  std::chrono::milliseconds denied_retry{24 * 3600'000};
  std::chrono::milliseconds secret_grace{120'000};  // the previous secret, after a renewal
  std::chrono::milliseconds ingest_wait{5'000};
  std::uint32_t unsubscribe_attempts = 3;
  std::size_t max_subscriptions = 100'000;
  std::size_t max_unsubscribes = 4'096;
  std::string user_agent = "syndic/0.1 (+WebSub subscriber)";
  bool verify_tls = true;
  std::string ca_file;
};

// What the subscriber calls; the daemon wires them to the poller (poller_hooks below), tests
// to their own recorders.
struct websub_hooks {
  // A verified body for `source`: as poll::poller::ingest_pushed.
  std::function<void(const std::string& source, std::string body, std::string content_type,
                     std::function<void(bool)> done)>
      ingest;
  // As poll::poller::set_pushed. Called on the timer thread, in the order of the changes.
  std::function<void(const std::string& source, bool active)> set_pushed;
  std::function<void(const std::string& line)> log;  // one line per event; may be empty
};

inline websub_hooks poller_hooks(poll::poller& p, std::function<void(const std::string&)> log = {}) {
  websub_hooks h;
  h.ingest = [&p](const std::string& source, std::string body, std::string type, std::function<void(bool)> done) {
    p.ingest_pushed(source, std::move(body), std::move(type), std::move(done));
  };
  h.set_pushed = [&p](const std::string& source, bool active) { p.set_pushed(source, active); };
  h.log = std::move(log);
  return h;
}

struct websub_subscription_status {
  std::string source, hub, topic;
  // "subscribing" (a request in flight), "verifying" (accepted, waiting for the hub's GET),
  // "active", "renewing" (active, a renewal pending), "quiet" (verified, but it missed items:
  // polled normally until it delivers again), "retrying" (failed, waiting to try again),
  // "denied", "refused" (the hub's address is not allowed)
  std::string state;
  std::optional<std::chrono::system_clock::time_point> expiry;  // of the verified lease
  std::chrono::seconds lease{0};                                // as granted
  std::uint32_t failures = 0;                                   // attempts failed in a row
  std::string last_error;                                       // or the hub's denial reason
  std::optional<std::chrono::system_clock::time_point> last_delivery;
  bool pushed = false;  // what set_pushed was last told
};

struct websub_subscriber_counters {
  std::uint64_t subscribe_requests = 0, subscribe_failures = 0, unsubscribe_requests = 0;
  std::uint64_t verified = 0, unsubscribed = 0, denied = 0, lapsed = 0, refused_hubs = 0;
  std::uint64_t quiet = 0;  // subscriptions found to have missed items
  std::uint64_t verifications_refused = 0;  // GETs answered 404
  std::uint64_t deliveries = 0;             // correctly signed bodies handed to ingest
  std::uint64_t ingest_failed = 0;          // ... whose done(false) came
  std::uint64_t unsigned_deliveries = 0, bad_signatures = 0;  // answered 2xx, dropped
  std::uint64_t unknown_deliveries = 0;                       // no record: 410
  std::uint64_t over_limit = 0;  // sources ignored beyond max_subscriptions
  std::uint64_t subscriptions = 0, active = 0;  // gauges: records, verified and unexpired
};

class websub_subscriber final : public poll::hub_listener {
public:
  // `db` must outlive the subscriber. Starts the timer thread.
  websub_subscriber(engine::store& db, websub_subscriber_options options, websub_hooks hooks);
  ~websub_subscriber() override;  // stop()
  websub_subscriber(const websub_subscriber&) = delete;
  websub_subscriber& operator=(const websub_subscriber&) = delete;

  // Reads the stored subscriptions (call once, before the server takes callbacks and after the
  // poller knows its sources): verified, unexpired ones are active again (set_pushed(true)),
  // renewals and retries keep their dates. A source for which `known` says false (removed
  // from the files while the daemon was down: no source_gone came) is unsubscribed and
  // forgotten; an empty `known` keeps every one. "" or the store's error.
  std::string load(const std::function<bool(const std::string& source)>& known = {});

  // poll::hub_listener
  void hub_advertised(const std::string& source_id, const std::string& topic, const std::string& hub) override;
  void source_gone(const std::string& source_id) override;
  // A poll of `source_id`, made while it was pushed, found new items: its hub missed them.
  // Never blocks, never calls back (safe under the poller's locks).
  void hub_missed_items(const std::string& source_id) override;

  // GET (verification) or POST (content) on /websub/{source_id}. Answers through `answer`,
  // at once or (POST) once the ingest is done.
  void handle(std::string_view source_id, engine::http::server_request&& request, engine::http::responder answer);

  // Ends the timer thread and cancels requests in flight; answers waiting deliveries 202.
  // Idempotent; hooks are not called after it returns.
  void stop();

  std::optional<websub_subscription_status> status(const std::string& source_id) const;
  std::vector<websub_subscription_status> list() const;
  websub_subscriber_counters counters() const;
  // Adds a collector to `registry` (syndic_websub_client_* metrics); the subscriber must
  // outlive the registry's scrapes.
  void add_metrics(metrics_registry& registry) const;

  // The callback URL of a source: BASE/websub/{source_id}.
  std::string callback_url(std::string_view source_id) const;

  struct impl;

private:
  std::shared_ptr<impl> impl_;
};

// Checks an X-Hub-Signature value ("sha1=", "sha256=", "sha384=" or "sha512=" then the hex
// HMAC of `body` under `secret`, hex in either case) in constant time.
bool verify_hub_signature(std::string_view secret, std::string_view body, std::string_view header);

}  // namespace syndic::daemon
