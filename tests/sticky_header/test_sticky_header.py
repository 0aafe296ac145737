"""sticky_header: the graded suite.

framing.py is tested directly: its functions run in a child process on one end of a real
loopback connection (`student.module(..., sockets=[theirs])`) while the test drives the other
end as a reference peer. server.py and client.py are tested as processes.

Sticky packets are made, not hoped for. A `Wire` (a Peer that counts what it wrote) can wait
until the program at the other end has *read* everything written so far - the kernel's socket
table says how many bytes that socket received and how many are still unread - so
  - `drip` sends one byte, waits until it was read, sends the next: every recv() there returns
    exactly 1 byte, however fast or slow the machine;
  - `split` sends a frame in pieces the same way: a recv() there gets exactly one piece;
  - `merged` glues many frames into one write.
Waiting is only how the pieces are made: correct code passes whether or not it happens. Where
the kernel cannot be asked, the pieces are spaced with small pauses instead (like Peer.trickle).

A wrong header byte order must fail fast, not hang: whenever the test has sent its last byte on
a connection it half-closes it, so a reader waiting for an absurd length hits EOF at once.
"""
from __future__ import annotations

import contextlib
import random
import socket
import struct
import threading

import pytest

from grader.harness import (CheckFailed, Peer, StudentRaised, StudentTimeout, Wire, accept, check,
                            connected_pair, expect_bytes, listener, show_bytes)

MIB = 1 << 20
BIG = 5 * MIB
HEADER = struct.Struct("!I")

HINT_HEADER = ("struct.pack('!I', len(data)): '!' is network byte order (big-endian, the same on "
               "every machine), 'I' is unsigned; native 'i' is little-endian on this machine")
HINT_LOOP = ("one recv() returns whatever has arrived - maybe a single byte: loop until you have "
             "exactly 4 header bytes, then exactly `length` body bytes")
HINT_EOF = ("recv() returning b'' means the peer has closed, and it keeps returning b'': before a "
            "new header that is a clean end (return None); inside a header or a body raise "
            "ConnectionError. A loop that does not check for b'' spins forever")
HINT_REFERENCE = ("the header is struct.unpack('!I', header)[0] - big-endian, unsigned - and the "
                  "body exactly that many bytes; None only when the peer closed before a new message")
HINT_MERGED = ("each recv_msg() returns exactly one message: read exactly `length` bytes, the rest "
               "belongs to the next; an empty message is b'', while None means the peer closed")
HINT_SERVER_MERGED = ("answer every message, empty ones too (b'' reversed is b''), and stop only "
                      "when recv_msg() returns None; one message per recv_msg(), the rest waits")


def frame(data: bytes) -> bytes:
    """The reference framing: 4-byte big-endian unsigned length, then the data."""
    return HEADER.pack(len(data)) + data


def payload(n: int, seed: int = 7) -> bytes:
    return random.Random(seed).randbytes(n)


def reading(wire: Wire, pending) -> Wire:
    """Tell `wire` to stop waiting for reads once `pending` has answered."""
    wire.stop = pending.done
    return wire


def sender(wire: Wire, action) -> threading.Thread:
    """Run `action(wire)` then half-close, in a thread: a big message is sent while the test
    reads the answer. Errors are the other end's fault (it stopped reading): the reply tells."""
    def run():
        try:
            action(wire)
            wire.shutdown_write()
        except OSError:
            pass
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


# -- reading and judging frames ----------------------------------------------------------------

def header_swapped(got: bytes, n: int) -> bool:
    """Is `got` the length n in little-endian (native 'i' / 'I' on this machine)?"""
    return got == struct.pack("<I", n)


def header_note(got: bytes, n: int) -> str:
    """What a wrong header most likely is, in words."""
    if header_swapped(got, n):
        return (f"yours has the right 4 bytes in reverse order: little-endian, what "
                f"struct.pack('i', {n}) gives on this machine; read as '!I' it announces "
                f"{HEADER.unpack(got)[0]} bytes")
    n_got = HEADER.unpack(got)[0]
    return f"yours, read as '!I', announces {n_got} byte{'' if n_got == 1 else 's'}"


