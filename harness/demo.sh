#!/usr/bin/env bash
# `make demo`: the built-in default run. Two simulated stacks on a 100 Mbit/s
# link with 1 ms of delay; A pings B five times; the pcap is shown with tcpdump.
set -euo pipefail
TCPBED=${1:-build/tcpbed}
PCAP=build/demo.pcap
CMD=("$TCPBED" sim ping --count 5 --seed 1 --pcap "$PCAP")
echo "demo: ${CMD[*]}"
echo
"${CMD[@]}"
echo
echo "demo: tcpdump -nn -e -r $PCAP"
tcpdump -nn -e -r "$PCAP" 2>/dev/null
echo
echo "demo: the same seed gives a byte-identical pcap; try --seed 2, --delay 20ms, --rate 1Mbps, --json"
