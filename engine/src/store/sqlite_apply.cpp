#include "store/sqlite_apply.hpp"

#include <algorithm>
#include <type_traits>
#include <utility>
#include <vector>

namespace syndic::engine::sqlite {
namespace {

std::int64_t i64(seq_t s) { return static_cast<std::int64_t>(s); }

template <class T>
const std::string& outlet_of(const T& op) {
  if constexpr (requires { op.outlet.id; }) {
    return op.outlet.id;
  } else {
    return op.outlet;
  }
}

}  // namespace

std::string validate(const write_op& op) {
  return std::visit(
      [](const auto& o) -> std::string {
        using T = std::decay_t<decltype(o)>;
        if constexpr (std::is_same_v<T, kv_put> || std::is_same_v<T, kv_erase> ||
                      std::is_same_v<T, kv_erase_namespace>) {
          return o.ns.empty() ? "empty namespace" : "";
        } else if constexpr (std::is_same_v<T, put_subscription>) {
          return o.sub.topic.empty() || o.sub.callback.empty() ? "subscription without topic or callback"
                                                               : "";
        } else if constexpr (std::is_same_v<T, remove_subscription>) {
          return o.topic.empty() || o.callback.empty() ? "subscription without topic or callback" : "";
        } else if constexpr (std::is_same_v<T, expire_subscriptions>) {
          return "";
        } else if constexpr (std::is_same_v<T, delete_outlet>) {
          return o.id.empty() ? "empty outlet id" : "";
        } else {
          if (outlet_of(o).empty()) return "empty outlet id";
          if constexpr (std::is_same_v<T, mark_done>) {
            if (o.first == 0) return "mark_done of seq 0";
            if (o.last != 0 && o.last < o.first) return "mark_done with last < first";
          } else if constexpr (std::is_same_v<T, mark_retry>) {
            if (o.retry.seq == 0) return "mark_retry of seq 0";
          } else if constexpr (std::is_same_v<T, mark_dead>) {
            if (o.dead.seq == 0) return "mark_dead of seq 0";
          } else if constexpr (std::is_same_v<T, replay_outlet>) {
            if (o.from == 0) return "replay from seq 0";
          }
          return "";
        }
      },
      op);
}

store_status applier::done(statement& st, std::string_view what) {
  if (st.run()) return {};
  return db_.failure(what, st.rc());
}

// ---- the item log -------------------------------------------------------------------------

store_status applier::append(const append_request& request, appended& out) {
  out = {};
  if (!request.idempotency_key.empty()) {
    auto st = db_.prepare("SELECT seq FROM items WHERE idem_key = ?1 ORDER BY seq");
    st.bind(1, request.idempotency_key);
    while (st.step()) out.seqs.push_back(static_cast<seq_t>(st.int64(0)));
    if (st.failed()) return db_.failure("looking up an idempotency key", st.rc());
    if (!out.seqs.empty()) {
      out.duplicate = true;
      return {};
    }
  }
  out.seqs.reserve(request.entries.size());
  for (const log_entry& e : request.entries) {
    auto st = db_.prepare(
        "INSERT INTO items (item_id, source, channel, content_type, payload, received, idem_key) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    st.bind(1, e.item_id).bind(2, e.source).bind(3, e.channel).bind(4, e.content_type);
    st.bind_blob(5, e.payload).bind(6, to_micros(e.received));
    if (request.idempotency_key.empty()) {
      st.bind_null(7);
    } else {
      st.bind(7, request.idempotency_key);
    }
    if (!st.run()) return db_.failure("appending an item", st.rc());
    out.seqs.push_back(static_cast<seq_t>(db_.last_insert_rowid()));
  }
  return {};
}

// ---- outlet progress ----------------------------------------------------------------------

store_status applier::load(const std::string& outlet, progress_row*& out) {
  auto it = cache_.find(outlet);
  if (it != cache_.end()) {
    out = &it->second;
    return {};
  }
  progress_row p;
  {
    auto st = db_.prepare(
        "SELECT cursor, circuit, failures, circuit_since, probe_at, last_error, last_error_at "
        "FROM progress WHERE outlet = ?1");
    st.bind(1, outlet);
    if (st.step()) {
      p.loaded_from_db = p.exists = true;
      p.cursor = static_cast<seq_t>(st.int64(0));
      p.circuit.mode = static_cast<circuit_mode>(st.int64(1));
      p.circuit.failures = static_cast<std::uint32_t>(st.int64(2));
      p.circuit.since = from_micros(st.int64(3));
      p.circuit.probe_at = from_micros(st.int64(4));
      p.last_error = st.text(5);
      p.last_error_at = from_micros(st.int64(6));
    }
    if (st.failed()) return db_.failure("reading an outlet's progress", st.rc());
  }
  if (p.loaded_from_db) {
    auto st = db_.prepare(
        "SELECT EXISTS (SELECT 1 FROM done_ranges WHERE outlet = ?1), "
        "EXISTS (SELECT 1 FROM retries WHERE outlet = ?1), "
        "EXISTS (SELECT 1 FROM dead_letters WHERE outlet = ?1)");
    st.bind(1, outlet);
    if (st.step()) {
      p.has_ranges = st.int64(0) != 0;
      p.has_retries = st.int64(1) != 0;
      p.has_dead = st.int64(2) != 0;
    }
    if (st.failed()) return db_.failure("reading an outlet's progress", st.rc());
  } else {
    // No progress row: exceptions may still be left (forget_outlet removes them all, but be
    // safe against rows written by hand): look rather than assume.
    p.has_ranges = p.has_retries = p.has_dead = true;
  }
  out = &cache_.emplace(outlet, std::move(p)).first->second;
  return {};
}

store_status applier::resolve(const std::string& outlet, progress_row& p, seq_t first, seq_t last) {
  if (!p.exists) {
    p.exists = true;  // an outlet without progress counts as cursor 0
    p.dirty = true;
  }
  if (last <= p.cursor) return {};
  first = std::max(first, p.cursor + 1);
  if (first == p.cursor + 1) {
    p.cursor = last;
    p.dirty = true;
    if (!p.has_ranges) return {};
    // Done ranges are disjoint and never adjacent, so those reaching cursor + 1 now are all
    // the cursor can swallow: one query, not a loop.
    const seq_t bound = p.cursor + 1;
    seq_t top = p.cursor;
    bool any = false;
    {
      auto st = db_.prepare("SELECT max(last), count(*) FROM done_ranges WHERE outlet = ?1 AND first <= ?2");
      st.bind(1, outlet).bind(2, i64(bound));
      if (st.step() && st.int64(1) > 0) {
        any = true;
        top = std::max(top, static_cast<seq_t>(st.int64(0)));
      }
      if (st.failed()) return db_.failure("reading done ranges", st.rc());
    }
    if (any) {
      auto del = db_.prepare("DELETE FROM done_ranges WHERE outlet = ?1 AND first <= ?2");
      del.bind(1, outlet).bind(2, i64(bound));
      if (auto s = done(del, "advancing a cursor"); !s.ok()) return s;
      p.cursor = top;
    }
    return {};
  }
  // A gap below: record [first, last], merged with the ranges it touches or overlaps.
  seq_t lo = first, hi = last;
  std::vector<seq_t> merged;  // their `first`s
  if (p.has_ranges) {
    auto st = db_.prepare(
        "SELECT first, last FROM done_ranges WHERE outlet = ?1 AND first <= ?2 ORDER BY first DESC");
    st.bind(1, outlet).bind(2, i64(last + 1));
    while (st.step()) {
      const auto f = static_cast<seq_t>(st.int64(0));
      const auto l = static_cast<seq_t>(st.int64(1));
      if (l + 1 < first) break;  // ranges are disjoint: every earlier one ends lower still
      merged.push_back(f);
      lo = std::min(lo, f);
      hi = std::max(hi, l);
    }
    if (st.failed()) return db_.failure("reading done ranges", st.rc());
  }
  for (seq_t f : merged) {
    auto del = db_.prepare("DELETE FROM done_ranges WHERE outlet = ?1 AND first = ?2");
    del.bind(1, outlet).bind(2, i64(f));
    if (auto s = done(del, "merging done ranges"); !s.ok()) return s;
  }
  auto ins = db_.prepare("INSERT INTO done_ranges (outlet, first, last) VALUES (?1, ?2, ?3)");
  ins.bind(1, outlet).bind(2, i64(lo)).bind(3, i64(hi));
  p.has_ranges = true;
  return done(ins, "recording a done range");
}

store_status applier::unresolve(const std::string& outlet, progress_row& p, seq_t seq) {
  if (seq <= p.cursor || !p.has_ranges) return {};
  seq_t first = 0, last = 0;
  {
    auto st = db_.prepare(
        "SELECT first, last FROM done_ranges WHERE outlet = ?1 AND first <= ?2 ORDER BY first DESC LIMIT 1");
    st.bind(1, outlet).bind(2, i64(seq));
    if (st.step()) {
      first = static_cast<seq_t>(st.int64(0));
      last = static_cast<seq_t>(st.int64(1));
    }
    if (st.failed()) return db_.failure("reading done ranges", st.rc());
  }
  if (first == 0 || last < seq) return {};  // not in a range
  {
    auto del = db_.prepare("DELETE FROM done_ranges WHERE outlet = ?1 AND first = ?2");
    del.bind(1, outlet).bind(2, i64(first));
    if (auto s = done(del, "splitting a done range"); !s.ok()) return s;
  }
  const seq_range halves[] = {{first, seq - 1}, {seq + 1, last}};
  for (const seq_range& h : halves) {
    if (h.first > h.last) continue;
    auto ins = db_.prepare("INSERT INTO done_ranges (outlet, first, last) VALUES (?1, ?2, ?3)");
    ins.bind(1, outlet).bind(2, i64(h.first)).bind(3, i64(h.last));
    if (auto s = done(ins, "splitting a done range"); !s.ok()) return s;
  }
  return {};
}

store_status applier::apply(const start_outlet& op) {
  progress_row* p = nullptr;
  if (auto s = load(op.outlet, p); !s.ok()) return s;
  if (p->exists) return {};
  p->exists = p->dirty = true;
  p->cursor = op.cursor;
  return {};
}

store_status applier::apply(const mark_done& op) {
  const seq_t last = op.last == 0 ? op.first : op.last;
  progress_row* p = nullptr;
  if (auto s = load(op.outlet, p); !s.ok()) return s;
  if (p->has_retries) {
    auto st = db_.prepare("DELETE FROM retries WHERE outlet = ?1 AND seq BETWEEN ?2 AND ?3");
    st.bind(1, op.outlet).bind(2, i64(op.first)).bind(3, i64(last));
    if (auto s = done(st, "clearing retries"); !s.ok()) return s;
  }
  if (p->has_dead) {
    auto st = db_.prepare("DELETE FROM dead_letters WHERE outlet = ?1 AND seq BETWEEN ?2 AND ?3");
    st.bind(1, op.outlet).bind(2, i64(op.first)).bind(3, i64(last));
    if (auto s = done(st, "clearing dead letters"); !s.ok()) return s;
  }
  return resolve(op.outlet, *p, op.first, last);
}

store_status applier::apply(const mark_retry& op) {
  progress_row* p = nullptr;
  if (auto s = load(op.outlet, p); !s.ok()) return s;
  auto st = db_.prepare(
      "INSERT OR REPLACE INTO retries (outlet, seq, attempts, next_attempt, delivery_id) "
      "VALUES (?1, ?2, ?3, ?4, ?5)");
  st.bind(1, op.outlet).bind(2, i64(op.retry.seq)).bind(3, std::int64_t{op.retry.attempts});
  st.bind(4, to_micros(op.retry.next_attempt)).bind(5, op.retry.delivery_id);
  if (auto s = done(st, "recording a retry"); !s.ok()) return s;
  if (auto s = unresolve(op.outlet, *p, op.retry.seq); !s.ok()) return s;
  p->has_retries = true;
  p->exists = p->dirty = true;
  if (!op.error.empty()) {
    p->last_error = op.error;
    p->last_error_at = clock_();
  }
  return {};
}

store_status applier::apply(const mark_dead& op) {
  progress_row* p = nullptr;
  if (auto s = load(op.outlet, p); !s.ok()) return s;
  if (p->has_retries) {
    auto st = db_.prepare("DELETE FROM retries WHERE outlet = ?1 AND seq = ?2");
    st.bind(1, op.outlet).bind(2, i64(op.dead.seq));
    if (auto s = done(st, "clearing a retry"); !s.ok()) return s;
  }
  auto st = db_.prepare(
      "INSERT OR REPLACE INTO dead_letters (outlet, seq, status, error, attempts, at, delivery_id) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  st.bind(1, op.outlet).bind(2, i64(op.dead.seq)).bind(3, std::int64_t{op.dead.status});
  st.bind(4, op.dead.error).bind(5, std::int64_t{op.dead.attempts});
  st.bind(6, to_micros(op.dead.at)).bind(7, op.dead.delivery_id);
  if (auto s = done(st, "recording a dead letter"); !s.ok()) return s;
  p->has_dead = true;
  p->last_error = op.dead.error;
  p->last_error_at = op.dead.at;
  p->dirty = true;
  return resolve(op.outlet, *p, op.dead.seq, op.dead.seq);
}

store_status applier::apply(const set_circuit& op) {
  progress_row* p = nullptr;
  if (auto s = load(op.outlet, p); !s.ok()) return s;
  p->circuit = op.circuit;
  p->exists = p->dirty = true;
  return {};
}

store_status applier::apply(const replay_outlet& op) {
  progress_row* p = nullptr;
  if (auto s = load(op.outlet, p); !s.ok()) return s;
  {
    auto st = db_.prepare("DELETE FROM done_ranges WHERE outlet = ?1");
    st.bind(1, op.outlet);
    if (auto s = done(st, "replaying"); !s.ok()) return s;
  }
  {
    auto st = db_.prepare("DELETE FROM retries WHERE outlet = ?1 AND seq >= ?2");
    st.bind(1, op.outlet).bind(2, i64(op.from));
    if (auto s = done(st, "replaying"); !s.ok()) return s;
  }
  {
    auto st = db_.prepare("DELETE FROM dead_letters WHERE outlet = ?1 AND seq >= ?2");
    st.bind(1, op.outlet).bind(2, i64(op.from));
    if (auto s = done(st, "replaying"); !s.ok()) return s;
  }
  p->has_ranges = false;
  p->cursor = op.from - 1;
  p->exists = p->dirty = true;
  return {};
}

store_status applier::apply(const retry_dead_letters& op) {
  progress_row* p = nullptr;
  if (auto s = load(op.outlet, p); !s.ok()) return s;
  if (!p->has_dead) return {};
  const bool all = op.seqs.empty();
  std::vector<seq_t> moved;
  const std::size_t n = all ? 1 : op.seqs.size();
  for (std::size_t i = 0; i < n; ++i) {
    auto st = db_.prepare("SELECT seq FROM dead_letters WHERE outlet = ?1 AND (?2 OR seq = ?3)");
    st.bind(1, op.outlet).bind(2, std::int64_t{all}).bind(3, all ? 0 : i64(op.seqs[i]));
    while (st.step()) moved.push_back(static_cast<seq_t>(st.int64(0)));
    if (st.failed()) return db_.failure("retrying dead letters", st.rc());
  }
  for (seq_t seq : moved) {
    {
      auto st = db_.prepare(
          "INSERT OR REPLACE INTO retries (outlet, seq, attempts, next_attempt, delivery_id) "
          "SELECT outlet, seq, 0, ?3, delivery_id FROM dead_letters WHERE outlet = ?1 AND seq = ?2");
      st.bind(1, op.outlet).bind(2, i64(seq)).bind(3, to_micros(op.next_attempt));
      if (auto s = done(st, "retrying dead letters"); !s.ok()) return s;
    }
    {
      auto st = db_.prepare("DELETE FROM dead_letters WHERE outlet = ?1 AND seq = ?2");
      st.bind(1, op.outlet).bind(2, i64(seq));
      if (auto s = done(st, "retrying dead letters"); !s.ok()) return s;
    }
    if (auto s = unresolve(op.outlet, *p, seq); !s.ok()) return s;
    p->has_retries = true;
  }
  return {};
}

store_status applier::apply(const drop_dead_letters& op) {
  progress_row* p = nullptr;
  if (auto s = load(op.outlet, p); !s.ok()) return s;
  if (!p->has_dead) return {};
  const bool all = op.seqs.empty();
  const std::size_t n = all ? 1 : op.seqs.size();
  for (std::size_t i = 0; i < n; ++i) {
    auto st = db_.prepare("DELETE FROM dead_letters WHERE outlet = ?1 AND (?2 OR seq = ?3)");
    st.bind(1, op.outlet).bind(2, std::int64_t{all}).bind(3, all ? 0 : i64(op.seqs[i]));
    if (auto s = done(st, "dropping dead letters"); !s.ok()) return s;
  }
  return {};
}

store_status applier::apply(const forget_outlet& op) {
  static constexpr std::string_view deletes[] = {
      "DELETE FROM progress WHERE outlet = ?1",
      "DELETE FROM done_ranges WHERE outlet = ?1",
      "DELETE FROM retries WHERE outlet = ?1",
      "DELETE FROM dead_letters WHERE outlet = ?1",
  };
  for (std::string_view sql : deletes) {
    auto st = db_.prepare(sql);
    st.bind(1, op.outlet);
    if (auto s = done(st, "forgetting an outlet"); !s.ok()) return s;
  }
  progress_row gone;  // no row, no exceptions: known empty now
  cache_[op.outlet] = gone;
  return {};
}

// ---- outlets, keyed state, subscriptions --------------------------------------------------

store_status applier::apply(const save_outlet& op) {
  auto st = db_.prepare("INSERT OR REPLACE INTO outlets (id, config, updated) VALUES (?1, ?2, ?3)");
  st.bind(1, op.outlet.id).bind_blob(2, op.outlet.config).bind(3, to_micros(clock_()));
  return done(st, "saving an outlet");
}

store_status applier::apply(const delete_outlet& op) {
  auto st = db_.prepare("DELETE FROM outlets WHERE id = ?1");
  st.bind(1, op.id);
  return done(st, "deleting an outlet");
}

store_status applier::apply(const kv_put& op) {
  auto st = db_.prepare("INSERT OR REPLACE INTO kv (ns, key, value, updated) VALUES (?1, ?2, ?3, ?4)");
  st.bind(1, op.ns).bind(2, op.key).bind_blob(3, op.value).bind(4, to_micros(clock_()));
  return done(st, "writing keyed state");
}

store_status applier::apply(const kv_erase& op) {
  auto st = db_.prepare("DELETE FROM kv WHERE ns = ?1 AND key = ?2");
  st.bind(1, op.ns).bind(2, op.key);
  return done(st, "erasing keyed state");
}

store_status applier::apply(const kv_erase_namespace& op) {
  auto st = db_.prepare("DELETE FROM kv WHERE ns = ?1");
  st.bind(1, op.ns);
  return done(st, "erasing keyed state");
}

store_status applier::apply(const put_subscription& op) {
  const store_time created = op.sub.created == store_time{} ? clock_() : op.sub.created;
  auto st = db_.prepare(
      "INSERT OR REPLACE INTO subscriptions (topic, callback, secret, lease_expiry, created) "
      "VALUES (?1, ?2, ?3, ?4, ?5)");
  st.bind(1, op.sub.topic).bind(2, op.sub.callback).bind(3, op.sub.secret);
  st.bind(4, to_micros(op.sub.lease_expiry)).bind(5, to_micros(created));
  return done(st, "saving a subscription");
}

store_status applier::apply(const remove_subscription& op) {
  auto st = db_.prepare("DELETE FROM subscriptions WHERE topic = ?1 AND callback = ?2");
  st.bind(1, op.topic).bind(2, op.callback);
  return done(st, "removing a subscription");
}

store_status applier::apply(const expire_subscriptions& op) {
  auto st = db_.prepare("DELETE FROM subscriptions WHERE lease_expiry < ?1");
  st.bind(1, to_micros(op.before));
  return done(st, "expiring subscriptions");
}

// ---- a batch of ops -----------------------------------------------------------------------

store_status applier::ops(const std::vector<write_op>& ops, const std::optional<fence>& guard,
                          store_status& result) {
  result = {};
  for (const write_op& op : ops) {
    if (std::string why = validate(op); !why.empty()) {
      result = {store_errc::invalid_argument, db_.path() + ": write refused: " + why};
      return {};
    }
  }
  if (guard) {
    auto st = db_.prepare("SELECT token, owner FROM leases WHERE name = ?1");
    st.bind(1, guard->lease);
    std::optional<std::uint64_t> token;
    if (st.step()) token = static_cast<std::uint64_t>(st.int64(0));
    if (st.failed()) return db_.failure("checking a fence", st.rc());
    if (token != guard->token) {
      result = {store_errc::fenced,
                db_.path() + ": write fenced: lease '" + guard->lease + "' has token " +
                    (token ? std::to_string(*token) : std::string("none")) + ", the write carries " +
                    std::to_string(guard->token)};
      return {};
    }
  }
  for (const write_op& op : ops) {
    if (auto s = std::visit([this](const auto& o) { return apply(o); }, op); !s.ok()) return s;
  }
  return {};
}

store_status applier::flush() {
  for (auto& [outlet, p] : cache_) {
    if (!p.dirty) continue;
    auto st = db_.prepare(
        "INSERT INTO progress (outlet, cursor, circuit, failures, circuit_since, probe_at, "
        "last_error, last_error_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
        "ON CONFLICT (outlet) DO UPDATE SET cursor = excluded.cursor, circuit = excluded.circuit, "
        "failures = excluded.failures, circuit_since = excluded.circuit_since, "
        "probe_at = excluded.probe_at, last_error = excluded.last_error, "
        "last_error_at = excluded.last_error_at");
    st.bind(1, outlet).bind(2, i64(p.cursor)).bind(3, std::int64_t{static_cast<int>(p.circuit.mode)});
    st.bind(4, std::int64_t{p.circuit.failures}).bind(5, to_micros(p.circuit.since));
    st.bind(6, to_micros(p.circuit.probe_at)).bind(7, p.last_error).bind(8, to_micros(p.last_error_at));
    if (auto s = done(st, "writing an outlet's progress"); !s.ok()) return s;
    p.dirty = false;
  }
  return {};
}

// ---- leases -------------------------------------------------------------------------------

namespace {

struct lease_row {
  bool found = false;
  std::string owner;
  std::uint64_t token = 0;
  std::int64_t expires = 0;
};

}  // namespace

static store_status read_lease(connection& db, const std::string& name, lease_row& row) {
  auto st = db.prepare("SELECT owner, token, expires FROM leases WHERE name = ?1");
  st.bind(1, name);
  if (st.step()) {
    row.found = true;
    row.owner = st.text(0);
    row.token = static_cast<std::uint64_t>(st.int64(1));
    row.expires = st.int64(2);
  }
  if (st.failed()) return db.failure("reading a lease", st.rc());
  return {};
}

static store_status write_lease(connection& db, const std::string& name, const std::string& owner,
                                std::uint64_t token, std::int64_t expires) {
  auto st = db.prepare("INSERT OR REPLACE INTO leases (name, owner, token, expires) VALUES (?1, ?2, ?3, ?4)");
  st.bind(1, name).bind(2, owner).bind(3, static_cast<std::int64_t>(token)).bind(4, expires);
  if (st.run()) return {};
  return db.failure("writing a lease", st.rc());
}

store_status applier::acquire(const std::string& name, const std::string& owner,
                              std::chrono::milliseconds ttl, std::optional<lease>& out) {
  out.reset();
  if (name.empty() || owner.empty()) return {};
  lease_row row;
  if (auto s = read_lease(db_, name, row); !s.ok()) return s;
  const std::int64_t now = to_micros(clock_());
  const std::int64_t expires = now + std::chrono::duration_cast<std::chrono::microseconds>(ttl).count();
  const bool live = row.found && !row.owner.empty() && row.expires > now;
  std::uint64_t token = row.token;
  if (live && row.owner != owner) return {};  // held by another
  if (!live) ++token;                         // taken anew: a new token fences the past
  if (auto s = write_lease(db_, name, owner, token, expires); !s.ok()) return s;
  out = lease{name, owner, token, from_micros(expires)};
  return {};
}

store_status applier::renew(const lease& held, std::chrono::milliseconds ttl, std::optional<lease>& out) {
  out.reset();
  lease_row row;
  if (auto s = read_lease(db_, held.name, row); !s.ok()) return s;
  const std::int64_t now = to_micros(clock_());
  // Lost once expired, even if nobody took it: the holder must acquire again (new token).
  if (!row.found || row.owner != held.owner || row.token != held.token || row.expires <= now) return {};
  const std::int64_t expires = now + std::chrono::duration_cast<std::chrono::microseconds>(ttl).count();
  if (auto s = write_lease(db_, held.name, held.owner, held.token, expires); !s.ok()) return s;
  out = lease{held.name, held.owner, held.token, from_micros(expires)};
  return {};
}

store_status applier::release(const lease& held) {
  lease_row row;
  if (auto s = read_lease(db_, held.name, row); !s.ok()) return s;
  if (!row.found || row.owner != held.owner || row.token != held.token) return {};
  return write_lease(db_, held.name, "", row.token, 0);
}

}  // namespace syndic::engine::sqlite
