#!/usr/bin/env bash
# Installs the build tree into a temporary prefix and builds examples/ against it with
# find_package(syndic), as an embedding platform would; then runs the example.
# usage: find_package_test.sh BUILD_DIR EXAMPLES_DIR
set -euo pipefail
build=$1
examples=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S "$examples/convert_feed" -B "$tmp/build" -DCMAKE_PREFIX_PATH="$tmp/prefix" \
  -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" >/dev/null
cmake --build "$tmp/build" -j2 >/dev/null
out=$(printf '<rss version="2.0"><channel><title>Embedded</title><item><title>One</title></item></channel></rss>' |
  "$tmp/build/convert_feed" 2>"$tmp/err")
grep -q '<title>Embedded</title>' <<<"$out" || { echo "example output unexpected: $out"; exit 1; }
grep -q 'rss20: "Embedded", 1 items' "$tmp/err" || { echo "example summary unexpected: $(cat "$tmp/err")"; exit 1; }

cmake -S "$examples/push_items" -B "$tmp/build-push" -DCMAKE_PREFIX_PATH="$tmp/prefix" \
  -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" >/dev/null
cmake --build "$tmp/build-push" -j2 >/dev/null
out=$("$tmp/build-push/push_items")
grep -q '7 deliveries queued, 7 delivered; the sink counted 7 with 0 bad signatures' <<<"$out" ||
  { echo "push_items output unexpected: $out"; exit 1; }
echo "find_package(syndic): both examples built and ran against the installed package"
