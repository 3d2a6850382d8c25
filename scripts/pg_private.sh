#!/usr/bin/env bash
# A private PostgreSQL 15 for examples and benchmarks: its own cluster in a directory, on
# 127.0.0.1 at a port of your choice, trust authentication, default durability (fsync and
# synchronous_commit on). Never the system's cluster.
#   scripts/pg_private.sh start DIR PORT   prints the URL to use (postgres://postgres@127.0.0.1:PORT/postgres)
#   scripts/pg_private.sh stop DIR         a clean stop
#   scripts/pg_private.sh kill DIR         an immediate stop (as kill -9 of the server: recovery at next start)
#   scripts/pg_private.sh restart DIR      start again after a stop or kill, on the same port
# As root (initdb refuses root), the cluster is run by the `postgres` user, which Debian's
# postgresql-15 package creates.
set -euo pipefail
bindir=$(ls -d /usr/lib/postgresql/15/bin 2>/dev/null || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "pg_private: PostgreSQL 15 is not installed (Debian: apt install postgresql-15, or ./scripts/setup.sh)" >&2
  exit 1
fi
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { sed -n 2,11p "$0" >&2; exit 2; }
case "$cmd" in
  start)
    port=${3:?"pg_private: start needs a port"}
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      as_owner "$bindir/initdb" -D "$dir/data" -A trust -U postgres --no-sync >"$dir/initdb.log" 2>&1 ||
        { echo "pg_private: initdb failed:" >&2; cat "$dir/initdb.log" >&2; exit 1; }
    fi
    echo "$port" >"$dir/port"
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null ||
      { echo "pg_private: the server did not start:" >&2; tail -20 "$dir/server.log" >&2; exit 1; }
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
  restart)
    port=$(cat "$dir/port")
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
  stop) as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null ;;
  kill) as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null ;;
  *) echo "pg_private: unknown command '$cmd'" >&2; exit 2 ;;
esac
