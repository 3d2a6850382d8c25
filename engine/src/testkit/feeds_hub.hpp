#pragma once
// WebSub for `syndic feeds`, either side of a hub:
//  - external (options.hub is a URL): when a feed gains items, POST hub.mode=publish&hub.url=
//    TOPIC to it. Pings are coalesced per feed (a feed is queued once however many items it
//    gains meanwhile) and at most 8 are in flight: bounded however fast items come.
//  - self (options.hub == "self"): a minimal hub at /hub. POST hub.mode=subscribe|unsubscribe
//    with hub.callback, hub.topic (one of the feeds' URLs), hub.secret, hub.lease_seconds ->
//    202, then intent is verified by a GET to the callback (hub.mode, hub.topic,
//    hub.challenge, hub.lease_seconds): a 2xx echoing the challenge makes it active. When the
//    topic's feed gains items, its whole body is POSTed to each active subscriber with
//    Link: <hub>; rel="hub", <topic>; rel="self" and, with a secret, X-Hub-Signature:
//    sha256=HMAC (a share of them wrong on purpose: bad_signature_percent). One delivery in
//    flight per subscription; changes meanwhile are sent once it completes (the latest body).
//    GET /hub/subscriptions lists them as JSON.
//
// Threads: changed() is called by the item maker (one thread at a time); handle() on the
// server's threads; completions run on the HTTP client's thread. One mutex guards the
// subscriptions and the ping queue: the hub is not on the polls' hot path.

#include "http/client.hpp"
#include "http/server.hpp"

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace syndic::testkit::detail {

// The value of `name` in a form body or query (application/x-www-form-urlencoded), decoded;
// nullopt when absent or when the text is no query.
std::optional<std::string> form_value(std::string_view body, std::string_view name);

struct hub_topic {
  std::size_t feed = 0;
  std::string self;  // the topic URL as the feed advertises it
  std::shared_ptr<const std::string> body;  // the current identity body
  std::string content_type;
};

struct feeds_hub_options {
  std::string external;  // a hub URL to ping; empty: the built-in hub
  std::string self_url;  // the built-in hub's own URL (http://HOST:PORT/hub)
  double bad_signature_percent = 0;
  std::size_t max_subscriptions = 100'000;
  std::chrono::milliseconds timeout{10'000};
};

struct feeds_hub_counters {
  std::uint64_t pings = 0, ping_failures = 0;
  std::uint64_t deliveries = 0, bad_signatures = 0, delivery_failures = 0;
};

class feeds_hub {
public:
  // `topic_of(url)`: the feed a topic URL names, or nullopt. `self_of(feed)`: its topic URL
  // (all a ping needs). `current(feed)`: its body now (rendered if not yet).
  feeds_hub(feeds_hub_options options, std::size_t feed_count,
            std::function<std::optional<std::size_t>(std::string_view url)> topic_of,
            std::function<std::string(std::size_t feed)> self_of, std::function<hub_topic(std::size_t feed)> current);
  ~feeds_hub();

  void changed(std::size_t feed);
  engine::http::server_response handle(const engine::http::server_request& req);
  std::string subscriptions_json() const;
  feeds_hub_counters counters() const;
  void stop();

private:
  struct subscription;
  void ping_next_locked(std::unique_lock<std::mutex>& lock);
  void verify(std::shared_ptr<subscription> s, std::string mode, std::string secret, std::chrono::seconds lease);
  void deliver(std::shared_ptr<subscription> s);
  bool next_signature_bad_locked();

  feeds_hub_options options_;
  std::function<std::optional<std::size_t>(std::string_view)> topic_of_;
  std::function<std::string(std::size_t)> self_of_;
  std::function<hub_topic(std::size_t)> current_;
  engine::http::client client_;

  mutable std::mutex mutex_;
  feeds_hub_counters counters_;
  // External pings: feeds waiting (each at most once) and how many are in flight.
  std::deque<std::size_t> ping_queue_;
  std::vector<bool> ping_queued_;
  unsigned pings_in_flight_ = 0;
  // Built-in hub: by (topic, callback); and by feed for deliveries.
  std::map<std::pair<std::string, std::string>, std::shared_ptr<subscription>> subscriptions_;
  std::vector<std::vector<std::shared_ptr<subscription>>> by_feed_;
  std::uint64_t signed_ = 0;  // deliveries signed so far (for the bad share)
  bool stopped_ = false;
};

}  // namespace syndic::testkit::detail