def expect_frame(peer: Peer, body: bytes, what: str, *, sent: object = None,
                 hint: str | None = None, timeout: float = 3.0, silent: str | None = None) -> None:
    """Read one frame and compare it with frame(body): the header first, so a wrong length
    fails at once instead of waiting for bytes that will never come. `silent` explains a
    connection that ended without a single byte."""
    want = HEADER.pack(len(body))
    got = peer.recv_exact(4, timeout)
    if len(got) < 4:
        raise CheckFailed(f"{what}: expected a 4-byte header, got {len(got)} bytes ({peer.ended})",
                          sent=sent, expected=want, got=got, has_got=True, hint=hint,
                          detail=silent if not got else None)
    if got != want:
        swapped = header_swapped(got, len(body))
        raise CheckFailed(f"{what}: the 4-byte length header is wrong", sent=sent,
                          expected=want, got=got, hint=HINT_HEADER if swapped else hint,
                          detail=f"the message has {len(body)} bytes, and "
                                 f"struct.pack('!I', {len(body)}) is {show_bytes(want)}; "
                                 + header_note(got, len(body)))
    data = peer.recv_exact(len(body), timeout)
    why = "" if peer.ended == "complete" else f" ({peer.ended})"
    expect_bytes(data, body, f"{what}: the message after the header{why}", sent=sent, hint=hint)


def raised_text(exc: StudentRaised) -> str:
    """'struct.error: unpack requires...' - the traceback's last line names the module too."""
    tb = [l for l in exc.traceback.rstrip().splitlines() if l.strip()]
    last = tb[-1].strip() if tb else ""
    return last if last.startswith(f"{exc.type}") or f".{exc.type}:" in last else \
        f"{exc.type}: {exc.message}"


def traceback_note(exc: StudentRaised, lines: int = 6) -> str | None:
    tb = [l for l in exc.traceback.rstrip().splitlines() if l.strip()]
    if not tb:
        return None
    return "where it raised:\n" + "\n".join("    " + l for l in tb[-lines:])


def returned(pending, call: str, *, sent: object = None, hint: str | None = None,
             timeout: float = 3.0, after: str = ""):
    """What the pending call returned; a readable failure if it raised or did not return."""
    try:
        return pending.result(timeout)
    except StudentRaised as exc:
        raise CheckFailed(f"{call} raised {raised_text(exc)}{after}", sent=sent,
                          detail=traceback_note(exc), hint=hint) from None
    except StudentTimeout:
        raise CheckFailed(f"{call} did not return within {timeout:g} s{after}; it was stopped",
                          sent=sent, hint=hint) from None


def expect_returns(pending, call: str, expected, *, sent: object = None, hint: str | None = None,
                   timeout: float = 3.0, after: str = "") -> None:
    got = returned(pending, call, sent=sent, hint=hint, timeout=timeout, after=after)
    if got != expected:
        if isinstance(expected, bytes) and isinstance(got, bytes):
            expect_bytes(got, expected, f"what {call} returned{after}", sent=sent, hint=hint)
        raise CheckFailed(f"what {call} returned{after}", sent=sent, expected=expected, got=got,
                          has_expected=True, has_got=True, hint=hint)


def expect_connection_error(pending, call: str, *, sent: bytes, after: str, hint: str) -> None:
    try:
        got = pending.result(3.0)
    except StudentRaised as exc:
        if exc.is_a("ConnectionError"):
            return
        raise CheckFailed(f"{call} raised {raised_text(exc)}{after}", sent=sent,
                          expected="ConnectionError (or a subclass)",
                          got=raised_text(exc).split(":")[0],
                          detail=traceback_note(exc), hint=hint) from None
    except StudentTimeout:
        raise CheckFailed(f"{call} did not return within 3 s{after}; it was stopped",
                          sent=sent, expected="ConnectionError, raised at once", hint=hint) from None
    raise CheckFailed(f"{call} returned instead of raising{after}", sent=sent,
                      expected="ConnectionError raised", got=got, has_got=True, hint=hint)


