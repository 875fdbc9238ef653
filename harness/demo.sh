#!/usr/bin/env bash
# `make demo`: the built-in default run. Host A sends 10 MB over TCP to host B
# across a simulated 100 Mbit/s link with 10 ms of one-way delay; B checks
# every byte. The pcap's handshake and close are shown with tcpdump.
set -euo pipefail
TCPBED=${1:-build/tcpbed}
PCAP=build/demo.pcap
CMD=("$TCPBED" sim bulk --bytes 10M --seed 1 --pcap "$PCAP")
echo "demo: ${CMD[*]}"
echo
"${CMD[@]}"
echo
echo "demo: the handshake and the close, from the pcap (tcpdump -nn -r $PCAP):"
tcpdump -nn -r "$PCAP" 2>/dev/null | grep -E 'Flags \[(S|S\.|F\.|FP\.)\]' || true
echo
echo "demo: same seed, same pcap, byte for byte. Try: $TCPBED sim bulk --help"
echo "      e.g. --seed 2, --delay 50ms --rate 1Gbps, --zero-copy, --json; and $TCPBED sim ping"
