// The PostgreSQL store's reads: each on a connection of the reader pool, so they never wait for
// the writer (a statement sees what was committed when it started: every write whose
// completion has run).

#include "store/pg_apply.hpp"
#include "store/pg_store.hpp"

#include <algorithm>
#include <limits>

namespace syndic::engine::pg {
namespace {

std::string num(std::uint64_t v) {
  return std::to_string(std::min<std::uint64_t>(v, std::numeric_limits<std::int64_t>::max()));
}

template <class T>
store_result<T> failed(store_status s) {
  store_result<T> r;
  r.status = std::move(s);
  return r;
}

// The columns of a log_record, in this order. Records are read with binary results: payloads
// come as their bytes, not hex (half the bytes, no encoding on either side).
#define SYNDIC_PG_RECORD_COLUMNS "seq, item_id, source, channel, content_type, payload, received, coalesce(idem_key, '')"

log_record record_of(const result& r, int i) {
  log_record e;
  e.seq = static_cast<seq_t>(r.int64(i, 0));
  e.item_id = r.text(i, 1);
  e.source = r.text(i, 2);
  e.channel = r.text(i, 3);
  e.content_type = r.text(i, 4);
  e.payload = r.bytea(i, 5);
  e.received = from_micros(r.int64(i, 6));
  e.idempotency_key = r.text(i, 7);
  return e;
}

lease lease_of(const result& r, int i) {
  return lease{std::string(r.text(i, 0)), std::string(r.text(i, 1)), static_cast<std::uint64_t>(r.int64(i, 2)),
               from_micros(r.int64(i, 3))};
}

}  // namespace

template <class T, class F>
store_result<T> pg_store::with_reader(F&& f) {
  if (closed_.load()) return failed<T>({store_errc::closed, where_ + ": the store is closed"});
  std::unique_ptr<connection> c;
  {
    std::unique_lock lk(readers_mutex_);
    reader_free_.wait(lk, [&] { return !free_readers_.empty() || readers_open_ < options_.read_connections; });
    if (!free_readers_.empty()) {
      c = std::move(free_readers_.back());
      free_readers_.pop_back();
    } else {
      ++readers_open_;
    }
  }
  auto give_back = [&](std::unique_ptr<connection> conn) {
    {
      std::lock_guard lk(readers_mutex_);
      if (conn) free_readers_.push_back(std::move(conn));
      else --readers_open_;
    }
    reader_free_.notify_one();
  };
  store_result<T> r;
  // A pooled connection may have died since its last use (a server restart): one more try,
  // on a new connection, before the read fails.
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!c || c->broken()) {
      auto opened = connection::open(url_, options_.connect_timeout);
      if (!opened.ok()) {
        give_back(nullptr);
        return failed<T>(std::move(opened.status));
      }
      c = std::move(opened.value);
    }
    r = f(*c);
    if (r.ok() || !c->broken()) break;
  }
  give_back(c->broken() ? nullptr : std::move(c));
  return r;
}

store_result<seq_t> pg_store::head() {
  return with_reader<seq_t>([&](connection& c) -> store_result<seq_t> {
    auto q = c.query("SELECT seq FROM " + schema_ + ".log_head WHERE id = 1", {});
    if (!q.ok()) return failed<seq_t>(q.status);
    store_result<seq_t> r;
    if (q.value.rows() == 1) r.value = static_cast<seq_t>(q.value.int64(0, 0));
    return r;
  });
}

store_result<std::vector<log_record>> pg_store::read(seq_t from, std::size_t max_records, std::size_t max_bytes) {
  using R = std::vector<log_record>;
  return with_reader<R>([&](connection& c) -> store_result<R> {
    store_result<R> r;
    if (max_records == 0) return r;
    // Records while the payload bytes before them stay under max_bytes (so at least one when
    // max_bytes > 0), counted by the server: nothing past the limit crosses the wire.
    auto q = c.query("SELECT " SYNDIC_PG_RECORD_COLUMNS " FROM (SELECT *, coalesce(sum(octet_length(payload)) "
                     "OVER (ORDER BY seq ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before FROM " +
                         schema_ +
                         ".log WHERE seq >= $1::bigint ORDER BY seq LIMIT $2::bigint) t "
                         "WHERE before < $3::bigint ORDER BY seq",
                     {num(from), num(max_records), num(max_bytes)}, {}, true);
    if (!q.ok()) return failed<R>(q.status);
    r.value.reserve(static_cast<std::size_t>(q.value.rows()));
    for (int i = 0; i < q.value.rows(); ++i) r.value.push_back(record_of(q.value, i));
    return r;
  });
}

