// The tests' own PostgreSQL server (pg_test_cluster.hpp): initdb, pg_ctl, a reaper for when
// the process dies without cleaning up, and the gtest Environment that stops it at the end.

#include "pg_test_cluster.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>

extern char** environ;

namespace syndic::engine::pg_test {
namespace {

namespace fs = std::filesystem;

bool executable(const std::string& path) { return !path.empty() && ::access(path.c_str(), X_OK) == 0; }

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Runs argv with stdin from /dev/null (or `stdin_fd`) and stdout+stderr into `out_path`
// (never this process's own: a server started from it would hold ctest's pipe open), every
// other descriptor closed. Returns the exit status (-1 when it could not run).
pid_t spawn(const std::vector<std::string>& argv, const std::string& out_path, int stdin_fd, bool new_session) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (stdin_fd >= 0) {
    posix_spawn_file_actions_adddup2(&fa, stdin_fd, 0);
  } else {
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  }
  posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
  posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  if (new_session) posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, args[0], &fa, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  return rc == 0 ? pid : -1;
}

// A port below 32768 (the kernel hands out ephemeral ports from 32768 up, so a port chosen
// there is not also taken by some client's connect) that nothing listens on right now.
int pick_port(std::mt19937& rng) {
  std::uniform_int_distribution<int> dist(20000, 32000);
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int port = dist(rng);
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    if (free) return port;
  }
  return 0;
}

std::string sh_quote(const std::string& s) {  // for pg_ctl -o, which goes through /bin/sh
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::mutex shared_mutex;
std::unique_ptr<cluster> shared_instance;
std::string shared_failure;
bool shared_not_installed = false;

// Stops the cluster once the last test has run (also when tests failed).
struct teardown_environment : ::testing::Environment {
  void TearDown() override { cluster::shutdown_shared(); }
};
[[maybe_unused]] ::testing::Environment* const registered =
    ::testing::AddGlobalTestEnvironment(new teardown_environment);

}  // namespace

std::string postgres_bindir() {
  std::vector<std::string> candidates;
  if (const char* env = ::getenv("SYNDIC_PG_BINDIR"); env && *env) {
    // Set: that directory alone (also how the "not installed" skip is tried out).
    const std::string dir = env;
    return executable(dir + "/initdb") && executable(dir + "/pg_ctl") ? dir : std::string();
  }
  if (FILE* p = ::popen("pg_config --bindir 2>/dev/null", "r")) {
    char buf[512];
    std::string out;
    while (::fgets(buf, sizeof buf, p)) out += buf;
    ::pclose(p);
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    if (!out.empty()) candidates.push_back(out);
  }
  candidates.emplace_back("/usr/lib/postgresql/15/bin");
  for (const auto& dir : candidates) {
    if (executable(dir + "/initdb") && executable(dir + "/pg_ctl")) return dir;
  }
  return {};
}

cluster* cluster::shared(std::string& why, bool& not_installed) {
  std::lock_guard lk(shared_mutex);
  if (!shared_instance && shared_failure.empty()) {
    std::unique_ptr<cluster> c(new cluster);
    std::string reason;
    if (c->init(reason)) {
      shared_instance = std::move(c);
    } else {
      shared_failure = reason.empty() ? "the PostgreSQL test cluster did not start" : reason;
      // The cluster's destructor removes what init made.
    }
  }
  why = shared_failure;
  not_installed = shared_not_installed;
  return shared_instance.get();
}

void cluster::shutdown_shared() {
  std::lock_guard lk(shared_mutex);
  shared_instance.reset();
}

