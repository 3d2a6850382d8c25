"""A real PostgreSQL server for the daemon's integration tests, made by the test itself:
`initdb` into a temporary directory, `pg_ctl start` on a free port below 32768 on 127.0.0.1 (its
unix socket in that directory), fsync and synchronous_commit at their defaults (on). Nothing
shared with another test or with a server already running on the machine.

    with pg_lib.Cluster(tmp) as pg:        # or pg = pg_lib.Cluster(tmp); pg.start(); ...; pg.close()
        url = pg.url                       # postgres://postgres@127.0.0.1:PORT/postgres
        pg.kill()                          # pg_ctl stop -m immediate (kill -9 equivalent)
        pg.kill9()                         # SIGKILL to the postmaster and every backend
        pg.start()                         # the same port: stores reconnect to it
        pg.psql("SELECT count(*) FROM syndic.log")

initdb and pg_ctl refuse root: as root (CI, the development machine) they run as user `postgres`
via `runuser -u postgres --`, in a directory chowned to it. The server is stopped and the
directory removed by close() (the context manager, atexit), and, should the test process die
without that (SIGKILL, a timeout), by a reaper process of its own session that waits for this
process's pipe to close. Every wait is bounded; failures raise AssertionError with the server's
log.

Run alone, this file tests itself (ctest: daemon.pg_lib); exit 77 when PostgreSQL is missing."""

import atexit
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon_lib import Checks, wait_for  # noqa: E402

SKIP = 77  # ctest's SKIP_RETURN_CODE for these tests
PACKAGE = "postgresql-15"


class NotInstalled(Exception):
    """PostgreSQL (or, as root, the `postgres` user or runuser) is missing: skip, naming the package."""


def bindir():
    """Where initdb and pg_ctl are: $SYNDIC_PG_BINDIR when set (only there), else `pg_config --bindir`, then
    /usr/lib/postgresql/15/bin."""
    candidates = []
    if os.environ.get("SYNDIC_PG_BINDIR"):  # set: that directory alone (how the skip is tried out)
        candidates.append(os.environ["SYNDIC_PG_BINDIR"])
    try:
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, timeout=10)
        if out.returncode == 0 and out.stdout.strip():
            candidates.append(out.stdout.strip())
    except (OSError, subprocess.TimeoutExpired):
        pass
    candidates.append("/usr/lib/postgresql/15/bin")
    if os.environ.get("SYNDIC_PG_BINDIR"):
        candidates = candidates[:1]
    for d in candidates:
        if all(os.access(os.path.join(d, b), os.X_OK) for b in ("initdb", "pg_ctl", "psql")):
            return d
    raise NotInstalled(f"PostgreSQL is not installed (no initdb, pg_ctl and psql in $SYNDIC_PG_BINDIR, or else in "
                       f"`pg_config --bindir` or /usr/lib/postgresql/15/bin): apt-get install {PACKAGE}")


def port_is_free(port):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


