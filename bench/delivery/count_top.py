#!/usr/bin/env python3
"""Reads callgrind_annotate's output on stdin and prints its top N functions per delivery, with
template arguments, parameter lists and paths left out so that each fits on a line.

    callgrind_annotate callgrind.out | count_top.py PAIRS N
"""
import re
import sys

pairs, top = int(sys.argv[1]), int(sys.argv[2])
merge = len(sys.argv) > 3 and sys.argv[3] == "self"  # self costs of one function in several files add up


def short(name: str) -> str:
    name = re.sub(r"\s*\[[^\]]*\]\s*$", "", name)  # the object file
    name = re.sub(r"^(\?\?\?|[./\w+-]+\.\w+):", "", name)  # the source file
    out, depth = [], 0
    for ch in name:  # drop <...> and (...) contents
        if ch in "<(":
            if depth == 0:
                out.append("<>" if ch == "<" else "()")
            depth += 1
        elif ch in ">)":
            depth = max(0, depth - 1)
        elif depth == 0:
            out.append(ch)
    return "".join(out)[:150]


rows = {}
for line in sys.stdin:
    m = re.match(r"^\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*)$", line)
    if m and "PROGRAM TOTALS" not in line:
        ir, name = int(m.group(1).replace(",", "")), short(m.group(2))
        if merge:
            rows[name] = rows.get(name, 0) + ir
        elif name not in rows:
            rows[name] = ir
for name, ir in sorted(rows.items(), key=lambda r: -r[1])[:top]:
    print(f"  {ir / pairs:8.0f}  {name}")