bool cluster::init(std::string& why) {
  bindir_ = postgres_bindir();
  if (bindir_.empty()) {
    shared_not_installed = true;
    why = "PostgreSQL is not installed (no initdb and pg_ctl in $SYNDIC_PG_BINDIR, or else in "
          "`pg_config --bindir` or /usr/lib/postgresql/15/bin): apt-get install postgresql-15";
    return false;
  }
  as_root_ = ::geteuid() == 0;
  const passwd* pw = nullptr;
  if (as_root_) {
    // initdb refuses root: the server runs as `postgres`, which the package creates.
    pw = ::getpwnam("postgres");
    for (const char* r : {"/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"}) {
      if (executable(r)) {
        runuser_ = r;
        break;
      }
    }
    if (!pw || runuser_.empty()) {
      shared_not_installed = true;
      why = std::string("PostgreSQL is not installed as the tests need it: running as root, its server must run "
                        "as user `postgres`, but ") +
            (pw ? "runuser (util-linux) is missing" : "there is no such user") +
            ": apt-get install postgresql-15 (it creates the user)";
      return false;
    }
  }
  std::error_code ec;
  std::string tmpl = (fs::temp_directory_path(ec) / "syndic_pg_XXXXXX").string();
  // The server's unix socket lives in it, and a socket path has at most 107 bytes.
  if (ec || tmpl.size() > 80) tmpl = "/tmp/syndic_pg_XXXXXX";
  if (!::mkdtemp(tmpl.data())) {
    why = "cannot create a temporary directory for the PostgreSQL test cluster: " + tmpl;
    return false;
  }
  dir_ = tmpl;
  if (as_root_ && ::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
    why = "cannot hand " + dir_ + " to user postgres";
    return false;
  }
  start_reaper();

  // --no-sync: initdb does not fsync the files it makes (a lost initdb is simply redone); the
  // server itself runs with fsync and synchronous_commit on, its defaults.
  std::string out;
  const int rc = run(as_owner({bindir_ + "/initdb", "-D", dir_ + "/data", "-U", "postgres", "-A", "trust", "-E",
                               "UTF8", "--locale=C", "--no-sync"}),
                     &out);
  if (rc != 0) {
    why = "initdb failed (exit " + std::to_string(rc) + "): " + out;
    return false;
  }
  std::mt19937 rng(std::random_device{}() ^ static_cast<unsigned>(::getpid()));
  for (int attempt = 0; attempt < 10; ++attempt) {
    const int port = pick_port(rng);
    if (port == 0) break;
    bool taken = false;
    if (start_on(port, why, taken)) return true;
    if (!taken) return false;  // another failure than the port: say so
  }
  if (why.empty()) why = "no free port below 32768 for the PostgreSQL test cluster";
  return false;
}

std::vector<std::string> cluster::as_owner(std::vector<std::string> argv) const {
  if (!as_root_) return argv;
  std::vector<std::string> r{runuser_, "-u", "postgres", "--"};
  r.insert(r.end(), argv.begin(), argv.end());
  return r;
}

