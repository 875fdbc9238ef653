#!/usr/bin/env bash
# Long AFL++ campaigns, one target after another (`make fuzz-long`).
#
#   fuzz/long.sh SECONDS [TARGET...]     default: 1800 s each for wire stack faults check runlog http
#
# Each target runs for SECONDS under AFL++ with ASan+UBSan
# (build/fuzz/afl/TARGET) as FUZZ_JOBS instances (default: one per CPU):
# one main (-M main) and FUZZ_JOBS-1 secondaries (-S secN) on one sync
# directory, build/fuzz/long/TARGET/, so every core works on the same target
# and they share what they find. Seeds: fuzz/corpus/TARGET; dictionary:
# fuzz/dict/TARGET.dict. Then:
#   - every crash and hang of every instance is copied, once per content,
#     into fuzz/regressions/TARGET/ as afl-crash-<sha1:12> or
#     afl-hang-<sha1:12> (make test replays those files; rename each one
#     after what it found and add it to docs/fuzzing.md, "Findings");
#   - each is replayed with build/fuzz/replay/TARGET (ASan+UBSan) and the
#     first line of its report goes into the summary;
#   - build/fuzz/long/TARGET/summary.txt holds the figures from AFL++'s
#     fuzzer_stats (execs_per_sec summed over instances, execs_done,
#     edges_found, bitmap_cvg, corpus_count, saved_crashes, saved_hangs).
# The last lines (also in build/fuzz/long/summary.txt) are one line per target:
#   fuzz-long: TARGET: S s x N instances, E execs, R execs/s, edges X (C% of the map), corpus Q, crashes K, hangs H
# Exit status 1 when any target found a crash or hang, 2 for a usage error.
#
# Environment: FUZZ_JOBS (instances per target), FUZZ_TIMEOUT_MS (per
# execution; default 2000 for wire and stack, 20000 for faults; slower runs
# are hangs), FUZZ_LONG_DIR (instead of build/fuzz/long: each target's
# directory is emptied when its campaign starts).
set -uo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-1800}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(wire stack faults check runlog http)
jobs=${FUZZ_JOBS:-$(nproc)}
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
  echo "fuzz-long: SECONDS must be a positive number of seconds, got '$seconds'" >&2
  exit 2
fi
if ! [[ "$jobs" =~ ^[0-9]+$ ]] || [ "$jobs" -lt 1 ]; then
  echo "fuzz-long: FUZZ_JOBS must be a positive number, got '$jobs'" >&2
  exit 2
fi
for t in "${targets[@]}"; do
  case "$t" in wire | stack | faults | check | runlog | http) ;; *)
    echo "fuzz-long: TARGETS must name wire, stack, faults, check, runlog or http, got '$t'" >&2
    exit 2
    ;;
  esac
done
if ! command -v afl-fuzz >/dev/null; then
  echo "fuzz-long: afl-fuzz is missing (bash harness/deps.sh fuzz installs afl++)" >&2
  exit 1
fi

long=${FUZZ_LONG_DIR:-build/fuzz/long}
mkdir -p "$long"
bins=()
for t in "${targets[@]}"; do bins+=("build/fuzz/afl/$t" "build/fuzz/replay/$t"); done
echo "fuzz-long: building ${bins[*]}"
make --no-print-directory -j"$(nproc)" "${bins[@]}" >"$long/build.log" 2>&1 || {
  echo "fuzz-long: building failed; the last lines of $long/build.log:" >&2
  tail -20 "$long/build.log" >&2
  exit 1
}

export AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1 AFL_SKIP_CRASHES=1
# What AFL++ needs from the sanitizers: abort (a crash it can see), no symbolizer.
export ASAN_OPTIONS=abort_on_error=1:symbolize=0:detect_leaks=0:allocator_may_return_null=1
export UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:symbolize=0:print_stacktrace=0

# stat FILE KEY: one value of an AFL++ fuzzer_stats file.
stat() { awk -F: -v k="$1" '$1 ~ "^"k" *$" {gsub(/^ +| +$/, "", $2); print $2}' "$2"; }

# signature TARGET FILE: what the replay driver reports for FILE, in one line
# (the sanitizer's error kind and the first frame, or the property or
# assertion message), or nothing when it replays cleanly.
signature() {
  local rep kind frame
  rep=$(ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    timeout 120 "build/fuzz/replay/$1" "$2" 2>&1)
  [ $? -eq 0 ] && return
  kind=$(grep -m1 -oE '(AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer): [A-Za-z-]+|runtime error: .*|property violated: .*|assertion .*' <<<"$rep")
  frame=$(grep -m1 -E '^ +#[0-9]+ .* in ' <<<"$rep" | sed -E 's/^ +#[0-9]+ 0x[0-9a-f]+ in //; s| '"$PWD"'/| |')
  echo "${kind:-$(grep -m1 . <<<"$rep")}${frame:+ in $frame}"
}

