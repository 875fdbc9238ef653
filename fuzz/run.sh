#!/usr/bin/env bash
# One headless fuzzing campaign (`make fuzz TARGET=... ENGINE=... SECONDS=...`).
#
#   fuzz/run.sh TARGET ENGINE SECONDS
#     TARGET   wire | stack | faults
#     ENGINE   libfuzzer | afl | afl-plain
#
# Seeds: fuzz/corpus/TARGET. What the campaign learns is kept in
# build/fuzz/corpus/TARGET (libFuzzer) or build/fuzz/afl-out/TARGET (AFL++),
# crashes are copied to build/fuzz/findings/TARGET/. Ends with one line:
#   fuzz: TARGET/ENGINE: S s, N execs, R execs/s, F finding(s) in DIR
# and exits 1 when there are findings.
#
# Environment: FUZZ_JOBS=n runs n libFuzzer workers (-fork) or one AFL++ main
# and n-1 secondaries (-M/-S) on one synced output directory;
# FUZZ_TIMEOUT_MS (default: 2000 for wire and stack, 20000 for faults);
# FUZZ_AFL_OUT instead of build/fuzz/afl-out (AFL++ empties TARGET/ there).
set -uo pipefail
cd "$(dirname "$0")/.."

target=${1:-wire}
engine=${2:-libfuzzer}
seconds=${3:-60}
jobs=${FUZZ_JOBS:-1}
case "$target" in wire | stack | faults | check) ;; *)
  echo "fuzz: TARGET must be wire, stack, faults or check, got '$target'" >&2
  exit 2
  ;;
esac
case "$engine" in libfuzzer | afl | afl-plain) ;; *)
  echo "fuzz: ENGINE must be libfuzzer, afl or afl-plain, got '$engine'" >&2
  exit 2
  ;;
esac
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
  echo "fuzz: SECONDS must be a positive number of seconds, got '$seconds'" >&2
  exit 2
fi
timeout_ms=${FUZZ_TIMEOUT_MS:-$([ "$target" = faults ] && echo 20000 || echo 2000)}

bin=build/fuzz/$engine/$target
mkdir -p build/fuzz   # a fresh clone has no build/ yet
make --no-print-directory -j"$(nproc)" "$bin" >build/fuzz-build.log 2>&1 || {
  echo "fuzz: building $bin failed; the last lines of build/fuzz-build.log:" >&2
  tail -20 build/fuzz-build.log >&2
  exit 1
}

seeds=fuzz/corpus/$target
dict=fuzz/dict/$target.dict
findings=build/fuzz/findings/$target
mkdir -p "$findings"
before=$(find "$findings" -type f | wc -l)
start=$(date +%s)

if [ "$engine" = libfuzzer ]; then
  corpus=build/fuzz/corpus/$target
  mkdir -p "$corpus"
  log=build/fuzz/libfuzzer-$target.log
  args=(-max_total_time="$seconds" -timeout=$((timeout_ms / 1000 + 1)) -dict="$dict"
    -artifact_prefix="$findings/" -print_final_stats=1)
  if [ "$jobs" -gt 1 ]; then args+=(-fork="$jobs" -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1); fi
  echo "fuzz: $bin ${args[*]} $corpus $seeds"
  "$bin" "${args[@]}" "$corpus" "$seeds" >"$log" 2>&1
  rc=$?
  grep -E '^(==|SUMMARY|[a-z]+: property violated|reproduce with)' "$log" | head -20
  execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
  [ -z "$execs" ] && execs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
  rate=$(grep -oE 'stat::average_exec_per_sec: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
  [ -z "$rate" ] && rate=$(grep -oE 'exec/s: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+$')
  if [ "$rc" -ne 0 ] && [ "$(find "$findings" -type f | wc -l)" -eq "$before" ]; then
    echo "fuzz: libFuzzer exited $rc without a finding; the last lines of $log:" >&2
    tail -20 "$log" >&2
    exit 1
  fi
else
  if ! command -v afl-fuzz >/dev/null; then
    echo "fuzz: afl-fuzz is missing (bash harness/deps.sh fuzz installs afl++)" >&2
    exit 1
  fi
  out=${FUZZ_AFL_OUT:-build/fuzz/afl-out}/$target
  rm -rf "$out"
  mkdir -p "$out"
  export AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1
  export AFL_SKIP_CRASHES=1
  # AFL++ refuses sanitizer options it cannot work with (make test exports
  # its own): abort so AFL++ sees a crash, no symbolizer, no leak check.
  export ASAN_OPTIONS=abort_on_error=1:symbolize=0:detect_leaks=0:allocator_may_return_null=1
  export UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:symbolize=0:print_stacktrace=0
  pids=()
  for ((i = 0; i < jobs; i++)); do
    if [ "$jobs" -gt 1 ]; then
      role=$([ "$i" -eq 0 ] && echo "-M main" || echo "-S sec$i")
    else
      role="-M main"
    fi
    # shellcheck disable=SC2086
    afl-fuzz -i "$seeds" -o "$out" $role -x "$dict" -t "$timeout_ms" -m none -V "$seconds" -- "$bin" \
      >"build/fuzz/afl-$target-$i.log" 2>&1 &
    pids+=($!)
  done
  rc=0
  for p in "${pids[@]}"; do wait "$p" || rc=$?; done
  if [ ! -f "$out/main/fuzzer_stats" ]; then
    echo "fuzz: afl-fuzz did not start; the last lines of build/fuzz/afl-$target-0.log:" >&2
    tail -30 "build/fuzz/afl-$target-0.log" >&2
    exit 1
  fi
  execs=0
  rate=0
  for stats in "$out"/*/fuzzer_stats; do
    e=$(awk -F: '/^execs_done/ {gsub(/ /, "", $2); print $2}' "$stats")
    r=$(awk -F: '/^execs_per_sec/ {gsub(/ /, "", $2); print int($2)}' "$stats")
    execs=$((execs + ${e:-0}))
    rate=$((rate + ${r:-0}))
  done
  for c in "$out"/*/crashes/id:*; do
    [ -e "$c" ] || continue
    inst=$(basename "$(dirname "$(dirname "$c")")")
    cp "$c" "$findings/afl-$inst-$(basename "$c" | cut -d, -f1 | tr ':' '-')-$(sha1sum "$c" | cut -c1-12)"
  done
fi

elapsed=$(($(date +%s) - start))
found=$(($(find "$findings" -type f | wc -l) - before))
echo "fuzz: $target/$engine: ${elapsed} s, ${execs:-0} execs, ${rate:-0} execs/s, $found finding(s) in $findings/"
if [ "$found" -gt 0 ]; then
  echo "fuzz: replay one with: build/fuzz/replay/$target FILE (make fuzz-build ENGINE=replay)"
  if [ "$target" != wire ]; then echo "fuzz: see it in Wireshark: build/tcpbed fuzz-to-pcap FILE --target $target"; fi
  exit 1
fi
exit 0
