#!/usr/bin/env bash
# tcpbed on a TAP device against the Linux kernel's TCP, curl and wrk, in
# namespaces this test makes and removes (tests/interop/lib.sh).
#
#   tests/interop/test_tap.sh build/tcpbed
#
# Three paths between tcpbed and the kernel:
#   direct   namespace k holds the TAP tb0; the kernel's side of it is 10.9.0.1,
#            tcpbed (holding the device) is 10.9.0.2.
#   wire     namespace m holds tb0 and one end of a veth pair whose other end
#            is in k (10.9.1.1); `tcpbed wire` joins tb0 and the veth end and
#            impairs both directions.
#   nft      the same, with a bridge in m instead of tcpbed wire, and nftables
#            dropping at random in the bridge's forward chain: an impairment
#            from code we did not write.
# Every transfer is checked by SHA-256 at both ends.
set -uo pipefail
cd "$(dirname "$0")/../.."
BIN=$(realpath "${1:-build/tcpbed}")
PEER=$(realpath tests/interop/peer.py)
source tests/interop/lib.sh
it_init interop-tap
it_require_root
it_require_tools ip ethtool python3 curl wrk nft tshark

BIG=${TAP_BIG:-100M}          # each way, on the clean path
IMPAIRED=${TAP_IMPAIRED:-100M} # each way, through every fault kind (wire) or 2 % loss (nft)
TB=10.9.0.2
K=10.9.0.1

# json FILE EXPR: a value from the last JSON line of FILE (python expression on j).
json() {
  python3 - "$1" "$2" <<'EOF'
import json, sys
lines = [l for l in open(sys.argv[1]) if l.startswith("{")]
j = json.loads(lines[-1]) if lines else {}
try:
    v = eval(sys.argv[2], {"j": j})
except Exception as e:
    v = "<missing: %s>" % e
print("true" if v is True else "false" if v is False else v)
EOF
}

# tap_start NS LOG ARGS...: tcpbed tap in the background; TAP_PID.
tap_start() {
  local ns=$1 log=$2
  shift 2
  bg_start "$ns" "$log" "$BIN" tap --json "$@"
  TAP_PID=$BG_PID
}

# tap_stop PID: SIGTERM, then wait for the summary.
tap_stop() {
  kill -TERM "$1" 2>/dev/null
  bg_wait "$1" 20
}

# ---- the direct path ----------------------------------------------------------
# tcpbed in namespace t (its TAP tb0 on a bridge), the kernel in namespace k,
# joined by a veth pair: plumbing this test owns.
setup ns_create k
setup ns_create t
setup tap_create t tb0
setup veth_create t vt0 k vk0
setup offloads_off vk0 k
setup offloads_off vt0 t
setup bridge_create t br0 tb0 vt0
setup addr_add k vk0 $K/24

