# Shared by the CLI test scripts: `fail` counts a failure, `expect CODE FRAGMENT command...`
# runs a command and checks its exit status and that stdout or stderr says FRAGMENT.
# The caller sets `tmp` (a scratch directory) and `failures=0`.

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

expect() {
  local code=$1 fragment=$2
  shift 2
  "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  [ "$got" -eq "$code" ] || fail "$* exited $got, expected $code; stderr: $(head -c 400 "$tmp/err")"
  if [ -n "$fragment" ] && ! grep -qF -- "$fragment" "$tmp/err" "$tmp/out"; then
    fail "$* did not say '$fragment'; stderr: $(head -c 400 "$tmp/err")"
  fi
}
