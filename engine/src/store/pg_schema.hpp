#pragma once
// The PostgreSQL store's schema and its migrations, in a schema (namespace) of its own
// (postgres_options::schema). Version N is reached by running migrations 1..N in order, each
// recorded in <schema>.schema_version in the same transaction; a schema whose version is above
// the newest this binary knows is refused (newer_schema), never written to.
//
// Several instances may start at once on a new database: the whole migration runs under a
// transaction-level advisory lock keyed by the schema's name, so one creates the tables and
// the others find them made.

#include "store/pg_db.hpp"

#include <span>
#include <string_view>

namespace syndic::engine::pg {

struct migration {
  int version;
  // Run with search_path set to the store's schema (tables are named without it).
  std::string_view sql;
};

std::span<const migration> migrations();
int newest_schema_version();

// Brings `schema` to `target` (newest_schema_version() outside tests); `report` gets the
// version found and the version left. Errors: newer_schema, not_a_store (the schema holds
// tables but no schema_version: another program's), io_error.
store_status migrate(connection& db, const std::string& schema, int target, migration_report& report);
store_status migrate(connection& db, const std::string& schema, int target, std::span<const migration> list,
                     migration_report& report);

}  // namespace syndic::engine::pg
