#!/usr/bin/env bash
# `make test`: every unit test in the plain and the ASan+UBSan build, then the
# CLI tests and the core's purity checks. Ends with "tests: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."

passed=0
failed=0
failures=()

# A cmocka binary: count its test cases from its own summary lines.
run_unit() {
  local bin=$1 out
  out=$("$bin" 2>&1)
  local rc=$?
  local ok bad
  ok=$(grep -oE '^\[  PASSED  \] [0-9]+' <<<"$out" | grep -oE '[0-9]+$' || true)
  bad=$(grep -oE '^\[  FAILED  \] [0-9]+ test' <<<"$out" | grep -oE '[0-9]+' || true)
  ok=${ok:-0}
  bad=${bad:-0}
  if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then bad=1; fi   # crashed or sanitizer abort
  passed=$((passed + ok))
  failed=$((failed + bad))
  if [ "$bad" -ne 0 ]; then
    failures+=("$bin")
    echo "FAIL $bin"
    tail -40 <<<"$out" | sed 's/^/    /'
  else
    echo "ok   $bin ($ok tests)"
  fi
}

# A script of checks that prints its own "N passed, M failed" line last.
run_script() {
  local name=$1
  shift
  local out rc
  out=$("$@" 2>&1)
  rc=$?
  local line ok bad
  line=$(grep -E '^[a-z-]+: [0-9]+ passed, [0-9]+ failed$' <<<"$out" | tail -1)
  ok=$(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+' || echo 0)
  bad=$(grep -oE '[0-9]+ failed' <<<"$line" | grep -oE '[0-9]+' || echo 0)
  ok=${ok:-0}
  bad=${bad:-0}
  if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then bad=1; fi
  passed=$((passed + ok))
  failed=$((failed + bad))
  if [ "$bad" -ne 0 ]; then
    failures+=("$name")
    echo "FAIL $name"
    grep -E '^(FAIL|    )' <<<"$out" | head -60
    [ -z "$line" ] && tail -20 <<<"$out" | sed 's/^/    /'
  else
    echo "ok   $name ($ok checks)"
  fi
}

echo "== unit tests (build/tests)"
for t in build/tests/test_*; do run_unit "$t"; done
echo "== unit tests under ASan+UBSan (build/asan/tests)"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for t in build/asan/tests/test_*; do run_unit "$t"; done
echo "== command-line tests"
run_script cli bash tests/cli/test_cli.sh build/tcpbed
run_script cli-asan bash tests/cli/test_cli.sh build/asan/tcpbed
run_script check bash tests/cli/test_check.sh build/tcpbed
run_script check-asan bash tests/cli/test_check.sh build/asan/tcpbed
run_script cli-topo bash tests/cli/test_topo.sh build/tcpbed
echo "== packetdrill plug-in: our loader drives libtcpbed-packetdrill.so as packetdrill would"
run_script packetdrill-so bash tests/packetdrill/test_so.sh build/libtcpbed-packetdrill.so build/tests/so_loader
run_script packetdrill-so-asan bash tests/packetdrill/test_so.sh build/asan/libtcpbed-packetdrill.so build/asan/tests/so_loader
echo "== adversarial workloads: both ends sending, faults both ways, odd MSS"
run_script adversarial bash tests/cli/test_adversarial.sh build/tcpbed
echo "== record and replay: run-logs of lossy runs replay identically; edited ones name their first divergence"
run_script replay bash tests/cli/test_replay.sh build/tcpbed
run_script replay-asan bash tests/cli/test_replay.sh build/asan/tcpbed
if [ -x fuzz/smoke.sh ]; then
  echo "== fuzzing: corpus and crash replay under ASan+UBSan, smoke campaigns"
  run_script fuzz bash fuzz/smoke.sh
fi
echo "== interop: Linux <-> Linux through tcpbed wire (root; namespaces the test makes and removes)"
run_script interop-wire bash tests/interop/test_wire.sh build/tcpbed
run_script interop-wire-asan bash tests/interop/test_wire.sh build/asan/tcpbed
echo "== interop: tcpbed on a TAP against the Linux kernel, curl and wrk; impaired paths; record and replay (root)"
run_script interop-tap bash tests/interop/test_tap.sh build/tcpbed
# The same under ASan+UBSan, with smaller transfers (the sanitizers cost ~5x).
run_script interop-tap-asan env TAP_BIG=10M TAP_IMPAIRED=3M bash tests/interop/test_tap.sh build/asan/tcpbed
echo "== documentation: every tcpbed command in README.md and docs/ runs as the text says"
run_script docs bash tests/cli/test_docs.sh build/tcpbed
echo "== purity of stack/"
run_script purity bash tests/check_purity.sh build/libtcpbed.a
run_script arrows bash tests/check_arrows.sh

echo
if [ "$failed" -ne 0 ]; then echo "failed: ${failures[*]}"; fi
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
