#include "store/pg_db.hpp"

#include "formats/src/text.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace syndic::engine::pg {

std::int64_t to_micros(store_time t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

store_time from_micros(std::int64_t us) {
  return store_time(std::chrono::duration_cast<store_clock::duration>(std::chrono::microseconds(us)));
}

// ---- result -------------------------------------------------------------------------------

result& result::operator=(result&& o) noexcept {
  if (this != &o) {
    if (r_) PQclear(r_);
    r_ = o.r_;
    o.r_ = nullptr;
  }
  return *this;
}

result::~result() {
  if (r_) PQclear(r_);
}

int result::rows() const { return r_ ? PQntuples(r_) : 0; }
int result::cols() const { return r_ ? PQnfields(r_) : 0; }
bool result::is_null(int row, int col) const { return !r_ || PQgetisnull(r_, row, col) != 0; }

std::string_view result::text(int row, int col) const {
  if (!r_) return {};
  const char* v = PQgetvalue(r_, row, col);
  if (!v) return {};
  return {v, static_cast<std::size_t>(PQgetlength(r_, row, col))};
}

bool result::binary(int col) const { return r_ && PQfformat(r_, col) == 1; }

std::int64_t result::int64(int row, int col) const {
  std::string_view t = text(row, col);
  if (binary(col)) {
    std::uint64_t v = 0;
    for (unsigned char c : t) v = (v << 8) | c;
    // Sign-extend int2 and int4.
    if (t.size() == 2) return static_cast<std::int16_t>(v);
    if (t.size() == 4) return static_cast<std::int32_t>(v);
    return static_cast<std::int64_t>(v);
  }
  std::int64_t v = 0;
  std::from_chars(t.data(), t.data() + t.size(), v);
  return v;
}

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string result::bytea(int row, int col) const {
  std::string_view t = text(row, col);
  if (binary(col)) return std::string(t);
  std::string out;
  if (t.size() >= 2 && t[0] == '\\' && t[1] == 'x') {
    // bytea_output = hex, the default since PostgreSQL 9.0.
    out.resize((t.size() - 2) / 2);
    for (std::size_t i = 0; i < out.size(); ++i) {
      const int hi = hex_value(t[2 + 2 * i]), lo = hex_value(t[3 + 2 * i]);
      out[i] = static_cast<char>((hi << 4) | lo);
    }
    return out;
  }
  // The old escape format: \\ and \ooo.
  out.reserve(t.size());
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t[i] == '\\' && i + 1 < t.size() && t[i + 1] == '\\') {
      out += '\\';
      ++i;
    } else if (t[i] == '\\' && i + 3 < t.size()) {
      out += static_cast<char>(((t[i + 1] - '0') << 6) | ((t[i + 2] - '0') << 3) | (t[i + 3] - '0'));
      i += 3;
    } else {
      out += t[i];
    }
  }
  return out;
}

bool result::boolean(int row, int col) const {
  std::string_view t = text(row, col);
  if (binary(col)) return !t.empty() && t[0] != 0;
  return !t.empty() && t[0] == 't';
}

std::int64_t result::affected() const {
  if (!r_) return 0;
  const char* n = PQcmdTuples(r_);
  std::int64_t v = 0;
  if (n) std::from_chars(n, n + std::strlen(n), v);
  return v;
}

int result::status() const { return r_ ? static_cast<int>(PQresultStatus(r_)) : PGRES_FATAL_ERROR; }

bool result::ok() const {
  const int s = status();
  return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK || s == PGRES_EMPTY_QUERY;
}

// ---- connection ---------------------------------------------------------------------------

