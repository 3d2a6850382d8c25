"""Shared by the daemon's integration tests: a real `syndic run` process, a real `syndic sink`
process playing the outlets, both on 127.0.0.1, a data directory in a temp dir. Every wait is
bounded; every helper raises AssertionError with what it saw."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

TOKEN = "test-token-0123456789"


class Checks:
    """Counts checks and failures; a failed check prints what it saw and the test goes on."""

    def __init__(self):
        self.count, self.failures = 0, 0

    def __call__(self, cond, what):
        self.count += 1
        if not cond:
            self.failures += 1
            print(f"FAIL: {what}", flush=True)
        return cond

    def finish(self, name):
        if self.failures:
            print(f"{name}: {self.failures} failure(s) of {self.count} checks")
            sys.exit(1)
        print(f"{name}: ok ({self.count} checks)")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(predicate, timeout, what, interval=0.05):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


class Sink:
    """`syndic sink` on one port; every path is an outlet of its own."""

    def __init__(self, syndic, tmp, extra=()):
        # A free port can be taken by another test between free_port() and the sink's bind:
        # a sink that exits without listening is started again on another port.
        for _ in range(5):
            self.port = free_port()
            self.err = open(os.path.join(tmp, f"sink-{self.port}.err"), "w+")
            args = [a.format(port=self.port) for a in extra]  # "{port}/path=410": a rule for a path
            self.proc = subprocess.Popen([syndic, "sink", "--listen", f"127.0.0.1:{self.port}", *args],
                                         stdout=subprocess.DEVNULL, stderr=self.err)
            try:
                wait_for(lambda: self._listening() or self.proc.poll() is not None, 30, "the sink to listen")
            except AssertionError:
                # Seen once on a loaded CI machine: alive, silent for 30 s. Say what it printed,
                # then start another on another port rather than fail the whole test.
                self.err.seek(0)
                print(f"sink on port {self.port} did not listen within 30 s (stderr: {self.err.read()[-300:]!r});"
                      " starting another", flush=True)
                self.proc.kill()
                self.proc.wait(10)
                continue
            if self._listening():
                return
        self.err.seek(0)
        raise AssertionError(f"the sink did not start: {self.err.read()[-500:]}")

    def _listening(self):
        self.err.seek(0)
        return "listening" in self.err.read()

    def stats(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/_stats", timeout=5) as r:
            return json.loads(r.read())

    def distinct(self):
        s = self.stats()
        return s["delivered"] - s["duplicates"]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


class Daemon:
    """`syndic run` with a data directory; start() waits until it listens."""

    def __init__(self, syndic, tmp, outlets=None, extra=()):
        self.syndic, self.tmp = syndic, tmp
        self.data = os.path.join(tmp, "data")
        self.outlets, self.extra = outlets, list(extra)
        self.proc = None
        self.url = None
        self.runs = 0
        # One port for every start: stored WebSub topics name it (a public URL would, in production).
        self.port = free_port()

    def start(self, expect_ready=True):
        self.runs += 1
        self.err_path = os.path.join(self.tmp, f"daemon-{self.runs}.err")
        err = open(self.err_path, "w")
        args = [self.syndic, "run", "--data", self.data, "--listen", f"127.0.0.1:{self.port}", "--token", TOKEN]
        if self.outlets:
            args += ["--outlets", self.outlets]
        self.proc = subprocess.Popen(args + self.extra, stdout=subprocess.DEVNULL, stderr=err)
        if not expect_ready:
            return
        m = wait_for(lambda: re.search(r"listening on (http://\S+?);", self.stderr()) or self.proc.poll() is not None,
                     30, "the daemon to listen")
        if self.proc.poll() is not None:
            if self.runs == 1 and "cannot listen" in self.stderr():
                # Its free port was taken meanwhile (first start only: later starts must keep
                # the port that stored topics name).
                self.port = free_port()
                return self.start(expect_ready)
            raise AssertionError(f"the daemon exited {self.proc.returncode}: {self.stderr()}")
        self.url = m.group(1)

    def stderr(self):
        with open(self.err_path) as f:
            return f.read()

    def request(self, method, path, body=None, headers=None, token=TOKEN):
        h = dict(headers or {})
        if token:
            h["Authorization"] = f"Bearer {token}"
        data = body.encode() if isinstance(body, str) else body
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def publish(self, items, channel=None, key=None):
        doc = {"version": "https://jsonfeed.org/version/1.1", "title": "wire", "items": items}
        headers = {"Content-Type": "application/feed+json"}
        if key:
            headers["Idempotency-Key"] = key
        path = "/v1/publish" + (f"?channel={channel}" if channel else "")
        status, _, body = self.request("POST", path, json.dumps(doc), headers)
        assert status == 202, f"publish answered {status}: {body[:300]!r}"
        return json.loads(body)

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def terminate(self, timeout=30):
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)


def items(first, n, prefix="item"):
    return [{"id": f"{prefix}-{i}", "title": f"Release {i}", "content_text": f"Body of release {i}.",
             "date_published": "2026-12-01T10:00:00Z"} for i in range(first, first + n)]


def outlets_csv(path, sink_port, n, prefix="o"):
    with open(path, "w") as f:
        f.write("id,url,format\n")
        for i in range(n):
            f.write(f"{prefix}{i},http://127.0.0.1:{sink_port}/{prefix}{i},webhook\n")


def tempdir():
    return tempfile.TemporaryDirectory(prefix="syndic-daemon-test-")
