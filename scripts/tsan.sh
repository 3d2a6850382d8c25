#!/usr/bin/env bash
# The engine's tests under ThreadSanitizer: the public API is called from several threads
# (engine.hpp states the contract) and each shard runs its own thread, so a data race is a
# bug. Builds only engine_tests in build-tsan (separate from build/ and build-sanitize/:
# TSan cannot be combined with ASan) and runs them; extra arguments go to the test binary,
# e.g. scripts/tsan.sh --gtest_filter='fixture.*Thread*'.
#
#   scripts/tsan.sh            # configure if needed, build, run every engine test
#
# Exit status: the test binary's (TSan makes a run with a report fail: exitcode=66).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${SYNDIC_TSAN_DIR:-build-tsan}
if [ ! -f "$dir/CMakeCache.txt" ]; then
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS=-fsanitize=thread -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread \
    -DSYNDIC_BUILD_BENCH=OFF >/dev/null
fi
cmake --build "$dir" --target engine_tests -j"${JOBS:-2}"
# halt_on_error: the first race fails the run with its report, rather than a flood of them.
export TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1 ${TSAN_OPTIONS:-}"
exec "$dir/tests/engine_tests" "$@"
