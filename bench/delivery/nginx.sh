# Shared by the delivery benchmarks (source it): `start_nginx FIRST LAST DIR` runs nginx with
# one worker on core 0, listening on every port FIRST..LAST of 127.0.0.1 and answering 204 to
# everything with keep-alive, its files in DIR; `stop_nginx DIR` ends it.

start_nginx() {
  local first=$1 last=$2 dir=$3
  # nginx listens with SO_REUSEPORT: a second server left on these ports would silently share
  # the load and skew every figure. Refuse to measure then.
  if ! python3 - "$first" "$last" <<'PY'
import socket, sys
first, last = int(sys.argv[1]), int(sys.argv[2])
busy = []
for port in range(first, last + 1):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        busy.append(port)
    finally:
        s.close()
if busy:
    print(f"ports {first}-{last}: {len(busy)} already in use (first: {busy[0]}); stop what "
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
    echo "    location / { return 204; } } }"
  } >"$dir/nginx.conf"
  taskset -c 0 nginx -c "$dir/nginx.conf" -p "$dir" -e "$dir/error.log"
  sleep 0.5
}

stop_nginx() {
  kill "$(cat "$1/nginx.pid" 2>/dev/null)" 2>/dev/null || true
}