# -- framing.py through the call driver --------------------------------------------------------

@pytest.fixture
def framing(student):
    """framing(n) -> (module, wires): framing.py loaded in a child process that holds the far
    ends of n fresh connections (`module.handed[i]`); `wires[i]` is the test's end of each."""
    wires = []

    def load(n: int = 1):
        pairs = [connected_pair() for _ in range(n)]
        mod = student.module("framing", sockets=[theirs for _, theirs in pairs])
        wires.extend(Wire(ours) for ours, _ in pairs)
        return mod, wires[-n:]

    yield load
    for wire in wires:
        wire.close()


@check(points=1, hint=HINT_HEADER)
def test_send_msg_header(framing):
    """send_msg writes a 4-byte big-endian length, then the data"""
    mod, [peer] = framing()
    for data in (b"hello", b"", bytes(range(256)) + b"!" * 44):
        call = f"send_msg(sock, {show_bytes(data, 30)})"
        returned(mod.start("send_msg", mod.sock, data), call)
        expect_frame(peer, data, f"what {call} wrote", hint=HINT_HEADER)
    mod.close()  # its socket closes with it: nothing may follow the last message
    peer.expect_eof("send_msg should write the header and the data, nothing more",
                    hint="write struct.pack('!I', len(data)) + data: no newline, no padding")


@check(points=1, hint=HINT_REFERENCE)
def test_recv_msg_reference_peer(framing):
    """recv_msg reads messages from a reference peer, then None when it closes"""
    mod, [peer] = framing()
    first, second = b"hello", b"framed by the reference peer"
    pending = mod.start("recv_msg", mod.sock)
    reading(peer, pending).send(frame(first))
    peer.wait_read()
    peer.send(frame(second))
    peer.shutdown_write()
    sent = frame(first) + frame(second)
    after = " (the test sent two messages, then closed its side)"
    expect_returns(pending, "recv_msg(sock)", first, sent=sent, after=after)
    expect_returns(mod.start("recv_msg", mod.sock), "the second recv_msg(sock)", second,
                   sent=sent, after=after)
    expect_returns(mod.start("recv_msg", mod.sock), "the third recv_msg(sock)", None,
                   sent=sent, after=" (the peer had closed after two whole messages)",
                   hint=HINT_EOF)


@check(points=1, hint=HINT_LOOP)
def test_recv_msg_one_byte_at_a_time(framing):
    """recv_msg puts together a message that arrives 1 byte at a time"""
    messages = [b"hello", b"sticky packets", payload(260)]  # 260: header 00 00 01 04
    mod, wires = framing(len(messages))
    for n, (msg, wire) in enumerate(zip(messages, wires)):
        pending = mod.start("recv_msg", mod.handed[n])
        reading(wire, pending).drip(frame(msg))
        wire.shutdown_write()
        expect_returns(pending, "recv_msg(sock)", msg, sent=frame(msg), hint=HINT_LOOP,
                       after=" (each byte was sent once the one before had been read)")


@check(points=1, hint=HINT_MERGED)
def test_recv_msg_merged_messages(framing):
    """recv_msg takes 100 messages that arrive in one piece, empty ones too, one at a time"""
    messages = [b"" if i % 10 == 0 else f"message {i}".encode() * (i % 4) for i in range(100)]
    mod, [peer] = framing()
    peer.merged([frame(m) for m in messages])
    peer.shutdown_write()
    sent = b"".join(frame(m) for m in messages)
    for i, msg in enumerate(messages):
        expect_returns(mod.start("recv_msg", mod.sock), f"recv_msg(sock) number {i + 1}", msg,
                       sent=sent, after=" (100 framed messages came in one write)")
    expect_returns(mod.start("recv_msg", mod.sock), "recv_msg(sock) number 101", None,
                   sent=sent, hint=HINT_EOF, after=" (the peer had closed after 100 messages)")


