#include "store/sqlite_store.hpp"

#include "store/schema.hpp"
#include "store/sqlite_apply.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <future>

namespace syndic::engine {

store_result<std::unique_ptr<store>> open_sqlite_store(const std::string& dir, sqlite_options options) {
  return sqlite::open_store(dir, std::move(options), {});
}

}  // namespace syndic::engine

namespace syndic::engine::sqlite {
namespace fs = std::filesystem;

namespace {

store_result<std::unique_ptr<store>> open_error(store_errc code, std::string message) {
  store_result<std::unique_ptr<store>> r;
  r.status = {code, std::move(message)};
  return r;
}

// "DIR/syndic.db: not a syndic store: file is not a database": SQLite's words for a file that
// is not a database, or a damaged one, under our heading.
store_status name_not_a_store(store_status s, const std::string& path) {
  if (s.code != store_errc::not_a_store) return s;
  const std::string prefix = path + ": ";
  std::string detail = s.message.rfind(prefix, 0) == 0 ? s.message.substr(prefix.size()) : s.message;
  if (auto colon = detail.rfind(": "); colon != std::string::npos) detail = detail.substr(colon + 2);
  s.message = prefix + "not a syndic store: " + detail;
  return s;
}

store_status set_pragmas(connection& db, const std::string& path, const sqlite_options& options) {
  // 16 KiB pages (on a new file; an existing one keeps its size): a commit of a thousand
  // 1.5 KB items is ~100 WAL frames instead of ~400, each frame its own pwrite() calls, and
  // syscalls are what a commit costs most here (measured: docs/store.md).
  if (auto s = db.exec("PRAGMA page_size = 16384"); !s.ok()) return name_not_a_store(s, path);
  // WAL: readers never block the writer, a commit appends to the log instead of rewriting
  // pages in place, and with synchronous=NORMAL a commit needs no fsync at all.
  {
    auto st = db.prepare("PRAGMA journal_mode = WAL");
    std::string mode;
    if (st.step()) mode = st.text(0);
    if (st.failed()) return name_not_a_store(db.failure("opening", st.rc()), path);
    if (mode != "wal") {
      return {store_errc::io_error, path + ": cannot use WAL mode (the journal mode stays '" + mode + "')"};
    }
  }
  const char* sync = options.synchronous == sqlite_sync::full ? "PRAGMA synchronous = FULL"
                                                               : "PRAGMA synchronous = NORMAL";
  if (auto s = db.exec(sync); !s.ok()) return s;
  // 16 MiB of page cache for the writer; the WAL file is cut back to 64 MiB after checkpoints.
  if (auto s = db.exec("PRAGMA cache_size = -16384; PRAGMA journal_size_limit = 67108864"); !s.ok())
    return s;
  return {};
}

}  // namespace

store_result<std::unique_ptr<store>> open_store(const std::string& dir, sqlite_options options,
                                                test_hooks hooks) {
  if (dir.empty()) return open_error(store_errc::invalid_argument, "no data directory given");
  if (!options.clock) options.clock = [] { return store_clock::now(); };
  if (options.commit_max_ops == 0) options.commit_max_ops = 1;
  if (options.read_connections == 0) options.read_connections = 1;

  std::error_code ec;
  const fs::path d(dir);
  if (!fs::exists(d, ec)) {
    fs::create_directories(d, ec);
    if (ec) return open_error(store_errc::unwritable, dir + ": cannot create the data directory: " + ec.message());
  } else if (!fs::is_directory(d, ec)) {
    return open_error(store_errc::unwritable, dir + ": not a directory");
  }
  // SQLite needs to create DIR/syndic.db-wal and -shm next to the file: the directory itself
  // must be writable, not only the file. Said here in words, rather than "unable to open
  // database file" later.
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    return open_error(store_errc::unwritable, dir + ": the data directory is not writable: " + std::strerror(errno));
  }
  const std::string path = (d / "syndic.db").string();
  if (fs::exists(path, ec) && ::access(path.c_str(), R_OK | W_OK) != 0) {
    return open_error(store_errc::unwritable, path + ": cannot read and write the store: " + std::strerror(errno));
  }

  auto db = std::make_unique<connection>();
  if (auto s = db->open(path, true, options.busy_timeout); !s.ok())
    return open_error(s.code, name_not_a_store(s, path).message);
  if (auto s = set_pragmas(*db, path, options); !s.ok()) return open_error(s.code, s.message);
  if (auto s = migrate(*db, newest_schema_version()); !s.ok())
    return open_error(s.code, name_not_a_store(s, path).message);

  store_result<std::unique_ptr<store>> r;
  r.value = std::make_unique<sqlite_store>(path, std::move(options), std::move(hooks), std::move(db));
  return r;
}

// ---- the store ----------------------------------------------------------------------------

sqlite_store::sqlite_store(std::string path, sqlite_options options, test_hooks hooks,
                           std::unique_ptr<connection> writer)
    : path_(std::move(path)),
      options_(std::move(options)),
      hooks_(std::move(hooks)),
      writer_db_(std::move(writer)),
      applier_(std::make_unique<applier>(*writer_db_, options_.clock)),
      checkpointer_(std::make_unique<checkpointer>(path_, options_.busy_timeout)),
      queue_(options_.commit_max_ops, options_.max_queued_entries, options_.commit_interval) {
  checkpointer_->attach(*writer_db_);
  writer_ = std::thread([this] { writer_loop(); });
}

