#!/usr/bin/env bash
# Runs a `tcpbed wire ...` command as docs/tap.md shows it, on the recipe's
# plumbing: namespaces k1, mid and k2 (here with unique names), veth
# k1:eth0 <-> mid:a0 and mid:b0 <-> k2:eth0, offloads off, 10.12.0.1 and
# 10.12.0.2. The command runs inside mid in the current directory (its
# files land here, as they would for the reader) while k1 pings k2 and sends
# k2 a short stream; then SIGTERM stops it. Its exit status is the wire's;
# its output the wire's summary, then the traffic's.
#   bash tests/interop/wire_doc.sh tcpbed wire --a a0 --b b0 [options]
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
PEER=$HERE/peer.py
source "$HERE/lib.sh"
it_init wire-doc
if [ "$(id -u)" -ne 0 ]; then
  echo "wire_doc: SKIP: needs root (network namespaces); the command was not run" >&2
  exit 1
fi
# `tcpbed` as the docs write it: the binary on PATH (test_docs.sh puts the one under test there).
cmd=("$@")
[ "${cmd[0]}" = tcpbed ] && cmd[0]=$(command -v tcpbed)

setup ns_create k1
setup ns_create mid
setup ns_create k2
setup veth_create k1 eth0 mid a0
setup veth_create mid b0 k2 eth0
for end in "eth0 k1" "a0 mid" "b0 mid" "eth0 k2"; do setup offloads_off $end; done
setup addr_add k1 eth0 10.12.0.1/24
setup addr_add k2 eth0 10.12.0.2/24

log=$IT_TMP/wire.log
bg_start mid "$log" "${cmd[@]}"
wire=$BG_PID
if ! wait_for_line "$log" "tcpbed wire: running" 5; then
  bg_wait "$wire" 5
  rc=$?
  cat "$log"
  exit $rc
fi
traffic=$IT_TMP/traffic.log
{
  in_ns k1 ping -c 3 -i 0.2 -W 2 10.12.0.2
  bg_start k2 "$IT_TMP/server.log" python3 "$PEER" server --port 5001 --timeout 20
  wait_for_line "$IT_TMP/server.log" ready 5 &&
    in_ns k1 python3 "$PEER" client --connect 10.12.0.2:5001 --send 1M --timeout 20
} >"$traffic" 2>&1
kill -TERM "$wire"
bg_wait "$wire" 10
rc=$?
cat "$log"
echo "--- traffic through the wire"
cat "$traffic" "$IT_TMP/server.log"
exit $rc