store_result<std::optional<log_record>> pg_store::get(seq_t seq) {
  using R = std::optional<log_record>;
  return with_reader<R>([&](connection& c) -> store_result<R> {
    auto q = c.query("SELECT " SYNDIC_PG_RECORD_COLUMNS " FROM " + schema_ + ".log WHERE seq = $1::bigint", {num(seq)}, {}, true);
    if (!q.ok()) return failed<R>(q.status);
    store_result<R> r;
    if (q.value.rows() == 1) r.value = record_of(q.value, 0);
    return r;
  });
}

store_result<std::vector<log_record>> pg_store::latest(std::string_view channel, std::size_t n) {
  using R = std::vector<log_record>;
  return with_reader<R>([&](connection& c) -> store_result<R> {
    auto q = c.query("SELECT " SYNDIC_PG_RECORD_COLUMNS " FROM " + schema_ +
                         ".log WHERE channel = $1::text ORDER BY seq DESC LIMIT $2::bigint",
                     {valid_text(channel), num(n)}, {}, true);
    if (!q.ok()) return failed<R>(q.status);
    store_result<R> r;
    for (int i = 0; i < q.value.rows(); ++i) r.value.push_back(record_of(q.value, i));
    return r;
  });
}

store_result<std::optional<std::vector<seq_t>>> pg_store::lookup_idempotency(std::string_view key) {
  using R = std::optional<std::vector<seq_t>>;
  return with_reader<R>([&](connection& c) -> store_result<R> {
    store_result<R> r;
    if (key.empty()) return r;
    auto q = c.query("SELECT seq FROM " + schema_ + ".log WHERE idem_key = $1::text ORDER BY seq", {valid_text(key)});
    if (!q.ok()) return failed<R>(q.status);
    if (q.value.rows() > 0) {
      r.value.emplace();
      for (int i = 0; i < q.value.rows(); ++i) r.value->push_back(static_cast<seq_t>(q.value.int64(i, 0)));
    }
    return r;
  });
}

store_result<std::vector<stored_outlet>> pg_store::outlets() {
  using R = std::vector<stored_outlet>;
  return with_reader<R>([&](connection& c) -> store_result<R> {
    auto q = c.query("SELECT id, config, updated FROM " + schema_ + ".outlets ORDER BY id", {});
    if (!q.ok()) return failed<R>(q.status);
    store_result<R> r;
    for (int i = 0; i < q.value.rows(); ++i)
      r.value.push_back({std::string(q.value.text(i, 0)), q.value.bytea(i, 1), from_micros(q.value.int64(i, 2))});
    return r;
  });
}

store_result<std::optional<stored_outlet>> pg_store::outlet(std::string_view id) {
  using R = std::optional<stored_outlet>;
  return with_reader<R>([&](connection& c) -> store_result<R> {
    auto q = c.query("SELECT id, config, updated FROM " + schema_ + ".outlets WHERE id = $1::text", {valid_text(id)});
    if (!q.ok()) return failed<R>(q.status);
    store_result<R> r;
    if (q.value.rows() == 1)
      r.value = stored_outlet{std::string(q.value.text(0, 0)), q.value.bytea(0, 1), from_micros(q.value.int64(0, 2))};
    return r;
  });
}

store_result<std::optional<progress_summary>> pg_store::progress(std::string_view outlet) {
  using R = std::optional<progress_summary>;
  return with_reader<R>([&](connection& c) { return read_progress(c, options_.schema, outlet); });
}

store_result<std::vector<progress_summary>> pg_store::all_progress() {
  using R = std::vector<progress_summary>;
  return with_reader<R>([&](connection& c) { return read_all_progress(c, options_.schema); });
}

store_result<std::vector<seq_range>> pg_store::done_above(std::string_view outlet, seq_t after, std::size_t limit) {
  using R = std::vector<seq_range>;
  return with_reader<R>([&](connection& c) { return read_done_above(c, options_.schema, outlet, after, limit); });
}

