#pragma once
// syndic::engine::store: the durable state of a syndic instance. An append-only item log with
// sequence numbers, outlets' progress through it (a cursor plus exceptions), stored outlet
// definitions, small keyed state, WebSub subscriptions, and leases with fencing tokens.
//
// The interface speaks of no file, no SQL and no process: the SQLite backend (one file, one
// process; open_sqlite_store below) implements it, and so can a backend shared by several
// processes (PostgreSQL: the log a table with a commit watermark, cursors and exceptions rows,
// leases rows taken by compare-and-set). docs/store.md has the schema and the durability
// contract.
//
//   auto opened = open_sqlite_store("/var/lib/syndic", {});
//   if (!opened.ok()) { std::cerr << opened.status.message << '\n'; return 1; }
//   store& db = *opened.value;
//   db.append({records, "idem-key-1"}, [](store_result<appended> r) {
//     // on the store's writer thread, once the records are on disk: answer 202 now
//   });
//   db.write({mark_done{"outlet-a", 41}}, {});       // an outcome; no completion needed
//   auto batch = db.read(cursor + 1, 256);            // blocking read, any thread
//
// Threads and lifetimes.
//  - Every member function may be called from any thread, concurrently.
//  - Writes (append, write, the lease calls) are queued to the store's one writer, which
//    applies them in the order they were queued and commits them in groups: one transaction
//    every few milliseconds or every few thousand operations, never one per write. A write's
//    completion runs on the writer thread after the transaction holding it is durable (or has
//    failed), in queue order; writes without a completion cost nothing more.
//  - A completion must be quick (the next commit waits for it) and must not call the *_sync
//    helpers nor close() (they wait for the writer: a deadlock). It may queue more writes.
//    Hand heavier work to another thread (post it to an io_context).
//  - Reads are synchronous on the calling thread (a read connection of their own; they do not
//    wait for the writer) and see every write whose completion has run, and no write before
//    its transaction committed. They cost a disk read when the pages are not cached: keep
//    them off a shard's I/O thread when their size is not small.
//  - close() (and the destructor) commits what is queued, runs its completions, and joins the
//    writer. After close, writes complete at once, on the caller's thread, with
//    store_errc::closed, and reads return that error. Destroy the store after every thread that
//    uses it has stopped calling it.
//
// Errors are values (store_status); nothing throws out of the store except std::bad_alloc.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace syndic::engine {

// A position in the item log. Sequence numbers start at 1 and only grow; 0 means "none".
// The SQLite backend assigns them densely (n, n+1, ...); a shared backend may leave gaps, so
// readers ask for "the next records from seq" and never compute positions.
using seq_t = std::uint64_t;

// Stored times are wall-clock times (they outlive the process and cross machines).
using store_clock = std::chrono::system_clock;
using store_time = store_clock::time_point;

// Seqs first..last, both included.
struct seq_range {
  seq_t first = 0, last = 0;
  bool operator==(const seq_range&) const = default;
};

enum class store_errc : std::uint8_t {
  ok = 0,
  not_a_store,       // the file exists but is not a syndic store (corrupt, or another file)
  unwritable,        // the directory or file cannot be created or written
  newer_schema,      // made by a newer syndic: this binary does not know its schema version
  io_error,          // a read or write failed (disk full, I/O error); the write did not happen
  busy,              // another process held the store past the busy timeout
  closed,            // the store was closed
  fenced,            // the write's fence names a lease token that is no longer current
  invalid_argument,  // a caller error (empty outlet id, seq 0, ...)
};
std::string_view to_string(store_errc e);

// The outcome of a store call: ok, or a code and a message a person can act on
// ("/var/lib/syndic/syndic.db: not a syndic store: file is not a database").
struct store_status {
  store_errc code = store_errc::ok;
  std::string message;
  bool ok() const { return code == store_errc::ok; }
  explicit operator bool() const { return ok(); }
};

// A value with its status; `value` is default-constructed when !ok().
template <class T>
struct store_result {
  store_status status;
  T value{};
  bool ok() const { return status.ok(); }
  explicit operator bool() const { return ok(); }
};

template <class T>
using completion = std::function<void(store_result<T>)>;
using status_completion = std::function<void(store_status)>;

// ---- The item log -------------------------------------------------------------------------

