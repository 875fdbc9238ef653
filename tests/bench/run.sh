#!/usr/bin/env bash
# `make bench`: the figures BENCHMARKS.md records, each printed with the
# command that produced it. Wall-clock figures vary on a shared machine;
# compare them within one run, not across runs.
set -euo pipefail
cd "$(dirname "$0")/../.."
TCPBED=build/tcpbed

echo "== memory per TCP connection (issue 3)"
echo "\$ build/bench_memory"
build/bench_memory

echo
echo "== simulator speed: lossless TCP bulk, 100 Mbit/s, 10 ms one way"
for bytes in 50000000; do
  echo "\$ $TCPBED sim bulk --bytes $bytes --seed 3 --json"
  for run in 1 2 3; do
    "$TCPBED" sim bulk --bytes "$bytes" --seed 3 --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
w = d["wall_time_s"]
print("run %s: %d packets, %d events, %.3f s wall, %.0f packets/s, %.0f events/s, %.1f x real time" % (
    sys.argv[1], d["packets"], d["events"], w, d["packets"] / w, d["events"] / w, d["sim_time_ns"] / 1e9 / w))
' "$run"
  done
done

if command -v valgrind >/dev/null; then
  echo
  echo "== instructions per simulated packet (callgrind: stable on a noisy machine)"
  echo "\$ valgrind --tool=callgrind $TCPBED sim bulk --bytes 5000000 --seed 3 --json"
  out=$(mktemp -d)
  valgrind --tool=callgrind --callgrind-out-file="$out/cg.out" "$TCPBED" sim bulk --bytes 5000000 --seed 3 --json \
    >"$out/run.json" 2>"$out/vg.log"
  python3 - "$out/run.json" "$out/cg.out" <<'PY'
import json, re, sys
d = json.load(open(sys.argv[1]))
total = 0
for line in open(sys.argv[2]):
    m = re.match(r"summary: (\d+)", line) or re.match(r"totals: (\d+)", line)
    if m: total = int(m.group(1))
print("%d instructions, %d packets: %.0f instructions per packet" % (total, d["packets"], total / d["packets"]))
PY
  echo "profile: callgrind_annotate $out/cg.out | head -30"
  callgrind_annotate "$out/cg.out" 2>/dev/null | grep -E '^ *[0-9,]+ \(' | sed -n 1,12p || true
fi

if [ -x fuzz/bench.sh ]; then
  echo
  echo "== fuzzing: executions per second per target and engine (issue 6)"
  bash fuzz/bench.sh
fi
