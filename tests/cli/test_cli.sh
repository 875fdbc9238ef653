#!/usr/bin/env bash
# Command-line tests of build/tcpbed: help, errors, exit codes, the pcap
# (determinism, content, checksums checked by tshark), JSON, and no
# uninitialised byte reaching an output (valgrind memcheck).
set -uo pipefail
cd "$(dirname "$0")/../.."
TCPBED=${1:-build/tcpbed}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# shellcheck source=tests/cli/lib.sh
. tests/cli/lib.sh

# --- help and usage errors
expect "tcpbed help" 0 "$TCPBED" help
contains "help lists sim" "sim"
expect "tcpbed --help" 0 "$TCPBED" --help
expect "tcpbed sim --help" 0 "$TCPBED" sim --help
contains "sim help lists ping" "ping"
expect "tcpbed sim ping --help" 0 "$TCPBED" sim ping --help
contains "ping help documents --pcap" "--pcap FILE"
expect "tcpbed version" 0 "$TCPBED" version
expect "no command is a usage error" 2 "$TCPBED"
expect "unknown command" 2 "$TCPBED" frobnicate
contains "unknown command is named" "unknown command 'frobnicate'"
expect "unknown scenario" 2 "$TCPBED" sim pong
contains "unknown scenario is named" "unknown scenario 'pong'"
expect "bad --count value" 2 "$TCPBED" sim ping --count lots
contains "bad value names option and input" "--count: expected a non-negative integer, got 'lots'"
expect "--count out of range" 2 "$TCPBED" sim ping --count 0
contains "range is stated" "expected a value from 1 to"
expect "bad --delay unit" 2 "$TCPBED" sim ping --delay 10
contains "duration syntax is explained" "expected a duration such as 250us"
expect "bad --rate" 2 "$TCPBED" sim ping --rate 10MB
expect "unknown option" 2 "$TCPBED" sim ping --colour
contains "unknown option is named" "unknown option '--colour'"
expect "missing value" 2 "$TCPBED" sim ping --seed
expect "unwritable pcap" 1 "$TCPBED" sim ping --pcap /nonexistent-dir/a.pcap
contains "unwritable pcap is explained" "cannot write pcap '/nonexistent-dir/a.pcap'"

# --- a run that cannot succeed exits non-zero: 1 kbit/s, 1 ms patience
expect "unanswered pings exit 1" 1 "$TCPBED" sim ping --count 2 --rate 1kbps --timeout 1ms
contains "failure is reported" "FAILED"

# --- the issue's acceptance: same seed, byte-identical pcaps
expect "ping seed 1 (first)" 0 "$TCPBED" sim ping --count 3 --seed 1 --pcap "$TMP/a.pcap"
contains "summary shows 3 received" "3 packets transmitted, 3 received, 0% packet loss"
expect "ping seed 1 (second)" 0 "$TCPBED" sim ping --count 3 --seed 1 --pcap "$TMP/b.pcap"
if cmp -s "$TMP/a.pcap" "$TMP/b.pcap"; then ok "same seed: byte-identical pcap"; else bad "same seed: pcaps differ"; fi
expect "ping seed 2" 0 "$TCPBED" sim ping --count 3 --seed 2 --pcap "$TMP/c.pcap"
if ! cmp -s "$TMP/a.pcap" "$TMP/c.pcap"; then ok "another seed: a different pcap"; else bad "seed 2 gave seed 1's pcap"; fi

# --- an independent reader: tshark with checksum validation on
if command -v tshark >/dev/null; then
  fields=$(tshark -r "$TMP/a.pcap" -o ip.check_checksum:TRUE -T fields -E separator=, \
    -e frame.len -e arp.opcode -e icmp.type -e icmp.seq -e ip.checksum.status -e icmp.checksum.status 2>/dev/null)
  want="60,1,,,,
60,2,,,,
98,,8,1,1,1
98,,0,1,1,1
98,,8,2,1,1
98,,0,2,1,1
98,,8,3,1,1
98,,0,3,1,1"
  if [ "$fields" = "$want" ]; then ok "tshark: ARP exchange, 3 echo pairs, all checksums good"
  else bad "tshark disagrees" "$(diff <(echo "$want") <(echo "$fields"))"; fi
  ts=$(tshark -r "$TMP/a.pcap" -T fields -e frame.time_epoch 2>/dev/null | sed -n 3p)
  if [ "$ts" = "0.002009600" ]; then ok "pcap: ARP done at 2 x (4.8 us + 1 ms), ns timestamps"; else bad "third frame at $ts, wanted 0.002009600"; fi
