#include "store/checkpointer.hpp"

#include <sqlite3.h>

#include <algorithm>

namespace syndic::engine::sqlite {

checkpointer::checkpointer(std::string path, std::chrono::milliseconds busy_timeout,
                           std::int64_t wake_bytes, std::int64_t writer_bytes)
    : path_(std::move(path)), busy_timeout_(busy_timeout), wake_bytes_(wake_bytes), writer_bytes_(writer_bytes) {
  thread_ = std::thread([this] { run(); });
}

checkpointer::~checkpointer() { stop(); }

void checkpointer::attach(connection& writer) {
  std::int64_t page = 4096;
  {
    auto st = writer.prepare("PRAGMA page_size");
    if (st.step() && st.int64(0) > 0) page = st.int64(0);
  }
  wake_pages_ = static_cast<int>(std::max<std::int64_t>(1, wake_bytes_ / page));
  writer_pages_ = static_cast<int>(std::max<std::int64_t>(wake_pages_ + 1, writer_bytes_ / page));
  sqlite3_wal_hook(writer.handle(), &on_commit, this);
}

void checkpointer::stop() {
  {
    std::lock_guard lk(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

// On the writer thread, after each commit, with the WAL's size in pages.
int checkpointer::on_commit(void* self, sqlite3* db, const char* name, int pages) {
  auto* c = static_cast<checkpointer*>(self);
  if (pages >= c->writer_pages_) {
    // The thread's checkpoints cannot catch up with a writer that never pauses: do it here.
    if (sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr) == SQLITE_OK)
      c->checkpoints_.fetch_add(1, std::memory_order_relaxed);
    return SQLITE_OK;
  }
  if (pages >= c->wake_pages_) {
    bool wake = false;
    {
      std::lock_guard lk(c->mutex_);
      wake = !c->due_;
      c->due_ = true;
    }
    if (wake) c->wake_.notify_one();
  }
  return SQLITE_OK;
}

void checkpointer::run() {
  connection db;
  bool opened = false;
  std::unique_lock lk(mutex_);
  for (;;) {
    wake_.wait(lk, [&] { return due_ || stopping_; });
    if (stopping_) return;
    due_ = false;
    lk.unlock();
    // A connection learns that its file is in WAL mode on its first read: before that, a
    // checkpoint on it does nothing (and says SQLITE_OK).
    if (!opened) opened = db.open(path_, false, busy_timeout_).ok() && db.exec("SELECT count(*) FROM sqlite_schema").ok();
    // PASSIVE: copies what it can without waiting for the writer or readers. A failure (busy)
    // is left for the next wake-up, or for the writer past writer_pages.
    if (opened && sqlite3_wal_checkpoint_v2(db.handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                            nullptr) == SQLITE_OK) {
      checkpoints_.fetch_add(1, std::memory_order_relaxed);
    }
    lk.lock();
  }
}

}  // namespace syndic::engine::sqlite
