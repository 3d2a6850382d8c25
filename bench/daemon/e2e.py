#!/usr/bin/env python3
"""The driver of e2e.sh: push and the daemon take turns; prints each run and the medians.

    e2e.py SYNDIC TMPDIR PAIRS RUNS DELIVERY_BENCH_DIR"""

import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

syndic, tmp, pairs, runs, delivery = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
TOKEN = "bench-token-0123456789"
TICK = os.sysconf("SC_CLK_TCK")


def cpu_of(pid):
    stat = open(f"/proc/{pid}/stat").read()
    f = stat[stat.rindex(")") + 2:].split()
    return (int(f[11]) + int(f[12])) / TICK


def push_run():
    out = os.path.join(tmp, "push.out")
    cost = subprocess.run([sys.executable, os.path.join(delivery, "measure.py"), out, "--", "taskset", "-c", "1",
                           syndic, "push", "--outlets", os.path.join(tmp, "outlets.csv"), os.path.join(tmp, "feed.json")],
                          capture_output=True, text=True, check=True)
    c = json.loads(cost.stdout)
    delivered = int(re.search(r"^delivered:\s+(\d+)", open(out).read(), re.M).group(1))
    assert delivered == pairs, f"push delivered {delivered}/{pairs}"
    return pairs / c["wall_s"], (c["user_s"] + c["sys_s"]) * 1e6 / pairs


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def metric(url, name):
    with urllib.request.urlopen(url + "/metrics", timeout=10) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
    return 0.0


def daemon_run():
    data = os.path.join(tmp, "data")
    shutil.rmtree(data, ignore_errors=True)
    port = free_port()
    err = open(os.path.join(tmp, "daemon.err"), "w")
    p = subprocess.Popen(["taskset", "-c", "1", syndic, "run", "--data", data, "--listen", f"127.0.0.1:{port}",
                          "--token", TOKEN, "--outlets", os.path.join(tmp, "outlets.csv")], stderr=err)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(url + "/readyz", timeout=1)
                break
            except OSError:
                time.sleep(0.05)
        body = open(os.path.join(tmp, "feed.json"), "rb").read()
        delivered_name = 'syndic_deliveries_total{outcome="delivered"}'
        cpu0 = cpu_of(p.pid)
        t0 = time.perf_counter()
        req = urllib.request.Request(url + "/v1/publish", data=body, method="POST",
                                     headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/feed+json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            assert r.status == 202
        deadline = time.monotonic() + 120
        while metric(url, delivered_name) < pairs:
            assert time.monotonic() < deadline, "the daemon did not deliver everything in 120 s"
            time.sleep(0.005)
        wall = time.perf_counter() - t0
        cpu = cpu_of(p.pid) - cpu0
        return pairs / wall, cpu * 1e6 / pairs
    finally:
        p.terminate()
        p.wait(30)


rows = {"push": [], "daemon": []}
for run in range(1, runs + 1):
    for name, fn in (("push", push_run), ("daemon", daemon_run)):
        rate, cpu = fn()
        rows[name].append((rate, cpu))
        print(f"run {run}: {name:7s} {rate:8.0f}/s  {cpu:6.1f} us CPU/delivery", flush=True)
ratios = [d[0] / p[0] for p, d in zip(rows["push"], rows["daemon"])]
print(f"\nmedians of {runs} runs:")
for name, r in rows.items():
    print(f"  {name:7s} {statistics.median(x[0] for x in r):8.0f}/s  {statistics.median(x[1] for x in r):6.1f} us CPU/delivery")
print(f"daemon / push rate: median {statistics.median(ratios):.2f} (runs {min(ratios):.2f}-{max(ratios):.2f}; target >= 0.8)")
