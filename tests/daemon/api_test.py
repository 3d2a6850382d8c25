#!/usr/bin/env python3
"""The daemon's API and lifecycle against a real process, a real SQLite file and a real sink:
publish (idempotency, content types, bad bodies), feeds (ETag/304, Link), auth, admin
(add with SSRF refusal, state, dead letters, replay), malformed and oversized requests,
start-up errors (corrupt store, unwritable directory, a second instance, bad config), SIGHUP
and SIGTERM.

usage: api_test.py SYNDIC"""

import json
import os
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from daemon_lib import Checks, TOKEN, Daemon, Sink, items, outlets_csv, tempdir, wait_for  # noqa: E402

check = Checks()


def raw(port, data, read=True):
    """Sends raw bytes, returns the first line of the answer (or '' when closed)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(data)
    out = b""
    if read:
        try:
            while b"\r\n" not in out:
                chunk = s.recv(4096)
                if not chunk:
                    break
                out += chunk
        except socket.timeout:
            pass
    s.close()
    return out.split(b"\r\n", 1)[0].decode("latin-1")


def start_error(syndic, args, fragment, code):
    p = subprocess.run([syndic, "run", *args], capture_output=True, text=True, timeout=30)
    check(p.returncode == code, f"syndic run {args} exited {p.returncode}, expected {code}: {p.stderr[:300]}")
    check(fragment in p.stderr, f"syndic run {args} did not say '{fragment}': {p.stderr[:300]}")


def main():
    syndic = sys.argv[1]
    with tempdir() as tmp:
        sink = Sink(syndic, tmp, ["--rule", "{port}/gone=410"])
        csv = os.path.join(tmp, "outlets.csv")
        outlets_csv(csv, sink.port, 3)
        with open(csv, "a") as f:
            f.write(f"gone,http://127.0.0.1:{sink.port}/gone,webhook\n")
        d = Daemon(syndic, tmp, csv, extra=["--shutdown-deadline-ms", "5000"])
        d.start()
        try:
            # Publish: a lone item, a document, RSS; idempotency.
            r = d.publish(items(0, 2))
            check(r["seqs"] == [1, 2] and not r["duplicate"], f"first publish {r}")
            r1 = d.publish(items(2, 1), key="k-1")
            r2 = d.publish(items(2, 1), key="k-1")
            check(r2["duplicate"] and r2["seqs"] == r1["seqs"], f"idempotent retry {r1} {r2}")
            status, _, body = d.request("POST", "/v1/publish", json.dumps({"id": "solo", "title": "Solo"}),
                                        {"Content-Type": "application/feed+json"})
            check(status == 202, f"a lone item answered {status} {body!r}")
            rss = ('<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>http://x/</link>'
                   '<description>d</description><item><guid>rss-1</guid><title>From RSS</title></item></channel></rss>')
            status, _, body = d.request("POST", "/v1/publish?channel=wire", rss, {"Content-Type": "application/rss+xml"})
            check(status == 202, f"RSS publish answered {status} {body!r}")
            wait_for(lambda: sink.distinct() >= 3 * 5, 15, "the published items at every outlet")

            # Bad publishes: 4xx with a JSON error, nothing appended.
            bad = [("not json", "application/json", 400), ('{"items": 5}', "application/feed+json", 400),
                   ("[1,2]", "application/json", 400), ('{"version":"x","items":[]}', "application/feed+json", 400),
                   ("<html>", "application/xml", 400), ("hello", "text/plain", 415),
                   ('{"id":"1"}' + '}]},{"id":"evil"', "application/json", 400)]
            for body, ctype, want in bad:
                status, headers, answer = d.request("POST", "/v1/publish", body, {"Content-Type": ctype})
                check(status == want and answer.startswith(b'{"error":'), f"{body[:20]!r} as {ctype}: {status} {answer!r}")
            status, _, _ = d.request("POST", "/v1/publish?channel=../etc", json.dumps(items(9, 1)[0]),
                                     {"Content-Type": "application/json"})
            check(status == 400, f"a bad channel name answered {status}")
            # Refused from its Content-Length, before the body is read.
            line = raw(d.port, b"POST /v1/publish HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TOKEN.encode() +
                       b"\r\nContent-Type: application/json\r\nContent-Length: " + str(5 << 20).encode() + b"\r\n\r\n")
            check(line.startswith("HTTP/1.1 413"), f"an oversized publish answered {line!r}")
            head = json.loads(d.request("GET", "/v1/outlets/o0")[2])
            check(head.get("cursor", 0) <= 5, f"outlet state {head}")

            # Auth.
            for token, want in [(None, 401), ("wrong-token-0123456789", 401)]:
                status, headers, _ = d.request("POST", "/v1/publish", "{}", {"Content-Type": "application/json"}, token=token)
                check(status == want and "Bearer" in headers.get("WWW-Authenticate", ""), f"token {token}: {status}")
                status, _, _ = d.request("GET", "/v1/outlets", token=token)
                check(status == want, f"admin with token {token}: {status}")
            status, _, _ = d.request("GET", "/v1/outlets", headers={"Authorization": "Bearer a b c"}, token=None)
            check(status in (400, 401), f"a malformed Authorization answered {status}")

            # Feeds: ETag/304, Link, formats.
            status, headers, body = d.request("GET", "/feeds/default.atom", token=None)
            check(status == 200 and b"<feed" in body, f"atom feed {status}")
            etag = headers.get("ETag")
            check(etag and "rel=\"hub\"" in headers.get("Link", "") and "rel=\"self\"" in headers.get("Link", ""),
                  f"feed headers {headers}")
            status, _, body = d.request("GET", "/feeds/default.atom", headers={"If-None-Match": etag}, token=None)
            check(status == 304 and body == b"", f"If-None-Match answered {status}")
            status, _, body = d.request("GET", "/feeds/wire.rss", token=None)
            check(status == 200 and b"From RSS" in body, f"the wire channel as RSS: {status}")
            status, _, body = d.request("GET", "/feeds/wire.json", token=None)
            check(status == 200 and json.loads(body)["items"][0]["title"] == "From RSS", "the wire channel as JSON")
            status, _, _ = d.request("GET", "/feeds/wire.html", token=None)
            check(status == 404, f"an unknown feed format answered {status}")
            d.publish(items(50, 1))
            status, _, _ = d.request("GET", "/feeds/default.atom", headers={"If-None-Match": etag}, token=None)
            check(status == 200, f"after a publish the old ETag answered {status}")

            # Admin: SSRF refusal, add, state, dead letters and their retry, replay, remove.
            outlet = {"id": "api1", "url": f"http://127.0.0.1:{sink.port}/api1", "format": "webhook"}
            status, _, body = d.request("POST", "/v1/outlets", json.dumps(outlet), {"Content-Type": "application/json"})
            check(status == 403 and b"loopback" in body, f"a loopback outlet through the API: {status} {body!r}")
            for o in ({"id": "x", "url": "http://169.254.169.254/latest"}, {"id": "x", "url": "http://[::ffff:127.0.0.1]/"},
                      {"id": "x", "url": "http://2130706433/"}, {"id": "x", "url": "http://localhost/"}):
                o["format"] = "webhook"
                status, _, _ = d.request("POST", "/v1/outlets", json.dumps(o), {"Content-Type": "application/json"})
                check(status == 403, f"{o['url']} through the API answered {status}")
            status, _, body = d.request("POST", "/v1/outlets", json.dumps({"id": "x", "url": "ftp://a/", "format": "webhook"}),
                                        {"Content-Type": "application/json"})
            check(status == 400 and b"url" in body, f"a bad URL answered {status} {body!r}")
            status, _, body = d.request("POST", "/v1/outlets", json.dumps({"id": "x", "url": "https://example.com/",
                                                                          "format": "pigeon"}), {"Content-Type": "application/json"})
            check(status == 400 and b"format" in body, f"a bad format answered {status} {body!r}")
            status, _, body = d.request("GET", "/v1/outlets/o1")
            state = json.loads(body)
            check(status == 200 and "cursor" in state and "lag" in state, f"outlet state {status} {body!r}")
            status, _, _ = d.request("GET", "/v1/outlets/nobody")
            check(status == 404, f"an unknown outlet answered {status}")
            before = sink.stats()["delivered"]
            status, _, body = d.request("POST", "/v1/outlets/o2/replay?from=1")
            check(status == 202, f"replay answered {status} {body!r}")
            wait_for(lambda: sink.stats()["delivered"] >= before + 6, 15, "the replay of o2")
            status, _, body = d.request("GET", "/v1/outlets/o2/dead-letters")
            check(status == 200 and json.loads(body)["dead_letters"] == [], f"dead letters {body!r}")
            status, _, _ = d.request("DELETE", "/v1/outlets/o2")
            check(status == 204, f"remove answered {status}")
            check(b'"o2"' not in d.request("GET", "/v1/outlets")[2], "o2 still listed")

            # An outlet that answered 410 is retired; a replay takes it back (it is sent to again).
            gone = f"{sink.port}/gone"
            wait_for(lambda: json.loads(d.request("GET", "/v1/outlets/gone")[2]).get("retired"), 10, "the 410 outlet retired")
            sent = sink.stats()["outlets"].get(gone, 0)
            status, _, _ = d.request("POST", "/v1/outlets/gone/replay?from=1")
            check(status == 202, f"replay of a retired outlet answered {status}")
            wait_for(lambda: sink.stats()["outlets"].get(gone, 0) > sent, 10, "a request to the replayed outlet")

            # Malformed HTTP never disturbs other connections.
            check(raw(d.port, b"NONSENSE\r\n\r\n").startswith("HTTP/1.1 400"), "a malformed request line")
            check(raw(d.port, b"POST /v1/publish HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n").startswith("HTTP/1.1 400"),
                  "a negative Content-Length")
            check(raw(d.port, b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")[9:12] in ("431", "400", "414"),
                  "an oversized request line")
            status, _, _ = d.request("GET", "/healthz", token=None)
            check(status == 200, "healthz after the bad requests")
            status, _, body = d.request("GET", "/metrics", token=None)
            check(status == 200 and b"syndic_deliveries_total{outcome=\"delivered\"}" in body, "metrics")

            # SIGHUP: an outlet added to the file gets what is published next.
            with open(csv, "a") as f:
                f.write(f"late,http://127.0.0.1:{sink.port}/late,webhook\n")
            d.proc.send_signal(signal.SIGHUP)
            wait_for(lambda: "1 added" in d.stderr(), 10, "the reload")
            d.publish(items(60, 1))
            wait_for(lambda: sink.stats()["outlets"].get(f"{sink.port}/late", 0) >= 1, 10, "a delivery to the new outlet")
            # A broken file keeps the running outlets.
            with open(csv, "a") as f:
                f.write("broken,nota url,webhook\n")
            d.proc.send_signal(signal.SIGHUP)
            wait_for(lambda: "has errors" in d.stderr(), 10, "the refused reload")

            # One instance per data directory.
            start_error(syndic, ["--data", d.data, "--listen", "127.0.0.1:0", "--token", TOKEN], "in use by another syndic", 1)

            # SIGTERM: exits 0 within the deadline.
            t0 = time.monotonic()
            check(d.terminate(timeout=20) == 0, "SIGTERM exit code")
            check(time.monotonic() - t0 < 10, "SIGTERM took longer than its deadline")
        finally:
            if d.proc and d.proc.poll() is None:
                d.proc.kill()
            sink.stop()

        # Start-up errors: corrupt store, a file where the directory should be, bad settings.
        corrupt = os.path.join(tmp, "corrupt")
        os.makedirs(corrupt)
        with open(os.path.join(corrupt, "syndic.db"), "wb") as f:
            f.write(b"this is not a database" * 100)
        start_error(syndic, ["--data", corrupt, "--token", TOKEN, "--listen", "127.0.0.1:0"], "not a syndic store", 1)
        notdir = os.path.join(tmp, "file")
        open(notdir, "w").close()
        start_error(syndic, ["--data", notdir, "--token", TOKEN, "--listen", "127.0.0.1:0"], notdir, 1)
        start_error(syndic, ["--data", tmp + "/x", "--listen", "127.0.0.1:0"], "token", 2)
        start_error(syndic, ["--data", tmp + "/x", "--token", TOKEN, "--listen", "nowhere"], "--listen", 2)
        cfg = os.path.join(tmp, "syndic.toml")
        with open(cfg, "w") as f:
            f.write('listen = "127.0.0.1:0"\nfeed_items = "many"\n')
        start_error(syndic, ["--config", cfg, "--token", TOKEN], "syndic.toml:2", 2)
        badcsv = os.path.join(tmp, "bad.csv")
        with open(badcsv, "w") as f:
            f.write("id,url,format\na,http://127.0.0.1:1/,carrier-pigeon\n")
        start_error(syndic, ["--data", tmp + "/y", "--token", TOKEN, "--listen", "127.0.0.1:0", "--outlets", badcsv],
                    "bad.csv:2", 2)
    check.finish("api_test")


if __name__ == "__main__":
    main()
