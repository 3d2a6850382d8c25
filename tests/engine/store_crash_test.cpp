// Crash durability: a child process appends items and records deliveries, and tells the parent
// through a pipe each time a completion says "durable" (what the daemon turns into a 202 or a
// recorded delivery). The parent kills it with SIGKILL mid-stream, reopens the store, and must
// find every acknowledged record: at a point in the stream, just before a COMMIT, and while a
// COMMIT is under way. The file must also pass SQLite's integrity check.

#include "store_kill_vfs.hpp"
#include "store_test_support.hpp"

#include "store/sqlite_db.hpp"
#include "store/sqlite_store.hpp"

#include <poll.h>
#include <sys/resource.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <set>

namespace syndic::engine {
namespace {

using namespace store_test;
using namespace std::chrono_literals;

// One message on the pipe: 'A' (an append acknowledged: entry i got seq s), 'D' (the done
// mark of seq s is durable), 'C' (the writer is at a COMMIT). Smaller than PIPE_BUF: written
// whole or not at all, so what the parent reads was acknowledged before the kill.
struct message {
  char kind;
  std::uint64_t i;
  std::uint64_t seq;
} __attribute__((packed));

void send(int fd, char kind, std::uint64_t i, std::uint64_t seq) {
  const message m{kind, i, seq};
  ssize_t n;
  do {
    n = ::write(fd, &m, sizeof m);
  } while (n < 0 && errno == EINTR);
}

enum class kill_at {
  acks,           // the parent kills after `threshold` acknowledged appends
  before_commit,  // the writer stops just before its `threshold`-th COMMIT, and is killed there
  // The child kills itself (store_kill_vfs.hpp), at the `threshold`-th COMMIT:
  wal_write,      // at the 5th write to the WAL: in the middle of that commit's frames
  wal_sync,       // at the next sync of the WAL (FULL: that commit's; NORMAL: a checkpoint's)
  // ... or once the store is open:
  db_write,       // at the `threshold`-th write to the database file: inside a checkpoint
};

struct scenario {
  sqlite_sync sync;
  kill_at when;
  std::size_t threshold;
  std::size_t payload_bytes;
};

[[noreturn]] void run_child(const std::string& dir, const scenario& sc, int fd) {
  sqlite_options o;
  o.synchronous = sc.sync;
  sqlite::test_hooks hooks;
  std::atomic<std::size_t> commits{0};
  if (sc.when != kill_at::acks && sc.when != kill_at::before_commit) {
    if (!kill_vfs::install()) ::_exit(9);
  }
  if (sc.when == kill_at::before_commit || sc.when == kill_at::wal_write || sc.when == kill_at::wal_sync) {
    hooks.before_commit = [&] {
      if (++commits != sc.threshold) return;
      send(fd, 'C', 0, 0);
      if (sc.when == kill_at::before_commit) {
        for (;;) ::pause();  // the parent kills it here
      }
      if (sc.when == kill_at::wal_write) kill_vfs::arm(kill_vfs::target::wal_write, 5);
      if (sc.when == kill_at::wal_sync) kill_vfs::arm(kill_vfs::target::wal_sync, 1);
    };
  }
  auto opened = sqlite::open_store(dir, o, hooks);
  if (!opened.ok()) ::_exit(10);
  store& db = *opened.value;
  if (!db.write_sync({start_outlet{"o", 0}}).ok()) ::_exit(11);
  if (sc.when == kill_at::db_write) kill_vfs::arm(kill_vfs::target::db_write, static_cast<long>(sc.threshold));
  std::mutex m;
  std::condition_variable cv;
  std::size_t in_flight = 0;
  for (std::size_t i = 0; i < 2'000'000; ++i) {
    {
      std::unique_lock lk(m);
      cv.wait(lk, [&] { return in_flight < 256; });
      ++in_flight;
    }
    db.append({{entry(i, sc.payload_bytes)}, ""}, [&, i](store_result<appended> r) {
      if (!r.ok()) ::_exit(12);
      const seq_t seq = r.value.seqs.at(0);
      send(fd, 'A', i, seq);
      // Delivered at once, say: the outcome goes through the same writer.
      db.write({mark_done{"o", seq}}, [fd, seq](store_status s) {
        if (!s.ok()) ::_exit(13);
        send(fd, 'D', 0, seq);
      });
      {
        std::lock_guard lk(m);
        --in_flight;
      }
      cv.notify_one();
    });
  }
  ::_exit(0);
}

struct acks {
  std::map<seq_t, std::uint64_t> appended;  // seq -> entry number
  std::set<seq_t> done;
};

// Runs the child, kills it as the scenario says, and returns what it acknowledged.
acks crash_once(const std::string& dir, const scenario& sc) {
  acks got;
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    run_child(dir, sc, fds[1]);
  }
  ::close(fds[1]);
  bool killed = false;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  std::string pending;
  auto take = [&](const char* data, std::size_t n) {
    pending.append(data, n);
    std::size_t at = 0;
    for (; pending.size() - at >= sizeof(message); at += sizeof(message)) {
      message msg;
      std::memcpy(&msg, pending.data() + at, sizeof msg);
      if (msg.kind == 'A') got.appended[msg.seq] = msg.i;
      if (msg.kind == 'D') got.done.insert(msg.seq);
      if (!killed && ((msg.kind == 'C' && sc.when == kill_at::before_commit) ||
                      (sc.when == kill_at::acks && got.appended.size() >= sc.threshold))) {
        ::kill(pid, SIGKILL);
        killed = true;
      }
    }
    pending.erase(0, at);
  };
  char buf[4096];
  for (;;) {
    if (std::chrono::steady_clock::now() > deadline) {
      ADD_FAILURE() << "the child never reached its kill point";
      ::kill(pid, SIGKILL);
      killed = true;
    }
    pollfd p{fds[0], POLLIN, 0};
    if (::poll(&p, 1, 1000) <= 0) continue;
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n <= 0) break;  // EOF: the child is gone (its end closed)
    take(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  const bool self_killed = sc.when != kill_at::acks && sc.when != kill_at::before_commit;
  EXPECT_TRUE(killed || self_killed);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child status " << status;
  return got;
}

void check_after_crash(const std::string& dir, const acks& got, std::size_t payload_bytes) {
  {
    sqlite::connection c;
    ASSERT_TRUE(c.open(dir + "/syndic.db", false, 5000ms).ok());
    auto st = c.prepare("PRAGMA integrity_check");
    ASSERT_TRUE(st.step());
    EXPECT_EQ(st.text(0), "ok");
  }
  auto db = open_or_fail(dir);
  ASSERT_TRUE(db);
  const seq_t head = db->head().value;
  ASSERT_FALSE(got.appended.empty());
  EXPECT_GE(head, got.appended.rbegin()->first);
  // Every acknowledged append is there, with its content; the log is dense and whole.
  seq_t expect = 1;
  std::size_t found = 0;
  for (seq_t from = 1; from <= head;) {
    auto batch = db->read(from, 1000);
    ASSERT_TRUE(batch.ok()) << batch.status.message;
    ASSERT_FALSE(batch.value.empty());
    for (const log_record& r : batch.value) {
      ASSERT_EQ(r.seq, expect++);
      const auto n = std::stoull(r.item_id.substr(5));  // "item-N"
      EXPECT_EQ(r.payload, entry(n, payload_bytes).payload);
      if (auto it = got.appended.find(r.seq); it != got.appended.end()) {
        EXPECT_EQ(it->second, n);
        ++found;
      }
    }
    from = batch.value.back().seq + 1;
  }
  EXPECT_EQ(found, got.appended.size()) << "acknowledged appends lost";
  // Every acknowledged done mark is resolved: at or below the cursor, or in a done range.
  auto p = db->progress("o").value;
  ASSERT_TRUE(p);
  const auto ranges = db->done_above("o", 0, 1'000'000).value;
  std::size_t lost = 0;
  for (seq_t s : got.done) {
    bool resolved = s <= p->cursor;
    for (const seq_range& r : ranges) resolved = resolved || (r.first <= s && s <= r.last);
    lost += !resolved;
  }
  EXPECT_EQ(lost, 0u) << "acknowledged done marks lost (cursor " << p->cursor << ")";
}

struct StoreCrash : ::testing::TestWithParam<sqlite_sync> {};

TEST_P(StoreCrash, AckedRecordsSurviveKill9MidStream) {
  temp_dir dir;
  // Three kills in a row on one file: each restart recovers the last crash's WAL first.
  for (std::size_t round = 0; round < 3; ++round) {
    const scenario sc{GetParam(), kill_at::acks, 500 + 700 * round, 1200};
    acks got = crash_once(dir.path, sc);
    EXPECT_GE(got.appended.size(), sc.threshold);
    check_after_crash(dir.path, got, sc.payload_bytes);
  }
}

TEST_P(StoreCrash, AckedRecordsSurviveKill9JustBeforeACommit) {
  temp_dir dir;
  const scenario sc{GetParam(), kill_at::before_commit, 20, 1200};
  acks got = crash_once(dir.path, sc);
  check_after_crash(dir.path, got, sc.payload_bytes);
}

// Killed in the middle of writing a commit's WAL frames (of a transaction of hundreds of 2 KB
// items), at several commits in turn on one file.
TEST_P(StoreCrash, AckedRecordsSurviveKill9InsideACommitsWalWrites) {
  temp_dir dir;
  for (std::size_t round = 0; round < 3; ++round) {
    const scenario sc{GetParam(), kill_at::wal_write, 10 + 7 * round, 2048};
    acks got = crash_once(dir.path, sc);
    check_after_crash(dir.path, got, sc.payload_bytes);
  }
}

TEST_P(StoreCrash, AckedRecordsSurviveKill9AtAWalSync) {
  temp_dir dir;
  const scenario sc{GetParam(), kill_at::wal_sync, 10, 2048};
  acks got = crash_once(dir.path, sc);
  check_after_crash(dir.path, got, sc.payload_bytes);
}

// Killed while the checkpointer copies the WAL into the database file.
TEST_P(StoreCrash, AckedRecordsSurviveKill9InsideACheckpoint) {
  temp_dir dir;
  const scenario sc{GetParam(), kill_at::db_write, 40, 2048};
  acks got = crash_once(dir.path, sc);
  check_after_crash(dir.path, got, sc.payload_bytes);
}

// A disk that fills up: a child caps its file size (RLIMIT_FSIZE, SIGXFSZ ignored, so writes
// fail with EFBIG as on a full disk). Writes fail with an error in their completion, nothing
// half-written stays, and once there is room again the same store object writes on.
TEST(StoreFailure, FullDiskFailsWritesThenTheStoreRecovers) {
  temp_dir dir;
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(fds[0]);
    ::signal(SIGXFSZ, SIG_IGN);
    auto opened = open_sqlite_store(dir.path);
    if (!opened.ok()) ::_exit(10);
    store& db = *opened.value;
    for (std::size_t i = 0; i < 10; ++i)
      if (!db.append_sync({{entry(i, 1000)}, ""}).ok()) ::_exit(11);
    rlimit lim{};
    ::getrlimit(RLIMIT_FSIZE, &lim);
    const rlimit capped{8u << 20, lim.rlim_max};
    if (::setrlimit(RLIMIT_FSIZE, &capped) != 0) ::_exit(12);
    // 2 MB appends: the WAL passes 8 MB within a few.
    std::size_t failed = 0, i = 10;
    store_errc code = store_errc::ok;
    for (; i < 60 && failed < 3; ++i) {
      append_request req;
      for (std::size_t k = 0; k < 100; ++k) req.entries.push_back(entry(i * 1000 + k, 20'000));
      auto r = db.append_sync(std::move(req));
      if (!r.ok()) {
        ++failed;
        code = r.status.code;
        send(fds[1], 'F', i, 0);
      } else {
        send(fds[1], 'A', i, r.value.seqs.front());
      }
    }
    if (failed == 0) ::_exit(13);
    if (code != store_errc::io_error) ::_exit(14);
    ::setrlimit(RLIMIT_FSIZE, &lim);  // room again
    auto after = db.append_sync({{entry(999'999, 100)}, "after"});
    if (!after.ok()) ::_exit(15);
    send(fds[1], 'R', 0, after.value.seqs.front());
    db.close();
    ::_exit(0);
  }
  ::close(fds[1]);
  std::vector<message> got;
  message m;
  for (ssize_t n; (n = ::read(fds[0], &m, sizeof m)) == static_cast<ssize_t>(sizeof m);) got.push_back(m);
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  ASSERT_EQ(WEXITSTATUS(status), 0) << "child step " << WEXITSTATUS(status);
  // Every acknowledged append is there whole; the failed ones left nothing behind.
  auto db = open_or_fail(dir.path);
  std::size_t acked_batches = 0;
  for (const message& x : got) {
    if (x.kind == 'A') {
      ++acked_batches;
      auto first = db->get(x.seq).value;
      ASSERT_TRUE(first);
      EXPECT_EQ(first->item_id, "item-" + std::to_string(x.i * 1000));
    }
    if (x.kind == 'R') {
      EXPECT_EQ(*db->lookup_idempotency("after").value, std::vector<seq_t>{x.seq});
    }
  }
  EXPECT_EQ(db->head().value, 10 + 100 * acked_batches + 1);
}

INSTANTIATE_TEST_SUITE_P(Sync, StoreCrash, ::testing::Values(sqlite_sync::normal, sqlite_sync::full),
                         [](const auto& info) {
                           return std::string(info.param == sqlite_sync::full ? "Full" : "Normal");
                         });

}  // namespace
}  // namespace syndic::engine
