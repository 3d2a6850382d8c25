#pragma once
// One shard: a thread running an io_context with its own curl transport, and the outlets
// hashed to it. Everything below is touched by the shard's thread only; other threads `post`.

#include "delivery/concurrency_limit.hpp"
#include "delivery/ids.hpp"
#include "delivery/segment_queue.hpp"
#include "delivery/payload.hpp"
#include "http/h1_transport.hpp"
#include "http/curl_transport.hpp"
#include "http/lazy_deque.hpp"

#include <syndic/engine/engine.hpp>
#include <syndic/engine/token_bucket.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <deque>
#include <map>
#include <random>
#include <span>
#include <thread>
#include <unordered_map>
#include <vector>

namespace syndic::engine::detail {

// Counters shared by all shards (relaxed atomics: read for summaries only).
struct shared_counters {
  std::atomic<std::uint64_t> delivered{0}, dead_lettered{0}, retired{0}, gave_up{0}, cancelled{0}, expired{0};
  std::atomic<std::uint64_t> attempts{0}, retries{0}, connections_opened{0};
  std::atomic<std::uint32_t> peak_outlet_in_flight{0};  // engine_stats::peak_outlet_in_flight
  std::atomic<std::int64_t> pending{0};
  // engine::wait_idle sleeps on this; it is notified when `pending` reaches 0 (rare), never
  // per outcome, so a waiter costs the delivery path nothing and wakes at once.
  std::mutex idle_mutex;
  std::condition_variable idle;
};

struct delivery_extra;

// One request's worth of work: a single (item, outlet) pair, or a batch of them. Every queued
// pair is one of these, written once by the submitting thread: what few pairs need (a
// redirect, a batch's members) is kept aside, so that each is 112 bytes, not 160.
struct delivery {
  std::shared_ptr<const payload> body;
  delivery_key delivery_id;  // delivery/ids.hpp: in place, no allocation
  std::uint64_t seq = 0;  // the item's log sequence (engine::submit_to); 0 otherwise
  std::chrono::steady_clock::time_point not_before{};  // a resumed retry waits in `retries` until then
  std::uint32_t attempts = 0;
  std::chrono::steady_clock::time_point submitted;
  std::chrono::steady_clock::time_point first_attempt;
  // The outlet's count of pairs not yet final (engine_options::max_queue), shared with the
  // engine's registry; kept by the pair so that it is counted down whatever became of the
  // outlet meanwhile. Null in a batch (its members carry theirs).
  std::shared_ptr<std::atomic<std::int64_t>> queued;
  // Null for a single pair never redirected.
  std::unique_ptr<delivery_extra> extra;

  // A batch: the pairs this request carries (each ends with the batch's outcome). Empty for
  // a single pair.
  std::span<delivery> members();
  std::span<const delivery> members() const;
  // After a 307/308: where this pair goes now. Null when it goes to its outlet's URL.
  const std::string* redirected_to() const;
  std::size_t pairs() const { return extra ? std::max<std::size_t>(members().size(), 1) : 1; }
  delivery_extra& more();  // made on first use
};

struct delivery_extra {
  std::vector<delivery> members;
  std::string url_override;
  std::uint32_t redirects = 0;
};

inline std::span<delivery> delivery::members() {
  return extra ? std::span<delivery>(extra->members) : std::span<delivery>();
}
inline std::span<const delivery> delivery::members() const {
  return extra ? std::span<const delivery>(extra->members) : std::span<const delivery>();
}
inline const std::string* delivery::redirected_to() const {
  return extra && !extra->url_override.empty() ? &extra->url_override : nullptr;
}
inline delivery_extra& delivery::more() {
  if (!extra) extra = std::make_unique<delivery_extra>();
  return *extra;
}

// What the engine's owner asked to hear, set before the shards start and then only read.
struct shard_callbacks {
  std::function<void(const delivery_outcome&)> outcome;
  std::function<void(const attempt_report&)> attempt;
};

class shard {
public:
  using clock = std::chrono::steady_clock;

  // `connections`: this shard's share of the connection budget (its two transports share it).
  shard(const engine_options& options, std::size_t max_in_flight, std::size_t connections,
        shared_counters& counters, const shard_callbacks& callbacks);
  ~shard();  // stops the thread; queued pairs end as cancelled

