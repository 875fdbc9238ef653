#!/usr/bin/env python3
"""The kernel-side peer of the interop tests (Python standard library only).

  peer.py server --port P [--bind A] [--count K] [--send N] [--seed S]
                 [--reset-after N] [--timeout S]
  peer.py client --connect ADDR:PORT [--bind A] [--count K] [--send N]
                 [--seed S] [--reset-after N] [--timeout S] [--expect-refused]
  peer.py sha256 --bytes N [--seed S]

Each connection sends N bytes of a seeded pseudo-random stream in one thread
while it receives until EOF in another; after sending it shuts its write side
(the other end sees EOF), and it closes once it has read EOF. The stream is
random.Random(seed).randbytes(65536) chunk after chunk, the last one cut
short, so a stream of N bytes is a prefix of every longer one with the same
seed, and `sha256 --bytes N` names it without sending it.

--reset-after N closes with SO_LINGER 0 (the kernel sends RST) once N bytes
have been received. The server accepts K connections one after another and
prints "ready" on stderr once it listens. One JSON line per connection on
stdout: bytes_in, bytes_out, sha256_in, sha256_out, error (null or text),
seconds. Exit 0 if every connection succeeded, 1 with the error printed
otherwise. --timeout S bounds every wait (accept, connect, no progress), so
a peer never hangs. Sizes take K, M, G (binary, as tcpbed writes them).
"""

import argparse
import errno
import hashlib
import json
import random
import select
import socket
import struct
import sys
import threading
import time

CHUNK_BYTES = 65536
POLL_SLICE_S = 0.1


class PeerError(Exception):
    pass


def parse_size(text):
    units = {"": 1, "B": 1, "K": 1 << 10, "KB": 1 << 10, "KiB": 1 << 10, "M": 1 << 20, "MB": 1 << 20,
             "MiB": 1 << 20, "G": 1 << 30, "GB": 1 << 30, "GiB": 1 << 30}
    digits = text.rstrip("BKMGib")
    unit = text[len(digits):]
    try:
        value = float(digits)
    except ValueError:
        value = -1.0
    if unit not in units or value < 0 or value * units[unit] != int(value * units[unit]):
        raise argparse.ArgumentTypeError("expected a size such as 1500, 64K or 20M, got '%s'" % text)
    return int(value * units[unit])


def parse_seconds(text):
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise argparse.ArgumentTypeError("expected a positive number of seconds, got '%s'" % text)
    return value


def parse_addr_port(text):
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError("expected ADDR:PORT such as 10.0.0.2:5001, got '%s'" % text)
    return host, int(port)


def stream_chunks(seed, total_bytes):
    """The seeded stream as a sequence of chunks adding up to total_bytes."""
    rng = random.Random(seed)
    left = total_bytes
    while left > 0:
        chunk = rng.randbytes(CHUNK_BYTES)
        if left < CHUNK_BYTES:
            chunk = chunk[:left]
        left -= len(chunk)
        yield chunk


def stream_sha256(seed, total_bytes):
    digest = hashlib.sha256()
    for chunk in stream_chunks(seed, total_bytes):
        digest.update(chunk)
    return digest.hexdigest()


class Connection:
    """One connection's two directions and what they saw."""

    def __init__(self, sock, args):
        self.sock = sock
        self.args = args
        self.bytes_in = 0
        self.bytes_out = 0
        self.hash_in = hashlib.sha256()
        self.hash_out = hashlib.sha256()
        self.stop = threading.Event()  # the receiver resets: the sender stops within a slice
        self.send_error = None
        self.recv_error = None

    def wait(self, want_write, what):
        """Waits in short slices until the socket is ready; --timeout without progress is an error."""
        deadline = time.monotonic() + self.args.timeout
        while not self.stop.is_set():
            if want_write:
                _, ready, _ = select.select([], [self.sock], [], POLL_SLICE_S)
            else:
                ready, _, _ = select.select([self.sock], [], [], POLL_SLICE_S)
            if ready:
                return True
            if time.monotonic() > deadline:
                raise PeerError("no progress %s for %gs" % (what, self.args.timeout))
        return False

    def send_all(self):
        try:
            for chunk in stream_chunks(self.args.seed, self.args.send):
                view = memoryview(chunk)
                while view:
                    if not self.wait(True, "sending"):
                        return
                    try:
                        sent = self.sock.send(view, socket.MSG_DONTWAIT)
                    except BlockingIOError:
                        continue
                    self.hash_out.update(view[:sent])
                    self.bytes_out += sent
                    view = view[sent:]
            if not self.stop.is_set():
                self.sock.shutdown(socket.SHUT_WR)
        except (OSError, PeerError) as exc:
            self.send_error = "send: %s" % describe(exc)

    def receive_all(self):
        reset_after = self.args.reset_after
        try:
            while True:
                if reset_after is not None and self.bytes_in >= reset_after:
                    return True
                self.wait(False, "receiving")
                want = CHUNK_BYTES
                if reset_after is not None:
                    want = min(want, reset_after - self.bytes_in)
                try:
                    data = self.sock.recv(want, socket.MSG_DONTWAIT)
                except BlockingIOError:
                    continue
                if not data:
                    if reset_after is not None:
                        raise PeerError("EOF after %d bytes, before --reset-after %d" % (self.bytes_in, reset_after))
                    return False
                self.hash_in.update(data)
                self.bytes_in += len(data)
        except (OSError, PeerError) as exc:
            self.recv_error = "receive: %s" % describe(exc)
            return False

    def run(self):
        started = time.monotonic()
        sender = threading.Thread(target=self.send_all, daemon=True)
        sender.start()
        reset = self.receive_all()
        if reset or self.recv_error:
            self.stop.set()
        sender.join()
        if reset:
            # Linger on with a zero time: close aborts, the kernel sends RST.
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()
        error = self.recv_error or self.send_error
        return {
            "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out,
            "sha256_in": self.hash_in.hexdigest(),
            "sha256_out": self.hash_out.hexdigest(),
            "error": error,
            "seconds": round(time.monotonic() - started, 6),
        }


