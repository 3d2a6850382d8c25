#pragma once
// A real HTTP server that plays N source feeds, for tests, benchmarks and load-testing other
// aggregators (the "in" side, as the sink plays the outlets of the "out" side).
//
// - Feeds: /feeds/{i}.rss|.atom|.json (i from 0; --format mixed gives rss, atom, json in
//   turn). Each keeps its latest K items. /feeds.csv lists them in the poller's --sources
//   format (id,url,channel); the id says the feed's fault ("feed-7", "feed-8-gone").
// - Items: item k (k = 0, 1, ...) becomes visible at k/R seconds after start and goes to
//   feed_of(k) (k mod N, or a skewed pick with `skew`). Its id is "urn:syndic:feeds:F:K", its
//   link ".../items/F/K?created_ms=MS" and its published time MS: the wall-clock millisecond
//   it became visible. A receiver finds MS in any rendering with created_items() below.
// - HTTP caching: a strong ETag per feed version, Last-Modified, 304 on If-None-Match (or
//   If-Modified-Since when there is none), Cache-Control: max-age, gzip when accepted.
// - Faults per feed (fault_kind), assigned deterministically from shares of the feeds.
// - WebSub: advertises an external hub and pings it, or runs a minimal hub of its own at /hub
//   that verifies intent and delivers signed bodies (with an optional share of bad ones).
// - GET /stats: counts, answers by status, and per listener the most requests in flight at
//   once and the smallest gap between two arrivals (what a poller's politeness caps bound).
//
// Part of the test kit (syndic::testkit), not of syndic::engine. It serves on the engine's
// HTTP server with its own threads, like the sink.

