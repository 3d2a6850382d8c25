#!/usr/bin/env bash
# The load-testing kit's benchmark (issue 10): every client in one session, against the same
# simulated outlets. One `syndic sink` (pinned to core 0) plays OUTLETS outlets; each client,
# a whole process pinned to core 1, POSTs ITEMS ~1 KiB JSON bodies to every outlet:
#   - wrk: the loopback limit of ONE endpoint (a healthy outlet; POST via bench/loadtest/post.lua);
#   - reference: bench/delivery/epoll_client, a minimal hand-written epoll keep-alive client
#     (one connection per outlet, one request in flight each): the client-side floor;
#   - curl_multi_loop: bench/delivery/curl_multi_loop, a plain curl_multi_perform loop;
#   - curl --parallel: the curl command line, --parallel --parallel-max 64, one config file
#     whose URL globs expand to every outlet, once per item (item after item);
#   - syndic push: syndic's delivery engine with its defaults (`syndic push --outlets CSV FEED`);
#   - syndic loadtest: when the command exists (see the row's note), else a row "not available".
#
# Outlets: OUTLETS = PORTS x PATHS, at most 1,000 listening ports (ports 24000..), each with
# OUTLETS/1000 paths (/hook/0..), since every path on a sink port is an outlet of its own:
# 10,000 listeners plus 10,000 connections would not fit the 20,000 file descriptors allowed.
#
# faulty: 5% of the outlets misbehave, by sink rules: one outlet in 20 (index 7 mod 20), half
# of them slow (each answer delayed, SLOW=exp:20: exponential, mean 20 ms, at most 200 ms) and
# half failing (FAIL="503": every request answered 503): 2.5% each. Clients without retries
# count those as failed; syndic retries them (push with --deadline PUSH_DEADLINE seconds, so a
# dead outlet cannot hold the run: compare the time to the last 2xx then).
#
# Figures: delivered = 2xx answers the sink counted during the client's run (its /_stats before
# and after, the same ledger for every client); rate = delivered / the process's wall time
# (fork to exit); CPU = the client's user + sys (wait4's rusage, bench/delivery/measure.py)
# per delivery; sink = the sink process's CPU (/proc) per delivery. The clients take turns,
# RUNS times; the table gives medians and each client's ratio to the reference (per run, as
# neighbours in time, then the median).
#
#   bench/loadtest/compare.sh BUILD OUTLETS ITEMS RUNS [healthy|faulty]
#   bench/loadtest/compare.sh build 1000 100 3 faulty
#
# Environment: CLIENT_TIMEOUT (s, default 120: every client is killed past it), WRK_SECONDS
# (5), WRK_CONNECTIONS (64), SINK_THREADS (1), SLOW, FAIL, PUSH_DEADLINE (10), CURL_PARALLEL=0
# (leave curl --parallel out), PUSH=0 (leave syndic push out), LOADTEST=0 (leave syndic loadtest
# out), KEEP=1 (keep the run's directory and print it).
set -euo pipefail
usage="usage: compare.sh BUILD OUTLETS ITEMS RUNS [healthy|faulty]"
build=$(cd "${1:?$usage}" && pwd)
outlets=${2:?$usage}
items=${3:?$usage}
runs=${4:?$usage}
mode=${5:-healthy}
case "$mode" in healthy | faulty) ;; *) echo "$usage" >&2; exit 2 ;; esac
here=$(cd "$(dirname "$0")" && pwd)
delivery="$here/../delivery"
client_timeout=${CLIENT_TIMEOUT:-120}
slow=${SLOW:-exp:20}
fail=${FAIL:-503}

ports=$((outlets < 1000 ? outlets : 1000))
paths=$((outlets / ports))
if [ $((ports * paths)) -ne "$outlets" ]; then
  echo "compare.sh: OUTLETS above 1,000 must be a multiple of 1,000" >&2
  exit 2
fi
first=24000
last=$((first + ports - 1))
pairs=$((outlets * items))
syndic="$build/engine/syndic"
for b in "$syndic" "$build/bench/epoll_client" "$build/bench/curl_multi_loop"; do
  [ -x "$b" ] || { echo "compare.sh: $b missing (build targets syndic, epoll_client, curl_multi_loop)" >&2; exit 2; }
done
command -v wrk >/dev/null || { echo "compare.sh: wrk missing (scripts/setup.sh installs it)" >&2; exit 2; }

