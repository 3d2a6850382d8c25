#pragma once
// A real PostgreSQL server made by the tests themselves: `initdb` into a temporary directory,
// `pg_ctl start` on a free port below 32768 on 127.0.0.1 (its unix socket in that directory),
// fsync and synchronous_commit at their defaults (on). Nothing shared with another binary or
// with a server already running on the machine.
//
// One cluster per test binary, started by the first test that asks for it (cluster::shared)
// and stopped and removed when the tests end: by a gtest Environment's TearDown, and, should
// the process die without it (a crash, abort, SIGKILL), by a small reaper process that waits
// for this process to go (a pipe reaching EOF) and then stops the server and removes the
// directory. Each test takes a schema of its own (new_schema()), so tests share the server
// but never their tables.
//
// initdb and pg_ctl refuse to run as root: as root (CI, the development machine) they run as
// user `postgres` with `runuser -u postgres --`, in a directory chowned to it; as anyone else,
// directly.
//
// Threads: shared() is safe from any thread; stop()/start()/restart() are for the test's own
// thread (they change what every store connected to the server sees, which is their point).

#include <atomic>
#include <memory>
#include <string>
#include <vector>

namespace syndic::engine::pg_test {

class cluster {
public:
  // The binary's cluster, started on the first call. nullptr when it cannot be had, with the
  // reason in `why`: PostgreSQL is not installed ("... apt-get install postgresql-15") and
  // `not_installed` is set (tests skip), or it failed to start (tests fail; `why` has the
  // server's log).
  static cluster* shared(std::string& why, bool& not_installed);

  ~cluster();
  cluster(const cluster&) = delete;
  cluster& operator=(const cluster&) = delete;

  // postgres://postgres@127.0.0.1:PORT/postgres (trust authentication, loopback only).
  const std::string& url() const { return url_; }
  int port() const { return port_; }
  const std::string& dir() const { return dir_; }

  // A schema name no other test of this process has had ("t1", "t2", ...); not created here
  // (the store creates it).
  std::string new_schema();

  // pg_ctl stop: `immediate` is the kill -9 equivalent (no checkpoint, connections cut, crash
  // recovery at the next start); otherwise a fast shutdown. False, with the reason, on failure.
  bool stop(bool immediate, std::string* why = nullptr);
  // pg_ctl start -w on the same port; true once it accepts connections.
  bool start(std::string* why = nullptr);
  // stop(immediate = true) then start(): a server crash and its recovery.
  bool restart(std::string* why = nullptr);
  // kill -9 of the whole server: SIGKILL to the postmaster and every process it started, at
  // once; returns once they are gone (reaped, so that the next start() finds no live pid in
  // postmaster.pid). Then start() recovers it, as after a crash.
  bool kill9(std::string* why = nullptr);
  bool running() const { return running_; }

  // Runs SQL with psql on the cluster (as superuser; -X -A -t -v ON_ERROR_STOP=1): its exit
  // status (0: every statement ran), and what it printed (rows, or the error) in `out`.
  int psql(const std::string& sql, std::string* out = nullptr) const;

  // The last `bytes` of the server's log, for failure messages.
  std::string log_tail(std::size_t bytes = 4000) const;

  // Stops the shared cluster and removes its directory (the Environment calls it; idempotent).
  static void shutdown_shared();

private:
  cluster() = default;
  bool init(std::string& why);
  bool start_on(int port, std::string& why, bool& port_taken);
  int run(const std::vector<std::string>& argv, std::string* output) const;
  std::vector<std::string> as_owner(std::vector<std::string> argv) const;
  void start_reaper();

  std::string bindir_, runuser_;
  bool as_root_ = false;
  std::string dir_, url_;
  int port_ = 0;
  bool running_ = false;
  std::atomic<int> schemas_{0};
  mutable std::atomic<int> commands_{0};
  int reaper_pipe_ = -1;  // write end; the reaper acts when it closes
  int reaper_pid_ = -1;
};

// Where initdb and pg_ctl are: $SYNDIC_PG_BINDIR when set (and only there), else
// `pg_config --bindir`, then /usr/lib/postgresql/15/bin; empty when none has them.
std::string postgres_bindir();

}  // namespace syndic::engine::pg_test
