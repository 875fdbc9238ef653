#!/usr/bin/env bash
# Command-line tests of `tcpbed check`: the conformance scripts pass, a
# wrong expectation fails naming its line, what was expected and what the
# stack did; Python blocks and shell lines skip; --junit is well-formed XML,
# --pcap-dir writes pcaps tcpdump reads; usage errors exit 2.
set -uo pipefail
cd "$(dirname "$0")/../.."
TCPBED=${1:-build/tcpbed}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# shellcheck source=tests/cli/lib.sh
. tests/cli/lib.sh
RUN=tests/conformance
nrun=$(find "$RUN" -name '*.pkt' | wc -l)

# --- help, and the command is listed
expect "tcpbed help lists check" 0 "$TCPBED" help
contains "check in the command list" "check     run packetdrill-language scripts"
expect "tcpbed check --help" 0 "$TCPBED" check --help
contains "help documents --junit" "--junit FILE"
contains "help documents --pcap-dir" "--pcap-dir DIR"

# --- the conformance scripts pass, in path order, with the summary last
expect "the conformance scripts pass" 0 "$TCPBED" check "$RUN"
if [ "$(tail -1 <<<"$LAST_OUT")" = "$nrun passed, 0 failed, 0 skipped" ]; then ok "summary: $nrun passed, 0 failed, 0 skipped"
else bad "summary line" "$LAST_OUT"; fi
if [ "$(grep -c '^ok   ' <<<"$LAST_OUT")" -eq "$nrun" ]; then ok "one ok line per script"; else bad "ok lines" "$LAST_OUT"; fi
if diff <(sed -n 's/^ok   //p' <<<"$LAST_OUT") <(find "$RUN" -name '*.pkt' | LC_ALL=C sort) >/dev/null; then
  ok "scripts run sorted by path"; else bad "order" "$LAST_OUT"; fi
