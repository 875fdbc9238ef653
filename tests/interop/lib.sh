# Shared by the interop tests (source it; bash). They run real traffic between
# network namespaces they create, so they need root; this file installs nothing
# (harness/deps.sh does) and removes everything it made on every exit path.
#
#   source tests/interop/lib.sh
#   it_init interop-wire            # the name of the final "NAME: N passed, M failed" line
#   it_require_root                 # not root: "SKIP: needs root", 0 passed, 0 failed, exit 0
#   it_require_tools ip ethtool python3
#   ns_create k1; ns_create k2
#   veth_create k1 eth0 k2 eth0     # a pair, one end in each namespace, up, IPv6 off
#   addr_add k1 eth0 10.9.0.1/24; addr_add k2 eth0 10.9.0.2/24
#   offloads_off eth0 k1
#   bg_start k2 "$IT_TMP/srv.log" python3 tests/interop/peer.py server --port 5001
#   wait_for_port k2 10.9.0.2 5001 5 || fail server "not listening"
#   ok "something worked"; fail "something else" "why"
#   it_finish                        # prints the final line, exits 1 if anything failed
#
# Namespaces are named "$IT_PREFIX-SHORT" (unique per test process, from $$);
# every function takes the SHORT name. Devices live only inside namespaces made
# here, so their names need not be unique across tests (at most 15 characters).

IT_NAME=${IT_NAME:-interop}
IT_PREFIX="tbit$$"
IT_PASSED=0
IT_FAILED=0
IT_NAMESPACES=()
IT_PIDS=()
IT_TMP=""
IT_CLEANED=0

# it_init NAME: the test's name (lower case and dashes, as tests/run.sh reads
# it), a scratch directory $IT_TMP, and the cleanup trap.
it_init() {
  IT_NAME=$1
  IT_TMP=$(mktemp -d "/tmp/$IT_PREFIX.XXXXXX")
  trap it_cleanup EXIT
  trap 'it_cleanup; exit 130' INT
  trap 'it_cleanup; exit 143' TERM
}

# A skipped test must not look like a pass: the skip line says why, and the
# counts are 0 and 0.
it_skip() {
  echo "SKIP: $1"
  echo "$IT_NAME: 0 passed, 0 failed"
  exit 0
}

it_require_root() {
  if [ "$(id -u)" -ne 0 ]; then it_skip "needs root"; fi
}