// One item to append. `payload` is opaque to the store (the engine keeps the parsed item as
// JSON Feed JSON); `content_type` says what it is ("application/feed+json").
struct log_entry {
  std::string item_id;  // the item's own id (guid/id), for people and delivery ids
  std::string source;   // where it came from: a source id, "publish", ...
  std::string channel;  // the feed it belongs to (GET /feeds/{channel}.*)
  std::string content_type;
  std::string payload;
  store_time received{};  // when syndic took it in
};

// An appended entry, as read back.
struct log_record : log_entry {
  seq_t seq = 0;
  std::string idempotency_key;  // the key of the append that wrote it, empty when none
};

// What append() writes: every entry, in order, in one transaction (all or none).
struct append_request {
  std::vector<log_entry> entries;
  // A publisher's Idempotency-Key, empty for none. When the key was used before, nothing is
  // appended and the first append's sequence numbers are returned (duplicate = true), even if
  // the entries differ. Keys live as long as the records they wrote.
  std::string idempotency_key;
};

struct appended {
  std::vector<seq_t> seqs;  // one per entry, ascending, in the entries' order
  bool duplicate = false;   // the key was seen before: nothing was written
};

// ---- Outlets and their progress -----------------------------------------------------------
//
// An outlet's progress through the log is its cursor plus exceptions:
//  - cursor: every seq <= cursor is resolved (delivered, or dead-lettered);
//  - done above: seqs > cursor already resolved (deliveries finish out of order);
//  - retries: pairs waiting for another attempt (any seq, also below the cursor when a dead
//    letter is retried), with their attempt count, next attempt time and delivery id;
//  - dead letters: pairs given up on, kept with their last error until retried or dropped.
// The pairs still owed to an outlet (to send after a restart, with the same delivery id) are
//   { s in the log : s > cursor and s not done above } + the retries.
// The store moves the cursor itself: a caller only reports outcomes (mark_done, mark_retry,
// mark_dead) and the cursor passes every contiguous resolved seq.

enum class circuit_mode : std::uint8_t { closed, open, half_open };
std::string_view to_string(circuit_mode m);

struct circuit_state {
  circuit_mode mode = circuit_mode::closed;
  std::uint32_t failures = 0;  // consecutive failures
  store_time since{};          // when the mode was entered
  store_time probe_at{};       // open: when to probe next
};

struct retry_entry {
  seq_t seq = 0;
  std::uint32_t attempts = 0;  // attempts made so far
  store_time next_attempt{};
  std::string delivery_id;
};

struct dead_letter {
  seq_t seq = 0;
  int status = 0;  // last HTTP status, 0 when none came
  std::string error;
  std::uint32_t attempts = 0;
  store_time at{};  // when it was given up on
  std::string delivery_id;
};

// One outlet's progress in brief (admin, start-up). The exceptions themselves are read in
// pages (done_above, retries, dead_letters).
struct progress_summary {
  std::string outlet;
  seq_t cursor = 0;
  std::size_t done_above = 0;  // seqs resolved above the cursor
  std::size_t retries = 0, dead_letters = 0;
  circuit_state circuit;
  std::string last_error;  // of the latest mark_retry or mark_dead, empty when none
  store_time last_error_at{};
};

// A stored outlet definition (outlets added through the API): id -> opaque config bytes.
struct stored_outlet {
  std::string id;
  std::string config;
  store_time updated{};
};

// ---- Small keyed state and WebSub ---------------------------------------------------------

// namespace/key -> bytes: polling's seen-sets ("seen/<source>", key = item identity) and
// HTTP validators ("validators", key = source id), and whatever else is small and keyed.
struct kv_entry {
  std::string ns, key, value;
  store_time updated{};
};

// A WebSub subscription held by the hub; (topic, callback) is its key.
struct subscription {
  std::string topic;
  std::string callback;
  std::string secret;  // empty: deliveries are not signed
  store_time lease_expiry{};
  store_time created{};
};