@check(points=1, hint=HINT_EOF)
def test_recv_msg_peer_closes_mid_message(framing):
    """recv_msg raises ConnectionError when the peer closes mid-header or mid-body"""
    cut = {"in the middle of the header": frame(b"hello")[:2],
           "in the middle of the body": frame(b"hello")[:6]}
    mod, wires = framing(len(cut))
    for n, ((where, piece), wire) in enumerate(zip(cut.items(), wires)):
        pending = mod.start("recv_msg", mod.handed[n])
        reading(wire, pending).send(piece)
        wire.wait_read()
        wire.shutdown_write()
        expect_connection_error(pending, "recv_msg(sock)", sent=piece, hint=HINT_EOF,
                                after=f" (the peer closed {where})")


@check(points=1, hidden=True, hint=HINT_LOOP)
def test_recv_msg_five_mib(framing):
    """recv_msg returns a 5 MiB message whole"""
    data = payload(BIG)
    mod, [wire] = framing()
    pending = mod.start("recv_msg", mod.sock)
    # header, then 64 KiB of body, then the rest: a single recv() gets 64 KiB at most
    thread = sender(reading(wire, pending), lambda w: w.split(frame(data), 4, 4 + 65536))
    expect_returns(pending, "recv_msg(sock)", data, sent=frame(data), hint=HINT_LOOP, timeout=6,
                   after=" (the body came in two pieces: 64 KiB, then the rest)")
    thread.join(5)


def longer_than_send_buffer() -> int:
    """At least 5 MiB, and more than any socket send buffer here can take in one go."""
    try:
        with open("/proc/sys/net/ipv4/tcp_wmem") as f:
            biggest = int(f.read().split()[2])
    except (OSError, ValueError, IndexError):
        biggest = 4 * MIB
    return max(BIG, min(biggest + MIB, 64 * MIB))


@check(points=1, hidden=True, hint="send() may send only part of a large buffer and returns how "
                                   "much it took; sendall() sends it all")
def test_send_msg_five_mib(framing):
    """send_msg sends a 5 MiB message whole to a slow reader"""
    data = payload(longer_than_send_buffer(), seed=11)
    mod, [peer] = framing()
    peer.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)  # a slow reader
    got = bytearray()
    reader = threading.Thread(target=lambda: got.extend(peer.recv_exact(4 + len(data), 6)),
                              daemon=True)
    reader.start()
    call = f"send_msg(sock, <{len(data) >> 20} MiB>)"
    returned(mod.start("send_msg", mod.sock, data), call, timeout=6)
    mod.close()  # whatever it sent is delivered, then its side closes: the reader stops
    reader.join(6)
    want = HEADER.pack(len(data))
    if len(got) >= 4 and got[:4] != want:
        raise CheckFailed(f"what {call} wrote: the 4-byte length header is wrong",
                          expected=want, got=bytes(got[:4]), hint=HINT_HEADER,
                          detail=header_note(bytes(got[:4]), len(data)))
    if len(got) != 4 + len(data):
        raise CheckFailed(f"what {call} wrote while the test read it slowly: only {len(got)} "
                          f"of {4 + len(data)} bytes (the header and {len(data)} bytes of "
                          "data) before it returned")
    expect_bytes(bytes(got[4:]), data, f"what {call} wrote after the header")


# -- server.py -------------------------------------------------------------------------------

def connect(server, name: str = "test client", rcvbuf: int | None = None) -> Wire:
    wire = Wire.connect(server.addr, name=name, rcvbuf=rcvbuf)
    wire.stop = lambda: not server.alive()
    return wire


