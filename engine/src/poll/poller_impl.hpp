#pragma once
// The poller's insides, shared by its files: poller.cpp (sources, the schedule thread, the
// public API), poll_fetch.cpp (requests, redirects, answers), poll_ingest.cpp (parse, dedup,
// append) and poll_state.cpp (the state kept in the store). Private to the poller.

#include "http/client.hpp"
#include "poll/identity.hpp"
#include "poll/poller.hpp"

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <queue>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace syndic::poll {

// What is kept of a source between polls (and in the store, poll_state.cpp).
struct stored_state {
  std::string url;  // where it is fetched now; empty: the definition's
  std::string defined_url;  // the definition's URL when `url` was set (a new definition resets)
  std::string etag, last_modified;
  std::uint64_t body_hash = 0;
  schedule_state sched;
  std::optional<sys_time> next_poll, last_poll, last_new_item;
  std::uint16_t last_status = 0;
  std::string last_error;
  bool gone = false;
  std::string hub, topic;
  std::uint64_t polls = 0, not_modified = 0, unchanged = 0, changed = 0, new_items = 0, errors = 0;
};

std::string encode_state(const stored_state& s);
bool decode_state(std::string_view json, stored_state& s);  // false: damaged (start afresh)

inline constexpr std::string_view state_namespace = "poll.state";
inline constexpr std::string_view api_sources_namespace = "poll.sources";

struct source_entry {
  source def;
  bool from_api = false;
  stored_state st;
  std::uint64_t generation = 0;  // bumped by every new definition: late answers for an old one are dropped
  bool polling = false;          // a poll (fetch, parse, append) is in progress
  bool poll_again = false;       // poll_now() during a poll: once more when it ends
  bool pushed = false;           // a WebSub subscription is active
  double jitter = 0;             // in [0, 1), from the id: the same every run
  // The identities of the last document that was taken in (id hash -> fingerprint). Empty
  // after a start: every item is then offered to the store, whose idempotency keys drop the
  // ones it has.
  std::unordered_map<std::uint64_t, std::uint64_t> seen;
  std::string host;  // scheme://host:port, the politeness key
  std::string gate;  // the host whose gate the fetch in progress holds ("" when none)
};

// One fetched (or pushed) body on its way to the parse workers.
struct parse_job {
  std::string id;
  std::uint64_t generation = 0;
  source def;
  std::string body;
  std::string content_type;
  std::vector<engine::http::header_field> headers;  // the answer's, for Link hubs and hints
  std::uint64_t previous_hash = 0;
  std::unordered_map<std::uint64_t, std::uint64_t> seen;
  bool pushed = false;  // from a hub, not a poll: validators and schedule untouched
  bool from_file = false;  // a file:// source: the worker reads final_url itself
  std::string etag, last_modified, final_url;
  bool permanent_move = false;
  std::function<void(bool)> pushed_done;
  sys_time started{};
};

struct host_gate {
  std::size_t in_flight = 0;
  std::chrono::steady_clock::time_point last_start{};
  std::deque<std::string> waiting;  // source ids due, in order
};

struct poller::impl : std::enable_shared_from_this<poller::impl> {
  impl(engine::store& db, poller_options options, appended_callback on_appended);

  engine::store& db;
  const poller_options options;
  const appended_callback on_appended;
  hub_listener* hubs = nullptr;

  mutable std::mutex mu;
  std::condition_variable wake;
  bool started = false, stopping = false;
  std::map<std::string, source_entry> sources;
  std::map<std::string, stored_state> orphan_states;  // loaded at start, for sources not (yet) defined
  // (time, id, generation): lazily deleted (an entry whose source moved on is skipped).
  struct due {
    sys_time at;
    std::string id;
    std::uint64_t generation;
    bool operator>(const due& o) const { return at > o.at; }
  };
  std::priority_queue<due, std::vector<due>, std::greater<>> heap;
  std::unordered_map<std::string, host_gate> hosts;
  std::set<std::string> hosts_waiting;  // hosts with sources due but not started: the only ones looked at
  std::size_t fetches_in_flight = 0;
  poller_counters totals;

  std::thread scheduler;
  std::vector<std::thread> workers;
  std::deque<parse_job> parse_queue;
  std::condition_variable parse_wake;
  std::unique_ptr<engine::http::client> trusted_client, public_client;

  // poller.cpp
  void schedule_locked(source_entry& e, sys_time at);
  void run_scheduler();
  void start_due_locked(sys_time now, std::chrono::steady_clock::time_point mono);
  void release_host_locked(const std::string& host);
  void finish_poll_locked(source_entry& e, const poll_observation& obs);
  void persist_locked(const source_entry& e);
  source_entry* find_locked(const std::string& id, std::uint64_t generation);

  // poll_fetch.cpp
  void begin_fetch_locked(source_entry& e);
  void fetch(std::string id, std::uint64_t generation, source def, std::string url, std::string etag,
             std::string last_modified, std::uint32_t hops, bool all_permanent, std::vector<std::string> visited);
  void on_answer(std::string id, std::uint64_t generation, source def, std::string url, std::uint32_t hops,
                 bool all_permanent, std::vector<std::string> visited, engine::http::response r);
  void fetch_file(std::string id, std::uint64_t generation, source def, std::string path);
  void fail_poll(const std::string& id, std::uint64_t generation, std::uint16_t status, std::string error,
                 poll_observation::kind kind, std::optional<sys_time> retry_after);

  // poll_ingest.cpp
  void enqueue_parse(parse_job job);
  void run_worker();
  void ingest(parse_job job);
};

// "http://host:port" of a URL (lower-cased, userinfo dropped), for politeness; "" when none.
std::string host_key(std::string_view url);

// A stable 64-bit hash of bytes (the same on every run and machine): body hashes are stored.
std::uint64_t stable_hash(std::string_view bytes);

}  // namespace syndic::poll
