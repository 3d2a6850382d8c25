#include "store/pg_schema.hpp"

#include <array>
#include <string>

namespace syndic::engine::pg {
namespace {

// Version 1: the tables of the SQLite store (schema.cpp), in PostgreSQL's types. Times are
// bigint microseconds since the Unix epoch. Text keys sort by bytes (COLLATE "C"), as in
// SQLite, so that listings page the same way on both backends and whatever the database's
// locale.
//
// The log's seqs are given by the appending transaction, not by a sequence: it holds the
// log_head row's lock (FOR UPDATE) while it assigns head+1..head+n and moves the head, so
// appends of every instance commit one after another, in seq order, without gaps. Every row
// at or below log_head.seq is therefore visible: a reader tailing by seq never skips one that
// commits later (docs/cluster.md).
//
// append_batches: one row per appending transaction, written in it, so that a writer whose
// connection died during COMMIT can tell whether the commit happened before it appends again.
constexpr std::string_view v1 = R"sql(
CREATE TABLE log (
  seq          bigint PRIMARY KEY,
  item_id      text COLLATE "C" NOT NULL,
  source       text COLLATE "C" NOT NULL,
  channel      text COLLATE "C" NOT NULL,
  content_type text COLLATE "C" NOT NULL,
  payload      bytea NOT NULL,
  received     bigint NOT NULL,
  idem_key     text COLLATE "C"
);
CREATE INDEX log_by_channel ON log (channel, seq);
CREATE INDEX log_by_idem_key ON log (idem_key) WHERE idem_key IS NOT NULL;

CREATE TABLE log_head (
  id  smallint PRIMARY KEY CHECK (id = 1),
  seq bigint NOT NULL
);
INSERT INTO log_head (id, seq) VALUES (1, 0);

CREATE TABLE append_batches (
  batch text COLLATE "C" PRIMARY KEY,
  first bigint NOT NULL,
  last  bigint NOT NULL,
  at    bigint NOT NULL
);
CREATE INDEX append_batches_by_at ON append_batches (at);

CREATE TABLE outlets (
  id      text COLLATE "C" PRIMARY KEY,
  config  bytea NOT NULL,
  updated bigint NOT NULL
);

CREATE TABLE progress (
  outlet        text COLLATE "C" PRIMARY KEY,
  cursor        bigint NOT NULL,
  circuit       smallint NOT NULL DEFAULT 0,
  failures      int NOT NULL DEFAULT 0,
  circuit_since bigint NOT NULL DEFAULT 0,
  probe_at      bigint NOT NULL DEFAULT 0,
  last_error    text COLLATE "C" NOT NULL DEFAULT '',
  last_error_at bigint NOT NULL DEFAULT 0
);

-- Resolved seqs above the cursor, as disjoint, non-adjacent ranges [first, last].
CREATE TABLE done_ranges (
  outlet text COLLATE "C" NOT NULL,
  first  bigint NOT NULL,
  last   bigint NOT NULL,
  PRIMARY KEY (outlet, first)
);

CREATE TABLE retries (
  outlet       text COLLATE "C" NOT NULL,
  seq          bigint NOT NULL,
  attempts     int NOT NULL,
  next_attempt bigint NOT NULL,
  delivery_id  text COLLATE "C" NOT NULL,
  PRIMARY KEY (outlet, seq)
);

CREATE TABLE dead_letters (
  outlet      text COLLATE "C" NOT NULL,
  seq         bigint NOT NULL,
  status      int NOT NULL,
  error       text COLLATE "C" NOT NULL,
  attempts    int NOT NULL,
  at          bigint NOT NULL,
  delivery_id text COLLATE "C" NOT NULL,
  PRIMARY KEY (outlet, seq)
);

CREATE TABLE kv (
  ns      text COLLATE "C" NOT NULL,
  key     text COLLATE "C" NOT NULL,
  value   bytea NOT NULL,
  updated bigint NOT NULL,
  PRIMARY KEY (ns, key)
);

CREATE TABLE subscriptions (
  topic        text COLLATE "C" NOT NULL,
  callback     text COLLATE "C" NOT NULL,
  secret       text COLLATE "C" NOT NULL,
  lease_expiry bigint NOT NULL,
  created      bigint NOT NULL,
  PRIMARY KEY (topic, callback)
);
CREATE INDEX subscriptions_by_expiry ON subscriptions (lease_expiry);

-- A released lease keeps its row (owner '', expires 0) so that its token keeps growing.
CREATE TABLE leases (
  name    text COLLATE "C" PRIMARY KEY,
  owner   text COLLATE "C" NOT NULL,
  token   bigint NOT NULL,
  expires bigint NOT NULL
);
)sql";

constexpr std::array<migration, 1> all = {{
    {1, v1},
}};

}  // namespace

