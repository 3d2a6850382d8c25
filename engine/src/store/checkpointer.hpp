#pragma once
// Copies the WAL back into the database file on a thread and connection of its own, so that
// the writer's commits do not wait for checkpoints (and their fsyncs): with SQLite's default,
// the commit that pushes the WAL past 1,000 pages runs the checkpoint itself.
//
// The writer's connection reports the WAL's size after each commit (sqlite3_wal_hook, which
// also turns SQLite's own auto-checkpoint off); past `wake_bytes` the thread runs a PASSIVE
// checkpoint (it never blocks the writer or readers). A PASSIVE checkpoint cannot finish while
// the writer keeps appending, and the WAL only restarts from its beginning once a checkpoint
// has finished, so under sustained load the writer takes over past `writer_bytes`: it runs
// the checkpoint itself, as SQLite would, which keeps the file bounded.

#include "store/sqlite_db.hpp"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace syndic::engine::sqlite {

class checkpointer {
public:
  // Sizes of the WAL in bytes: past `wake_bytes` the thread checkpoints, past `writer_bytes`
  // the writer does.
  checkpointer(std::string path, std::chrono::milliseconds busy_timeout,
               std::int64_t wake_bytes = 4 << 20, std::int64_t writer_bytes = 64 << 20);
  ~checkpointer();
  checkpointer(const checkpointer&) = delete;
  checkpointer& operator=(const checkpointer&) = delete;

  // Installs the WAL hook on the writer's connection (once, before the first commit); the
  // byte sizes become pages of the file's page size.
  void attach(connection& writer);
  // Stops the thread (idempotent). The writer's connection, closed last, checkpoints the rest.
  void stop();

  std::uint64_t checkpoints() const { return checkpoints_.load(std::memory_order_relaxed); }

private:
  static int on_commit(void* self, struct sqlite3* db, const char* name, int pages);
  void run();

  std::string path_;
  std::chrono::milliseconds busy_timeout_;
  std::int64_t wake_bytes_, writer_bytes_;
  int wake_pages_ = 1000, writer_pages_ = 16000;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool due_ = false, stopping_ = false;
  std::atomic<std::uint64_t> checkpoints_{0};
  std::thread thread_;
};

}  // namespace syndic::engine::sqlite
