#pragma once
// syndic::engine: push items to outlets. Shards (one thread, one io_context and one curl multi
// handle each) own the outlets assigned to them by a stable hash of the outlet id, so an
// outlet's queue, token bucket and retry timers are touched by one thread only.
//
//   engine e({});
//   e.on_outcome([](const delivery_outcome& o) { ... });   // runs on shard threads
//   e.add_outlet(cfg);
//   e.submit(feed, feed.items);                             // rendered once per format
//   e.wait_idle(std::chrono::seconds(30));
//   e.stop();
//
// Asio and curl stay behind this header.
//
// Threads. Every member function may be called from any thread, concurrently, except:
//  - on_outcome() must be called before the first add_outlet() or submit() (it throws
//    std::logic_error after that): the callback is read by the shard threads without a lock;
//  - the destructor must not run concurrently with other calls, nor on a shard thread (from
//    inside the callback).
// The outcome callback runs on shard threads, several at once. From inside it, submit(),
// add_outlet(), remove_outlet(), pending() and stats() may be called; stop() may be called too,
// and then only asks the shards to stop (a thread cannot join itself): the pairs left end as
// `cancelled` shortly after, and the destructor (or a later stop() from another thread)
// joins the threads. After stop(), submit() refuses everything (submit_status::stopped) and
// add_outlet()/remove_outlet() do nothing; pending() reaches 0 once every pair has ended.

#include <syndic/engine/outlet.hpp>
#include <syndic/formats/model.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace syndic::engine {

// expired: older than engine_options::max_age before it could be delivered.
enum class final_state : std::uint8_t { delivered, dead_lettered, retired, gave_up, cancelled, expired };
std::string_view to_string(final_state s);

// The end of one (item, outlet) pair.
struct delivery_outcome {
  std::string outlet_id;
  std::string item_id;
  std::string delivery_id;  // stable across retries, new when the item's content changes
  final_state state = final_state::delivered;
  int status = 0;            // last HTTP status, 0 when none
  std::string reason;        // last transport error or status, for people
  std::uint32_t attempts = 0;
  std::uint32_t batch_size = 1;          // items carried by the request that decided this
  std::chrono::microseconds latency{0};  // submit to final outcome
  std::uint64_t seq = 0;                 // the item's log sequence (submit_to), 0 otherwise
};

// One answered (or failed) attempt of a pair, final or not: what a durable store records so
// that a restart resumes retries with their counts (engine::on_attempt).
struct attempt_report {
  std::string outlet_id;
  std::string delivery_id;
  std::uint64_t seq = 0;        // as in delivery_outcome
  std::uint32_t attempt = 0;    // 1 for the first
  int status = 0;               // HTTP status, 0 when none came
  std::string reason;           // "HTTP 503", or the transport error
  bool will_retry = false;      // false: the pair's outcome follows (delivery_outcome)
  std::chrono::system_clock::time_point retry_at{};  // when will_retry
  std::chrono::microseconds round_trip{0};           // this attempt, send to answer
};

// An item taken from a log (the daemon's store), for one outlet (engine::submit_to).
struct log_item {
  std::uint64_t seq = 0;
  // The source's metadata with exactly this item (doc->items.front()), shared: the same
  // document may be handed to every outlet; rendered at most once per format and submit_to.
  std::shared_ptr<const formats::feed> doc;
  std::string item_key;        // what the delivery id is made from; empty: from the item itself
  std::uint32_t attempts = 0;  // attempts already made (a pair resumed after a restart)
  // Not sent before this (a resumed retry keeps its backoff); the epoch: at once.
  std::chrono::system_clock::time_point not_before{};
};

