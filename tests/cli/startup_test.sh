#!/usr/bin/env bash
# Commands that send nothing do not load libcurl (its dependency tree cost every start-up
# 15-20 ms): `--version`, `--help`, `convert`, `sink`. An https delivery loads it on first
# use; when it cannot be loaded, nothing fails at start and the delivery's failure says why.
# usage: startup_test.sh SYNDIC FIXTURES
set -u
syndic=$1
fixtures=$2
tmp=$(mktemp -d)
sink_pid=""
trap 'kill $sink_pid 2>/dev/null; rm -rf "$tmp"' EXIT
failures=0
. "$(dirname "$0")/lib.sh"

# LD_DEBUG=files makes the dynamic loader name every library it loads, at start or by dlopen.
loads_curl() { LD_DEBUG=files "$@" 2>&1 >/dev/null | grep -q 'file=libcurl'; }
loads_curl "$syndic" --version && fail "syndic --version loads libcurl"
loads_curl "$syndic" --help && fail "syndic --help loads libcurl"
loads_curl "$syndic" convert --to atom "$fixtures/rss20-full.xml" && fail "syndic convert loads libcurl"
# sink: started, asked for its stats over HTTP, stopped.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
LD_DEBUG=files "$syndic" sink --listen "127.0.0.1:$port" >/dev/null 2>"$tmp/sink.err" &
sink_pid=$!
for _ in $(seq 50); do grep -q listening "$tmp/sink.err" && break; sleep 0.1; done
grep -q listening "$tmp/sink.err" || fail "sink did not start: $(grep -v 'file=' "$tmp/sink.err" | head -5)"
kill "$sink_pid" 2>/dev/null
wait "$sink_pid" 2>/dev/null
sink_pid=""
grep -q 'file=libcurl' "$tmp/sink.err" && fail "syndic sink loads libcurl"

# push to plain http:// outlets (here a closed port: the delivery fails, which is beside the
# point) needs no libcurl either.
printf 'id,url,format\nplain,http://127.0.0.1:9/hook,webhook\n' >"$tmp/plain.csv"
echo '{"version":"https://jsonfeed.org/version/1.1","title":"t","items":[{"id":"a","content_text":"x"}]}' >"$tmp/feed.json"
loads_curl "$syndic" push --outlets "$tmp/plain.csv" --deadline 1 "$tmp/feed.json" && fail "push to http:// outlets loads libcurl"

# libcurl missing: an outlet that needs it (https through a proxy; HTTP/2 likewise) fails with
# the loader's reason, and the exit status says not delivered (1), not a crash.
echo '{"version":"https://jsonfeed.org/version/1.1","title":"t","items":[{"id":"a","content_text":"x"}]}' >"$tmp/feed.json"
printf 'id,url,format\nsecure,https://127.0.0.1:9/hook,webhook\n' >"$tmp/outlets.csv"
SYNDIC_LIBCURL=/nonexistent/libcurl.so.4 https_proxy=http://127.0.0.1:9 expect 1 "libcurl could not be loaded (/nonexistent/libcurl.so.4" \
  "$syndic" push --outlets "$tmp/outlets.csv" --deadline 2 "$tmp/feed.json"

[ "$failures" -eq 0 ] && echo "cli startup: all passed"
exit $((failures > 0))
