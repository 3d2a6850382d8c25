#pragma once
// What each write does inside the PostgreSQL writer's data transaction, batched. Used by the
// writer thread only (one applier per writer connection).
//
// A round's writes are queued by ops() (checked, not yet applied: nothing runs in the
// database). flush(), before COMMIT, applies them all, in queue order, in a few statements
// whatever their number:
//  1. the progress rows of every outlet the round touches, locked (FOR UPDATE, by outlet, so
//     instances lock in one order) and read in one statement; when some have no row yet, an
//     advisory lock per schema for rounds that create rows, and those rows read again (two
//     more statements, in the rounds that start outlets only);
//  2. their done ranges and whether they have retries or dead letters, in one statement (a
//     new snapshot, taken once the locks are held, so nothing committed meanwhile is missed);
//  3. only when the round retries dead letters: those outlets' dead letters' ids;
//  then every op is applied in memory (progress_model.hpp: the semantics of the SQLite
//  applier), and the difference is written back per table with unnest arrays: deletions
//  first, then INSERT ... ON CONFLICT DO UPDATE. Keyed state, stored outlets and subscriptions
//  are folded the same way (the last write to a key wins; a namespace erased or subscriptions
//  expired apply before the round's later writes). A table the round does not change costs no
//  statement: a round of mark_done on started outlets without exceptions costs three statements
//  (two reads, the progress write).
//
// Text sent to PostgreSQL is valid_text()'d (invalid UTF-8 and NUL repaired: an HTTP answer's
// error can hold anything); keys too, as the reads do, so a key reads back as written.
//
// Errors: ops() refuses a write on its own (invalid_argument in `result`, the transaction
// intact); flush() returns a non-ok status for failures that spoil the transaction (the
// writer rolls back, and may run the round again: ops() then flush() again after reset()).

#include "store/pg_db.hpp"

#include <syndic/engine/store.hpp>

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace syndic::engine::pg {

class applier {
public:
  // `schema` unquoted (as in postgres_options). `clock`: stored times ("updated", a retry's
  // last_error_at); empty means the system clock.
  applier(connection& db, std::string schema, std::function<store_time()> clock);

  // Queues a write's ops (fences already checked by the writer). A write refused on its own
  // gets its status in `result` and queues nothing; the return value is then still ok.
  store_status ops(const std::vector<write_op>& ops, store_status& result);
  // Applies everything queued (before COMMIT), in a few batched statements.
  store_status flush();
  // Forgets what is queued (after COMMIT or ROLLBACK).
  void reset() { queued_.clear(); }

  // Statements run by the latest flush() (for tests and the bench: batching is the point).
  std::size_t last_flush_statements() const { return last_statements_; }

private:
  store_status run(const std::string& sql, const params& values, result* out = nullptr);
  store_status flush_progress();
  store_status flush_state();

  connection& db_;
  std::string schema_;  // quoted
  std::string create_lock_key_;  // of the advisory lock of rounds that create progress rows
  std::function<store_time()> clock_;
  std::vector<write_op> queued_;
  std::size_t statements_ = 0, last_statements_ = 0;
};

// ---- Progress reads (pg_progress_reads.cpp), for pg_store's read methods ------------------
// `schema` unquoted. Each is one statement (one snapshot).

store_result<std::optional<progress_summary>> read_progress(connection& c, const std::string& schema,
                                                            std::string_view outlet);
store_result<std::vector<progress_summary>> read_all_progress(connection& c, const std::string& schema);
store_result<std::vector<seq_range>> read_done_above(connection& c, const std::string& schema,
                                                     std::string_view outlet, seq_t after, std::size_t limit);
store_result<std::vector<retry_entry>> read_retries(connection& c, const std::string& schema,
                                                    std::string_view outlet, seq_t after, std::size_t limit);
store_result<std::vector<dead_letter>> read_dead_letters(connection& c, const std::string& schema,
                                                         std::string_view outlet, seq_t after, std::size_t limit);

}  // namespace syndic::engine::pg
