#pragma once
// One outlet's progress as a value (no SQL): its progress row, its done ranges, and what a
// round did to its retries and dead letters, with the effect of each progress write on them.
// The PostgreSQL applier (pg_apply.cpp) loads a snapshot per outlet a round touches, applies
// the round's ops here in order, and writes back the difference (changes()) in a few batched
// statements. The semantics are those of the SQLite applier (sqlite_apply.cpp) and store.hpp;
// tests/engine/progress_model_test.cpp checks them without a database.
//
// Retries and dead letters are not loaded (an outlet may keep thousands of dead letters):
// the model knows only whether the outlet had any when the round began, and records what the
// round wrote and deleted. The database applies the deletions first, then the writes, so a
// write is dropped from the record when a later op deletes it, and a deletion that met a row
// the round wrote itself never needs to reach the database. The exception is
// retry_dead_letters, which must know which dead letters exist (and their delivery ids): for
// outlets it touches the applier loads those (snapshot::dead_ids).
//
// Used by one thread (the writer's), for one transaction.

#include <syndic/engine/store.hpp>

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace syndic::engine::progress {

// The largest seq a database bigint holds: a deletion span "to the end".
inline constexpr seq_t last_seq = static_cast<seq_t>(std::numeric_limits<std::int64_t>::max());

// An outlet's progress row.
struct row {
  seq_t cursor = 0;
  circuit_state circuit;
  std::string last_error;
  store_time last_error_at{};
  bool operator==(const row& o) const {
    return cursor == o.cursor && circuit.mode == o.circuit.mode && circuit.failures == o.circuit.failures &&
           circuit.since == o.circuit.since && circuit.probe_at == o.circuit.probe_at &&
           last_error == o.last_error && last_error_at == o.last_error_at;
  }
};

// What the database holds for one outlet when the round begins.
struct snapshot {
  std::optional<row> stored;       // nullopt: no progress row
  std::vector<seq_range> ranges;   // its done ranges: ascending, disjoint, non-adjacent
  bool has_retries = false;        // it has at least one retry row
  bool has_dead = false;           // it has at least one dead letter
  // Its dead letters' seqs and delivery ids, when loaded (required when has_dead and the
  // round retries dead letters: retry_dead_letters must know which exist).
  std::optional<std::map<seq_t, std::string>> dead_ids;
};

// The row changes of one exception table: delete the spans first, then insert or replace
// the rows written.
template <class Entry>
struct exception_changes {
  std::vector<seq_range> deleted;  // ascending, disjoint (merged)
  std::vector<Entry> written;      // ascending by seq
  bool empty() const { return deleted.empty() && written.empty(); }
};

// What to write back for one outlet.
struct changes {
  enum class row_change : std::uint8_t { none, write, erase };
  row_change row_op = row_change::none;
  row row_value;                          // for write: the whole row (insert or replace)
  std::vector<seq_t> ranges_deleted;      // done ranges to delete, by `first`
  std::vector<seq_range> ranges_written;  // done ranges to insert or replace (keyed by first)
  exception_changes<retry_entry> retries;
  exception_changes<dead_letter> dead;
  bool empty() const {
    return row_op == row_change::none && ranges_deleted.empty() && ranges_written.empty() &&
           retries.empty() && dead.empty();
  }
};

// The written and deleted rows of one exception table in a round (see the top of the file).
template <class Entry>
class exception_log {
public:
  exception_log(bool in_db, std::optional<std::map<seq_t, std::string>> db_ids)
      : in_db_(in_db), db_ids_(std::move(db_ids)) {}

  void put(const Entry& e) { written_[e.seq] = e; }
  // Deletes seqs first..last (written in the round or stored).
  void erase(seq_t first, seq_t last);
  // The seqs that exist now, ascending, with their delivery ids. Requires db_ids when rows
  // were stored (complete() true).
  std::vector<std::pair<seq_t, std::string>> existing() const;
  // The delivery id of `seq` when it exists now.
  std::optional<std::string> find(seq_t seq) const;
  // Whether every row that exists is known (none stored, or db_ids loaded).
  bool complete() const { return !in_db_ || db_ids_.has_value(); }
  // Whether the table may hold rows for the outlet now.
  bool maybe_any() const { return !written_.empty() || (in_db_ && (!db_ids_ || !db_ids_->empty())); }

  exception_changes<Entry> changes() const;

private:
  bool in_db_;                                           // rows were stored when the round began
  std::optional<std::map<seq_t, std::string>> db_ids_;   // the stored rows still there (when loaded)
  std::map<seq_t, Entry> written_;
  std::vector<seq_range> deleted_;  // in the database; unmerged
};

class outlet_model {
public:
  explicit outlet_model(snapshot s);

  // The progress writes (store.hpp). `now` is the store's clock for stored times. Ops must be
  // valid (sqlite::validate): ids non-empty, seqs non-zero, last >= first.
  void start(seq_t cursor);
  void done(seq_t first, seq_t last);  // last = 0: first alone
  void retry(const retry_entry& r, std::string_view error, store_time now);
  void dead(const dead_letter& d);
  void set_circuit(const circuit_state& c);
  void replay(seq_t from);
  // Throws std::logic_error when the outlet had dead letters and the snapshot lacks dead_ids.
  void retry_dead(const std::vector<seq_t>& seqs, store_time next_attempt);
  void drop_dead(const std::vector<seq_t>& seqs);
  void forget();

  // The state now.
  bool exists() const { return exists_; }
  const row& current() const { return row_; }
  std::vector<seq_range> ranges() const;
  const exception_log<retry_entry>& retries() const { return retries_; }
  const exception_log<dead_letter>& dead_letters() const { return dead_; }

  // What differs from the snapshot, as rows to write back.
  changes diff() const;

private:
  // Marks first..last resolved: moves the cursor, or records a done range.
  void resolve(seq_t first, seq_t last);
  // Makes `seq` owed again: above the cursor it leaves its done range.
  void unresolve(seq_t seq);

  bool stored_ = false;  // the row existed in the snapshot
  bool exists_ = false;  // the row exists now
  bool dirty_ = false;   // the row must be written
  row row_;
  std::map<seq_t, seq_t> loaded_ranges_;  // first -> last, as in the snapshot
  std::map<seq_t, seq_t> ranges_;         // first -> last, now
  exception_log<retry_entry> retries_;
  exception_log<dead_letter> dead_;
};

}  // namespace syndic::engine::progress
