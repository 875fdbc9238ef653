#!/usr/bin/env bash
# The sans-I/O rule, checked on the source and on the object code of
# libtcpbed.a: stack/ includes nothing outside stack/ and the C library's
# pure headers, and links against no clock, entropy, I/O or platform symbol.
set -uo pipefail
cd "$(dirname "$0")/.."
LIB=${1:-build/libtcpbed.a}
pass=0
fail=0
check() { # name, then a command that succeeds when the check holds
  local name=$1
  shift
  if "$@"; then pass=$((pass + 1)); echo "ok   $name"; else fail=$((fail + 1)); echo "FAIL $name"; fi
}

# 1. Includes: quoted ones resolve inside stack/, system ones are pure.
ALLOWED_SYSTEM='^(stdint|stddef|stdbool|string|stdlib|limits)\.h$'
bad_includes() {
  local bad=0
  while IFS= read -r line; do
    local file=${line%%:*} inc
    inc=$(sed -E 's/.*#include *[<"]([^>"]+)[>"].*/\1/' <<<"$line")
    if grep -q '#include *<' <<<"$line"; then
      if ! grep -Eq "$ALLOWED_SYSTEM" <<<"$inc"; then echo "    $file includes <$inc>"; bad=1; fi
    elif [ ! -f "stack/$inc" ] && [ ! -f "stack/include/$inc" ] && [ ! -f "$(dirname "$file")/$inc" ]; then
      echo "    $file includes \"$inc\" from outside stack/"; bad=1
    fi
  done < <(grep -rn '#include' stack/ --include='*.c' --include='*.h' | sed -E 's/^([^:]+):[0-9]+:/\1:/')
  return $bad
}
check "stack/ includes only stack/ and pure C headers" bad_includes

# 2. Linked symbols: everything libtcpbed.a needs from outside itself.
ALLOWED_UNDEF='^(memcpy|memmove|memset|memcmp|strcmp|strlen|malloc|calloc|realloc|free|tb_assert_failed|__stack_chk_fail|_GLOBAL_OFFSET_TABLE_)$'
undefined_symbols() {
  local defined undefined extra
  defined=$(nm --defined-only "$LIB" 2>/dev/null | awk 'NF==3 {print $3}' | sort -u)
  undefined=$(nm -u "$LIB" 2>/dev/null | awk '{print $NF}' | grep -v ':$' | sort -u)
  extra=$(comm -23 <(echo "$undefined") <(echo "$defined") | grep -Ev "$ALLOWED_UNDEF" || true)
  if [ -n "$extra" ]; then echo "    libtcpbed.a needs: $extra" | tr '\n' ' '; echo; return 1; fi
  return 0
}
check "libtcpbed.a calls no clock, entropy, I/O or platform function" undefined_symbols

# 3. No global mutable state: no object in .data or .bss (tables of const
# pointers live in .data.rel.ro, read-only once relocated, and are fine).
writable_data() {
  local syms
  syms=$(objdump -t "$LIB" 2>/dev/null | awk '$0 ~ / O / { for (i = 1; i <= NF; i++) if ($i ~ /^\.(data|bss)(\.|$)/ && $i !~ /^\.data\.rel\.ro/) print $NF }')
  if [ -n "$syms" ]; then echo "    writable globals: $syms" | tr '\n' ' '; echo; return 1; fi
  return 0
}
check "libtcpbed.a has no writable global or static data" writable_data

# 4. The checker itself catches a violation (so it cannot pass vacuously).
self_test() {
  local tmp
  tmp=$(mktemp -d)
  printf '#include <time.h>\nlong tb_bad(void) { return (long)time(0); }\n' > "$tmp/bad.c"
  cc -c "$tmp/bad.c" -o "$tmp/bad.o" && ar rcs "$tmp/bad.a" "$tmp/bad.o"
  local saved=$LIB rc=0
  LIB=$tmp/bad.a
  if undefined_symbols >/dev/null; then rc=1; fi
  LIB=$saved
  rm -rf "$tmp"
  return $rc
}
check "the symbol check rejects a library that calls time()" self_test

self_test_globals() {
  local tmp
  tmp=$(mktemp -d)
  printf 'int tb_counter_bad;\nint tb_bump(void) { return ++tb_counter_bad; }\n' > "$tmp/bad.c"
  cc -c "$tmp/bad.c" -o "$tmp/bad.o" && ar rcs "$tmp/bad.a" "$tmp/bad.o"
  local saved=$LIB rc=0
  LIB=$tmp/bad.a
  if writable_data >/dev/null; then rc=1; fi
  LIB=$saved
  rm -rf "$tmp"
  return $rc
}
check "the global-state check rejects a library with a mutable global" self_test_globals

echo "purity: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