#include <syndic/testkit/sink.hpp>  // latency_distribution

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace syndic::testkit {

enum class feed_fault : std::uint8_t {
  none,
  gone,          // 410
  error,         // 500
  unavailable,   // 503 with Retry-After
  throttle,      // 429 with Retry-After
  slow,          // the feed, after feeds_options::slow
  moved,         // 301 to /feeds/moved/{i}.ext (permanent), which serves the feed
  found,         // 302 to /feeds/temp/{i}.ext (temporary), which serves the feed
  redirect308,   // 308 to /feeds/moved/{i}.ext
  redirect307,   // 307 to /feeds/temp/{i}.ext
  loop,          // 302 to /feeds/loop/{i}.ext, which redirects back: a loop
  malformed,     // 200 with a broken body (truncated XML, JSON cut in half)
  hostile,       // 200 with one of the hostile shapes below
};
inline constexpr std::size_t feed_fault_count = 13;
std::string_view to_string(feed_fault f);
std::optional<feed_fault> feed_fault_from_string(std::string_view name);

// The shapes of a hostile feed (issue 7's), each bounded in size.
enum class hostile_shape : std::uint8_t {
  deep,      // 100,000 nested elements (JSON feeds: nested arrays), 700 KB
  entities,  // a DOCTYPE of nested entities ("billion laughs"), 0.8 KB that would expand to 3 GB
  prefixes,  // 80,000 elements with an undeclared namespace prefix, 480 KB
  huge,      // a valid feed of 1,000 items with 8 KB contents (8.5 MB as RSS)
};
inline constexpr std::size_t hostile_shape_count = 4;
std::string_view to_string(hostile_shape s);

enum class feeds_format : std::uint8_t { rss, atom, json, mixed };

// "gone=2%,error=1%,hostile=5" (a share of the feeds per fault, '%' optional; the shares
// add up to at most 100). nullopt and `error` set when malformed.
std::optional<std::map<feed_fault, double>> parse_fault_shares(std::string_view spec, std::string& error);

struct feeds_options {
  // One listener each; feed i is listed (in /feeds.csv, as its self link and topic) on
  // listener i mod L, and served on all. 127.0.0.2, .3, ... are other hosts for a poller's
  // per-host politeness. Ports must differ (0: any free port).
  struct address {
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;
  };
  std::vector<address> listen{address{}};
  std::size_t count = 10;  // N feeds
  double rate = 1;         // new items per second, all feeds together (0: none)
  std::size_t initial = 0;  // items made at start, before the rate applies
  std::size_t items = 20;   // K: items kept per feed
  feeds_format format = feeds_format::mixed;
  // false: item k goes to feed k mod N (each feed gets R/N per second). true: to a feed drawn
  // from k with weights 1/(i+1) (feed 0 is the busiest, the last the quietest; Zipf).
  bool skew = false;
  std::size_t channels = 1;  // the channel column: "feeds", or "feeds-{i mod C}" when C > 1
  std::size_t content_bytes = 0;  // extra text in each item's content
  std::optional<std::uint32_t> max_age;  // Cache-Control: max-age=M
  // In the feeds themselves: RSS <ttl> (minutes) and sy:updatePeriod/updateFrequency (RSS;
  // JSON Feed's _syndic), what a poller must not poll more often than.
  std::optional<std::uint32_t> ttl_minutes;
  std::optional<std::uint32_t> update_period_seconds;
  bool gzip = true;
  // Validators sent and honoured. Without both, every GET is a 200 (a server without
  // conditional GET: the poller's unchanged-body path).
  bool etag = true;
  bool last_modified = true;
  std::map<feed_fault, double> fault_shares;  // percent of the feeds
  std::map<std::size_t, feed_fault> fault_feeds;  // these feeds, whatever the shares say
  std::map<std::size_t, hostile_shape> hostile_feeds;  // a hostile feed's shape (else i mod 4)
  std::chrono::seconds retry_after{120};       // with 429 and 503
  std::chrono::milliseconds slow{2000};        // the delay of `slow` feeds
  latency_distribution latency;                // every feed answer's delay (politeness tests)
  // WebSub: "" none; "self" the built-in hub at /hub on the first listener; else a URL that is
  // advertised and pinged (hub.mode=publish&hub.url=TOPIC) when a feed gains items.
  std::string hub;
  double hub_bad_signature = 0;  // percent of the built-in hub's deliveries signed wrongly
  std::size_t max_subscriptions = 100'000;
  unsigned threads = 1;
  std::chrono::milliseconds tick{5};  // items due are made visible at most this often
};

struct feeds_listener_stats {
  std::string address;  // "127.0.0.1:8080"
  std::uint64_t requests = 0;  // feed requests (under /feeds/)
  std::uint64_t max_in_flight = 0;  // feed requests being answered at once, at most
  // The smallest time between two feed request arrivals, in microseconds; -1 before two.
  std::int64_t min_gap_us = -1;
};

struct feeds_stats {
  std::uint64_t requests = 0;      // feed requests (under /feeds/)
  std::uint64_t other_requests = 0;  // /feeds.csv, /hub, /stats, ...
  std::uint64_t not_modified = 0;    // 304s
  std::uint64_t gzip = 0;            // answers sent gzipped
  std::uint64_t bytes = 0;           // body bytes sent for feed requests
  std::map<int, std::uint64_t> statuses;  // feed requests by status
  std::uint64_t items = 0;           // items made so far
  std::vector<feeds_listener_stats> listeners;
  std::uint64_t hub_pings = 0, hub_ping_failures = 0;         // to an external hub
  std::uint64_t hub_deliveries = 0, hub_bad_signatures = 0;   // built-in hub
  std::uint64_t hub_delivery_failures = 0;
  std::string to_json() const;
};

// One feed as /feeds.csv lists it.
struct feed_entry {
  std::size_t index = 0;
  std::string id;       // "feed-7", "feed-8-gone", "feed-9-hostile-deep"
  std::string url;      // http://HOST:PORT/feeds/7.rss
  std::string channel;
  feeds_format format = feeds_format::rss;  // rss, atom or json
  feed_fault fault = feed_fault::none;
  hostile_shape shape = hostile_shape::deep;  // when fault is hostile
};

class feeds {
public:
  explicit feeds(feeds_options options);
  ~feeds();
  feeds(const feeds&) = delete;
  feeds& operator=(const feeds&) = delete;

  // Binds every listener (throws std::runtime_error naming the one that cannot be bound) and
  // starts serving and making items on background threads.
  void start();
  void stop();
  std::vector<std::uint16_t> ports() const;
  std::vector<feed_entry> list() const;   // after start()
  std::string csv(std::string_view columns = "id,url,channel") const;
  feeds_stats stats() const;
  // Starts the counts afresh (also POST /stats/reset): a test measures a poller's steady state
  // after its first round. Requests in flight stay counted as such.
  void reset_stats();
  std::string subscriptions_json() const;  // the built-in hub's, as GET /hub/subscriptions

private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

// The items of `syndic feeds` a body carries (a feed, a webhook, a WebSub delivery), found
// by their links ".../items/F/K?created_ms=MS", once per item (a rendering may repeat a
// link), in order of first appearance: what a receiver needs to time new-item-to-delivery
// latency (now - created_ms) and to count items per source feed.
struct created_item {
  std::size_t feed = 0;
  std::uint64_t k = 0;
  std::int64_t created_ms = 0;
};
std::vector<created_item> created_items(std::string_view body);

}  // namespace syndic::testkit