// ---- Leases -------------------------------------------------------------------------------
//
// A named lease (e.g. "partition/17") held by one owner until `expires`. `token` grows every
// time the lease is taken while free, expired, or held by another owner; a renewal by the
// holder keeps it. Writes made on behalf of a lease carry a fence with the token: the store
// refuses them (store_errc::fenced) once the token has moved on, so a stalled ex-owner can
// never write after a takeover. Expiry is judged by the store's clock (the database server's,
// for a shared backend); a holder must also stop acting on its own monotonic clock before
// `expires`, since clocks differ and writes in flight take time.
struct lease {
  std::string name;
  std::string owner;
  std::uint64_t token = 0;
  store_time expires{};
};

struct fence {
  std::string lease;
  std::uint64_t token = 0;
};

// ---- Writes -------------------------------------------------------------------------------

// Creates the outlet's progress at `cursor` (typically the log's head when the outlet is new)
// unless it already has progress; then nothing changes. An outlet without progress counts as
// cursor 0: call this before its first mark, or every seq above 0 is owed to it.
struct start_outlet { std::string outlet; seq_t cursor = 0; };
// Seqs first..last (last = 0: first alone) are delivered (or were filtered out): removes their
// retries and dead letters and advances the cursor over what is contiguous.
struct mark_done { std::string outlet; seq_t first = 0; seq_t last = 0; };
// An attempt failed and another follows: stores (replaces) the pair's retry. A seq above the
// cursor with a retry is never in a done range (it leaves one if it was in it).
struct mark_retry {
  std::string outlet;
  retry_entry retry;
  std::string error;  // this attempt's error, kept as the outlet's last error
};
// The pair is given up on: its retry becomes a dead letter; the seq counts as resolved.
struct mark_dead { std::string outlet; dead_letter dead; };
struct set_circuit { std::string outlet; circuit_state circuit; };
// Sends the outlet everything from `from` again: cursor = from - 1, and the done-above seqs,
// retries and dead letters at or above `from` are forgotten (their pairs are owed again).
struct replay_outlet { std::string outlet; seq_t from = 1; };
// Dead letters become retries due at `next_attempt` with their delivery id and attempt count
// 0 (seqs empty: all of the outlet's): owed again, so above the cursor they leave their done
// range and hold the cursor back until delivered. The caller hands them to the engine (those
// at or below the cursor explicitly: a walk of the log from the cursor does not meet them).
struct retry_dead_letters { std::string outlet; std::vector<seq_t> seqs; store_time next_attempt{}; };
// Dead letters are deleted (seqs empty: all of the outlet's); their pairs stay resolved.
struct drop_dead_letters { std::string outlet; std::vector<seq_t> seqs; };
// The outlet's progress, retries and dead letters are deleted.
struct forget_outlet { std::string outlet; };

struct save_outlet { stored_outlet outlet; };  // insert or replace (updated is set by the store)
struct delete_outlet { std::string id; };     // the definition only (forget_outlet for progress)

struct kv_put { std::string ns, key, value; };
struct kv_erase { std::string ns, key; };
struct kv_erase_namespace { std::string ns; };

struct put_subscription { subscription sub; };  // insert or replace by (topic, callback)
struct remove_subscription { std::string topic, callback; };
// Deletes every subscription whose lease_expiry is before `before`.
struct expire_subscriptions { store_time before{}; };

using write_op = std::variant<start_outlet, mark_done, mark_retry, mark_dead, set_circuit,
                              replay_outlet, retry_dead_letters, drop_dead_letters, forget_outlet,
                              save_outlet, delete_outlet, kv_put, kv_erase, kv_erase_namespace,
                              put_subscription, remove_subscription, expire_subscriptions>;

struct store_stats {
  std::uint64_t transactions = 0;    // committed by the writer
  std::uint64_t operations = 0;      // writes applied (an append counts one per entry)
  std::uint64_t failed_commits = 0;
  std::size_t queued = 0;            // writes waiting for the writer now
  std::chrono::microseconds last_commit{0};  // duration of the latest commit (fsync included)
};

// ---- The store ----------------------------------------------------------------------------

class store {
public:
  virtual ~store() = default;

  // Writes (queued to the writer; see the top of this file) ------------------------------

  // Appends the entries in one transaction; the completion gets their seqs once durable.
  virtual void append(append_request request, completion<appended> done) = 0;

