#!/usr/bin/env python3
"""An outlet that times new-item-to-delivery: every delivery's body holds the item's link with
created_ms=MS (the wall-clock millisecond `syndic feeds` made the item visible); the outlet
records now - MS. GET /latency answers the count and percentiles in ms.
usage: latency_outlet.py PORT"""

import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CREATED = re.compile(rb"created_ms=(\d+)")
lock = threading.Lock()
samples = []


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        now = time.time() * 1000
        found = {int(m) for m in CREATED.findall(body)}
        with lock:
            samples.extend(now - ms for ms in found)
        self.send_response(204)
        self.end_headers()

    def do_GET(self):
        with lock:
            s = sorted(samples)
        pick = lambda q: round(s[min(len(s) - 1, int(q * len(s)))], 1) if s else None
        out = json.dumps({"count": len(s), "p50": pick(0.5), "p90": pick(0.9), "p99": pick(0.99),
                          "max": round(s[-1], 1) if s else None}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
