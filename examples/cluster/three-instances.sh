#!/usr/bin/env bash
# Three syndic instances on one PostgreSQL, on loopback: a private PostgreSQL 15 cluster in a
# temporary directory, `syndic sink` playing 300 outlets, three `syndic run --store postgres://`
# sharing them. It publishes through all three, shows that every outlet got every item once and
# who holds which partitions, then kills one instance with kill -9 and shows the other two
# taking its partitions over and delivering what it left behind.
#
#   examples/cluster/three-instances.sh [BUILD_DIR]      (default: build; run from the checkout)
set -euo pipefail
cd "$(dirname "$0")/../.."
syndic=${1:-build}/engine/syndic
[ -x "$syndic" ] || { echo "no $syndic: build first (cmake --build build --target syndic)"; exit 1; }
work=$(mktemp -d /tmp/syndic-cluster-XXXXXX)
pg_dir=$(mktemp -d /tmp/syndic-cluster-pg-XXXXXX)  # apart: run as user postgres, which cannot enter $work
pg_port=$((20000 + RANDOM % 10000))
sink_port=$((pg_port + 1))
ports=($((pg_port + 2)) $((pg_port + 3)) $((pg_port + 4)))
export SYNDIC_TOKEN=cluster-demo-token-0123456789
auth=(-H "Authorization: Bearer $SYNDIC_TOKEN")
pids=()
cleanup() {
  local rc=$?
  if [ "$rc" -ne 0 ]; then
    echo "== failed (exit $rc); the instances said:"
    for f in "$work"/*.err; do echo "-- $f"; tail -5 "$f"; done
  fi
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  scripts/pg_private.sh stop "$pg_dir" 2>/dev/null || true
  rm -rf "$work" "$pg_dir"
}
trap cleanup EXIT

echo "== a private PostgreSQL on 127.0.0.1:$pg_port (initdb into $pg_dir)"
url=$(scripts/pg_private.sh start "$pg_dir" "$pg_port")
"$syndic" store migrate --store "$url"

echo "== 300 simulated outlets: syndic sink on 127.0.0.1:$sink_port (one path per outlet)"
"$syndic" sink --listen "127.0.0.1:$sink_port" --latency-ms 5 >/dev/null 2>"$work/sink.err" &
pids+=($!)
{
  echo "id,url,format"
  for i in $(seq 0 299); do echo "o$i,http://127.0.0.1:$sink_port/o$i,webhook"; done
} >"$work/outlets.csv"

start_instance() {  # NAME PORT
  "$syndic" run --store "$url" --instance-id "$1" --listen "127.0.0.1:$2" --outlets "$work/outlets.csv" \
    --public-url "http://127.0.0.1:${ports[0]}" --cluster-lease-ttl-ms 3000 2>"$work/$1.err" &
  pids+=($!)
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$2/readyz" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "instance $1 did not start:"; cat "$work/$1.err"; exit 1
}
echo "== three instances: a, b, c"
start_instance a "${ports[0]}"
start_instance b "${ports[1]}"
start_instance c "${ports[2]}"
sleep 3  # a few lease rounds: the partitions settle at 86/85/85

publish() {  # PORT FIRST COUNT
  local items="" i
  for i in $(seq "$2" $(($2 + $3 - 1))); do
    items+="${items:+,}{\"id\":\"release-$i\",\"title\":\"Release $i\",\"content_text\":\"Body $i\"}"
  done
  curl -sf "${auth[@]}" -H 'Content-Type: application/feed+json' \
    --data "{\"version\":\"https://jsonfeed.org/version/1.1\",\"title\":\"wire\",\"items\":[$items]}" \
    "http://127.0.0.1:$1/v1/publish" >/dev/null || { echo "publish through 127.0.0.1:$1 failed"; return 1; }
}
delivered() { curl -s "http://127.0.0.1:$sink_port/_stats" | python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["delivered"] - s["duplicates"], s["duplicates"])'; }
wait_delivered() {  # TOTAL
  for _ in $(seq 300); do
    read -r d dup <<<"$(delivered)"
    [ "$d" -ge "$1" ] && { echo "   $d distinct deliveries of $1, $dup resent with their first delivery id"; return 0; }
    sleep 0.1
  done
  echo "   only $d of $1 after 30 s"; exit 1
}

echo "== publishing 10 items through each instance (30 items x 300 outlets = 9000 pairs)"
publish "${ports[0]}" 0 10 & p1=$!
publish "${ports[1]}" 10 10 & p2=$!
publish "${ports[2]}" 20 10 & p3=$!
wait $p1 && wait $p2 && wait $p3
wait_delivered 9000
echo "== who holds what (syndic store status)"
"$syndic" store status --store "$url"

echo "== kill -9 of instance c (its lease TTL is 3 s), then 10 more items through a"
kill -9 "${pids[3]}"
killed=$(date +%s.%N)
publish "${ports[0]}" 30 10
owned() { curl -s "${auth[@]}" "http://127.0.0.1:$1/v1/cluster" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["owned"]))'; }
for _ in $(seq 200); do
  [ $(( $(owned "${ports[0]}") + $(owned "${ports[1]}") )) -eq 256 ] && break
  sleep 0.05
done
echo "   a and b hold all 256 partitions $(python3 -c "import time; print(f'{time.time() - $killed:.1f}')") s after the kill"
wait_delivered 12000
echo "   every pair delivered $(python3 -c "import time; print(f'{time.time() - $killed:.1f}')") s after the kill"
sleep 1
"$syndic" store status --store "$url"
curl -s "${auth[@]}" "http://127.0.0.1:${ports[0]}/v1/cluster" | python3 -c 'import json,sys; v=json.load(sys.stdin); print("   a (GET /v1/cluster): %d partitions, members %s" % (len(v["owned"]), v["members"]))'
