#!/usr/bin/env bash
# Command-line tests of the topology commands (sim dumbbell, sim run): the
# README's examples pass, --pcap and --pcap-dir write what they say, the
# dumbbell scales to 1000 pairs, and flags that cannot act are refused.
set -uo pipefail
cd "$(dirname "$0")/../.."
TCPBED=${1:-build/tcpbed}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# shellcheck source=tests/cli/lib.sh
. tests/cli/lib.sh
# pcap_frames FILE: how many frames a pcap reader finds in FILE (empty if none can read it).
pcap_frames() {
  if command -v tcpdump >/dev/null; then tcpdump -nr "$1" 2>/dev/null | wc -l
  elif command -v tshark >/dev/null; then tshark -r "$1" 2>/dev/null | wc -l
  fi
}
# pcap_ok NAME FILE [MIN]: a reader opens FILE and finds at least MIN (default 1) frames.
pcap_ok() {
  local n
  n=$(pcap_frames "$2")
  if [ -n "$n" ] && [ "$n" -ge "${3:-1}" ]; then ok "$1 ($n frames)"; else bad "$1: '$2' unreadable or empty (${n:-no reader})"; fi
}

# --- what a new user runs first (issue 9)
expect "README example: 8 pairs, mixed, RED" 0 "$TCPBED" sim dumbbell --pairs 8 --workload mixed --qdisc red --red 20K,80K,0.1
contains "every mixed flow intact" "ok: "
expect "one idle pair (think 10ms on a 24ms RTT)" 0 "$TCPBED" sim dumbbell --pairs 1 --workload idle
if ! grep -q "timed out" <<<"$LAST_OUT"; then ok "the idle connection is not timed out"; else bad "idle timed out" "$LAST_OUT"; fi
expect "idle flows: keepalive probes and every byte" 0 "$TCPBED" sim dumbbell --pairs 2 --workload idle --bytes 1000 \
  --expect 'flows.idle1.keepalive_probes>0' --expect 'flows.idle2.delivered_bytes==20000'
expect "--expect sees 'retransmits' with 8 pairs' counters" 0 "$TCPBED" sim dumbbell --pairs 8 --bytes 50K \
  --expect 'retransmits>=0' --expect 'hosts.D8.tcp_conns_established==1' --expect 'flows.bulk8.delivered_bytes==51200'
expect "sim run: the example scenario" 0 "$TCPBED" sim run tests/scenarios/branch-office.ini

# --- --pcap: one host's port; --pcap-dir: every host, created like mkdir -p
expect "dumbbell --pcap" 0 "$TCPBED" sim dumbbell --pairs 2 --bytes 200K --pcap "$TMP/s1.pcap"
contains "the summary names the host" "as seen on host S1"
pcap_ok "--pcap is a pcap a reader opens" "$TMP/s1.pcap" 100
if command -v tcpdump >/dev/null; then
  first=$(tcpdump -nr "$TMP/s1.pcap" 2>/dev/null | head -1)
  if grep -q "tell 10.1.1.1" <<<"$first"; then ok "--pcap captures on S1 (its ARP first)"; else bad "--pcap host" "$first"; fi
fi
expect "dumbbell --pcap --json counts the frames" 0 "$TCPBED" sim dumbbell --pairs 2 --bytes 200K --pcap "$TMP/j.pcap" --json
n=$(pcap_frames "$TMP/j.pcap")
if python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["pcap_host"]=="S1" and d["pcap_frames"]==int(sys.argv[2])' \
  "$LAST_OUT" "${n:-0}" 2>/dev/null; then ok "JSON pcap_frames matches the reader's count"; else bad "JSON pcap_frames" "$LAST_OUT"; fi
