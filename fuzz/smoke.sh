#!/usr/bin/env bash
# Fuzzing in CI (`make test` runs this; `make fuzz-smoke` alone):
#   1. installs the fuzzing packages (harness/deps.sh fuzz) — a missing
#      package is a failure, never a skip;
#   2. builds every target for every engine (libFuzzer, AFL++ with and
#      without sanitizers, the ASan+UBSan replay driver);
#   3. replays every corpus file and every saved crash reproducer
#      (fuzz/regressions/TARGET/*) under ASan+UBSan;
#   4. runs a short libFuzzer campaign per target (FUZZ_SMOKE_SECONDS,
#      default 20) that fails on any crash, leak or timeout;
#   5. if `tcpbed fuzz-to-pcap` is wired into build/tcpbed, turns a stack and
#      a faults input into pcaps.
# Prints "ok"/"FAIL" per check and, last, "fuzz: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."

passed=0
failed=0
ok() {
  passed=$((passed + 1))
  echo "ok   $1"
}
bad() {
  failed=$((failed + 1))
  echo "FAIL $1"
  if [ -n "${2:-}" ]; then sed 's/^/    /' <<<"$2" | tail -"${3:-25}"; fi
}
finish() {
  echo "fuzz: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit $?
}

seconds=${FUZZ_SMOKE_SECONDS:-20}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# 1. packages
if out=$(bash harness/deps.sh fuzz 2>&1); then
  ok "packages for fuzzing installed ($(tail -1 <<<"$out"))"
else
  bad "packages for fuzzing could not be installed (bash harness/deps.sh fuzz)" "$out"
  finish
fi
for tool in clang-14 afl-clang-fast afl-fuzz; do
  if ! command -v "$tool" >/dev/null; then
    bad "$tool is not on PATH after harness/deps.sh fuzz"
    finish
  fi
done

# 2. builds
mkdir -p build/fuzz
for engine in replay libfuzzer afl afl-plain; do
  if out=$(make --no-print-directory -j"$(nproc)" fuzz-build-"$engine" 2>&1); then
    ok "build: every fuzz target for $engine"
  else
    bad "build: fuzz targets for $engine" "$(grep -E 'error|Error' <<<"$out" | head -20)"
  fi
done
[ "$failed" -eq 0 ] || finish

# 3. corpus and regression replay under ASan+UBSan
for t in wire stack faults check runlog http; do
  n=$(find "fuzz/corpus/$t" -type f | wc -l)
  if out=$(timeout 600 build/fuzz/replay/"$t" "fuzz/corpus/$t" 2>&1); then
    ok "replay: $n corpus input(s) of $t"
  else
    bad "replay: corpus of $t" "$out"
  fi
  for f in fuzz/regressions/"$t"/*; do
    [ -f "$f" ] || continue
    case "$f" in *.md | *.txt) continue ;; esac
    if out=$(timeout 120 build/fuzz/replay/"$t" "$f" 2>&1); then   # a saved hang must fail, not hang make test
      ok "regression: $f"
    else
      bad "regression: $f" "$out" 12
    fi
  done
done

# 4. smoke campaigns
mkdir -p build/fuzz/smoke
for t in wire stack faults check runlog http; do
  work=build/fuzz/smoke/$t
  rm -rf "$work" "$work.art"
  mkdir -p "$work" "$work.art"
  cp fuzz/corpus/"$t"/* "$work"/
  timeout_s=$([ "$t" = faults ] && echo 30 || echo 5)
  log=build/fuzz/smoke/$t.log
  build/fuzz/libfuzzer/"$t" -max_total_time="$seconds" -timeout="$timeout_s" -dict="fuzz/dict/$t.dict" \
    -artifact_prefix="$work.art/" -print_final_stats=1 "$work" >"$log" 2>&1
  rc=$?
  rate=$(grep -oE 'stat::average_exec_per_sec: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
  execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
  arts=$(find "$work.art" -type f | wc -l)
  if [ "$rc" -eq 0 ] && [ "$arts" -eq 0 ]; then
    ok "smoke: $t under libFuzzer for ${seconds}s (${execs:-?} execs, ${rate:-?} execs/s)"
  else
    mkdir -p "build/fuzz/findings/$t"
    cp "$work.art"/* "build/fuzz/findings/$t/" 2>/dev/null
    bad "smoke: $t under libFuzzer found a crash (kept in build/fuzz/findings/$t/: $(ls "$work.art" | tr '\n' ' '))" \
      "$(grep -E '^(==[0-9]+==|SUMMARY|    #[0-9]+ |[a-z]+: property violated|reproduce with|tcpbed: assertion)' "$log" | head -30)" 30
  fi
done

# 5. fuzz-to-pcap, once the command is wired into the CLI
if build/tcpbed fuzz-to-pcap --help >/dev/null 2>&1; then
  for t in stack faults; do
    in=$(find "fuzz/corpus/$t" -type f | sort | head -1)
    pcap=build/fuzz/smoke/$t.pcap
    rm -f "$pcap"
    if out=$(build/tcpbed fuzz-to-pcap "$in" --target "$t" --out "$pcap" 2>&1) && [ -s "$pcap" ]; then
      ok "fuzz-to-pcap: $in -> $pcap"
    else
      bad "fuzz-to-pcap: $in" "$out"
    fi
  done
fi

finish
