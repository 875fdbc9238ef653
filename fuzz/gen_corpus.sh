#!/usr/bin/env bash
# Regenerates the seed corpora in fuzz/corpus/ from simulator runs
# (`make fuzz-corpus`): frames of a bulk transfer and a ping for `wire`,
# step sequences for `stack`, recorded fault schedules for `faults`.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
build/tcpbed sim bulk --bytes 50K --seed 1 --pcap "$tmp/bulk.pcap" >/dev/null
build/tcpbed sim bulk --bytes 50K --seed 2 --loss 0.05 --pcap "$tmp/bulk-loss.pcap" >/dev/null || true
build/tcpbed sim ping --count 2 --seed 1 --pcap "$tmp/ping.pcap" >/dev/null
for t in wire stack faults check runlog; do
  rm -rf "fuzz/corpus/$t"
  mkdir -p "fuzz/corpus/$t"
done
build/fuzz/gen_corpus wire fuzz/corpus/wire "$tmp/bulk.pcap" "$tmp/bulk-loss.pcap" "$tmp/ping.pcap"
build/fuzz/gen_corpus stack fuzz/corpus/stack
build/fuzz/gen_corpus faults fuzz/corpus/faults
# check: the scripts themselves (our suite and the Linux-style corpus), one file each.
find tests/conformance tests/check/corpus -name '*.pkt' | LC_ALL=C sort | while read -r f; do
  cp "$f" "fuzz/corpus/check/$(echo "$f" | tr / _)"
done
# runlog: small recorded runs (under 8 KB each): a transfer, both ways at once,
# a lost data segment (ticks, a retransmission), a lost ACK without Nagle.
build/tcpbed sim bulk --bytes 1K --seed 1 --record fuzz/corpus/runlog/bulk.log >/dev/null
build/tcpbed sim bulk --bytes 500 --both --seed 2 --record fuzz/corpus/runlog/both.log >/dev/null
build/tcpbed sim bulk --bytes 600 --seed 3 --fault 'drop A>B tcp data #1' --record fuzz/corpus/runlog/lost-data.log >/dev/null
build/tcpbed sim bulk --bytes 1K --seed 4 --fault 'drop B>A tcp #2' --nodelay --record fuzz/corpus/runlog/lost-ack.log >/dev/null
for t in wire stack faults check runlog; do
  echo "fuzz/corpus/$t: $(ls "fuzz/corpus/$t" | wc -l) files, $(du -sb "fuzz/corpus/$t" | cut -f1) bytes"
done
