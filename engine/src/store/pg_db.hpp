#pragma once
// A thin layer over libpq for the PostgreSQL store: a result that owns its PGresult, a
// connection that prepares each distinct SQL text once and reuses it, PostgreSQL array
// literals for batched statements ($1::text[] with unnest), and the mapping of failures onto
// store_errc with the SQLSTATE kept, so that the writer can tell a deadlock or a lost
// connection (retry) from a real error. One connection is used by one thread at a time (the
// writer, or a reader checked out of the pool); nothing here locks.
//
// libpq-fe.h stays out of this header (only its two struct names are declared): files that
// include it do not need libpq's headers.
//
//   auto c = connection::open("postgres://postgres@127.0.0.1:5432/postgres", 5s);
//   auto r = c.value->query("SELECT seq FROM s.log WHERE idem_key = ANY($1::text[])",
//                           {array_literal(keys)});
//   for (int i = 0; i < r.value.rows(); ++i) use(r.value.int64(i, 0));

#include <syndic/engine/store.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

struct pg_conn;
struct pg_result;

namespace syndic::engine::pg {

// Stored times: microseconds since the Unix epoch, as in the SQLite store.
std::int64_t to_micros(store_time t);
store_time from_micros(std::int64_t us);

// Empty when libpq is loaded (it is loaded by this call if it was not); else why it could not
// be, as a sentence.
const std::string& libpq_load_error();

// A query's result; move-only. Values come in libpq's text format, or binary when the query
// asked for it (connection::query's `binary_results`); the accessors read either.
class result {
public:
  result() = default;
  explicit result(pg_result* r) : r_(r) {}
  result(result&& o) noexcept : r_(o.r_) { o.r_ = nullptr; }
  result& operator=(result&& o) noexcept;
  result(const result&) = delete;
  result& operator=(const result&) = delete;
  ~result();

  int rows() const;
  int cols() const;
  bool is_null(int row, int col) const;
  // The value's text (empty for NULL); valid while the result lives.
  std::string_view text(int row, int col) const;
  // An integer column (0 for NULL or text that is not a number; binary: int2, int4, int8).
  std::int64_t int64(int row, int col) const;
  // A bytea column's bytes (text format: "\x4142..." decoded; binary: as they are).
  std::string bytea(int row, int col) const;
  // A boolean column ("t"/"f").
  bool boolean(int row, int col) const;
  // Whether column `col` came in binary format.
  bool binary(int col) const;
  // Rows an INSERT/UPDATE/DELETE touched.
  std::int64_t affected() const;

  // libpq's ExecStatusType, as an int (PGRES_COMMAND_OK, PGRES_TUPLES_OK are ok()).
  int status() const;
  bool ok() const;
  pg_result* handle() const { return r_; }

private:
  pg_result* r_ = nullptr;
};

// Parameters of a query: text format, nullopt = NULL.
using params = std::vector<std::optional<std::string>>;

class connection {
public:
  ~connection();
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  // Connects (libpq URL or key=value syntax). Errors are io_error with a message that names
  // host:port and what to check ("127.0.0.1:5432: connection refused: is PostgreSQL running
  // and listening there?"). TCP keepalives are on, so a dead server is noticed in seconds,
  // not after the kernel's two hours (the URL may override them).
  static store_result<std::unique_ptr<connection>> open(const std::string& url,
                                                        std::chrono::milliseconds connect_timeout);

  // Runs SQL without parameters (BEGIN, COMMIT, DDL; several statements allowed).
  store_status exec(const char* sql);
  store_status exec(const std::string& sql) { return exec(sql.c_str()); }
  // The same, with the last statement's result: several statements in one round trip
  // ("BEGIN; SELECT ... FOR UPDATE"). Not prepared: for texts without values in them.
  store_result<result> exec_result(const std::string& sql);