  // Applies the ops, in order, in one transaction. With a fence, the ops apply only if the
  // fence's lease still has that token (else none apply, and the status is `fenced`); the
  // check and the ops are atomic. `done` may be empty.
  virtual void write(std::vector<write_op> ops, std::optional<fence> guard,
                     status_completion done) = 0;
  void write(std::vector<write_op> ops, status_completion done = {}) {
    write(std::move(ops), std::nullopt, std::move(done));
  }

  // Takes the lease for `owner` for `ttl` if it is free, expired or already the owner's.
  // The value is the lease held after the call, or nullopt when another owner holds it.
  virtual void acquire_lease(std::string name, std::string owner, std::chrono::milliseconds ttl,
                             completion<std::optional<lease>> done) = 0;
  // Extends a lease still held with the same token: its new expiry, or nullopt when it was
  // lost (taken over, or expired and taken, or released).
  virtual void renew_lease(lease held, std::chrono::milliseconds ttl,
                           completion<std::optional<lease>> done) = 0;
  // Frees the lease if still held with that token (no-op otherwise).
  virtual void release_lease(lease held, status_completion done) = 0;

  // Returns once every write queued before the call is durable (completions run).
  virtual store_status flush() = 0;
  // Commits what is queued, runs its completions, stops the writer. Idempotent.
  virtual void close() = 0;

  // Reads (synchronous, any thread) -------------------------------------------------------

  // The highest seq readable now: every record up to it is visible to read().
  virtual store_result<seq_t> head() = 0;
  // Up to `max_records` records with seq >= from, ascending, stopping early once their
  // payloads pass `max_bytes` (at least one record is returned when one exists).
  virtual store_result<std::vector<log_record>> read(seq_t from, std::size_t max_records,
                                                     std::size_t max_bytes = 16u << 20) = 0;
  // One record; value nullopt when absent.
  virtual store_result<std::optional<log_record>> get(seq_t seq) = 0;
  // The channel's newest `n` records, newest first (for serving feeds).
  virtual store_result<std::vector<log_record>> latest(std::string_view channel, std::size_t n) = 0;
  // The seqs appended under an idempotency key, ascending; nullopt when the key is unknown.
  virtual store_result<std::optional<std::vector<seq_t>>> lookup_idempotency(std::string_view key) = 0;

  virtual store_result<std::vector<stored_outlet>> outlets() = 0;
  virtual store_result<std::optional<stored_outlet>> outlet(std::string_view id) = 0;

  // nullopt when the outlet has no progress (start_outlet was never written).
  virtual store_result<std::optional<progress_summary>> progress(std::string_view outlet) = 0;
  // Every outlet with progress (start-up: one call rather than one per outlet).
  virtual store_result<std::vector<progress_summary>> all_progress() = 0;
  // Pages of exceptions, ascending by seq, starting after `after` (0: from the start).
  // Resolved seqs above the cursor come as disjoint, non-adjacent ranges (a filtered-out span
  // is one range): those whose `last` is above `after`, unclipped (the first may begin at or
  // below it). Page on with after = the last range's `last`.
  virtual store_result<std::vector<seq_range>> done_above(std::string_view outlet, seq_t after,
                                                          std::size_t limit) = 0;
  virtual store_result<std::vector<retry_entry>> retries(std::string_view outlet, seq_t after,
                                                         std::size_t limit) = 0;
  virtual store_result<std::vector<dead_letter>> dead_letters(std::string_view outlet, seq_t after,
                                                              std::size_t limit) = 0;

  virtual store_result<std::optional<std::string>> kv_get(std::string_view ns, std::string_view key) = 0;
  // Entries of a namespace in key order, starting after `after_key` ("" : from the start).
  virtual store_result<std::vector<kv_entry>> kv_list(std::string_view ns, std::string_view after_key,
                                                      std::size_t limit) = 0;

  // A topic's subscriptions ("" : all of them).
  virtual store_result<std::vector<subscription>> subscriptions(std::string_view topic) = 0;

  // The lease as stored now (nullopt when it never existed); expired leases are returned too.
  virtual store_result<std::optional<lease>> get_lease(std::string_view name) = 0;
  // Every lease whose name starts with `prefix` ("" : all), by name; expired and released
  // ones too (a released lease has owner "" and expires at the epoch). Membership and
  // partition ownership are read this way ("member/", "partition/").
  virtual store_result<std::vector<lease>> leases(std::string_view prefix) = 0;