lines=()
total_findings=0
for t in "${targets[@]}"; do
  out=$long/$t
  rm -rf "$out"
  mkdir -p "$out" "fuzz/regressions/$t"
  timeout_ms=${FUZZ_TIMEOUT_MS:-$([ "$t" = faults ] && echo 20000 || echo 2000)}
  echo "fuzz-long: $t: $seconds s, $jobs instance(s) of build/fuzz/afl/$t (ASan+UBSan), sync dir $out"
  pids=()
  for ((i = 0; i < jobs; i++)); do
    if [ "$i" -eq 0 ]; then role=(-M main); else role=(-S "sec$i"); fi
    # A wall-clock guard over -V, in case an instance never gets going.
    timeout -k 30 $((seconds + 300)) \
      afl-fuzz -i "fuzz/corpus/$t" -o "$out" "${role[@]}" -x "fuzz/dict/$t.dict" -t "$timeout_ms" -m none \
      -V "$seconds" -- "build/fuzz/afl/$t" >"$out/afl-$i.log" 2>&1 &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
  if [ ! -f "$out/main/fuzzer_stats" ]; then
    echo "fuzz-long: $t: afl-fuzz did not start; the last lines of $out/afl-0.log:" >&2
    tail -30 "$out/afl-0.log" >&2
    lines+=("fuzz-long: $t: afl-fuzz did not start (see $out/afl-0.log)")
    total_findings=$((total_findings + 1))
    continue
  fi

  execs=0 rate=0 crashes=0 hangs=0 edges=0 cvg=0 corpus=0 instances=0 total_edges=0
  for stats in "$out"/*/fuzzer_stats; do
    instances=$((instances + 1))
    e=$(stat execs_done "$stats")
    r=$(stat execs_per_sec "$stats")
    c=$(stat saved_crashes "$stats")
    h=$(stat saved_hangs "$stats")
    ed=$(stat edges_found "$stats")
    te=$(stat total_edges "$stats")
    bc=$(stat bitmap_cvg "$stats" | tr -d '%')
    q=$(stat corpus_count "$stats")
    execs=$((execs + ${e:-0}))
    rate=$(awk -v a="$rate" -v b="${r:-0}" 'BEGIN {print a + b}')
    crashes=$((crashes + ${c:-0}))
    hangs=$((hangs + ${h:-0}))
    # The instances share their queues: coverage is the best of them.
    [ "${ed:-0}" -gt "$edges" ] && edges=${ed:-0}
    [ "${te:-0}" -gt "$total_edges" ] && total_edges=${te:-0}
    cvg=$(awk -v a="$cvg" -v b="${bc:-0}" 'BEGIN {print (b > a) ? b : a}')
    [ "${q:-0}" -gt "$corpus" ] && corpus=${q:-0}
  done
  rate=$(awk -v r="$rate" 'BEGIN {printf "%d", r}')

  # Every crash and hang becomes a regression file (once per content).
  new=0
  details=()
  sigs=()
  for f in "$out"/*/crashes/id:* "$out"/*/hangs/id:*; do
    [ -f "$f" ] || continue
    kind=$([[ "$f" == */crashes/* ]] && echo crash || echo hang)
    sum=$(sha1sum "$f" | cut -c1-40)
    dup=""
    for g in fuzz/regressions/"$t"/*; do
      [ -f "$g" ] || continue
      if [ "$(sha1sum "$g" | cut -c1-40)" = "$sum" ]; then dup=$g; break; fi
    done
    if [ -n "$dup" ]; then
      details+=("  $kind $f: already in $dup")
      continue
    fi
    dest=fuzz/regressions/$t/afl-$kind-${sum:0:12}
    cp "$f" "$dest"
    new=$((new + 1))
    why=$(signature "$t" "$dest")
    details+=("  $kind -> $dest: ${why:-replays without a failure (a hang, or AFL++-only)}")
    sigs+=("${why:-replays without a failure}")
  done
  total_findings=$((total_findings + crashes + hangs))
  if [ ${#sigs[@]} -gt 0 ]; then
    details+=("  new files by failure (replayed under ASan+UBSan):")
    while IFS= read -r l; do details+=("    $l"); done < <(printf '%s\n' "${sigs[@]}" | sort | uniq -c | sort -rn)
  fi

  line="fuzz-long: $t: $seconds s x $instances instances, $execs execs, $rate execs/s, edges $edges"
  line+=" ($cvg% of the map), corpus $corpus, crashes $crashes, hangs $hangs"
  lines+=("$line")
  {
    echo "target: $t"
    echo "engine: afl (afl-clang-fast, ASan+UBSan, persistent mode)"
    echo "seconds: $seconds"
    roles=main
    for ((i = 1; i < instances; i++)); do roles+=", sec$i"; done
    echo "instances: $instances ($roles)"
    echo "execs_done: $execs"
    echo "execs_per_sec: $rate"
    echo "edges_found: $edges"
    echo "total_edges: $total_edges"
    echo "bitmap_cvg: $cvg%"
    echo "corpus_count: $corpus"
    echo "saved_crashes: $crashes"
    echo "saved_hangs: $hangs"
    echo "new_regression_files: $new"
    for d in "${details[@]}"; do echo "$d"; done
  } >"$out/summary.txt"
  cat "$out/summary.txt"
done

printf '%s\n' "${lines[@]}" >"$long/summary.txt"
echo
cat "$long/summary.txt"
if [ "$total_findings" -gt 0 ]; then
  echo "fuzz-long: findings are in fuzz/regressions/<target>/ (make test replays them); replay one with build/fuzz/replay/<target> FILE"
  exit 1
fi
exit 0
