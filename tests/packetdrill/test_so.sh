#!/usr/bin/env bash
# The packetdrill plug-in (docs/packetdrill.md): it exports
# packetdrill_interface_init and nothing else, and our loader drives a
# script through it as packetdrill would. Ends with
# "packetdrill-so: N passed, M failed".
#   bash tests/packetdrill/test_so.sh build/libtcpbed-packetdrill.so build/tests/so_loader
set -uo pipefail
so=${1:-build/libtcpbed-packetdrill.so}
loader=${2:-build/tests/so_loader}
pass=0
fail=0

syms=$(nm -D --defined-only "$so" 2>&1 | awk 'NF == 3 { print $3 }' | sort | tr '\n' ' ')
if [ "$syms" = "packetdrill_interface_init " ]; then
  pass=$((pass + 1))
  echo "ok   nm -D: $so defines packetdrill_interface_init and nothing else"
else
  fail=$((fail + 1))
  echo "FAIL nm -D: $so should define packetdrill_interface_init only"
  echo "    it defines: ${syms:-(nothing)}"
fi

out=$("$loader" "$so" 2>&1)
rc=$?
grep -v '^packetdrill-so: ' <<<"$out"
line=$(grep -E '^packetdrill-so: [0-9]+ passed, [0-9]+ failed$' <<<"$out" | tail -1)
ok=$(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+' || echo 0)
bad=$(grep -oE '[0-9]+ failed' <<<"$line" | grep -oE '[0-9]+' || echo 0)
if [ "$rc" -ne 0 ] && [ "${bad:-0}" -eq 0 ]; then
  bad=1
  echo "FAIL $loader exited with status $rc"
fi
echo "packetdrill-so: $((pass + ${ok:-0})) passed, $((fail + ${bad:-0})) failed"
[ $((fail + ${bad:-0})) -eq 0 ]