  virtual store_stats stats() const = 0;

  // Blocking forms of the writes, for start-up, admin and tests. Never from a completion.
  store_result<appended> append_sync(append_request request);
  store_status write_sync(std::vector<write_op> ops, std::optional<fence> guard = std::nullopt);
  store_result<std::optional<lease>> acquire_lease_sync(std::string name, std::string owner,
                                                        std::chrono::milliseconds ttl);
  store_result<std::optional<lease>> renew_lease_sync(lease held, std::chrono::milliseconds ttl);
  store_status release_lease_sync(lease held);
};

// ---- The SQLite backend -------------------------------------------------------------------

// What `synchronous` means for the file (docs/store.md):
//  - normal: a commit is safe from a process crash (kill -9) the moment it returns; a power
//    loss or OS crash may undo the last transactions (never corrupt the file). WAL syncs at
//    checkpoints only.
//  - full: every commit is fsynced before its completion runs; survives power loss too.
enum class sqlite_sync : std::uint8_t { normal, full };

struct sqlite_options {
  sqlite_sync synchronous = sqlite_sync::full;
  // Group commit: a transaction closes `commit_interval` after its first write was queued,
  // or when it holds `commit_max_ops` operations, whichever comes first (an idle store waits
  // for nothing). 0 ms: each transaction takes what is queued when it starts.
  std::chrono::microseconds commit_interval{2'000};
  std::size_t commit_max_ops = 4096;
  // How long a statement waits for a lock held by another connection or process.
  std::chrono::milliseconds busy_timeout{5'000};
  std::size_t read_connections = 4;  // pooled; readers beyond wait for one
  // Entries of appends waiting for the writer, at most (0: no bound). Past it, append()
  // completes at once, on the caller's thread, with store_errc::busy (the daemon answers
  // 503): a disk that cannot keep up costs publishers a retry, not the process its memory.
  // Other writes (outcomes, leases) are not bounded here: their callers bound them.
  std::size_t max_queued_entries = 100'000;
  // The store's clock (lease expiry, stored "updated" times); tests substitute their own.
  std::function<store_time()> clock;
};

// Opens (creating it on first start) DIR/syndic.db in WAL mode and migrates its schema.
// Errors: not_a_store ("DIR/syndic.db: not a syndic store: file is not a database"),
// unwritable, newer_schema (the file's version and this binary's).
store_result<std::unique_ptr<store>> open_sqlite_store(const std::string& dir,
                                                       sqlite_options options = {});

// ---- The PostgreSQL backend ---------------------------------------------------------------
//
// One database shared by several syndic instances (docs/cluster.md). libpq is loaded when the
// first PostgreSQL store opens, not linked: commands that never use it pay nothing for it.

struct postgres_options {
  // The tables live in this schema (created when missing). Tests give each test its own.
  std::string schema = "syndic";
  // Group commit, as for SQLite: a round closes `commit_interval` after its first write was
  // queued or when it holds `commit_max_ops` operations.
  std::chrono::microseconds commit_interval{2'000};
  std::size_t commit_max_ops = 4096;
  std::size_t read_connections = 4;  // pooled; readers beyond wait for one
  // As sqlite_options::max_queued_entries: past it, append() completes at once with `busy`.
  std::size_t max_queued_entries = 100'000;
  std::chrono::milliseconds connect_timeout{5'000};
  // The store's clock for lease expiry and stored times. Empty (the default): the database
  // server's clock judges lease expiry, so that every instance agrees. Tests substitute theirs.
  std::function<store_time()> clock;
};

// True for "postgres://..." and "postgresql://..." (what --store and [store] url take).
bool is_postgres_url(std::string_view url);

// Connects (libpq URL syntax), creates or migrates the schema, starts the writer. Errors name
// the host and what to check ("127.0.0.1:5432: connection refused: is PostgreSQL running and
// listening there?"), or newer_schema.
store_result<std::unique_ptr<store>> open_postgres_store(const std::string& url,
                                                         postgres_options options = {});

// Runs the migrations alone (`syndic store migrate`): the schema version before and after.
struct migration_report {
  int from_version = 0, to_version = 0;
};
store_result<migration_report> migrate_postgres_store(const std::string& url, const std::string& schema = "syndic");

}  // namespace syndic::engine