@contextlib.contextmanager
def watching(proc):
    """A failure inside says so if the student's process has died meanwhile (its stderr
    follows in the feedback)."""
    try:
        yield
    except CheckFailed as exc:
        if proc.alive():
            proc.wait(0.2)  # a process that just closed its sockets may be exiting right now
        if not proc.alive():
            text, *rest = exc.args
            lines = text.split("\n", 1)
            lines[0] += f" - meanwhile {proc.name} {proc.state()}"
            exc.args = ("\n".join(lines), *rest)
        raise


@check(points=1, hint="reply with send_msg(conn, msg[::-1]): a framed message, reversed")
def test_server_replies_reversed(student):
    """server answers a message with the same message reversed"""
    server = student.server("server.py")
    msg = b"hello, sticky world"
    with watching(server.proc), connect(server) as peer:
        peer.send(frame(msg))
        peer.shutdown_write()  # a server reading a wrong length hits EOF at once
        native = struct.unpack("<I", frame(msg)[:4])[0]
        expect_frame(peer, msg[::-1], "the server's reply", sent=frame(msg),
                     silent=f"a server that reads the header {show_bytes(frame(msg)[:4])} in "
                            f"native byte order ('i') takes it for {native} bytes, waits for "
                            "them, and finds the connection closed")
        peer.expect_eof("the client closed after one message: the server should answer it, "
                        "then close the connection",
                        hint="recv_msg() returns None when the client has closed: then close")


@check(points=1, hint=HINT_LOOP)
def test_server_conversation_in_pieces(student):
    """server answers each message in turn, even when it arrives in 1-byte pieces"""
    server = student.server("server.py")
    steps = [("sent whole", b"first", lambda w, f: w.send(f)),
             ("sent 1 byte at a time", b"second message", lambda w, f: w.drip(f)),
             ("its header cut in two, then its body in two", b"third: split",
              lambda w, f: w.split(f, 2, 4, 9))]
    with watching(server.proc), connect(server) as peer:
        for n, (how, msg, send) in enumerate(steps, 1):
            send(peer, frame(msg))
            expect_frame(peer, msg[::-1], f"the reply to message {n} of {len(steps)} ({how})",
                         sent=frame(msg))
        peer.shutdown_write()
        peer.expect_eof("after the client closed, the server should close the connection",
                        hint=HINT_EOF)


@check(points=1, hint=HINT_SERVER_MERGED)
def test_server_merged_messages(student):
    """server answers 200 messages sent back to back in one write, empty ones too"""
    server = student.server("server.py")
    messages = [b"" if i % 7 == 2 else f"<{i}>".encode() * (1 + i % 5) for i in range(200)]
    with watching(server.proc), connect(server) as peer:
        peer.merged([frame(m) for m in messages])
        peer.shutdown_write()
        for i, msg in enumerate(messages):
            expect_frame(peer, msg[::-1], f"the reply to message {i + 1} of 200 (all 200 came "
                         "in one write)", sent=frame(msg))
        peer.expect_eof("after 200 replies (the client had closed) the server should close "
                        "the connection", hint=HINT_EOF)


@check(points=1, hidden=True, hint=HINT_LOOP)
def test_server_five_mib(student):
    """server answers a 5 MiB message"""
    server = student.server("server.py")
    # more than any send buffer here holds, to a reader with a small window: one send() of
    # the reply is then partial on every run, so send-instead-of-sendall fails every time
    # (with a big window it would fail or pass by the machine's timing: not a fair grade)
    data = payload(longer_than_send_buffer(), seed=3)
    with watching(server.proc), connect(server, rcvbuf=65536) as peer:
        thread = sender(peer, lambda w: w.split(frame(data), 4, 4 + 65536))
        expect_frame(peer, data[::-1], f"the reply to a {len(data) >> 20} MiB message (its body "
                     "came as 64 KiB, then the rest)", sent=frame(data), timeout=5)
        thread.join(5)


