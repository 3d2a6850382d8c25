#pragma once
// What each write does inside the writer's open transaction. Used by the writer thread only.
//
// Outlet progress rows touched in a transaction are cached (cursor, circuit, last error, and
// whether the outlet has any done ranges, retries or dead letters) and written back once, just
// before COMMIT: a thousand done marks for one outlet cost one UPDATE of its cursor, and an
// outlet with no exceptions costs no DELETE per mark. The cache lives for one transaction
// (the write lock is held meanwhile, so no other process can change these rows under it).
//
// Errors: a method returns a non-ok status only for failures that spoil the transaction
// (I/O, disk full, lock timeout): the writer then rolls back and fails every write in it. A
// write refused on its own (fenced, invalid argument) gets its status in `result` and leaves
// the transaction intact.

#include "store/sqlite_db.hpp"

#include <syndic/engine/store.hpp>

#include <functional>
#include <string>
#include <unordered_map>

namespace syndic::engine::sqlite {

class applier {
public:
  applier(connection& db, std::function<store_time()> clock) : db_(db), clock_(std::move(clock)) {}

  store_status append(const append_request& request, appended& out);
  store_status ops(const std::vector<write_op>& ops, const std::optional<fence>& guard,
                   store_status& result);
  store_status acquire(const std::string& name, const std::string& owner,
                       std::chrono::milliseconds ttl, std::optional<lease>& out);
  store_status renew(const lease& held, std::chrono::milliseconds ttl, std::optional<lease>& out);
  store_status release(const lease& held);

  // Writes the cached progress rows back (before COMMIT).
  store_status flush();
  // Forgets the cache (after COMMIT or ROLLBACK).
  void reset() { cache_.clear(); }

private:
  struct progress_row {
    bool loaded_from_db = false;  // the row existed when loaded
    bool exists = false;          // the row exists now (in the transaction)
    bool dirty = false;
    seq_t cursor = 0;
    circuit_state circuit;
    std::string last_error;
    store_time last_error_at{};
    // May the outlet have rows there? false only when known empty.
    bool has_ranges = false, has_retries = false, has_dead = false;
  };

  store_status load(const std::string& outlet, progress_row*& out);
  // Marks seqs first..last resolved: moves the cursor or records a done range.
  store_status resolve(const std::string& outlet, progress_row& p, seq_t first, seq_t last);
  // Makes `seq` owed again (a retried dead letter): above the cursor it leaves its done range,
  // so that "above the cursor and not in a range" finds it. Below the cursor its retry row
  // is what says it is owed.
  store_status unresolve(const std::string& outlet, progress_row& p, seq_t seq);

  store_status apply(const start_outlet& op);
  store_status apply(const mark_done& op);
  store_status apply(const mark_retry& op);
  store_status apply(const mark_dead& op);
  store_status apply(const set_circuit& op);
  store_status apply(const replay_outlet& op);
  store_status apply(const retry_dead_letters& op);
  store_status apply(const drop_dead_letters& op);
  store_status apply(const forget_outlet& op);
  store_status apply(const save_outlet& op);
  store_status apply(const delete_outlet& op);
  store_status apply(const kv_put& op);
  store_status apply(const kv_erase& op);
  store_status apply(const kv_erase_namespace& op);
  store_status apply(const put_subscription& op);
  store_status apply(const remove_subscription& op);
  store_status apply(const expire_subscriptions& op);

  // The run of a statement: ok, or the failure naming `what`.
  store_status done(statement& st, std::string_view what);

  connection& db_;
  std::function<store_time()> clock_;
  std::unordered_map<std::string, progress_row> cache_;
};

// Checks a write before it is applied: "" when fine, else what is wrong.
std::string validate(const write_op& op);

}  // namespace syndic::engine::sqlite
