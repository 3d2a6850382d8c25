#include "store/sqlite_db.hpp"

#include <sqlite3.h>

namespace syndic::engine::sqlite {

std::int64_t to_micros(store_time t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

store_time from_micros(std::int64_t us) {
  return store_time(std::chrono::duration_cast<store_clock::duration>(std::chrono::microseconds(us)));
}

store_errc errc_of(int rc) {
  switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE: return store_errc::ok;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return store_errc::busy;
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT: return store_errc::not_a_store;
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_AUTH: return store_errc::unwritable;
    case SQLITE_MISUSE:
    case SQLITE_RANGE: return store_errc::invalid_argument;
    default: return store_errc::io_error;  // SQLITE_IOERR, SQLITE_FULL, SQLITE_NOMEM, ...
  }
}

// ---- statement ----------------------------------------------------------------------------

statement::~statement() {
  if (stmt_ != nullptr) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
}

statement& statement::bind(int i, std::int64_t v) {
  if (stmt_ != nullptr) sqlite3_bind_int64(stmt_, i, v);
  return *this;
}

statement& statement::bind(int i, std::string_view text) {
  if (stmt_ != nullptr)
    sqlite3_bind_text64(stmt_, i, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  return *this;
}

statement& statement::bind_blob(int i, std::string_view bytes) {
  // A zero-length blob must still be a blob, not NULL: sqlite3_bind_blob64 with a null
  // pointer binds NULL.
  if (stmt_ != nullptr) {
    static const char empty = 0;
    sqlite3_bind_blob64(stmt_, i, bytes.empty() ? &empty : bytes.data(), bytes.size(),
                        SQLITE_TRANSIENT);
  }
  return *this;
}

statement& statement::bind_null(int i) {
  if (stmt_ != nullptr) sqlite3_bind_null(stmt_, i);
  return *this;
}

bool statement::step() {
  if (stmt_ == nullptr) return false;
  rc_ = sqlite3_step(stmt_);
  if (rc_ == SQLITE_ROW) return true;
  if (rc_ != SQLITE_DONE) failed_ = true;
  return false;
}

bool statement::run() {
  while (step()) {
  }
  return !failed_;
}

std::int64_t statement::int64(int col) const { return sqlite3_column_int64(stmt_, col); }

std::string statement::text(int col) const {
  const void* p = sqlite3_column_blob(stmt_, col);
  const int n = sqlite3_column_bytes(stmt_, col);
  if (p == nullptr || n <= 0) return {};
  return std::string(static_cast<const char*>(p), static_cast<std::size_t>(n));
}

bool statement::is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

// ---- connection ---------------------------------------------------------------------------

connection::~connection() { close(); }

void connection::close() {
  for (auto& [key, stmt] : cache_) sqlite3_finalize(stmt);
  cache_.clear();
  if (db_ != nullptr) {
    sqlite3_close_v2(db_);
    db_ = nullptr;
  }
}

store_status connection::open(const std::string& path, bool create,
                              std::chrono::milliseconds busy_timeout) {
  close();
  path_ = path;
  // NOMUTEX: SQLite's own per-connection mutex is not needed, a connection being used by one
  // thread at a time (the store's pool hands it out).
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  if (create) flags |= SQLITE_OPEN_CREATE;
  const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    store_status s = failure("cannot open", rc);
    close();
    return s;
  }
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, static_cast<int>(busy_timeout.count()));
  return {};
}

store_status connection::exec(std::string_view sql) {
  const std::string text(sql);
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return {};
  std::string msg = err != nullptr ? err : sqlite3_errstr(rc);
  sqlite3_free(err);
  return {errc_of(rc), path_ + ": " + msg};
}

statement connection::prepare(std::string_view sql) {
  auto it = cache_.find(sql.data());
  if (it != cache_.end()) return statement(*this, it->second);
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK || stmt == nullptr) {
    if (stmt != nullptr) sqlite3_finalize(stmt);
    return statement(*this, nullptr, rc == SQLITE_OK ? SQLITE_MISUSE : rc);
  }
  cache_.emplace(sql.data(), stmt);
  return statement(*this, stmt);
}

std::int64_t connection::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }

std::string connection::errmsg() const {
  return db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
}

store_status connection::failure(std::string_view what, int rc) const {
  std::string msg = db_ != nullptr && sqlite3_errcode(db_) != SQLITE_OK ? sqlite3_errmsg(db_)
                                                                         : sqlite3_errstr(rc);
  std::string text = path_;
  text += ": ";
  text += what;
  text += ": ";
  text += msg;
  return {errc_of(rc), std::move(text)};
}

}  // namespace syndic::engine::sqlite
