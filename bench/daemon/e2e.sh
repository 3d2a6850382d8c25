#!/usr/bin/env bash
# End-to-end deliveries/s through the daemon beside `syndic push` on the same workload:
# nginx (1 worker, pinned to core 0) answers 204 on PORTS loopback ports, one outlet per port;
# ITEMS ~1 KiB items go to every outlet.
#   - push:   `syndic push --outlets outlets.csv feed.json`, a whole process pinned to core 1;
#   - daemon: `syndic run` pinned to core 1 (defaults: SQLite, synchronous=full, a fresh data
#     directory each run), already listening; the clock runs from the POST of the same feed to
#     /v1/publish until /metrics counts every pair delivered (and recorded: each outcome goes
#     through the store's group commit). CPU is the daemon's for that span (/proc).
# They take turns RUNS times; the table shows medians and the per-run ratio.
#
#   bench/daemon/e2e.sh BUILD_DIR [PORTS] [ITEMS] [RUNS]
#
# Target (issue 8): the daemon at least 0.8x push's rate.
set -euo pipefail
build=${1:?usage: e2e.sh BUILD_DIR [PORTS] [ITEMS] [RUNS]}
ports=${2:-1000}
items=${3:-20}
runs=${4:-5}
here=$(cd "$(dirname "$0")" && pwd)
first=21000
last=$((first + ports - 1))
tmp=$(mktemp -d)
. "$here/../delivery/nginx.sh"
trap 'stop_nginx "$tmp"; rm -rf "$tmp"' EXIT
ulimit -n "$(ulimit -Hn)"
start_nginx "$first" "$last" "$tmp"

write_workload "$tmp" "$first" "$last" "$items"
echo "== $ports outlets x $items items = $((ports * items)) POSTs to nginx (core 0); syndic on core 1"
echo "   load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 "$here/e2e.py" "$build/engine/syndic" "$tmp" "$((ports * items))" "$runs" "$here/../delivery"
echo "   load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