int cluster::run(const std::vector<std::string>& argv, std::string* output) const {
  const std::string out_path = dir_ + "/command-" + std::to_string(++commands_) + ".out";
  const pid_t pid = spawn(argv, out_path, -1, false);
  if (pid < 0) {
    if (output) *output = "cannot run " + argv[0];
    return -1;
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (output) *output = read_file(out_path);
  ::unlink(out_path.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

bool cluster::start_on(int port, std::string& why, bool& port_taken) {
  port_ = port;
  const std::string log = dir_ + "/server.log";
  const auto before = fs::exists(log) ? fs::file_size(log) : 0;
  const std::string opts = "-p " + std::to_string(port) + " -k " + sh_quote(dir_) +
                           " -c listen_addresses=127.0.0.1 -c max_connections=200"
                           // Crash recovery syncs the file system once rather than fsync every
                           // file of the data directory one by one (seconds here).
                           " -c recovery_init_sync_method=syncfs";
  std::string out;
  const int rc = run(as_owner({bindir_ + "/pg_ctl", "-D", dir_ + "/data", "-l", log, "-w", "-t", "60", "-o", opts,
                               "start"}),
                     &out);
  if (rc == 0) {
    running_ = true;
    url_ = "postgres://postgres@127.0.0.1:" + std::to_string(port) + "/postgres";
    return true;
  }
  const std::string tail = read_file(log).substr(before);
  port_taken = tail.find("could not bind") != std::string::npos ||
               tail.find("Address already in use") != std::string::npos;
  why = "pg_ctl start on port " + std::to_string(port) + " failed (exit " + std::to_string(rc) + "): " + out +
        "\nserver log:\n" + tail;
  return false;
}

bool cluster::start(std::string* why) {
  if (running_) return true;
  std::string reason;
  bool taken = false;
  const bool ok = start_on(port_, reason, taken);  // the same port: stores reconnect to it
  if (!ok && why) *why = reason;
  return ok;
}

bool cluster::stop(bool immediate, std::string* why) {
  std::string out;
  const int rc = run(as_owner({bindir_ + "/pg_ctl", "-D", dir_ + "/data", "-m", immediate ? "immediate" : "fast",
                               "-w", "-t", "60", "stop"}),
                     &out);
  if (rc != 0) {
    if (why) *why = "pg_ctl stop failed (exit " + std::to_string(rc) + "): " + out;
    return false;
  }
  running_ = false;
  return true;
}

bool cluster::restart(std::string* why) { return stop(true, why) && start(why); }

bool cluster::kill9(std::string* why) {
  std::ifstream pidfile(dir_ + "/data/postmaster.pid");
  long postmaster = 0;
  if (!(pidfile >> postmaster) || postmaster <= 0) {
    if (why) *why = "no postmaster.pid in " + dir_ + "/data: is the server running?";
    return false;
  }
  // The postmaster's children, from /proc (field 4 of /proc/PID/stat is the parent's pid).
  std::vector<pid_t> victims{static_cast<pid_t>(postmaster)};
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string stat = read_file(e.path().string() + "/stat");
    const auto close_paren = stat.rfind(')');
    if (close_paren == std::string::npos) continue;
    std::istringstream rest(stat.substr(close_paren + 1));
    std::string state;
    long ppid = 0;
    if (rest >> state >> ppid && ppid == postmaster) victims.push_back(static_cast<pid_t>(std::stol(name)));
  }
  for (pid_t p : victims) ::kill(p, SIGKILL);
  // Gone means reaped (by init: they are not our children), not merely dead: a zombie's pid
  // still answers kill(pid, 0), and the next postmaster would take it for a live one.
  for (int i = 0; i < 3000; ++i) {
    bool any = false;
    for (pid_t p : victims) any = any || fs::exists("/proc/" + std::to_string(p));
    if (!any) {
      running_ = false;
      return true;
    }
    ::usleep(10'000);
  }
  if (why) *why = "the killed server's processes were still there after 30 s";
  return false;
}

int cluster::psql(const std::string& sql, std::string* out) const {
  return run({bindir_ + "/psql", "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-d", url_, "-c", sql}, out);
}

std::string cluster::new_schema() { return "t" + std::to_string(++schemas_); }

std::string cluster::log_tail(std::size_t bytes) const {
  const std::string all = read_file(dir_ + "/server.log");
  return all.size() > bytes ? all.substr(all.size() - bytes) : all;
}

// A process of its own session (a kill of this process group does not reach it) that reads
// its stdin, a pipe whose only writer is this process: at EOF (this process is gone, however
// it went) it stops the server and removes the directory. Normally the destructor did both
// already and kills it first.
void cluster::start_reaper() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return;
  std::vector<std::string> argv{"/bin/sh", "-c", "read _; dir=$1; shift; \"$@\"; rm -rf -- \"$dir\"", "syndic-pg-reaper",
                                dir_};
  for (auto& a : as_owner({bindir_ + "/pg_ctl", "-D", dir_ + "/data", "-m", "immediate", "-w", "-t", "30", "stop"}))
    argv.push_back(a);
  reaper_pid_ = spawn(argv, "/dev/null", fds[0], true);
  ::close(fds[0]);
  reaper_pipe_ = fds[1];
}

cluster::~cluster() {
  // Stopped cleanly: the directory goes and the reaper has nothing left to do. Not stopped
  // (pg_ctl failed): the reaper, seeing its pipe close, tries an immediate stop and removes it.
  const bool stopped = dir_.empty() || !running_ || stop(false);
  if (stopped) {
    if (reaper_pid_ > 0) {
      ::kill(reaper_pid_, SIGKILL);
      ::waitpid(reaper_pid_, nullptr, 0);
    }
    if (!dir_.empty()) {
      std::error_code ec;
      fs::remove_all(dir_, ec);
    }
  }
  if (reaper_pipe_ >= 0) ::close(reaper_pipe_);
}

}  // namespace syndic::engine::pg_test
