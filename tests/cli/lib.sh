# Shared by the command-line test scripts (source it): pass/fail counters and
# the checks. Each script ends with `echo "NAME: $pass passed, $fail failed"`,
# the line tests/run.sh reads.
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
# bad NAME [OUTPUT]: a failure, with up to 40 lines of the output indented.
bad() { fail=$((fail + 1)); echo "FAIL $1"; [ -n "${2:-}" ] && sed 's/^/    /' <<<"$2" | head -40; }
# expect NAME EXPECTED_RC COMMAND...: the exit status must be EXPECTED_RC.
expect() {
  local name=$1 want=$2 out rc
  shift 2
  out=$("$@" 2>&1)
  rc=$?
  LAST_OUT=$out
  if [ "$rc" -eq "$want" ]; then ok "$name"; else bad "$name (exit $rc, wanted $want)" "$out"; fi
}
# contains NAME TEXT: the last command's output contains TEXT.
contains() { if grep -qF -- "$2" <<<"$LAST_OUT"; then ok "$1"; else bad "$1: no '$2' in output" "$LAST_OUT"; fi; }
