#!/usr/bin/env bash
# tcpbed on a TAP device against the Linux kernel, and the kernel against
# itself, side by side in one run (issue 12): bulk goodput each way and the
# 64-byte request/response rate, with the same kernel-side programs
# (tests/interop/peer.py for bulk, build/tb_rr for RR).
#
#   bash tests/bench/tap.sh [build/tcpbed] [BYTES]
#
#   tap      namespace k: the kernel on tb0 (10.9.0.1), tcpbed holding tb0 (10.9.0.2)
#   veth     namespaces a, b: two kernels on a veth pair, offloads off (per-frame,
#            as the TAP path is) and on (the kernel's best)
# Needs root; prints "SKIP" otherwise.
set -uo pipefail
cd "$(dirname "$0")/../.."
BIN=$(realpath "${1:-build/tcpbed}")
BYTES=${2:-500M}
RR=$(realpath build/tb_rr)
PEER=$(realpath tests/interop/peer.py)
source tests/interop/lib.sh
it_init bench-tap
it_require_root
it_require_tools ip ethtool python3

# bulk_seconds LOG: the peer's own measure of one transfer.
peer_seconds() { python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().splitlines()[-1])["seconds"])' "$1"; }
mbps() { python3 -c "import sys; print('%.0f' % (float(sys.argv[1]) * 8 / float(sys.argv[2]) / 1e6))" "$1" "$2"; }
bytes_of() { python3 -c "import sys; s=sys.argv[1]; m={'K':1<<10,'M':1<<20,'G':1<<30}; print(int(s[:-1])*m[s[-1]] if s[-1] in m else int(s))" "$1"; }
N=$(bytes_of "$BYTES")

setup ns_create k
setup tap_create k tb0
setup addr_add k tb0 10.9.0.1/24
setup ns_create a
setup ns_create b
setup veth_create a va b vb
setup addr_add a va 10.9.3.1/24
setup addr_add b vb 10.9.3.2/24

declare -A R
# --- tcpbed on the TAP
bg_start k "$IT_TMP/sink.json" "$BIN" tap --iface tb0 --ip 10.9.0.2/24 --app sink --seed 1 --json
pid=$BG_PID; wait_for_port k 10.9.0.2 7 5 >/dev/null
in_ns k python3 "$PEER" client --connect 10.9.0.2:7 --send "$BYTES" >"$IT_TMP/p1" 2>&1
kill -TERM $pid; bg_wait $pid 10 >/dev/null
R[tap_in]=$(mbps "$N" "$(peer_seconds "$IT_TMP/p1")")
bg_start k "$IT_TMP/src.json" "$BIN" tap --iface tb0 --ip 10.9.0.2/24 --app source --bytes "$BYTES" --seed 1 --json
pid=$BG_PID; wait_for_port k 10.9.0.2 7 5 >/dev/null
in_ns k python3 "$PEER" client --connect 10.9.0.2:7 >"$IT_TMP/p2" 2>&1
kill -TERM $pid; bg_wait $pid 10 >/dev/null
R[tap_out]=$(mbps "$N" "$(peer_seconds "$IT_TMP/p2")")
bg_start k "$IT_TMP/echo.json" "$BIN" tap --iface tb0 --ip 10.9.0.2/24 --app echo --nodelay --seed 1 --json
pid=$BG_PID; wait_for_port k 10.9.0.2 7 5 >/dev/null
R[tap_rr]=$(in_ns k "$RR" client 10.9.0.2 7 5 64 | awk '{print $6}')
kill -TERM $pid; bg_wait $pid 10 >/dev/null

# --- the kernel against itself over veth
kernel_runs() { # tag
  bg_start b "$IT_TMP/ksrv" python3 "$PEER" server --port 5001
  local spid=$BG_PID; wait_for_port b 0.0.0.0 5001 5 >/dev/null
  in_ns a python3 "$PEER" client --connect 10.9.3.2:5001 --send "$BYTES" >"$IT_TMP/k1" 2>&1
  R[$1_in]=$(mbps "$N" "$(peer_seconds "$IT_TMP/k1")")
  bg_wait $spid 10 >/dev/null
  bg_start b "$IT_TMP/ksrv2" python3 "$PEER" server --port 5001 --send "$BYTES"
  spid=$BG_PID; wait_for_port b 0.0.0.0 5001 5 >/dev/null
  in_ns a python3 "$PEER" client --connect 10.9.3.2:5001 >"$IT_TMP/k2" 2>&1
  R[$1_out]=$(mbps "$N" "$(peer_seconds "$IT_TMP/k2")")
  bg_wait $spid 10 >/dev/null
  bg_start b "$IT_TMP/kecho" "$RR" echo 5002
  local epid=$BG_PID; wait_for_port b 0.0.0.0 5002 5 >/dev/null
  R[$1_rr]=$(in_ns a "$RR" client 10.9.3.2 5002 5 64 | awk '{print $6}')
  kill -TERM $epid 2>/dev/null
}
setup offloads_off va a
setup offloads_off vb b
kernel_runs off
for f in tso gso gro tx rx; do in_ns a ethtool -K va $f on >/dev/null 2>&1; in_ns b ethtool -K vb $f on >/dev/null 2>&1; done
kernel_runs on

echo "bulk goodput, $BYTES per transfer (Mbit/s; the peer's own clock), and 64-byte RR (transactions/s, 5 s):"
printf '  %-38s %12s %12s %12s\n' "" "into it" "out of it" "64 B RR/s"
printf '  %-38s %12s %12s %12s\n' "tcpbed on TAP <-> kernel" "${R[tap_in]}" "${R[tap_out]}" "${R[tap_rr]}"
printf '  %-38s %12s %12s %12s\n' "kernel <-> kernel, veth, offloads off" "${R[off_in]}" "${R[off_out]}" "${R[off_rr]}"
printf '  %-38s %12s %12s %12s\n' "kernel <-> kernel, veth, offloads on" "${R[on_in]}" "${R[on_out]}" "${R[on_rr]}"
python3 - "${R[tap_in]}" "${R[tap_out]}" "${R[tap_rr]}" "${R[off_in]}" "${R[off_out]}" "${R[off_rr]}" <<'EOF'
import sys
t = [float(x) for x in sys.argv[1:4]]; k = [float(x) for x in sys.argv[4:7]]
print("  ratio tcpbed/kernel (offloads off):    %12.2f %12.2f %12.2f" % tuple(a / b if b else 0 for a, b in zip(t, k)))
EOF
ok "benchmark ran"
it_finish
