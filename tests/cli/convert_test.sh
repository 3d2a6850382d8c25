#!/usr/bin/env bash
# `syndic convert` end to end: formats, stdin, exit codes and messages for bad input.
# usage: convert_test.sh SYNDIC FIXTURES
set -u
syndic=$1
fixtures=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

. "$(dirname "$0")/lib.sh"

expect 0 "convert" "$syndic" --help
expect 0 "--to" "$syndic" convert --help
expect 2 "" "$syndic"
expect 2 "--bogus" "$syndic" convert --bogus "$fixtures/atom10.xml"
expect 2 "--to" "$syndic" convert --to yaml "$fixtures/atom10.xml"
expect 2 "input" "$syndic" convert
expect 2 "frobnicate" "$syndic" frobnicate
expect 1 "No such file" "$syndic" convert "$tmp/missing.xml"
expect 1 "Is a directory" "$syndic" convert "$tmp"
printf '<html><body>not a feed</body></html>' >"$tmp/page.html"
expect 1 "HTML page" "$syndic" convert "$tmp/page.html"
: >"$tmp/empty"
expect 1 "empty" "$syndic" convert "$tmp/empty"
expect 1 "limit" "$syndic" convert --max-bytes 100 "$fixtures/rss20-full.xml"

# Many inputs: one JSON record per input, in order; exit 1 when any input held no feed.
expect 2 "--jsonl" "$syndic" convert "$fixtures/atom10.xml" "$fixtures/rss20-full.xml"
expect 2 "excludes" "$syndic" convert --jsonl --pretty "$fixtures/atom10.xml"
expect 1 "" "$syndic" convert --jsonl "$fixtures/atom10.xml" "$tmp/page.html" "$fixtures/rss20-full.xml"
/usr/bin/python3 - "$tmp/out" "$fixtures" "$tmp/page.html" <<'PY' || fail "convert --jsonl records: $(head -c 600 "$tmp/out")"
import json, sys
out, fixtures, page = sys.argv[1:]
recs = [json.loads(line) for line in open(out, encoding="utf-8")]
assert [r["input"] for r in recs] == [f"{fixtures}/atom10.xml", page, f"{fixtures}/rss20-full.xml"], recs
assert [r["status"] for r in recs] == [0, 1, 0], recs
assert recs[1]["feed"] is None and any("no feed could be read" in d for d in recs[1]["diagnostics"]), recs[1]
assert recs[0]["feed"]["version"].startswith("https://jsonfeed.org/version/1.1"), recs[0]["feed"]
assert len(recs[2]["feed"]["items"]) == 2 and all(r["ms"] >= 0 for r in recs)
PY
expect 0 "" "$syndic" convert --jsonl --to atom "$fixtures/atom10.xml"
grep -q '"feed":"<?xml' "$tmp/out" || fail "convert --jsonl --to atom: the feed is not a string: $(head -c 300 "$tmp/out")"

# Every fixture converts to every format, and the output reads back with the same items.
for f in "$fixtures"/*; do
  for to in rss atom json; do
    if ! "$syndic" convert --to "$to" "$f" >"$tmp/out.$to" 2>"$tmp/err"; then
      fail "convert --to $to $f: $(head -c 300 "$tmp/err")"
      continue
    fi
    "$syndic" convert --to json "$tmp/out.$to" >"$tmp/again.json" 2>"$tmp/err2" ||
      fail "re-reading $to output of $f: $(head -c 300 "$tmp/err2")"
    [ -s "$tmp/err2" ] && fail "our own $to output of $f has diagnostics: $(head -c 300 "$tmp/err2")"
  done
done

# stdin, and the broken fixture: exit 0, items recovered, diagnostics with file:line:column.
expect 0 "" sh -c "'$syndic' convert --to json - < '$fixtures/atom10.xml'"
grep -q '"title":"Plant opening"' "$tmp/out" || fail "stdin conversion lost an item"
expect 0 "broken-truncated.xml:8:" "$syndic" convert "$fixtures/broken-truncated.xml"
grep -q '"id":"b-3"' "$tmp/out" || fail "recovery lost the item after the broken one"
grep -q 'warning\[entity\]' "$tmp/err" || fail "no entity diagnostic for &nbsp;"
expect 0 "" "$syndic" convert --quiet "$fixtures/broken-truncated.xml"
grep -q 'warning' "$tmp/err" && fail "--quiet still printed warnings"

# --base resolves relative links; --charset overrides the declaration.
printf '<rss version="2.0"><channel><title>t</title><item><link>a/b</link></item></channel></rss>' >"$tmp/rel.xml"
expect 0 "" "$syndic" convert --base https://base.example/dir/feed.xml "$tmp/rel.xml"
grep -q '"url":"https://base.example/dir/a/b"' "$tmp/out" || fail "--base not applied: $(cat "$tmp/out")"

# Markup injection through a JSON Feed's pass-through extension names: the name is no XML name,
# so the element is dropped (with a warning) instead of closing the item and opening another.
cat >"$tmp/inject.json" <<'JSON'
{"version":"https://jsonfeed.org/version/1.1","title":"t","items":[{"id":"1","title":"a",
 "_syndic":{"extensions":[{"ns":"","name":"x/></item><item><title>INJECTED</title><guid>evil","value":"v"}]}}]}
JSON
expect 0 "is not an XML name; dropped" "$syndic" convert --to rss "$tmp/inject.json"
[ "$(grep -c '<item>' "$tmp/out")" -eq 1 ] || fail "injected extension name made a second <item>: $(cat "$tmp/out")"
grep -q INJECTED "$tmp/out" && fail "injected markup reached the RSS output: $(cat "$tmp/out")"
expect 0 "is not an XML name; dropped" "$syndic" convert --to atom "$tmp/inject.json"
[ "$(grep -c '<entry>' "$tmp/out")" -eq 1 ] || fail "injected extension name made a second <entry>: $(cat "$tmp/out")"
expect 0 "" "$syndic" convert --quiet --to rss "$tmp/inject.json"
[ -s "$tmp/err" ] && fail "--quiet still printed the renderer's warnings: $(cat "$tmp/err")"

if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "cli convert: all checks passed"