std::span<const migration> migrations() { return all; }
int newest_schema_version() { return all.back().version; }

store_status migrate(connection& db, const std::string& schema, int target, std::span<const migration> list,
                     migration_report& report) {
  report = {};
  if (schema.empty()) return {store_errc::invalid_argument, db.where() + ": no schema name given"};
  const std::string where = db.where() + " (schema " + schema + ")";
  if (auto s = db.exec("BEGIN"); !s.ok()) return s;
  auto fail = [&](store_status s) {
    db.exec("ROLLBACK");
    return s;
  };
  // One migrator at a time per schema, across every instance and process: the lock is the
  // transaction's and goes with its COMMIT or ROLLBACK (or the connection).
  if (auto r = db.query("SELECT pg_advisory_xact_lock(hashtextextended('syndic.schema:' || $1, 0))", {schema});
      !r.ok())
    return fail(r.status);
  auto tables = db.query(
      "SELECT count(*), count(*) FILTER (WHERE tablename = 'schema_version') FROM pg_tables WHERE schemaname = $1",
      {schema});
  if (!tables.ok()) return fail(tables.status);
  const std::int64_t n_tables = tables.value.int64(0, 0);
  const bool has_version = tables.value.int64(0, 1) > 0;
  if (n_tables > 0 && !has_version) {
    return fail({store_errc::not_a_store,
                 where + ": not a syndic store: the schema has tables but no schema_version table "
                         "(another program's? give syndic a schema of its own)"});
  }
  const std::string q = ident(schema);
  if (!has_version) {
    if (auto s = db.exec("CREATE SCHEMA IF NOT EXISTS " + q); !s.ok()) return fail(s);
    if (auto s = db.exec("CREATE TABLE " + q + ".schema_version (version int PRIMARY KEY, applied bigint NOT NULL)");
        !s.ok())
      return fail(s);
  }
  auto v = db.query("SELECT coalesce(max(version), 0) FROM " + q + ".schema_version", {});
  if (!v.ok()) return fail(v.status);
  const int version = static_cast<int>(v.value.int64(0, 0));
  report.from_version = report.to_version = version;
  if (version > target) {
    return fail({store_errc::newer_schema,
                 where + ": schema version " + std::to_string(version) + " is newer than this syndic knows (" +
                     std::to_string(target) + "): run a newer syndic, or restore the database from a backup"});
  }
  if (auto s = db.exec("SET LOCAL search_path TO " + q); !s.ok()) return fail(s);
  int reached = version;
  for (const migration& m : list) {
    if (m.version <= version || m.version > target) continue;
    if (auto s = db.exec(std::string(m.sql)); !s.ok()) {
      s.message += " (migrating to schema version " + std::to_string(m.version) + ")";
      return fail(s);
    }
    auto ins = db.query("INSERT INTO " + q + ".schema_version (version, applied) VALUES ($1, $2)",
                        {std::to_string(m.version), std::to_string(to_micros(store_clock::now()))});
    if (!ins.ok()) return fail(ins.status);
    reached = m.version;
  }
  if (auto s = db.exec("COMMIT"); !s.ok()) return fail(s);
  report.to_version = reached;
  return {};
}

store_status migrate(connection& db, const std::string& schema, int target, migration_report& report) {
  return migrate(db, schema, target, migrations(), report);
}

}  // namespace syndic::engine::pg
