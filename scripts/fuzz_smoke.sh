#!/usr/bin/env bash
# Builds the libFuzzer targets (build-fuzz, clang-14, Ninja, ccache) and runs each one briefly:
# first its committed crash reproducers (fuzz/regressions/<target>/), then FUZZ_SECONDS of
# fuzzing from its seeds (fuzz/seeds/<target>/, plus the test fixtures and ../shared/corpus for
# the feed and encoding targets when present). Any crash, leak, timeout or out-of-memory fails
# the script. docs/fuzzing.md explains the targets and how to run a longer campaign.
#
#   scripts/fuzz_smoke.sh                 # every target, 10 s each
#   FUZZ_SECONDS=60 scripts/fuzz_smoke.sh feed response_parser
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
seconds=${FUZZ_SECONDS:-10}
build=${FUZZ_BUILD_DIR:-build-fuzz}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(feed response_parser outlets dates encoding urls)
export CCACHE_SLOPPINESS=${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}

cxx=${FUZZ_CXX:-clang++-14}
if ! command -v "$cxx" >/dev/null; then
  echo "fuzz_smoke: $cxx not found (scripts/setup.sh installs clang-14)" >&2
  exit 1
fi
# An llvm-symbolizer gives the reports function names and lines.
if [ -z "${ASAN_SYMBOLIZER_PATH:-}" ] && command -v llvm-symbolizer-14 >/dev/null; then
  export ASAN_SYMBOLIZER_PATH=$(command -v llvm-symbolizer-14)
fi

echo "== build fuzz targets ($build)"
start=$(date +%s)
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER="$cxx" \
  -DSYNDIC_BUILD_FUZZ=ON -DSYNDIC_BUILD_TESTS=OFF -DSYNDIC_BUILD_BENCH=OFF -DSYNDIC_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$build" -j2 --target syndic_fuzz
echo "   built in $(( $(date +%s) - start )) s"

# Checks named on "skip" lines of fuzz/regressions/open.txt belong to defects found and not fixed
# yet: the targets step around them (SYNDIC_FUZZ_SKIP, fuzz/check.hpp) so that the run still
# fails on anything new.
skips=$(sed -n 's/^skip  *//p' fuzz/regressions/open.txt 2>/dev/null | tr -s ' \n' ',' | sed 's/,$//')
export SYNDIC_FUZZ_SKIP=${SYNDIC_FUZZ_SKIP:-$skips}
[ -z "$SYNDIC_FUZZ_SKIP" ] || echo "   stepping around open findings: $SYNDIC_FUZZ_SKIP"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# Per target: extra read-only seed directories, the dictionary, the largest input tried.
extra_seeds() {
  case $1 in
    feed) echo tests/fixtures; [ -d ../shared/corpus ] && echo ../shared/corpus ;;
    encoding) [ -d ../shared/corpus/feedparser/encoding ] && echo ../shared/corpus/feedparser/encoding ;;
  esac
  return 0
}
dict_of() {
  case $1 in
    feed) echo "$build/fuzz-feed.dict" ;;
    *) echo "fuzz/dict/$1.dict" ;;
  esac
}
max_len_of() {
  case $1 in
    feed|encoding) echo 65536 ;;
    response_parser|outlets) echo 16384 ;;
    *) echo 1024 ;;
  esac
}
# XML and JSON tokens together: the feed target reads both.
cat fuzz/dict/xml.dict fuzz/dict/json.dict > "$build/fuzz-feed.dict"

failed=()
for t in "${targets[@]}"; do
  bin=$build/fuzz/fuzz_$t
  [ -x "$bin" ] || { echo "fuzz_smoke: no target '$t'" >&2; exit 1; }
  work=$build/fuzz-work/$t
  rm -rf "$work"
  mkdir -p "$work/corpus" "$work/artifacts"

  # Reproducers of fixed crashes must stay fixed. Those listed in fuzz/regressions/open.txt
  # are known and not fixed yet: they are run and reported, and do not fail the run.
  if [ -d "fuzz/regressions/$t" ]; then
    for r in fuzz/regressions/$t/*; do
      [ -f "$r" ] || continue
      open=false
      grep -qxF "$r" fuzz/regressions/open.txt 2>/dev/null && open=true
      if SYNDIC_FUZZ_SKIP= "$bin" -runs=1 "$r" >"$work/regression.log" 2>&1; then
        $open && echo "   $t: $r passes now: remove it from fuzz/regressions/open.txt"
        continue
      elif $open; then
        echo "   $t: $r still fails (listed as open)"
      else
        echo "FAIL $t: regression $r fails again:"
        grep -aE "syndic fuzz check|ERROR|SUMMARY" "$work/regression.log" | head -5 || true
        failed+=("$t:$r")
      fi
    done
  fi

  seeds=("fuzz/seeds/$t")
  while read -r d; do [ -n "$d" ] && seeds+=("$d"); done < <(extra_seeds "$t")
  echo "== fuzz_$t: ${seconds} s from ${seeds[*]}"
  log=$work/fuzz.log
  # -timeout: one input may take 10 s; -rss_limit_mb: 2 GiB. The first corpus directory is the
  # scratch one libFuzzer writes new inputs to; the seeds are only read.
  if "$bin" -max_total_time="$seconds" -max_len="$(max_len_of "$t")" -timeout=10 -rss_limit_mb=2048 \
      -dict="$(dict_of "$t")" -artifact_prefix="$work/artifacts/" -print_final_stats=1 \
      "$work/corpus" "${seeds[@]}" >"$log" 2>&1; then
    echo "   $(grep -aE '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 || true)"
  else
    echo "FAIL fuzz_$t (log: $log, input: $(ls "$work/artifacts" 2>/dev/null | head -1)):"
    grep -aE "syndic fuzz check|ERROR: |SUMMARY: |Test unit written|ParseDictionaryFile" "$log" | head -6 || true
    failed+=("$t")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "== fuzz smoke FAILED: ${failed[*]}"
  exit 1
fi
echo "== fuzz smoke passed (${#targets[@]} targets, ${seconds} s each)"
