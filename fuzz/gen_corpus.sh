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
for t in wire stack faults check runlog http; do
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
# http: requests as curl, wrk and hand-written clients send them; the first
# byte picks max_head (0: the app's own 8 KiB; 1: 33 bytes).
python3 - fuzz/corpus/http <<'PY'
import os, sys
seeds = {
    'get.req': b'\x00GET / HTTP/1.1\r\nHost: 10.9.0.2\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n',
    'wrk.req': b'\x00GET / HTTP/1.1\r\nHost: 10.9.0.2:80\r\n\r\n',
    'close.req': b'\x00GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
    'http10.req': b'\x00GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n',
    'head.req': b'\x00HEAD /a HTTP/1.1\r\nHost: a\r\n\r\n',
    'post.req': b'\x00POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello',
    'pipelined.req': b'\x00GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n',
    'body.req': b'\x00GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc',
    'lf.req': b'\x00\nGET / HTTP/1.1\nHost: a\n\n',
    'short-limit.req': b'\x01GET / HTTP/1.1\r\nHost: a\r\nX-Long: ' + b'y' * 100 + b'\r\n\r\n',
    'te.req': b'\x00GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n',
    'v2.req': b'\x00GET / HTTP/2.0\r\nHost: a\r\n\r\n',
}
for name, data in seeds.items():
    open(os.path.join(sys.argv[1], name), 'wb').write(data)
PY
for t in wire stack faults check runlog http; do
  echo "fuzz/corpus/$t: $(ls "fuzz/corpus/$t" | wc -l) files, $(du -sb "fuzz/corpus/$t" | cut -f1) bytes"
done
