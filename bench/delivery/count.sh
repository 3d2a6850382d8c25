#!/usr/bin/env bash
# Costs that do not depend on the machine's load, per delivery, for `syndic push` at its
# defaults and for the reference epoll_client, on compare.sh's plain-http workload (nginx on
# core 0 answering 204, one outlet per port, ~1 KiB webhook bodies, client on core 1):
#   - syscalls per delivery, by name (`strace -f -c`; the reference's are the floor: one
#     send and one recv per request, plus its share of epoll_wait);
#   - instructions per delivery (`valgrind --tool=callgrind`, Ir of the whole process,
#     start-up included), with the top functions, self and inclusive (COUNT_TOP=N).
# Wall-clock rates on a shared machine move by 20-35% from run to run; these counts move by
# well under 1%, so they judge a change to the hot path. compare.sh gives the rates.
#
#   bench/delivery/count.sh BUILD_DIR [PORTS] [ITEMS]        # both counts, both clients
#   COUNT=syscalls bench/delivery/count.sh build              # or COUNT=instructions
#   PUSH_FLAGS="--shards 1" bench/delivery/count.sh build     # syndic with flags
#   KEEP=DIR bench/delivery/count.sh build                    # keeps callgrind.out etc. in DIR
#   FIRST_PORT=34000 bench/delivery/count.sh build            # when 24000.. are taken (another benchmark)
set -euo pipefail
build=${1:?usage: count.sh BUILD_DIR [PORTS] [ITEMS]}
ports=${2:-1000}
items=${3:-20}
what=${COUNT:-all}
top=${COUNT_TOP:-25}
here=$(cd "$(dirname "$0")" && pwd)
first=${FIRST_PORT:-24000}
last=$((first + ports - 1))
tmp=$(mktemp -d)
. "$here/nginx.sh"
trap 'stop_nginx "$tmp"; [ -n "${KEEP:-}" ] && cp -r "$tmp"/. "$KEEP"/; rm -rf "$tmp"' EXIT
ulimit -n "$(ulimit -Hn)"
start_nginx "$first" "$last" "$tmp"

write_workload "$tmp" "$first" "$last" "$items"
pairs=$((ports * items))
# shellcheck disable=SC2086 # PUSH_FLAGS is a list of flags
syndic=("$build/engine/syndic" push --outlets "$tmp/outlets.csv" ${PUSH_FLAGS:-} "$tmp/feed.json")
reference=("$build/bench/epoll_client" "$tmp/urls.txt" "$items")
echo "== $ports outlets x $items items = $pairs POSTs; syndic push ${PUSH_FLAGS:-(no flags)}; load average $(cut -d' ' -f1-3 /proc/loadavg)"

if [ "$what" = all ] || [ "$what" = syscalls ]; then
  command -v strace >/dev/null || { echo "strace is not installed"; exit 1; }
  for name in syndic reference; do
    declare -n cmd=$name
    taskset -c 1 strace -f -c -o "$tmp/strace.$name" "${cmd[@]}" >"$tmp/out.$name" 2>&1 || true
    python3 - "$name" "$tmp/strace.$name" "$pairs" <<'PY'
import sys
name, path, pairs = sys.argv[1], sys.argv[2], int(sys.argv[3])
rows = []
for line in open(path):
    f = line.split()
    if len(f) >= 5 and f[0][0].isdigit() and f[-1] != "total":
        calls = int(f[3])
        errors = int(f[4]) if len(f) == 6 else 0
        rows.append((calls, errors, f[-1]))
rows.sort(reverse=True)
total = sum(r[0] for r in rows)
print(f"\n{name}: {total / pairs:.2f} syscalls per delivery ({total} for {pairs})")
for calls, errors, sc in rows:
    if calls >= pairs / 100:
        err = f" ({errors / pairs:.2f} failed, e.g. EAGAIN)" if errors else ""
        print(f"  {sc:<16} {calls / pairs:6.3f}{err}")
PY
  done
fi

if [ "$what" = all ] || [ "$what" = instructions ]; then
  command -v valgrind >/dev/null || { echo "valgrind is not installed"; exit 1; }
  for name in syndic reference; do
    declare -n cmd=$name
    taskset -c 1 valgrind --tool=callgrind --callgrind-out-file="$tmp/callgrind.$name" "${cmd[@]}" \
      >"$tmp/out.$name" 2>"$tmp/valgrind.$name" || true
    ir=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$tmp/valgrind.$name")
    echo
    echo "$name: $((ir / pairs)) instructions per delivery ($ir for $pairs, start-up included)"
    if [ "$name" = syndic ]; then
      for mode in no yes; do
        echo "  top $top, $([ $mode = yes ] && echo inclusive || echo self):"
        callgrind_annotate --auto=no --inclusive=$mode "$tmp/callgrind.$name" 2>/dev/null | python3 "$here/count_top.py" "$pairs" "$top" "$([ $mode = yes ] && echo inclusive || echo self)"
      done
    fi
  done
fi
