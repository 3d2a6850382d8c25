#!/usr/bin/env python3
"""Samples a syndic sink's delivered count while a client runs, for bench/loadtest/compare.sh:
one line "UNIX_TIME DELIVERED" per sample on stdout, every INTERVAL seconds, until SIGTERM or
MAX_SECONDS. compare.sh reads from it when the last 2xx arrived: with slow or dead outlets a
client's wall time is mostly waiting, and the time to the last delivery says how fast the
deliverable part went.

    arrivals.py STATS_URL INTERVAL MAX_SECONDS
"""
import json
import signal
import sys
import time
import urllib.request

url, interval, max_seconds = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
end = time.time() + max_seconds
while time.time() < end:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            delivered = json.load(r)["delivered"]
        print(f"{time.time():.3f} {delivered}", flush=True)
    except OSError:
        pass
    time.sleep(interval)