  // Runs `sql` with text parameters ($1, $2...). The statement is prepared on its first use on
  // this connection and reused by its text afterwards: build SQL texts from a few fixed forms
  // (the schema name is part of them), never with values in them.
  store_result<result> query(std::string_view sql, const params& values);
  // The same, with the parameters whose `binary[i]` is true sent in binary format: raw bytes
  // for a bytea parameter (no hex or escaping: payloads go this way).
  store_result<result> query(std::string_view sql, const params& values, const std::vector<bool>& binary);
  // The same, with every result column in binary format when `binary_results`: bytea as raw
  // bytes rather than hex (half the bytes on the wire, no encoding either side: the log's
  // reads), integers as big-endian. Only for columns of types result's accessors read.
  store_result<result> query(std::string_view sql, const params& values, const std::vector<bool>& binary,
                             bool binary_results);

  // COPY ... FROM STDIN with `data` as its whole input (binary_copy builds it for
  // FORMAT binary): the fastest way in for many rows. `sql` is the COPY statement.
  store_status copy_in(const std::string& sql, std::string_view data);

  // True once the connection is lost: it will not work again; open another.
  bool broken() const;
  // The SQLSTATE of the latest failure ("40P01"; "08006" for a lost connection; empty when
  // the latest call succeeded or libpq gave none).
  const std::string& sqlstate() const { return sqlstate_; }
  // The latest failure may pass on its own if the transaction is run again: a deadlock, a
  // serialization failure, a lost connection, a server shutting down or starting.
  bool transient() const;
  // "host:port" (or the socket directory), for messages.
  const std::string& where() const { return where_; }
  pg_conn* handle() const { return conn_; }

private:
  connection() = default;
  store_status fail(std::string_view what, pg_result* r);
  store_result<result> run(std::string_view sql, const params& values, const std::vector<bool>* binary,
                           bool binary_results = false);

  pg_conn* conn_ = nullptr;
  std::string where_;
  std::string sqlstate_;
  std::unordered_map<std::string, std::string> prepared_;  // SQL text -> statement name
};

// The input of COPY ... FROM STDIN (FORMAT binary): rows of fields, each in its column type's
// binary form. Text goes as its UTF-8 bytes (text() repairs what the server would refuse),
// bytea as raw bytes, bigint as 8 bytes big-endian.
//
//   binary_copy c;
//   c.row(3); c.int8(seq); c.text(name); c.bytes(payload);
//   db.copy_in("COPY s.log (seq, item_id, payload) FROM STDIN (FORMAT binary)", c.finish());
class binary_copy {
public:
  binary_copy();
  void row(int fields);
  void int8(std::int64_t v);
  void int4(std::int32_t v);
  // Text: repaired as valid_text() does when it is not valid UTF-8 or holds NUL.
  void text(std::string_view s);
  void bytes(std::string_view b);
  void null();
  // The whole input, with its trailer; the builder is spent.
  std::string_view finish();
  std::size_t size() const { return buf_.size(); }
  std::size_t rows() const { return rows_; }

private:
  std::string buf_;
  std::size_t rows_ = 0;
};

// Whether a SQLSTATE names a failure worth running the transaction again for.
bool transient_sqlstate(std::string_view sqlstate);

// PostgreSQL array literals, for $n::text[] / $n::bigint[] / $n::bytea[] parameters and
// unnest(): every element quoted ("{\"a\",\"b\\\"c\"}"). Text elements must be valid UTF-8
// without NUL (valid_text()).
std::string array_literal(const std::vector<std::string>& values);
std::string array_literal(const std::vector<std::string_view>& values);
std::string array_literal(const std::vector<std::optional<std::string>>& values);  // nullopt: NULL
std::string array_literal(const std::vector<std::int64_t>& values);
// Elements in bytea's hex form ("\\x4142"): any bytes.
std::string bytea_array_literal(const std::vector<std::string>& values);

// A quoted identifier: "name" with inner quotes doubled (for the schema name in SQL texts).
std::string ident(std::string_view name);

// Text PostgreSQL accepts: invalid UTF-8 repaired (U+FFFD) and NUL replaced by U+FFFD. Costs
// one scan when the text is already fine.
std::string valid_text(std::string_view s);

}  // namespace syndic::engine::pg
