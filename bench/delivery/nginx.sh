# Shared by the delivery benchmarks (source it): `start_nginx FIRST LAST DIR` runs nginx with
# one worker on core 0, listening on every port FIRST..LAST of 127.0.0.1 and answering 204 to
# everything with keep-alive, its files in DIR; `stop_nginx DIR` ends it.
# `start_nginx FIRST LAST DIR TLS_FIRST TLS_LAST` also listens with TLS on TLS_FIRST..TLS_LAST,
# with the certificate DIR/server.pem and key DIR/server.key (make_tls_certs DIR makes them)
# and a shared session cache; HTTP/1.1 only, unless NGINX_HTTP2=1.

# make_tls_certs DIR: a private CA (DIR/ca.pem) and an ECDSA P-256 certificate for 127.0.0.1
# signed by it (DIR/server.pem, DIR/server.key), as tests/cli/push_tls_test.sh makes them.
make_tls_certs() {
  local dir=$1
  local ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
  openssl req -x509 "${ec[@]}" -days 2 -subj "/CN=syndic bench CA" \
    -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
  openssl req "${ec[@]}" -subj "/CN=127.0.0.1" -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1\n' >"$dir/san.ext"
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
    -days 2 -extfile "$dir/san.ext" -out "$dir/server.pem" 2>/dev/null
}

start_nginx() {
  local first=$1 last=$2 dir=$3 tls_first=${4:-} tls_last=${5:-}
  # nginx listens with SO_REUSEPORT: a second server left on these ports would silently share
  # the load and skew every figure. Refuse to measure then.
  if ! python3 - "$first" "$last" "$tls_first" "$tls_last" <<'PY'
import socket, sys
first, last = int(sys.argv[1]), int(sys.argv[2])
ports = list(range(first, last + 1))
if sys.argv[3]:
    ports += range(int(sys.argv[3]), int(sys.argv[4]) + 1)
busy = []
for port in ports:
    s = socket.socket()
    # SO_REUSEADDR: connections in TIME_WAIT from an earlier run do not count, a listener does.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        busy.append(port)
    finally:
        s.close()
if busy:
    print(f"{len(busy)} of the ports already in use (first: {busy[0]}); stop what "
          "listens there (a stray nginx?) before measuring", file=sys.stderr)
    sys.exit(1)
PY
  then
    exit 1
  fi
  {
    echo "worker_processes 1; daemon on; pid $dir/nginx.pid; error_log $dir/error.log crit;"
    echo "worker_rlimit_nofile 20000; events { worker_connections 16000; }"
    echo "http { access_log off; keepalive_requests 1000000; keepalive_timeout 120s;"
    echo "  client_body_buffer_size 16k; server {"
    for p in $(seq "$first" "$last"); do echo "    listen 127.0.0.1:$p reuseport backlog=4096;"; done
    if [ -n "$tls_first" ]; then
      local h2=""
      [ "${NGINX_HTTP2:-0}" = 1 ] && h2=" http2"
      for p in $(seq "$tls_first" "$tls_last"); do echo "    listen 127.0.0.1:$p ssl$h2 reuseport backlog=4096;"; done
      echo "    ssl_certificate $dir/server.pem; ssl_certificate_key $dir/server.key;"
      echo "    ssl_session_cache shared:SSL:10m; ssl_session_timeout 10m;"
    fi
    echo "    location / { return 204; } } }"
  } >"$dir/nginx.conf"
  taskset -c 0 nginx -c "$dir/nginx.conf" -p "$dir" -e "$dir/error.log"
  sleep 0.5
}

stop_nginx() {
  kill "$(cat "$1/nginx.pid" 2>/dev/null)" 2>/dev/null || true
}

# write_workload DIR FIRST LAST ITEMS: the delivery benchmarks' workload, one outlet per port
# FIRST..LAST: DIR/urls.txt (one URL a line), DIR/outlets.csv (just id,url,format: the
# defaults) and DIR/feed.json (ITEMS items, each rendered to a ~1 KiB webhook body).
write_workload() {
  local dir=$1 first=$2 last=$3 items=$4
  for p in $(seq "$first" "$last"); do echo "http://127.0.0.1:$p/hook"; done >"$dir/urls.txt"
  { echo "id,url,format"; i=0; while read -r u; do echo "o$i,$u,webhook"; i=$((i + 1)); done <"$dir/urls.txt"; } >"$dir/outlets.csv"
  python3 - "$items" >"$dir/feed.json" <<'PY'
import json, sys
n = int(sys.argv[1])
items = [{"id": f"bench-{i}", "title": f"Release {i}", "content_text": "x" * 700} for i in range(n)]
print(json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "bench", "items": items}))
PY
}