else
  bad "tshark is not installed (harness/deps.sh test installs it)"
fi
if command -v tcpdump >/dev/null; then
  n=$(tcpdump -nn -r "$TMP/a.pcap" 2>/dev/null | grep -c 'ICMP echo')
  if [ "$n" -eq 6 ]; then ok "tcpdump reads 6 echo messages"; else bad "tcpdump read $n echo messages"; fi
fi

# --- JSON: one object with the documented keys
expect "ping --json" 0 "$TCPBED" sim ping --count 2 --json
if python3 - "$LAST_OUT" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
for k in ("seed", "count", "transmitted", "received", "rtt_min_ns", "rtt_avg_ns", "rtt_max_ns", "replies",
          "sim_time_ns", "wall_time_s", "events", "packets", "invariants", "hosts", "link"):
    assert k in d, k
assert d["received"] == 2 and d["invariants"] == "ok" and d["pass"] is True
assert d["hosts"]["B"]["icmp_echo_replies_tx"] == 2
assert d["replies"][1]["rtt_ns"] == d["rtt_min_ns"]
PY
then ok "JSON parses and has the documented keys"; else bad "JSON check" "$LAST_OUT"; fi

# --- TCP bulk: issue 3's acceptance
expect "sim bulk --help" 0 "$TCPBED" sim bulk --help
contains "bulk help documents --duration" "--duration TIME"
expect "bulk: bad --bytes" 2 "$TCPBED" sim bulk --bytes 10X
contains "bulk: size syntax explained" "expected a size such as 1500, 64K or 10M"
expect "bulk: bad --mss" 2 "$TCPBED" sim bulk --mss 20
if [[ "$TCPBED" == *asan* ]]; then BULK_BYTES=5000000; else BULK_BYTES=50000000; fi
expect "bulk $BULK_BYTES bytes, seed 3, --json" 0 "$TCPBED" sim bulk --bytes "$BULK_BYTES" --seed 3 --json --pcap "$TMP/bulk1.pcap"
if python3 - "$LAST_OUT" "$BULK_BYTES" <<'PY'
import json, sys
d = json.loads(sys.argv[1]); want = int(sys.argv[2])
for k in ("seed", "sent_bytes", "delivered_bytes", "integrity", "retransmits", "rto_timeouts", "sim_time_ns",
          "wall_time_s", "packets"):
    assert k in d, k