  // Thread-safe: these post onto the shard.
  void add_outlet(outlet_config cfg);
  void remove_outlet(std::string id);
  void enqueue(std::string outlet_id, std::vector<delivery> deliveries);
  // Stops the io_context and joins the thread; from any thread but the shard's own.
  void stop();
  // Stops the io_context without waiting (the shard's own thread may call it, from an outcome
  // callback); the thread then cancels what is left and ends. stop() joins it later.
  void request_stop() { io_.stop(); }
  bool on_own_thread() const { return std::this_thread::get_id() == thread_id_; }
  // The shard's load, computed on its thread; `done` is called there (not at all once stopped).
  void snapshot(std::function<void(shard_load)> done);
  void snapshot(std::string id, std::function<void(std::optional<outlet_load>)> done);

private:
  // Requests in flight to one origin (scheme, host, port) from this shard. At most `cap`
  // (from engine_options::max_host_connections): a request beyond would only wait inside the
  // transport for one of the host's connections while holding one of the shard's slots, so
  // one slow host with many outlets could take them all. Outlets held back wait in `waiting`.
  struct host_slots {
    std::size_t in_flight = 0;
    std::size_t cap = 0;      // 0: no cap
    std::size_t outlets = 0;  // outlets on this origin; the entry goes when none is left and nothing is in flight
    http::lazy_deque<std::string> waiting;  // nearly always empty: allocated when used
    std::string origin;  // its key in hosts_
    bool full() const { return cap > 0 && in_flight >= cap; }
  };

  struct outlet_state {
    outlet_state(outlet_config c, token_bucket b) : cfg(std::move(c)), bucket(b) {}
    outlet_config cfg;
    // Which incarnation of the id this is: an outlet removed and added again is a new one,
    // and answers to the old one's requests must not touch the new one's counts.
    std::uint64_t generation = 0;
    host_slots* host = nullptr;  // hosts_[origin of cfg.url]: set from the first add on
    token_bucket bucket;
    segment_queue<delivery> ready;  // as submitted: see segment_queue.hpp
    std::multimap<clock::time_point, delivery> retries;  // waiting for their backoff
    std::uint32_t in_flight = 0;
    // How many may be in flight (engine_options::adaptive_concurrency): starts at 1, adapted
    // from each finished attempt, up to cfg.max_in_flight.
    concurrency_limit concurrency;
    std::uint32_t consecutive_failures = 0;
    clock::time_point suspended_until{};
    bool probing = false;   // circuit half-open: one request decides
    bool retired = false;
    bool waiting_for_slot = false;
    bool throttled = false;  // items are queuing behind the rate or in-flight limit: batch them
    std::string key;  // the webhook signing key, decoded once from the secret
    http::header_block own_headers;  // cfg.headers, rendered once (sent to the configured origin only)
    http::origin_hint origin;        // where its last h1 request went (see h1_transport::post)
    // The Content-Type line of the payloads last sent (one type per format: rendered again
    // only when it changes).
    std::string content_type;
    http::header_block content_type_line;
    std::shared_ptr<const parsed_url> endpoint;  // cfg.endpoint, shared with each request; null when unparsed
    std::string last_failure;  // why the last retried attempt failed, for the final report
    std::unique_ptr<boost::asio::steady_timer> wakeup;  // made at the first wait
    clock::time_point wakeup_at = clock::time_point::max();
  };

  void pump(outlet_state& o) { pump(o, clock::now()); }
  void pump(outlet_state& o, clock::time_point now);
  void expire_front(outlet_state& o, clock::time_point now);
  host_slots* attach_host(const std::string& origin);
  void detach_host(outlet_state& o);
  void drain_host(host_slots& h);
  void end_stale(const std::string& outlet_id, delivery& d, const http::response& r, std::string reason);
  void next_request(outlet_state& o, delivery& into);  // the next pair, or a batch of them
  delivery make_batch(outlet_state& o, delivery first);
  void send(outlet_state& o, clock::time_point now);  // the outlet's next request
  void wait_for_slot(outlet_state& o, http::lazy_deque<std::string>& queue);
  // `now`: the caller's clock reading, when it has one (the outcome's latency is taken from it).
  void finish(const std::string& outlet_id, delivery& d, final_state s, int status,
              std::string reason, clock::time_point now = clock::now());
  void finish_pair(const std::string& outlet_id, const delivery& d, final_state s, int status,
                   std::string reason, std::uint32_t batch_size, clock::time_point now);
  void schedule(outlet_state& o, clock::time_point at);
  void drain_waiting();
  std::uint32_t limit(const outlet_state& o) const;