expect "dumbbell --pcap-host D2" 0 "$TCPBED" sim dumbbell --pairs 2 --bytes 100K --pcap "$TMP/d2.pcap" --pcap-host D2
if command -v tcpdump >/dev/null; then
  d2=$(tcpdump -nr "$TMP/d2.pcap" 2>/dev/null)
  if grep -q "tell 10.2.2.1," <<<"$d2" && ! grep -q "10.1.1.1" <<<"$d2"; then ok "--pcap-host D2 captures D2's port";
  else bad "--pcap-host D2" "$(head -5 <<<"$d2")"; fi
fi
expect "dumbbell --pcap-dir (a new nested directory)" 0 "$TCPBED" sim dumbbell --pairs 2 --bytes 100K --pcap-dir "$TMP/run/a/b" \
  --pcap "$TMP/both.pcap"
missing=""
for f in S1.pcap S2.pcap D1.pcap D2.pcap faults.csv cc.csv; do [ -s "$TMP/run/a/b/$f" ] || missing="$missing $f"; done
if [ -z "$missing" ]; then ok "--pcap-dir wrote every host's pcap, faults.csv and cc.csv"; else bad "--pcap-dir missing:$missing" "$(ls -la "$TMP/run/a/b" 2>&1)"; fi
pcap_ok "--pcap-dir D2.pcap is a pcap" "$TMP/run/a/b/D2.pcap" 50
if cmp -s "$TMP/both.pcap" "$TMP/run/a/b/S1.pcap"; then ok "--pcap and --pcap-dir together: the same S1 capture"; else bad "--pcap vs DIR/S1.pcap differ"; fi
if grep -q "^time_ns,host,conn,event" "$TMP/run/a/b/cc.csv" && [ "$(wc -l <"$TMP/run/a/b/cc.csv")" -gt 10 ]; then
  ok "cc.csv has the congestion trace"; else bad "cc.csv" "$(head -3 "$TMP/run/a/b/cc.csv")"; fi
expect "same seed, same pcap (first run)" 0 "$TCPBED" sim dumbbell --pairs 3 --bytes 100K --loss 0.01 --seed 5 --pcap "$TMP/r1.pcap"
expect "same seed, same pcap (second run)" 0 "$TCPBED" sim dumbbell --pairs 3 --bytes 100K --loss 0.01 --seed 5 --pcap "$TMP/r2.pcap"
if cmp -s "$TMP/r1.pcap" "$TMP/r2.pcap"; then ok "the two pcaps are byte-identical"; else bad "pcaps differ"; fi
expect "sim run --pcap-dir (created)" 0 "$TCPBED" sim run tests/scenarios/branch-office.ini --pcap-dir "$TMP/bo/x"
missing=""
for f in client1.pcap client2.pcap server.pcap faults.csv cc.csv; do [ -s "$TMP/bo/x/$f" ] || missing="$missing $f"; done
if [ -z "$missing" ]; then ok "sim run --pcap-dir wrote every host's pcap"; else bad "sim run --pcap-dir missing:$missing"; fi
expect "sim run --pcap --pcap-host server" 0 "$TCPBED" sim run tests/scenarios/branch-office.ini --pcap "$TMP/srv.pcap" --pcap-host server
pcap_ok "sim run --pcap is a pcap" "$TMP/srv.pcap" 100
expect "an unwritable --pcap is a run failure" 1 "$TCPBED" sim dumbbell --pairs 1 --bytes 10K --pcap /nonexistent-dir/a.pcap
contains "the file is named" "/nonexistent-dir/a.pcap"

# --- link counters follow the direction named: R2>D1 carries D1's data
expect "dumbbell --json" 0 "$TCPBED" sim dumbbell --pairs 1 --bytes 1M --json
if python3 -c 'import json,sys; l=json.loads(sys.argv[1])["link"]; assert l["R2>D1"]["bytes_delivered"] > 1000000 > l["D1>R2"]["bytes_delivered"]' \
  "$LAST_OUT" 2>/dev/null; then ok "R2>D1 is the data direction"; else bad "link directions" "$LAST_OUT"; fi

