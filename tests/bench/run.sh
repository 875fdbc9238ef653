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

echo
echo "== the reference scenario (issue 4): 100 Mbit/s, 10 ms, 1 % loss on the data direction, NewReno, MSS 1448, 20 s"
echo "   ns-3 3.37 runs the same at about 50,000 simulated packets per wall second on this machine"
REF=(sim bulk --duration 20s --loss 'A>B:0.01' --mss 1448 --cc newreno)
echo "\$ $TCPBED ${REF[*]} --seed S --json"
for run in 1 2 3 4 5; do
  "$TCPBED" "${REF[@]}" --seed "$run" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
w = d["wall_time_s"]
print("seed %s: %d packets, %d events, %.3f s wall: %.0f packets/s (%.1f x ns-3), %.0f events/s, integrity %s" % (
    sys.argv[1], d["packets"], d["events"], w, d["packets"] / w, d["packets"] / w / 50000, d["events"] / w, d["integrity"]))
' "$run"
done

echo
echo "== goodput against the Mathis model (issue 5): NewReno + SACK, 60 s, loss p on the data direction"
echo "   model = MSS/RTT * sqrt(3/2) / sqrt(p), RTT = 20 ms"
for p in 0.001 0.005 0.01 0.02 0.05; do
  echo "\$ $TCPBED sim bulk --duration 60s --loss 'A>B:$p' --seed 1 --json"
  "$TCPBED" sim bulk --duration 60s --loss "A>B:$p" --seed 1 --json | python3 -c '
import json, math, sys
d = json.load(sys.stdin); p = float(sys.argv[1]); a = d["conn"]["A"]
model = a["mss_bytes"] * 8 / 0.020 * math.sqrt(1.5) / math.sqrt(p)
print("p = %-5s goodput %6.2f Mbit/s, model %6.2f Mbit/s, ratio %.2f (fast retransmits %d, RTOs %d, TLPs %d)" % (
    sys.argv[1], d["goodput_bps"] / 1e6, model / 1e6, d["goodput_bps"] / model, d["fast_retransmits"],
    d["rto_timeouts"], d["tlp_probes"]))
' "$p"
done

echo
echo "== dumbbell scale (issue 9): wall time and peak memory grow linearly with pairs"
for pairs in 10 100 1000; do
  echo "\$ /usr/bin/time -f '%e s wall, %M KB peak' $TCPBED sim dumbbell --pairs $pairs --workload bulk --bytes 100K"
  /usr/bin/time -f "pairs $pairs: %e s wall, %M KB peak RSS" "$TCPBED" sim dumbbell --pairs "$pairs" --workload bulk \
    --bytes 100K 2>&1 >/dev/null | tail -1
done

echo
echo "== the conformance suite in virtual time (issue 11): scripts per wall second, virtual seconds per wall second"
echo "\$ $TCPBED check --json tests/conformance"
for run in 1 2 3 4 5; do
  "$TCPBED" check --json tests/conformance | python3 -c '
import json, sys
d = json.load(sys.stdin)
s = d["scripts"]
w = sum(x["wall_time_s"] for x in s)
v = sum(x["virtual_time_s"] for x in s)
slow = max(s, key=lambda x: x["wall_time_s"])
print("run %s: %d scripts (%d passed), %.1f virtual s in %.4f wall s: %.0f scripts/s, %.0f x real time; slowest %s %.2f ms" % (
    sys.argv[1], len(s), d["passed"], v, w, len(s) / w, v / w, slow["file"], slow["wall_time_s"] * 1e3))
' "$run"
done
if command -v valgrind >/dev/null; then
  out=$(mktemp -d)
  echo "\$ valgrind --tool=callgrind $TCPBED check tests/conformance"
  valgrind --tool=callgrind --callgrind-out-file="$out/cg.out" "$TCPBED" check tests/conformance >"$out/run.txt" 2>"$out/vg.log"
  python3 - "$out/cg.out" "$out/run.txt" <<'PY'
import re, sys
total = 0
for line in open(sys.argv[1]):
    m = re.match(r"summary: (\d+)", line) or re.match(r"totals: (\d+)", line)
    if m: total = int(m.group(1))
n = sum(1 for l in open(sys.argv[2]) if l.startswith(("ok ", "FAIL ", "skip ")))
print("%d instructions, %d scripts: %.0f instructions per script" % (total, n, total / n))
PY
  rm -rf "$out"
fi

# Instructions per packet under callgrind; extra arguments are added to the
# reference command (the fault log makes every link name every frame).
callgrind_per_packet() {
  local out
  out=$(mktemp -d)
  echo "\$ valgrind --tool=callgrind $TCPBED ${REF[*]} --seed 1 --json $*"
  valgrind --tool=callgrind --callgrind-out-file="$out/cg.out" "$TCPBED" "${REF[@]}" --seed 1 --json "$@" \
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
  echo "profile (callgrind_annotate):"
  callgrind_annotate "$out/cg.out" 2>/dev/null | grep -E '^ *[0-9,]+ \(' | sed -n 1,14p || true
  rm -rf "$out"
}

if command -v valgrind >/dev/null; then
  echo
  echo "== instructions per simulated packet, reference scenario (callgrind: stable on a noisy machine)"
  callgrind_per_packet
  echo
  echo "== the same with every frame classified (issue 10: the fault stage names frames only when asked)"
  callgrind_per_packet --fault-log /dev/null
fi

echo
echo "== tcpbed on a TAP device against the Linux kernel, and the kernel against itself (issue 12; root)"
echo "\$ bash tests/bench/tap.sh $TCPBED 500M"
bash tests/bench/tap.sh "$TCPBED" 500M || true

if [ -x fuzz/bench.sh ]; then
  echo
  echo "== fuzzing: executions per second per target and engine (issue 6)"
  bash fuzz/bench.sh
fi