@check(points=1, hidden=True, hint="a client that closes in the middle of a message makes "
                                   "recv_msg() raise ConnectionError: catch it per client, then "
                                   "serve the next one")
def test_server_survives_cut_messages(student):
    """server serves the next client after others close mid-message"""
    server = student.server("server.py")
    with watching(server.proc):
        for where, piece in (("in the middle of a body", frame(b"never finished")[:7]),
                             ("in the middle of a header", b"\x00\x00")):
            with connect(server, name="client that hangs up") as rude:
                rude.send(piece)
                rude.shutdown_write()
                rude.expect_eof(f"a client sent {show_bytes(piece)} and closed {where}: the "
                                "server should close that connection", hint=HINT_EOF)
        msg = b"anyone there?"
        with connect(server, name="next client") as peer:
            peer.send(frame(msg))
            expect_frame(peer, msg[::-1], "the reply to the client after two that hung up "
                         "mid-message", sent=frame(msg))


# -- client.py -------------------------------------------------------------------------------

def start_client(student, stdin: bytes):
    lst = listener()
    host, port = lst.getsockname()[:2]
    proc = student.spawn("client.py", "--host", host, "--port", str(port))
    proc.write(stdin)
    proc.close_stdin()
    peer = accept(lst, 5, "client.py", proc)
    lst.close()
    wire = Wire(peer.sock, "test server")
    wire.stop = lambda: not proc.alive()
    return proc, wire


def expect_printed(proc, line: bytes, what: str) -> None:
    got = proc.read_line(5)
    if got != line:
        reason = {"eof": " (the client exited)", "timeout": " (nothing more within 5 s)"}.get(
            proc.last_read, "")
        raise CheckFailed(what + reason, expected=line, got=got, has_got=True)


def client_conversation(student, lines: list[bytes], deliver, *, last_newline: bool = True):
    """Run client.py with `lines` on stdin; answer each message with its reversal, written by
    `deliver(wire, frame, n)`; check what it sent and printed, then that it closes and exits 0."""
    stdin = b"\n".join(lines) + (b"\n" if last_newline else b"")
    proc, peer = start_client(student, stdin)
    with watching(proc), peer:
        for n, line in enumerate(lines):
            typed = line + b"\n" if last_newline or n + 1 < len(lines) else line
            expect_frame(peer, line, f"what the client sent for line {n + 1} of stdin, "
                         f"{show_bytes(typed)}")
            reply = frame(line[::-1])
            how = deliver(peer, reply, n)
            expect_printed(proc, line[::-1] + b"\n",
                           f"what the client printed for the reply {show_bytes(reply, 40)}{how}")
        peer.expect_eof("at the end of stdin the client should close the connection")
    if proc.wait(5) != 0:
        raise CheckFailed(f"client.py should exit with code 0 at the end of stdin; it "
                          f"{proc.state() if proc.returncode is not None else 'is still running'}")


@check(points=1, hint="for each line: send_msg(sock, line without b'\\n'), then print recv_msg(sock)")
def test_client_frames_lines_prints_replies(student):
    """client sends each line as one message and prints each reply"""
    lines = [b"hello", b"", b"sticky packets", b"\xc3\xa9t\xc3\xa9", b"last line, no newline"]

    def whole(peer, reply, n):
        peer.send(reply)
        return ""
    client_conversation(student, lines, whole, last_newline=False)


@check(points=1, hidden=True, hint=HINT_LOOP)
def test_client_replies_in_pieces(student):
    """client waits for whole replies that arrive in pieces"""
    lines = [b"abc", b"a header split from its body", b"and a body in three pieces"]

    def pieces(peer, reply, n):
        if n == 0:
            peer.drip(reply)
            return " (sent 1 byte at a time)"
        if n == 1:
            peer.split(reply, 2, 4)
            return " (its header cut in two, then the body)"
        peer.split(reply, 4, 9, 15)
        return " (the header, then the body in three pieces)"
    client_conversation(student, lines, pieces)