# --- scale: 1000 pairs (2000 hosts, 1001-port routers, 10.x.y.z past 255 pairs)
start=$(date +%s)
expect "1000 pairs, bulk 100K each" 0 "$TCPBED" sim dumbbell --pairs 1000 --bytes 100K --json
secs=$(($(date +%s) - start))
if python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["pass"] and len(d["flows"]) == 1000, "pass/flows"
assert all(f["delivered_bytes"] == 102400 and f["integrity"] == "ok" for f in d["flows"]), "delivered"
assert d["routers"]["R1"]["dropped_no_route"] == 0 and d["routers"]["R2"]["dropped_no_route"] == 0, "routes"
assert "S1000" in d["hosts"] and "D1000" in d["hosts"], "hosts"
 ' <<<"$LAST_OUT"; then ok "1000 pairs: every flow delivered 100K intact (${secs}s)"; else bad "1000 pairs JSON" "$(head -c 2000 <<<"$LAST_OUT")"; fi
if [ "$secs" -lt 60 ]; then ok "1000 pairs in under 60 s (${secs}s)"; else bad "1000 pairs took ${secs}s"; fi

# --- flags that cannot act are refused (exit 2, the option named)
expect "--count with a bulk workload" 2 "$TCPBED" sim dumbbell --pairs 2 --count 5
contains "names --count" "--count applies to rr, crr and idle flows"
expect "--parallel without crr" 2 "$TCPBED" sim dumbbell --pairs 2 --workload rr --parallel 4
contains "names --parallel" "--parallel applies to crr flows"
expect "--response with bulk and idle only" 2 "$TCPBED" sim dumbbell --pairs 2 --workload bulk,idle --response 10
contains "names --response" "--response applies to rr and crr flows"
expect "--duration without bulk" 2 "$TCPBED" sim dumbbell --pairs 2 --workload rr --duration 1s
contains "names --duration" "--duration applies to bulk flows"
expect "--bytes with --duration and only bulk flows" 2 "$TCPBED" sim dumbbell --pairs 2 --duration 1s --bytes 1M
contains "names --bytes" "--bytes sizes bulk flows"
expect "--red without --qdisc red" 2 "$TCPBED" sim dumbbell --pairs 2 --red 20K,80K,0.1
contains "names --red" "--red sets RED's thresholds: it needs --qdisc red"
expect "--ecn-mark without --ecn" 2 "$TCPBED" sim dumbbell --pairs 2 --ecn-mark 30K
contains "names --ecn-mark" "--ecn-mark marks only ECN-capable frames"
expect "--ecn --ecn-mark marks" 0 "$TCPBED" sim dumbbell --pairs 2 --bytes 1M --ecn --ecn-mark 5K --expect 'link.R1>R2.ecn_marked>0'
expect "--reorder-delay without --reorder" 2 "$TCPBED" sim dumbbell --pairs 2 --reorder-delay 5ms
contains "names --reorder-delay" "--reorder-delay"
expect "--jitter-keep-order without --jitter" 2 "$TCPBED" sim dumbbell --pairs 2 --jitter-keep-order
contains "names --jitter-keep-order" "--jitter-keep-order"
expect "--pcap-host without --pcap" 2 "$TCPBED" sim dumbbell --pairs 2 --pcap-host S1
contains "names --pcap-host" "--pcap-host chooses where --pcap captures"
expect "--pcap-host naming no host" 2 "$TCPBED" sim dumbbell --pairs 2 --pcap "$TMP/x.pcap" --pcap-host Z9
contains "the host is named" "no host named 'Z9'"
expect "sim run --pcap-host without --pcap" 2 "$TCPBED" sim run tests/scenarios/branch-office.ini --pcap-host server
expect "an unknown option" 2 "$TCPBED" sim dumbbell --colour
contains "the option is named" "unknown option '--colour'"
expect "--pairs 0" 2 "$TCPBED" sim dumbbell --pairs 0
contains "the range is stated" "--pairs: expected a value from 1 to 32511"
expect "--pairs past the address plan" 2 "$TCPBED" sim dumbbell --pairs 40000

echo "cli-topo: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
