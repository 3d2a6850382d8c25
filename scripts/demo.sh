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
echo "Next: build/engine/syndic --help, and scripts/test.sh for the whole test suite."