contains "a script is named by its path" "ok   $RUN/rfc9293/3.8.6.3-data-in.pkt"
expect "a trailing slash gives the same paths" 0 "$TCPBED" check "$RUN/"
contains "no double slash" "ok   $RUN/rfc9293/3.8.6.3-data-in.pkt"
expect "another seed passes too" 0 "$TCPBED" check --seed 7 "$RUN"
expect "options after the files" 0 "$TCPBED" check "$RUN/rfc9293/3.8.6.3-data-in.pkt" --seed 3
contains "one script" "1 passed, 0 failed, 0 skipped"
expect "= form of options" 0 "$TCPBED" check --seed=3 "$RUN/rfc9293/3.8.6.3-data-in.pkt"
mkdir -p "$TMP/nest/a/b"
cp "$RUN/rfc9293/3.8.6.3-data-in.pkt" "$TMP/nest/a/b/z.pkt"
cp "$RUN/rfc9293/3.7.1-data-out.pkt" "$TMP/nest/a/y.pkt"
cp "$RUN/rfc9293/3.8.6.3-data-in.pkt" "$TMP/nest/notes.txt"
expect "a directory: every *.pkt below it" 0 "$TCPBED" check "$TMP/nest"
if [ "$(grep -E '^(ok|FAIL|skip)' <<<"$LAST_OUT" | sed 's/^.... //')" = "$TMP/nest/a/b/z.pkt
$TMP/nest/a/y.pkt" ]; then ok "nested scripts found, sorted by path, other files ignored"; else bad "nested" "$LAST_OUT"; fi

# --- a deliberately wrong expectation: the delayed ACK of data-in.pkt acks 1000, not 1001
mkdir -p "$TMP/wrong"
line=$(grep -n '^+.04 > . 1:1(0) ack 1001 win 32643$' "$RUN/rfc9293/3.8.6.3-data-in.pkt" | cut -d: -f1)
sed "${line}s/ack 1001/ack 1000/" "$RUN/rfc9293/3.8.6.3-data-in.pkt" > "$TMP/wrong/data-in.pkt"
expect "a wrong expectation fails with exit 1" 1 "$TCPBED" check "$TMP/wrong/data-in.pkt"
contains "FAIL line" "FAIL $TMP/wrong/data-in.pkt"
contains "the message names the line" "    $TMP/wrong/data-in.pkt:$line: error handling packet:"
contains "what was expected" "script packet: 0.140000 > . 1:1(0) ack 1000 win 32643"
contains "what the stack did" "actual packet: 0.140000 > . 1:1(0) ack 1001"
contains "the summary counts it" "0 passed, 1 failed, 0 skipped"
# a wrong call result and a wrong time, among passing scripts
sed 's/^+0 read(4, ..., 2000) = 1000$/+0 read(4, ..., 2000) = 999/' "$RUN/rfc9293/3.8.6.3-data-in.pkt" > "$TMP/wrong/read.pkt"
sed 's/^+.04 > \. 1:1(0) ack 1001 win 32643$/+.05 > . 1:1(0) ack 1001 win 32643/' "$RUN/rfc9293/3.8.6.3-data-in.pkt" > "$TMP/wrong/time.pkt"
expect "wrong variants among passing scripts exit 1" 1 "$TCPBED" check "$RUN" "$TMP/wrong"
contains "all counted" "$nrun passed, 3 failed, 0 skipped"
rline=$(grep -n '^+0 read(4, ..., 2000) = 999$' "$TMP/wrong/read.pkt" | cut -d: -f1)
contains "a wrong call result names its line" "$TMP/wrong/read.pkt:$rline:"
contains "a wrong time is a timing error" "timing error: expected outbound packet at 0.150000 sec but happened at 0.140000 sec"
expect "--tolerance-usecs overrides the script's" 0 "$TCPBED" check --tolerance-usecs 10000 "$TMP/wrong/time.pkt"
expect "a smaller tolerance still fails it" 1 "$TCPBED" check --tolerance-usecs 9999 "$TMP/wrong/time.pkt"

# --- a parse error is a failure naming FILE:LINE
printf '0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 bind(3, ..., ...) = 0\n+0 < S 0:0(0) win\n' > "$TMP/syntax.pkt"
expect "a syntax error fails" 1 "$TCPBED" check "$TMP/syntax.pkt"
contains "naming the file and line" "    $TMP/syntax.pkt:3:"

# --- unsupported constructs skip, never pass
cat > "$TMP/python.pkt" <<'PKT'
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 close(3) = 0
%{
assert tcpi_rto == 1000000
}%
PKT
expect "a Python block: exit 0 (nothing failed)" 0 "$TCPBED" check "$TMP/python.pkt"
contains "it is skipped" "skip $TMP/python.pkt: unsupported: $TMP/python.pkt:3:"
contains "not passed" "0 passed, 0 failed, 1 skipped"
{ echo '0 `sysctl -q net.ipv4.tcp_timestamps=0`'; cat "$RUN/rfc9293/3.8.6.3-data-in.pkt"; } > "$TMP/shell.pkt"
expect "a shell line skips the script" 0 "$TCPBED" check "$TMP/shell.pkt"
contains "as skipped" "0 passed, 0 failed, 1 skipped"
expect "--ignore-shell runs it" 0 "$TCPBED" check --ignore-shell "$TMP/shell.pkt"
contains "and it passes" "1 passed, 0 failed, 0 skipped"
contains "with a warning" "warning: shell command ignored"

# --- JUnit XML: well-formed, one testcase per script, failures and skips marked
printf '0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 close(3) = 4\n' > "$TMP/wrong/amp&<\"q\">.pkt"
expect "--junit with failures exits 1" 1 "$TCPBED" check --junit "$TMP/r.xml" "$RUN" "$TMP/wrong" "$TMP/python.pkt"
if python3 - "$TMP/r.xml" "$nrun" <<'PY'
import sys, xml.dom.minidom
d = xml.dom.minidom.parse(sys.argv[1])
n = int(sys.argv[2])
s = d.getElementsByTagName("testsuite")
assert len(s) == 1, "one testsuite"
cases = s[0].getElementsByTagName("testcase")
assert len(cases) == n + 5, len(cases)
assert s[0].getAttribute("tests") == str(n + 5)
assert s[0].getAttribute("failures") == "4" and s[0].getAttribute("skipped") == "1"
fails = [c for c in cases if c.getElementsByTagName("failure")]
skips = [c for c in cases if c.getElementsByTagName("skipped")]
assert len(fails) == 4 and len(skips) == 1
names = [c.getAttribute("name") for c in cases]
assert any(x.endswith('amp&<"q">.pkt') for x in names), names
m = [c.getElementsByTagName("failure")[0].getAttribute("message") for c in fails]
assert any("error handling packet" in x for x in m), m
assert all(x for x in m)
PY
then ok "--junit: parses, one testsuite, a testcase per script, failure/skipped, escaped names"
else bad "--junit XML" "$(cat "$TMP/r.xml")"; fi
python3 -c 'import xml.dom.minidom,sys; xml.dom.minidom.parse(sys.argv[1])' "$TMP/r.xml" && ok "--junit: xml.dom.minidom parses it" || bad "minidom"

# --- --pcap-dir: one pcap per script, readable by tcpdump
expect "--pcap-dir (created like mkdir -p)" 0 "$TCPBED" check --pcap-dir "$TMP/p/q" "$RUN"
n=$(find "$TMP/p/q" -name '*.pcap' | wc -l)
if [ "$n" -eq "$nrun" ]; then ok "one pcap per script"; else bad "pcaps: $n of $nrun" "$(ls "$TMP/p/q")"; fi
pc="$TMP/p/q/tests_conformance_rfc9293_3.8.6.3-data-in.pcap"
if [ -s "$pc" ]; then ok "named after the script path"; else bad "no $pc" "$(ls "$TMP/p/q")"; fi
if command -v tcpdump >/dev/null; then
  out=$(tcpdump -nn -r "$pc" 2>/dev/null)
  if grep -q '192.0.2.1.48896 > 192.168.0.1.8080: Flags \[S\]' <<<"$out" &&
     grep -q '192.168.0.1.8080 > 192.0.2.1.48896: Flags \[S.\]' <<<"$out" &&
     grep -q 'length 1000' <<<"$out"; then ok "tcpdump reads the pcap: SYN, SYN-ACK, the data"
  else bad "tcpdump -r" "$out"; fi
  allread=1
  for f in "$TMP"/p/q/*.pcap; do tcpdump -nn -r "$f" >/dev/null 2>&1 || { allread=0; bad "tcpdump cannot read $f"; }; done
  [ "$allread" -eq 1 ] && ok "tcpdump reads every pcap"
fi
if command -v tshark >/dev/null; then
  st=$(tshark -r "$pc" -o tcp.check_checksum:TRUE -Y tcp -T fields -e tcp.checksum.status 2>/dev/null)
  if [ -n "$st" ] && ! grep -qv '^1$' <<<"$st"; then ok "tshark: every TCP checksum good ($(wc -l <<<"$st") segments)"
  else bad "tshark: TCP checksums" "$st"; fi
fi
cp -r "$TMP/p/q" "$TMP/p/first"
expect "the same seed again" 0 "$TCPBED" check --pcap-dir "$TMP/p/q" "$RUN"
if diff -r "$TMP/p/first" "$TMP/p/q" >/dev/null; then ok "same seed: byte-identical pcaps"; else bad "pcaps differ between runs"; fi
mkdir -p "$TMP/flat/a"
cp "$RUN/rfc9293/3.5-passive-open.pkt" "$TMP/flat/a/b.pkt"
cp "$RUN/rfc9293/3.5-passive-open.pkt" "$TMP/flat/a_b.pkt"
expect "two paths that flatten alike" 0 "$TCPBED" check --pcap-dir "$TMP/flatp" "$TMP/flat"
if [ "$(ls "$TMP/flatp" | wc -l)" -eq 2 ] && ls "$TMP/flatp" | grep -q 'a_b-2\.pcap$'; then
  ok "each gets its own pcap (the later one -2)"; else bad "flattened pcaps" "$(ls "$TMP/flatp")"; fi
touch "$TMP/file"
expect "--pcap-dir over a file is a usage error" 2 "$TCPBED" check --pcap-dir "$TMP/file/x" "$RUN"
contains "and says so" "--pcap-dir:"

# --- --json
expect "--json" 1 "$TCPBED" check --json "$RUN" "$TMP/wrong" "$TMP/python.pkt"
if python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["failed"]==4 and d["skipped"]==1 and d["passed"]==int(sys.argv[2]) and len(d["scripts"])==d["passed"]+5 and not d["pass"]' "$LAST_OUT" "$nrun"
then ok "--json: counts and one entry per script"; else bad "--json" "$LAST_OUT"; fi

# --- the suite: at least 150 scripts of ours, all pass under both profiles' own rules
expect "the whole suite, default profile rfc" 0 "$TCPBED" check "$RUN"
n=$(tail -1 <<<"$LAST_OUT" | sed -n 's/^\([0-9]*\) passed, 0 failed, 0 skipped$/\1/p')
if [ -n "$n" ] && [ "$n" -ge "${CHECK_MIN_SCRIPTS:-150}" ]; then ok "tests/conformance: $n passed, 0 failed, 0 skipped"
else bad "tests/conformance: at least ${CHECK_MIN_SCRIPTS:-150} scripts pass, none fail or skip" "$(tail -1 <<<"$LAST_OUT")"; fi

# --- profiles: the Linux-style corpus runs as written under --profile linux
expect "--profile linux: the Linux-style corpus" 0 "$TCPBED" check --profile linux tests/check/corpus
contains "none fails" " 0 failed, "
expect "--profile rfc is the default" 0 "$TCPBED" check --profile rfc "$RUN/rfc6298/2-rto-data.pkt"
sed -e 's/wscale 3>$/wscale 8>/' -e 's/win 32768/win 49152/g' "$RUN/rfc6298/2-rto-data.pkt" > "$TMP/rto-linux.pkt"
expect "the RFC's 1 s RTO floor is not Linux's 200 ms" 1 "$TCPBED" check --profile linux "$TMP/rto-linux.pkt"
contains "a timing error" "timing error: expected outbound packet at 1.100000 sec but happened at 0.400000 sec"
expect "--profile in --json" 0 "$TCPBED" check --json --profile linux tests/check/corpus/ecn.pkt
if python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["profile"]=="linux" and d["passed"]==1' "$LAST_OUT"
then ok "--json names the profile"; else bad "--json profile" "$LAST_OUT"; fi
expect "an unknown profile" 2 "$TCPBED" check --profile bsd "$RUN"
contains "names what it expected" "--profile: expected rfc or linux, got 'bsd'"

# --- usage errors exit 2
expect "no script" 2 "$TCPBED" check
contains "says what is missing" "no script given"
expect "unknown flag" 2 "$TCPBED" check --colour "$RUN"
contains "the flag is named" "unknown option '--colour'"
expect "bad --seed" 2 "$TCPBED" check --seed lots "$RUN"
contains "the value is named" "--seed: expected a non-negative integer, got 'lots'"
expect "--seed without a value" 2 "$TCPBED" check --seed
expect "bad --tolerance-usecs" 2 "$TCPBED" check --tolerance-usecs -5 "$RUN"
expect "--ignore-shell takes no value" 2 "$TCPBED" check --ignore-shell=1 "$RUN"
expect "a missing file" 2 "$TCPBED" check "$RUN/rfc9293/3.8.6.3-data-in.pkt" "$TMP/none.pkt"
contains "is named" "cannot open '$TMP/none.pkt': No such file or directory"
expect "an unwritable --junit" 2 "$TCPBED" check --junit /nonexistent-dir/r.xml "$RUN"
contains "is named" "cannot write '/nonexistent-dir/r.xml'"

# --- no uninitialised byte reaches an output, no leak
if command -v valgrind >/dev/null && [[ "$TCPBED" != *asan* ]]; then
  expect "valgrind memcheck: check with --junit and --pcap-dir" 1 \
    valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
    "$TCPBED" check --junit "$TMP/v.xml" --pcap-dir "$TMP/v" "$RUN/rfc9293/3.8.6.3-data-in.pkt" "$TMP/wrong/data-in.pkt" "$TMP/python.pkt"
fi

echo "check: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
