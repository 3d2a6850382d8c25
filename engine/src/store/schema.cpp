#include "store/schema.hpp"

#include <sqlite3.h>

#include <array>
#include <string>

namespace syndic::engine::sqlite {
namespace {

// Version 1. Times are microseconds since the Unix epoch; seqs are the items' rowids
// (INTEGER PRIMARY KEY: assigned max+1 by SQLite, so dense under one writer; the newest item is
// never deleted, so a seq is never given twice). Tables keyed by outlet are WITHOUT ROWID:
// their primary key is their only index.
constexpr std::string_view v1 = R"sql(
CREATE TABLE items (
  seq          INTEGER PRIMARY KEY,
  item_id      TEXT NOT NULL,
  source       TEXT NOT NULL,
  channel      TEXT NOT NULL,
  content_type TEXT NOT NULL,
  payload      BLOB NOT NULL,
  received     INTEGER NOT NULL,
  idem_key     TEXT
);
CREATE INDEX items_by_channel ON items (channel, seq);
CREATE INDEX items_by_idem_key ON items (idem_key) WHERE idem_key IS NOT NULL;

CREATE TABLE outlets (
  id      TEXT PRIMARY KEY,
  config  BLOB NOT NULL,
  updated INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE progress (
  outlet        TEXT PRIMARY KEY,
  cursor        INTEGER NOT NULL,
  circuit       INTEGER NOT NULL DEFAULT 0,
  failures      INTEGER NOT NULL DEFAULT 0,
  circuit_since INTEGER NOT NULL DEFAULT 0,
  probe_at      INTEGER NOT NULL DEFAULT 0,
  last_error    TEXT NOT NULL DEFAULT '',
  last_error_at INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- Resolved seqs above the cursor, as disjoint, non-adjacent ranges [first, last].
CREATE TABLE done_ranges (
  outlet TEXT NOT NULL,
  first  INTEGER NOT NULL,
  last   INTEGER NOT NULL,
  PRIMARY KEY (outlet, first)
) WITHOUT ROWID;

CREATE TABLE retries (
  outlet       TEXT NOT NULL,
  seq          INTEGER NOT NULL,
  attempts     INTEGER NOT NULL,
  next_attempt INTEGER NOT NULL,
  delivery_id  TEXT NOT NULL,
  PRIMARY KEY (outlet, seq)
) WITHOUT ROWID;

CREATE TABLE dead_letters (
  outlet      TEXT NOT NULL,
  seq         INTEGER NOT NULL,
  status      INTEGER NOT NULL,
  error       TEXT NOT NULL,
  attempts    INTEGER NOT NULL,
  at          INTEGER NOT NULL,
  delivery_id TEXT NOT NULL,
  PRIMARY KEY (outlet, seq)
) WITHOUT ROWID;

CREATE TABLE kv (
  ns      TEXT NOT NULL,
  key     TEXT NOT NULL,
  value   BLOB NOT NULL,
  updated INTEGER NOT NULL,
  PRIMARY KEY (ns, key)
) WITHOUT ROWID;

CREATE TABLE subscriptions (
  topic        TEXT NOT NULL,
  callback     TEXT NOT NULL,
  secret       TEXT NOT NULL,
  lease_expiry INTEGER NOT NULL,
  created      INTEGER NOT NULL,
  PRIMARY KEY (topic, callback)
) WITHOUT ROWID;
CREATE INDEX subscriptions_by_expiry ON subscriptions (lease_expiry);

-- A released lease keeps its row (owner '', expires 0) so that its token keeps growing.
CREATE TABLE leases (
  name    TEXT PRIMARY KEY,
  owner   TEXT NOT NULL,
  token   INTEGER NOT NULL,
  expires INTEGER NOT NULL
) WITHOUT ROWID;
)sql";

constexpr std::array<migration, 1> all = {{
    {1, v1},
}};

int query_int(connection& db, std::string_view sql, int& rc) {
  auto st = db.prepare(sql);
  int v = 0;
  if (st.step()) v = static_cast<int>(st.int64(0));
  rc = st.failed() ? st.rc() : SQLITE_OK;
  return v;
}

}  // namespace

std::span<const migration> migrations() { return all; }
int newest_schema_version() { return all.back().version; }

store_status migrate(connection& db, int target, std::span<const migration> list) {
  // Everything under one write lock: two processes starting on one new file must not both
  // create the tables.
  if (auto s = db.exec("BEGIN IMMEDIATE"); !s.ok()) return s;
  auto fail = [&](store_status s) {
    db.exec("ROLLBACK");
    return s;
  };
  int rc = SQLITE_OK;
  const int app = query_int(db, "PRAGMA application_id", rc);
  if (rc != SQLITE_OK) return fail(db.failure("reading the store", rc));
  const int tables = query_int(db, "SELECT count(*) FROM sqlite_schema", rc);
  if (rc != SQLITE_OK) return fail(db.failure("reading the store", rc));
  if (app != application_id) {
    if (tables != 0) {
      return fail({store_errc::not_a_store,
                   db.path() + ": not a syndic store: a SQLite database of another program"});
    }
    // PRAGMA application_id takes no parameter; the value is ours, a constant.
    if (auto s = db.exec("PRAGMA application_id = " + std::to_string(application_id)); !s.ok())
      return fail(s);
  }
  int version = 0;
  if (tables != 0) {
    const int has = query_int(
        db, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'syndic_schema'", rc);
    if (rc != SQLITE_OK) return fail(db.failure("reading the store", rc));
    if (has == 0) {
      return fail({store_errc::not_a_store,
                   db.path() + ": not a syndic store: it has no syndic_schema table"});
    }
    version = query_int(db, "SELECT coalesce(max(version), 0) FROM syndic_schema", rc);
    if (rc != SQLITE_OK) return fail(db.failure("reading the schema version", rc));
  } else {
    if (auto s = db.exec("CREATE TABLE syndic_schema (version INTEGER PRIMARY KEY, applied INTEGER NOT NULL)");
        !s.ok())
      return fail(s);
  }
  if (version > target) {
    return fail({store_errc::newer_schema,
                 db.path() + ": schema version " + std::to_string(version) +
                     " is newer than this syndic knows (" + std::to_string(target) +
                     "): run a newer syndic, or restore the data directory from a backup"});
  }
  for (const migration& m : list) {
    if (m.version <= version || m.version > target) continue;
    if (auto s = db.exec(m.sql); !s.ok()) {
      s.message += " (migrating to schema version " + std::to_string(m.version) + ")";
      return fail(s);
    }
    auto st = db.prepare("INSERT INTO syndic_schema (version, applied) VALUES (?1, ?2)");
    st.bind(1, std::int64_t{m.version}).bind(2, to_micros(store_clock::now()));
    if (!st.run()) return fail(db.failure("recording the schema version", st.rc()));
  }
  if (auto s = db.exec("COMMIT"); !s.ok()) return fail(s);
  return {};
}

store_status migrate(connection& db, int target) { return migrate(db, target, migrations()); }

}  // namespace syndic::engine::sqlite
