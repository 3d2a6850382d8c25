#!/usr/bin/env bash
# `syndic feeds` as a script uses it: port 0 and the first stdout line, /feeds.csv as a
# sources file, a conditional GET, the counts on exit, and bad flags (exit 2, with words).
# usage: feeds_test.sh SYNDIC
set -u
syndic=$1
tmp=$(mktemp -d)
feeds_pid=""
trap '[ -n "$feeds_pid" ] && kill "$feeds_pid" 2>/dev/null; rm -rf "$tmp"' EXIT
failures=0
. "$(dirname "$0")/lib.sh"

"$syndic" feeds --listen 127.0.0.1:0 --count 4 --rate 0 --initial 8 --format atom --fault 2=gone --max-age 60 \
  >"$tmp/feeds.out" 2>"$tmp/feeds.err" &
feeds_pid=$!
for _ in $(seq 100); do [ -s "$tmp/feeds.out" ] && break; sleep 0.1; done
first=$(head -1 "$tmp/feeds.out")
base=$(echo "$first" | sed -nE 's/^listening on (http:\/\/127\.0\.0\.1:[0-9]+)[,;].*/\1/p')
if [ -z "$base" ]; then
  echo "FAIL: no 'listening on http://127.0.0.1:PORT;' first line: '$first' $(cat "$tmp/feeds.err")"
  exit 1
fi
echo "$first" | grep -q "; 4 feeds; sources $base/feeds.csv" || fail "first line: $first"
csv=$(curl -s "$base/feeds.csv")
[ "$(echo "$csv" | head -1)" = "id,url,channel" ] || fail "csv header: $csv"
echo "$csv" | grep -qx "feed-2-gone,$base/feeds/2.atom,feeds" || fail "csv rows: $csv"
[ "$(echo "$csv" | wc -l)" -eq 5 ] || fail "csv has not 4 rows: $csv"
etag=$(curl -s -D - -o /dev/null "$base/feeds/0.atom" | tr -d '\r' | sed -n 's/^ETag: //p')
[ -n "$etag" ] || fail "no ETag"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$base/feeds/0.atom")
[ "$code" = 304 ] || fail "If-None-Match got $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "$base/feeds/2.atom")
[ "$code" = 410 ] || fail "the gone feed got $code"
curl -s -D - -o /dev/null --compressed "$base/feeds/1.atom" | tr -d '\r' | grep -qx "Content-Encoding: gzip" || fail "no gzip"
curl -s -D - -o /dev/null "$base/feeds/1.atom" | tr -d '\r' | grep -qx "Cache-Control: max-age=60" || fail "no max-age"
# A port taken (by the server above): exit 1, naming the address.
expect 1 "cannot listen on ${base#http://}" "$syndic" feeds --listen "${base#http://}"
kill -TERM "$feeds_pid"
wait "$feeds_pid"
rc=$?
feeds_pid=""
[ "$rc" -eq 0 ] || fail "feeds exited $rc on SIGTERM"
tail -1 "$tmp/feeds.out" | grep -q '"not_modified":1' || fail "exit counts: $(tail -1 "$tmp/feeds.out")"

# Bad flags: exit 2, saying which.
expect 2 "--listen" "$syndic" feeds --listen nonsense
expect 2 "--listen" "$syndic" feeds --listen 127.0.0.1:70000
expect 2 "--count" "$syndic" feeds --count 0
expect 2 "--rate" "$syndic" feeds --rate -1
expect 2 "--format" "$syndic" feeds --format yaml
expect 2 "--items" "$syndic" feeds --items 0
expect 2 "--faults" "$syndic" feeds --faults fire=5%
expect 2 "--faults" "$syndic" feeds --faults gone=80%,error=30%
expect 2 "--fault" "$syndic" feeds --count 3 --fault 7=gone
expect 2 "unknown shape" "$syndic" feeds --fault 0=hostile:weird
expect 2 "--hub" "$syndic" feeds --hub ftp://x
expect 2 "--hub-bad-signature needs --hub self" "$syndic" feeds --hub-bad-signature 10%
expect 2 "--latency-ms" "$syndic" feeds --latency-ms 200-20
expect 2 "" "$syndic" feeds --count many
expect 2 "--max-age" "$syndic" feeds --max-age -5
if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "feeds_test: all passed"
