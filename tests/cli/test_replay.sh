#!/usr/bin/env bash
# Record and replay (docs/tap.md): sim bulk --record writes host A's
# run-log, tshark reads it as a capture, `tcpbed replay` says identical and
# writes the same pcap the simulator did, and deliberate edits (made by
# tests/cli/runlog_edit.py) give precise first divergences.
#   bash tests/cli/test_replay.sh [build/tcpbed]
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
TCPBED=$(realpath "${1:-build/tcpbed}")
source tests/cli/lib.sh
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cd "$TMP"
EDIT="python3 $ROOT/tests/cli/runlog_edit.py"

# A lossy run, faults both ways: records, replays identically, same pcap.
expect "sim bulk --record over loss and reordering both ways" 0 \
  "$TCPBED" sim bulk --bytes 2M --loss 0.02 --reorder 0.05 --seed 7 --record lossy.log --pcap lossy.pcap
contains "sim bulk reports the run-log" "run-log: lossy.log"
expect "replay of the lossy run" 0 "$TCPBED" replay lossy.log --pcap replayed.pcap --trace-cc cc.csv
contains "replay says identical" "identical"
if cmp -s lossy.pcap replayed.pcap; then ok "the replayed pcap is byte-identical to the simulator's capture of host A"
else bad "the replayed pcap differs from the simulator's" "$(cmp lossy.pcap replayed.pcap 2>&1)"; fi
head -1 cc.csv | grep -q '^time_ns,host,conn,event' && ok "--trace-cc writes the cc trace" || bad "--trace-cc" "$(head -2 cc.csv)"

# tshark opens the run-log as it is and counts its frames (custom blocks are listed, not parsed).
frames=$(tshark -r lossy.log -Y eth 2>/dev/null | wc -l)
out_frames=$(tshark -r lossy.log -Y 'frame.packet_flags_direction == 2' 2>/dev/null | wc -l)
expect "replay --json" 0 "$TCPBED" replay lossy.log --json
json_frames=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["identical"] and d["divergence"] is None; print(d["frames"], d["frames_out"])' "$LAST_OUT" 2>&1)
if [ "$json_frames" = "$frames $out_frames" ] && [ "$frames" -gt 1000 ]; then
  ok "tshark reads the run-log: $frames frames, $out_frames outbound, as replay counts"
else bad "tshark counts $frames frames ($out_frames out), replay --json says '$json_frames'"; fi

# Both directions sending at once, lossy, and the run directory for tcpbed plot.
expect "sim bulk --both --record" 0 "$TCPBED" sim bulk --both --bytes 1M --loss 0.02 --reorder 0.05 --seed 5 --record both.log
expect "replay --pcap-dir of a --both run" 0 "$TCPBED" replay both.log --pcap-dir run
contains "replay --pcap-dir says identical" "identical"
expect "tcpbed plot on replay's --pcap-dir" 0 "$TCPBED" plot run
[ -s run/plot.svg ] && grep -q '<svg' run/plot.svg && ok "plot wrote an SVG from the replayed run" || bad "no run/plot.svg"

# Deliberate edits: the first divergence, named.
info=$($EDIT lossy.log window.log window 30 1234)
frame=$(sed -n 's/.*frame=\([0-9]*\).*/\1/p' <<<"$info")
old=$(sed -n 's/.*old=\([0-9]*\).*/\1/p' <<<"$info")
expect "replay of a log with one outbound TCP window changed" 1 "$TCPBED" replay window.log
contains "the report names the frame" "frame $frame (outbound 30"
contains "the report names tcp.window with both values" "tcp.window: recorded 1234, replayed $old"
shown=$(sed -n 's/.*tshark frame.number \([0-9]*\).*/\1/p' <<<"$LAST_OUT")
win=$(tshark -r window.log -Y "frame.number == $shown" -T fields -e tcp.window_size_value 2>/dev/null)
[ "$win" = 1234 ] && ok "tshark's frame $shown is the edited frame (window 1234)" || bad "tshark frame $shown has window '$win'"
expect "replay --json of the edited log" 1 "$TCPBED" replay window.log --json
python3 -c 'import json,sys; d=json.loads(sys.argv[1])["divergence"]; assert d["field"] == "tcp.window" and d["recorded"] == "1234" and d["outbound_frame"] == 30, d' "$LAST_OUT" \
  && ok "--json names the divergence" || bad "--json divergence" "$LAST_OUT"

info=$($EDIT lossy.log dropped.log drop-in 40)
frame=$(sed -n 's/.*frame=\([0-9]*\).*/\1/p' <<<"$info")
expect "replay of a log with an inbound frame dropped" 1 "$TCPBED" replay dropped.log
contains "the frame after the dropped one is not emitted" "recorded frame $frame not emitted"

$EDIT lossy.log result.log call-result connect 1 77 >/dev/null
expect "replay of a log with a call's result changed" 1 "$TCPBED" replay result.log
contains "the report names the call and both results" "call connect (conn -1): result: recorded 77, replayed"

size=$(stat -c %s lossy.log)
head -c $((size / 2)) lossy.log >cut.log
expect "replay of a truncated log" 2 "$TCPBED" replay cut.log
contains "it says the log was cut short, with the byte offset" "the log was cut short: the block at byte"
contains "and that it replayed what was there" "replayed as recorded up to there"
head -c $((size - 5)) lossy.log >cut2.log   # the END record cut
expect "replay of a log cut inside its END record" 2 "$TCPBED" replay cut2.log
contains "cut short again" "no END record"

head -c 3000 /dev/urandom >garbage.log
expect "replay of garbage" 2 "$TCPBED" replay garbage.log
contains "garbage: not a run-log" "not a run-log"
expect "replay of a classic pcap" 2 "$TCPBED" replay lossy.pcap
contains "a pcap is named as one" "a classic pcap file"
python3 - lossy.log version.log <<'PY'
import struct, sys
d = bytearray(open(sys.argv[1], "rb").read())
pos = 0
while True:   # the first custom block is HEADER: its version follows the type byte
    t, n = struct.unpack_from("<II", d, pos)
    if t == 0xBAD:
        struct.pack_into("<I", d, pos + 13, 99)
        break
    pos += n
open(sys.argv[2], "wb").write(d)
PY
expect "replay of an unknown format version" 2 "$TCPBED" replay version.log
contains "the version is named with its offset" "unknown run-log format version 99 in the HEADER record at byte"
expect "replay without a file" 2 "$TCPBED" replay
expect "replay of a missing file" 2 "$TCPBED" replay no-such.log
contains "a missing file is named" "cannot read run-log 'no-such.log'"

# Zero-copy runs are recorded but not replayed: an explicit refusal, never a silent pass.
expect "sim bulk --zero-copy --record" 0 "$TCPBED" sim bulk --bytes 100K --zero-copy --record zc.log
expect "replay of a zero-copy run is refused" 2 "$TCPBED" replay zc.log
contains "it says unsupported" "unsupported: the buf_alloc call"

# A disk that fills: the recorder reports it.
if [ -w /dev/full ]; then
  expect "sim bulk --record /dev/full fails" 1 "$TCPBED" sim bulk --bytes 100K --record /dev/full
  contains "the write error is named" "No space left on device"
fi

echo "replay: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