  const engine_options& options_;
  std::size_t max_in_flight_;
  std::size_t connections_;
  shared_counters& counters_;
  const shard_callbacks& callbacks_;
  // Hint 1: only the shard's thread runs it, so completions it queues skip the scheduler's
  // lock (other threads still post, under the lock).
  boost::asio::io_context io_{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  // Made on first use (curl()) and destroyed on the shard thread.
  std::unique_ptr<http::curl_transport> transport_;
  http::transport_options curl_options_;  // set when the thread starts
  http::curl_transport& curl();
  std::unique_ptr<http::h1_transport> plain_;        // http:// outlets (engine_options::fast_http)
  // outlet_config::public_only outlets: transports of their own that check every address
  // before connecting; made on first use.
  http::h1_options h1_options_;
  std::unique_ptr<http::h1_transport> public_h1_;
  std::unique_ptr<http::curl_transport> public_curl_;
  http::h1_transport& public_h1();
  http::curl_transport& public_curl();
  std::unordered_map<std::string, std::unique_ptr<outlet_state>> outlets_;
  // The same outlets by generation: an answer finds the outlet that sent it (or learns that
  // it is gone) by a number, not by hashing its id.
  std::unordered_map<std::uint64_t, outlet_state*> by_generation_;
  std::unordered_map<std::string, host_slots> hosts_;  // by origin; references stay valid
  std::uint64_t next_generation_ = 0;
  http::lazy_deque<std::string> waiting_;  // outlets held back by the shard's in-flight cap
  // Outlets whose last attempt failed may hold at most half of the shard's in-flight cap: a
  // crowd of dead or slow outlets cannot take every slot from the healthy ones.
  http::lazy_deque<std::string> waiting_unhealthy_;
  std::size_t unhealthy_in_flight_ = 0;
  std::size_t unhealthy_cap() const { return std::max<std::size_t>(1, max_in_flight_ / 2); }
  std::size_t in_flight_ = 0;        // requests
  // Requests in flight, by serial: the transports' completions carry only the serial, so
  // that a stop can still end every pair with an outcome.
  struct request_in_flight {
    std::string outlet_id;
    std::uint64_t generation = 0;  // of the outlet that sent it
    host_slots* host = nullptr;    // the slot it holds (the entry outlives it)
    delivery d;
    bool unhealthy = false;  // sent while the outlet's last attempt had failed
    clock::time_point sent;  // the round trip the concurrency limit is fed
  };
  using request_map = std::unordered_map<std::uint64_t, request_in_flight>;
  request_map requests_;
  // Entries of requests_ whose answer came, kept for the next requests (at most the shard's
  // in-flight cap): no node is allocated per request, the outlet id is copied into a buffer
  // that is already there, and the pair is moved once, from the outlet's queue into the entry.
  std::vector<request_map::node_type> spare_requests_;
  request_in_flight& new_request(std::uint64_t serial);
  // The answer by reference: a response is a dozen strings, and was moved four times.
  void on_done(request_in_flight&& req, const http::response& r);
  void settle(outlet_state& o, delivery& d, const http::response& r, std::string reason,
              clock::duration round_trip, clock::time_point now);
  void report_attempt(const std::string& outlet_id, const delivery& d, const http::response& r,
                      const std::string& reason, clock::duration round_trip,
                      clock::time_point retry_at = {});
  void sample_concurrency(outlet_state& o, const request_in_flight& req, const http::response& r,
                          clock::time_point now);
  std::uint64_t next_request_ = 0;
  // Each request's header lines are rendered here, then copied into the request's head by the
  // transport (or split into request::headers for libcurl): one buffer, reused.
  http::header_block request_headers_;
  http::header_block timestamp_line_;  // "webhook-timestamp: ..." for the second it was made
  std::int64_t timestamp_line_at_ = 0;
  delivery_outcome outcome_;   // finish_pair's, reused (see there)
  bool outcome_busy_ = false;  // outcome_ is being reported
  bool stopping_ = false;
  std::mt19937_64 rng_;
  std::thread thread_;
  std::thread::id thread_id_;  // thread_.get_id(), kept: thread_ changes when joined
};

}  // namespace syndic::engine::detail
