#!/usr/bin/env bash
# Where an https push's CPU goes: `perf record -e cpu-clock` on `syndic push --cacert` (its
# defaults) against nginx with TLS, set up as compare_tls.sh does (nginx on core 0, push on
# core 1). Prints the shares per shared object, then the top symbols, then the top symbols
# of the kernel and of libcrypto/libssl/libcurl.
#
#   bench/delivery/profile_tls.sh BUILD_DIR [OUTLETS] [ITEMS] [-- extra push flags]
#   bench/delivery/profile_tls.sh build 50 200        # warm: mostly requests on open connections
#   bench/delivery/profile_tls.sh build 500 20        # cold: handshakes weigh more
#   PROFILE_SCHEME=http bench/delivery/profile_tls.sh build 50 200   # the same over plain http
set -eu  # no pipefail: `perf report | head` ends perf with SIGPIPE
build=${1:?usage: profile_tls.sh BUILD_DIR [OUTLETS] [ITEMS] [-- push flags]}
outlets=${2:-50}
items=${3:-200}
shift $(($# < 3 ? $# : 3))
[ "${1:-}" = "--" ] && shift
scheme=${PROFILE_SCHEME:-https}
here=$(cd "$(dirname "$0")" && pwd)
first=26000
last=$((first + outlets - 1))
tls_first=27000
tls_last=$((tls_first + outlets - 1))
tmp=$(mktemp -d)
chmod 755 "$tmp"
. "$here/nginx.sh"
trap 'stop_nginx "$tmp"; rm -rf "$tmp"' EXIT
ulimit -n "$(ulimit -Hn)"
command -v perf >/dev/null || { echo "perf is not installed (Debian: linux-perf)"; exit 1; }

make_tls_certs "$tmp"
start_nginx "$first" "$last" "$tmp" "$tls_first" "$tls_last"
python3 - "$items" >"$tmp/feed.json" <<'PY'
import json, sys
n = int(sys.argv[1])
items = [{"id": f"bench-{i}", "title": f"Release {i}", "content_text": "x" * 700} for i in range(n)]
print(json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "bench", "items": items}))
PY
{
  echo "id,url,format"
  for i in $(seq 0 $((outlets - 1))); do
    if [ "$scheme" = https ]; then echo "o$i,https://127.0.0.1:$((tls_first + i))/hook,webhook"
    else echo "o$i,http://127.0.0.1:$((first + i))/hook,webhook"; fi
  done
} >"$tmp/outlets.csv"

echo "== perf: syndic push, $outlets $scheme outlets x $items items; load average $(cut -d' ' -f1-3 /proc/loadavg)"
# PERF_CALLGRAPH=1: with DWARF call chains, to see which library calls malloc, memmove... (heavier)
cg=()
[ "${PERF_CALLGRAPH:-0}" = 1 ] && cg=(--call-graph dwarf,16384)
taskset -c 1 perf record -q -e cpu-clock -F "${PERF_FREQ:-4000}" "${cg[@]}" -o "$tmp/perf.data" -- \
  "$build/engine/syndic" push --outlets "$tmp/outlets.csv" --cacert "$tmp/ca.pem" "$@" "$tmp/feed.json" |
  grep -E '^(delivered|elapsed|rate|connections)'
echo "-- shares per shared object"
perf report -i "$tmp/perf.data" --stdio --sort dso 2>/dev/null | grep -E '^ +[0-9]' | head -15 || true
echo "-- top symbols"
perf report -i "$tmp/perf.data" --stdio --no-children --sort dso,sym -g none 2>/dev/null | grep -E '^ +[0-9]' | head -40 || true
if [ "${PERF_CALLGRAPH:-0}" = 1 ]; then
  echo "-- inclusive shares (children) of the top functions"
  perf report -i "$tmp/perf.data" --stdio --children --sort dso,sym -g none 2>/dev/null | grep -E "^ +[0-9]" | head -70 || true
fi
[ -n "${PERF_KEEP:-}" ] && cp "$tmp/perf.data" "$PERF_KEEP"
