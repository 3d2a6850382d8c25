#!/usr/bin/env python3
"""Several `syndic run` instances on one real PostgreSQL (started by the test, pg_lib), one
real `syndic sink` playing the outlets. In one run, phase by phase:

1. three instances split the 256 partitions (86/85/85);
2. concurrent publishers on all three: every acknowledged item has its own seq, the seqs are
   dense, and every (item, outlet) pair is delivered exactly once;
3. kill -9 of one instance in the middle of a fan-out: the others hold all partitions within
   the lease TTL plus a refresh period, and every pair arrives at least once, resent ones with
   the first attempt's delivery id (the sink counts a resend as a duplicate, never as new);
4. a fourth instance joins: partitions move to it, nothing is lost or sent twice;
5. an instance paused with SIGSTOP past its lease, then resumed: its partitions were taken
   over, its late writes are refused (fenced) and nothing it held is lost;
6. kill -9 of the PostgreSQL server during publishes: the instances wait and reconnect, and
   every acknowledged item reaches every outlet.

usage: cluster_test.py SYNDIC [LEASE_TTL_MS]"""

import json
import os
import re
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import pg_lib  # noqa: E402
from daemon_lib import Checks, Daemon, Sink, items, outlets_csv, tempdir, wait_for  # noqa: E402

PARTITIONS = 256
# The lease TTL: 2 s, longer under the sanitizers (argv[2]), whose instances run 5-10x slower.
TTL_MS = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
OUTLETS = 60