struct engine_options {
  unsigned shards = 0;                  // 0: one per CPU this process may run on (affinity)
  std::size_t max_in_flight = 4096;     // global cap on concurrent transfers (split per shard)
  // Connections per host:port and shard (0 = unlimited); requests beyond wait for one. Many
  // outlets on one host share these: 10,000 outlets on 10 ports were delivered in 0.28-0.32 s
  // with 16-32 and in 0.65 s unlimited (6,200 connections opened instead of 640-1,280).
  long max_host_connections = 32;
  // Open connections, all shards together (split evenly); 0: RLIMIT_NOFILE less 128 for the
  // rest of the process. Past it, idle connections are closed to make room, and a request
  // that still finds none waits and goes again, not counted against its outlet.
  std::size_t max_connections = 0;
  bool verify_tls = true;
  std::string ca_file;  // PEM bundle of trusted CAs for https outlets; empty: the system's
  // http:// and https:// outlets go through a lean HTTP/1.1 keep-alive client
  // (src/http/h1_transport, OpenSSL for https) instead of libcurl; libcurl keeps outlets
  // that ask for HTTP/2 (outlet_config::http2) and https when a proxy is set in the
  // environment (https_proxy, all_proxy). Off: libcurl for everything.
  bool fast_http = true;
  // Each outlet starts with one request in flight and adapts its limit, up to its
  // max_in_flight, from its round trips and failures (src/delivery/concurrency_limit.hpp): a
  // second connection only for an outlet whose queue is backing up and whose latency stays
  // flat. Off: every outlet may use its max_in_flight at once.
  bool adaptive_concurrency = true;
  // The queue an outlet must have, in time at its current concurrency (queued pairs x round
  // trip / limit), before it may open another connection.
  std::chrono::milliseconds concurrency_backlog{5'000};
  std::uint32_t breaker_failures = 5;   // consecutive failures that open an outlet's circuit
  std::chrono::milliseconds breaker_cooldown{30'000};
  // Bounds on memory (a pair costs about 200 bytes while queued). submit() refuses what does
  // not fit, and says so (submit_result): the caller keeps it and offers it again later.
  std::size_t max_pending_pairs = 2'000'000;  // pairs not yet final, all outlets together
  std::size_t max_queue = 100'000;            // pairs not yet final, per outlet
  // A pair not delivered this long after its submit ends as `expired` (checked when its outlet
  // next looks at its queue, so an outlet whose circuit is open sheds it by its next probe).
  // 0: no limit. The default matches the retry policy's 26 h window.
  std::chrono::milliseconds max_age{std::chrono::hours(26)};
};

// One shard's load, for monitoring (engine::shard_loads).
struct shard_load {
  std::size_t outlets = 0;
  std::size_t queued = 0;         // pairs waiting to be sent or for a retry
  std::size_t in_flight = 0;      // requests
  std::size_t circuits_open = 0;  // outlets suspended after repeated failures
};

// One outlet as its shard sees it now (engine::outlet_loads).
struct outlet_load {
  std::size_t queued = 0;     // pairs waiting to be sent or for a retry
  std::uint32_t in_flight = 0;
  std::uint32_t concurrency_limit = 1;  // what it may have in flight now (adaptive)
  std::uint32_t consecutive_failures = 0;
  bool circuit_open = false;  // suspended after repeated failures, until the probe
  bool probing = false;       // half-open: one request decides
  bool retired = false;       // answered 410
  std::chrono::milliseconds circuit_reopens_in{0};  // when open: time to the probe
  std::string last_failure;
};

enum class submit_status : std::uint8_t {
  accepted,     // every pair was queued
  outlets_full, // some outlets' queues were full (max_queue): their pairs were refused
  engine_full,  // max_pending_pairs would be passed: nothing was queued
  stopped,      // the engine is stopped: nothing was queued
};
std::string_view to_string(submit_status s);

// What submit() took. Refused pairs get no outcome: they were never the engine's.
struct submit_result {
  submit_status status = submit_status::accepted;
  std::size_t queued = 0;   // pairs queued; each will get exactly one outcome
  std::size_t refused = 0;  // pairs refused
  // The outlets that refused pairs (outlets_full), with how many; an outlet takes the first
  // items of a submit up to its bound and refuses the rest.
  std::vector<std::pair<std::string, std::size_t>> full_outlets;
  bool ok() const { return status == submit_status::accepted; }
};

struct engine_stats {
  std::uint64_t delivered = 0, dead_lettered = 0, retired = 0, gave_up = 0, cancelled = 0, expired = 0;
  std::uint64_t attempts = 0, retries = 0;
  std::uint64_t connections_opened = 0;
  // The most requests one outlet has had in flight at once (adaptive_concurrency at work).
  std::uint32_t peak_outlet_in_flight = 0;
};

class engine {
public:
  explicit engine(engine_options options);
  ~engine();  // stops; undelivered pairs end as `cancelled`
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  // Must be set before the first add_outlet or submit (std::logic_error otherwise).
  void on_outcome(std::function<void(const delivery_outcome&)> callback);

  // Replaces an outlet with the same id (its queue carries on). An outlet removed and added
  // again is a new one: answers to the old one's requests end the old pairs only. The outlet
  // is checked as an outlets file's rows are (prepare_outlet: URL, headers, secret, rate) and
  // its URL parsed once, here; returns "" when added, else what is wrong (nothing is added).
  std::string add_outlet(outlet_config outlet);
  void remove_outlet(const std::string& id);  // its queued pairs end as cancelled

  // Every item goes to every outlet whose filters match, within the bounds of engine_options.
  submit_result submit(const formats::feed& source, std::span<const formats::item> items);
  // The same for items that come without a feed around them (no channel metadata).
  submit_result submit(std::span<const formats::item> items);
  // Items for one outlet only, filters not applied (the caller chose them: a log reader that
  // feeds each outlet from its cursor). Outcomes carry each item's seq. Bounded as submit().
  submit_result submit_to(const std::string& outlet_id, std::span<const log_item> items);

  // Every attempt's result, final or not (set before the first add_outlet or submit, as
  // on_outcome; runs on shard threads). Called before the pair's delivery_outcome.
  void on_attempt(std::function<void(const attempt_report&)> callback);

  // Pairs not yet final.
  std::size_t pending() const;
  // Waits until nothing is pending or the timeout passes; true when idle.
  bool wait_idle(std::chrono::milliseconds timeout);
  engine_stats stats() const;
  // Asked of each shard on its own thread (no cost on the delivery path): a shard that does
  // not answer within `timeout` shows as zeros. Not from inside the outcome callback.
  std::vector<shard_load> shard_loads(std::chrono::milliseconds timeout = std::chrono::milliseconds(500)) const;
  // The same for one outlet (nullopt: unknown, or no answer within `timeout`).
  std::optional<outlet_load> outlet_loads(const std::string& id,
                                          std::chrono::milliseconds timeout = std::chrono::milliseconds(500)) const;
  // Refuses new submits (submit_status::stopped), waits up to `timeout` for what is pending
  // to end, then stops: what is still queued or waiting for a retry ends as `cancelled`.
  // True when everything ended before the timeout. From any thread but a shard's.
  bool drain(std::chrono::milliseconds timeout);
  void stop();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace syndic::engine
