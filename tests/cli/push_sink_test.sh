#!/usr/bin/env bash
# `syndic push` and `syndic sink` end to end on loopback: a delivery round, signatures
# checked by the sink, and the bad-input paths (outlet files, flags, feeds).
# usage: push_sink_test.sh SYNDIC FIXTURES
set -u
syndic=$1
fixtures=$2
tmp=$(mktemp -d)
sink_pid=""
trap '[ -n "$sink_pid" ] && kill "$sink_pid" 2>/dev/null; rm -rf "$tmp"' EXIT
failures=0
. "$(dirname "$0")/lib.sh"

# Four consecutive free ports below the ephemeral range (so no client socket takes them).
base=$(python3 -c '
import random, socket
for _ in range(200):
    b = random.randint(20000, 30000)
    try:
        socks = [socket.socket() for _ in range(4)]
        for i, s in enumerate(socks): s.bind(("127.0.0.1", b + i))
        print(b); break
    except OSError: pass
    finally:
        for s in socks: s.close()
')
last=$((base + 3))
secret=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
"$syndic" sink --listen "127.0.0.1:$base-$last" --secret "$secret" --rule "$last=410" --rule "$((base + 1))=latency=exp:5" --latency-ms 0-3 >"$tmp/sink.json" 2>"$tmp/sink.err" &
sink_pid=$!
for _ in $(seq 50); do grep -q listening "$tmp/sink.err" 2>/dev/null && break; sleep 0.1; done
if ! grep -q listening "$tmp/sink.err"; then
  echo "FAIL: sink did not start: $(cat "$tmp/sink.err")"
  exit 1
fi

{
  echo "id,url,format,secret"
  for p in $(seq "$base" $((last - 1))); do echo "o$p,http://127.0.0.1:$p/hook,webhook,$secret"; done
  echo "feedout,http://127.0.0.1:$base/atom,atom,"
} >"$tmp/outlets.csv"
expect 0 "" "$syndic" push --outlets "$tmp/outlets.csv" --deadline 30 --json "$fixtures/rss20-full.xml"
grep -q '"delivered":8' "$tmp/out" || fail "push summary unexpected: $(cat "$tmp/out")"
# A retired outlet (410): push says so and exits 1. Pushing the same feed again carries the
# same delivery ids, so the sink sees each redelivery as a duplicate.
echo "gone,http://127.0.0.1:$last/x,webhook,$secret" >>"$tmp/outlets.csv"
expect 1 "retired: HTTP 410" "$syndic" push --outlets "$tmp/outlets.csv" --deadline 30 "$fixtures/rss20-full.xml"
stats=$(curl -s "http://127.0.0.1:$base/_stats")
echo "$stats" | grep -q '"bad_signatures":0' || fail "sink saw bad signatures: $stats"
echo "$stats" | grep -q '"duplicates":6' || fail "expected the 6 signed redeliveries as duplicates: $stats"
# Not HTTP: the sink says so with a 400 instead of dropping the connection.
reply=$(/usr/bin/python3 - "$base" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"HELLO THERE\r\n\r\n")
print(s.recv(4096).decode("latin-1").splitlines()[0])
PY
)
echo "$reply" | grep -q "^HTTP/1.1 400" || fail "a malformed request got: $reply"
kill -TERM "$sink_pid"
wait "$sink_pid"
sink_pid=""
grep -q '"requests":' "$tmp/sink.json" || fail "sink did not print its stats on exit"

# Bad outlet files: file:line and column, nothing sent, exit 1.
printf 'id,url,format\nok,http://127.0.0.1:1/,webhook\nbad,http://127.0.0.1:1/,carrier-pigeon\n' >"$tmp/bad.csv"
expect 1 "bad.csv:3: column 'format': unknown format 'carrier-pigeon'" "$syndic" push --outlets "$tmp/bad.csv" "$fixtures/atom10.xml"
grep -q "nothing was sent" "$tmp/err" || fail "push did not say nothing was sent"
expect 1 "cannot open the file" "$syndic" push --outlets "$tmp/missing.csv" "$fixtures/atom10.xml"
printf 'id,url,format\nok,http://127.0.0.1:1/,webhook\n' >"$tmp/ok.csv"
printf '<html>no feed</html>' >"$tmp/page.html"
expect 1 "no feed could be read" "$syndic" push --outlets "$tmp/ok.csv" "$tmp/page.html"
expect 2 "--outlets" "$syndic" push "$fixtures/atom10.xml"
expect 2 "--listen" "$syndic" sink --listen nonsense
expect 2 "--rule" "$syndic" sink --listen 127.0.0.1:0 --rule "1234=frobnicate"
expect 2 "" "$syndic" sink --status 999
expect 2 "--latency-ms" "$syndic" sink --latency-ms 200-20
expect 2 "--rule" "$syndic" sink --listen 127.0.0.1:0 --rule "1234=latency=exp:soon"

if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "cli push/sink: all checks passed"