sqlite_store::~sqlite_store() {
  close();
  std::lock_guard lk(readers_mutex_);
  free_readers_.clear();
}

void sqlite_store::enqueue(queued_write w) { queue_.push(std::move(w), path_, "the disk"); }

void sqlite_store::append(append_request request, completion<appended> done) {
  enqueue(queued_write::for_append(std::move(request), std::move(done)));
}

void sqlite_store::write(std::vector<write_op> ops, std::optional<fence> guard, status_completion done) {
  enqueue(queued_write::for_ops(std::move(ops), std::move(guard), std::move(done)));
}

void sqlite_store::acquire_lease(std::string name, std::string owner, std::chrono::milliseconds ttl,
                                 completion<std::optional<lease>> done) {
  enqueue(queued_write::for_acquire(std::move(name), std::move(owner), ttl, std::move(done)));
}

void sqlite_store::renew_lease(lease held, std::chrono::milliseconds ttl,
                               completion<std::optional<lease>> done) {
  enqueue(queued_write::for_renew(std::move(held), ttl, std::move(done)));
}

void sqlite_store::release_lease(lease held, status_completion done) {
  enqueue(queued_write::for_release(std::move(held), std::move(done)));
}

store_status sqlite_store::flush() {
  if (std::this_thread::get_id() == writer_.get_id()) {
    return {store_errc::invalid_argument, path_ + ": flush() called from a completion"};
  }
  std::promise<store_status> p;
  auto f = p.get_future();
  enqueue(queued_write::for_flush([&p](store_status s) { p.set_value(std::move(s)); }));
  return f.get();
}

void sqlite_store::close() {
  std::lock_guard closing(close_mutex_);
  queue_.close();
  // From a completion (on the writer thread) close() only asks: a thread cannot join itself.
  if (writer_.joinable() && std::this_thread::get_id() != writer_.get_id()) {
    writer_.join();
    closed_ = true;
    checkpointer_->stop();
    writer_db_->close();
  }
}

void sqlite_store::writer_loop() {
  std::vector<queued_write> batch;
  while (queue_.take(batch)) commit_batch(batch);
}

void sqlite_store::commit_batch(std::vector<queued_write>& batch) {
  std::size_t weight = 0;
  for (const queued_write& w : batch) weight += w.weight();
  if (weight > 0) {
    store_status s = writer_db_->exec("BEGIN IMMEDIATE");
    for (queued_write& w : batch) {
      if (!s.ok()) break;
      switch (w.what) {
        case queued_write::kind::append: s = applier_->append(w.append, w.appended_value); break;
        case queued_write::kind::ops: s = applier_->ops(w.ops, w.guard, w.status); break;
        case queued_write::kind::acquire: s = applier_->acquire(w.name, w.owner, w.ttl, w.lease_value); break;
        case queued_write::kind::renew: s = applier_->renew(w.held, w.ttl, w.lease_value); break;
        case queued_write::kind::release: s = applier_->release(w.held); break;
        case queued_write::kind::flush: break;
      }
    }
    if (s.ok()) s = applier_->flush();
    if (s.ok()) {
      if (hooks_.before_commit) hooks_.before_commit();
      const auto t0 = std::chrono::steady_clock::now();
      s = writer_db_->exec("COMMIT");
      last_commit_us_.store(std::chrono::duration_cast<std::chrono::microseconds>(
                                std::chrono::steady_clock::now() - t0)
                                .count(),
                            std::memory_order_relaxed);
    }
    applier_->reset();
    if (s.ok()) {
      transactions_.fetch_add(1, std::memory_order_relaxed);
      operations_.fetch_add(weight, std::memory_order_relaxed);
      if (hooks_.after_commit) hooks_.after_commit();
    } else {
      writer_db_->exec("ROLLBACK");  // may say "no transaction is active": nothing to undo then
      failed_commits_.fetch_add(1, std::memory_order_relaxed);
      for (queued_write& w : batch) {
        w.status = s;
        w.appended_value = {};
        w.lease_value.reset();
      }
    }
  }
  for (queued_write& w : batch) w.complete();
}

store_stats sqlite_store::stats() const {
  store_stats s;
  s.transactions = transactions_.load(std::memory_order_relaxed);
  s.operations = operations_.load(std::memory_order_relaxed);
  s.failed_commits = failed_commits_.load(std::memory_order_relaxed);
  s.queued = queue_.size();
  s.last_commit = std::chrono::microseconds(last_commit_us_.load(std::memory_order_relaxed));
  return s;
}

store_status sqlite_store::open_reader(connection& c) {
  if (auto s = c.open(path_, false, options_.busy_timeout); !s.ok()) return s;
  // A reader never writes; say so, so that a bug cannot take the write lock from the writer.
  return c.exec("PRAGMA query_only = 1");
}

}  // namespace syndic::engine::sqlite