namespace {

// NOTICEs ("schema already exists, skipping") are for people at a psql prompt, not our stderr.
void ignore_notice(void*, const char*) {}

// "host:port" from the connection string, for messages: what the user wrote (or libpq's
// defaults), even when the connection never came up.
std::string where_of(const std::string& url) {
  std::string host, port;
  char* err = nullptr;
  if (PQconninfoOption* opts = PQconninfoParse(url.c_str(), &err)) {
    for (PQconninfoOption* o = opts; o->keyword; ++o) {
      if (!o->val) continue;
      if (std::strcmp(o->keyword, "host") == 0) host = o->val;
      if (std::strcmp(o->keyword, "hostaddr") == 0 && host.empty()) host = o->val;
      if (std::strcmp(o->keyword, "port") == 0) port = o->val;
    }
    PQconninfoFree(opts);
  }
  if (err) PQfreemem(err);
  if (host.empty()) host = "localhost";
  if (port.empty()) port = "5432";
  if (host.find(',') != std::string::npos || port.find(',') != std::string::npos) return host + " (ports " + port + ")";
  if (host.starts_with("/")) return host + "/.s.PGSQL." + port;
  return host + ":" + port;
}

bool contains(std::string_view hay, std::string_view needle) { return hay.find(needle) != std::string_view::npos; }

std::string trim_message(const char* m) {
  std::string s = m ? m : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  // libpq's connection errors span lines ("connection to server at ... failed: Connection
  // refused\n\tIs the server running..."): one line for logs.
  for (char& c : s)
    if (c == '\n' || c == '\t') c = ' ';
  return s;
}

// What to check, from libpq's words for a failed connection.
std::string advice_for(std::string_view m) {
  if (contains(m, "Connection refused")) return "connection refused: is PostgreSQL running and listening there?";
  if (contains(m, "timeout expired") || contains(m, "timed out"))
    return "connection timed out: is the host reachable and the port open (firewall)?";
  if (contains(m, "could not translate host name") || contains(m, "Name or service not known"))
    return "unknown host: check the host name in the URL";
  if (contains(m, "No such file or directory") && contains(m, "socket"))
    return "no server socket there: is PostgreSQL running, and is the host or socket directory right?";
  if (contains(m, "password authentication failed") || contains(m, "no password supplied") ||
      contains(m, "pg_hba.conf"))
    return "authentication failed: check the user and password in the URL and the server's pg_hba.conf";
  if (contains(m, "does not exist")) return "check the database and user names in the URL";
  if (contains(m, "the database system is starting up") || contains(m, "shutting down"))
    return "the server is starting or shutting down: try again shortly";
  if (contains(m, "too many clients") || contains(m, "remaining connection slots"))
    return "too many connections: raise max_connections or lower the store's read_connections";
  if (contains(m, "SSL")) return "TLS failed: check sslmode in the URL and the server's certificates";
  return "cannot connect: check the URL, and that PostgreSQL runs there";
}

}  // namespace

store_result<std::unique_ptr<connection>> connection::open(const std::string& url,
                                                           std::chrono::milliseconds connect_timeout) {
  store_result<std::unique_ptr<connection>> r;
  if (const std::string& why = libpq_load_error(); !why.empty()) {
    r.status = {store_errc::io_error, why};
    return r;
  }
  std::unique_ptr<connection> c(new connection());
  c->where_ = where_of(url);
  // libpq takes whole seconds (and treats 1 as 2); round up so that a short timeout stays one.
  const long secs = std::max<long>(2, static_cast<long>((connect_timeout.count() + 999) / 1000));
  const std::string timeout = std::to_string(secs);
  // Defaults first: the URL (dbname, expanded) comes last and overrides any of them.
  // idle_in_transaction_session_timeout: a transaction of ours whose client stopped (a
  // network cut, which the server may not notice for hours, or an instance paused with
  // SIGSTOP) is ended by the server after 1.5 s, so that its row locks (the log's head, the
  // lease rows) do not hold up every other instance's writer, and with it their lease
  // renewals, for longer than a lease lives. Our transactions never wait on the client that
  // long: their statements follow each other within milliseconds (a starved client whose
  // session is ended reconnects and retries the round).
  const char* keys[] = {"connect_timeout", "keepalives", "keepalives_idle", "keepalives_interval",
                        "keepalives_count", "tcp_user_timeout", "application_name", "client_encoding",
                        "options", "dbname", nullptr};
  const char* values[] = {timeout.c_str(), "1", "10", "3", "3", "20000", "syndic", "UTF8",
                          "-c idle_in_transaction_session_timeout=1500", url.c_str(), nullptr};
  c->conn_ = PQconnectdbParams(keys, values, 1);
  if (!c->conn_) {
    r.status = {store_errc::io_error, c->where_ + ": cannot connect: out of memory in libpq"};
    return r;
  }
  if (PQstatus(c->conn_) != CONNECTION_OK) {
    const std::string m = trim_message(PQerrorMessage(c->conn_));
    r.status = {store_errc::io_error, c->where_ + ": " + advice_for(m) + " (" + m + ")"};
    return r;
  }
  PQsetNoticeProcessor(c->conn_, ignore_notice, nullptr);
  r.value = std::move(c);
  return r;
}

