#!/usr/bin/env bash
# The arrows between rooms (docs/ARCHITECTURE.md), checked on the source:
# every quoted #include names a room the including room may depend on, the
# core's internals are seen only from stack/ (and the white-box tests the
# Makefile names), and only the host loop feeds the stack frames, runs its
# timers and drains its output. Prints the allowed graph, then the checks.
#   bash tests/check_arrows.sh [ROOT]
set -uo pipefail
ROOT=${1:-$(cd "$(dirname "$0")/.." && pwd)}

# room -> the rooms it may include (besides itself). Arrows point down,
# towards stack/include; nothing points back up.
declare -A ALLOWED=(
  [stack]="stack/include"
  [stack/include]=""
  [harness/lib]="stack/include"
  [harness/host]="harness/lib stack/include"
  [harness/peer]="stack/include"
  [harness/apps]="harness/host harness/lib stack/include"
  [traces]="harness/host harness/lib stack/include"
  [sim]="harness/apps harness/host harness/lib traces stack/include"
  [harness/fuzzin]="sim harness/apps harness/host harness/lib harness/peer traces stack/include"
  [harness/check]="harness/peer harness/host harness/lib traces stack/include"
  [harness/packetdrill]="harness/check harness/host stack/include"
  [harness/tap]="harness/host stack/include"
  # The wire applies the simulator's link model (sim/link.h, sim/faults.h) to
  # real frames, so the two cannot drift; it runs no host.
  [harness/wire]="sim harness/lib traces stack/include"
  [harness/replay]="traces harness/host harness/lib stack/include"
  [harness]="stack/include"
  [harness/cli]="harness/tap harness/wire harness/replay harness/fuzzin harness/check sim harness/apps harness/host harness/lib harness/peer traces stack/include"
  [fuzz]="harness/replay harness/fuzzin harness/check sim harness/apps harness/host harness/lib harness/peer traces stack/include"
  [tests]="harness/cli harness/tap harness/wire harness/replay harness/fuzzin harness/check harness/packetdrill sim harness/apps harness/host harness/lib harness/peer traces stack/include"
)
ORDER="stack/include stack harness/lib harness/host harness/peer harness/apps traces sim harness/fuzzin harness/check harness/packetdrill harness/tap harness/wire harness/replay harness harness/cli fuzz tests"
# White-box tests of the core's own structures (Makefile: WHITEBOX_SRC).
WHITEBOX=$(sed -n 's/^WHITEBOX_SRC := //p' "$ROOT/Makefile" 2>/dev/null)

room_of_file() { # path relative to ROOT
  case $1 in
    stack/include/*) echo stack/include ;;
    stack/*) echo stack ;;
    harness/*/*) local r=${1#harness/}; echo "harness/${r%%/*}" ;;
    harness/*) echo harness ;;
    sim/* | traces/* | fuzz/* | tests/*) echo "${1%%/*}" ;;
    *) echo "?" ;;
  esac
}

room_of_include() { # the included name, the including file
  case $1 in
    tcpbed/*) echo stack/include ;;
    util/* | net/* | tcp/* | wire/*) echo stack ;;
    harness/*/*) local r=${1#harness/}; echo "harness/${r%%/*}" ;;
    sim/* | traces/* | fuzz/*) echo "${1%%/*}" ;;
    */*) echo "?" ;;
    *) room_of_file "$2" ;;   # a header beside the file: its own room
  esac
}

pass=0
fail=0
check() {
  local name=$1
  shift
  if "$@"; then pass=$((pass + 1)); echo "ok   $name"; else fail=$((fail + 1)); echo "FAIL $name"; fi
}

echo "allowed includes (room -> rooms):"
for r in $ORDER; do printf '  %-19s -> %s\n' "$r" "${ALLOWED[$r]:-(nothing)}"; done
[ -n "$WHITEBOX" ] && echo "  white-box tests that see stack/ internals: $WHITEBOX"

