#!/usr/bin/env bash
# Runs a `tcpbed tap` command shown in the documents, as shown, inside a
# namespace made for it (tests/cli/test_docs.sh calls this instead of
# running it on the machine's own network), drives it as the text says,
# stops it with SIGTERM and checks what it printed.
#
#   docs_tap.sh MODE TCPBED -- ARGS...
#     MODE  curl    the device is tcpbed's own (--host-ip): curl its address
#           echo    a persistent tb0 (10.9.0.1) exists: echo 1 MiB through it
#           sink    the same: send 1 MiB into it with tests/interop/peer.py
# Runs in the caller's directory (files the command writes land there).
set -uo pipefail
MODE=$1 BIN=$2
shift 3
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
it_init docs-tap
it_require_root
setup ns_create d
if [ "$MODE" != curl ]; then
  setup tap_create d tb0
  setup addr_add d tb0 10.9.0.1/24
fi
bg_start d "$IT_TMP/out" "$BIN" tap "$@"
pid=$BG_PID
case $MODE in
  curl)
    wait_for_line "$IT_TMP/out" "listening on" 5 && n=$(in_ns d curl -s --max-time 5 http://10.9.0.2/ | wc -c)
    [ "${n:-0}" = 1024 ] && ok "curl http://10.9.0.2/: 1024 bytes" || fail "curl" "got ${n:-nothing}"
    ;;
  echo)
    wait_for_line "$IT_TMP/out" "listening on" 5
    r=$(in_ns d python3 -c '
import socket, os
d = os.urandom(1 << 20); s = socket.create_connection(("10.9.0.2", 7), timeout=5); s.sendall(d); s.shutdown(1)
g = b""
while True:
    b = s.recv(65536)
    if not b: break
    g += b
print(g == d)')
    [ "$r" = True ] && ok "echo: 1 MiB back unchanged" || fail "echo" "$r"
    ;;
  sink)
    wait_for_line "$IT_TMP/out" "listening on" 5
    check "peer.py sends 1 MiB into the sink" in_ns d python3 "$HERE/peer.py" client --connect 10.9.0.2:7 --send 1M --timeout 10
    ;;
esac
kill -TERM "$pid" 2>/dev/null
bg_wait "$pid" 10; rc=$?
[ $rc -eq 0 ] && grep -q "stopped by SIGTERM" "$IT_TMP/out" && ok "SIGTERM: a clean stop and a summary" ||
  fail "stop" "rc=$rc $(tail -5 "$IT_TMP/out")"
cat "$IT_TMP/out"
it_finish