assert d["delivered_bytes"] == want and d["sent_bytes"] == want, d["delivered_bytes"]
assert d["integrity"] == "ok" and d["seed"] == 3 and d["pass"] is True
a = d["conn"]["A"]
assert a["window_scaling"] and a["timestamps"] and a["sack"] and a["mss_bytes"] == 1448
PY
then ok "bulk JSON: every byte delivered, integrity ok, options negotiated"; else bad "bulk JSON" "$LAST_OUT"; fi
expect "bulk again, same seed" 0 "$TCPBED" sim bulk --bytes "$BULK_BYTES" --seed 3 --pcap "$TMP/bulk2.pcap"
if cmp -s "$TMP/bulk1.pcap" "$TMP/bulk2.pcap"; then ok "bulk: same seed, byte-identical pcap"; else bad "bulk pcaps differ"; fi
expect "bulk, seed 4" 0 "$TCPBED" sim bulk --bytes 100000 --seed 4 --pcap "$TMP/bulk4.pcap"
expect "bulk, seed 3, short" 0 "$TCPBED" sim bulk --bytes 100000 --seed 3 --pcap "$TMP/bulk3.pcap"
if command -v tshark >/dev/null; then
  isn3=$(tshark -r "$TMP/bulk3.pcap" -Y 'tcp.flags.syn==1' -T fields -e tcp.seq_raw 2>/dev/null | tr '\n' ' ')
  isn4=$(tshark -r "$TMP/bulk4.pcap" -Y 'tcp.flags.syn==1' -T fields -e tcp.seq_raw 2>/dev/null | tr '\n' ' ')
  if [ -n "$isn3" ] && [ "$isn3" != "$isn4" ]; then ok "another seed: different ISNs ($isn3/ $isn4)"; else bad "ISNs: '$isn3' vs '$isn4'"; fi
  syn=$(tshark -r "$TMP/bulk1.pcap" -Y 'tcp.flags.syn==1' -T fields -E separator=, -e tcp.flags.ack \
    -e tcp.options.mss_val -e tcp.options.wscale.shift -e tcp.options.sack_perm -e tcp.options.timestamp.tsval 2>/dev/null)
  if [ "$(grep -c '^[01],1460,[0-9]*,[^,]*,[0-9][0-9]*$' <<<"$syn")" -eq 2 ]; then ok "tshark: SYN and SYN-ACK carry MSS, window scale, SACK-permitted, timestamps"
  else bad "tshark SYN options" "$syn"; fi
  fins=$(tshark -r "$TMP/bulk1.pcap" -Y 'tcp.flags.fin==1' -T fields -e ip.src 2>/dev/null | sort | tr '\n' ' ')
  if [ "$fins" = "10.0.0.1 10.0.0.2 " ]; then ok "tshark: a FIN each way"; else bad "FINs: '$fins'"; fi
  sums=$(tshark -r "$TMP/bulk1.pcap" -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE -Y tcp \
    -T fields -e ip.checksum.status -e tcp.checksum.status 2>/dev/null | sort | uniq -c | awk '{print $2 $3 ":" ($1 > 0)}' | tr '\n' ' ')
  if [ "$sums" = "11:1 " ]; then ok "tshark: every IPv4 and TCP checksum good"; else bad "checksums: $sums"; fi
  warn=$(tshark -r "$TMP/bulk1.pcap" -d tcp.port==5001,data -q -z expert,warn 2>/dev/null | grep -cE 'TCP +(Previous segment|ACKed segment|Out-Of-Order|Retransmission|Dup ACK|Zero window)' || true)
  if [ "$warn" -eq 0 ]; then ok "tshark: no TCP sequence warnings in a lossless run"; else bad "tshark TCP warnings: $warn"; fi
fi
expect "bulk --zero-copy" 0 "$TCPBED" sim bulk --bytes 3M --zero-copy --seed 5
expect "bulk --duration 2s" 0 "$TCPBED" sim bulk --duration 2s --json
if python3 - "$LAST_OUT" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
assert d["integrity"] == "ok" and d["delivered_bytes"] == d["sent_bytes"] > 10**6
assert 2 * 10**9 <= d["sim_time_ns"] < 4 * 10**9
PY
then ok "bulk --duration sends for that long, then closes"; else bad "duration JSON" "$LAST_OUT"; fi
expect "bulk that cannot finish fails with exit 1" 1 "$TCPBED" sim bulk --bytes 10M --time-limit 100ms
contains "unfinished run is explained" "not finished after"

# --- simulator faults, sweeps and shrinking: issue 4's acceptance
FAULTS=(--loss 0.02 --reorder 0.05 --duplicate 0.01 --corrupt 0.005)
if [[ "$TCPBED" == *asan* ]]; then FB=2000000; SEEDS=1..40; else FB=10000000; SEEDS=1..500; fi
expect "bulk $FB bytes under loss, reordering, duplication, corruption" 0 \
  "$TCPBED" sim bulk --bytes "$FB" "${FAULTS[@]}" --seed 9 --json --pcap "$TMP/f1.pcap"