includes_follow_arrows() {
  local bad=0 line file inc from to
  while IFS= read -r line; do
    file=${line%%:*}
    file=${file#./}
    inc=$(sed -E 's/.*#include *[<"]([^>"]+)[>"].*/\1/' <<<"$line")
    # <...> is a system header unless it names one of ours (-I. and
    # -Istack/include would find it): then it counts like "...".
    if grep -q '#include *<' <<<"$line"; then
      [ -f "$ROOT/$inc" ] || [ -f "$ROOT/stack/include/$inc" ] || [ -f "$ROOT/stack/$inc" ] || continue
    fi
    from=$(room_of_file "$file")
    to=$(room_of_include "$inc" "$file")
    [ "$from" = "$to" ] && continue
    if [ "$to" = stack ] && [[ " $WHITEBOX " == *" $file "* ]]; then continue; fi
    if [ "$from" = "?" ] || [ "$to" = "?" ] || [[ " ${ALLOWED[$from]:-} " != *" $to "* ]]; then
      echo "    $file ($from) includes \"$inc\" ($to)"
      bad=1
    fi
  done < <(cd "$ROOT" && grep -rn --include='*.c' --include='*.h' --exclude-dir=build --exclude-dir=.git '^ *# *include *[<"]' . 2>/dev/null |
    sed -E 's/^([^:]+):[0-9]+:/\1:/')
  return $bad
}
check "every #include follows an arrow" includes_follow_arrows

# Outside tests/ and fuzz/, only the host loop drives the core.
only_the_host_drives_the_core() {
  local drivers
  # Any mention counts (a call, a function pointer, a macro): only the
  # host's source may name them outside the core, its tests and fuzz/.
  drivers=$(cd "$ROOT" && grep -rlE --include='*.c' --include='*.h' --exclude-dir=build --exclude-dir=.git \
    '\btb_stack_(input|tick|drain_tx)\b' . 2>/dev/null | sed 's|^\./||' |
    grep -vE '^(stack|tests|fuzz)/' | sort)
  if [ "$drivers" != "harness/host/host.c" ]; then
    echo "    files that name tb_stack_input/tick/drain_tx: ${drivers:-(none)}" | tr '\n' ' '
    echo
    return 1
  fi
}
check "only harness/host/host.c calls tb_stack_input, tb_stack_tick, tb_stack_drain_tx" only_the_host_drives_the_core

# Applications change the core's state only through the host's wrappers
# (which supply `now` and report every call to the hooks), and never reach
# into the simulator.
apps_call_through_the_host() {
  local hits
  hits=$(cd "$ROOT" && grep -rnE '\b(tb_tcp_(listen|accept|connect|connect_from|send|send_buf|recv|recv_buf|shutdown|close|abort|setopt)|tb_stack_(events|alloc_rx|set_trace)|tb_ping_send|tb_buf_free|tb_host_alloc_rx|sim_[a-z_]+)\s*\(' \
    --include='*.c' harness/apps 2>/dev/null)
  if [ -n "$hits" ]; then
    sed 's/^/    /' <<<"$hits"
    return 1
  fi
}
check "harness/apps calls the core only through tb_host_* and never sim_*" apps_call_through_the_host

# The checker checks: a tree with one wrong arrow of each kind must fail.
rejects_wrong_arrows() {
  [ -n "${ARROWS_SELF_TEST:-}" ] && return 0   # the inner run
  local t out rc
  t=$(mktemp -d)
  mkdir -p "$t/harness/apps" "$t/sim" "$t/traces" "$t/harness/host"
  printf 'WHITEBOX_SRC := tests/unit/test_x.c\n' >"$t/Makefile"
  printf '#include "sim/sim.h"\n' >"$t/harness/apps/up.c"               # an arrow pointing up
  printf '#include "util/assert.h"\n' >"$t/traces/inside.c"            # into the core's internals
  mkdir -p "$t/stack/tcp" && : >"$t/stack/tcp/tcp_internal.h"
  printf '#include <stack/tcp/tcp_internal.h>\n#include <stdio.h>\n' >"$t/sim/angle.c"   # the same, by -I.
  printf 'void f(void) { tb_stack_tick(0, 0); }\n' >"$t/sim/driver.c"   # a second driver of the core
  mkdir -p "$t/platform" && printf '#define DRIVE tb_stack_input\n' >"$t/platform/tap.c"   # a new room, by a macro
  printf 'void g(void) { tb_tcp_send(0, 0, 0, 0, 0); }\n' >"$t/harness/apps/direct.c"
  printf 'void h(void) { tb_stack_drain_tx(0, 0, 0); }\n' >"$t/harness/host/host.c"
  out=$(ARROWS_SELF_TEST=1 bash "$0" "$t" 2>&1)
  rm -rf "$t"
  grep -q 'up.c (harness/apps) includes "sim/sim.h"' <<<"$out" &&
    grep -q 'inside.c (traces) includes "util/assert.h"' <<<"$out" &&
    grep -q 'angle.c (sim) includes "stack/tcp/tcp_internal.h"' <<<"$out" &&
    ! grep -q 'stdio.h' <<<"$out" &&
    grep -q 'sim/driver.c' <<<"$out" && grep -q 'platform/tap.c' <<<"$out" &&
    grep -q 'direct.c:1' <<<"$out" &&
    grep -q 'arrows: 1 passed, 3 failed' <<<"$out"
  rc=$?
  [ $rc -eq 0 ] || sed 's/^/    | /' <<<"$out"
  return $rc
}
check "the checker rejects a tree with wrong arrows" rejects_wrong_arrows

echo "arrows: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
