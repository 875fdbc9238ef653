#!/usr/bin/env bash
# Execs per second of every fuzz target under every engine on this machine
# (`make bench` runs it after the other benchmarks; `make fuzz-bench` alone).
#   FUZZ_BENCH_SECONDS   seconds per target and engine (default 10)
#   FUZZ_BENCH_ENGINES   default "libfuzzer afl afl-plain"
# Each run starts from the seed corpus in fuzz/corpus/TARGET, one core.
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_BENCH_SECONDS:-10}
engines=${FUZZ_BENCH_ENGINES:-libfuzzer afl afl-plain}

bash harness/deps.sh fuzz >/dev/null || {
  echo "fuzz bench: harness/deps.sh fuzz failed" >&2
  exit 1
}
mkdir -p build/fuzz   # a fresh clone has no build/ yet
for e in $engines; do
  make --no-print-directory -j"$(nproc)" fuzz-build-"$e" >/dev/null 2>build/fuzz-bench-build.log || {
    echo "fuzz bench: building the $e targets failed (build/fuzz-bench-build.log)" >&2
    exit 1
  }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
declare -A rate
for t in wire stack faults check runlog http; do
  for e in $engines; do
    if [ "$e" = libfuzzer ]; then
      mkdir -p "$work/lf-$t"
      cp fuzz/corpus/"$t"/* "$work/lf-$t/"
      build/fuzz/libfuzzer/"$t" -max_total_time="$seconds" -timeout=30 -dict="fuzz/dict/$t.dict" \
        -artifact_prefix="$work/" -print_final_stats=1 "$work/lf-$t" >"$work/lf-$t.log" 2>&1
      r=$(grep -oE 'stat::average_exec_per_sec: *[0-9]+' "$work/lf-$t.log" | grep -oE '[0-9]+$' | tail -1)
    else
      AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1 AFL_SKIP_CRASHES=1 \
        afl-fuzz -i fuzz/corpus/"$t" -o "$work/afl-$e-$t" -x "fuzz/dict/$t.dict" -t 30000 -m none -V "$seconds" \
        -- build/fuzz/"$e"/"$t" >"$work/afl-$e-$t.log" 2>&1
      r=$(awk -F: '/^execs_per_sec/ {gsub(/ /, "", $2); print int($2)}' "$work/afl-$e-$t"/default/fuzzer_stats 2>/dev/null)
    fi
    rate[$t,$e]=${r:-failed}
  done
done

printf '\nfuzz targets, execs/s (%s s each, one core, %s)\n' "$seconds" "$(uname -m)"
printf '%-8s' target
for e in $engines; do printf ' %14s' "$e"; done
printf '\n'
for t in wire stack faults check runlog http; do
  printf '%-8s' "$t"
  for e in $engines; do printf ' %14s' "${rate[$t,$e]}"; done
  printf '\n'
done
printf '(libfuzzer: clang-14 -fsanitize=fuzzer,address,undefined; afl: afl-clang-fast persistent mode + ASan/UBSan; afl-plain: no sanitizers)\n'