def describe(exc):
    if isinstance(exc, OSError) and exc.errno is not None:
        return "%s (%s)" % (errno.errorcode.get(exc.errno, str(exc.errno)), exc.strerror)
    return str(exc)


def report(result):
    print(json.dumps(result), flush=True)
    if result["error"]:
        print("peer: %s" % result["error"], file=sys.stderr, flush=True)
    return result["error"] is None


def failed_connection(error):
    empty = hashlib.sha256().hexdigest()
    return {"bytes_in": 0, "bytes_out": 0, "sha256_in": empty, "sha256_out": empty, "error": error, "seconds": 0.0}


def run_server(args):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((args.bind, args.port))
        listener.listen(max(args.count, 16))
    except OSError as exc:
        print("peer: cannot listen on %s:%d: %s" % (args.bind, args.port, describe(exc)), file=sys.stderr)
        return 1
    print("ready %s:%d" % (args.bind, args.port), file=sys.stderr, flush=True)
    all_ok = True
    for _ in range(args.count):
        ready, _, _ = select.select([listener], [], [], args.timeout)
        if not ready:
            all_ok = report(failed_connection("no connection within %gs" % args.timeout)) and False
            break
        sock, _ = listener.accept()
        all_ok = report(Connection(sock, args).run()) and all_ok
    listener.close()
    return 0 if all_ok else 1


def run_client(args):
    all_ok = True
    for _ in range(args.count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            if args.bind:
                sock.bind((args.bind, 0))
            sock.settimeout(args.timeout)
            sock.connect(args.connect)
            sock.settimeout(None)
        except OSError as exc:
            sock.close()
            refused = isinstance(exc, ConnectionRefusedError)
            if args.expect_refused and refused:
                print(json.dumps(failed_connection("refused: %s" % describe(exc))), flush=True)
                continue
            all_ok = report(failed_connection("connect to %s:%d: %s" % (args.connect + (describe(exc),)))) and False
            continue
        if args.expect_refused:
            sock.close()
            all_ok = report(failed_connection("expected ECONNREFUSED, but %s:%d accepted" % args.connect)) and False
            continue
        all_ok = report(Connection(sock, args).run()) and all_ok
    return 0 if all_ok else 1


class Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        print("peer: %s" % message, file=sys.stderr)
        sys.exit(1)


def main():
    parser = Parser(prog="peer.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="mode", required=True, parser_class=Parser)

    def common(p):
        p.add_argument("--bind", default=None, help="local address")
        p.add_argument("--count", type=int, default=1, help="connections, one after another (default 1)")
        p.add_argument("--send", type=parse_size, default=0, metavar="N", help="bytes to send (default 0)")
        p.add_argument("--seed", type=int, default=1, help="seed of the stream sent (default 1)")
        p.add_argument("--reset-after", type=parse_size, default=None, metavar="N",
                       help="reset (RST) after receiving N bytes")
        p.add_argument("--timeout", type=parse_seconds, default=60.0, metavar="S",
                       help="longest wait without progress (default 60)")

    server = sub.add_parser("server", help="accept connections")
    server.add_argument("--port", type=int, required=True)
    common(server)
    client = sub.add_parser("client", help="connect out")
    client.add_argument("--connect", type=parse_addr_port, required=True, metavar="ADDR:PORT")
    client.add_argument("--expect-refused", action="store_true", help="succeed only on ECONNREFUSED")
    common(client)
    digest = sub.add_parser("sha256", help="print the SHA-256 of the stream --bytes N --seed S")
    digest.add_argument("--bytes", type=parse_size, required=True, metavar="N")
    digest.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    if args.mode == "sha256":
        print(stream_sha256(args.seed, args.bytes))
        return 0
    if args.count < 1:
        parser.error("--count: expected at least 1, got %d" % args.count)
    if args.mode == "server":
        if not 0 < args.port < 65536:
            parser.error("--port: expected 1..65535, got %d" % args.port)
        if args.bind is None:
            args.bind = "0.0.0.0"
        return run_server(args)
    return run_client(args)


if __name__ == "__main__":
    sys.exit(main())