tmp=$(mktemp -d)
sink_pid=
cleanup() {
  [ -n "$sink_pid" ] && kill "$sink_pid" 2>/dev/null && wait "$sink_pid" 2>/dev/null
  if [ "${KEEP:-0}" = 1 ]; then echo "kept: $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)"

# The workload of the delivery benchmarks (urls.txt, outlets.csv, feed.json with ITEMS items of
# ~1 KiB webhook bodies), one outlet per port; with more outlets than ports, every port's URL
# becomes PATHS outlets (/hook/0..), and outlets.csv follows.
. "$delivery/nginx.sh"
write_workload "$tmp" "$first" "$last" "$items"
if [ "$paths" -gt 1 ]; then
  while read -r u; do for k in $(seq 0 $((paths - 1))); do echo "$u/$k"; done; done <"$tmp/urls.txt" >"$tmp/urls.paths"
  mv "$tmp/urls.paths" "$tmp/urls.txt"
  { echo "id,url,format"; i=0; while read -r u; do echo "o$i,$u,webhook"; i=$((i + 1)); done <"$tmp/urls.txt"; } >"$tmp/outlets.csv"
fi

# Faulty outlets: sink rules by "PORT/path", the outlet's index in urls.txt deciding its class.
rules=()
if [ "$mode" = faulty ]; then
  i=0
  while read -r u; do
    key=${u#http://127.0.0.1:}
    # One outlet in 20 (index 7 mod 20) is faulty: slow and failing by turns.
    if [ $((i % 20)) = 7 ]; then
      if [ $((i / 20 % 2)) = 0 ]; then rules+=(--rule "$key=latency=$slow"); else rules+=(--rule "$key=$fail"); fi
    fi
    i=$((i + 1))
  done <"$tmp/urls.txt"
fi
faulty=$((${#rules[@]} / 2))  # --rule and its value

# The sink, on core 0, for the whole session (bounded by --duration in case this script dies).
taskset -c 0 "$syndic" sink --listen "127.0.0.1:$first-$last" --threads "${SINK_THREADS:-1}" \
  --duration 7200 "${rules[@]}" >"$tmp/sink.out" 2>"$tmp/sink.err" &
sink_pid=$!
stats_url="http://127.0.0.1:$first/_stats"
for _ in $(seq 1 100); do
  curl -sf -o /dev/null --max-time 2 "$stats_url" && break
  kill -0 "$sink_pid" 2>/dev/null || { cat "$tmp/sink.err" >&2; exit 1; }
  sleep 0.1
done
curl -sf -o /dev/null --max-time 2 "$stats_url" || { echo "compare.sh: the sink did not answer" >&2; exit 1; }

# wrk's request: a POST of a 1 KiB JSON body (as the other clients send) to one healthy outlet.
wrk_url=$(head -n 1 "$tmp/urls.txt")
# curl --parallel: the same body, every outlet once per item, item after item (as urls.txt).
head -c 1022 /dev/zero | tr '\0' x | sed 's/^/{/; s/$/}/' | tr -d '\n' >"$tmp/body"
glob="http://127.0.0.1:[$first-$last]/hook"
[ "$paths" -gt 1 ] && glob="$glob/[0-$((paths - 1))]"
{
  printf 'data-binary = "@%s"\nheader = "Content-Type: application/json"\nsilent\nshow-error\n' "$tmp/body"
  for _ in $(seq 1 "$items"); do printf 'url = "%s"\n' "$glob"; done
} >"$tmp/curl.cfg"
# syndic push, faulty: it gives up waiting after PUSH_DEADLINE s (the dead outlets' pairs are
# retried with backoff, and their circuit breakers open, until then).
push_flags=()
[ "$mode" = faulty ] && push_flags=(--deadline "${PUSH_DEADLINE:-10}")

# syndic loadtest: used when the command exists.
loadtest_note="not available (no 'syndic loadtest' in this build)"
have_loadtest=0
# It cannot deliver to an outside sink in-process: it runs its own (the same sink code, in its
# process) on ports 26000.., as many ports and paths as above; so it gets cores 0 and 1 (one
# shard, one sink thread), as the others get core 1 plus the sink's core 0, and its CPU figure
# is the engine's and its sink's together. Faulty: the same classes (--faults slow=2.5%,
# fail=2.5%, slow answers exp:20, every request to a failing outlet fails), stopped at
# --timeout PUSH_DEADLINE as syndic push is.
lt_first=26000
lt_flags=()
[ "$mode" = faulty ] && lt_flags=(--faults "slow=2.5%,fail=2.5%" --slow-ms "$slow" --fault-rate 1 --timeout "${PUSH_DEADLINE:-10}")
if [ "${LOADTEST:-1}" = 1 ] && "$syndic" loadtest --help >/dev/null 2>&1; then
  have_loadtest=1
  loadtest_note="in-process target, its own sink (cores 0-1; CPU us = engine + its sink, sink us n/a)"
fi

echo "== $outlets outlets ($ports ports x $paths paths) x $items items = $pairs POSTs, $mode$([ "$mode" = faulty ] && echo ": $faulty outlets ($((faulty * 100 / outlets))%), half slow (latency $slow ms), half failing ($fail)")"
echo "   syndic sink on core 0 (${SINK_THREADS:-1} thread); each client on core 1, whole process; wrk: 1 endpoint, ${WRK_CONNECTIONS:-64} connections, ${WRK_SECONDS:-5} s"
echo "   load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

sink_counts() {  # prints "delivered requests" from the sink's /_stats
  curl -sf --max-time 10 "$stats_url" | python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["delivered"], j["requests"])'
}
sink_cpu() {  # the sink's user + sys seconds so far
  python3 -c 'import os,sys; f=open(f"/proc/{sys.argv[1]}/stat").read().rsplit(")",1)[1].split(); print((int(f[11])+int(f[12]))/os.sysconf("SC_CLK_TCK"))' "$sink_pid"
}

# measure NAME COMMAND...: runs it on core 1 (killed after CLIENT_TIMEOUT s); appends "NAME
# delivered wall user sys sink_cpu requests expected rc" to $tmp/rows.
measure() {
  local name=$1 expected=$2
  shift 2
  local before after cpu0 cpu1 cost
  # Let the previous client's connections close and the sink go idle first.
  sleep 1
  read -r d0 r0 < <(sink_counts)
  cpu0=$(sink_cpu)
  # The sink's delivered count sampled every 0.25 s (on core 0, beside the sink): when the
  # last 2xx arrived.
  taskset -c 0 python3 "$here/arrivals.py" "$stats_url" 0.25 "$((client_timeout + 10))" >"$tmp/arrivals" &
  local sampler=$!
  local t0=$EPOCHREALTIME
  cost=$(python3 "$delivery/measure.py" "$tmp/out.$name" -- \
    taskset -c "${PIN:-1}" timeout -k 5 "$client_timeout" "$@" 2>"$tmp/err.$name") || true
  # An answer delayed by a slow outlet may still be on its way: count after it could arrive.
  [ "$mode" = faulty ] && sleep 0.3
  read -r d1 r1 < <(sink_counts)
  cpu1=$(sink_cpu)
  kill "$sampler" 2>/dev/null || true
  wait "$sampler" 2>/dev/null || true
  python3 - "$name" "$cost" "$d0" "$d1" "$((r1 - r0))" "$cpu0" "$cpu1" "$expected" "$t0" "$tmp/arrivals" "${REPORT:-}" >>"$tmp/rows" <<'PY'
import json, os, sys
name, cost = sys.argv[1], json.loads(sys.argv[2])
d0, d1, requests, cpu0, cpu1, expected = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6]), float(sys.argv[7]), int(sys.argv[8])
t0, report = float(sys.argv[9]), sys.argv[11]
# The first sample that saw the final count: the last 2xx arrived before it (0.25 s resolution).
last = [float(t) - t0 for t, d in (l.split() for l in open(sys.argv[10])) if int(d) >= d1]
last_2xx = min(min(last) if last else cost["wall_s"], cost["wall_s"]) if d1 > d0 else cost["wall_s"]
delivered, sink_cpu = d1 - d0, round(cpu1 - cpu0, 3)
if report:
    # syndic loadtest served its own outlets: its report's counts (the sink's ledger), the end of
    # its last throughput interval with deliveries as the last 2xx, no separate sink CPU (-1).
    j = json.load(open(report)) if os.path.exists(report) else {"delivered": 0, "throughput": []}
    delivered, requests, sink_cpu = j["delivered"], j.get("attempts", 0) or j["delivered"], -1
    last_2xx = max([p["t_s"] for p in j["throughput"] if p["per_second"] > 0] or [cost["wall_s"]])
print(name, delivered, cost["wall_s"], cost["user_s"], cost["sys_s"], sink_cpu, requests, expected,
      cost["rc"], round(last_2xx, 3))
PY
  tail -n 1 "$tmp/rows" | awk -v r="$run" '{ printf "run %s: %-16s %8.0f/s  %6.1f us CPU/delivery  %s us sink  (%d of %d delivered, %d requests, exit %d, wall %.2f s, last 2xx at %.2f s)\n", r, $1, $2 / $3, ($4 + $5) * 1e6 / ($2 > 0 ? $2 : 1), $6 < 0 ? "n/a" : sprintf("%6.1f", $6 * 1e6 / ($2 > 0 ? $2 : 1)), $2, $8, $7, $9, $3, $10 }'
  if [ "$(tail -n 1 "$tmp/rows" | cut -d' ' -f9)" != 0 ] && [ "$mode" = healthy ]; then
    echo "   $name stderr: $(tail -c 300 "$tmp/err.$name" | tr '\n' ' ')"
  fi
}

: >"$tmp/rows"
for run in $(seq 1 "$runs"); do
  measure wrk 0 wrk -t1 -c "${WRK_CONNECTIONS:-64}" -d "${WRK_SECONDS:-5}s" -s "$here/post.lua" "$wrk_url"
  measure reference "$pairs" "$build/bench/epoll_client" "$tmp/urls.txt" "$items"
  measure curl_multi_loop "$pairs" "$build/bench/curl_multi_loop" "$tmp/urls.txt" "$items"
  [ "${CURL_PARALLEL:-1}" = 1 ] && measure curl_--parallel "$pairs" curl --parallel --parallel-max 64 -K "$tmp/curl.cfg"
  [ "${PUSH:-1}" = 1 ] && measure syndic_push "$pairs" "$syndic" push --outlets "$tmp/outlets.csv" "${push_flags[@]}" "$tmp/feed.json"
  if [ "$have_loadtest" = 1 ]; then
    PIN=0,1 REPORT="$tmp/loadtest.$run.json" measure syndic_loadtest "$pairs" "$syndic" loadtest \
      --outlets "$outlets" --items "$items" --shards 1 --sink-threads 1 \
      --sink-listen "127.0.0.1:$lt_first-$((lt_first + ports - 1))" "${lt_flags[@]}" --report "$tmp/loadtest.$run.json"
  fi
done
echo "   load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$tmp/rows" "$runs" "$mode" "$loadtest_note" "$have_loadtest" <<'PY'
import collections, statistics, sys
path, runs, mode, loadtest_note, have_loadtest = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5] == "1"
rows = collections.defaultdict(list)
for line in open(path):
    name, delivered, wall, user, sys_, sink, requests, expected, rc, last_2xx = line.split()
    d = int(delivered)
    rows[name].append({"rate": d / float(wall), "cpu": (float(user) + float(sys_)) * 1e6 / d if d else float("nan"),
                       "sink": float(sink) * 1e6 / d if d and float(sink) >= 0 else float("nan"), "delivered": d,
                       "requests": int(requests), "expected": int(expected), "rc": int(rc), "wall": float(wall),
                       "last": float(last_2xx), "rate_last": d / max(float(last_2xx), 1e-3),
                       "sink_busy": float(sink) * 100 / float(wall) if float(sink) >= 0 else float("nan")})
med = lambda name, k: statistics.median(r[k] for r in rows[name])
def ratio(a, k="rate"):
    r = [x[k] / y[k] for x, y in zip(rows[a], rows["reference"]) if y[k]]
    return f"{statistics.median(r):.2f}x" if r else "-"
labels = {"wrk": "wrk (1 endpoint)", "reference": "reference (epoll)", "curl_multi_loop": "curl multi loop",
          "curl_--parallel": "curl --parallel", "syndic_push": "syndic push", "syndic_loadtest": "syndic loadtest"}
print(f"\nmedians of {runs} runs, {mode} (rate = 2xx the sink counted / the client's wall time; CPU = the client's user + sys per delivery;"
      " sink us = the sink's CPU per delivery, sink % = its CPU / the wall time: 100 = its core is full)")
print(f"{'client':<20}{'deliveries/s':>13}{'CPU us':>9}{'sink us':>9}{'vs ref rate':>13}{'vs ref CPU':>12}{'delivered':>11}{'requests':>10}{'wall s':>8}{'last 2xx s':>11}{'/s to last':>11}{'sink %':>8}")
for name in rows:
    print(f"{labels.get(name, name):<20}{med(name, 'rate'):>13.0f}{med(name, 'cpu'):>9.1f}{med(name, 'sink'):>9.1f}"
          f"{ratio(name):>13}{ratio(name, 'cpu'):>12}{med(name, 'delivered'):>11.0f}{med(name, 'requests'):>10.0f}{med(name, 'wall'):>8.2f}"
          f"{med(name, 'last'):>11.2f}{med(name, 'rate_last'):>11.0f}{med(name, 'sink_busy'):>8.0f}")
if not have_loadtest:
    print(f"{'syndic loadtest':<20}  {loadtest_note}")
else:
    print(f"syndic loadtest: {loadtest_note}")
bad = [n for n in rows if any(r["rc"] in (124, 137) or (mode == "healthy" and (r["rc"] != 0 or r["delivered"] < r["expected"])) for r in rows[n])]
if bad:
    print("NOT everything delivered, or killed at CLIENT_TIMEOUT, in some run: " + ", ".join(bad))
PY
