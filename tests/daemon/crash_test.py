#!/usr/bin/env python3
"""kill -9 in the middle of the fan-out, at several moments: after a restart every
(item, outlet) pair reaches the sink at least once, and every resend carries the delivery id
of the first attempt (the sink counts it as a duplicate, never as a new delivery).

usage: crash_test.py SYNDIC [ITEMS OUTLETS]"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemon_lib import Daemon, Sink, items, outlets_csv, tempdir, wait_for  # noqa: E402


def one_round(syndic, m, n, kill_points, label):
    with tempdir() as tmp:
        sink = Sink(syndic, tmp)
        csv = os.path.join(tmp, "outlets.csv")
        outlets_csv(csv, sink.port, n)
        d = Daemon(syndic, tmp, csv)
        try:
            d.start()
            total = m * n
            published = 0
            batch = max(1, m // 10)
            while published < m:
                d.publish(items(published, min(batch, m - published)))
                published += batch
            for fraction in kill_points:
                if fraction > 0:
                    wait_for(lambda: sink.distinct() >= fraction * total, 60,
                             f"{fraction:.0%} of {total} deliveries before the kill")
                d.kill9()
                print(f"{label}: killed at {sink.distinct()}/{total} distinct deliveries", flush=True)
                d.start()
            wait_for(lambda: sink.distinct() >= total, 120, f"all {total} pairs after the restarts")
            time.sleep(0.3)  # anything still in flight lands
            s = sink.stats()
            distinct = s["delivered"] - s["duplicates"]
            assert distinct == total, f"{label}: {distinct} distinct deliveries, expected {total} ({s['delivered']} in all)"
            short = {k: v for k, v in s["outlets"].items() if v < m}
            assert not short, f"{label}: outlets short of {m} deliveries: {list(short.items())[:5]}"
            assert s["bad_signatures"] == 0
            code = d.terminate()
            assert code == 0, f"{label}: SIGTERM exit {code}: {d.stderr()[-500:]}"
            print(f"{label}: ok: {total} pairs, {s['duplicates']} resent with their first id", flush=True)
        finally:
            if d.proc and d.proc.poll() is None:
                d.proc.kill()
            sink.stop()


def main():
    syndic = sys.argv[1]
    m = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 500
    # Right after the publishes are acknowledged (before most deliveries), in the middle of
    # the fan-out (outcomes being group-committed), twice in one run, and near the end.
    one_round(syndic, m, n, [0.0], "kill before the fan-out")
    one_round(syndic, m, n, [0.3], "kill mid fan-out")
    one_round(syndic, m, n, [0.2, 0.6], "two kills")
    one_round(syndic, m, n, [0.9], "kill near the end")
    print("crash_test: ok")


if __name__ == "__main__":
    main()
