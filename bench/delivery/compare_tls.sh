#!/usr/bin/env bash
# https delivery as users get it, measured like compare.sh (whole processes, nginx with one
# worker pinned to core 0, every client pinned to core 1, taking turns RUNS times, medians and
# per-run ratios). nginx terminates TLS with an ECDSA P-256 certificate from a private CA made
# here by openssl, with a shared session cache; HTTP/1.1 (NGINX_HTTP2=1 offers h2 as well).
# Two cases:
#   cold: 500 outlets x 20 items (connections and handshakes are a large share of the work)
#   warm: 50 outlets x 200 items (mostly requests on open connections)
# Clients, on the same outlets (one port each):
#   syndic https      `syndic push --cacert ca.pem` with an id,url,format outlets file
#   syndic https mif1 the same with max_in_flight=1 per outlet (one connection per outlet)
#   curl loop https   a plain curl_multi_perform loop (curl_multi_loop --cacert ca.pem)
#   syndic http       `syndic push` to the same outlets over plain http (the h1 transport)
#
#   bench/delivery/compare_tls.sh BUILD_DIR [RUNS] [CASES]     CASES: "cold warm" (default)
#   TLS_CA=bundle bench/delivery/compare_tls.sh build 1 warm
#
# TLS_CA=bundle passes the system's CA bundle with the private CA appended (145 certificates)
# as --cacert, which costs what real outlets cost (their certificates are checked against the
# system's CAs). Measured 2026-12: libcurl 7.88 then re-reads and parses the whole bundle for
# every new connection (~30-40 ms of CPU each) because Debian's libcurl also has a CA
# directory built in, and it caches the CA store only when no directory is set
# (CURLOPT_CAPATH = NULL). curl_multi_loop's `no_capath` shows the difference.
#
# Targets (issue 7): syndic https at the defaults at least 2x the plain loop (cold); over warm
# connections at least 0.6x syndic's own plain-http rate.
set -euo pipefail
build=${1:?usage: compare_tls.sh BUILD_DIR [RUNS] [CASES]}
runs=${2:-5}
cases=${3:-cold warm}
here=$(cd "$(dirname "$0")" && pwd)
ports=500
first=24000
last=$((first + ports - 1))
tls_first=25000
tls_last=$((tls_first + ports - 1))
tmp=$(mktemp -d)
chmod 755 "$tmp"  # nginx's worker reads the certificate
. "$here/nginx.sh"
trap 'stop_nginx "$tmp"; rm -rf "$tmp"' EXIT
ulimit -n "$(ulimit -Hn)"

make_tls_certs "$tmp" || { echo "openssl could not make the certificates"; exit 1; }
ca="$tmp/ca.pem"
if [ "${TLS_CA:-}" = bundle ]; then
  cat /etc/ssl/certs/ca-certificates.crt "$tmp/ca.pem" >"$tmp/bundle.pem"
  ca="$tmp/bundle.pem"
fi
start_nginx "$first" "$last" "$tmp" "$tls_first" "$tls_last"

feed() {  # feed ITEMS > file: ITEMS items, each rendered to a ~1 KiB webhook body
  python3 - "$1" <<'PY'
import json, sys
n = int(sys.argv[1])
items = [{"id": f"bench-{i}", "title": f"Release {i}", "content_text": "x" * 700} for i in range(n)]
print(json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "bench", "items": items}))
PY
}

