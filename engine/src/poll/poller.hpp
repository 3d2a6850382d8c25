#pragma once
// The poller: watches every source, fetches it politely and cheaply, and turns each genuinely
// new item into one log entry (which the fan-out then delivers to the outlets).
//
// - Scheduling: one thread with a heap of next-poll times (schedule.hpp decides the times);
//   sources are never a thread or a timer each.
// - Fetching: through one http::client (its own thread), conditional GET with the stored
//   ETag/Last-Modified; a 304, or a 200 whose body hash is unchanged, costs no parse.
//   Redirects are followed here (up to max_redirects): 301/308 update the stored URL, 302/303/307
//   do not. Politeness per host: at most host_connections requests at once, starts at least
//   host_gap apart.
// - Parsing runs on parse_threads workers, never on the thread doing I/O, so a 20 MB feed
//   stalls nothing else; a source has one poll in flight at a time.
// - New items: identity.hpp; appended with an idempotency key per item, so the store drops
//   what a restart would publish again. A source's ETag and body hash are stored only after
//   its new items are durable: a crash in between fetches and dedups again, never loses.
// - State (URL after permanent moves, validators, schedule, last error, counters) is kept in
//   the store's kv (namespace "poll.state"), one write per poll, group-committed.
//
// Threads: every member function may be called from any thread.

#include "poll/schedule.hpp"
#include "poll/source.hpp"

#include <syndic/engine/store.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

struct sockaddr;

namespace syndic::poll {

struct poller_options {
  std::size_t parse_threads = 1;
  std::size_t host_connections = 2;             // requests to one host:port at once
  std::chrono::milliseconds host_gap{250};      // between two request starts to one host:port
  std::size_t max_body_bytes = 20u << 20;       // a larger feed is an error for that poll
  // Fetches and parses in progress at once, over all hosts (each may hold max_body_bytes).
  std::size_t max_fetches = 64;
  std::chrono::milliseconds timeout{30'000};    // one fetch: DNS, connect, send, the whole body
  std::uint32_t max_redirects = 5;
  seconds start_spread{30};                     // first polls after a start spread over this
  seconds max_backoff{6 * 3600};
  std::string user_agent = "syndic/0.1 (+feed poller)";
  bool verify_tls = true;
  std::string ca_file;
  // Called for every address before connecting (SSRF check for API-added sources); empty: all pass.
  std::function<std::string(const sockaddr&)> refuse_address;
  // Sources added through the API are checked with it; those from files are trusted.
  bool check_api_addresses = true;
  // Several instances on one store: a source is polled only by the instance that owns it (its
  // id's partition); elsewhere it stays scheduled, at its min interval, without a fetch, so
  // that it is polled soon after its partition moves here. Empty: every source is polled.
  std::function<bool(const std::string& source_id)> owns;
};

// What the admin API shows of a source.
struct source_status {
  source def;
  std::string url;    // where it is fetched now (a 301/308 moves it)
  std::string state;  // "scheduled", "polling", "disabled", "gone" (410), "failing"
  std::uint16_t last_status = 0;  // the last HTTP status, 0 when none
  std::string last_error;         // empty after a good poll
  std::optional<sys_time> last_poll, next_poll, last_new_item;
  seconds interval{0};
  double items_per_hour = -1;
  std::uint64_t polls = 0, not_modified = 0, unchanged = 0, changed = 0, new_items = 0, errors = 0;
  std::string hub;     // the WebSub hub it advertises, empty when none
  bool pushed = false; // a hub subscription is active (polled at max_interval only)
};

struct poller_counters {
  std::uint64_t polls = 0, not_modified = 0, unchanged = 0, changed = 0, new_items = 0, errors = 0;
  std::uint64_t pushed_bodies = 0;  // bodies delivered by WebSub hubs
  std::uint64_t in_flight = 0, parse_queue = 0;
};

// Told about hubs that sources advertise (the WebSub subscriber implements it).
class hub_listener {
 public:
  virtual ~hub_listener() = default;
  // A poll of `source_id` found `hub` advertised for `topic` (the feed's self link, else its
  // URL). Called on the poller's threads; must not block.
  virtual void hub_advertised(const std::string& source_id, const std::string& topic, const std::string& hub) = 0;
  // The source was removed or disabled: unsubscribe.
  virtual void source_gone(const std::string& source_id) = 0;
  // A safety-net poll of a pushed source found items the hub never delivered: the hub is
  // quiet, and the source goes back to normal polling until it delivers again.
  virtual void hub_missed_items(const std::string& source_id) { (void)source_id; }
};

class poller {
 public:
  using appended_callback = std::function<void()>;  // after new items are durable (fan-out notify)

  poller(engine::store& db, poller_options options, appended_callback on_appended);
  ~poller();  // stop()
  poller(const poller&) = delete;
  poller& operator=(const poller&) = delete;

  void set_hub_listener(hub_listener* listener);  // before start()
  void start();
  // Stops polling; waits for fetches and parses in progress to finish or be cancelled.
  void stop();

  // The sources from the files (config and --sources): replaces the previous file set,
  // keeping the state of sources whose id stays (a changed URL starts its validators afresh).
  // API-added sources are not touched. Returns errors ("id: ..."), empty when all were taken.
  std::vector<std::string> set_file_sources(std::vector<source> sources);
  // API: add or replace one source (kept in the store, namespace "poll.sources"); "" or why not.
  std::string put_api_source(source s);
  bool remove_source(const std::string& id);  // API sources are also erased from the store
  std::optional<source_status> status(const std::string& id) const;
  std::vector<source_status> list() const;
  bool poll_now(const std::string& id);  // schedules an immediate poll; false when unknown

  // A body for `source_id` pushed by its hub (signature already checked): handled as a
  // fetched 200. `done(true)` once its new items are durable, false when unknown/failed.
  void ingest_pushed(const std::string& source_id, std::string body, std::string content_type,
                     std::function<void(bool)> done);
  // The WebSub subscriber says a subscription is active (true) or lapsed (false): while
  // active the source is polled only at its max_interval, as a safety net.
  void set_pushed(const std::string& source_id, bool active);

  poller_counters counters() const;

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace syndic::poll
