// Opening a store: reopened with everything in it (on each backend); and for SQLite: created on
// first start, clear errors for a file that is not a store, a directory that cannot be written,
// and a schema from a newer syndic. Migrations are exercised with a version 2 made up for the
// test. (PostgreSQL's own opening errors and migrations: store_pg_test.cpp.)

#include "store_test_support.hpp"

#include "store/schema.hpp"
#include "store/sqlite_db.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

namespace syndic::engine {
namespace {

using namespace store_test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

TEST(StoreOpen, CreatesTheDirectoryAndTheFile) {
  temp_dir dir;
  const std::string data = dir.path + "/a/b/data";
  auto db = open_or_fail(data);
  ASSERT_TRUE(db);
  EXPECT_TRUE(fs::exists(data + "/syndic.db"));
  EXPECT_TRUE(fs::exists(data + "/syndic.db-wal"));  // WAL mode
  db.reset();
  // The schema version table says 1.
  sqlite::connection c;
  ASSERT_TRUE(c.open(data + "/syndic.db", false, 1000ms).ok());
  auto st = c.prepare("SELECT max(version) FROM syndic_schema");
  ASSERT_TRUE(st.step());
  EXPECT_EQ(st.int64(0), 1);
}

// On each backend: a store closed and opened again on the same data (directory, schema).
struct StoreReopen : backend_test {};
SYNDIC_STORE_BACKENDS(StoreReopen);

TEST_P(StoreReopen, KeepsEverything) {
  manual_clock clock;
  options o;
  o.clock = clock.fn();
  const store_time at = clock.now();
  lease held;
  {
    auto db = open(o);
    ASSERT_TRUE(db->append_sync({{entry(1), entry(2), entry(3)}, "k1"}).ok());
    ASSERT_TRUE(db->write_sync({save_outlet{{"o", "cfg", {}}}, start_outlet{"o", 0}, mark_done{"o", 1},
                                mark_done{"o", 3}, mark_retry{"o", {2, 1, at + 5s, "msg_2"}, "HTTP 500"},
                                set_circuit{"o", {circuit_mode::half_open, 3, at, at}},
                                kv_put{"validators", "s1", "etag"},
                                put_subscription{{"t", "cb", "sec", at + 60s, at}}})
                    .ok());
    held = *db->acquire_lease_sync("p", "me", 30s).value;
  }  // closed by the destructor
  auto db = open(o);
  EXPECT_EQ(db->head().value, 3u);
  EXPECT_EQ(db->read(1, 10).value.size(), 3u);
  EXPECT_EQ(*db->lookup_idempotency("k1").value, (std::vector<seq_t>{1, 2, 3}));
  EXPECT_EQ(db->outlet("o").value->config, "cfg");
  auto p = db->progress("o").value;
  ASSERT_TRUE(p);
  EXPECT_EQ(p->cursor, 1u);
  EXPECT_EQ(p->done_above, 1u);
  EXPECT_EQ(p->retries, 1u);
  EXPECT_EQ(p->circuit.mode, circuit_mode::half_open);
  EXPECT_EQ(p->last_error, "HTTP 500");
  EXPECT_EQ(db->retries("o", 0, 10).value.at(0).delivery_id, "msg_2");
  EXPECT_EQ(*db->kv_get("validators", "s1").value, "etag");
  EXPECT_EQ(db->subscriptions("t").value.at(0).secret, "sec");
  auto l = db->get_lease("p").value;
  ASSERT_TRUE(l);
  EXPECT_EQ(l->token, held.token);
  EXPECT_EQ(l->owner, "me");
  // And the log goes on from where it was.
  EXPECT_EQ(db->append_sync({{entry(4)}, ""}).value.seqs.at(0), 4u);
}

TEST(StoreOpen, CorruptFileIsNotAStore) {
  temp_dir dir;
  write_file(dir.path + "/syndic.db", std::string(8192, 'Z'));
  auto r = open_sqlite_store(dir.path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status.code, store_errc::not_a_store);
  EXPECT_EQ(r.status.message, dir.path + "/syndic.db: not a syndic store: file is not a database");
  EXPECT_FALSE(r.value);
}

TEST(StoreOpen, AnotherProgramsDatabaseIsNotAStore) {
  temp_dir dir;
  {
    sqlite::connection c;
    ASSERT_TRUE(c.open(dir.path + "/syndic.db", true, 1000ms).ok());
    ASSERT_TRUE(c.exec("CREATE TABLE photos (id INTEGER PRIMARY KEY)").ok());
  }
  auto r = open_sqlite_store(dir.path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status.code, store_errc::not_a_store);
  EXPECT_NE(r.status.message.find("not a syndic store"), std::string::npos) << r.status.message;
}

TEST(StoreOpen, DataDirectoryUnderAFileCannotBeCreated) {
  temp_dir dir;
  write_file(dir.path + "/file", "x");
  auto r = open_sqlite_store(dir.path + "/file/data");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status.code, store_errc::unwritable);
  EXPECT_EQ(r.status.message.rfind(dir.path + "/file/data: cannot create the data directory: ", 0), 0u)
      << r.status.message;
  auto f = open_sqlite_store(dir.path + "/file");
  EXPECT_EQ(f.status.code, store_errc::unwritable);
  EXPECT_EQ(f.status.message, dir.path + "/file: not a directory");
}

// A directory the process may not write. Root may write anywhere, so as root the check runs
// in a child that has become `nobody` first.
TEST(StoreOpen, UnwritableDirectoryGivesAClearError) {
  temp_dir dir;
  const std::string data = dir.path + "/data";
  fs::create_directory(data);
  fs::permissions(data, fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                            fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec);
  fs::permissions(dir.path, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(fds[0]);
    if (::geteuid() == 0 && ::setuid(65534) != 0) ::_exit(2);
    auto r = open_sqlite_store(data);
    std::string out = std::to_string(static_cast<int>(r.status.code)) + "\n" + r.status.message;
    ssize_t n = ::write(fds[1], out.data(), out.size());
    ::_exit(n == static_cast<ssize_t>(out.size()) ? 0 : 3);
  }
  ::close(fds[1]);
  std::string got;
  char buf[512];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) got.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_EQ(got, std::to_string(static_cast<int>(store_errc::unwritable)) + "\n" + data +
                     ": the data directory is not writable: Permission denied");
}

