#!/usr/bin/env python3
"""Several syndic instances on one PostgreSQL: how deliveries scale with instances, what
publishing costs on each store, how fast a dead instance's outlets move, and each instance's
memory. Latency-bound, as real outlets are: 2 cores cannot show scaling of CPU-bound work.

    bench/cluster/scale.py BUILD_DIR [OUTLETS=3000] [ITEMS=10] [CAP=100] [RUNS=3]

- The sink plays OUTLETS outlets, each answering after 50 ms; the sink and PostgreSQL run on
  CPU 0, the instances on CPU 1 (taskset).
- Each instance is capped at CAP requests in flight (--max-in-flight), so one instance
  delivers at most CAP / 50 ms = 20 x CAP pairs/s.
- Scaling: for 1, 2 and 3 instances (a fresh schema each), publish ITEMS items through the
  first instance and time OUTLETS x ITEMS deliveries at the sink. RUNS runs each; medians.
- Appends: bench/daemon/publish_client posts 100-item JSON Feed documents on 8 connections
  for 5 s to one instance, on SQLite and on PostgreSQL (defaults: fsync on).
- Takeover: with 3 instances delivering, kill -9 one; the time until the first delivery to
  one of its outlets by the new owner (the sink's per-outlet counts, polled every 20 ms).
- Memory: VmHWM of every instance at the end of each scaling run."""

import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "tests", "daemon"))
import pg_lib  # noqa: E402
from daemon_lib import TOKEN, Daemon, Sink, items, wait_for  # noqa: E402

build = sys.argv[1] if len(sys.argv) > 1 else "build"
OUTLETS = int(sys.argv[2]) if len(sys.argv) > 2 else 3000
ITEMS = int(sys.argv[3]) if len(sys.argv) > 3 else 10
CAP = int(sys.argv[4]) if len(sys.argv) > 4 else 100
RUNS = int(sys.argv[5]) if len(sys.argv) > 5 else 3
PARTITIONS = 256
PORTS = 30  # the sink listens on 30 ports, outlets spread over them: no one host:port cap binds
TTL_MS = 3000
syndic = os.path.abspath(os.path.join(build, "engine", "syndic"))
publish_client = os.path.abspath(os.path.join(build, "bench", "publish_client"))


