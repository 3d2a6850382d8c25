#include "store/pg_apply.hpp"

#include "store/progress_model.hpp"
#include "store/sqlite_apply.hpp"  // validate(): one set of rules for both backends

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <type_traits>
#include <utility>

namespace syndic::engine::pg {
namespace {

std::int64_t i64(seq_t s) { return static_cast<std::int64_t>(std::min(s, progress::last_seq)); }
// attempts and failures are uint32 in the API, int in the tables.
std::int64_t i32(std::uint64_t v) {
  return static_cast<std::int64_t>(std::min<std::uint64_t>(v, std::numeric_limits<std::int32_t>::max()));
}

template <class T>
constexpr bool is_progress_op =
    std::is_same_v<T, start_outlet> || std::is_same_v<T, mark_done> || std::is_same_v<T, mark_retry> ||
    std::is_same_v<T, mark_dead> || std::is_same_v<T, set_circuit> || std::is_same_v<T, replay_outlet> ||
    std::is_same_v<T, retry_dead_letters> || std::is_same_v<T, drop_dead_letters> ||
    std::is_same_v<T, forget_outlet>;

// The outlet of a progress op, as the database holds it; "" for other ops.
std::string progress_outlet(const write_op& op) {
  return std::visit(
      [](const auto& o) -> std::string {
        if constexpr (is_progress_op<std::decay_t<decltype(o)>>) {
          return valid_text(o.outlet);
        } else {
          return {};
        }
      },
      op);
}

// "3-4,7-7" (string_agg of a done range per outlet) -> ranges.
std::vector<seq_range> parse_ranges(std::string_view s) {
  std::vector<seq_range> out;
  while (!s.empty()) {
    const std::size_t comma = s.find(',');
    std::string_view item = s.substr(0, comma);
    s = comma == std::string_view::npos ? std::string_view{} : s.substr(comma + 1);
    const std::size_t dash = item.find('-');
    if (dash == std::string_view::npos) continue;
    std::uint64_t f = 0, l = 0;
    std::from_chars(item.data(), item.data() + dash, f);
    std::from_chars(item.data() + dash + 1, item.data() + item.size(), l);
    out.push_back({f, l});
  }
  return out;
}

// Columns of one batched statement.
struct text_col {
  std::vector<std::string> v;
  void add(std::string_view s) { v.push_back(valid_text(s)); }
  std::optional<std::string> param() const { return array_literal(v); }
};
struct int_col {
  std::vector<std::int64_t> v;
  void add(std::int64_t x) { v.push_back(x); }
  std::optional<std::string> param() const { return array_literal(v); }
};
struct bytea_col {
  std::vector<std::string> v;
  void add(std::string s) { v.push_back(std::move(s)); }
  std::optional<std::string> param() const { return bytea_array_literal(v); }
};

}  // namespace

applier::applier(connection& db, std::string schema, std::function<store_time()> clock)
    : db_(db), schema_(ident(schema)), create_lock_key_("syndic.progress-rows:" + schema), clock_(std::move(clock)) {
  if (!clock_) clock_ = [] { return store_clock::now(); };
}

store_status applier::ops(const std::vector<write_op>& ops, store_status& result) {
  result = {};
  for (const write_op& op : ops) {
    if (std::string why = sqlite::validate(op); !why.empty()) {
      result = {store_errc::invalid_argument, db_.where() + ": write refused: " + why};
      return {};
    }
  }
  queued_.insert(queued_.end(), ops.begin(), ops.end());
  return {};
}

store_status applier::run(const std::string& sql, const params& values, result* out) {
  ++statements_;
  auto r = db_.query(sql, values);
  if (!r.ok()) {
    // Which of the round's statements, for whoever reads the log.
    r.status.message += " (applying writes: " + sql.substr(0, 80) + "...)";
    return r.status;
  }
  if (out) *out = std::move(r.value);
  return {};
}

store_status applier::flush() {
  statements_ = 0;
  store_status s = flush_progress();
  if (s.ok()) s = flush_state();
  last_statements_ = statements_;
  return s;
}

// ---- outlet progress ----------------------------------------------------------------------

store_status applier::flush_progress() {
  // The outlets touched, and those whose dead letters must be known (retry_dead_letters).
  std::set<std::string> touched, need_dead;
  for (const write_op& op : queued_) {
    std::string id = progress_outlet(op);
    if (id.empty()) continue;
    if (std::holds_alternative<retry_dead_letters>(op)) need_dead.insert(id);
    touched.insert(std::move(id));
  }
  if (touched.empty()) return {};
  const std::vector<std::string> names(touched.begin(), touched.end());  // sorted: lock order
  const std::string names_param = array_literal(names);
  const std::string& S = schema_;

  std::map<std::string, progress::snapshot> snaps;
  for (const std::string& n : names) snaps[n];
  const std::string load_rows =
      "SELECT outlet, cursor, circuit, failures, circuit_since, probe_at, last_error, last_error_at "
      "FROM " + S + ".progress WHERE outlet = ANY($1::text[]) ORDER BY outlet FOR UPDATE";
  auto read_rows = [&](const result& r) {
    for (int i = 0; i < r.rows(); ++i) {
      auto it = snaps.find(std::string(r.text(i, 0)));
      if (it == snaps.end()) continue;
      progress::row row;
      row.cursor = static_cast<seq_t>(r.int64(i, 1));
      row.circuit.mode = static_cast<circuit_mode>(r.int64(i, 2));
      row.circuit.failures = static_cast<std::uint32_t>(r.int64(i, 3));
      row.circuit.since = from_micros(r.int64(i, 4));
      row.circuit.probe_at = from_micros(r.int64(i, 5));
      row.last_error = std::string(r.text(i, 6));
      row.last_error_at = from_micros(r.int64(i, 7));
      it->second.stored = std::move(row);
    }
  };
  {
    result r;
    if (auto s = run(load_rows, {names_param}, &r); !s.ok()) return s;
    read_rows(r);
  }
  // Outlets without a row have nothing to lock: two writers creating one would each write
  // back a row made without the other's. Rounds that create rows take turns on one lock per
  // schema (held to COMMIT; after the row locks, so only two creating rounds can meet on it),
  // then read again the rows a round that held it before may have created meanwhile.
  std::vector<std::string> missing;
  for (const auto& [n, snap] : snaps) {
    if (!snap.stored) missing.push_back(n);
  }
  if (!missing.empty()) {
    if (auto s = run("SELECT pg_advisory_xact_lock(hashtextextended($1::text, 0))", {create_lock_key_}); !s.ok())
      return s;
    result r;
    if (auto s = run(load_rows, {array_literal(missing)}, &r); !s.ok()) return s;
    read_rows(r);
  }
  {
    result r;
    if (auto s = run("SELECT u.o, "
                     "EXISTS (SELECT 1 FROM " + S + ".retries r WHERE r.outlet = u.o), "
                     "EXISTS (SELECT 1 FROM " + S + ".dead_letters d WHERE d.outlet = u.o), "
                     "(SELECT string_agg(x.first || '-' || x.last, ',' ORDER BY x.first) FROM " + S +
                     ".done_ranges x WHERE x.outlet = u.o) "
                     "FROM unnest($1::text[]) AS u(o)",
                     {names_param}, &r);
        !s.ok())
      return s;
    for (int i = 0; i < r.rows(); ++i) {
      auto it = snaps.find(std::string(r.text(i, 0)));
      if (it == snaps.end()) continue;
      it->second.has_retries = r.boolean(i, 1);
      it->second.has_dead = r.boolean(i, 2);
      it->second.ranges = parse_ranges(r.text(i, 3));
    }
  }
  std::vector<std::string> dead_names;
  for (const std::string& n : need_dead) {
    progress::snapshot& s = snaps[n];
    s.dead_ids.emplace();
    if (s.has_dead) dead_names.push_back(n);
  }
  if (!dead_names.empty()) {
    result r;
    if (auto s = run("SELECT outlet, seq, delivery_id FROM " + S +
                         ".dead_letters WHERE outlet = ANY($1::text[]) ORDER BY outlet, seq",
                     {array_literal(dead_names)}, &r);
        !s.ok())
      return s;
    for (int i = 0; i < r.rows(); ++i) {
      auto it = snaps.find(std::string(r.text(i, 0)));
      if (it == snaps.end() || !it->second.dead_ids) continue;
      (*it->second.dead_ids)[static_cast<seq_t>(r.int64(i, 1))] = std::string(r.text(i, 2));
    }
  }

  std::map<std::string, progress::outlet_model> models;
  for (auto& [n, s] : snaps) models.emplace(n, progress::outlet_model(std::move(s)));
  for (const write_op& op : queued_) {
    std::string id = progress_outlet(op);
    if (id.empty()) continue;
    progress::outlet_model& m = models.at(id);
    std::visit(
        [&](const auto& o) {
          using T = std::decay_t<decltype(o)>;
          if constexpr (std::is_same_v<T, start_outlet>) {
            m.start(o.cursor);
          } else if constexpr (std::is_same_v<T, mark_done>) {
            m.done(o.first, o.last);
          } else if constexpr (std::is_same_v<T, mark_retry>) {
            m.retry(o.retry, o.error, clock_());
          } else if constexpr (std::is_same_v<T, mark_dead>) {
            m.dead(o.dead);
          } else if constexpr (std::is_same_v<T, set_circuit>) {
            m.set_circuit(o.circuit);
          } else if constexpr (std::is_same_v<T, replay_outlet>) {
            m.replay(o.from);
          } else if constexpr (std::is_same_v<T, retry_dead_letters>) {
            m.retry_dead(o.seqs, o.next_attempt);
          } else if constexpr (std::is_same_v<T, drop_dead_letters>) {
            m.drop_dead(o.seqs);
          } else if constexpr (std::is_same_v<T, forget_outlet>) {
            m.forget();
          }
        },
        op);
  }

  // The rows to write back, one column per parameter, by outlet (the lock order).
  text_col gone;
  text_col p_outlet, p_error;
  int_col p_cursor, p_circuit, p_failures, p_since, p_probe, p_error_at;
  text_col rd_outlet;
  int_col rd_first;
  text_col rw_outlet;
  int_col rw_first, rw_last;
  text_col td_outlet, xd_outlet;
  int_col td_lo, td_hi, xd_lo, xd_hi;
  text_col tw_outlet, tw_id;
  int_col tw_seq, tw_attempts, tw_next;
  text_col xw_outlet, xw_error, xw_id;
  int_col xw_seq, xw_status, xw_attempts, xw_at;
  for (const auto& [n, m] : models) {
    const progress::changes c = m.diff();
    if (c.row_op == progress::changes::row_change::erase) gone.add(n);
    if (c.row_op == progress::changes::row_change::write) {
      const progress::row& w = c.row_value;
      p_outlet.add(n);
      p_cursor.add(i64(w.cursor));
      p_circuit.add(static_cast<std::int64_t>(w.circuit.mode));
      p_failures.add(i32(w.circuit.failures));
      p_since.add(to_micros(w.circuit.since));
      p_probe.add(to_micros(w.circuit.probe_at));
      p_error.add(w.last_error);
      p_error_at.add(to_micros(w.last_error_at));
    }
    for (seq_t f : c.ranges_deleted) rd_outlet.add(n), rd_first.add(i64(f));
    for (const seq_range& r : c.ranges_written) rw_outlet.add(n), rw_first.add(i64(r.first)), rw_last.add(i64(r.last));
    for (const seq_range& d : c.retries.deleted) td_outlet.add(n), td_lo.add(i64(d.first)), td_hi.add(i64(d.last));
    for (const retry_entry& e : c.retries.written) {
      tw_outlet.add(n);
      tw_seq.add(i64(e.seq));
      tw_attempts.add(i32(e.attempts));
      tw_next.add(to_micros(e.next_attempt));
      tw_id.add(e.delivery_id);
    }
    for (const seq_range& d : c.dead.deleted) xd_outlet.add(n), xd_lo.add(i64(d.first)), xd_hi.add(i64(d.last));
    for (const dead_letter& d : c.dead.written) {
      xw_outlet.add(n);
      xw_seq.add(i64(d.seq));
      xw_status.add(d.status);
      xw_error.add(d.error);
      xw_attempts.add(i32(d.attempts));
      xw_at.add(to_micros(d.at));
      xw_id.add(d.delivery_id);
    }
  }

  if (!gone.v.empty()) {
    if (auto s = run("DELETE FROM " + S + ".progress WHERE outlet = ANY($1::text[])", {gone.param()}); !s.ok())
      return s;
  }
  if (!p_outlet.v.empty()) {
    if (auto s = run("INSERT INTO " + S + ".progress AS p (outlet, cursor, circuit, failures, circuit_since, "
                     "probe_at, last_error, last_error_at) "
                     "SELECT * FROM unnest($1::text[], $2::bigint[], $3::smallint[], $4::int[], $5::bigint[], "
                     "$6::bigint[], $7::text[], $8::bigint[]) "
                     "ON CONFLICT (outlet) DO UPDATE SET cursor = excluded.cursor, circuit = excluded.circuit, "
                     "failures = excluded.failures, circuit_since = excluded.circuit_since, "
                     "probe_at = excluded.probe_at, last_error = excluded.last_error, "
                     "last_error_at = excluded.last_error_at",
                     {p_outlet.param(), p_cursor.param(), p_circuit.param(), p_failures.param(), p_since.param(),
                      p_probe.param(), p_error.param(), p_error_at.param()});
        !s.ok())
      return s;
  }
  if (!rd_outlet.v.empty()) {
    if (auto s = run("DELETE FROM " + S + ".done_ranges d USING unnest($1::text[], $2::bigint[]) AS u(o, f) "
                     "WHERE d.outlet = u.o AND d.first = u.f",
                     {rd_outlet.param(), rd_first.param()});
        !s.ok())
      return s;
  }
  if (!rw_outlet.v.empty()) {
    if (auto s = run("INSERT INTO " + S + ".done_ranges (outlet, first, last) "
                     "SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[]) "
                     "ON CONFLICT (outlet, first) DO UPDATE SET last = excluded.last",
                     {rw_outlet.param(), rw_first.param(), rw_last.param()});
        !s.ok())
      return s;
  }
  if (!td_outlet.v.empty()) {
    if (auto s = run("DELETE FROM " + S + ".retries r USING unnest($1::text[], $2::bigint[], $3::bigint[]) "
                     "AS u(o, lo, hi) WHERE r.outlet = u.o AND r.seq BETWEEN u.lo AND u.hi",
                     {td_outlet.param(), td_lo.param(), td_hi.param()});
        !s.ok())
      return s;
  }
  if (!tw_outlet.v.empty()) {
    if (auto s = run("INSERT INTO " + S + ".retries (outlet, seq, attempts, next_attempt, delivery_id) "
                     "SELECT * FROM unnest($1::text[], $2::bigint[], $3::int[], $4::bigint[], $5::text[]) "
                     "ON CONFLICT (outlet, seq) DO UPDATE SET attempts = excluded.attempts, "
                     "next_attempt = excluded.next_attempt, delivery_id = excluded.delivery_id",
                     {tw_outlet.param(), tw_seq.param(), tw_attempts.param(), tw_next.param(), tw_id.param()});
        !s.ok())
      return s;
  }
  if (!xd_outlet.v.empty()) {
    if (auto s = run("DELETE FROM " + S + ".dead_letters x USING unnest($1::text[], $2::bigint[], $3::bigint[]) "
                     "AS u(o, lo, hi) WHERE x.outlet = u.o AND x.seq BETWEEN u.lo AND u.hi",
                     {xd_outlet.param(), xd_lo.param(), xd_hi.param()});
        !s.ok())
      return s;
  }
  if (!xw_outlet.v.empty()) {
    if (auto s = run("INSERT INTO " + S + ".dead_letters (outlet, seq, status, error, attempts, at, delivery_id) "
                     "SELECT * FROM unnest($1::text[], $2::bigint[], $3::int[], $4::text[], $5::int[], "
                     "$6::bigint[], $7::text[]) "
                     "ON CONFLICT (outlet, seq) DO UPDATE SET status = excluded.status, error = excluded.error, "
                     "attempts = excluded.attempts, at = excluded.at, delivery_id = excluded.delivery_id",
                     {xw_outlet.param(), xw_seq.param(), xw_status.param(), xw_error.param(), xw_attempts.param(),
                      xw_at.param(), xw_id.param()});
        !s.ok())
      return s;
  }
  return {};
}

// ---- outlets, keyed state, subscriptions --------------------------------------------------

store_status applier::flush_state() {
  // Folded in queue order: per key the last write (nullopt: deleted); a namespace erased or
  // subscriptions expired remove the round's earlier writes they cover, and run first.
  struct kv_value {
    std::string value;
    store_time updated;
  };
  std::map<std::pair<std::string, std::string>, std::optional<kv_value>> kv;
  std::set<std::string> kv_namespaces;
  std::map<std::string, std::optional<stored_outlet>> outlets;
  std::map<std::pair<std::string, std::string>, std::optional<subscription>> subs;
  std::optional<store_time> expire_before;
  bool any = false;
  for (const write_op& op : queued_) {
    std::visit(
        [&](const auto& o) {
          using T = std::decay_t<decltype(o)>;
          if constexpr (std::is_same_v<T, kv_put>) {
            kv[{valid_text(o.ns), valid_text(o.key)}] = kv_value{o.value, clock_()};
            any = true;
          } else if constexpr (std::is_same_v<T, kv_erase>) {
            kv[{valid_text(o.ns), valid_text(o.key)}] = std::nullopt;
            any = true;
          } else if constexpr (std::is_same_v<T, kv_erase_namespace>) {
            std::string ns = valid_text(o.ns);
            auto lo = kv.lower_bound({ns, std::string()});
            auto hi = lo;
            while (hi != kv.end() && hi->first.first == ns) ++hi;
            kv.erase(lo, hi);
            kv_namespaces.insert(std::move(ns));
            any = true;
          } else if constexpr (std::is_same_v<T, save_outlet>) {
            stored_outlet so = o.outlet;
            so.id = valid_text(so.id);
            so.updated = clock_();
            std::string id = so.id;
            outlets[id] = std::move(so);
            any = true;
          } else if constexpr (std::is_same_v<T, delete_outlet>) {
            outlets[valid_text(o.id)] = std::nullopt;
            any = true;
          } else if constexpr (std::is_same_v<T, put_subscription>) {
            subscription sub = o.sub;
            if (sub.created == store_time{}) sub.created = clock_();
            subs[{valid_text(sub.topic), valid_text(sub.callback)}] = std::move(sub);
            any = true;
          } else if constexpr (std::is_same_v<T, remove_subscription>) {
            subs[{valid_text(o.topic), valid_text(o.callback)}] = std::nullopt;
            any = true;
          } else if constexpr (std::is_same_v<T, expire_subscriptions>) {
            for (auto& [key, sub] : subs) {
              if (sub && sub->lease_expiry < o.before) sub.reset();
            }
            expire_before = expire_before ? std::max(*expire_before, o.before) : o.before;
            any = true;
          }
        },
        op);
  }
  if (!any) return {};
  const std::string& S = schema_;

  if (!kv_namespaces.empty()) {
    std::vector<std::string> v(kv_namespaces.begin(), kv_namespaces.end());
    if (auto s = run("DELETE FROM " + S + ".kv WHERE ns = ANY($1::text[])", {array_literal(v)}); !s.ok()) return s;
  }
  {
    text_col d_ns, d_key, w_ns, w_key;
    bytea_col w_value;
    int_col w_updated;
    for (auto& [key, v] : kv) {
      if (!v) {
        d_ns.v.push_back(key.first), d_key.v.push_back(key.second);
      } else {
        w_ns.v.push_back(key.first), w_key.v.push_back(key.second);
        w_value.add(v->value);
        w_updated.add(to_micros(v->updated));
      }
    }
    if (!d_ns.v.empty()) {
      if (auto s = run("DELETE FROM " + S + ".kv k USING unnest($1::text[], $2::text[]) AS u(ns, key) "
                       "WHERE k.ns = u.ns AND k.key = u.key",
                       {d_ns.param(), d_key.param()});
          !s.ok())
        return s;
    }
    if (!w_ns.v.empty()) {
      if (auto s = run("INSERT INTO " + S + ".kv (ns, key, value, updated) "
                       "SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[], $4::bigint[]) "
                       "ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value, updated = excluded.updated",
                       {w_ns.param(), w_key.param(), w_value.param(), w_updated.param()});
          !s.ok())
        return s;
    }
  }
  {
    text_col d_id, w_id;
    bytea_col w_config;
    int_col w_updated;
    for (auto& [id, o] : outlets) {
      if (!o) {
        d_id.v.push_back(id);
      } else {
        w_id.v.push_back(id);
        w_config.add(o->config);
        w_updated.add(to_micros(o->updated));
      }
    }
    if (!d_id.v.empty()) {
      if (auto s = run("DELETE FROM " + S + ".outlets WHERE id = ANY($1::text[])", {d_id.param()}); !s.ok()) return s;
    }
    if (!w_id.v.empty()) {
      if (auto s = run("INSERT INTO " + S + ".outlets (id, config, updated) "
                       "SELECT * FROM unnest($1::text[], $2::bytea[], $3::bigint[]) "
                       "ON CONFLICT (id) DO UPDATE SET config = excluded.config, updated = excluded.updated",
                       {w_id.param(), w_config.param(), w_updated.param()});
          !s.ok())
        return s;
    }
  }
  if (expire_before) {
    if (auto s = run("DELETE FROM " + S + ".subscriptions WHERE lease_expiry < $1::bigint",
                     {std::to_string(to_micros(*expire_before))});
        !s.ok())
      return s;
  }
  {
    text_col d_topic, d_callback, w_topic, w_callback, w_secret;
    int_col w_expiry, w_created;
    for (auto& [key, sub] : subs) {
      if (!sub) {
        d_topic.v.push_back(key.first), d_callback.v.push_back(key.second);
      } else {
        w_topic.v.push_back(key.first), w_callback.v.push_back(key.second);
        w_secret.add(sub->secret);
        w_expiry.add(to_micros(sub->lease_expiry));
        w_created.add(to_micros(sub->created));
      }
    }
    if (!d_topic.v.empty()) {
      if (auto s = run("DELETE FROM " + S + ".subscriptions x USING unnest($1::text[], $2::text[]) AS u(t, c) "
                       "WHERE x.topic = u.t AND x.callback = u.c",
                       {d_topic.param(), d_callback.param()});
          !s.ok())
        return s;
    }
    if (!w_topic.v.empty()) {
      if (auto s = run("INSERT INTO " + S + ".subscriptions (topic, callback, secret, lease_expiry, created) "
                       "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[]) "
                       "ON CONFLICT (topic, callback) DO UPDATE SET secret = excluded.secret, "
                       "lease_expiry = excluded.lease_expiry, created = excluded.created",
                       {w_topic.param(), w_callback.param(), w_secret.param(), w_expiry.param(), w_created.param()});
          !s.ok())
        return s;
    }
  }
  return {};
}

}  // namespace syndic::engine::pg
