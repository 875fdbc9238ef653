#!/usr/bin/env bash
# Writes the reference pcaps of issue 10 ("behaviour does not change") into
# DIR, one file per command, plus SHA256SUMS. Run it with two builds and
# compare the sums: they must be identical.
#   bash tests/ref_pcaps.sh BUILD/tcpbed DIR
set -euo pipefail
bin=$1 out=$2
mkdir -p "$out"
cd "$(dirname "$0")/.."
run() { local name=$1; shift; "$bin" "$@" >"$out/$name.out" 2>&1 || echo "exit $?" >>"$out/$name.out"; }
run ping sim ping --count 5 --pcap "$out/ping.pcap"
run bulk sim bulk --bytes 2M --seed 3 --pcap "$out/bulk.pcap"
run bulk-loss sim bulk --bytes 1M --loss 0.02 --seed 4 --pcap "$out/bulk-loss.pcap"
run bulk-reorder sim bulk --bytes 1M --reorder 0.05 --seed 5 --pcap "$out/bulk-reorder.pcap"
run bulk-dup sim bulk --bytes 1M --duplicate 0.02 --seed 6 --pcap "$out/bulk-dup.pcap"
run bulk-corrupt sim bulk --bytes 1M --corrupt 0.01 --seed 7 --pcap "$out/bulk-corrupt.pcap"
run bulk-ge sim bulk --bytes 1M --burst-loss 0.01,0.3 --seed 8 --pcap "$out/bulk-ge.pcap"
run bulk-jitter sim bulk --bytes 1M --jitter 2ms --seed 9 --pcap "$out/bulk-jitter.pcap"
run bulk-targeted sim bulk --bytes 500K --fault 'drop A>B tcp data #3' --fault 'duplicate B>A tcp ack #5' --fault 'delay A>B tcp data #9 30ms' --fault 'corrupt A>B tcp data #12 bit=300' --seed 10 --pcap "$out/bulk-targeted.pcap" --fault-log "$out/bulk-targeted.faults.csv" --record-faults "$out/bulk-targeted.specs" --trace-cc "$out/bulk-targeted.cc.csv"
run bulk-cubic sim bulk --bytes 1M --loss 0.01 --cc cubic --seed 11 --pcap "$out/bulk-cubic.pcap"
run bulk-ecn sim bulk --bytes 1M --ecn --rate 10Mbps --ecn-mark 30K --seed 12 --pcap "$out/bulk-ecn.pcap"
run bulk-red sim bulk --bytes 1M --ecn --rate 10Mbps --qdisc red --red 20K,60K,0.1 --cc cubic --seed 15 --pcap "$out/bulk-red.pcap"
run bulk-both sim bulk --bytes 1M --both --loss 0.02 --reorder 0.05 --duplicate 0.01 --corrupt 0.005 --seed 13 --pcap-dir "$out/both" --fault-log "$out/both.faults.csv" --trace-cc "$out/both.cc.csv"
run bulk-zc sim bulk --bytes 1M --zero-copy --both --loss 0.01 --rcvbuf 64K --seed 16 --pcap-dir "$out/zc"
run bulk-duration sim bulk --duration 2s --nodelay --both --reorder 0.02 --seed 17 --pcap "$out/bulk-duration.pcap"
run bulk-ce-corrupt sim bulk --bytes 1M --ecn --rate 10Mbps --qdisc red --red 5K,30K,0.5 --fault 'corrupt A>B tcp data #100-300 bit=116' --seed 15 --pcap-dir "$out/ce-corrupt" --fault-log "$out/ce-corrupt.faults.csv"
run ping-frag sim ping --count 4 --size 4000 --seed 18 --pcap "$out/ping-frag.pcap"
run dumbbell-rr sim dumbbell --pairs 3 --workload rr,crr,idle --count 5 --parallel 2 --seed 19 --pcap-dir "$out/dumbbell-rr"
run dumbbell sim dumbbell --pairs 4 --workload mixed --seed 14 --loss 0.01 --pcap-dir "$out/dumbbell" --fault-log "$out/dumbbell.faults.csv" --trace-cc "$out/dumbbell.cc.csv"
run scenario sim run tests/scenarios/branch-office.ini --pcap-dir "$out/scenario"
for f in fuzz/corpus/stack/* fuzz/corpus/faults/*; do
    t=$(basename "$(dirname "$f")")
    run "f2p-$t-$(basename "$f")" fuzz-to-pcap "$f" --target "$t" --out "$out/f2p-$t-$(basename "$f").pcap"
done
sed -i -e "s|$out|OUT|g" -e "s/[0-9.]* s of wall time/W s of wall time/" "$out"/*.out
(cd "$out" && find . -name '*.pcap' -o -name '*.out' -o -name '*.csv' -o -name '*.specs' | sort | xargs sha256sum >SHA256SUMS)
echo "$(grep -c pcap "$out/SHA256SUMS") pcaps, $(grep -c -E 'csv|specs' "$out/SHA256SUMS") logs in $out"