def fnv1a64(s):
    h = 0xcbf29ce484222325
    for c in s.encode():
        h = ((h ^ c) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def partition_of(outlet):
    return fnv1a64(outlet) % PARTITIONS


def pinned(cpu, argv):
    return ["taskset", "-c", str(cpu)] + argv


def vm_hwm_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        m = re.search(r"VmHWM:\s+(\d+) kB", f.read())
    return int(m.group(1)) / 1024 if m else 0.0


def view(d):
    status, _, body = d.request("GET", "/v1/cluster")
    return json.loads(body) if status == 200 else {}


def settled(instances):
    owned = [len(view(d).get("owned", [])) for d in instances]
    return sum(owned) == PARTITIONS and max(owned) <= -(-PARTITIONS // len(instances)) and owned


class Pinned(Daemon):
    """`syndic run`, moved to CPU 1 with all its threads once it listens (threads made later
    inherit the affinity of the thread that makes them)."""

    def start(self, expect_ready=True):
        super().start(expect_ready)
        subprocess.run(["taskset", "-apc", "1", str(self.proc.pid)], capture_output=True)


class RangeSink(Sink):
    """`syndic sink` on PORTS consecutive ports (a free range is looked for), 50 ms per answer."""

    def __init__(self, tmp):
        import random
        for _ in range(20):
            self.port = random.randrange(33000, 60000 - PORTS)
            self.err = open(os.path.join(tmp, f"sink-{self.port}.err"), "w+")
            self.proc = subprocess.Popen([syndic, "sink", "--listen", f"127.0.0.1:{self.port}-{self.port + PORTS - 1}",
                                          "--latency-ms", "50"], stdout=subprocess.DEVNULL, stderr=self.err)
            wait_for(lambda: self._listening() or self.proc.poll() is not None, 30, "the sink to listen")
            if self._listening():
                return
        raise AssertionError("no free range of ports for the sink")


def start_instances(tmp, pg_url, schema, n, csv, extra=()):
    out = []
    for i in range(n):
        home = os.path.join(tmp, f"{schema}-{i}")
        os.makedirs(home, exist_ok=True)
        d = Pinned(syndic, home, csv)
        d.extra = ["--store", pg_url, "--store-schema", schema, "--instance-id", f"i{i}",
                   "--max-in-flight", str(CAP), "--cluster-lease-ttl-ms", str(TTL_MS), *extra]
        d.start()
        out.append(d)
    wait_for(lambda: settled(out), 30, f"{n} instances to split the partitions")
    return out


def stop_all(instances):
    for d in instances:
        if d.proc.poll() is None:
            d.proc.send_signal(signal.SIGKILL)
            d.proc.wait(10)


def distinct(sink):
    s = sink.stats()
    return s["delivered"] - s["duplicates"]


def scaling_run(tmp, pg, sink, csv, n, run):
    schema = f"scale_{n}_{run}"
    instances = start_instances(tmp, pg.url, schema, n, csv)
    try:
        base = distinct(sink)
        total = OUTLETS * ITEMS
        t0 = time.monotonic()
        instances[0].publish(items(0, ITEMS, f"{schema}"))
        wait_for(lambda: distinct(sink) - base >= total, 600, f"{total} deliveries", interval=0.02)
        elapsed = time.monotonic() - t0
        mem = [vm_hwm_mib(d.proc.pid) for d in instances]
        return total / elapsed, elapsed, mem
    finally:
        stop_all(instances)


def appends(tmp, pg_url, store):
    home = os.path.join(tmp, f"appends-{store}")
    os.makedirs(home, exist_ok=True)
    d = Pinned(syndic, home, None)
    if store == "postgres":
        d.extra = ["--store", pg_url, "--store-schema", "appends"]
    d.start()
    try:
        port = d.url.rsplit(":", 1)[1]
        r = subprocess.run(pinned(0, [publish_client, "127.0.0.1", port, TOKEN, "8", "100", "5"]),
                           capture_output=True, text=True, timeout=120)
        out = r.stdout + r.stderr
        m = re.search(r'"items_per_s":([\d.]+)', out)
        return float(m.group(1)) if m else 0.0, out.strip().splitlines()[-1] if out.strip() else ""
    finally:
        stop_all([d])


def takeover(tmp, pg, sink, csv):
    instances = start_instances(tmp, pg.url, "takeover", 3, csv)
    try:
        victim = instances[2]
        parts = set(view(victim)["owned"])
        theirs = [f"{sink.port + i % PORTS}/o{i}" for i in range(OUTLETS) if partition_of(f"o{i}") in parts]
        # A light load: what is published before the kill is delivered by then, so that the
        # new owners' own backlog does not hide the takeover; what is published right after
        # the kill goes to every outlet, the dead instance's too.
        instances[0].publish(items(0, 2, "takeover"))
        time.sleep(4.0)
        before = sink.stats()["outlets"]
        victim.proc.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        victim.proc.wait(10)
        # Requests the victim sent just before dying still land for 50 ms: start looking after them.
        time.sleep(0.2)
        base = sink.stats()["outlets"]
        instances[0].publish(items(100, 2, "takeover"))
        first = None
        while time.monotonic() - killed < 6 * TTL_MS / 1000:
            now = sink.stats()["outlets"]
            if any(now.get(p, 0) > base.get(p, 0) for p in theirs):
                first = time.monotonic() - killed
                break
            time.sleep(0.02)
        wait_for(lambda: settled(instances[:2]), 30, "the survivors to hold every partition")
        moved = time.monotonic() - killed
        return first, moved, len(parts), sum(before.get(p, 0) for p in theirs)
    finally:
        stop_all(instances)


def main():
    print(f"# {OUTLETS} outlets answering after 50 ms, {ITEMS} items, {CAP} requests in flight per instance, "
          f"{RUNS} runs; sink and PostgreSQL on CPU 0, instances on CPU 1", flush=True)
    with tempfile.TemporaryDirectory(prefix="syndic-cluster-bench-") as tmp:
        pg = pg_lib.cluster_or_skip(tmp)
        sink = RangeSink(tmp)
        subprocess.run(["taskset", "-pc", "0", str(sink.proc.pid)], capture_output=True)
        subprocess.run(["taskset", "-apc", "0", str(pg.postmaster_pid())], capture_output=True)
        csv = os.path.join(tmp, "outlets.csv")
        with open(csv, "w") as f:
            f.write("id,url,format\n")
            for i in range(OUTLETS):
                f.write(f"o{i},http://127.0.0.1:{sink.port + i % PORTS}/o{i},webhook\n")
        try:
            rates = {}
            for run in range(RUNS):  # RUNS = 0: the takeover alone
                for n in (1, 2, 3):
                    rate, elapsed, mem = scaling_run(tmp, pg, sink, csv, n, run)
                    rates.setdefault(n, []).append(rate)
                    print(f"run {run + 1}: {n} instance(s): {rate:,.0f} deliveries/s ({OUTLETS * ITEMS} in {elapsed:.2f} s); "
                          f"VmHWM {', '.join(f'{m:.0f}' for m in mem)} MiB", flush=True)
            med = {n: statistics.median(r) for n, r in rates.items()}
            if RUNS:
                print(f"medians: 1: {med[1]:,.0f}/s, 2: {med[2]:,.0f}/s ({med[2] / med[1]:.2f}x), "
                  f"3: {med[3]:,.0f}/s ({med[3] / med[1]:.2f}x)", flush=True)
            for store in ("sqlite", "postgres") if RUNS else ():
                rate, line = appends(tmp, pg.url, store)
                print(f"appends through POST /v1/publish on {store}: {rate:,.0f} items/s ({line})", flush=True)
            first, moved, nparts, _ = takeover(tmp, pg, sink, csv)
            print(f"takeover (TTL {TTL_MS} ms): the killed instance held {nparts} partitions; first delivery to one of "
                  f"its outlets by a new owner {first if first is None else f'{first:.2f}'} s after kill -9; "
                  f"survivors held every partition after {moved:.2f} s", flush=True)
        finally:
            sink.stop()
            pg.close()


if __name__ == "__main__":
    main()
