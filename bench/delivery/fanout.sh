#!/usr/bin/env bash
# Fan-out latency: one item to PORTS x PATHS outlets (every path on a port is an outlet of its
# own) on cold connections, against nginx (1 worker, core 0) answering 204; `syndic push` on
# core 1. Repeats RUNS times and prints, per run, the time from submit to the last delivery
# (the push's max latency) and the whole push's elapsed time, then their medians.
#
#   bench/delivery/fanout.sh BUILD_DIR [PORTS] [PATHS] [RUNS] [-- extra push flags]
#   bench/delivery/fanout.sh build 10 1000     # 10,000 outlets on 10 ports
#   bench/delivery/fanout.sh build 2000 1      # 2,000 outlets on distinct ports
set -euo pipefail
build=${1:?usage: fanout.sh BUILD_DIR [PORTS] [PATHS] [RUNS] [-- push flags]}
ports=${2:-10}
paths=${3:-1000}
runs=${4:-5}
shift $(($# < 4 ? $# : 4))
[ "${1:-}" = "--" ] && shift
first=23000
last=$((first + ports - 1))
tmp=$(mktemp -d)
. "$(dirname "$0")/nginx.sh"
trap 'stop_nginx "$tmp"; rm -rf "$tmp"' EXIT
ulimit -n "$(ulimit -Hn)"

start_nginx "$first" "$last" "$tmp"

{
  echo "id,url,format"
  for p in $(seq $first $last); do
    for k in $(seq 1 "$paths"); do echo "o$p-$k,http://127.0.0.1:$p/outlet/$k,webhook"; done
  done
} >"$tmp/outlets.csv"
echo '{"version":"https://jsonfeed.org/version/1.1","title":"bench","items":[{"id":"flash-1","title":"Flash","content_text":"'"$(head -c 700 /dev/zero | tr '\0' x)"'"}]}' >"$tmp/feed.json"
outlets=$((ports * paths))
echo "== 1 item to $outlets outlets ($ports ports x $paths paths), cold connections; push on core 1"

lasts=()
for r in $(seq 1 "$runs"); do
  json=$(taskset -c 1 "$build/engine/syndic" push --outlets "$tmp/outlets.csv" --json "$@" "$tmp/feed.json")
  read -r delivered last elapsed conns < <(python3 -c '
import json, sys
j = json.loads(sys.argv[1])
print(j["delivered"], j["latency_ms"]["max"], j["elapsed_s"] * 1000, j["connections_opened"])' "$json")
  echo "run $r: delivered $delivered/$outlets, last delivery at $last ms, push elapsed $elapsed ms, $conns connections"
  lasts+=("$last")
  sleep 1  # let the closed connections leave TIME_WAIT pressure behind
done
python3 -c 'import statistics, sys; print(f"median last delivery: {statistics.median(map(float, sys.argv[1:])):.0f} ms")' "${lasts[@]}"
