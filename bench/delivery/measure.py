#!/usr/bin/env python3
"""Runs one command as a whole process and prints what it cost, as one JSON line:
wall time from fork to exit, and the child's user and system CPU time (wait4's rusage, to
the microsecond; /usr/bin/time rounds to 10 ms). The command's stdout goes to STDOUT_FILE,
its stderr passes through.

    measure.py STDOUT_FILE [--nginx PIDFILE] -- COMMAND ARGS...

With --nginx, also the CPU time nginx's worker processes (the children of the master whose
pid is in PIDFILE) used meanwhile, from /proc: the server's share of the work.
"""
import json
import os
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")


def nginx_cpu(pidfile):
    """User + system seconds of the nginx master's children so far."""
    master = open(pidfile).read().strip()
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            stat = open(f"/proc/{pid}/stat").read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[1] == master:  # ppid
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICK


def main():
    args = sys.argv[1:]
    out = args.pop(0)
    pidfile = None
    if args and args[0] == "--nginx":
        pidfile = args[1]
        args = args[2:]
    if args and args[0] == "--":
        args = args[1:]
    server0 = nginx_cpu(pidfile) if pidfile else 0
    with open(out, "wb") as stdout:
        t0 = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            os.dup2(stdout.fileno(), 1)
            try:
                os.execvp(args[0], args)
            finally:
                os._exit(127)
        _, status, usage = os.wait4(pid, 0)
        wall = time.perf_counter() - t0
    result = {"wall_s": round(wall, 6), "user_s": round(usage.ru_utime, 6),
              "sys_s": round(usage.ru_stime, 6), "rc": os.waitstatus_to_exitcode(status)}
    if pidfile:
        result["server_cpu_s"] = round(nginx_cpu(pidfile) - server0, 3)
    print(json.dumps(result))


main()
