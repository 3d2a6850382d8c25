#pragma once
// The SQLite store's schema and its migrations. Version N of the schema is reached by running
// migrations 1..N in order, each in the transaction that records it in `syndic_schema`; a
// file whose version is above the newest this binary knows is refused (newer_schema), never
// written to. docs/store.md describes the tables.

#include "store/sqlite_db.hpp"

#include <span>
#include <string_view>

namespace syndic::engine::sqlite {

// PRAGMA application_id of a syndic store ('SYND'): tells our file from another SQLite file.
inline constexpr std::int32_t application_id = 0x53594E44;

struct migration {
  int version;
  std::string_view sql;  // run in one transaction, with the version row
};

// Every migration this binary knows, ascending from 1.
std::span<const migration> migrations();
int newest_schema_version();

// Brings the open connection's file to `target` (newest_schema_version() outside tests).
// A new, empty file is stamped with application_id first; a file with tables but another
// application_id is refused (not_a_store), as is a file whose version is newer.
store_status migrate(connection& db, int target);
// The same with another list of migrations (tests: a version 2 to come).
store_status migrate(connection& db, int target, std::span<const migration> list);

}  // namespace syndic::engine::sqlite