# it_require_tools TOOL...: a missing tool is a failure naming the package
# list to install (the test target of harness/deps.sh), not a skip.
it_require_tools() {
  local tool missing=()
  for tool in "$@"; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
  if [ ${#missing[@]} -ne 0 ]; then
    fail "tools" "missing: ${missing[*]} (run: harness/deps.sh test)"
    it_finish
  fi
}

ok() {
  IT_PASSED=$((IT_PASSED + 1))
  echo "ok   $1"
}

# fail NAME [WHY]: WHY may be several lines (a command's output); the first 40
# are shown indented, which tests/run.sh repeats under the FAIL line.
fail() {
  IT_FAILED=$((IT_FAILED + 1))
  echo "FAIL $1"
  if [ -n "${2:-}" ]; then sed 's/^/    /' <<<"$2" | head -40; fi
}

# check NAME COMMAND...: ok when the command succeeds, else fail with its output.
check() {
  local name=$1 log="$IT_TMP/check.log"
  shift
  if "$@" >"$log" 2>&1; then ok "$name"; else fail "$name" "$(cat "$log")"; fi
}

it_finish() {
  echo "$IT_NAME: $IT_PASSED passed, $IT_FAILED failed"
  [ "$IT_FAILED" -eq 0 ] && exit 0
  exit 1
}

# setup COMMAND...: plumbing that must work; if it does not, the test cannot
# mean anything, so it fails once and finishes.
# It runs in this shell (not in $(...)), so what it records is kept for the
# cleanup.
setup() {
  local log="$IT_TMP/setup.log"
  if ! "$@" >"$log" 2>&1; then
    fail "setup: $*" "$(cat "$log")"
    it_finish
  fi
}

ns_name() { echo "$IT_PREFIX-$1"; }

# in_ns SHORT COMMAND...: runs COMMAND inside the namespace.
in_ns() {
  local ns=$1
  shift
  ip netns exec "$IT_PREFIX-$ns" "$@"
}

# ns_create SHORT: a namespace with lo up and IPv6 off for every device made
# in it later (the default) and now (all), so no neighbour discovery or
# router solicitations appear in captures.
ns_create() {
  local ns="$IT_PREFIX-$1"
  ip netns add "$ns" || return 1
  IT_NAMESPACES+=("$ns")
  ip -n "$ns" link set lo up
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1 net.ipv6.conf.all.disable_ipv6=1
}

ns_delete() {
  local ns="$IT_PREFIX-$1" i
  ip netns delete "$ns" 2>/dev/null
  for i in "${!IT_NAMESPACES[@]}"; do
    [ "${IT_NAMESPACES[$i]}" = "$ns" ] && unset 'IT_NAMESPACES[i]'
  done
  return 0
}

# ipv6_off SHORT DEV
ipv6_off() {
  ip netns exec "$IT_PREFIX-$1" sysctl -qw "net.ipv6.conf.$2.disable_ipv6=1"
}

# veth_create NS1 DEV1 NS2 DEV2: a veth pair created directly inside the two
# namespaces (never in the root one), both ends up with IPv6 off.
veth_create() {
  ip link add "$2" netns "$IT_PREFIX-$1" type veth peer name "$4" netns "$IT_PREFIX-$3" || return 1
  ipv6_off "$1" "$2" && ipv6_off "$3" "$4" || return 1
  ip -n "$IT_PREFIX-$1" link set "$2" up && ip -n "$IT_PREFIX-$3" link set "$4" up
}

# bridge_create NS BR [DEV...]: a bridge in NS with the given devices as ports.
bridge_create() {
  local ns="$IT_PREFIX-$1" br=$2 dev
  shift 2
  ip -n "$ns" link add "$br" type bridge || return 1
  ipv6_off "${ns#"$IT_PREFIX-"}" "$br" || return 1
  for dev in "$@"; do ip -n "$ns" link set "$dev" master "$br" || return 1; done
  ip -n "$ns" link set "$br" up
}

# tap_create NS DEV: a persistent TAP device (no one holds it yet), up, IPv6 off.
tap_create() {
  ip -n "$IT_PREFIX-$1" tuntap add dev "$2" mode tap || return 1
  ipv6_off "$1" "$2" && ip -n "$IT_PREFIX-$1" link set "$2" up
}

# addr_add NS DEV ADDR/PREFIX
addr_add() { ip -n "$IT_PREFIX-$1" addr add "$3" dev "$2"; }

# link_up NS DEV
link_up() { ip -n "$IT_PREFIX-$1" link set "$2" up; }

# offloads_off DEV NS: per-frame faults need per-frame frames: no TSO/GSO
# super-frames, no GRO merging, no checksums left for hardware to fill.
# Each feature is set alone so one a driver cannot change does not stop the
# rest; what matters is checked afterwards.
offloads_off() {
  local dev=$1 ns="$IT_PREFIX-$2" feature state
  for feature in tso gso gro tx rx; do
    ip netns exec "$ns" ethtool -K "$dev" "$feature" off >/dev/null 2>&1 || true
  done
  state=$(ip netns exec "$ns" ethtool -k "$dev" 2>&1) || { echo "offloads_off: ethtool -k $dev: $state" >&2; return 1; }
  for feature in tcp-segmentation-offload generic-segmentation-offload generic-receive-offload; do
    if grep -qE "^$feature: on" <<<"$state"; then
      echo "offloads_off: $dev in $ns still has $feature on" >&2
      return 1
    fi
  done
}

# bg_start NS LOG COMMAND...: COMMAND in the background inside NS, stdout and
# stderr to LOG; its pid is in $BG_PID and is stopped by the cleanup.
# (ip netns exec execs the command, so the pid is the command's own.)
bg_start() {
  local ns="$IT_PREFIX-$1" log=$2
  shift 2
  ip netns exec "$ns" "$@" >"$log" 2>&1 &
  BG_PID=$!
  IT_PIDS+=("$BG_PID")
}

# bg_wait PID TIMEOUT_S: waits for a background job to end; its exit status,
# or 124 (and the job killed) if it did not end in time.
bg_wait() {
  local pid=$1 deadline=$((SECONDS + $2))
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      kill -KILL "$pid" 2>/dev/null
      wait "$pid" 2>/dev/null
      return 124
    fi
    sleep 0.05
  done
  wait "$pid"
}

# wait_for_port NS ADDR PORT TIMEOUT_S: until something listens on ADDR:PORT
# as seen from NS. An address of NS itself (or 0.0.0.0) is checked with ss,
# which makes no connection (a peer.py server counts the connections it
# accepts); any other address is probed with a connection.
wait_for_port() {
  local ns="$IT_PREFIX-$1" addr=$2 port=$3 timeout_s=$4 local_addr=0 start=$SECONDS
  if [ "$addr" = 0.0.0.0 ] || ip -n "$ns" -4 -o addr show | grep -qF " $addr/"; then local_addr=1; fi
  while [ $((SECONDS - start)) -lt "$timeout_s" ]; do
    if [ "$local_addr" -eq 1 ]; then
      if ip netns exec "$ns" ss -Hltn "sport = :$port" | grep -q .; then return 0; fi
    else
      if ip netns exec "$ns" timeout 1 bash -c "exec 3<>/dev/tcp/$addr/$port" 2>/dev/null; then return 0; fi
    fi
    sleep 0.05
  done
  echo "wait_for_port: nothing listening on $addr:$port (from $ns) after ${timeout_s}s" >&2
  return 1
}

# wait_for_line FILE TEXT TIMEOUT_S: until FILE has a line containing TEXT
# (peer.py prints "ready" on stderr once it listens).
wait_for_line() {
  local file=$1 text=$2 timeout_s=$3 start=$SECONDS
  while [ $((SECONDS - start)) -lt "$timeout_s" ]; do
    if grep -qF -- "$text" "$file" 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  echo "wait_for_line: no '$text' in $file after ${timeout_s}s" >&2
  return 1
}

# Everything made, removed; safe to call more than once (trap on EXIT, INT,
# TERM). Processes first: a namespace with a process in it outlives delete.
it_cleanup() {
  [ "$IT_CLEANED" -eq 1 ] && return 0
  IT_CLEANED=1
  local pid ns
  for pid in "${IT_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${IT_PIDS[@]}"; do
    for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  IT_PIDS=()
  for ns in "${IT_NAMESPACES[@]}"; do
    # Stragglers started by hand inside the namespace (not through bg_start).
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
    ip netns delete "$ns" 2>/dev/null
  done
  IT_NAMESPACES=()
  if [ -n "$IT_TMP" ] && [ -z "${IT_KEEP:-}" ]; then rm -rf "$IT_TMP"; fi
  return 0
}