# -- the command's own errors
out=$(in_ns t timeout 5 "$BIN" tap --ip $TB/24 --app echo 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q -- "--iface NAME is required" <<<"$out" && ok "missing --iface: exit 2 and says so" ||
  fail "missing --iface" "rc=$rc $out"
out=$(in_ns t timeout 5 "$BIN" tap --iface tb0 --ip 10.9.0.2 --app echo 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "expected ADDR/PREFIX" <<<"$out" && ok "--ip without a prefix is refused" || fail "--ip no prefix" "$out"
out=$(in_ns t timeout 5 "$BIN" tap --iface tb0 --ip $TB/24 --app ftp 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "expected echo, sink, source, http or client, got 'ftp'" <<<"$out" && ok "unknown --app is refused" ||
  fail "unknown app" "$out"
out=$(in_ns t timeout 5 "$BIN" tap --iface tb0 --ip $TB/24 --app client 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "needs --connect" <<<"$out" && ok "client without --connect is refused" || fail "client no connect" "$out"
out=$(in_ns t timeout 5 "$BIN" tap --iface tb0 --ip $TB/24 --app echo --bytes 10 2>&1); rc=$?
[ $rc -eq 2 ] && ok "echo --bytes is refused" || fail "echo --bytes" "$out"
out=$(in_ns t timeout 5 "$BIN" tap --iface tb0 --ip $TB/24 --app sink --both 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q "needs --bytes" <<<"$out" && ok "--both without --bytes is refused" || fail "both no bytes" "$out"
out=$(in_ns t timeout 5 "$BIN" tap --iface lo --ip $TB/24 --app echo 2>&1); rc=$?
[ $rc -eq 1 ] && grep -q "is not a TAP device" <<<"$out" && ok "a device that is not a TAP: clear error" ||
  fail "not a tap" "rc=$rc $out"
out=$(in_ns t timeout 5 setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all \
  "$BIN" tap --iface tbnew0 --ip $TB/24 --app echo 2>&1); rc=$?
[ $rc -eq 1 ] && grep -q "permission denied" <<<"$out" && ok "no permission: clear error" || fail "no permission" "rc=$rc $out"
out=$(in_ns t timeout 10 "$BIN" tap --iface tb0 --ip $K/24 --app echo 2>&1); rc=$?
[ $rc -eq 1 ] && grep -q "address $K is already in use on tb0" <<<"$out" && ok "an address already in use: clear error" ||
  fail "address in use" "rc=$rc $out"

# -- curl and wrk against --app http
tap_start t "$IT_TMP/http.json" --iface tb0 --ip $TB/24 --app http --bytes 5000 --seed 3
HTTP_PID=$TAP_PID
if wait_for_line "$IT_TMP/http.json" "listening on" 5; then
  ok "tcpbed http answers on port 80"
  in_ns k python3 "$PEER" sha256 --bytes 0 >/dev/null   # the peer runs at all
  body_sha=$(in_ns k curl -s --max-time 5 http://$TB/ | sha256sum | cut -d' ' -f1)
  code=$(in_ns k curl -s -o /dev/null -w '%{http_code} %{size_download} %{num_connects}' --max-time 5 http://$TB/x)
  [ "$code" = "200 5000 1" ] && ok "curl: 200, a 5000-byte body" || fail "curl status/size" "$code"
  three=$(in_ns k curl -s -o /dev/null -o /dev/null -o /dev/null -w '%{num_connects}\n' --max-time 5 http://$TB/a http://$TB/b http://$TB/c | tr '\n' ' ')
  [ "$three" = "1 0 0 " ] && ok "curl keep-alive: three requests on one connection" || fail "curl keep-alive" "$three"
  again=$(in_ns k curl -s --max-time 5 http://$TB/ | sha256sum | cut -d' ' -f1)
  [ -n "$body_sha" ] && [ "$body_sha" = "$again" ] && ok "the body is the same every time (a fixed body)" ||
    fail "body differs" "$body_sha $again"
  head=$(in_ns k curl -s -I --max-time 5 http://$TB/ | tr -d '\r')
  grep -q "^Content-Length: 5000" <<<"$head" && ok "HEAD: headers with the body's length" || fail "HEAD" "$head"
  h10=$(in_ns k curl -s -0 -o /dev/null -w '%{http_code}' --max-time 5 http://$TB/)
  [ "$h10" = 200 ] && ok "curl --http1.0 (no keep-alive)" || fail "http1.0" "$h10"
  seq_out=$(in_ns k python3 - "$TB" <<'EOF'
import socket, sys
ok = 0
for i in range(1000):
    s = socket.create_connection((sys.argv[1], 80), timeout=5)
    s.sendall(b"GET /n HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
    s.close()
    if data.startswith(b"HTTP/1.1 200 ") and data.endswith(b"\r\n\r\n" + data.split(b"\r\n\r\n", 1)[1]) and len(data.split(b"\r\n\r\n", 1)[1]) == 5000:
        ok += 1
print(ok)
EOF
)
  [ "$seq_out" = 1000 ] && ok "1,000 sequential connections, each a whole response" || fail "1000 connections" "$seq_out"
  wk=$(in_ns k wrk -t1 -c8 -d2s --timeout 2s http://$TB/ 2>&1)
  reqs=$(grep -oE '^ *[0-9]+ requests' <<<"$wk" | grep -oE '[0-9]+')
  if [ "${reqs:-0}" -gt 100 ] && ! grep -q "Socket errors" <<<"$wk" && ! grep -q "Non-2xx" <<<"$wk"; then
    ok "wrk keep-alive: $reqs requests, no errors"
  else fail "wrk keep-alive" "$wk"; fi
  wk=$(in_ns k wrk -t1 -c4 -d2s --timeout 2s -H "Connection: close" http://$TB/ 2>&1)
  reqs=$(grep -oE '^ *[0-9]+ requests' <<<"$wk" | grep -oE '[0-9]+')
  if [ "${reqs:-0}" -gt 50 ] && ! grep -q "Non-2xx" <<<"$wk"; then ok "wrk with Connection: close: $reqs requests"
  else fail "wrk close" "$wk"; fi
else
  fail "tcpbed http did not come up" "$(cat "$IT_TMP/http.json")"
fi
tap_stop $HTTP_PID; rc=$?
conns=$(json "$IT_TMP/http.json" 'j["connections"]')
failed=$(json "$IT_TMP/http.json" 'j["connections_failed"]')
# wrk ends its run by closing its 12 connections wherever they are: a
# connection cut mid-request is reset by the kernel, which tcpbed counts as
# a failed connection (and exits 1). Nothing else may fail.
reset_ok=$(json "$IT_TMP/http.json" 'all(f.get("error") in (None, "reset") for f in j["flows"])')
[ "$failed" -le 12 ] 2>/dev/null && [ "$conns" -ge 1000 ] && [ "$reset_ok" = true ] && { [ $rc -eq 0 ] || [ "$failed" -gt 0 ]; } &&
  ok "SIGTERM: http stops cleanly, $conns connections, $failed cut by wrk's end" || fail "http summary" "rc=$rc $(tail -3 "$IT_TMP/http.json")"
[ "$(json "$IT_TMP/http.json" 'j["stopped_by"]')" = SIGTERM ] && ok "the summary says SIGTERM stopped it" ||
  fail "stopped_by" "$(tail -1 "$IT_TMP/http.json")"

# -- busy: a second tcpbed cannot take a device the first holds
tap_start t "$IT_TMP/holder.json" --iface tb0 --ip $TB/24 --app echo
wait_for_line "$IT_TMP/holder.json" "listening on" 5 >/dev/null
out=$(in_ns t timeout 5 "$BIN" tap --iface tb0 --ip 10.9.0.3/24 --app echo 2>&1); rc=$?
[ $rc -eq 1 ] && grep -q "busy" <<<"$out" && ok "a device another process holds: 'busy'" || fail "busy" "rc=$rc $out"
# -- echo round trip from the kernel
echo_out=$(in_ns k python3 - "$TB" <<'EOF'
import socket, sys, hashlib, os
data = os.urandom(3 * 1024 * 1024 + 17)
s = socket.create_connection((sys.argv[1], 7), timeout=10)
import threading
got = bytearray()
def rd():
    while True:
        b = s.recv(65536)
        if not b: break
        got.extend(b)
t = threading.Thread(target=rd); t.start()
s.sendall(data); s.shutdown(socket.SHUT_WR); t.join(); s.close()
print("same" if bytes(got) == data else "differs %d %d" % (len(got), len(data)))
EOF
)
[ "$echo_out" = same ] && ok "echo: 3 MiB from the kernel come back unchanged" || fail "echo" "$echo_out"
tap_stop $TAP_PID >/dev/null

# transfer NAME TIMEOUT_S TAP_ARGS -- PEER_ARGS: one tcpbed app and one kernel
# peer, both summaries checked: what one sent is what the other received.
# TAP_NS / PEER_NS / TB_IP say where (default the direct path).
transfer() {
  local name=$1 timeout_s=$2
  shift 2
  local tap_args=() peer_args=()
  while [ "$1" != -- ]; do tap_args+=("$1"); shift; done
  shift
  peer_args=("$@")
  local tj="$IT_TMP/$name.tap.json" pj="$IT_TMP/$name.peer.json"
  local peer_first=0
  [ "${peer_args[0]}" = server ] && peer_first=1
  if [ $peer_first -eq 1 ]; then
    bg_start "${PEER_NS:-k}" "$pj" python3 "$PEER" "${peer_args[@]}" --timeout 120
    local ppid=$BG_PID
    wait_for_port "${PEER_NS:-k}" 0.0.0.0 5001 5 >/dev/null
    tap_start "${TAP_NS:-t}" "$tj" "${tap_args[@]}"
    local tpid=$TAP_PID
    bg_wait $tpid "$timeout_s"; local trc=$?
    bg_wait $ppid 20; local prc=$?
  else
    tap_start "${TAP_NS:-t}" "$tj" "${tap_args[@]}"
    local tpid=$TAP_PID
    wait_for_line "$tj" "listening on" 5 >/dev/null
    bg_start "${PEER_NS:-k}" "$pj" python3 "$PEER" "${peer_args[@]}" --timeout 120
    local ppid=$BG_PID
    bg_wait $ppid "$timeout_s"; local prc=$?
    kill -TERM $tpid 2>/dev/null
    bg_wait $tpid 20; local trc=$?
  fi
  local t_in t_out p_in p_out
  t_in=$(json "$tj" 'j["flows"][0]["sha256_in"]'); t_out=$(json "$tj" 'j["flows"][0]["sha256_out"]')
  p_in=$(json "$pj" 'j["sha256_in"]'); p_out=$(json "$pj" 'j["sha256_out"]')
  local tb_bytes_in tb_bytes_out
  tb_bytes_in=$(json "$tj" 'j["flows"][0]["bytes_in"]'); tb_bytes_out=$(json "$tj" 'j["flows"][0]["bytes_out"]')
  if [ $trc -eq 0 ] && [ $prc -eq 0 ] && [ "$t_in" = "$p_out" ] && [ "$t_out" = "$p_in" ] &&
     [ "$(json "$tj" 'j["flows"][0].get("error", "none")')" = none ]; then
    ok "$name: tcpbed got $tb_bytes_in bytes, sent $tb_bytes_out; SHA-256 equal at both ends"
  else
    fail "$name" "tap rc=$trc peer rc=$prc
tap in $t_in / peer out $p_out
tap out $t_out / peer in $p_in
$(tail -c 1500 "$tj")
$(tail -c 600 "$pj")"
  fi
}

transfer "kernel-to-tcpbed-$BIG" 120 --iface tb0 --ip $TB/24 --app sink --seed 5 -- \
  client --connect $TB:7 --send $BIG --seed 11
transfer "tcpbed-to-kernel-$BIG" 120 --iface tb0 --ip $TB/24 --app source --bytes $BIG --seed 6 -- \
  client --connect $TB:7
transfer "tcpbed-client-to-kernel-$BIG" 120 --iface tb0 --ip $TB/24 --app client --connect $K:5001 --bytes $BIG --seed 7 -- \
  server --port 5001
transfer "both-ways-at-once-$BIG" 180 --iface tb0 --ip $TB/24 --app client --connect $K:5001 --bytes $BIG --both --seed 8 -- \
  server --port 5001 --send $BIG --seed 12
transfer "sink-both-ways-$BIG" 180 --iface tb0 --ip $TB/24 --app sink --both --bytes $BIG --seed 9 -- \
  client --connect $TB:7 --send $BIG --seed 13

# -- the kernel as a client of a closed port: RST, ECONNREFUSED
tap_start t "$IT_TMP/closed.json" --iface tb0 --ip $TB/24 --app sink
wait_for_line "$IT_TMP/closed.json" "listening on" 5 >/dev/null
check "the kernel connecting to a closed port is refused" in_ns k python3 "$PEER" client --connect $TB:9 --expect-refused --timeout 5
# -- the kernel resets a connection: the flow ends with 'reset', the server serves on
in_ns k python3 "$PEER" client --connect $TB:7 --send 4M --reset-after 0 --timeout 10 >/dev/null 2>&1 &
rst_pid=$!
wait $rst_pid
check "after a reset the server still serves" in_ns k python3 "$PEER" client --connect $TB:7 --send 1M --timeout 10
tap_stop $TAP_PID >/dev/null
resets=$(json "$IT_TMP/closed.json" 'sum(1 for f in j["flows"] if f.get("error") == "reset")')
served=$(json "$IT_TMP/closed.json" 'sum(1 for f in j["flows"] if f.get("error") is None and f["bytes_in"] == 1048576)')
[ "$resets" = 1 ] && [ "$served" = 1 ] && ok "a connection the kernel resets ends with 'reset'; the next is served" ||
  fail "reset" "resets=$resets served=$served $(tail -c 800 "$IT_TMP/closed.json")"
refused_rst=$(json "$IT_TMP/closed.json" 'j["stack"]["tcp_rsts_sent"] if "tcp_rsts_sent" in j["stack"] else "n/a"')
echo "     (RSTs sent by tcpbed: $refused_rst)"

# -- tcpbed client, kernel server resets it
bg_start k "$IT_TMP/rstsrv.json" python3 "$PEER" server --port 5001 --reset-after 1M --timeout 20
rpid=$BG_PID
wait_for_port k 0.0.0.0 5001 5 >/dev/null
tap_start t "$IT_TMP/rstcli.json" --iface tb0 --ip $TB/24 --app client --connect $K:5001 --bytes 50M
bg_wait $TAP_PID 30; rc=$?
bg_wait $rpid 10 >/dev/null
[ $rc -eq 1 ] && [ "$(json "$IT_TMP/rstcli.json" 'j["flows"][0].get("error")')" = reset ] &&
  ok "the kernel server resets tcpbed's client: exit 1, error 'reset'" || fail "client reset" "rc=$rc $(tail -c 600 "$IT_TMP/rstcli.json")"

# -- a listener whose backlog is full: Linux drops the SYN while its accept
# queue is full (tcp_conn_request); tcpbed retransmits it, and the
# connection completes once the application accepts; the data arrives whole.
# (A background job's stdin is /dev/null: the script goes in a file.)
cat >"$IT_TMP/backlog.py" <<'EOF'
import socket, sys, time, hashlib
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((sys.argv[1], 5002)); ls.listen(0)
# Fill the accept queue with our own connection: with backlog 0 Linux
# counts it full at one (sk_acceptq_is_full: queued > backlog).
fill = [socket.create_connection((sys.argv[1], 5002), timeout=5)]
print("full", flush=True)
time.sleep(3)
got = []
deadline = time.time() + 30
while time.time() < deadline:
    c, a = ls.accept()
    if a[0] == sys.argv[1]:
        continue
    h = hashlib.sha256(); n = 0
    while True:
        b = c.recv(65536)
        if not b: break
        h.update(b); n += len(b)
    c.close()
    print('{"bytes_in": %d, "sha256_in": "%s"}' % (n, h.hexdigest()), flush=True)
    break
EOF
bg_start k "$IT_TMP/backlog.log" python3 "$IT_TMP/backlog.py" "$K"
bpid=$BG_PID
wait_for_line "$IT_TMP/backlog.log" full 5 >/dev/null
tap_start t "$IT_TMP/backlog.json" --iface tb0 --ip $TB/24 --app client --connect $K:5002 --bytes 2M --seed 4
bg_wait $TAP_PID 40; rc=$?
bg_wait $bpid 10 >/dev/null
rexmits=$(json "$IT_TMP/backlog.json" 'j["stack"]["tcp_retransmits"]')
if [ $rc -eq 0 ] && [ "${rexmits:-0}" -ge 1 ] &&
   [ "$(json "$IT_TMP/backlog.json" 'j["flows"][0]["sha256_out"]')" = "$(json "$IT_TMP/backlog.log" 'j["sha256_in"]')" ]; then
  ok "a kernel listener with a full backlog drops tcpbed's SYN; it retransmits ($rexmits) and delivers whole"
else fail "full backlog" "rc=$rc $(tail -c 600 "$IT_TMP/backlog.json") $(cat "$IT_TMP/backlog.log")"; fi

# -- a peer that disappears: the kernel's address goes away mid-transfer, so
# nothing answers (no RST): RTO gives up with 'timeout'.
bg_start k "$IT_TMP/gone.srv" python3 "$PEER" server --port 5001 --timeout 30
gpid=$BG_PID
wait_for_port k 0.0.0.0 5001 5 >/dev/null
tap_start t "$IT_TMP/gone.json" --iface tb0 --ip $TB/24 --app client --connect $K:5001 --max-retries 3 --rto-min 100ms
sleep 1
ip -n "$(ns_name k)" addr del $K/24 dev vk0
bg_wait $TAP_PID 30; rc=$?
err=$(json "$IT_TMP/gone.json" 'j["flows"][0].get("error")')
[ $rc -eq 1 ] && [ "$err" = timeout ] && ok "a peer that disappears: RTO gives up with 'timeout'" ||
  fail "rto give-up" "rc=$rc $(tail -c 600 "$IT_TMP/gone.json")"
kill -TERM $gpid 2>/dev/null
addr_add k vk0 $K/24
# ... and keepalive gives up on an idle connection.
tap_start t "$IT_TMP/ka.json" --iface tb0 --ip $TB/24 --app sink --keepalive-idle 1s --keepalive-intvl 300ms --keepalive-probes 3
wait_for_line "$IT_TMP/ka.json" "listening on" 5 >/dev/null
bg_start k "$IT_TMP/ka.cli" python3 -c "
import socket, time
s = socket.create_connection(('$TB', 7)); time.sleep(30)"
sleep 0.5
ip -n "$(ns_name k)" addr del $K/24 dev vk0
sleep 4
tap_stop $TAP_PID >/dev/null
err=$(json "$IT_TMP/ka.json" 'j["flows"][0].get("error")')
probes=$(json "$IT_TMP/ka.json" 'j["stack"].get("tcp_keepalive_probes", "n/a")')
[ "$err" = timeout ] && ok "an idle peer that disappears: keepalive gives up with 'timeout' (probes: $probes)" ||
  fail "keepalive give-up" "$(tail -c 800 "$IT_TMP/ka.json")"
addr_add k vk0 $K/24

# ---- impaired paths ------------------------------------------------------------
# Which impairments this kernel offers: netem where it is built in, else
# nftables and tcpbed wire only (these machines: CONFIG_NET_SCH_NETEM unset).
NETEM=no
if zcat /proc/config.gz 2>/dev/null | grep -q '^CONFIG_NET_SCH_NETEM=[ym]'; then NETEM=yes
elif in_ns k tc qdisc add dev lo root netem delay 1ms 2>/dev/null; then NETEM=yes; in_ns k tc qdisc del dev lo root; fi
if [ $NETEM = yes ]; then
  echo "     netem: available on this kernel: impairing with netem too, and with nftables and tcpbed wire"
  # netem on both ends of the direct path's veth: 2 % loss and 5 ms each way.
  setup in_ns k tc qdisc add dev vk0 root netem loss 2% delay 5ms
  setup in_ns t tc qdisc add dev vt0 root netem loss 2% delay 5ms
  transfer "netem-both-ways-$IMPAIRED" 300 --iface tb0 --ip $TB/24 --app client --connect $K:5001 \
    --bytes $IMPAIRED --both --seed 71 -- server --port 5001 --send $IMPAIRED --seed 72
  in_ns k tc qdisc del dev vk0 root; in_ns t tc qdisc del dev vt0 root
else
  echo "     netem: not available (CONFIG_NET_SCH_NETEM is not set, and adding the qdisc fails): impairing with nftables and tcpbed wire"
fi

# -- tcpbed wire between the TAP and a veth to the kernel, every fault both ways
setup ns_create m
setup tap_create m tb0
setup veth_create m vm0 k vkw0
setup addr_add k vkw0 10.9.1.1/24
setup offloads_off vkw0 k
setup offloads_off vm0 m
bg_start m "$IT_TMP/wire.out" "$BIN" wire --a packet:tb0 --b vm0 --loss 0.02 --reorder 0.05 --duplicate 0.01 --corrupt 0.005 \
  --delay 5ms --seed 21 --pcap-dir "$IT_TMP/wire" --fault-log "$IT_TMP/wire.faults" --json
WIRE_PID=$BG_PID
sleep 0.5
TAP_NS=m PEER_NS=k TB_IP=10.9.1.2
export TAP_NS PEER_NS TB_IP
transfer "wire-impaired-kernel-to-tcpbed-$IMPAIRED" 300 --iface tb0 --ip 10.9.1.2/24 --app sink --seed 31 -- \
  client --connect 10.9.1.2:7 --send $IMPAIRED --seed 41
transfer "wire-impaired-tcpbed-to-kernel-$IMPAIRED" 300 --iface tb0 --ip 10.9.1.2/24 --app client --connect 10.9.1.1:5001 \
  --bytes $IMPAIRED --seed 32 -- server --port 5001
transfer "wire-impaired-both-ways-$IMPAIRED" 300 --iface tb0 --ip 10.9.1.2/24 --app client --connect 10.9.1.1:5001 \
  --bytes $IMPAIRED --both --seed 33 --record "$IT_TMP/lossy.tbrl" -- server --port 5001 --send $IMPAIRED --seed 42
kill -TERM $WIRE_PID; bg_wait $WIRE_PID 10; rc=$?
fired=$(json "$IT_TMP/wire.out" 'j.get("faults_fired", 0)')
kinds=$(python3 -c '
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
print(" ".join(sorted({r["from"] + ">" + r["to"] + ":" + r["event"] for r in rows})))' "$IT_TMP/wire.faults" 2>&1)
every=1
for k in A:B:loss B:A:loss A:B:reorder B:A:reorder A:B:duplicate B:A:duplicate A:B:corrupt B:A:corrupt; do
  grep -q "${k%%:*}>$(cut -d: -f2 <<<"$k"):$(cut -d: -f3 <<<"$k")" <<<"$kinds" || every=0
done
[ $rc -eq 0 ] && [ "${fired:-0}" -gt 100 ] && [ $every = 1 ] &&
  ok "tcpbed wire fired $fired faults, every kind both ways, and stopped cleanly" ||
  fail "wire" "rc=$rc fired=$fired kinds: $kinds
$(tail -5 "$IT_TMP/wire.out")"
# -- the lossy both-ways run replays, in virtual time, frame for frame
out=$("$BIN" replay "$IT_TMP/lossy.tbrl" 2>&1); rc=$?
[ $rc -eq 0 ] && grep -q '^identical' <<<"$out" && ok "the recorded lossy run replays identical" || fail "replay" "rc=$rc $out"
# ... and a deliberately edited copy names its first divergence exactly.
edit=$(python3 tests/cli/runlog_edit.py "$IT_TMP/lossy.tbrl" "$IT_TMP/edited.tbrl" window 500 4321 2>&1)
frame=$(grep -oE 'frame=[0-9]+' <<<"$edit" | cut -d= -f2); old=$(grep -oE 'old=[0-9]+' <<<"$edit" | cut -d= -f2)
out=$("$BIN" replay "$IT_TMP/edited.tbrl" 2>&1); rc=$?
if [ $rc -eq 1 ] && grep -qE "^divergence: frame $frame .*tcp\.window: recorded 4321, replayed $old$" <<<"$out"; then
  ok "an edited run-log: the divergence names frame $frame, tcp.window, 4321 against $old"
else fail "edited replay" "rc=$rc edit: $edit
$out"; fi
unset TAP_NS PEER_NS TB_IP

# -- nftables: random loss in a bridge's forward chain, both ways
setup ns_create n
setup tap_create n tb1
setup veth_create n vn0 k vk1
setup addr_add k vk1 10.9.2.1/24
setup offloads_off vk1 k
setup offloads_off vn0 n
setup bridge_create n br0 tb1 vn0
setup in_ns n nft add table bridge impair
setup in_ns n nft add chain bridge impair forward '{ type filter hook forward priority 0; }'
setup in_ns n nft add rule bridge impair forward numgen random mod 1000 '<' 20 counter drop
TAP_NS=n PEER_NS=k TB_IP=10.9.2.2
transfer "nft-loss-kernel-to-tcpbed-$IMPAIRED" 300 --iface tb1 --ip 10.9.2.2/24 --app sink --seed 51 -- \
  client --connect 10.9.2.2:7 --send $IMPAIRED --seed 61
transfer "nft-loss-both-ways-$IMPAIRED" 300 --iface tb1 --ip 10.9.2.2/24 --app client --connect 10.9.2.1:5001 \
  --bytes $IMPAIRED --both --seed 52 -- server --port 5001 --send $IMPAIRED --seed 62
unset TAP_NS PEER_NS TB_IP
drops=$(in_ns n nft list chain bridge impair forward | grep -oE 'packets [0-9]+' | grep -oE '[0-9]+')
[ "${drops:-0}" -gt 50 ] && ok "nftables dropped $drops frames on the bridge" || fail "nft drops" "${drops:-none}"

it_finish