TEST(StoreOpen, NewerSchemaVersionIsRefused) {
  temp_dir dir;
  open_or_fail(dir.path).reset();
  {
    sqlite::connection c;
    ASSERT_TRUE(c.open(dir.path + "/syndic.db", false, 1000ms).ok());
    ASSERT_TRUE(c.exec("INSERT INTO syndic_schema (version, applied) VALUES (7, 0)").ok());
  }
  auto r = open_sqlite_store(dir.path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status.code, store_errc::newer_schema);
  EXPECT_EQ(r.status.message.rfind(dir.path + "/syndic.db: schema version 7 is newer than this syndic knows (1)", 0),
            0u)
      << r.status.message;
}

// The migration mechanism, with a version 2 this binary does not have yet: applied once, in
// order, recorded; and then refused by the binary that knows only version 1.
TEST(StoreOpen, MigratesToAVersionTwo) {
  temp_dir dir;
  {
    auto db = open_or_fail(dir.path);
    ASSERT_TRUE(db->append_sync({{entry(1)}, ""}).ok());
  }
  std::vector<sqlite::migration> list(sqlite::migrations().begin(), sqlite::migrations().end());
  list.push_back({2, "ALTER TABLE items ADD COLUMN lang TEXT NOT NULL DEFAULT 'en'"});
  {
    sqlite::connection c;
    ASSERT_TRUE(c.open(dir.path + "/syndic.db", false, 1000ms).ok());
    auto s = sqlite::migrate(c, 2, list);
    ASSERT_TRUE(s.ok()) << s.message;
    ASSERT_TRUE(sqlite::migrate(c, 2, list).ok());  // already there: nothing runs twice
    auto st = c.prepare("SELECT group_concat(version) FROM syndic_schema");
    ASSERT_TRUE(st.step());
    EXPECT_EQ(st.text(0), "1,2");
    auto lang = c.prepare("SELECT lang FROM items WHERE seq = 1");
    ASSERT_TRUE(lang.step());
    EXPECT_EQ(lang.text(0), "en");
  }
  EXPECT_EQ(open_sqlite_store(dir.path).status.code, store_errc::newer_schema);
}

// A migration that fails leaves the file as it was (its transaction rolls back).
TEST(StoreOpen, FailedMigrationChangesNothing) {
  temp_dir dir;
  open_or_fail(dir.path).reset();
  std::vector<sqlite::migration> list(sqlite::migrations().begin(), sqlite::migrations().end());
  list.push_back({2, "CREATE TABLE extra (x); ALTER TABLE no_such_table ADD COLUMN y"});
  sqlite::connection c;
  ASSERT_TRUE(c.open(dir.path + "/syndic.db", false, 1000ms).ok());
  auto s = sqlite::migrate(c, 2, list);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message.find("schema version 2"), std::string::npos) << s.message;
  {
    auto st = c.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'extra'");
    ASSERT_TRUE(st.step());
    EXPECT_EQ(st.int64(0), 0);
  }
  c.close();
  EXPECT_TRUE(open_sqlite_store(dir.path).ok());
}

}  // namespace
}  // namespace syndic::engine
