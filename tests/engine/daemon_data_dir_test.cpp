// The data directory: creation, clear refusals, and the one-syndic-per-directory lock across
// processes (forked children), including after kill -9 of the holder.

#include "daemon/data_dir.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <functional>

namespace syndic::daemon {
namespace {

namespace fs = std::filesystem;

struct temp_dir {
  fs::path path;
  temp_dir() {
    std::string tmpl = (fs::temp_directory_path() / "syndic_data_dir_XXXXXX").string();
    path = ::mkdtemp(tmpl.data());
  }
  ~temp_dir() {
    std::error_code ec;
    fs::permissions(path, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path, ec);
  }
};

std::string read_all(const fs::path& p) {
  std::ifstream in(p);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

// Runs `body` in a forked child and returns its exit code (-1 if it did not exit normally).
// The child never returns into the test runner.
int in_child(const std::function<int()>& body) {
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(body());
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(DaemonDataDir, CreatesAMissingDirectoryAndItsParents) {
  temp_dir t;
  fs::path d = t.path / "a" / "b" / "data";
  auto r = open_data_dir(d);
  ASSERT_TRUE(r.dir) << r.error;
  EXPECT_TRUE(fs::is_directory(d));
  EXPECT_EQ(r.dir->path(), fs::absolute(d));
  struct stat st {};
  ASSERT_EQ(::stat(d.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_EQ(read_all(d / "syndic.lock"), std::to_string(::getpid()) + "\n");
  // Nothing but the lock is left behind (the write probe is removed).
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(d)) ++entries;
  EXPECT_EQ(entries, 1u);
}

TEST(DaemonDataDir, AFileIsNotADirectory) {
  temp_dir t;
  fs::path f = t.path / "plain";
  std::ofstream(f) << "x";
  auto r = open_data_dir(f);
  ASSERT_FALSE(r.dir);
  EXPECT_EQ(r.error, "the data directory '" + f.string() + "' exists and is not a directory");
  // A file on the way is reported too.
  auto below = open_data_dir(f / "data");
  ASSERT_FALSE(below.dir);
  EXPECT_EQ(below.error, "cannot use the data directory '" + (f / "data").string() + "': Not a directory");
}

TEST(DaemonDataDir, EmptyPathIsRefused) {
  auto r = open_data_dir("");
  ASSERT_FALSE(r.dir);
  EXPECT_EQ(r.error, "no data directory given (--data DIR)");
}

TEST(DaemonDataDir, SecondOpenIsRefusedAndTheLockIsReleasedWithTheObject) {
  temp_dir t;
  {
    auto first = open_data_dir(t.path);
    ASSERT_TRUE(first.dir) << first.error;
    // flock belongs to the open file, so even this process's second open is refused.
    auto second = open_data_dir(t.path);
    ASSERT_FALSE(second.dir);
    EXPECT_EQ(second.holder, ::getpid());
    EXPECT_EQ(second.error, "the data directory '" + t.path.string() + "' is in use by another syndic (pid " +
                                std::to_string(::getpid()) + ")");
    // Moving the handle keeps the lock.
    data_dir moved = std::move(*first.dir);
    first.dir.reset();
    EXPECT_FALSE(open_data_dir(t.path).dir);
  }
  auto again = open_data_dir(t.path);
  EXPECT_TRUE(again.dir) << again.error;
}

TEST(DaemonDataDir, AnotherProcessIsRefused) {
  temp_dir t;
  auto held = open_data_dir(t.path);
  ASSERT_TRUE(held.dir) << held.error;
  pid_t parent = ::getpid();
  int code = in_child([&] {
    auto r = open_data_dir(t.path);
    if (r.dir) return 10;
    if (r.holder != parent) return 11;
    if (r.error.find("is in use by another syndic (pid " + std::to_string(parent) + ")") == std::string::npos) return 12;
    return 0;
  });
  EXPECT_EQ(code, 0) << "10: the child took the lock; 11: wrong holder; 12: wrong message";
}

// The kernel drops a flock with its process: after kill -9 of the holder the directory opens.
TEST(DaemonDataDir, LockIsReleasedWhenTheHolderIsKilled) {
  temp_dir t;
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(ready[0]);
    auto r = open_data_dir(t.path);
    char c = r.dir ? 'y' : 'n';
    (void)!::write(ready[1], &c, 1);
    // Held until killed; bounded in case the parent dies first.
    for (int i = 0; i < 600; ++i) ::usleep(100'000);
    ::_exit(0);
  }
  ::close(ready[1]);
  pollfd p{ready[0], POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 20'000), 1) << "the child did not report";
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ::close(ready[0]);
  ASSERT_EQ(c, 'y');
  auto refused = open_data_dir(t.path);
  EXPECT_FALSE(refused.dir);
  EXPECT_EQ(refused.holder, child);
  ::kill(child, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status));
  // The stale file still holds the dead pid; the lock is what counts.
  EXPECT_EQ(read_all(t.path / "syndic.lock"), std::to_string(child) + "\n");
  auto after = open_data_dir(t.path);
  ASSERT_TRUE(after.dir) << after.error;
  EXPECT_EQ(read_all(t.path / "syndic.lock"), std::to_string(::getpid()) + "\n");
}

// Permission checks: root ignores directory modes, so as root the checks run in a child that
// has dropped to nobody (65534); if it cannot, the test is skipped.
TEST(DaemonDataDir, UnwritableDirectoryIsRefused) {
  temp_dir t;
  fs::path ro = t.path / "readonly";
  fs::create_directory(ro);
  fs::path ro_with_lock = t.path / "readonly_with_lock";
  {
    auto r = open_data_dir(ro_with_lock);  // leaves a writable lock file in it
    ASSERT_TRUE(r.dir) << r.error;
  }
  // A writable directory whose lock file another user left (0600, theirs): when root, the
  // file is root's and the child is nobody; otherwise it is made read-only for us.
  fs::path foreign_lock = t.path / "foreign_lock";
  {
    auto r = open_data_dir(foreign_lock);
    ASSERT_TRUE(r.dir) << r.error;
  }
  ::chmod(foreign_lock.c_str(), 0777);
  uid_t owner = ::geteuid();
  bool root = ::geteuid() == 0;
  if (!root) ::chmod((foreign_lock / "syndic.lock").c_str(), 0400);
  if (root) {
    // nobody must reach the directories: the temp dir is 0700 from mkdtemp.
    ::chmod(t.path.c_str(), 0755);
    ::chown((ro_with_lock / "syndic.lock").c_str(), 65534, 65534);
  }
  ::chmod(ro.c_str(), 0555);
  ::chmod(ro_with_lock.c_str(), 0555);
  int code = in_child([&] {
    if (root && (::setgid(65534) != 0 || ::setuid(65534) != 0)) return 77;
    auto a = open_data_dir(ro);
    if (a.dir || a.error != "the data directory '" + ro.string() + "' is not writable: Permission denied") return 10;
    auto b = open_data_dir(ro_with_lock);
    if (b.dir || b.error != "the data directory '" + ro_with_lock.string() + "' is not writable: Permission denied")
      return 11;
    auto c = open_data_dir(ro / "sub");
    if (c.dir || c.error != "cannot create the data directory '" + (ro / "sub").string() + "': Permission denied")
      return 12;
    auto d = open_data_dir(foreign_lock);
    if (d.dir || d.error != "cannot open the lock file '" + (foreign_lock / "syndic.lock").string() +
                                "' for writing: Permission denied (owned by uid " + std::to_string(owner) + ")")
      return 13;
    return 0;
  });
  ::chmod(ro.c_str(), 0755);  // so the temporary directory can be removed
  ::chmod(ro_with_lock.c_str(), 0755);
  if (code == 77) GTEST_SKIP() << "running as root and cannot drop to uid 65534: permissions are not checked";
  EXPECT_EQ(code, 0) << "10: no lock file, read-only dir; 11: writable lock file, read-only dir; 12: cannot create; "
                          "13: another user's lock file";
}

}  // namespace
}  // namespace syndic::daemon
