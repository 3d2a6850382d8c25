#!/usr/bin/env bash
# The first command of the README: installs what is missing, builds the `syndic` binary and
# runs the daemon on its embedded default (SQLite, simulated outlets) so a newcomer sees items
# flow: `syndic sink` plays 20 outlets and `syndic feeds` three source feeds; `syndic run` polls
# the sources, takes a press-wire feed over HTTP, keeps both on disk and delivers them, serves
# them back as feeds, and shows its metrics, a source's and an outlet's state. Then a kill -9
# and a restart: nothing is lost.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j2 --target syndic
syndic=build/engine/syndic
feed=examples/feeds/press-wire.xml
api=http://127.0.0.1:8080
export SYNDIC_TOKEN=demo-token-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
auth=(-H "Authorization: Bearer $SYNDIC_TOKEN")
rm -rf demo-data

sink_pid="" daemon_pid="" feeds_pid=""
cleanup() {
  [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null || true
  [ -n "$feeds_pid" ] && kill "$feeds_pid" 2>/dev/null || true
  [ -n "$sink_pid" ] && kill "$sink_pid" 2>/dev/null || true
}
trap cleanup EXIT
wait_ready() {
  for _ in $(seq 100); do curl -sf "$api/readyz" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "the daemon did not start:"; cat /tmp/syndic-demo-daemon.err; exit 1
}

echo
echo "== 20 simulated outlets: syndic sink on 127.0.0.1:18700-18709 (checks webhook signatures)"
"$syndic" sink --listen 127.0.0.1:18700-18709 --secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw \
  >/tmp/syndic-demo-sink.json 2>/dev/null &
sink_pid=$!
echo "== 3 simulated sources: syndic feeds on 127.0.0.1:18800 (RSS, Atom, JSON Feed; one new item a second)"
"$syndic" feeds --listen 127.0.0.1:18800 --count 3 --rate 1 --initial 6 >/dev/null 2>/tmp/syndic-demo-feeds.err &
feeds_pid=$!
echo "== the daemon: syndic run --config examples/daemon/syndic.toml (data in ./demo-data)"
"$syndic" run --config examples/daemon/syndic.toml 2>/tmp/syndic-demo-daemon.err &
daemon_pid=$!
wait_ready
cat /tmp/syndic-demo-daemon.err

echo
echo "== publishing $feed (RSS 2.0 with real-world defects) to channel 'wire':"
curl -s "${auth[@]}" -H 'Content-Type: application/rss+xml' --data-binary @"$feed" "$api/v1/publish?channel=wire"
echo
echo "== publishing one JSON Feed item, twice with the same Idempotency-Key (the second is a no-op):"
item='{"id":"urn:demo:1","title":"Wire launches","content_text":"One release in, every newsroom out.","language":"en"}'
for _ in 1 2; do
  curl -s "${auth[@]}" -H 'Content-Type: application/feed+json' -H 'Idempotency-Key: demo-1' --data "$item" "$api/v1/publish?channel=wire"
  echo
done
sleep 3  # the sources' first polls, a few seconds of new items
echo
echo "== what the outlets received (syndic sink's counts):"
curl -s http://127.0.0.1:18700/_stats | head -c 600
echo
echo
echo "== the polled sources (GET /v1/sources): each polled with conditional GET, its new items logged once:"
curl -s "${auth[@]}" "$api/v1/sources" >/tmp/syndic-demo-sources.json
python3 - /tmp/syndic-demo-sources.json <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
for s in doc["sources"] if isinstance(doc, dict) else doc:
    print("  %-12s %-10s polls %3d  not modified %3d  new items %3d  last status %s" % (
        s["id"], s["state"], s.get("polls", 0), s.get("not_modified", 0), s.get("new_items", 0), s.get("last_status")))
PY
echo
echo "== the channel served back as Atom (first lines; ETag and WebSub Link headers):"
curl -si "$api/feeds/wire.atom" | head -n 14
echo
echo "== one outlet's state (cursor, retries, dead letters, circuit):"
curl -s "${auth[@]}" "$api/v1/outlets/newsroom-18700"
echo
echo
echo "== metrics (excerpt):"
curl -s "$api/metrics" | grep -E '^syndic_(items_in_total|polled_items_total|polls_total|deliveries_total|log_head|outlet_lag)' || true

echo
echo "== kill -9 while a second batch is in flight, then restart: every pair is still delivered"
late='{"version":"https://jsonfeed.org/version/1.1","title":"Late desk","items":['
for i in $(seq 1 30); do late+="{\"id\":\"urn:demo:late-$i\",\"title\":\"Late release $i\",\"content_text\":\"Text $i.\"},"; done
late="${late%,}]}"
curl -s "${auth[@]}" -H 'Content-Type: application/feed+json' --data "$late" "$api/v1/publish?channel=late" >/dev/null
kill -9 "$daemon_pid"
wait "$daemon_pid" 2>/dev/null || true
"$syndic" run --config examples/daemon/syndic.toml 2>>/tmp/syndic-demo-daemon.err &
daemon_pid=$!
wait_ready
sleep 1.5
curl -s "$api/metrics" | grep -E '^syndic_(log_head|outlet_lag_pairs)' || true
kill -TERM "$daemon_pid"
wait "$daemon_pid" 2>/dev/null || true
daemon_pid=""
tail -n 1 /tmp/syndic-demo-daemon.err
kill -TERM "$sink_pid" 2>/dev/null && wait "$sink_pid" 2>/dev/null || true
sink_pid=""
kill -TERM "$feeds_pid" 2>/dev/null && wait "$feeds_pid" 2>/dev/null || true
feeds_pid=""
echo "sink totals (duplicates are resends after the kill, with their first delivery id): $(head -c 300 /tmp/syndic-demo-sink.json)"
echo
echo "Next: build/engine/syndic --help, docs/daemon.md, and scripts/test.sh for the whole test suite."