connection::~connection() {
  if (conn_) PQfinish(conn_);
}

bool connection::broken() const { return !conn_ || PQstatus(conn_) != CONNECTION_OK; }

bool transient_sqlstate(std::string_view s) {
  return s == "40P01" || s == "40001" || s.starts_with("08") || s == "57P01" || s == "57P02" ||
         s == "57P03" || s == "53300";
}

bool connection::transient() const { return broken() || transient_sqlstate(sqlstate_); }

store_status connection::fail(std::string_view what, pg_result* r) {
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  sqlstate_ = state ? state : "";
  std::string m = trim_message(r ? PQresultErrorMessage(r) : nullptr);
  if (m.empty()) m = trim_message(PQerrorMessage(conn_));
  if (sqlstate_.empty() && broken()) sqlstate_ = "08006";  // libpq gives none for a lost connection
  store_status s;
  s.code = store_errc::io_error;
  if (sqlstate_ == "40P01" || sqlstate_ == "40001" || sqlstate_ == "55P03") s.code = store_errc::busy;
  if (sqlstate_ == "22021" || sqlstate_ == "22P05" || sqlstate_ == "22P02" || sqlstate_ == "54000")
    s.code = store_errc::invalid_argument;  // bad encoding, bad input syntax, too large
  s.message = where_ + ": " + std::string(what) + ": " + m;
  if (!sqlstate_.empty()) s.message += " [" + sqlstate_ + "]";
  if (broken()) s.message += " (connection lost: is PostgreSQL still running there?)";
  return s;
}

store_status connection::exec(const char* sql) {
  sqlstate_.clear();
  result r(PQexec(conn_, sql));
  if (!r.ok()) return fail("query failed", r.handle());
  return {};
}

store_result<result> connection::exec_result(const std::string& sql) {
  sqlstate_.clear();
  store_result<result> out;
  out.value = result(PQexec(conn_, sql.c_str()));
  if (!out.value.ok()) out.status = fail("query failed", out.value.handle());
  return out;
}

store_result<result> connection::query(std::string_view sql, const params& values) {
  return run(sql, values, nullptr);
}

store_result<result> connection::query(std::string_view sql, const params& values,
                                       const std::vector<bool>& binary) {
  return run(sql, values, &binary);
}

store_result<result> connection::query(std::string_view sql, const params& values,
                                       const std::vector<bool>& binary, bool binary_results) {
  return run(sql, values, &binary, binary_results);
}

store_result<result> connection::run(std::string_view sql, const params& values,
                                     const std::vector<bool>* binary, bool binary_results) {
  store_result<result> out;
  sqlstate_.clear();
  std::string key(sql);
  auto it = prepared_.find(key);
  if (it == prepared_.end()) {
    std::string name = "s" + std::to_string(prepared_.size() + 1);
    result p(PQprepare(conn_, name.c_str(), key.c_str(), static_cast<int>(values.size()), nullptr));
    if (!p.ok()) {
      out.status = fail("preparing a statement failed", p.handle());
      return out;
    }
    it = prepared_.emplace(std::move(key), std::move(name)).first;
  }
  std::vector<const char*> v(values.size());
  std::vector<int> lengths(values.size()), formats(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (values[i]) {
      v[i] = values[i]->data();
      lengths[i] = static_cast<int>(values[i]->size());
    }
    formats[i] = binary && i < binary->size() && (*binary)[i] ? 1 : 0;
  }
  out.value = result(PQexecPrepared(conn_, it->second.c_str(), static_cast<int>(values.size()), v.data(),
                                    lengths.data(), formats.data(), binary_results ? 1 : 0));
  if (!out.value.ok()) out.status = fail("query failed", out.value.handle());
  return out;
}

