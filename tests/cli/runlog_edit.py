#!/usr/bin/env python3
"""A small pcapng editor for run-logs (docs/tap.md, "The run-log format"):
the deliberate edits tests/cli/test_replay.sh makes to check that replay
names the first divergence precisely.

  runlog_edit.py IN OUT window N VALUE        TCP window of the Nth outbound frame
  runlog_edit.py IN OUT drop-in N             remove the Nth inbound frame
  runlog_edit.py IN OUT call-result KIND N V  result of the Nth call of KIND (e.g. connect)

Prints what it changed as `key=value` words (frame=, old=, new=) for the
test to compare with replay's report. The END record's counts are kept
true, so the file stays well-formed: only the edit differs."""
import struct
import sys

CB = (0x00000BAD, 0x40000BAD)
PEN = 32473
CALL_KINDS = ["listen", "accept", "connect", "send", "send_buf", "recv", "recv_buf", "shutdown", "close",
              "abort", "setopt", "ping", "events", "buf_alloc", "buf_free"]
# CALL record: type, kind, flags, now, conn, ipv4, port, local_port, backlog, opt, value, payload_len, len, result
RESULT_OFFSET = 1 + 1 + 1 + 8 + 4 + 4 + 2 + 2 + 4 + 4 + 8 + 4 + 8


def blocks(data):
    pos = 0
    while pos < len(data):
        btype, total = struct.unpack_from("<II", data, pos)
        yield btype, bytearray(data[pos:pos + total])
        pos += total


def epb_dir(b):
    caplen = struct.unpack_from("<I", b, 20)[0]
    at = 28 + (caplen + 3) // 4 * 4
    while at + 4 <= len(b) - 4:
        code, olen = struct.unpack_from("<HH", b, at)
        if code == 0:
            break
        if code == 2:
            return struct.unpack_from("<I", b, at + 4)[0] & 3
        at += 4 + (olen + 3) // 4 * 4
    return 0


def main():
    src, dst, op, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    data = open(src, "rb").read()
    out = []
    frames = records = 0
    n_out = n_in = n_call = 0
    frame_no = 0
    done = False
    for btype, b in blocks(data):
        if btype == 6:
            frame_no += 1
            d = epb_dir(b)
            if d == 2:
                n_out += 1
                if op == "window" and not done and n_out == int(args[0]):
                    # Ethernet 14 + IPv4 header (IHL) + TCP window at 14.
                    ihl = (b[28 + 14] & 0x0F) * 4
                    at = 28 + 14 + ihl + 14
                    old = struct.unpack_from(">H", b, at)[0]
                    new = int(args[1])
                    struct.pack_into(">H", b, at, new)
                    print(f"frame={frame_no} outbound={n_out} old={old} new={new}")
                    done = True
            elif d == 1:
                n_in += 1
                if op == "drop-in" and not done and n_in == int(args[0]):
                    print(f"frame={frame_no} inbound={n_in}")
                    done = True
                    continue
            frames += 1
        elif btype in CB and struct.unpack_from("<I", b, 8)[0] == PEN:
            rec = 12
            if b[rec] == 4 and op == "call-result" and not done and CALL_KINDS[b[rec + 1]] == args[0]:
                n_call += 1
                if n_call == int(args[1]):
                    old = struct.unpack_from("<q", b, rec + RESULT_OFFSET)[0]
                    struct.pack_into("<q", b, rec + RESULT_OFFSET, int(args[2]))
                    print(f"call={args[0]} old={old} new={args[2]}")
                    done = True
            if b[rec] == 5:
                struct.pack_into("<QQ", b, rec + 1, frames, records)
            records += 1
        out.append(bytes(b))
    if not done:
        sys.exit(f"runlog_edit: nothing matched {op} {' '.join(args)}")
    open(dst, "wb").write(b"".join(out))


main()