# measure NAME PAIRS COMMAND...: runs it pinned to core 1; appends "NAME delivered wall user
# sys server_cpu connections" to $tmp/rows.
measure() {
  local name=$1 pairs=$2
  shift 2
  local cost
  # stderr kept aside (push prints its progress there), shown when the run did not deliver all
  cost=$(python3 "$here/measure.py" "$tmp/out" --nginx "$tmp/nginx.pid" -- taskset -c 1 "$@" 2>"$tmp/err")
  python3 - "$name" "$cost" "$tmp/out" "$pairs" >>"$tmp/rows" <<'PY'
import json, re, sys
name, cost, out, pairs = sys.argv[1], json.loads(sys.argv[2]), open(sys.argv[3]).read(), int(sys.argv[4])
if out.startswith("{"):
    j = json.loads(out)
    delivered, conns = j["delivered"], j.get("connections", 0)
else:
    delivered = int(re.search(r"^delivered:\s+(\d+)", out, re.M).group(1))
    conns = int(re.search(r"^connections:\s+(\d+)", out, re.M).group(1))
if delivered != pairs or cost["rc"] != 0:
    print(f"{name}: {delivered}/{pairs} delivered, exit {cost['rc']}; stdout: {out[-300:]!r}", file=sys.stderr)
print(name.replace(" ", "_"), delivered, cost["wall_s"], cost["user_s"], cost["sys_s"], cost["server_cpu_s"], conns)
PY
}

echo "== https: nginx (1 worker, core 0, TLS 1.3, ECDSA P-256, session cache); each client on core 1, whole process"
echo "   --cacert: $(grep -c BEGIN "$ca") certificate(s)"
echo "   load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for c in $cases; do
  case $c in
    cold) outlets=500 items=20 ;;
    warm) outlets=50 items=200 ;;
    *) echo "unknown case $c"; exit 2 ;;
  esac
  pairs=$((outlets * items))
  feed "$items" >"$tmp/feed.json"
  : >"$tmp/https.txt"
  {
    echo "id,url,format" >"$tmp/http.csv"
    echo "id,url,format" >"$tmp/https.csv"
    echo "id,url,format,max_in_flight" >"$tmp/https1.csv"
    for i in $(seq 0 $((outlets - 1))); do
      echo "o$i,http://127.0.0.1:$((first + i))/hook,webhook" >>"$tmp/http.csv"
      echo "o$i,https://127.0.0.1:$((tls_first + i))/hook,webhook" >>"$tmp/https.csv"
      echo "o$i,https://127.0.0.1:$((tls_first + i))/hook,webhook,1" >>"$tmp/https1.csv"
      echo "https://127.0.0.1:$((tls_first + i))/hook" >>"$tmp/https.txt"
    done
  }
  echo "-- $c: $outlets outlets x $items items = $pairs POSTs"
  : >"$tmp/rows"
  for run in $(seq 1 "$runs"); do
    measure "syndic https" "$pairs" "$build/engine/syndic" push --outlets "$tmp/https.csv" --cacert "$ca" "$tmp/feed.json"
    measure "syndic https mif1" "$pairs" "$build/engine/syndic" push --outlets "$tmp/https1.csv" --cacert "$ca" "$tmp/feed.json"
    measure "curl loop https" "$pairs" "$build/bench/curl_multi_loop" "$tmp/https.txt" "$items" --cacert "$ca"
    measure "syndic http" "$pairs" "$build/engine/syndic" push --outlets "$tmp/http.csv" "$tmp/feed.json"
    tail -n 4 "$tmp/rows" | awk -v r="$run" '{ printf "run %s: %-18s %6.0f/s  %6.1f us CPU/delivery  (%d connections)\n", r, $1, $2 / $3, ($4 + $5) * 1e6 / $2, $7 }'
  done
  python3 - "$here" "$tmp/rows" "$runs" "$c" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
from table import load, print_medians, ratio
rows = load(sys.argv[2])
print_medians(rows, f"medians of {sys.argv[3]} runs, {sys.argv[4]} (CPU = user + sys per delivery, us; nginx = its worker's CPU per delivery)")
cold = sys.argv[4] == "cold"
print(f"syndic https / curl loop https rate: {ratio(rows, 'syndic_https', 'curl_loop_https')}{' (target >= 2)' if cold else ''}")
print(f"syndic https / syndic http rate: {ratio(rows, 'syndic_https', 'syndic_http')}{'' if cold else ' (target >= 0.6)'}")
print(f"syndic https mif1 / curl loop https rate: {ratio(rows, 'syndic_https_mif1', 'curl_loop_https')}")
PY
done
echo "   load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
