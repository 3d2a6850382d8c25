#!/usr/bin/env bash
# Polling throughput and new-item latency, whole processes on loopback: `syndic feeds` plays
# N sources (pinned to CPU 0, with the outlets), `syndic run --sources` polls them and
# delivers to outlets (pinned to CPU 1).
#  - polls/s: every source asks to be polled every second (min_interval=max_interval=1), so
#    the poller's own speed is the limit; most answers are 304s (R new items/s in total).
#    Counted from the daemon's /metrics (syndic_polls_total) over the measured window.
#  - new-item latency: an outlet (latency_outlet.py) receives every item and records the time
#    from the item's creation at the feed server (created_ms in its link) to its delivery.
# The politeness defaults (2 requests at once per host, 250 ms apart) would cap one host at
# 4 polls/s: the run sets --poll-host-connections and --poll-host-gap-ms 0, as a farm of
# 10,000 distinct hosts would not need. Reported as such.
# usage: poll_bench.sh BUILD [SOURCES=10000] [SECONDS=20] [RATE=50] [HOST_CONNECTIONS=16]
set -eu
build=${1:?usage: poll_bench.sh BUILD [SOURCES] [SECONDS] [RATE] [HOST_CONNECTIONS]}
n=${2:-10000}
seconds=${3:-20}
rate=${4:-50}
conns=${5:-16}
syndic=$build/engine/syndic
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; [ -n "${KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"; }
trap cleanup EXIT
keep=${KEEP:-}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

feeds_port=$(free_port)
taskset -c 0 "$syndic" feeds --listen "127.0.0.1:$feeds_port" --count "$n" --rate "$rate" --items 20 \
  >"$tmp/feeds.out" 2>"$tmp/feeds.err" &
pids+=($!)
lat_port=$(free_port)
taskset -c 0 python3 "$here/latency_outlet.py" "$lat_port" &
pids+=($!)
for _ in $(seq 100); do grep -q listening "$tmp/feeds.out" 2>/dev/null && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$feeds_port/feeds.csv" | python3 -c '
import csv, sys
rows = list(csv.DictReader(sys.stdin))
print("id,url,channel,min_interval,max_interval")
for r in rows: print(",".join([r["id"], r["url"], r["channel"], "1", "1"]))' >"$tmp/sources.csv"
printf 'id,url,format\nlatency,http://127.0.0.1:%s/latency,webhook\n' "$lat_port" >"$tmp/outlets.csv"

api_port=$(free_port)
taskset -c 1 "$syndic" run --data "$tmp/data" --listen "127.0.0.1:$api_port" --token bench-token-0123456789 \
  --sources "$tmp/sources.csv" --outlets "$tmp/outlets.csv" --store-synchronous normal \
  --poll-host-connections "$conns" --poll-host-gap-ms 0 --poll-start-spread-s 1 2>"$tmp/run.err" &
run_pid=$!
pids+=($run_pid)
for _ in $(seq 100); do grep -q "listening on" "$tmp/run.err" 2>/dev/null && break; sleep 0.1; done
polls() {
  curl -sf "http://127.0.0.1:$api_port/metrics" | awk '/^syndic_polls_total/ {s += $2} END {print s + 0}'
}
sleep 5  # the first polls (every source's first 200, its items appended and delivered)
latency_before=$(curl -sf "http://127.0.0.1:$lat_port/latency")
p0=$(polls); t0=$(date +%s.%N)
cpu0=$(awk '{print $14 + $15}' /proc/$run_pid/stat)
sleep "$seconds"
p1=$(polls); t1=$(date +%s.%N)
cpu1=$(awk '{print $14 + $15}' /proc/$run_pid/stat)
rss=$(awk '/VmHWM/ {print $2}' /proc/$run_pid/status)
latency=$(curl -sf "http://127.0.0.1:$lat_port/latency")
python3 - "$p0" "$p1" "$t0" "$t1" "$cpu0" "$cpu1" "$rss" "$n" "$rate" "$latency" "$latency_before" <<'PY'
import json, os, sys
p0, p1, t0, t1, c0, c1 = (float(x) for x in sys.argv[1:7])
rss_kb, n, rate = int(sys.argv[7]), int(sys.argv[8]), float(sys.argv[9])
lat = json.loads(sys.argv[10])
hz = os.sysconf("SC_CLK_TCK")
polls = (p1 - p0) / (t1 - t0)
cpu = (c1 - c0) / hz / (t1 - t0)
print(f"sources {n}, {rate:g} new items/s in total, window {t1 - t0:.1f} s")
print(f"polls/s {polls:,.0f}  (daemon CPU {cpu * 100:.0f}% of one core, {cpu / max(polls, 1) * 1e6:.0f} us per poll)")
print(f"daemon peak RSS {rss_kb / 1024:.0f} MiB")
print(f"new-item-to-delivery latency (ms): count {lat['count']}, p50 {lat['p50']}, p90 {lat['p90']}, "
      f"p99 {lat['p99']}, max {lat['max']}  (poll interval 1000 ms)")
PY
