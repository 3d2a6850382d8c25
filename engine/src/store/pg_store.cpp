#include "store/pg_store.hpp"

#include "store/pg_apply.hpp"
#include "store/pg_schema.hpp"

#include <algorithm>
#include <future>
#include <map>
#include <random>
#include <unordered_map>

namespace syndic::engine {

store_result<std::unique_ptr<store>> open_postgres_store(const std::string& url, postgres_options options) {
  return pg::open_store(url, std::move(options), {});
}

store_result<migration_report> migrate_postgres_store(const std::string& url, const std::string& schema) {
  store_result<migration_report> r;
  auto db = pg::connection::open(url, std::chrono::milliseconds(5'000));
  if (!db.ok()) {
    r.status = std::move(db.status);
    return r;
  }
  r.status = pg::migrate(*db.value, schema, pg::newest_schema_version(), r.value);
  return r;
}

}  // namespace syndic::engine

namespace syndic::engine::pg {

namespace {

store_result<std::unique_ptr<store>> open_error(store_status s) {
  store_result<std::unique_ptr<store>> r;
  r.status = std::move(s);
  return r;
}

std::int64_t i64(std::uint64_t v) {
  return static_cast<std::int64_t>(std::min<std::uint64_t>(v, std::numeric_limits<std::int64_t>::max()));
}

std::string num(std::int64_t v) { return std::to_string(v); }

std::int64_t micros(std::chrono::milliseconds d) {
  return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
}

// The server's clock, in the stored unit: lease expiry is judged by it, so that instances on
// machines whose clocks differ agree on who holds what.
constexpr const char* server_now_sql = "SELECT (extract(epoch from clock_timestamp()) * 1000000)::bigint";

// A COPY carries at most about this many bytes: a round of 4096 big items is sent in several,
// in one transaction, rather than copied whole into one more buffer.
constexpr std::size_t max_copy_bytes = 64u << 20;

std::string random_tag() {
  std::random_device rd;
  std::uint64_t v = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  char buf[17];
  static const char digits[] = "0123456789abcdef";
  for (int i = 15; i >= 0; --i) {
    buf[i] = digits[v & 15];
    v >>= 4;
  }
  buf[16] = 0;
  return buf;
}

}  // namespace

store_result<std::unique_ptr<store>> open_store(const std::string& url, postgres_options options, test_hooks hooks) {
  if (url.empty()) return open_error({store_errc::invalid_argument, "no PostgreSQL URL given"});
  if (options.schema.empty()) return open_error({store_errc::invalid_argument, "no PostgreSQL schema name given"});
  if (options.commit_max_ops == 0) options.commit_max_ops = 1;
  if (options.read_connections == 0) options.read_connections = 1;
  auto db = connection::open(url, options.connect_timeout);
  if (!db.ok()) return open_error(std::move(db.status));
  migration_report report;
  if (auto s = migrate(*db.value, options.schema, newest_schema_version(), report); !s.ok()) return open_error(s);
  store_result<std::unique_ptr<store>> r;
  r.value = std::make_unique<pg_store>(url, std::move(options), std::move(hooks), std::move(db.value));
  return r;
}

// ---- the store ----------------------------------------------------------------------------

pg_store::pg_store(std::string url, postgres_options options, test_hooks hooks, std::unique_ptr<connection> writer)
    : url_(std::move(url)),
      schema_(ident(options.schema)),
      options_(std::move(options)),
      hooks_(std::move(hooks)),
      writer_db_(std::move(writer)),
      clock_(options_.clock ? options_.clock : [] { return store_clock::now(); }),
      instance_tag_(random_tag()),
      queue_(options_.commit_max_ops, options_.max_queued_entries, options_.commit_interval) {
  where_ = writer_db_->where() + " (schema " + options_.schema + ")";
  applier_ = std::make_unique<applier>(*writer_db_, options_.schema, clock_);
  writer_ = std::thread([this] { writer_loop(); });
}

pg_store::~pg_store() {
  close();
  std::lock_guard lk(readers_mutex_);
  free_readers_.clear();
}

void pg_store::enqueue(queued_write w) { queue_.push(std::move(w), writer_where(), "PostgreSQL"); }

void pg_store::append(append_request request, completion<appended> done) {
  enqueue(queued_write::for_append(std::move(request), std::move(done)));
}

void pg_store::write(std::vector<write_op> ops, std::optional<fence> guard, status_completion done) {
  enqueue(queued_write::for_ops(std::move(ops), std::move(guard), std::move(done)));
}

void pg_store::acquire_lease(std::string name, std::string owner, std::chrono::milliseconds ttl,
                             completion<std::optional<lease>> done) {
  enqueue(queued_write::for_acquire(std::move(name), std::move(owner), ttl, std::move(done)));
}

void pg_store::renew_lease(lease held, std::chrono::milliseconds ttl, completion<std::optional<lease>> done) {
  enqueue(queued_write::for_renew(std::move(held), ttl, std::move(done)));
}

void pg_store::release_lease(lease held, status_completion done) {
  enqueue(queued_write::for_release(std::move(held), std::move(done)));
}

store_status pg_store::flush() {
  if (std::this_thread::get_id() == writer_.get_id()) {
    return {store_errc::invalid_argument, writer_where() + ": flush() called from a completion"};
  }
  std::promise<store_status> p;
  auto f = p.get_future();
  enqueue(queued_write::for_flush([&p](store_status s) { p.set_value(std::move(s)); }));
  return f.get();
}

void pg_store::close() {
  std::lock_guard closing(close_mutex_);
  stopping_ = true;  // before the writer is woken: its retries give up after a bound
  queue_.close();
  // From a completion (on the writer thread) close() only asks: a thread cannot join itself.
  if (writer_.joinable() && std::this_thread::get_id() != writer_.get_id()) {
    writer_.join();
    closed_ = true;
    applier_.reset();
    writer_db_.reset();
  }
}

const std::string& pg_store::writer_where() const { return where_; }

// ---- the writer ---------------------------------------------------------------------------

void pg_store::writer_loop() {
  std::vector<queued_write> batch;
  while (queue_.take(batch)) commit_round(batch);
}

void pg_store::commit_round(std::vector<queued_write>& batch) {
  std::vector<queued_write*> leases, appends, writes;
  for (queued_write& w : batch) {
    switch (w.what) {
      case queued_write::kind::append: appends.push_back(&w); break;
      case queued_write::kind::ops: writes.push_back(&w); break;
      case queued_write::kind::acquire:
      case queued_write::kind::renew:
      case queued_write::kind::release: leases.push_back(&w); break;
      case queued_write::kind::flush: break;
    }
  }
  ++rounds_;
  // The fixed order (see pg_store.hpp): leases, then appends, then data writes.
  if (!leases.empty()) round_leases(leases);
  if (!appends.empty()) round_appends(appends);
  if (!writes.empty()) round_writes(writes);
  // Operations committed: a write refused alone (fenced, invalid) was in a committed
  // transaction too; a write whose transaction failed was not.
  std::size_t applied = 0;
  for (const queued_write& w : batch) {
    if (w.status.ok() || w.status.code == store_errc::fenced || w.status.code == store_errc::invalid_argument)
      applied += w.weight();
  }
  operations_.fetch_add(applied, std::memory_order_relaxed);
  for (queued_write& w : batch) w.complete();
}

void pg_store::backoff(int attempt) {
  const auto delay = std::min(std::chrono::milliseconds(1'000), std::chrono::milliseconds(50 << std::min(attempt, 5)));
  std::this_thread::sleep_for(delay);
}

store_status pg_store::reconnect() {
  // The applier holds the connection: it goes first, and is made again on the new one.
  applier_.reset();
  writer_db_.reset();
  auto c = connection::open(url_, options_.connect_timeout);
  if (!c.ok()) return c.status;
  writer_db_ = std::move(c.value);
  applier_ = std::make_unique<applier>(*writer_db_, options_.schema, clock_);
  return {};
}

store_status pg_store::run_transaction(std::string_view kind, const std::function<store_status()>& body,
                                       const std::function<void()>& after_ambiguous_commit, bool body_begins) {
  // While the store is open a transient failure is waited out: writes wait, they do not fail
  // (a restarted server loses nothing acknowledged, and nothing queued). Once close() is
  // called, the wait is bounded, so that close() returns.
  bool ambiguous = false;  // a COMMIT whose outcome is unknown: say so before running it again
  store_status last;
  for (int attempt = 0;; ++attempt) {
    if (attempt > 0) {
      // One bound for everything still queued at close(), not one per transaction.
      if (stopping_.load() && !give_up_at_) {
        give_up_at_ = std::chrono::steady_clock::now() + std::max<std::chrono::milliseconds>(
                                                             2 * options_.connect_timeout, std::chrono::seconds(5));
      }
      if (give_up_at_ && std::chrono::steady_clock::now() >= *give_up_at_) {
        failed_commits_.fetch_add(1, std::memory_order_relaxed);
        last.message += " (gave up: the store is closing)";
        return last;
      }
      backoff(attempt - 1);
    }
    if (!writer_db_ || writer_db_->broken()) {
      if (give_up_at_ && std::chrono::steady_clock::now() >= *give_up_at_) {
        // Closing, past the bound, and no connection: the rest of the queue fails at once.
        failed_commits_.fetch_add(1, std::memory_order_relaxed);
        if (last.ok()) last = {store_errc::io_error, where_ + ": PostgreSQL could not be reached"};
        last.message += " (gave up: the store is closing)";
        return last;
      }
      if (auto s = reconnect(); !s.ok()) {
        last = std::move(s);
        continue;
      }
    }
    if (ambiguous) {
      // The body runs again knowing it (the appends look for their batch under the log_head
      // lock, which the first try held until it committed or aborted).
      if (after_ambiguous_commit) after_ambiguous_commit();
      ambiguous = false;
    }
    commit_prefix_.clear();
    if (!body_begins) {
      if (auto s = writer_db_->exec("BEGIN"); !s.ok()) {
        last = std::move(s);
        if (writer_db_->transient()) continue;
        failed_commits_.fetch_add(1, std::memory_order_relaxed);
        return last;
      }
    }
    if (auto s = body(); !s.ok()) {
      last = std::move(s);
      const bool transient = writer_db_->transient();
      if (!writer_db_->broken()) writer_db_->exec("ROLLBACK");
      if (transient) continue;
      failed_commits_.fetch_add(1, std::memory_order_relaxed);
      return last;
    }
    if (hooks_.before_commit) hooks_.before_commit(kind);
    const auto t0 = std::chrono::steady_clock::now();
    // Under load every round trip waits for the server's process to be scheduled: what the
    // body left for the end goes in the COMMIT's message.
    store_status s = writer_db_->exec(commit_prefix_.empty() ? std::string("COMMIT") : commit_prefix_ + "; COMMIT");
    commit_prefix_.clear();
    if (s.ok()) {
      last_commit_us_.store(
          std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count(),
          std::memory_order_relaxed);
      transactions_.fetch_add(1, std::memory_order_relaxed);
      return {};
    }
    last = std::move(s);
    if (writer_db_->broken()) {
      ambiguous = true;
      continue;
    }
    if (!writer_db_->transient()) {
      writer_db_->exec("ROLLBACK");
      failed_commits_.fetch_add(1, std::memory_order_relaxed);
      return last;
    }
  }
}

// ---- leases -------------------------------------------------------------------------------

void pg_store::round_leases(std::vector<queued_write*>& writes) {
  // By name (stable: one lease's calls keep their queue order), so that two instances never
  // wait for each other's lease rows in opposite orders.
  auto name_of = [](const queued_write* w) -> const std::string& {
    return w->what == queued_write::kind::acquire ? w->name : w->held.name;
  };
  std::stable_sort(writes.begin(), writes.end(),
                   [&](const queued_write* a, const queued_write* b) { return name_of(a) < name_of(b); });
  const std::string acquire_sql =
      "INSERT INTO " + schema_ + ".leases AS l (name, owner, token, expires) VALUES ($1::text, $2::text, 1, "
      "$3::bigint + $4::bigint) ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires = excluded.expires, "
      "token = CASE WHEN l.owner <> '' AND l.expires > $3::bigint THEN l.token ELSE l.token + 1 END "
      "WHERE l.owner = excluded.owner OR l.owner = '' OR l.expires <= $3::bigint RETURNING token, expires";
  const std::string renew_sql = "UPDATE " + schema_ +
                                ".leases SET expires = $4::bigint + $5::bigint WHERE name = $1::text AND "
                                "owner = $2::text AND token = $3::bigint AND expires > $4::bigint RETURNING expires";
  const std::string release_sql = "UPDATE " + schema_ +
                                  ".leases SET owner = '', expires = 0 WHERE name = $1::text AND owner = $2::text "
                                  "AND token = $3::bigint";
  // Renewals of leases named once in the round (a coordinator renews all its partitions at
  // once) go in one statement; the other calls one by one, in name order.
  const std::string lock_sql =
      "SELECT name FROM " + schema_ + ".leases WHERE name = ANY($1::text[]) ORDER BY name FOR UPDATE";
  const std::string renew_many_sql =
      "UPDATE " + schema_ + ".leases AS l SET expires = $5::bigint + u.ttl FROM unnest($1::text[], $2::text[], "
      "$3::bigint[], $4::bigint[]) WITH ORDINALITY AS u(name, owner, token, ttl, n) WHERE l.name = u.name AND "
      "l.owner = u.owner AND l.token = u.token AND l.expires > $5::bigint RETURNING u.n, l.expires";
  std::vector<bool> batched(writes.size(), false);
  std::vector<std::size_t> renewals;
  for (std::size_t i = 0; i < writes.size(); ++i) {
    const bool alone = (i == 0 || name_of(writes[i - 1]) != name_of(writes[i])) &&
                       (i + 1 == writes.size() || name_of(writes[i + 1]) != name_of(writes[i]));
    if (alone && writes[i]->what == queued_write::kind::renew) {
      batched[i] = true;
      renewals.push_back(i);
    }
  }
  auto body = [&]() -> store_status {
    for (queued_write* w : writes) {
      w->status = {};
      w->lease_value.reset();
    }
    if (writes.size() > 1) {
      // Every row the round touches, locked in name order before any is written: what every
      // instance does, so lease rounds never wait for each other in a cycle.
      std::vector<std::string> names;
      for (queued_write* w : writes) names.push_back(valid_text(name_of(w)));
      auto r = writer_db_->query(lock_sql, {array_literal(names)});
      if (!r.ok()) return r.status;
    }
    // The time is read once the rows are ours: a wait for another instance's fenced writes
    // to commit does not age it.
    std::int64_t now = 0;
    if (options_.clock) {
      now = to_micros(options_.clock());
    } else {
      auto r = writer_db_->query(server_now_sql, {});
      if (!r.ok()) return r.status;
      now = r.value.int64(0, 0);
    }
    if (!renewals.empty()) {
      std::vector<std::string> names, owners;
      std::vector<std::int64_t> tokens, ttls;
      for (std::size_t i : renewals) {
        names.push_back(valid_text(writes[i]->held.name));
        owners.push_back(valid_text(writes[i]->held.owner));
        tokens.push_back(i64(writes[i]->held.token));
        ttls.push_back(micros(writes[i]->ttl));
      }
      auto r = writer_db_->query(renew_many_sql, {array_literal(names), array_literal(owners), array_literal(tokens),
                                                  array_literal(ttls), num(now)});
      if (!r.ok()) return r.status;
      for (int row = 0; row < r.value.rows(); ++row) {
        const auto n = static_cast<std::size_t>(r.value.int64(row, 0));
        if (n < 1 || n > renewals.size()) continue;
        queued_write* w = writes[renewals[n - 1]];
        w->lease_value = lease{w->held.name, w->held.owner, w->held.token, from_micros(r.value.int64(row, 1))};
      }
    }
    for (std::size_t i = 0; i < writes.size(); ++i) {
      if (batched[i]) continue;
      queued_write* w = writes[i];
      switch (w->what) {
        case queued_write::kind::acquire: {
          if (w->name.empty() || w->owner.empty()) break;
          const std::string name = valid_text(w->name), owner = valid_text(w->owner);
          auto r = writer_db_->query(acquire_sql, {name, owner, num(now), num(micros(w->ttl))});
          if (!r.ok()) return r.status;
          if (r.value.rows() == 1) {
            w->lease_value = lease{w->name, w->owner, static_cast<std::uint64_t>(r.value.int64(0, 0)),
                                   from_micros(r.value.int64(0, 1))};
          }
          break;
        }
        case queued_write::kind::renew: {
          auto r = writer_db_->query(renew_sql, {valid_text(w->held.name), valid_text(w->held.owner),
                                                 num(i64(w->held.token)), num(now), num(micros(w->ttl))});
          if (!r.ok()) return r.status;
          if (r.value.rows() == 1) {
            w->lease_value = lease{w->held.name, w->held.owner, w->held.token, from_micros(r.value.int64(0, 0))};
          }
          break;
        }
        case queued_write::kind::release: {
          auto r = writer_db_->query(release_sql,
                                     {valid_text(w->held.name), valid_text(w->held.owner), num(i64(w->held.token))});
          if (!r.ok()) return r.status;
          break;
        }
        default: break;
      }
    }
    return {};
  };
  // Each call is idempotent for its caller (a holder's acquire keeps its token, renew and
  // release match the token): after a COMMIT of unknown outcome they simply run again.
  store_status s = run_transaction("leases", body);
  if (!s.ok()) {
    for (queued_write* w : writes) {
      w->status = s;
      w->lease_value.reset();
    }
  }
}

// ---- appends ------------------------------------------------------------------------------

store_status pg_store::appends_body(std::vector<queued_write*>& writes, const std::string& batch_id,
                                    bool after_ambiguous_commit) {
  // The log's one appender at a time: every instance's appending transaction waits here for
  // the one before to commit, so seqs commit in order and without gaps (pg_schema.cpp).
  // BEGIN goes with it: one round trip.
  auto h = writer_db_->exec_result("BEGIN; SELECT seq FROM " + schema_ + ".log_head WHERE id = 1 FOR UPDATE");
  if (!h.ok()) return h.status;
  if (h.value.rows() != 1) return {store_errc::not_a_store, writer_db_->where() + ": the log_head row is missing"};
  const std::int64_t head = h.value.int64(0, 0);
  if (after_ambiguous_commit) {
    // The connection died during this group's COMMIT. Its transaction held this lock until it
    // ended, so now it is over: if it committed, its batch row is there, and the seqs found
    // by that try (still in the writes) are the answer; nothing is appended again.
    auto b = writer_db_->query("SELECT 1 FROM " + schema_ + ".append_batches WHERE batch = $1::text", {batch_id});
    if (!b.ok()) return b.status;
    if (b.value.rows() == 1) return {};
  }
  for (queued_write* w : writes) {
    w->status = {};
    w->appended_value = {};
  }

  // Idempotency keys: those already in the log, then those given earlier in this round.
  std::unordered_map<std::string, std::vector<seq_t>> keys;
  {
    std::vector<std::string> wanted;
    for (queued_write* w : writes) {
      if (!w->append.idempotency_key.empty()) wanted.push_back(valid_text(w->append.idempotency_key));
    }
    if (!wanted.empty()) {
      auto r = writer_db_->query("SELECT idem_key, seq FROM " + schema_ +
                                     ".log WHERE idem_key = ANY($1::text[]) ORDER BY seq",
                                 {array_literal(wanted)});
      if (!r.ok()) return r.status;
      for (int i = 0; i < r.value.rows(); ++i)
        keys[std::string(r.value.text(i, 0))].push_back(static_cast<seq_t>(r.value.int64(i, 1)));
    }
  }

  // The rows go in by COPY (binary): the fastest way in, several times a multi-row INSERT's
  // rate for 1 KiB items; their seqs are the ones given here, under the head's lock.
  const std::string copy_sql = "COPY " + schema_ +
                               ".log (seq, item_id, source, channel, content_type, payload, received, idem_key) "
                               "FROM STDIN (FORMAT binary)";
  std::optional<binary_copy> rows;
  rows.emplace();
  std::int64_t next = head;  // the last seq given
  auto flush_chunk = [&]() -> store_status {
    if (rows->rows() == 0) return {};
    if (auto s = writer_db_->copy_in(copy_sql, rows->finish()); !s.ok()) return s;
    rows.emplace();
    return {};
  };
  for (queued_write* w : writes) {
    const append_request& a = w->append;
    std::optional<std::string> key;
    if (!a.idempotency_key.empty()) {
      key = valid_text(a.idempotency_key);
      if (auto it = keys.find(*key); it != keys.end()) {
        w->appended_value.seqs = it->second;
        w->appended_value.duplicate = true;
        continue;
      }
    }
    w->appended_value.seqs.reserve(a.entries.size());
    for (const log_entry& e : a.entries) {
      if (rows->rows() > 0 && rows->size() + e.payload.size() > max_copy_bytes) {
        if (auto s = flush_chunk(); !s.ok()) return s;
      }
      ++next;
      w->appended_value.seqs.push_back(static_cast<seq_t>(next));
      rows->row(8);
      rows->int8(next);
      rows->text(e.item_id);
      rows->text(e.source);
      rows->text(e.channel);
      rows->text(e.content_type);
      rows->bytes(e.payload);
      rows->int8(to_micros(e.received));
      if (key) rows->text(*key);
      else rows->null();
    }
    if (key && !a.entries.empty()) keys[*key] = w->appended_value.seqs;
  }
  if (auto s = flush_chunk(); !s.ok()) return s;
  if (next == head) return {};  // nothing new: duplicates or empty appends only

  // The head moves, and the batch is recorded (for a COMMIT whose outcome is unknown), in one
  // statement sent with the COMMIT (values inlined: numbers, and a batch id of hex digits,
  // '-' and digits). Old batch records go now and then (they matter for seconds).
  const std::string now = num(to_micros(store_clock::now()));
  std::string tail = "WITH h AS (UPDATE " + schema_ + ".log_head SET seq = " + num(next) + " WHERE id = 1) ";
  if (rounds_ % 256 == 0)
    tail += ", d AS (DELETE FROM " + schema_ + ".append_batches WHERE at < " + now + " - 600000000) ";
  tail += "INSERT INTO " + schema_ + ".append_batches (batch, first, last, at) VALUES ('" + batch_id + "', " +
          num(head + 1) + ", " + num(next) + ", " + now + ")";
  commit_prefix_ = std::move(tail);
  return {};
}

void pg_store::round_appends(std::vector<queued_write*>& writes) {
  auto run = [this](std::vector<queued_write*>& group) {
    const std::string batch_id = instance_tag_ + "-" + std::to_string(++batch_counter_);
    bool recheck = false;
    return run_transaction("appends", [&] { return appends_body(group, batch_id, recheck); },
                           [&] { recheck = true; }, true);
  };
  store_status s = run(writes);
  if (s.ok()) return;
  if (writes.size() > 1 && !stopping_.load()) {
    // A failure that is not transient (a value PostgreSQL refuses): each append again on its
    // own, so that one bad request fails alone rather than its whole group.
    for (queued_write* w : writes) {
      std::vector<queued_write*> one{w};
      if (store_status s1 = run(one); !s1.ok()) {
        w->status = std::move(s1);
        w->appended_value = {};
      }
    }
    return;
  }
  for (queued_write* w : writes) {
    w->status = s;
    w->appended_value = {};
  }
}

// ---- data writes --------------------------------------------------------------------------

store_status pg_store::writes_body(std::vector<queued_write*>& writes) {
  applier_->reset();
  for (queued_write* w : writes) w->status = {};
  // Fences first: the lease rows are held FOR SHARE until COMMIT, so no takeover can commit
  // between the check and the writes; by name, as every instance takes them.
  std::map<std::string, std::optional<std::int64_t>> tokens;
  for (queued_write* w : writes) {
    if (w->guard) tokens.emplace(w->guard->lease, std::nullopt);
  }
  if (!tokens.empty()) {
    std::vector<std::string> names;
    for (const auto& [name, _] : tokens) names.push_back(valid_text(name));
    auto r = writer_db_->query("SELECT name, token FROM " + schema_ +
                                   ".leases WHERE name = ANY($1::text[]) ORDER BY name FOR SHARE",
                               {array_literal(names)});
    if (!r.ok()) return r.status;
    std::unordered_map<std::string, std::int64_t> found;
    for (int i = 0; i < r.value.rows(); ++i) found[std::string(r.value.text(i, 0))] = r.value.int64(i, 1);
    for (auto& [name, token] : tokens) {
      if (auto it = found.find(valid_text(name)); it != found.end()) token = it->second;
    }
  }
  for (queued_write* w : writes) {
    if (w->guard) {
      const auto& token = tokens[w->guard->lease];
      if (!token || static_cast<std::uint64_t>(*token) != w->guard->token) {
        w->status = {store_errc::fenced, writer_db_->where() + ": write fenced: lease '" + w->guard->lease +
                                             "' has token " + (token ? std::to_string(*token) : std::string("none")) +
                                             ", the write carries " + std::to_string(w->guard->token)};
        continue;
      }
    }
    if (auto s = applier_->ops(w->ops, w->status); !s.ok()) return s;
  }
  return applier_->flush();
}

void pg_store::round_writes(std::vector<queued_write*>& writes) {
  store_status s = run_transaction("writes", [&] { return writes_body(writes); });
  if (applier_) applier_->reset();
  if (!s.ok()) {
    for (queued_write* w : writes) w->status = s;
  }
}

store_stats pg_store::stats() const {
  store_stats s;
  s.transactions = transactions_.load(std::memory_order_relaxed);
  s.operations = operations_.load(std::memory_order_relaxed);
  s.failed_commits = failed_commits_.load(std::memory_order_relaxed);
  s.queued = queue_.size();
  s.last_commit = std::chrono::microseconds(last_commit_us_.load(std::memory_order_relaxed));
  return s;
}

}  // namespace syndic::engine::pg
