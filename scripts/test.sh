#!/usr/bin/env bash
# The second command of the README, and what CI runs (.ci/run): installs what is missing,
# builds everything, runs the whole suite, then builds and runs it again with AddressSanitizer
# and UndefinedBehaviorSanitizer, then runs each fuzz target briefly (scripts/fuzz_smoke.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime

echo "== build and test (RelWithDebInfo)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j2
ctest --test-dir build -j2 --output-on-failure --timeout 900

echo "== build and test with ASan + UBSan"
cmake -S . -B build-sanitize -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSYNDIC_SANITIZE=ON \
  -DSYNDIC_BUILD_BENCH=OFF >/dev/null
cmake --build build-sanitize -j2
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-sanitize -j2 --output-on-failure --timeout 900

# A few seconds of libFuzzer per parser (docs/fuzzing.md); its own clang build in build-fuzz.
./scripts/fuzz_smoke.sh
echo "== all tests passed (plain, sanitized and fuzz smoke)"
