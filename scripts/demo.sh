#!/usr/bin/env bash
# The first command of the README: installs what is missing, builds the `syndic` binary and
# runs it on a sample press-wire feed so a newcomer sees it work.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j2 --target syndic
syndic=build/engine/syndic
feed=examples/feeds/press-wire.xml

echo
echo "== $feed (RSS 2.0 with a few real-world defects) read and written as JSON Feed 1.1:"
"$syndic" convert --to json --pretty "$feed" | head -n 60
echo
echo
echo "== the same feed as Atom 1.0 (first lines):"
"$syndic" convert --to atom --quiet "$feed" | head -n 20
echo
echo "== pushing the feed to 20 simulated outlets (syndic sink on 127.0.0.1:18700-18709, signed webhooks):"
secret=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
"$syndic" sink --listen 127.0.0.1:18700-18709 --secret "$secret" --duration 30 >/tmp/syndic-demo-sink.json &
sink_pid=$!
trap 'kill $sink_pid 2>/dev/null || true' EXIT
sleep 0.5
outlets=$(mktemp)
{
  echo "id,url,format,secret,languages"
  for p in $(seq 18700 18709); do
    echo "newsroom-$p,http://127.0.0.1:$p/webhook,webhook,$secret,"
    echo "french-desk-$p,http://127.0.0.1:$p/atom,atom,,fr"
  done
} >"$outlets"
"$syndic" push --outlets "$outlets" "$feed" || true
kill -TERM $sink_pid 2>/dev/null && wait $sink_pid 2>/dev/null || true
echo "sink counts: $(cat /tmp/syndic-demo-sink.json)"
rm -f "$outlets"
echo
echo "Next: build/engine/syndic --help, and scripts/test.sh for the whole test suite."
