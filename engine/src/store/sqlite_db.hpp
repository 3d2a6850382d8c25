#pragma once
// A thin layer over the SQLite C API for the store: a connection that owns its prepared
// statements (prepared once, reset after each use), and the mapping of SQLite's result codes
// onto store_errc. One connection is used by one thread at a time (the writer, or a reader
// checked out of the pool); nothing here locks.

#include <syndic/engine/store.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

struct sqlite3;
struct sqlite3_stmt;

namespace syndic::engine::sqlite {

// Stored times: microseconds since the Unix epoch.
std::int64_t to_micros(store_time t);
store_time from_micros(std::int64_t us);

// The store_errc for a SQLite result code (primary or extended).
store_errc errc_of(int rc);

class connection;

// A prepared statement, borrowed from its connection's cache for one use: bind, step, read
// columns; the destructor resets it and clears its bindings so the next use starts clean.
class statement {
public:
  // `s` null: preparing failed with `prepare_rc`; every step then fails with it.
  statement(connection& c, sqlite3_stmt* s, int prepare_rc = 0)
      : conn_(&c), stmt_(s), rc_(prepare_rc), failed_(s == nullptr) {}
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;
  ~statement();

  // A statement must end (go out of scope) before its connection is closed.
  // Parameters are numbered from 1, as in SQLite.
  statement& bind(int i, std::int64_t v);
  statement& bind(int i, std::string_view text);  // copied by SQLite (SQLITE_TRANSIENT)
  statement& bind_blob(int i, std::string_view bytes);
  statement& bind_null(int i);

  // One step: true while a row is available, false when done. Errors are kept (error()).
  bool step();
  // Steps to the end (for statements that return no rows); false on error.
  bool run();

  std::int64_t int64(int col) const;
  std::string text(int col) const;  // TEXT or BLOB bytes
  bool is_null(int col) const;

  int rc() const { return rc_; }
  bool failed() const { return failed_; }

private:
  connection* conn_;
  sqlite3_stmt* stmt_;
  int rc_ = 0;
  bool failed_ = false;
};

class connection {
public:
  connection() = default;
  ~connection();
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  // Opens (or creates) `path`; the status names the path in its message.
  store_status open(const std::string& path, bool create, std::chrono::milliseconds busy_timeout);
  void close();
  sqlite3* handle() const { return db_; }

  // Runs SQL with no results (several statements allowed); not cached.
  store_status exec(std::string_view sql);
  // A cached prepared statement for `sql`. `sql` must outlive the connection (a literal): it
  // is the cache's key. A statement that fails to prepare is reported by status().
  statement prepare(std::string_view sql);
  // A status for a failure with result code `rc` on this connection:
  // "PATH: WHAT: sqlite's message". `what` says what was being done.
  store_status failure(std::string_view what, int rc) const;
  std::string errmsg() const;
  std::int64_t last_insert_rowid() const;
  const std::string& path() const { return path_; }

private:
  friend class statement;
  sqlite3* db_ = nullptr;
  std::string path_;
  std::unordered_map<const char*, sqlite3_stmt*> cache_;
};

}  // namespace syndic::engine::sqlite
