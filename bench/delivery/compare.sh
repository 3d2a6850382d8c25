#!/usr/bin/env bash
# Delivery throughput side by side, in one run, against nginx (1 worker) answering 204 on
# 1,000 loopback ports: `syndic push` (1,000 outlets x 20 items), a plain curl_multi_perform
# loop, and `curl --parallel`, all POSTing ~1 KiB JSON bodies. Prints deliveries/s and the
# ratios (medians of RUNS rounds). Client and server run on separate cores (taskset).
#
#   bench/delivery/compare.sh BUILD_DIR [PORTS] [ITEMS] [RUNS]
set -euo pipefail
build=${1:?usage: compare.sh BUILD_DIR [PORTS] [ITEMS] [RUNS]}
ports=${2:-1000}
items=${3:-20}
runs=${4:-5}
first=21000
last=$((first + ports - 1))
tmp=$(mktemp -d)
. "$(dirname "$0")/nginx.sh"
trap 'stop_nginx "$tmp"; rm -rf "$tmp"' EXIT
ulimit -n "$(ulimit -Hn)"

start_nginx "$first" "$last" "$tmp"

for p in $(seq $first $last); do echo "http://127.0.0.1:$p/hook"; done >"$tmp/urls.txt"
{ echo "id,url,format,max_in_flight"; i=0; while read -r u; do echo "o$i,$u,webhook,1"; i=$((i + 1)); done <"$tmp/urls.txt"; } >"$tmp/outlets.csv"
# A feed of $items items, each rendered to a ~1 KiB webhook body.
python3 - "$items" >"$tmp/feed.json" <<'PY'
import json, sys
n = int(sys.argv[1])
items = [{"id": f"bench-{i}", "title": f"Release {i}", "content_text": "x" * 700} for i in range(n)]
print(json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "bench", "items": items}))
PY
pairs=$((ports * items))
echo "== $ports outlets x $items items = $pairs POSTs to nginx (1 worker, core 0); clients on core 1"

head -c 1000 /dev/zero | tr '\0' 'x' >"$tmp/body"
for i in $(seq 1 "$items"); do
  # `next` between entries: without it curl adds every data-binary to one growing body.
  while read -r u; do
    printf 'url = "%s"\ndata-binary = "@%s"\noutput = "/dev/null"\nheader = "Content-Type: application/json"\nnext\n' "$u" "$tmp/body"
  done <"$tmp/urls.txt"
done | sed '$d' >"$tmp/curl.cfg"  # no `next` after the last entry

# The three clients take turns, RUNS times, so that each ratio compares neighbours in time.
: >"$tmp/rates"
for run in $(seq 1 "$runs"); do
  # One request in flight per outlet, as the curl_multi_perform baseline does.
  syndic_json=$(taskset -c 1 "$build/engine/syndic" push --outlets "$tmp/outlets.csv" --json --shards 1 "$tmp/feed.json")
  syndic_rate=$(python3 -c 'import json,sys; print(round(json.loads(sys.argv[1])["deliveries_per_s"]))' "$syndic_json")
  multi_json=$(taskset -c 1 "$build/bench/curl_multi_loop" "$tmp/urls.txt" "$items")
  multi_rate=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["deliveries_per_s"])' "$multi_json")
  start=$(date +%s.%N)
  taskset -c 1 curl --silent --show-error --no-progress-meter --parallel --parallel-max 1000 -K "$tmp/curl.cfg"
  end=$(date +%s.%N)
  parallel_rate=$(python3 -c "print(round($pairs / ($end - $start)))")
  echo "run $run: syndic push $syndic_rate/s, curl_multi_perform loop $multi_rate/s, curl --parallel $parallel_rate/s"
  [ "$run" -eq 1 ] && echo "        (syndic: $syndic_json)"
  echo "$syndic_rate $multi_rate $parallel_rate" >>"$tmp/rates"
done

python3 - "$tmp/rates" <<'PY'
import statistics, sys
rows = [list(map(float, line.split())) for line in open(sys.argv[1])]
s, m, p = (statistics.median(col) for col in zip(*rows))
rm = statistics.median(r[0] / r[1] for r in rows)
rp = statistics.median(r[0] / r[2] for r in rows)
print(f"medians of {len(rows)}: syndic push {s:.0f}/s, curl_multi_perform loop {m:.0f}/s, curl --parallel {p:.0f}/s")
print(f"ratios (median of per-run ratios): syndic / curl_multi_perform = {rm:.2f}x (target >= 2), "
      f"syndic / curl --parallel = {rp:.2f}x (target >= 5)")
PY
