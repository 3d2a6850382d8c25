#!/usr/bin/env bash
# Start-up time of whole commands: RUNS runs of each, taking turns (so that a burst of load
# from elsewhere hits them all alike), each a posix_spawn + wait4 from Python. Prints per
# command the median, min and p90 wall time (spawn to exit), and the median CPU time (user +
# sys, wait4's rusage). Compare against a trivial program on the same machine
# (e.g. /bin/true): that is the floor of exec + the dynamic loader here.
#
#   bench/delivery/startup.sh [RUNS] -- 'CMD ARGS' ['CMD ARGS'...]
#   bench/delivery/startup.sh 100 -- /bin/true 'build/engine/syndic --version' 'build/engine/syndic --help'
#
# Target (issue 7): `syndic --version` at most 5 ms. (hyperfine -N gives the same figures one
# command after the other.)
#
# On a shared machine the wall times move with the load of the moment (/bin/true alone went
# from 2.8 to 5.5 ms here): compare commands within one run, by the "x first" column (median
# over the first command's median), and by the page faults (ru_minflt: the same at every run,
# whatever the load; each costs ~10-20 us on this VM).
set -euo pipefail
runs=${1:-100}
shift
[ "${1:-}" = "--" ] && shift
echo "== start-up, $runs runs each, taking turns; load average $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$runs" "$@" <<'PY'
import os, shlex, statistics, sys, time
runs, cmds = int(sys.argv[1]), sys.argv[2:]
argvs = [shlex.split(c) for c in cmds]
null = os.open(os.devnull, os.O_WRONLY)
wall = {c: [] for c in cmds}
cpu = {c: [] for c in cmds}
faults = {c: [] for c in cmds}
for r in range(runs + 3):  # the first 3 rounds warm the page cache and are not counted
    for c, argv in zip(cmds, argvs):
        t0 = time.perf_counter()
        pid = os.posix_spawnp(argv[0], argv, os.environ,
                              file_actions=[(os.POSIX_SPAWN_DUP2, null, 1), (os.POSIX_SPAWN_DUP2, null, 2)])
        _, status, usage = os.wait4(pid, 0)
        t = time.perf_counter() - t0
        if r >= 3:
            wall[c].append(t)
            cpu[c].append(usage.ru_utime + usage.ru_stime)
            faults[c].append(usage.ru_minflt)
first = statistics.median(wall[cmds[0]])
for c in cmds:
    t = sorted(wall[c])
    print(f"{statistics.median(t) * 1e3:7.2f} ms median  {t[0] * 1e3:6.2f} min  {t[int(len(t) * 0.9)] * 1e3:6.2f} p90"
          f"  CPU {statistics.median(cpu[c]) * 1e3:6.2f} ms  {statistics.median(t) / first:5.2f} x first"
          f"  {statistics.median(faults[c]):5.0f} faults  {c}")
PY
echo "   load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
