#!/usr/bin/env python3
"""Restart with a backlog: OUTLETS outlets, ITEMS items published while every outlet is down,
so OUTLETS x ITEMS deliveries are pending (1,000 x 1,000 = a million by default). Reports the
daemon's resident memory with that backlog, then kills it (-9), starts the outlets (a
`syndic sink`) and the daemon again, and reports the time from the restart to readiness and
to the first delivery, and how long the whole backlog takes to drain.

    bench/daemon/restart.py BUILD_DIR [OUTLETS] [ITEMS] [--drain]

Target (issue 8): the first delivery within 2 s of the restart."""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

build = sys.argv[1]
outlets = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
items = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
drain = "--drain" in sys.argv
syndic = os.path.join(build, "engine", "syndic")
TOKEN = "bench-token-0123456789"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def get(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.read()


def metric(url, name):
    for line in get(url + "/metrics").decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0


def rss_mib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0


def wait(predicate, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.005)
    raise SystemExit(f"timed out waiting for {what}")


def main():
    tmp = tempfile.mkdtemp(prefix="syndic-restart-")
    sink_port, api_port = free_port(), free_port()
    with open(os.path.join(tmp, "outlets.csv"), "w") as f:
        f.write("id,url,format\n")
        for i in range(outlets):
            f.write(f"o{i},http://127.0.0.1:{sink_port}/o{i},webhook\n")
    args = [syndic, "run", "--data", os.path.join(tmp, "data"), "--listen", f"127.0.0.1:{api_port}", "--token", TOKEN,
            "--outlets", os.path.join(tmp, "outlets.csv")]
    url = f"http://127.0.0.1:{api_port}"
    err = open(os.path.join(tmp, "daemon.err"), "w")
    d = subprocess.Popen(args, stderr=err)
    wait(lambda: _ready(url), 30, "the daemon")
    # Publish while every outlet is down (nothing listens on the sink's port yet).
    batch = 200
    for first in range(0, items, batch):
        n = min(batch, items - first)
        doc = {"version": "https://jsonfeed.org/version/1.1", "title": "backlog",
               "items": [{"id": f"i{first + k}", "title": f"Release {first + k}", "content_text": "x" * 500}
                         for k in range(n)]}
        req = urllib.request.Request(url + "/v1/publish", data=json.dumps(doc).encode(), method="POST",
                                     headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/feed+json"})
        urllib.request.urlopen(req, timeout=60).read()
    time.sleep(3)  # the fan-out hands out its windows; outlets fail and back off
    lag = metric(url, "syndic_outlet_lag_pairs")
    rss = rss_mib(d.pid)
    print(f"backlog: {outlets} outlets x {items} items; lag {lag:.0f} pairs; daemon RSS {rss:.0f} MiB", flush=True)
    d.send_signal(signal.SIGKILL)
    d.wait()
    sink = subprocess.Popen([syndic, "sink", "--listen", f"127.0.0.1:{sink_port}"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    wait(lambda: _up(sink_port), 10, "the sink")
    t0 = time.monotonic()
    d = subprocess.Popen(args, stderr=err)
    wait(lambda: _ready(url), 30, "the daemon after the restart")
    ready = time.monotonic() - t0
    wait(lambda: json.loads(get(f"http://127.0.0.1:{sink_port}/_stats"))["delivered"] > 0, 30, "the first delivery")
    first = time.monotonic() - t0
    print(f"restart (kill -9, then start): ready after {ready:.2f} s, first delivery after {first:.2f} s (target <= 2 s)",
          flush=True)
    if drain:
        total = outlets * items
        wait(lambda: json.loads(get(f"http://127.0.0.1:{sink_port}/_stats"))["delivered"] >= total, 900, "the drain")
        took = time.monotonic() - t0
        peak = rss_mib(d.pid)
        print(f"drained {total} pairs in {took:.1f} s ({total / took:.0f}/s); daemon RSS at the end {peak:.0f} MiB")
    d.terminate()
    d.wait(60)
    sink.terminate()
    sink.wait(10)


def _ready(url):
    try:
        return get(url + "/readyz").startswith(b"ready")
    except OSError:
        return False


def _up(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


if __name__ == "__main__":
    main()
