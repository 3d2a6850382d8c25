#!/usr/bin/python3
"""An independent reader checks our output.

Every fixture is rendered by `syndic convert` as RSS 2.0 and as Atom 1.0; Debian's
python3-feedparser must read each result without a well-formedness complaint (bozo) and find
the same titles, links, ids and dates that syndic itself reports (its JSON output).
"""
import argparse
import calendar
import datetime
import json
import pathlib
import re
import subprocess
import sys

import feedparser


def convert(syndic, path, to):
    out = subprocess.run([syndic, "convert", "--to", to, str(path)],
                         capture_output=True, timeout=30)
    if out.returncode != 0:
        raise RuntimeError(f"syndic convert --to {to} {path}: {out.stderr.decode()[:300]}")
    return out.stdout


def epoch(rfc3339):
    if not rfc3339:
        return None
    return int(datetime.datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp())


def check(syndic, path, to, problems):
    reference = json.loads(convert(syndic, path, "json"))
    rendered = convert(syndic, path, to)
    parsed = feedparser.parse(rendered)
    where = f"{path.name} as {to}"
    if parsed.bozo:
        problems.append(f"{where}: feedparser says not well-formed: {parsed.bozo_exception}")
        return
    expected_version = {"rss": "rss20", "atom": "atom10"}[to]
    if parsed.version != expected_version:
        problems.append(f"{where}: feedparser read version {parsed.version!r}")
    if parsed.feed.get("title", "") != reference.get("title", ""):
        if reference.get("_syndic", {}).get("title_type") not in ("html", "xhtml"):
            problems.append(f"{where}: feed title {parsed.feed.get('title')!r} != {reference.get('title')!r}")
    items = reference.get("items", [])
    if len(parsed.entries) != len(items):
        problems.append(f"{where}: {len(parsed.entries)} entries, expected {len(items)}")
        return
    for i, (entry, item) in enumerate(zip(parsed.entries, items)):
        label = f"{where} item {i}"
        want_id = item.get("id")
        if to == "atom" and not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]*$", want_id or ""):
            # RFC 4287 ids are absolute IRIs: a guid such as "pod-12" becomes a urn:uuid
            want_id = entry.get("id") if str(entry.get("id")).startswith("urn:uuid:") else want_id
        if entry.get("id") != want_id:
            problems.append(f"{label}: id {entry.get('id')!r} != {item.get('id')!r}")
        if item.get("url") and entry.get("link") != item.get("url"):
            problems.append(f"{label}: link {entry.get('link')!r} != {item.get('url')!r}")
        if item.get("_syndic", {}).get("title_type", "text") == "text":
            if entry.get("title", "") != item.get("title", ""):
                problems.append(f"{label}: title {entry.get('title')!r} != {item.get('title')!r}")
        for ours, theirs in (("date_published", "published_parsed"),
                             ("date_modified", "updated_parsed")):
            want = epoch(item.get(ours))
            if want is None:
                continue
            got = entry.get(theirs)
            if to == "rss" and ours == "date_modified":
                got = entry.get("updated_parsed")  # dc:date
            if got is None or calendar.timegm(got) != want:
                problems.append(f"{label}: {theirs} {got} != {item.get(ours)}")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--syndic", required=True)
    ap.add_argument("--fixtures", required=True, type=pathlib.Path)
    args = ap.parse_args()
    problems = []
    files = sorted(p for p in args.fixtures.iterdir() if p.is_file())
    for path in files:
        for to in ("rss", "atom"):
            try:
                check(args.syndic, path, to, problems)
            except Exception as e:  # a crash of ours is a finding, not a harness error
                problems.append(f"{path.name} as {to}: {e}")
    for p in problems:
        print("FAIL:", p)
    print(f"feedparser {feedparser.__version__} cross-check: {len(files) * 2} renders, "
          f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