class Cluster:
    """One PostgreSQL server in a directory of its own under `tmp` (a temp dir when None)."""

    def __init__(self, tmp=None):
        self.bin = bindir()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            import pwd
            try:
                self.owner = pwd.getpwnam("postgres")
            except KeyError:
                raise NotInstalled(f"PostgreSQL is not installed as the tests need it: running as root, its server must "
                                   f"run as user `postgres`, and there is no such user: apt-get install {PACKAGE}")
            self.runuser = shutil.which("runuser") or "/usr/sbin/runuser"
            if not os.access(self.runuser, os.X_OK):
                raise NotInstalled("PostgreSQL is not installed as the tests need it: running as root, runuser "
                                   "(util-linux) is needed to run its server as `postgres`")
        self.dir = tempfile.mkdtemp(prefix="syndic-pgtest-", dir=tmp)
        if len(self.dir) > 80:  # the server's unix socket lives in it: a socket path has at most 107 bytes
            os.rmdir(self.dir)
            self.dir, tmp = tempfile.mkdtemp(prefix="syndic-pgtest-", dir="/tmp"), None
        if self.as_root:
            os.chown(self.dir, self.owner.pw_uid, self.owner.pw_gid)
            # The test's temp dir (0700, root's) must let `postgres` through to its own.
            parent = os.path.dirname(self.dir)
            if tmp is not None and not os.stat(parent).st_mode & 0o001:
                os.chmod(parent, os.stat(parent).st_mode | 0o711)
        self.data = os.path.join(self.dir, "data")
        self.log = os.path.join(self.dir, "server.log")
        self.port = None
        self.url = None
        self.running = False
        self.closed = False
        self._reaper = None
        self._start_reaper()
        atexit.register(self.close)

    # ---- running commands ---------------------------------------------------------------

    def _as_owner(self, argv):
        return [self.runuser, "-u", "postgres", "--"] + argv if self.as_root else argv

    def _run(self, argv, timeout=90):
        # Output to a file, never a pipe of ours: a server started by pg_ctl inherits it and
        # would hold it open (and ctest waits for its pipes to close).
        with tempfile.TemporaryFile(dir=self.dir) as out:
            r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, timeout=timeout)
            out.seek(0)
            return r.returncode, out.read().decode(errors="replace")

    def _start_reaper(self):
        """A process of its own session: at EOF on its stdin (this process gone, however it went)
        it stops the server and removes the directory."""
        stop = self._as_owner([os.path.join(self.bin, "pg_ctl"), "-D", self.data, "-m", "immediate", "-w", "-t", "30",
                               "stop"])
        self._reaper = subprocess.Popen(
            ["/bin/sh", "-c", 'read _; dir=$1; shift; "$@"; rm -rf -- "$dir"', "syndic-pg-reaper", self.dir] + stop,
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    def log_tail(self, n=3000):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()[-n:]
        except OSError:
            return ""

    # ---- the server -----------------------------------------------------------------------

    def init(self):
        # --no-sync: initdb does not fsync what it makes (a lost initdb is redone); the server
        # runs with fsync and synchronous_commit on.
        rc, out = self._run(self._as_owner([os.path.join(self.bin, "initdb"), "-D", self.data, "-U", "postgres",
                                            "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"]))
        assert rc == 0, f"initdb failed ({rc}): {out}"

    def start(self):
        """Starts the server (initdb first, on the first start); returns once it takes connections.
        Later starts keep the port, so that stores and daemons reconnect to the same URL."""
        if self.running:
            return
        if not os.path.exists(self.data):
            self.init()
        if self.port is not None:
            self._start_on(self.port)
            return
        rng = random.Random()
        last = None
        for _ in range(10):
            port = rng.randint(20000, 32000)  # below the kernel's ephemeral ports (32768 and up)
            if not port_is_free(port):
                continue
            try:
                self._start_on(port)
                return
            except AssertionError as e:  # taken meanwhile: another port
                last = e
                if "could not bind" not in str(e) and "already in use" not in str(e):
                    raise
        raise AssertionError(f"no port below 32768 for PostgreSQL: {last}")

    def _start_on(self, port):
        before = os.path.getsize(self.log) if os.path.exists(self.log) else 0
        # syncfs: crash recovery syncs the file system once rather than fsync every file of the
        # data directory one by one (seconds here); commits are fsynced as always.
        opts = (f"-p {port} -k '{self.dir}' -c listen_addresses=127.0.0.1 -c max_connections=200"
                " -c recovery_init_sync_method=syncfs")
        rc, out = self._run(self._as_owner([os.path.join(self.bin, "pg_ctl"), "-D", self.data, "-l", self.log, "-w",
                                            "-t", "60", "-o", opts, "start"]))
        if rc != 0:
            with open(self.log, errors="replace") as f:
                f.seek(before)
                raise AssertionError(f"pg_ctl start on port {port} failed ({rc}): {out}\nserver log:\n{f.read()[-3000:]}")
        self.port, self.running = port, True
        self.url = f"postgres://postgres@127.0.0.1:{port}/postgres"

    def stop(self, mode="fast"):
        """pg_ctl stop -m fast|immediate|smart."""
        rc, out = self._run(self._as_owner([os.path.join(self.bin, "pg_ctl"), "-D", self.data, "-m", mode, "-w",
                                            "-t", "60", "stop"]))
        assert rc == 0, f"pg_ctl stop -m {mode} failed ({rc}): {out}"
        self.running = False

    def kill(self):
        """The server crashes: pg_ctl stop -m immediate (no checkpoint, every connection cut;
        crash recovery at the next start)."""
        self.stop("immediate")

    def postmaster_pid(self):
        with open(os.path.join(self.data, "postmaster.pid")) as f:
            return int(f.readline())

    def kill9(self):
        """kill -9 of the whole server: the postmaster and every process it started, at once."""
        pid = self.postmaster_pid()
        children = []
        for p in os.listdir("/proc"):
            if p.isdigit():
                try:
                    with open(f"/proc/{p}/stat") as f:
                        if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                            children.append(int(p))
                except (OSError, ValueError, IndexError):
                    pass
        for p in [pid] + children:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass

        # Gone means reaped, not a zombie: the next postmaster refuses to start while the old
        # one's pid still answers kill(pid, 0).
        wait_for(lambda: not any(os.path.exists(f"/proc/{p}") for p in [pid] + children), 30,
                 "the killed server's processes to be gone")
        self.running = False

    def restart(self, kill=True):
        """A crash and a recovery (kill=True), or a clean stop and start."""
        self.kill() if kill else self.stop()
        self.start()

    def psql(self, sql, check=True, timeout=60):
        """Runs SQL with psql (-X -A -t, stops at the first error); returns its output."""
        r = subprocess.run([os.path.join(self.bin, "psql"), "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1",
                            "-d", self.url, "-c", sql], capture_output=True, text=True, timeout=timeout)
        if check:
            assert r.returncode == 0, f"psql failed ({r.returncode}) on {sql!r}: {r.stderr.strip()}"
        return r.stdout if r.returncode == 0 else None

    def close(self):
        """Stops the server (when running) and removes its directory. Idempotent."""
        if self.closed:
            return
        self.closed = True
        try:
            if self.running:
                self.stop("fast")
        except (AssertionError, subprocess.TimeoutExpired):
            pass  # the reaper tries an immediate stop as it removes the directory
        if not self.running and self._reaper:
            self._reaper.kill()
            self._reaper.wait(10)
            shutil.rmtree(self.dir, ignore_errors=True)
        elif self._reaper:
            self._reaper.stdin.close()  # the reaper stops it and removes the directory
            self._reaper.wait(60)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.close()


def cluster_or_skip(tmp=None):
    """A started Cluster, or exit 77 (ctest: skipped) naming the package when PostgreSQL is missing."""
    try:
        c = Cluster(tmp)
    except NotInstalled as e:
        print(f"SKIP: {e}")
        sys.exit(SKIP)
    c.start()
    return c


def self_test():
    check = Checks()
    with tempfile.TemporaryDirectory(prefix="syndic-pglib-selftest-") as tmp:
        pg = cluster_or_skip(tmp)
        t0 = time.monotonic()
        check(pg.port < 32768, f"port {pg.port} is below 32768")
        check(pg.url == f"postgres://postgres@127.0.0.1:{pg.port}/postgres", f"url {pg.url}")
        check(pg.psql("SELECT 40 + 2").strip() == "42", "psql connects and runs a query")
        check(pg.psql("SHOW fsync").strip() == "on" and pg.psql("SHOW synchronous_commit").strip() == "on",
              "fsync and synchronous_commit are on")
        pg.psql("CREATE TABLE t (x int); INSERT INTO t VALUES (7)")
        port = pg.port
        pg.restart()  # pg_ctl stop -m immediate, then start
        check(pg.port == port, "restart keeps the port")
        check(pg.psql("SELECT x FROM t").strip() == "7", "a committed row survives an immediate stop")
        pg.psql("INSERT INTO t VALUES (8)")
        pg.kill9()
        check(pg.psql("SELECT 1", check=False) is None, "no server after kill9")
        pg.start()
        check(pg.psql("SELECT string_agg(x::text, ',' ORDER BY x) FROM t").strip() == "7,8",
              "a committed row survives kill -9 of every server process")
        pg.stop()
        check(pg.psql("SELECT 1", check=False) is None, "no server after stop")
        pg.start()
        check(pg.psql("SELECT count(*) FROM t").strip() == "2", "started again after a clean stop")
        d = pg.dir
        pg.close()
        check(not os.path.exists(d), "close() removes the directory")
        check(pg.psql("SELECT 1", check=False) is None, "no server after close")
        print(f"start, restart, kill9, stop, start, close: {time.monotonic() - t0:.1f} s")

        # A test process killed with SIGKILL leaves nothing behind: the reaper stops the server.
        code = ("import sys, time; sys.path.insert(0, %r); import pg_lib; pg = pg_lib.Cluster(%r); pg.start(); "
                "print(pg.dir, pg.postmaster_pid(), flush=True); time.sleep(120)"
                % (os.path.dirname(os.path.abspath(__file__)), tmp))
        child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        line = child.stdout.readline().split()
        check(len(line) == 2, f"the child started a server: {line}")
        if len(line) == 2:
            cdir, cpid = line[0], int(line[1])
            child.kill()
            child.wait(10)
            try:
                wait_for(lambda: not os.path.exists(cdir) and not os.path.exists(f"/proc/{cpid}"),
                         60, "the reaper to stop the killed test's server and remove its directory")
                check(True, "the reaper cleaned up")
            except AssertionError as e:
                check(False, str(e))
    check.finish("pg_lib")


if __name__ == "__main__":
    self_test()
