#!/usr/bin/python3
"""syndic convert vs feedparser, side by side, in one run.

For each input file: the median wall time of `syndic convert --to json FILE` as a whole
process (start-up, read, parse, render, write) against the median time of
`feedparser.parse(bytes)` inside an already-running Python (no interpreter start-up charged
to feedparser). Prints both and the ratio; the ratio is the figure to report.

  /usr/bin/python3 bench/compare_feedparser.py --syndic build/engine/syndic [FILES...]
"""
import argparse
import pathlib
import statistics
import subprocess
import sys
import time

import feedparser

DEFAULT_DIR = pathlib.Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "synthetic"


def time_syndic(syndic, path, runs):
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run([syndic, "convert", "--to", "json", "--quiet", str(path)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        samples.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(f"syndic failed on {path}: {done.stderr.decode()[:300]}")
    return statistics.median(samples)


def time_feedparser(data, runs):
    samples = []
    entries = None
    for _ in range(runs):
        start = time.perf_counter()
        result = feedparser.parse(data)
        samples.append(time.perf_counter() - start)
        entries = len(result.entries)
    return statistics.median(samples), entries


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--syndic", required=True)
    ap.add_argument("--runs", type=int, default=9, help="syndic runs per file (median)")
    ap.add_argument("--feedparser-runs", type=int, default=3)
    ap.add_argument("files", nargs="*", type=pathlib.Path)
    args = ap.parse_args()
    files = args.files or sorted(DEFAULT_DIR.glob("*"))
    if not files:
        print(f"no input files (looked in {DEFAULT_DIR})", file=sys.stderr)
        return 1
    print(f"{'file':28} {'bytes':>10} {'items':>6} {'syndic ms':>10} {'feedparser ms':>14} {'ratio':>8}")
    total_s = total_f = 0.0
    for path in files:
        data = path.read_bytes()
        s = time_syndic(args.syndic, path, args.runs)
        f, entries = time_feedparser(data, args.feedparser_runs)
        if entries == 0:
            # feedparser 6.0 reads JSON Feed only when told by a Content-Type: no comparison.
            print(f"{path.name:28} {len(data):>10} {entries:>6} {s * 1000:>10.2f} {'(read nothing)':>14} {'-':>8}")
            continue
        total_s += s
        total_f += f
        print(f"{path.name:28} {len(data):>10} {entries:>6} {s * 1000:>10.2f} {f * 1000:>14.1f} {f / s:>7.0f}x")
    if total_s == 0:
        return 1
    print(f"{'all compared':28} {'':>10} {'':>6} {total_s * 1000:>10.2f} {total_f * 1000:>14.1f} {total_f / total_s:>7.0f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