def fnv1a64(s):
    h = 0xcbf29ce484222325
    for c in s.encode():
        h = ((h ^ c) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def view(d):
    status, _, body = d.request("GET", "/v1/cluster")
    return json.loads(body) if status == 200 else None


def metric(d, name):
    status, _, body = d.request("GET", "/metrics", token=None)
    m = re.search(rf"^{name} (\S+)$", body.decode(), re.M)
    return float(m.group(1)) if m else 0.0


def owned_by(instances):
    """partition -> owners, as each live instance sees itself."""
    owners = {}
    for d in instances:
        v = view(d)
        for p in (v or {}).get("owned", []):
            owners.setdefault(p, []).append(d.name)
    return owners


def settled(instances):
    owners = owned_by(instances)
    n = len(instances)
    if len(owners) != PARTITIONS or any(len(o) > 1 for o in owners.values()):
        return False
    counts = [sum(1 for o in owners.values() if o == [d.name]) for d in instances]
    return max(counts) <= -(-PARTITIONS // n) and min(counts) >= PARTITIONS // n - 1 and counts


def publish_all(d, first, n, prefix, batch=5):
    """Publishes items first..first+n-1 in batches, each under its Idempotency-Key, retrying
    until acknowledged (a retry after a lost answer appends nothing twice). Returns the seqs."""
    seqs = []
    for start in range(first, first + n, batch):
        count = min(batch, first + n - start)
        deadline = time.monotonic() + 60
        while True:
            try:
                r = d.publish(items(start, count, prefix), key=f"{prefix}-{start}")
                seqs += r["seqs"]
                break
            except Exception as e:  # 503 while the store is away, a refused connection
                if time.monotonic() > deadline:
                    raise AssertionError(f"publish {prefix}-{start} never acknowledged: {e}")
                time.sleep(0.1)
    return seqs


def distinct(sink):
    s = sink.stats()
    return s["delivered"] - s["duplicates"]


def main():
    syndic = sys.argv[1]
    check = Checks()
    with tempdir() as tmp:
        pg = pg_lib.cluster_or_skip(tmp)
        sink = Sink(syndic, tmp, extra=["--latency-ms", "1-8"])
        csv = os.path.join(tmp, "outlets.csv")
        outlets_csv(csv, sink.port, OUTLETS)
        instances = []

        def start(name, public_port=None):
            home = os.path.join(tmp, name)
            os.makedirs(home)
            d = Daemon(syndic, home, csv)
            d.name = name
            public = public_port or (instances[0].port if instances else d.port)
            d.extra = ["--store", pg.url, "--store-schema", "cluster_test", "--instance-id", name,
                       "--cluster-lease-ttl-ms", str(TTL_MS), "--public-url", f"http://127.0.0.1:{public}",
                       "--allow-private-targets"]
            d.start()
            instances.append(d)
            return d

        try:
            # 1. Three instances split the partitions.
            t0 = time.monotonic()
            a, b, c = start("a"), start("b"), start("c")
            counts = wait_for(lambda: settled([a, b, c]), 20, "three instances to split the partitions")
            check(sorted(counts) == [85, 85, 86], f"partitions split 86/85/85: {counts}")
            print(f"1. three instances hold {counts} partitions {time.monotonic() - t0:.1f} s after the first started",
                  flush=True)

            # 2. Concurrent publishers on all three.
            results = {}

            def publisher(d, k):
                results[k] = publish_all(d, 0, 60, f"p{k}")

            threads = [threading.Thread(target=publisher, args=(d, k)) for k, d in enumerate([a, b, c, a, b, c])]
            for t in threads:
                t.start()
            for t in threads:
                t.join(120)
            seqs = sorted(s for r in results.values() for s in r)
            check(len(results) == 6 and len(seqs) == 360, f"360 items acknowledged: {len(seqs)}")
            check(seqs == list(range(seqs[0], seqs[0] + len(seqs))), "seqs are distinct and dense across instances")
            total = len(seqs) * OUTLETS
            wait_for(lambda: distinct(sink) >= total, 90, f"{total} pairs")
            time.sleep(0.3)
            s = sink.stats()
            check(s["delivered"] - s["duplicates"] == total, f"exactly {total} distinct deliveries: {s['delivered']} - {s['duplicates']}")
            check(s["duplicates"] == 0, f"no pair sent twice with every instance alive: {s['duplicates']}")
            print(f"2. 6 publishers on 3 instances: 360 items, dense seqs, {total} pairs delivered once", flush=True)

            # 3. kill -9 of c in the middle of a fan-out.
            more = publish_all(a, 1000, 150, "k")
            total += len(more) * OUTLETS
            wait_for(lambda: distinct(sink) >= total - 0.7 * len(more) * OUTLETS, 60, "30% of the fan-out")
            c.kill9()
            killed = time.monotonic()
            instances.remove(c)
            wait_for(lambda: settled([a, b]), 3 * TTL_MS / 1000 + 10, "a and b to hold every partition")
            takeover = time.monotonic() - killed
            check(takeover <= 2 * TTL_MS / 1000 + 1.0, f"takeover within 2 TTL (+1 s of polling): {takeover:.2f} s")
            wait_for(lambda: distinct(sink) >= total, 90, f"{total} pairs after the kill")
            time.sleep(0.5)
            s = sink.stats()
            check(s["delivered"] - s["duplicates"] == total,
                  f"every pair once, resends with their first id: {s['delivered']} - {s['duplicates']} vs {total}")
            print(f"3. kill -9 of c: a and b hold all partitions after {takeover:.2f} s (TTL {TTL_MS} ms); "
                  f"{s['duplicates']} pairs resent with their first id", flush=True)

            # 4. A fourth instance joins.
            dup_before = sink.stats()["duplicates"]
            d4 = start("d")
            counts = wait_for(lambda: settled([a, b, d4]), 20, "d to take its share")
            more = publish_all(d4, 2000, 60, "j") + publish_all(b, 3000, 60, "j2")
            total += len(more) * OUTLETS
            wait_for(lambda: distinct(sink) >= total, 60, f"{total} pairs after d joined")
            time.sleep(0.5)
            s = sink.stats()
            check(s["delivered"] - s["duplicates"] == total, f"nothing lost while rebalancing: {s['delivered'] - s['duplicates']} vs {total}")
            check(s["duplicates"] == dup_before, f"nothing sent twice while rebalancing: {s['duplicates'] - dup_before}")
            print(f"4. d joined: {counts} partitions; {len(more)} items delivered once", flush=True)

            # Admin calls only the owner can carry out say where to send them.
            part = fnv1a64("o7") % PARTITIONS
            owner = next(d for d in (a, b, d4) if part in view(d)["owned"])
            other = next(d for d in (a, b, d4) if d is not owner)
            status, headers, body = other.request("POST", "/v1/outlets/o7/replay?from=1")
            check(status == 409 and headers.get("Syndic-Owner") == f"http://127.0.0.1:{owner.port}",
                  f"a replay on a non-owner is 409 naming the owner: {status} {headers.get('Syndic-Owner')} {body[:200]!r}")
            status, _, body = owner.request("POST", f"/v1/outlets/o7/dead-letters/retry")
            check(status in (200, 202), f"the owner takes it: {status} {body[:200]!r}")

            # An outlet added through one instance is fed by its partition's owner, elsewhere.
            oid = next(f"api-{i}" for i in range(1000)
                       if fnv1a64(f"api-{i}") % PARTITIONS not in view(a)["owned"])
            body = json.dumps({"id": oid, "url": f"http://127.0.0.1:{sink.port}/{oid}", "format": "webhook"})
            t_add = time.monotonic()
            status, _, resp = a.request("POST", "/v1/outlets", body, {"Content-Type": "application/json"})
            check(status in (200, 201), f"outlet {oid} added through a: {status} {resp[:200]!r}")
            publish_all(a, 2500, 1, "api")
            total += OUTLETS
            key = f"{sink.port}/{oid}"
            wait_for(lambda: sink.stats()["outlets"].get(key, 0) >= 1, 20, f"{oid} to get the item from its owner")
            reach = time.monotonic() - t_add
            total += 1
            wait_for(lambda: distinct(sink) >= total, 60, f"{total} pairs with {oid}")
            print(f"   an outlet added through a (its owner elsewhere) got its first item {reach:.2f} s after the POST",
                  flush=True)

            # 5. b paused past its lease, then resumed: fenced.
            b_parts = set(view(b)["owned"])
            b.proc.send_signal(signal.SIGSTOP)
            paused = time.monotonic()
            wait_for(lambda: b_parts <= set(p for d in (a, d4) for p in view(d)["owned"]), 3 * TTL_MS / 1000 + 10,
                     "a and d to take b's partitions")
            more = publish_all(a, 4000, 60, "f")
            total += len(more) * (OUTLETS + 1)  # with the outlet added through the API
            wait_for(lambda: distinct(sink) >= total, 60, f"{total} pairs while b is paused")
            b.proc.send_signal(signal.SIGCONT)
            wait_for(lambda: not set(view(b)["owned"]) & b_parts or None, 10, "b to drop the partitions it lost")
            vb = view(b)
            check(vb["expired"] + vb["lost"] > 0, f"b counts its partitions as expired or lost: {vb}")
            time.sleep(1.0)
            owners = owned_by([a, b, d4])
            check(all(len(o) == 1 for o in owners.values()), "no partition held by two instances after the resume")
            cursors_behind = pg.psql("SELECT count(*) FROM cluster_test.progress p, cluster_test.log_head h "
                                     "WHERE p.cursor < h.seq").strip()
            s = sink.stats()
            check(s["delivered"] - s["duplicates"] == total, f"nothing lost around the pause: {s['delivered'] - s['duplicates']} vs {total}")
            fenced = metric(b, "syndic_fenced_writes_total")
            dropped = metric(b, "syndic_outcomes_dropped_total")
            print(f"5. b paused {time.monotonic() - paused:.1f} s: its {len(b_parts)} partitions moved; after the "
                  f"resume it wrote nothing for them ({fenced:.0f} writes fenced, {dropped:.0f} outcomes dropped); "
                  f"outlets behind the head: {cursors_behind}", flush=True)
            check(cursors_behind == "0", f"every outlet's stored cursor is at the head: {cursors_behind} behind")

            # 6. kill -9 of PostgreSQL during publishes.
            acked = {}

            def publisher2():
                acked["seqs"] = publish_all(a, 5000, 100, "pg", batch=2)

            t = threading.Thread(target=publisher2)
            t.start()
            time.sleep(0.3)
            pg.kill9()
            time.sleep(1.0)
            pg.start()
            t.join(120)
            check(len(acked.get("seqs", [])) == 100, f"every publish acknowledged in the end: {len(acked.get('seqs', []))}")
            total += 100 * (OUTLETS + 1)
            wait_for(lambda: distinct(sink) >= total, 90, f"{total} pairs after PostgreSQL came back")
            time.sleep(0.5)
            s = sink.stats()
            check(s["delivered"] - s["duplicates"] == total, f"nothing acknowledged was lost: {s['delivered'] - s['duplicates']} vs {total}")
            logged = int(pg.psql("SELECT count(*) FROM cluster_test.log").strip())
            published = 360 + 150 + 120 + 1 + 60 + 100
            check(logged == published, f"the log holds each item once: {logged} rows for {published} items")
            print(f"6. PostgreSQL killed and restarted during publishes: {total} pairs, {logged} items", flush=True)

            for d in list(instances):
                if d is b:
                    continue
                code = d.terminate()
                check(code == 0, f"{d.name}: SIGTERM exit {code}")
        finally:
            for d in instances:
                if d.proc and d.proc.poll() is None:
                    d.proc.send_signal(signal.SIGCONT)
                    d.proc.kill()
            sink.stop()
            pg.close()
    check.finish("cluster")


if __name__ == "__main__":
    main()