if python3 - "$LAST_OUT" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
assert d["integrity"] == "ok" and d["pass"]
l = d["link"]["A>B"]
assert l["loss_drops"] > 0 and l["reordered"] > 0 and l["duplicated"] > 0 and l["corrupted"] > 0
PY
then ok "faults fired and integrity held"; else bad "fault run JSON" "$LAST_OUT"; fi
expect "the same faulty run again" 0 "$TCPBED" sim bulk --bytes "$FB" "${FAULTS[@]}" --seed 9 --pcap "$TMP/f2.pcap"
if cmp -s "$TMP/f1.pcap" "$TMP/f2.pcap"; then ok "faulty run: byte-identical pcap"; else bad "faulty runs differ"; fi
expect "sweep --seeds $SEEDS" 0 "$TCPBED" sweep --seeds "$SEEDS" -- bulk --bytes 1000000 --loss 0.05 --reorder 0.1 --duplicate 0.02 --corrupt 0.01
n=${SEEDS#1..}
contains "sweep reports every seed passed" "sweep: $n passed, 0 failed"
expect "sweep with a failing expectation exits 1" 1 "$TCPBED" sweep --seeds 1..8 -- bulk --bytes 300K --loss 0.03 --expect 'retransmits==0'
contains "failures grouped by signature" "expect retransmits==N"
contains "each group has a reproduction line" "reproduce with: tcpbed sim bulk --bytes 300K --loss 0.03 --expect retransmits==0 --seed"
expect "sweep shard 1/2" 1 "$TCPBED" sweep --seeds 1..8 --shard 1/2 --out "$TMP/s1.jsonl" -- bulk --bytes 300K --loss 0.03 --expect 'retransmits==0'
expect "sweep shard 2/2" 1 "$TCPBED" sweep --seeds 1..8 --shard 2/2 --out "$TMP/s2.jsonl" -- bulk --bytes 300K --loss 0.03 --expect 'retransmits==0'
expect "sweep --merge" 1 "$TCPBED" sweep --merge "$TMP/s1.jsonl" "$TMP/s2.jsonl"
if [ "$(cat "$TMP/s1.jsonl" "$TMP/s2.jsonl" | wc -l)" -eq 8 ]; then ok "shards split the seeds"; else bad "shards"; fi
if python3 -c '
import json, sys
for line in open(sys.argv[1]):
    assert list(json.loads(line)) == ["seed", "pass", "signature", "failure", "repro"], line
' "$TMP/s1.jsonl"; then ok "--out: one JSON object a line, keys in order"; else bad "--out lines" "$(cat "$TMP/s1.jsonl")"; fi
# The reader looks keys up at the top level of the parsed object: a nested
# object with the same keys, or a string holding '"pass":true', is no answer.
cat >"$TMP/decoy.jsonl" <<'EOF'
{"nested":{"seed":1,"pass":true,"failure":"decoy"},"seed":7,"pass":false,"signature":"sig \"pass\":true","failure":"boom {\"pass\":true}\u0021","repro":"tcpbed sim bulk --seed 7"}
{"seed":3,"pass":true,"signature":"","failure":"","repro":"x"}
EOF
expect "sweep --merge: nested keys and key-like strings are not the result" 1 "$TCPBED" sweep --merge "$TMP/decoy.jsonl"
contains "the top-level pass is read" "sweep: 1 passed, 1 failed"
contains "the top-level seed and the decoded failure are read" 'first seed 7 fails with: boom {"pass":true}!'
printf '{"seed":1,"pass":true,"signature":"","failure":"","repro":"x"}\n{"seed":2,"pass":fals\n' >"$TMP/bad.jsonl"
expect "sweep --merge: malformed JSON is a usage error" 2 "$TCPBED" sweep --merge "$TMP/s1.jsonl" "$TMP/bad.jsonl"
contains "the file, line and column are named" "$TMP/bad.jsonl:2:21: not JSON: invalid token near 'fals'"
printf '[1,2]\n' >"$TMP/notrec.jsonl"
expect "sweep --merge: JSON that is not a --out line" 2 "$TCPBED" sweep --merge "$TMP/notrec.jsonl"
contains "what was expected is named" "$TMP/notrec.jsonl:1: expected a line written by --out"
expect "sweep --merge: a missing file" 1 "$TCPBED" sweep --merge "$TMP/none.jsonl"
contains "the missing file is named" "cannot read '$TMP/none.jsonl'"
expect "sweep: bad --seeds" 2 "$TCPBED" sweep --seeds 9..1 -- bulk
expect "sweep: missing --" 2 "$TCPBED" sweep --seeds 1..3 bulk
expect "sweep: bad sim arguments are a usage error" 2 "$TCPBED" sweep --seeds 1..3 -- bulk --bogus
expect "shrink: bad sim arguments are a usage error" 2 "$TCPBED" shrink -- bulk --bogus

# --- both directions at once on one connection: issue 9
expect "bulk --both under loss, reordering, duplication, corruption" 0 \
  "$TCPBED" sim bulk --both --bytes 1M "${FAULTS[@]}" --seed 9 --json
if python3 - "$LAST_OUT" <<'PY'
import json, sys
d = json.loads(sys.argv[1]); n = 1 << 20
assert d["pass"] and d["integrity"] == "ok" and d["both"] is True, d["integrity"]
assert d["sent_bytes"] == d["delivered_bytes"] == d["reverse_sent_bytes"] == d["reverse_delivered_bytes"] == n
for way in ("A>B", "B>A"):
    l = d["link"][way]
    assert l["bytes_delivered"] > n and l["loss_drops"] > 0 and l["reordered"] > 0, (way, l)
assert d["conn"]["A"]["bytes_received"] == n and d["conn"]["B"]["bytes_received"] == n
PY
then ok "--both: every byte delivered and checked each way, faults fired each way"; else bad "--both JSON" "$LAST_OUT"; fi
expect "bulk without --both reports no reverse bytes" 0 "$TCPBED" sim bulk --bytes 100K --json
if python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["both"] is False and d["reverse_sent_bytes"] == d["reverse_delivered_bytes"] == 0' "$LAST_OUT"
then ok "one-way JSON: reverse_* are 0"; else bad "one-way reverse keys" "$LAST_OUT"; fi
expect "bulk --duration 1s --zero-copy (a refused buffer is sent first at the end)" 0 "$TCPBED" sim bulk --duration 1s --zero-copy
expect "bulk --both --duration 1s --zero-copy" 0 "$TCPBED" sim bulk --both --duration 1s --zero-copy
contains "the summary shows the reverse direction" "B sent "
BOTH_T0=$(date +%s)
BOTH_SEEDS=500; [[ "$TCPBED" == *asan* ]] && BOTH_SEEDS=100   # ASan+UBSan: about 5x slower per run
expect "sweep --seeds 1..$BOTH_SEEDS -- bulk --both under faults" 0 "$TCPBED" sweep --seeds 1..$BOTH_SEEDS -- bulk --both \
  --bytes 200K --loss 0.02 --reorder 0.05 --duplicate 0.01 --corrupt 0.005
contains "$BOTH_SEEDS of $BOTH_SEEDS bidirectional seeds passed" "sweep: $BOTH_SEEDS passed, 0 failed"
echo "     (the bidirectional sweep took $(($(date +%s) - BOTH_T0)) s)"
expect "a planted failure" 1 "$TCPBED" sim bulk --bytes 1M --loss 0.02 --seed 4 --expect 'retransmits==0'
contains "its reproduction line" "reproduce with: tcpbed sim bulk --bytes 1M --loss 0.02 --seed 4 --expect retransmits==0"
expect "shrink the planted failure" 0 "$TCPBED" shrink -- bulk --bytes 1M --loss 0.02 --seed 4 --expect 'retransmits==0'
shrunk=$(grep '^reproduce with: ' <<<"$LAST_OUT" | sed 's/^reproduce with: tcpbed //')
nfaults=$(grep -o -- "--fault" <<<"$shrunk" | wc -l)
if [ "$nfaults" -ge 1 ] && [ "$nfaults" -le 3 ] && ! grep -q -- '--loss' <<<"$shrunk"; then ok "shrunk to $nfaults targeted fault(s), random loss gone"
else bad "shrink result" "$LAST_OUT"; fi
eval "set -- $shrunk"
expect "the shrunk command fails" 1 "$TCPBED" "$@"
contains "the same way" "FAILED: expect retransmits==0"
expect "shrink refuses a passing run" 2 "$TCPBED" shrink -- bulk --bytes 100K
expect "bad --fault spec" 2 "$TCPBED" sim bulk --fault 'drop A-B tcp data'
contains "the word at fault is named" "word 2 'A-B': expected a direction"

# --- loss recovery: issue 5's acceptance
LB=20000000; [[ "$TCPBED" == *asan* ]] && LB=3000000
expect "bulk $LB bytes at 2% loss" 0 "$TCPBED" sim bulk --bytes "$LB" --seed 5 --loss 0.02 --json --pcap "$TMP/loss.pcap"
if python3 - "$LAST_OUT" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
assert d["integrity"] == "ok" and d["pass"]
for k in ("fast_retransmits", "rack_losses", "tlp_probes", "spurious_undos", "dsacks"):
    assert k in d, k
assert d["fast_retransmits"] + d["rack_losses"] > 10 * max(1, d["rto_timeouts"]), d
PY
then ok "recoveries by fast retransmit or RACK far outnumber RTOs"; else bad "loss recovery JSON" "$LAST_OUT"; fi
if command -v tshark >/dev/null; then
  n=$(tshark -r "$TMP/loss.pcap" -Y 'tcp.options.sack_le' -T fields -e frame.number 2>/dev/null | wc -l)
  if [ "$n" -gt 10 ]; then ok "the pcap shows SACK blocks ($n segments)"; else bad "SACK blocks in pcap: $n"; fi
fi
expect "the same under CUBIC" 0 "$TCPBED" sim bulk --bytes 3M --seed 5 --loss 0.02 --cc cubic
contains "cubic is named" "recovery (cubic)"
expect "bad --cc" 2 "$TCPBED" sim bulk --cc vegas
contains "choices named" "expected newreno or cubic, got 'vegas'"
expect "--trace-cc writes the decisions" 0 "$TCPBED" sim bulk --bytes 1M --loss 0.02 --trace-cc "$TMP/cc.csv"
if head -1 "$TMP/cc.csv" | grep -q '^time_ns,host,conn,event,reason,state,cwnd_bytes,ssthresh_bytes' && grep -q ',recovery,' "$TMP/cc.csv"; then
  ok "cc trace has its header and recovery events"; else bad "cc trace" "$(head -3 "$TMP/cc.csv")"; fi

# --- plots: a tail loss shows the drop, the timeout and the retransmission
mkdir -p "$TMP/tail"
segs=$("$TCPBED" sim bulk --bytes 300K --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["conn"]["A"]["data_segs_out"])')
expect "tail-loss run into a run directory" 0 "$TCPBED" sim bulk --bytes 300K --fault "drop A>B tcp data #$segs" --pcap-dir "$TMP/tail"
for f in A.pcap B.pcap faults.csv cc.csv; do
  if [ -s "$TMP/tail/$f" ]; then ok "run directory has $f"; else bad "run directory lacks $f"; fi
done
expect "tcpbed plot DIR" 0 "$TCPBED" plot "$TMP/tail"
svg="$TMP/tail/plot.svg"
if python3 - "$svg" <<'PY'
import sys, xml.dom.minidom
doc = xml.dom.minidom.parse(sys.argv[1])          # well-formed SVG
paths = doc.getElementsByTagName("path")
drops = [p for p in paths if p.getAttribute("class") == "drop"]
circles = [c for c in doc.getElementsByTagName("circle") if c.getAttribute("class") == "retransmit-mark"]
rto = [l for l in doc.getElementsByTagName("line") if l.getAttribute("class") in ("mark-RTO", "mark-TLP")]
assert len(drops) == 1, len(drops)
assert len(circles) == 1, len(circles)
assert len(rto) == 1, len(rto)
drop_x = float(drops[0].getAttribute("d").split()[0][1:]) + 5
rto_x = float(rto[0].getAttribute("x1"))
re_x = float(circles[0].getAttribute("cx"))
assert drop_x < rto_x <= re_x + 0.5, (drop_x, rto_x, re_x)   # drop, then timeout, then retransmission
PY
then ok "plot shows the drop, then the tail loss probe (or RTO), then the retransmission"; else bad "plot content"; fi
expect "plot --window zooms" 0 "$TCPBED" plot "$TMP/tail" --window 0.15s..0.5s --out "$TMP/tail/zoom.svg"
expect "plot: bad --window" 2 "$TCPBED" plot "$TMP/tail" --window 0.5s
expect "plot: missing pcap" 1 "$TCPBED" plot "$TMP/nonexistent"
contains "missing pcap is explained" "cannot read pcap"
expect "--pcap-dir creates the directory (mkdir -p)" 0 "$TCPBED" sim bulk --bytes 300K --pcap-dir "$TMP/new/run1"
expect "and plot reads it" 0 "$TCPBED" plot "$TMP/new/run1"
if [ -s "$TMP/new/run1/plot.svg" ]; then ok "run1/plot.svg written"; else bad "no run1/plot.svg"; fi
touch "$TMP/afile"
expect "--pcap-dir under a file fails" 1 "$TCPBED" sim bulk --bytes 10K --pcap-dir "$TMP/afile/run"
contains "the file is named" "exists and is not a directory"

# --- topologies, workloads and scenario files
expect "sim dumbbell --help" 0 "$TCPBED" sim dumbbell --help
expect "dumbbell, 4 bulk pairs" 0 "$TCPBED" sim dumbbell --pairs 4 --bytes 1M --json
if python3 - "$LAST_OUT" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
assert d["pass"] and len(d["flows"]) == 4 and d["fairness"] > 0.9
assert all(f["delivered_bytes"] == 1 << 20 and f["integrity"] == "ok" for f in d["flows"])
assert d["routers"]["R1"]["forwarded"] > 2800 and "R1>R2" in d["link"]
PY
then ok "dumbbell: every flow delivered, fair share, R1 forwarded"; else bad "dumbbell JSON" "$LAST_OUT"; fi
expect "dumbbell, mixed workload with RED and loss" 0 "$TCPBED" sim dumbbell --pairs 4 --workload mixed --bytes 200K \
  --count 5 --think 1s --qdisc red --red 20K,80K,0.1 --loss 'A>B:0.01' --expect 'flows.rr2.requests_done==5' \
  --expect 'flows.idle4.keepalive_probes>0'
expect "dumbbell: bad --workload" 2 "$TCPBED" sim dumbbell --workload teleport
contains "workload choices named" "expected bulk, rr, crr, idle, a comma list or mixed"
expect "sim run: the example scenario" 0 "$TCPBED" sim run tests/scenarios/branch-office.ini --json
if python3 - "$LAST_OUT" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
assert d["pass"] and {f["name"] for f in d["flows"]} == {"upload", "api", "session"}
assert d["link"]["branch>hq"]["fault_drops"] == 1 and d["link"]["branch>hq"]["loss_drops"] > 0
PY
then ok "scenario: flows, the targeted fault and the file's random loss all happened"; else bad "scenario JSON" "$LAST_OUT"; fi
printf '[sim]\nseed = 1\n\n[link A-B]\nrate = fast\n' > "$TMP/bad.ini"
expect "sim run: a bad value" 2 "$TCPBED" sim run "$TMP/bad.ini"
contains "the line and the key are named" "bad.ini:5: [link A-B] rate: expected a rate such as 10Mbps or 1Gbps, got 'fast'"
expect "sim run: no file" 2 "$TCPBED" sim run "$TMP/none.ini"
expect "sweep over a scenario file" 0 "$TCPBED" sweep --seeds 1..4 -- run tests/scenarios/branch-office.ini

# --- seeds are JSON integers: the largest one round-trips, a larger one is refused
expect "the largest seed is accepted" 0 "$TCPBED" sim bulk --bytes 10K --seed 9223372036854775807 --json
contains "and written exactly" '"seed":9223372036854775807'
expect "a seed above INT64_MAX is refused" 2 "$TCPBED" sim bulk --bytes 10K --seed 9223372036854775808
contains "with the range" "expected a value from 0 to 9223372036854775807"
expect "sweep refuses seeds above INT64_MAX" 2 "$TCPBED" sweep --seeds 9223372036854775807..9223372036854775808 -- bulk --bytes 10K
printf '[sim]\nseed = 9223372036854775808\n' > "$TMP/bigseed.ini"
expect "a scenario file's seed above INT64_MAX is refused" 2 "$TCPBED" sim run "$TMP/bigseed.ini"
contains "naming the line" "bigseed.ini:2"

# --- no uninitialised byte reaches an output (the pcap is written via write(2))
if command -v valgrind >/dev/null && [[ "$TCPBED" != *asan* ]]; then
  expect "valgrind memcheck: no uninitialised bytes, no leaks" 0 \
    valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
    "$TCPBED" sim ping --count 3 --pcap "$TMP/v.pcap"
  expect "valgrind memcheck on a TCP transfer" 0 \
    valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
    "$TCPBED" sim bulk --bytes 300K --pcap "$TMP/vb.pcap"
fi

echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
