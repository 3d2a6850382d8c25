// Outlets' progress, read from PostgreSQL: the summaries and the pages of exceptions, each in
// one statement (one snapshot: a cursor and its counts agree). Keys are valid_text()'d as the
// applier writes them.

#include "store/pg_apply.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>

namespace syndic::engine::pg {
namespace {

std::string i64_text(std::uint64_t v) {
  return std::to_string(std::min<std::uint64_t>(v, std::numeric_limits<std::int64_t>::max()));
}

// The columns of a summary, p being the progress row; d, r, x its done, retry and dead counts.
constexpr std::string_view summary_columns =
    "p.outlet, p.cursor, p.circuit, p.failures, p.circuit_since, p.probe_at, p.last_error, p.last_error_at, ";

progress_summary summary_of(const result& r, int i) {
  progress_summary p;
  p.outlet = std::string(r.text(i, 0));
  p.cursor = static_cast<seq_t>(r.int64(i, 1));
  p.circuit.mode = static_cast<circuit_mode>(r.int64(i, 2));
  p.circuit.failures = static_cast<std::uint32_t>(r.int64(i, 3));
  p.circuit.since = from_micros(r.int64(i, 4));
  p.circuit.probe_at = from_micros(r.int64(i, 5));
  p.last_error = std::string(r.text(i, 6));
  p.last_error_at = from_micros(r.int64(i, 7));
  p.done_above = static_cast<std::size_t>(r.int64(i, 8));
  p.retries = static_cast<std::size_t>(r.int64(i, 9));
  p.dead_letters = static_cast<std::size_t>(r.int64(i, 10));
  return p;
}

template <class T>
store_result<T> failed(store_status s) {
  return {std::move(s), T{}};
}

}  // namespace

store_result<std::optional<progress_summary>> read_progress(connection& c, const std::string& schema,
                                                            std::string_view outlet) {
  using R = std::optional<progress_summary>;
  const std::string S = ident(schema);
  auto q = c.query("SELECT " + std::string(summary_columns) +
                       "(SELECT coalesce(sum(d.last - d.first + 1), 0) FROM " + S +
                       ".done_ranges d WHERE d.outlet = p.outlet), "
                       "(SELECT count(*) FROM " + S + ".retries r WHERE r.outlet = p.outlet), "
                       "(SELECT count(*) FROM " + S + ".dead_letters x WHERE x.outlet = p.outlet) "
                       "FROM " + S + ".progress p WHERE p.outlet = $1::text",
                   {valid_text(outlet)});
  if (!q.ok()) return failed<R>(q.status);
  store_result<R> r;
  if (q.value.rows() == 1) r.value = summary_of(q.value, 0);
  return r;
}

store_result<std::vector<progress_summary>> read_all_progress(connection& c, const std::string& schema) {
  using R = std::vector<progress_summary>;
  const std::string S = ident(schema);
  // Counts grouped once per table rather than three probes per outlet: start-up reads them all.
  auto q = c.query("SELECT " + std::string(summary_columns) +
                       "coalesce(d.n, 0), coalesce(r.n, 0), coalesce(x.n, 0) FROM " + S + ".progress p "
                       "LEFT JOIN (SELECT outlet, sum(last - first + 1) AS n FROM " + S +
                       ".done_ranges GROUP BY outlet) d ON d.outlet = p.outlet "
                       "LEFT JOIN (SELECT outlet, count(*) AS n FROM " + S +
                       ".retries GROUP BY outlet) r ON r.outlet = p.outlet "
                       "LEFT JOIN (SELECT outlet, count(*) AS n FROM " + S +
                       ".dead_letters GROUP BY outlet) x ON x.outlet = p.outlet "
                       "ORDER BY p.outlet",
                   {});
  if (!q.ok()) return failed<R>(q.status);
  store_result<R> r;
  r.value.reserve(static_cast<std::size_t>(q.value.rows()));
  for (int i = 0; i < q.value.rows(); ++i) r.value.push_back(summary_of(q.value, i));
  return r;
}

store_result<std::vector<seq_range>> read_done_above(connection& c, const std::string& schema,
                                                     std::string_view outlet, seq_t after, std::size_t limit) {
  using R = std::vector<seq_range>;
  const std::string S = ident(schema);
  // Ranges are disjoint: the one holding `after` (if any) starts at the greatest first <=
  // after, and every later one starts above; both found through the primary key.
  auto q = c.query("SELECT first, last FROM " + S + ".done_ranges WHERE outlet = $1::text AND first >= "
                       "(SELECT coalesce(max(first), 0) FROM " + S +
                       ".done_ranges WHERE outlet = $1::text AND first <= $2::bigint) "
                       "AND last > $2::bigint ORDER BY first LIMIT $3::bigint",
                   {valid_text(outlet), i64_text(after), i64_text(limit)});
  if (!q.ok()) return failed<R>(q.status);
  store_result<R> r;
  for (int i = 0; i < q.value.rows(); ++i)
    r.value.push_back({static_cast<seq_t>(q.value.int64(i, 0)), static_cast<seq_t>(q.value.int64(i, 1))});
  return r;
}

store_result<std::vector<retry_entry>> read_retries(connection& c, const std::string& schema,
                                                    std::string_view outlet, seq_t after, std::size_t limit) {
  using R = std::vector<retry_entry>;
  auto q = c.query("SELECT seq, attempts, next_attempt, delivery_id FROM " + ident(schema) +
                       ".retries WHERE outlet = $1::text AND seq > $2::bigint ORDER BY seq LIMIT $3::bigint",
                   {valid_text(outlet), i64_text(after), i64_text(limit)});
  if (!q.ok()) return failed<R>(q.status);
  store_result<R> r;
  for (int i = 0; i < q.value.rows(); ++i) {
    r.value.push_back({static_cast<seq_t>(q.value.int64(i, 0)), static_cast<std::uint32_t>(q.value.int64(i, 1)),
                       from_micros(q.value.int64(i, 2)), std::string(q.value.text(i, 3))});
  }
  return r;
}

store_result<std::vector<dead_letter>> read_dead_letters(connection& c, const std::string& schema,
                                                         std::string_view outlet, seq_t after, std::size_t limit) {
  using R = std::vector<dead_letter>;
  auto q = c.query("SELECT seq, status, error, attempts, at, delivery_id FROM " + ident(schema) +
                       ".dead_letters WHERE outlet = $1::text AND seq > $2::bigint ORDER BY seq LIMIT $3::bigint",
                   {valid_text(outlet), i64_text(after), i64_text(limit)});
  if (!q.ok()) return failed<R>(q.status);
  store_result<R> r;
  for (int i = 0; i < q.value.rows(); ++i) {
    r.value.push_back({static_cast<seq_t>(q.value.int64(i, 0)), static_cast<int>(q.value.int64(i, 1)),
                       std::string(q.value.text(i, 2)), static_cast<std::uint32_t>(q.value.int64(i, 3)),
                       from_micros(q.value.int64(i, 4)), std::string(q.value.text(i, 5))});
  }
  return r;
}

}  // namespace syndic::engine::pg
