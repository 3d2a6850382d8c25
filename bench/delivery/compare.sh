#!/usr/bin/env bash
# Delivery throughput as users get it, side by side: nginx (1 worker, pinned to core 0)
# answers 204 on PORTS loopback ports; each client, pinned to core 1, POSTs ITEMS ~1 KiB
# JSON bodies to every port (one outlet per port) as a whole process:
#   - `syndic push --outlets outlets.csv feed.json`: no flags, an outlets file of just
#     `id,url,format`, i.e. syndic's defaults;
#   - epoll_client: the reference, a minimal hand-written epoll keep-alive client
#     (one connection per outlet);
#   - curl_multi_loop: a plain curl_multi_perform loop, one request in flight per outlet;
#   - `curl --parallel` (CURL_PARALLEL=0 leaves it out: it is the slowest by far).
# Each figure is the whole process's: wall time from fork to exit, CPU = user + sys of the
# process (wait4's rusage, bench/delivery/measure.py). The clients take turns, RUNS times, so
# each per-run ratio compares neighbours in time; the table shows medians.
#
#   bench/delivery/compare.sh BUILD_DIR [PORTS] [ITEMS] [RUNS]
#   PUSH_FLAGS="--shards 1" bench/delivery/compare.sh build   # syndic with flags, to compare
#   MAX_IN_FLIGHT=1 bench/delivery/compare.sh build           # adds a max_in_flight column
#
# Targets (issue 7): syndic at least 0.8x the reference's rate, at most 1.3x its CPU per delivery.
set -euo pipefail
build=${1:?usage: compare.sh BUILD_DIR [PORTS] [ITEMS] [RUNS]}
ports=${2:-1000}
items=${3:-20}
runs=${4:-5}
here=$(cd "$(dirname "$0")" && pwd)
first=21000
last=$((first + ports - 1))
tmp=$(mktemp -d)
. "$here/nginx.sh"
trap 'stop_nginx "$tmp"; rm -rf "$tmp"' EXIT
ulimit -n "$(ulimit -Hn)"

start_nginx "$first" "$last" "$tmp"

write_workload "$tmp" "$first" "$last" "$items"
if [ -n "${MAX_IN_FLIGHT:-}" ]; then
  { echo "id,url,format,max_in_flight"; i=0; while read -r u; do echo "o$i,$u,webhook,$MAX_IN_FLIGHT"; i=$((i + 1)); done <"$tmp/urls.txt"; } >"$tmp/outlets.csv"
fi
pairs=$((ports * items))
parallel=${CURL_PARALLEL:-1}
if [ "$parallel" = 1 ]; then
  head -c 1000 /dev/zero | tr '\0' 'x' >"$tmp/body"
  for i in $(seq 1 "$items"); do
    # `next` between entries: without it curl adds every data-binary to one growing body.
    while read -r u; do
      printf 'url = "%s"\ndata-binary = "@%s"\noutput = "/dev/null"\nheader = "Content-Type: application/json"\nnext\n' "$u" "$tmp/body"
    done <"$tmp/urls.txt"
  done | sed '$d' >"$tmp/curl.cfg"  # no `next` after the last entry
fi

echo "== $ports outlets x $items items = $pairs POSTs to nginx (1 worker, core 0); each client on core 1, whole process"
echo "   load average before: $(cut -d' ' -f1-3 /proc/loadavg); syndic push ${PUSH_FLAGS:-(no flags)}${MAX_IN_FLIGHT:+, max_in_flight=$MAX_IN_FLIGHT}"

# measure NAME COMMAND...: runs it pinned to core 1; appends "NAME delivered wall user sys
# server_cpu connections" to $tmp/rows.
measure() {
  local name=$1
  shift
  local cost
  # stderr kept aside (push prints its progress there), shown when the run did not deliver all
  cost=$(python3 "$here/measure.py" "$tmp/out" --nginx "$tmp/nginx.pid" -- taskset -c 1 "$@" 2>"$tmp/err")
  python3 - "$name" "$cost" "$tmp/out" "$pairs" >>"$tmp/rows" <<'PY'
import json, re, sys
name, cost, out, pairs = sys.argv[1], json.loads(sys.argv[2]), open(sys.argv[3]).read(), int(sys.argv[4])
delivered, conns = pairs, 0
if name == "syndic":
    delivered = int(re.search(r"^delivered:\s+(\d+)", out, re.M).group(1))
    conns = int(re.search(r"^connections:\s+(\d+)", out, re.M).group(1))
elif out.startswith("{"):
    j = json.loads(out)
    delivered, conns = j["delivered"], j.get("connections", 0)
elif cost["rc"] != 0:
    delivered = 0
if delivered != pairs or cost["rc"] != 0:
    print(f"{name}: {delivered}/{pairs} delivered, exit {cost['rc']}; stdout: {out[-300:]!r}", file=sys.stderr)
print(name, delivered, cost["wall_s"], cost["user_s"], cost["sys_s"], cost["server_cpu_s"], conns)
PY
}

: >"$tmp/rows"
for run in $(seq 1 "$runs"); do
  # shellcheck disable=SC2086 # PUSH_FLAGS is a list of flags
  measure syndic "$build/engine/syndic" push --outlets "$tmp/outlets.csv" ${PUSH_FLAGS:-} "$tmp/feed.json"
  measure reference "$build/bench/epoll_client" "$tmp/urls.txt" "$items"
  measure curl_multi_loop "$build/bench/curl_multi_loop" "$tmp/urls.txt" "$items"
  [ "$parallel" = 1 ] && measure "curl_--parallel" curl --silent --show-error --no-progress-meter --parallel --parallel-max 1000 -K "$tmp/curl.cfg"
  tail -n "$((3 + parallel))" "$tmp/rows" | awk -v r="$run" '{ printf "run %s: %-16s %6.0f/s  %6.1f us CPU/delivery  (%d connections)\n", r, $1, $2 / $3, ($4 + $5) * 1e6 / $2, $7 }'
done
echo "   load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$here" "$tmp/rows" "$runs" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
from table import load, print_medians, ratio
rows = load(sys.argv[2])
print_medians(rows, f"\nmedians of {sys.argv[3]} runs (whole process; CPU = user + sys per delivery; nginx = its worker's CPU per delivery)")
print(f"syndic / reference rate: {ratio(rows, 'syndic', 'reference')} (target >= 0.8)")
print(f"syndic / reference CPU per delivery: {ratio(rows, 'syndic', 'reference', 'cpu')} (target <= 1.3)")
print(f"syndic / curl_multi_perform loop rate: {ratio(rows, 'syndic', 'curl_multi_loop')}")
PY