store_status connection::copy_in(const std::string& sql, std::string_view data) {
  sqlstate_.clear();
  {
    result r(PQexec(conn_, sql.c_str()));
    if (r.status() != PGRES_COPY_IN) return fail("starting a COPY failed", r.handle());
  }
  bool sent = true;
  // libpq takes int lengths: a big input goes in pieces.
  constexpr std::size_t piece = 1u << 20;
  for (std::size_t at = 0; at < data.size() && sent; at += piece) {
    const std::size_t n = std::min(piece, data.size() - at);
    sent = PQputCopyData(conn_, data.data() + at, static_cast<int>(n)) == 1;
  }
  const bool ended = PQputCopyEnd(conn_, sent ? nullptr : "sending failed") == 1;
  // The COPY's outcome, then libpq's null that ends the results.
  store_status s;
  bool first = true;
  while (PGresult* raw = PQgetResult(conn_)) {
    result r(raw);
    if (first && !r.ok()) s = fail("COPY failed", r.handle());
    first = false;
  }
  if (s.ok() && (!sent || !ended)) s = fail("COPY failed", nullptr);
  return s;
}

// ---- COPY (FORMAT binary) -----------------------------------------------------------------

namespace {

void put_be(std::string& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

}  // namespace

binary_copy::binary_copy() {
  // Signature, flags (no OIDs), header extension length.
  buf_.append("PGCOPY\n\xff\r\n\0", 11);
  put_be(buf_, 0, 4);
  put_be(buf_, 0, 4);
}

void binary_copy::row(int fields) {
  put_be(buf_, static_cast<std::uint16_t>(fields), 2);
  ++rows_;
}

void binary_copy::int8(std::int64_t v) {
  put_be(buf_, 8, 4);
  put_be(buf_, static_cast<std::uint64_t>(v), 8);
}

void binary_copy::int4(std::int32_t v) {
  put_be(buf_, 4, 4);
  put_be(buf_, static_cast<std::uint32_t>(v), 4);
}

void binary_copy::text(std::string_view s) {
  if (s.find('\0') != std::string_view::npos || !formats::detail::is_valid_utf8(s)) {
    bytes(valid_text(s));
    return;
  }
  bytes(s);
}

void binary_copy::bytes(std::string_view b) {
  put_be(buf_, static_cast<std::uint32_t>(b.size()), 4);
  buf_.append(b);
}

void binary_copy::null() { put_be(buf_, 0xffffffffu, 4); }

std::string_view binary_copy::finish() {
  put_be(buf_, 0xffffu, 2);  // -1: the end
  return buf_;
}

// ---- literals -----------------------------------------------------------------------------

namespace {

void append_element(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

template <class V>
std::string text_array(const V& values) {
  std::string out = "{";
  std::size_t size = 2;
  for (const auto& v : values) size += std::string_view(v).size() + 3;
  out.reserve(size);
  bool first = true;
  for (const auto& v : values) {
    if (!first) out += ',';
    first = false;
    append_element(out, v);
  }
  out += '}';
  return out;
}

}  // namespace

std::string array_literal(const std::vector<std::string>& values) { return text_array(values); }
std::string array_literal(const std::vector<std::string_view>& values) { return text_array(values); }

std::string array_literal(const std::vector<std::optional<std::string>>& values) {
  std::string out = "{";
  bool first = true;
  for (const auto& v : values) {
    if (!first) out += ',';
    first = false;
    if (v) append_element(out, *v);
    else out += "NULL";
  }
  out += '}';
  return out;
}

std::string array_literal(const std::vector<std::int64_t>& values) {
  std::string out = "{";
  out.reserve(values.size() * 8 + 2);
  bool first = true;
  char buf[24];
  for (std::int64_t v : values) {
    if (!first) out += ',';
    first = false;
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, end);
  }
  out += '}';
  return out;
}

std::string bytea_array_literal(const std::vector<std::string>& values) {
  static const char digits[] = "0123456789abcdef";
  std::string out = "{";
  std::size_t size = 2;
  for (const auto& v : values) size += v.size() * 2 + 6;
  out.reserve(size);
  bool first = true;
  for (const auto& v : values) {
    if (!first) out += ',';
    first = false;
    out += "\"\\\\x";  // "\\x: the array's quoting leaves bytea's \x
    for (unsigned char c : v) {
      out += digits[c >> 4];
      out += digits[c & 15];
    }
    out += '"';
  }
  out += '}';
  return out;
}

std::string ident(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string valid_text(std::string_view s) {
  std::string out(s);
  if (out.find('\0') != std::string::npos) {
    std::string fixed;
    fixed.reserve(out.size() + 8);
    for (char c : out) {
      if (c == '\0') fixed += "\xEF\xBF\xBD";
      else fixed += c;
    }
    out = std::move(fixed);
  }
  formats::detail::repair_utf8(out);
  return out;
}

}  // namespace syndic::engine::pg
