// The SQLite store's reads: each on a connection of the reader pool, so they never wait for
// the writer (WAL: a reader sees the last commit made before its statement started).

#include "store/sqlite_store.hpp"

#include <algorithm>
#include <limits>

namespace syndic::engine::sqlite {
namespace {

std::int64_t i64(std::uint64_t v) {
  return static_cast<std::int64_t>(std::min<std::uint64_t>(v, std::numeric_limits<std::int64_t>::max()));
}

template <class T>
store_result<T> fail(connection& c, std::string_view what, int rc) {
  store_result<T> r;
  r.status = c.failure(what, rc);
  return r;
}

// The columns of a log_record, in the order of SYNDIC_RECORD_COLUMNS.
#define SYNDIC_RECORD_COLUMNS \
  "seq, item_id, source, channel, content_type, payload, received, coalesce(idem_key, '')"

log_record record_of(const statement& st) {
  log_record r;
  r.seq = static_cast<seq_t>(st.int64(0));
  r.item_id = st.text(1);
  r.source = st.text(2);
  r.channel = st.text(3);
  r.content_type = st.text(4);
  r.payload = st.text(5);
  r.received = from_micros(st.int64(6));
  r.idempotency_key = st.text(7);
  return r;
}

#define SYNDIC_PROGRESS_COLUMNS                                                                   \
  "p.outlet, p.cursor, p.circuit, p.failures, p.circuit_since, p.probe_at, p.last_error, "        \
  "p.last_error_at, "                                                                             \
  "(SELECT coalesce(sum(last - first + 1), 0) FROM done_ranges d WHERE d.outlet = p.outlet), "    \
  "(SELECT count(*) FROM retries r WHERE r.outlet = p.outlet), "                                  \
  "(SELECT count(*) FROM dead_letters x WHERE x.outlet = p.outlet)"

progress_summary summary_of(const statement& st) {
  progress_summary p;
  p.outlet = st.text(0);
  p.cursor = static_cast<seq_t>(st.int64(1));
  p.circuit.mode = static_cast<circuit_mode>(st.int64(2));
  p.circuit.failures = static_cast<std::uint32_t>(st.int64(3));
  p.circuit.since = from_micros(st.int64(4));
  p.circuit.probe_at = from_micros(st.int64(5));
  p.last_error = st.text(6);
  p.last_error_at = from_micros(st.int64(7));
  p.done_above = static_cast<std::size_t>(st.int64(8));
  p.retries = static_cast<std::size_t>(st.int64(9));
  p.dead_letters = static_cast<std::size_t>(st.int64(10));
  return p;
}

stored_outlet outlet_of(const statement& st) {
  return {st.text(0), st.text(1), from_micros(st.int64(2))};
}

subscription subscription_of(const statement& st) {
  return {st.text(0), st.text(1), st.text(2), from_micros(st.int64(3)), from_micros(st.int64(4))};
}

}  // namespace

template <class T, class F>
store_result<T> sqlite_store::with_reader(F&& f) {
  if (closed_.load()) {
    store_result<T> r;
    r.status = {store_errc::closed, path_ + ": the store is closed"};
    return r;
  }
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
  if (!c) {
    c = std::make_unique<connection>();
    if (auto s = open_reader(*c); !s.ok()) {
      {
        std::lock_guard lk(readers_mutex_);
        --readers_open_;
      }
      reader_free_.notify_one();
      store_result<T> r;
      r.status = std::move(s);
      return r;
    }
  }
  store_result<T> r = f(*c);
  {
    std::lock_guard lk(readers_mutex_);
    free_readers_.push_back(std::move(c));
  }
  reader_free_.notify_one();
  return r;
}

store_result<seq_t> sqlite_store::head() {
  return with_reader<seq_t>([](connection& c) -> store_result<seq_t> {
    auto st = c.prepare("SELECT coalesce(max(seq), 0) FROM items");
    store_result<seq_t> r;
    if (st.step()) r.value = static_cast<seq_t>(st.int64(0));
    if (st.failed()) return fail<seq_t>(c, "reading the log's head", st.rc());
    return r;
  });
}

store_result<std::vector<log_record>> sqlite_store::read(seq_t from, std::size_t max_records,
                                                         std::size_t max_bytes) {
  using R = std::vector<log_record>;
  return with_reader<R>([&](connection& c) -> store_result<R> {
    store_result<R> r;
    if (max_records == 0) return r;
    auto st = c.prepare("SELECT " SYNDIC_RECORD_COLUMNS " FROM items WHERE seq >= ?1 ORDER BY seq LIMIT ?2");
    st.bind(1, i64(from)).bind(2, i64(max_records));
    std::size_t bytes = 0;
    while (bytes < max_bytes && st.step()) {
      r.value.push_back(record_of(st));
      bytes += r.value.back().payload.size();
    }
    if (st.failed()) return fail<R>(c, "reading the log", st.rc());
    return r;
  });
}

store_result<std::optional<log_record>> sqlite_store::get(seq_t seq) {
  using R = std::optional<log_record>;
  return with_reader<R>([&](connection& c) -> store_result<R> {
    store_result<R> r;
    auto st = c.prepare("SELECT " SYNDIC_RECORD_COLUMNS " FROM items WHERE seq = ?1");
    st.bind(1, i64(seq));
    if (st.step()) r.value = record_of(st);
    if (st.failed()) return fail<R>(c, "reading the log", st.rc());
    return r;
  });
}

store_result<std::vector<log_record>> sqlite_store::latest(std::string_view channel, std::size_t n) {
  using R = std::vector<log_record>;
  return with_reader<R>([&](connection& c) -> store_result<R> {
    store_result<R> r;
    auto st = c.prepare("SELECT " SYNDIC_RECORD_COLUMNS
                        " FROM items WHERE channel = ?1 ORDER BY seq DESC LIMIT ?2");
    st.bind(1, channel).bind(2, i64(n));
    while (st.step()) r.value.push_back(record_of(st));
    if (st.failed()) return fail<R>(c, "reading a channel", st.rc());
    return r;
  });
}

store_result<std::optional<std::vector<seq_t>>> sqlite_store::lookup_idempotency(std::string_view key) {
  using R = std::optional<std::vector<seq_t>>;
  return with_reader<R>([&](connection& c) -> store_result<R> {
    store_result<R> r;
    if (key.empty()) return r;
    auto st = c.prepare("SELECT seq FROM items WHERE idem_key = ?1 ORDER BY seq");
    st.bind(1, key);
    std::vector<seq_t> seqs;
    while (st.step()) seqs.push_back(static_cast<seq_t>(st.int64(0)));
    if (st.failed()) return fail<R>(c, "looking up an idempotency key", st.rc());
    if (!seqs.empty()) r.value = std::move(seqs);
    return r;
  });
}

store_result<std::vector<stored_outlet>> sqlite_store::outlets() {
  using R = std::vector<stored_outlet>;
  return with_reader<R>([&](connection& c) -> store_result<R> {
    store_result<R> r;
    auto st = c.prepare("SELECT id, config, updated FROM outlets ORDER BY id");
    while (st.step()) r.value.push_back(outlet_of(st));
    if (st.failed()) return fail<R>(c, "reading outlets", st.rc());
    return r;
  });
}

store_result<std::optional<stored_outlet>> sqlite_store::outlet(std::string_view id) {
  using R = std::optional<stored_outlet>;
  return with_reader<R>([&](connection& c) -> store_result<R> {
    store_result<R> r;
    auto st = c.prepare("SELECT id, config, updated FROM outlets WHERE id = ?1");
    st.bind(1, id);
    if (st.step()) r.value = outlet_of(st);
    if (st.failed()) return fail<R>(c, "reading an outlet", st.rc());
    return r;
  });
}

store_result<std::optional<progress_summary>> sqlite_store::progress(std::string_view outlet) {
  using R = std::optional<progress_summary>;
  return with_reader<R>([&](connection& c) -> store_result<R> {
    store_result<R> r;
    // One statement: the cursor and the counts come from one snapshot.
    auto st = c.prepare("SELECT " SYNDIC_PROGRESS_COLUMNS " FROM progress p WHERE p.outlet = ?1");
    st.bind(1, outlet);
    if (st.step()) r.value = summary_of(st);
    if (st.failed()) return fail<R>(c, "reading an outlet's progress", st.rc());
    return r;
  });
}

store_result<std::vector<progress_summary>> sqlite_store::all_progress() {
  using R = std::vector<progress_summary>;
  return with_reader<R>([&](connection& c) -> store_result<R> {
    store_result<R> r;
    auto st = c.prepare("SELECT " SYNDIC_PROGRESS_COLUMNS " FROM progress p ORDER BY p.outlet");
    while (st.step()) r.value.push_back(summary_of(st));
    if (st.failed()) return fail<R>(c, "reading outlets' progress", st.rc());
    return r;
  });
}

store_result<std::vector<seq_range>> sqlite_store::done_above(std::string_view outlet, seq_t after,
                                                              std::size_t limit) {
  using R = std::vector<seq_range>;
  return with_reader<R>([&](connection& c) -> store_result<R> {
    store_result<R> r;
    // Ranges are disjoint: the one holding `after` (if any) starts at the greatest first <=
    // after, and every later one starts above; both found through the primary key.
    auto st = c.prepare(
        "SELECT first, last FROM done_ranges WHERE outlet = ?1 AND first >= "
        "(SELECT coalesce(max(first), 0) FROM done_ranges WHERE outlet = ?1 AND first <= ?2) "
        "AND last > ?2 ORDER BY first LIMIT ?3");
    st.bind(1, outlet).bind(2, i64(after)).bind(3, i64(limit));
    while (st.step())
      r.value.push_back({static_cast<seq_t>(st.int64(0)), static_cast<seq_t>(st.int64(1))});
    if (st.failed()) return fail<R>(c, "reading done ranges", st.rc());
    return r;
  });
}

store_result<std::vector<retry_entry>> sqlite_store::retries(std::string_view outlet, seq_t after,
                                                             std::size_t limit) {
  using R = std::vector<retry_entry>;
  return with_reader<R>([&](connection& c) -> store_result<R> {
    store_result<R> r;
    auto st = c.prepare(
        "SELECT seq, attempts, next_attempt, delivery_id FROM retries "
        "WHERE outlet = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3");
    st.bind(1, outlet).bind(2, i64(after)).bind(3, i64(limit));
    while (st.step()) {
      r.value.push_back({static_cast<seq_t>(st.int64(0)), static_cast<std::uint32_t>(st.int64(1)),
                         from_micros(st.int64(2)), st.text(3)});
    }
    if (st.failed()) return fail<R>(c, "reading retries", st.rc());
    return r;
  });
}

store_result<std::vector<dead_letter>> sqlite_store::dead_letters(std::string_view outlet, seq_t after,
                                                                  std::size_t limit) {
  using R = std::vector<dead_letter>;
  return with_reader<R>([&](connection& c) -> store_result<R> {
    store_result<R> r;
    auto st = c.prepare(
        "SELECT seq, status, error, attempts, at, delivery_id FROM dead_letters "
        "WHERE outlet = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3");
    st.bind(1, outlet).bind(2, i64(after)).bind(3, i64(limit));
    while (st.step()) {
      r.value.push_back({static_cast<seq_t>(st.int64(0)), static_cast<int>(st.int64(1)), st.text(2),
                         static_cast<std::uint32_t>(st.int64(3)), from_micros(st.int64(4)), st.text(5)});
    }
    if (st.failed()) return fail<R>(c, "reading dead letters", st.rc());
    return r;
  });
}

store_result<std::optional<std::string>> sqlite_store::kv_get(std::string_view ns, std::string_view key) {
  using R = std::optional<std::string>;
  return with_reader<R>([&](connection& c) -> store_result<R> {
    store_result<R> r;
    auto st = c.prepare("SELECT value FROM kv WHERE ns = ?1 AND key = ?2");
    st.bind(1, ns).bind(2, key);
    if (st.step()) r.value = st.text(0);
    if (st.failed()) return fail<R>(c, "reading keyed state", st.rc());
    return r;
  });
}

store_result<std::vector<kv_entry>> sqlite_store::kv_list(std::string_view ns, std::string_view after_key,
                                                          std::size_t limit) {
  using R = std::vector<kv_entry>;
  return with_reader<R>([&](connection& c) -> store_result<R> {
    store_result<R> r;
    auto st = c.prepare("SELECT ns, key, value, updated FROM kv WHERE ns = ?1 AND key > ?2 ORDER BY key LIMIT ?3");
    st.bind(1, ns).bind(2, after_key).bind(3, i64(limit));
    while (st.step()) r.value.push_back({st.text(0), st.text(1), st.text(2), from_micros(st.int64(3))});
    if (st.failed()) return fail<R>(c, "reading keyed state", st.rc());
    return r;
  });
}

store_result<std::vector<subscription>> sqlite_store::subscriptions(std::string_view topic) {
  using R = std::vector<subscription>;
  return with_reader<R>([&](connection& c) -> store_result<R> {
    store_result<R> r;
    auto st = c.prepare(
        "SELECT topic, callback, secret, lease_expiry, created FROM subscriptions "
        "WHERE ?1 = '' OR topic = ?1 ORDER BY topic, callback");
    st.bind(1, topic);
    while (st.step()) r.value.push_back(subscription_of(st));
    if (st.failed()) return fail<R>(c, "reading subscriptions", st.rc());
    return r;
  });
}

store_result<std::optional<lease>> sqlite_store::get_lease(std::string_view name) {
  using R = std::optional<lease>;
  return with_reader<R>([&](connection& c) -> store_result<R> {
    store_result<R> r;
    auto st = c.prepare("SELECT name, owner, token, expires FROM leases WHERE name = ?1");
    st.bind(1, name);
    if (st.step()) {
      r.value = lease{st.text(0), st.text(1), static_cast<std::uint64_t>(st.int64(2)), from_micros(st.int64(3))};
    }
    if (st.failed()) return fail<R>(c, "reading a lease", st.rc());
    return r;
  });
}

store_result<std::vector<lease>> sqlite_store::leases(std::string_view prefix) {
  using R = std::vector<lease>;
  return with_reader<R>([&](connection& c) -> store_result<R> {
    store_result<R> r;
    // A range on the primary key rather than LIKE: a prefix may hold '%' or '_'.
    auto st = c.prepare("SELECT name, owner, token, expires FROM leases WHERE name >= ?1 ORDER BY name");
    st.bind(1, prefix);
    while (st.step()) {
      std::string name = st.text(0);
      if (name.compare(0, prefix.size(), prefix) != 0) break;
      r.value.push_back(lease{std::move(name), st.text(1), static_cast<std::uint64_t>(st.int64(2)), from_micros(st.int64(3))});
    }
    if (st.failed()) return fail<R>(c, "reading leases", st.rc());
    return r;
  });
}

}  // namespace syndic::engine::sqlite
