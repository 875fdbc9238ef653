#!/usr/bin/env bash
# Adversarial workloads between two tcpbed stacks, the class of bugs our
# one-direction sweeps missed (issue 9): both ends sending at once with
# faults in both directions, odd and tiny MSS values, Nagle off, tiny
# buffers. Every run checks every byte both ways and a clean close.
set -uo pipefail
cd "$(dirname "$0")/../.."
TCPBED=${1:-build/tcpbed}
# shellcheck source=tests/cli/lib.sh
. tests/cli/lib.sh
# sweep NAME SEEDS ARGS...: every seed of the bulk run must pass.
sweep() {
  local name=$1 seeds=$2 out
  shift 2
  out=$("$TCPBED" sweep --seeds "1..$seeds" -- bulk "$@" 2>&1)
  if grep -qE "^sweep: $seeds passed, 0 failed" <<<"$out"; then ok "$name"; else bad "$name" "$(tail -15 <<<"$out")"; fi
}

FAULTS=(--loss 0.02 --reorder 0.05 --duplicate 0.01 --corrupt 0.005)

# The issue's acceptance: 500 seeds, both ways, every fault both ways.
sweep "500 seeds, bulk both ways under loss/reorder/dup/corrupt" 500 --both --bytes 200K "${FAULTS[@]}"
# Odd MSS values (the smallest tcp_mss accepts is 88): segment boundaries
# that never line up with SACK blocks, timestamps or the window.
for mss in 88 89 97 255 536 1001 1459; do
  sweep "both ways, MSS $mss" 30 --both --bytes 100K --mss "$mss" "${FAULTS[@]}"
done
sweep "both ways, Nagle off" 50 --both --nodelay --bytes 100K "${FAULTS[@]}"
sweep "both ways, no SACK (NewReno by dup ACKs)" 50 --both --no-sack --bytes 100K "${FAULTS[@]}"
sweep "both ways, no RACK-TLP" 50 --both --no-rack-tlp --bytes 100K "${FAULTS[@]}"
sweep "both ways, CUBIC" 50 --both --cc cubic --bytes 200K "${FAULTS[@]}"
sweep "both ways, heavy loss 10%" 30 --both --bytes 50K --loss 0.10 --reorder 0.1

echo "adversarial: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
