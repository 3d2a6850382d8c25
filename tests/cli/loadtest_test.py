#!/usr/bin/env python3
"""`syndic loadtest` end to end, on 127.0.0.1 only: a short in-process scenario with every
fault class passes its check and its report agrees with the sink's own counts; injected loss
(drop=) is found and exits 1; a run against a real `syndic run` daemon; bad flags exit 2
naming the flag. Usage: loadtest_test.py SYNDIC"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "daemon"))
import daemon_lib  # noqa: E402

syndic = sys.argv[1]
tmp = tempfile.mkdtemp(prefix="syndic-loadtest-")
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def loadtest(*args, timeout=60):
    p = subprocess.run([syndic, "loadtest", *args], capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def report(path):
    with open(path) as f:
        return json.load(f)


# Every fault class, short delays: the check passes, nothing lost, every key there.
r1 = os.path.join(tmp, "all.json")
h1 = os.path.join(tmp, "all.html")
code, out, err = loadtest("--outlets", "200", "--items", "20", "--faults",
                          "slow=5%,fail=3%,429=2%,blackhole=1%,reset=1%", "--slow-ms", "5-20",
                          "--outlet-timeout-ms", "300", "--fault-rate", "0.2", "--ordered", "10",
                          "--format", "mixed", "--report", r1, "--html", h1)
check(code == 0, f"every fault class: exit {code}, expected 0; {out[-600:]} {err[-300:]}")
r = report(r1)
for key in ("expected", "delivered", "lost", "duplicates", "bad_signatures", "latency_ms", "throughput", "classes"):
    check(key in r, f"report key {key}")
for key in ("p50", "p90", "p99", "p999", "max"):
    check(key in r["latency_ms"], f"latency_ms.{key}")
check(r["expected"] == 4000 and r["delivered"] == 4000 and r["lost"] == 0, f"pairs: {r['expected']} {r['delivered']} {r['lost']}")
check(r["bad_signatures"] == 0 and r["order_violations"] == 0, "no bad signature, no order violation")
check(len(r["throughput"]) > 0 and sum(p["per_second"] for p in r["throughput"]) > 0, "a throughput series")
check({c["name"] for c in r["classes"]} == {"healthy", "slow", "fail", "429", "blackhole", "reset"}, "every class reported")
check(sum(c["delivered"] for c in r["classes"]) == r["delivered"], "the classes add up")
# The report agrees with the sink's own counts: every item a 2xx request carried is a first
# receipt or a duplicate, and the engine delivered what the sink recorded.
check(r["sink"]["items"] == r["delivered"] + r["duplicates"] + r["sink"]["stray"],
      f"sink items {r['sink']['items']} = delivered + duplicates + stray")
check(r["engine"]["delivered"] == r["delivered"], f"engine delivered {r['engine']['delivered']} = {r['delivered']}")
check(r["latency_ms"]["max"] >= r["latency_ms"]["p99"] >= r["latency_ms"]["p50"] > 0, "latency percentiles ordered")
check(r["engine"]["retries"] > 0, "faults made retries")
check(os.path.getsize(h1) > 1000 and "<svg" in open(h1).read(), "the HTML page has its charts")

# Injected loss: found, exit 1.
r2 = os.path.join(tmp, "drop.json")
code, out, err = loadtest("--outlets", "100", "--items", "10", "--faults", "drop=5%", "--report", r2)
check(code == 1, f"drop=5%: exit {code}, expected 1")
r = report(r2)
check(r["lost"] == 50 and not r["passed"], f"drop=5%: lost {r['lost']}, expected 50 (5 outlets x 10 items)")
check(r["sink"]["dropped"] == 50, f"the sink dropped {r['sink']['dropped']}")
check("lost:" in out and "(drop)" in out, "the lost pairs are named")

# Against a daemon: outlets added through its API, items published through /v1/publish.
d = daemon_lib.Daemon(syndic, tmp, extra=["--allow-private-targets"])
d.start()
try:
    r3 = os.path.join(tmp, "daemon.json")
    code, out, err = loadtest("--target", d.url, "--token", daemon_lib.TOKEN, "--outlets", "20", "--items", "30",
                              "--faults", "fail=10%", "--fault-rate", "0.2", "--daemon-pid", str(d.proc.pid),
                              "--report", r3)
    check(code == 0, f"daemon target: exit {code}; {out[-600:]} {err[-400:]}")
    r = report(r3)
    check(r["delivered"] == 600 and r["lost"] == 0, f"daemon: delivered {r['delivered']}")
    check(r["engine"]["attempts"] >= 600 and r["engine"]["peak_rss_mb"] > 0, f"daemon figures {r['engine']}")
    status, _, body = d.request("GET", "/v1/outlets")
    check(status == 200 and b'"lt-' not in body, f"the run's outlets are removed: {status} {body[:200]!r}")
finally:
    d.terminate()

# External: only the sink runs; what some other system posts is checked (here, this script).
port = daemon_lib.free_port()
r4 = os.path.join(tmp, "external.json")
ext = subprocess.Popen([syndic, "loadtest", "--target", "external", "--sink-listen", f"127.0.0.1:{port}",
                        "--outlets", "2", "--items", "3", "--duration", "3", "--report", r4],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
import time  # noqa: E402
import urllib.request  # noqa: E402


def post(j, k):
    ms = int(time.time() * 1000) - 3
    body = json.dumps({"items": [{"url": f"http://x.invalid/items/0/{k}?created_ms={ms}"}]}).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/o/{j}", data=body, method="POST")
    with urllib.request.urlopen(req, timeout=5) as a:
        return a.status


sent = 0
for attempt in range(50):  # the sink may take a moment to listen
    try:
        post(0, 0)
        sent = 1
        break
    except OSError:
        time.sleep(0.05)
check(sent == 1, "the external run's sink listens")
for j, k in ((1, 0), (0, 1), (1, 1), (0, 2), (1, 2), (1, 2)):
    post(j, k)
out, err = ext.communicate(timeout=30)
check(ext.returncode == 0, f"external: exit {ext.returncode}; {out[-400:]} {err[-300:]}")
r = report(r4)
check(r["expected"] == 6 and r["delivered"] == 6 and r["duplicates"] == 1, f"external: {r['expected']} {r['delivered']} {r['duplicates']}")
check(r["latency_ms"]["p50"] >= 3, f"external latency from created_ms: {r['latency_ms']}")

# A scenario file: its keys are the flags' names; a flag given wins.
scenario = os.path.join(tmp, "scenario.toml")
with open(scenario, "w") as f:
    f.write('outlets = 30\nitems = 5\nfaults = "drop=10%"\nformat = "atom"\n')
r5 = os.path.join(tmp, "scenario.json")
code, out, err = loadtest("--scenario", scenario, "--faults", "slow=10%", "--slow-ms", "1-5", "--report", r5)
r = report(r5)
check(code == 0 and r["outlets"] == 30 and r["items"] == 5 and r["format"] == "atom" and r["faults"] == "slow=10%",
      f"scenario file: exit {code}, {r['outlets']} {r['items']} {r['format']} {r['faults']}")
bad_scenario = os.path.join(tmp, "bad.toml")
with open(bad_scenario, "w") as f:
    f.write("bogus = 1\n")
code, out, err = loadtest("--scenario", bad_scenario)
check(code == 2 and "bogus" in err, f"unknown scenario key: exit {code}, {err.strip()[:200]}")

# Bad flags: exit 2, the flag named.
for args, flag in ((["--outlets", "0"], "--outlets"), (["--faults", "slow=150%"], "--faults"),
                   (["--faults", "weird=1%"], "--faults"), (["--format", "yaml"], "--format"),
                   (["--target", "ftp://x"], "--target"), (["--target", "external"], "--sink-listen"),
                   (["--ordered", "101"], "--ordered"), (["--slow-ms", "soon"], "--slow-ms")):
    code, out, err = loadtest(*args)
    check(code == 2 and flag in err, f"{args}: exit {code}, stderr {err.strip()[:200]}")

if failures:
    print(f"{len(failures)} failure(s); scratch kept in {tmp}")
    sys.exit(1)
shutil.rmtree(tmp, ignore_errors=True)
print("loadtest: all passed")