store_result<std::vector<retry_entry>> pg_store::retries(std::string_view outlet, seq_t after, std::size_t limit) {
  using R = std::vector<retry_entry>;
  return with_reader<R>([&](connection& c) { return read_retries(c, options_.schema, outlet, after, limit); });
}

store_result<std::vector<dead_letter>> pg_store::dead_letters(std::string_view outlet, seq_t after,
                                                              std::size_t limit) {
  using R = std::vector<dead_letter>;
  return with_reader<R>([&](connection& c) { return read_dead_letters(c, options_.schema, outlet, after, limit); });
}

store_result<std::optional<std::string>> pg_store::kv_get(std::string_view ns, std::string_view key) {
  using R = std::optional<std::string>;
  return with_reader<R>([&](connection& c) -> store_result<R> {
    auto q = c.query("SELECT value FROM " + schema_ + ".kv WHERE ns = $1::text AND key = $2::text",
                     {valid_text(ns), valid_text(key)});
    if (!q.ok()) return failed<R>(q.status);
    store_result<R> r;
    if (q.value.rows() == 1) r.value = q.value.bytea(0, 0);
    return r;
  });
}

store_result<std::vector<kv_entry>> pg_store::kv_list(std::string_view ns, std::string_view after_key,
                                                      std::size_t limit) {
  using R = std::vector<kv_entry>;
  return with_reader<R>([&](connection& c) -> store_result<R> {
    auto q = c.query("SELECT ns, key, value, updated FROM " + schema_ +
                         ".kv WHERE ns = $1::text AND key > $2::text ORDER BY key LIMIT $3::bigint",
                     {valid_text(ns), valid_text(after_key), num(limit)});
    if (!q.ok()) return failed<R>(q.status);
    store_result<R> r;
    for (int i = 0; i < q.value.rows(); ++i) {
      r.value.push_back({std::string(q.value.text(i, 0)), std::string(q.value.text(i, 1)), q.value.bytea(i, 2),
                         from_micros(q.value.int64(i, 3))});
    }
    return r;
  });
}

store_result<std::vector<subscription>> pg_store::subscriptions(std::string_view topic) {
  using R = std::vector<subscription>;
  return with_reader<R>([&](connection& c) -> store_result<R> {
    auto q = c.query("SELECT topic, callback, secret, lease_expiry, created FROM " + schema_ +
                         ".subscriptions WHERE $1::text = '' OR topic = $1::text ORDER BY topic, callback",
                     {valid_text(topic)});
    if (!q.ok()) return failed<R>(q.status);
    store_result<R> r;
    for (int i = 0; i < q.value.rows(); ++i) {
      r.value.push_back({std::string(q.value.text(i, 0)), std::string(q.value.text(i, 1)),
                         std::string(q.value.text(i, 2)), from_micros(q.value.int64(i, 3)),
                         from_micros(q.value.int64(i, 4))});
    }
    return r;
  });
}

store_result<std::optional<lease>> pg_store::get_lease(std::string_view name) {
  using R = std::optional<lease>;
  return with_reader<R>([&](connection& c) -> store_result<R> {
    auto q = c.query("SELECT name, owner, token, expires FROM " + schema_ + ".leases WHERE name = $1::text",
                     {valid_text(name)});
    if (!q.ok()) return failed<R>(q.status);
    store_result<R> r;
    if (q.value.rows() == 1) r.value = lease_of(q.value, 0);
    return r;
  });
}

store_result<std::vector<lease>> pg_store::leases(std::string_view prefix) {
  using R = std::vector<lease>;
  return with_reader<R>([&](connection& c) -> store_result<R> {
    // A range on the key, then the prefix compared as bytes: no LIKE, so '%' and '_' in a
    // prefix are plain text.
    auto q = c.query("SELECT name, owner, token, expires FROM " + schema_ +
                         ".leases WHERE name >= $1::text AND substring(name FOR char_length($1::text)) = $1::text "
                         "ORDER BY name",
                     {valid_text(prefix)});
    if (!q.ok()) return failed<R>(q.status);
    store_result<R> r;
    for (int i = 0; i < q.value.rows(); ++i) r.value.push_back(lease_of(q.value, i));
    return r;
  });
}

}  // namespace syndic::engine::pg
