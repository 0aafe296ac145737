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
                            connected_pair, expect_bytes, listener, say, show_bytes)
from grader.harness.ioview import blocked_sending

MIB = 1 << 20
BIG = 5 * MIB
HEADER = struct.Struct("!I")

HINT_HEADER = say(
    "struct.pack('!I', len(data)): '!' is network byte order (big-endian, the same on every "
    "machine), 'I' is unsigned; native 'i' is little-endian on this machine",
    "用 struct.pack('!I', len(data))：'!' 是网络字节序（大端，在任何机器上都一样），'I' 是无符号数；"
    "不带前缀的原生 'i' 在这台机器上是小端")
HINT_LOOP = say(
    "one recv() returns whatever has arrived - maybe a single byte: loop until you have exactly "
    "4 header bytes, then exactly `length` body bytes",
    "一次 recv() 只返回目前已到达的数据，可能只有 1 个字节：要循环接收，先恰好凑够 4 字节的报头，"
    "再恰好凑够 length 字节的数据")
HINT_EOF = say(
    "recv() returning b'' means the peer has closed, and it keeps returning b'': before a new "
    "header that is a clean end (return None); inside a header or a body raise ConnectionError. "
    "A loop that does not check for b'' spins forever",
    "recv() 返回 b'' 表示对方已经关闭，而且之后每次都会立刻返回 b''：如果发生在新报头开始之前，"
    "就是正常结束（返回 None）；如果发生在报头或数据中间，就抛出 ConnectionError。不检查 b'' 的循环会永远空转")
HINT_REFERENCE = say(
    "the header is struct.unpack('!I', header)[0] - big-endian, unsigned - and the body exactly "
    "that many bytes; None only when the peer closed before a new message",
    "长度是 struct.unpack('!I', header)[0]（大端、无符号），数据恰好是这么多字节；"
    "只有对方在新消息开始之前关闭时才返回 None")
HINT_MERGED = say(
    "each recv_msg() returns exactly one message: read exactly `length` bytes, the rest belongs "
    "to the next; an empty message is b'', while None means the peer closed",
    "每次 recv_msg() 只返回一条消息：恰好读 length 个字节，剩下的属于下一条；"
    "空消息是 b''，而 None 表示对方已经关闭")
HINT_SERVER_MERGED = say(
    "answer every message, empty ones too (b'' reversed is b''), and stop only when recv_msg() "
    "returns None; one message per recv_msg(), the rest waits",
    "每条消息都要回复，空消息也不例外（b'' 反转后还是 b''），只有 recv_msg() 返回 None 时才停下；"
    "一次 recv_msg() 只取一条消息，其余的留给下一次")
HINT_SENDALL = say(
    "send() may send only part of a large buffer and returns how much it took; sendall() sends "
    "it all",
    "send() 对一大块数据可能只发出一部分，并返回实际发出的字节数；sendall() 会把它全部发完")
HINT_EMPTY_LINE = say(
    "an empty line is an empty message, not nothing: send_msg(sock, b'') sends just the header "
    "b'\\x00\\x00\\x00\\x00', and the server answers it; do not skip empty lines",
    "空行是一条空消息，而不是什么都不发：send_msg(sock, b'') 只发送报头 b'\\x00\\x00\\x00\\x00'，"
    "服务器也会回复它；不要跳过空行")
HINT_EVERY_LINE = say(
    "send one message for every line of stdin, in order, none left out",
    "stdin 的每一行都要按顺序发送一条消息，一行也不能少")


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


def nbytes(n: int):
    """'1 byte' / '5 bytes' (and '5 字节'): plurals right."""
    return say("{n} byte", "{n} 字节", n=n) if n == 1 else say("{n} bytes", "{n} 字节", n=n)


# -- reading and judging frames ----------------------------------------------------------------

def header_swapped(got: bytes, n: int) -> bool:
    """Is `got` the length n in little-endian (native 'i' / 'I' on this machine)?"""
    return got == struct.pack("<I", n)


def header_note(got: bytes, n: int):
    """What a wrong header most likely is, in words."""
    if header_swapped(got, n):
        return say("yours has the right 4 bytes in reverse order: little-endian, what "
                   "struct.pack('i', {n}) gives on this machine; read as '!I' it announces "
                   "{announced} bytes",
                   "你的报头是这 4 个字节倒过来的顺序：小端，也就是这台机器上 struct.pack('i', {n}) "
                   "的结果；按 '!I' 读，它声称后面有 {announced} 字节",
                   n=n, announced=HEADER.unpack(got)[0])
    return say("yours, read as '!I', announces {size}", "按 '!I' 读，你的报头声称后面有 {size}",
               size=nbytes(HEADER.unpack(got)[0]))


def expect_frame(peer: Peer, body: bytes, what, *, sent: object = None, hint=None,
                 timeout: float = 3.0, silent=None, wrong_header=None) -> None:
    """Read one frame and compare it with frame(body): the header first, so a wrong length
    fails at once instead of waiting for bytes that will never come. `silent` explains a
    connection that ended without a single byte; `wrong_header(header)` may explain a wrong
    header better (returning a CheckFailed) than the header itself can."""
    want = HEADER.pack(len(body))
    got = peer.recv_exact(4, timeout)
    if len(got) < 4:
        raise CheckFailed(say("{what}: expected a 4-byte header, got {size} ({why})",
                              "{what}：期望收到 4 字节的报头，实际只收到 {size}（{why}）",
                              what=what, size=nbytes(len(got)), why=peer.ended.text()),
                          sent=sent, expected=want, got=got, has_got=True, hint=hint,
                          detail=silent if not got else None)
    if got != want:
        better = wrong_header(got) if wrong_header is not None else None
        if better is not None:
            raise better
        swapped = header_swapped(got, len(body))
        raise CheckFailed(say("{what}: the 4-byte length header is wrong",
                              "{what}：4 字节的长度报头不对", what=what), sent=sent,
                          expected=want, got=got, hint=HINT_HEADER if swapped else hint,
                          detail=say("the message has {size}, and struct.pack('!I', {n}) is "
                                     "{want}; {note}",
                                     "这条消息有 {size}，struct.pack('!I', {n}) 是 {want}；{note}",
                                     size=nbytes(len(body)), n=len(body), want=show_bytes(want),
                                     note=header_note(got, len(body))))
    data = peer.recv_exact(len(body), timeout)
    why = "" if peer.ended == "complete" else say(" ({why})", "（{why}）", why=peer.ended.text())
    expect_bytes(data, body, say("{what}: the message after the header", "{what}：报头之后的消息",
                                 what=what) + why, sent=sent, hint=hint)


def returned(pending, call: str, *, sent: object = None, hint=None, timeout: float = 3.0,
             after=""):
    """What the pending call returned; a readable failure if it raised or did not return."""
    try:
        return pending.result(timeout)
    except StudentRaised as exc:
        raise CheckFailed(exc.summary(call) + after, sent=sent, detail=exc.where(),
                          hint=hint) from None
    except StudentTimeout:
        raise CheckFailed(say("{call} did not return within {t:g} s", "{call} 在 {t:g} 秒内没有返回",
                              call=call, t=timeout) + after
                          + say("; it was stopped", "；它被强行停止了"), sent=sent,
                          hint=hint) from None


def expect_returns(pending, call: str, expected, *, sent: object = None, hint=None,
                   timeout: float = 3.0, after="") -> None:
    got = returned(pending, call, sent=sent, hint=hint, timeout=timeout, after=after)
    if got != expected:
        what = say("what {call} returned", "{call} 的返回值", call=call) + after
        if isinstance(expected, bytes) and isinstance(got, bytes):
            expect_bytes(got, expected, what, sent=sent, hint=hint)
        raise CheckFailed(what, sent=sent, expected=expected, got=got,
                          has_expected=True, has_got=True, hint=hint)


def expect_connection_error(pending, call: str, *, sent: bytes, after, hint) -> None:
    try:
        got = pending.result(3.0)
    except StudentRaised as exc:
        if exc.is_a("ConnectionError"):
            return
        raise CheckFailed(exc.summary(call) + after, sent=sent,
                          expected=say("ConnectionError (or a subclass)", "ConnectionError（或它的子类）"),
                          got=exc.last_line().split(":")[0],
                          detail=exc.where(), hint=hint) from None
    except StudentTimeout:
        raise CheckFailed(say("{call} did not return within 3 s", "{call} 在 3 秒内没有返回",
                              call=call) + after + say("; it was stopped", "；它被强行停止了"),
                          sent=sent, expected=say("ConnectionError, raised at once",
                                                  "立刻抛出 ConnectionError"), hint=hint) from None
    raise CheckFailed(say("{call} returned instead of raising", "{call} 返回了，而不是抛出异常",
                          call=call) + after, sent=sent,
                      expected=say("ConnectionError raised", "抛出 ConnectionError"), got=got,
                      has_got=True, hint=hint)


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


@check(points=1, title=say("send_msg writes a 4-byte big-endian length, then the data",
                           "send_msg 先写 4 字节大端长度，再写数据"), hint=HINT_HEADER)
def test_send_msg_header(framing):
    mod, [peer] = framing()
    for data in (b"hello", b"", bytes(range(256)) + b"!" * 44):
        call = f"send_msg(sock, {show_bytes(data, 30)})"
        returned(mod.start("send_msg", mod.sock, data), call)
        expect_frame(peer, data, say("what {call} wrote", "{call} 写出的内容", call=call),
                     hint=HINT_HEADER)
    mod.close()  # its socket closes with it: nothing may follow the last message
    peer.expect_eof(say("send_msg should write the header and the data, nothing more",
                        "send_msg 只应写出报头和数据，不能再多"),
                    hint=say("write struct.pack('!I', len(data)) + data: no newline, no padding",
                             "写出 struct.pack('!I', len(data)) + data：不加换行，也不补齐"))


@check(points=1, title=say("recv_msg reads messages from a reference peer, then None when it closes",
                           "recv_msg 读出参考对端发来的消息，对端关闭后返回 None"),
       hint=HINT_REFERENCE)
def test_recv_msg_reference_peer(framing):
    mod, [peer] = framing()
    first, second = b"hello", b"framed by the reference peer"
    pending = mod.start("recv_msg", mod.sock)
    reading(peer, pending).send(frame(first))
    peer.wait_read()
    peer.send(frame(second))
    peer.shutdown_write()
    sent = frame(first) + frame(second)
    after = say(" (the test sent two messages, then closed its side)",
                "（测试发送了两条消息，然后关闭了自己这一端）")
    expect_returns(pending, "recv_msg(sock)", first, sent=sent, after=after)
    expect_returns(mod.start("recv_msg", mod.sock), say("the 2nd recv_msg(sock)",
                                                        "第 2 次 recv_msg(sock)"), second,
                   sent=sent, after=after)
    expect_returns(mod.start("recv_msg", mod.sock), say("the 3rd recv_msg(sock)",
                                                        "第 3 次 recv_msg(sock)"), None,
                   sent=sent, after=say(" (the peer had closed after two whole messages)",
                                        "（对端在发完两条完整消息后就关闭了）"),
                   hint=HINT_EOF)


@check(points=1, title=say("recv_msg puts together a message that arrives 1 byte at a time",
                           "recv_msg 能拼出一个字节一个字节到达的消息"), hint=HINT_LOOP)
def test_recv_msg_one_byte_at_a_time(framing):
    messages = [b"hello", b"sticky packets", payload(260)]  # 260: header 00 00 01 04
    mod, wires = framing(len(messages))
    for n, (msg, wire) in enumerate(zip(messages, wires)):
        pending = mod.start("recv_msg", mod.handed[n])
        reading(wire, pending).drip(frame(msg))
        wire.shutdown_write()
        expect_returns(pending, "recv_msg(sock)", msg, sent=frame(msg), hint=HINT_LOOP,
                       after=say(" (each byte was sent once the one before had been read)",
                                 "（每个字节都是在前一个字节被读走之后才发送的）"))


def merged_messages(count: int) -> list[bytes]:
    """Message n (counted from 1) says its number; every 10th is empty."""
    return [b"" if n % 10 == 0 else f"message {n};".encode() * (1 + n % 3)
            for n in range(1, count + 1)]


@check(points=1, title=say("recv_msg takes 100 messages that arrive in one piece, empty ones "
                           "too, one at a time",
                           "100 条消息（含空消息）一次性到达时，recv_msg 一次只取一条"),
       hint=HINT_MERGED)
def test_recv_msg_merged_messages(framing):
    messages = merged_messages(100)
    mod, [peer] = framing()
    peer.merged([frame(m) for m in messages])
    peer.shutdown_write()
    sent = b"".join(frame(m) for m in messages)
    after = say(" (100 framed messages came in one write)", "（100 条带报头的消息是一次写入发来的）")
    for n, msg in enumerate(messages, 1):
        expect_returns(mod.start("recv_msg", mod.sock),
                       say("call {n} of recv_msg(sock)", "第 {n} 次调用 recv_msg(sock)", n=n), msg,
                       sent=sent, after=after)
    expect_returns(mod.start("recv_msg", mod.sock),
                   say("call 101 of recv_msg(sock)", "第 101 次调用 recv_msg(sock)"), None,
                   sent=sent, hint=HINT_EOF,
                   after=say(" (the peer had closed after 100 messages)",
                             "（对端发完 100 条消息后就关闭了）"))


@check(points=1, title=say("recv_msg raises ConnectionError when the peer closes mid-header or "
                           "mid-body",
                           "对端在报头或数据中间关闭时，recv_msg 抛出 ConnectionError"),
       hint=HINT_EOF)
def test_recv_msg_peer_closes_mid_message(framing):
    cut = [(say(" (the peer closed in the middle of the header)", "（对端在报头中间关闭了）"),
            frame(b"hello")[:2]),
           (say(" (the peer closed in the middle of the body)", "（对端在数据中间关闭了）"),
            frame(b"hello")[:6])]
    mod, wires = framing(len(cut))
    for n, ((after, piece), wire) in enumerate(zip(cut, wires)):
        pending = mod.start("recv_msg", mod.handed[n])
        reading(wire, pending).send(piece)
        wire.wait_read()
        wire.shutdown_write()
        expect_connection_error(pending, "recv_msg(sock)", sent=piece, hint=HINT_EOF, after=after)


@check(points=1, hidden=True, title=say("recv_msg returns a 5 MiB message whole",
                                        "recv_msg 完整返回一条 5 MiB 的消息"), hint=HINT_LOOP)
def test_recv_msg_five_mib(framing):
    data = payload(BIG)
    mod, [wire] = framing()
    pending = mod.start("recv_msg", mod.sock)
    # header, then 64 KiB of body, then the rest: a single recv() gets 64 KiB at most
    thread = sender(reading(wire, pending), lambda w: w.split(frame(data), 4, 4 + 65536))
    expect_returns(pending, "recv_msg(sock)", data, sent=frame(data), hint=HINT_LOOP, timeout=6,
                   after=say(" (the body came in two pieces: 64 KiB, then the rest)",
                             "（数据分两段到达：先 64 KiB，再是其余部分）"))
    thread.join(5)


def longer_than_send_buffer() -> int:
    """At least 5 MiB, and more than any socket send buffer here can take in one go."""
    try:
        with open("/proc/sys/net/ipv4/tcp_wmem") as f:
            biggest = int(f.read().split()[2])
    except (OSError, ValueError, IndexError):
        biggest = 4 * MIB
    return max(BIG, min(biggest + MIB, 64 * MIB))


@check(points=1, hidden=True, title=say("send_msg sends a 5 MiB message whole to a slow reader",
                                        "send_msg 把一条 5 MiB 的消息完整发给一个读得很慢的对端"),
       hint=HINT_SENDALL)
def test_send_msg_five_mib(framing):
    data = payload(longer_than_send_buffer(), seed=11)
    mod, [peer] = framing()
    peer.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)  # a slow reader
    got = bytearray()
    reader = threading.Thread(target=lambda: got.extend(peer.recv_exact(4 + len(data), 6)),
                              daemon=True)
    call = f"send_msg(sock, <{len(data) >> 20} MiB>)"
    pending = mod.start("send_msg", mod.sock, data)
    blocked_sending(mod.proc, peer.sock, stop=pending.done)  # its first send() returned
    reader.start()
    returned(pending, call, timeout=6)
    mod.close()  # whatever it sent is delivered, then its side closes: the reader stops
    reader.join(6)
    want = HEADER.pack(len(data))
    if len(got) >= 4 and got[:4] != want:
        raise CheckFailed(say("what {call} wrote: the 4-byte length header is wrong",
                              "{call} 写出的内容：4 字节的长度报头不对", call=call),
                          expected=want, got=bytes(got[:4]), hint=HINT_HEADER,
                          detail=header_note(bytes(got[:4]), len(data)))
    if len(got) != 4 + len(data):
        raise CheckFailed(say("what {call} wrote while the test read it slowly: only {n} of "
                              "{total} bytes (the header and {size} bytes of data) before it "
                              "returned",
                              "测试慢慢读取时，{call} 在返回之前只写出了 {total} 字节中的 {n} 字节"
                              "（报头加 {size} 字节数据）",
                              call=call, n=len(got), total=4 + len(data), size=len(data)))
    expect_bytes(bytes(got[4:]), data, say("what {call} wrote after the header",
                                           "{call} 在报头之后写出的内容", call=call))


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
            lines[0] += str(say(" - meanwhile {name} {state}", "——与此同时，{name} {state}",
                                name=proc.name, state=proc.state()))
            exc.args = ("\n".join(lines), *rest)
        raise


@check(points=1, title=say("server answers a message with the same message reversed",
                           "服务器把收到的消息反转后回复"),
       hint=say("reply with send_msg(conn, msg[::-1]): a framed message, reversed",
                "用 send_msg(conn, msg[::-1]) 回复：一条带报头的、反转后的消息"))
def test_server_replies_reversed(student):
    server = student.server("server.py")
    msg = b"hello, sticky world"
    with watching(server.proc), connect(server) as peer:
        peer.send(frame(msg))
        peer.shutdown_write()  # a server reading a wrong length hits EOF at once
        native = struct.unpack("<I", frame(msg)[:4])[0]
        expect_frame(peer, msg[::-1], say("the server's reply", "服务器的回复"), sent=frame(msg),
                     silent=say("a server that reads the header {header} in native byte order "
                                "('i') takes it for {native} bytes, waits for them, and finds the "
                                "connection closed",
                                "如果服务器按原生字节序（'i'）读报头 {header}，就会以为后面有 {native} "
                                "字节，于是一直等，最后发现连接已经关闭",
                                header=show_bytes(frame(msg)[:4]), native=native))
        peer.expect_eof(say("the client closed after one message: the server should answer it, "
                            "then close the connection",
                            "客户端发完一条消息就关闭了：服务器应该先回复它，再关闭连接"),
                        hint=say("recv_msg() returns None when the client has closed: then close",
                                 "客户端关闭后 recv_msg() 返回 None：这时就关闭连接"))


@check(points=1, title=say("server answers each message in turn, even when it arrives in 1-byte "
                           "pieces", "服务器逐条回复消息，即使消息是一个字节一个字节到达的"),
       hint=HINT_LOOP)
def test_server_conversation_in_pieces(student):
    server = student.server("server.py")
    steps = [(say("sent whole", "整条发送"), b"first", lambda w, f: w.send(f)),
             (say("sent 1 byte at a time", "一次发 1 个字节"), b"second message",
              lambda w, f: w.drip(f)),
             (say("its header cut in two, then its body in two", "报头切成两段，数据也切成两段"),
              b"third: split", lambda w, f: w.split(f, 2, 4, 9))]
    with watching(server.proc), connect(server) as peer:
        for n, (how, msg, send) in enumerate(steps, 1):
            send(peer, frame(msg))
            expect_frame(peer, msg[::-1], say("the reply to message {n} of {total} ({how})",
                                              "对第 {n} 条消息（共 {total} 条，{how}）的回复",
                                              n=n, total=len(steps), how=how), sent=frame(msg))
        peer.shutdown_write()
        peer.expect_eof(say("after the client closed, the server should close the connection",
                            "客户端关闭之后，服务器应该关闭连接"), hint=HINT_EOF)


def server_messages(count: int) -> list[bytes]:
    """Message n (counted from 1) is b'<n>' a few times; every 7th is empty."""
    return [b"" if n % 7 == 0 else f"<{n}>".encode() * (1 + n % 5) for n in range(1, count + 1)]


@check(points=1, title=say("server answers 200 messages sent back to back in one write, empty "
                           "ones too", "200 条消息（含空消息）在一次写入中首尾相接地到达，服务器逐条回复"),
       hint=HINT_SERVER_MERGED)
def test_server_merged_messages(student):
    server = student.server("server.py")
    messages = server_messages(200)
    with watching(server.proc), connect(server) as peer:
        peer.merged([frame(m) for m in messages])
        peer.shutdown_write()
        for n, msg in enumerate(messages, 1):
            expect_frame(peer, msg[::-1], say("the reply to message {n} of 200 (all 200 came in "
                                              "one write)",
                                              "对第 {n} 条消息（共 200 条，是一次写入发来的）的回复",
                                              n=n), sent=frame(msg))
        peer.expect_eof(say("after 200 replies (the client had closed) the server should close "
                            "the connection", "回复完 200 条消息（客户端已经关闭）之后，服务器应该关闭连接"),
                        hint=HINT_EOF)


@check(points=1, hidden=True, title=say("server answers a 5 MiB message", "服务器回复一条 5 MiB 的消息"),
       hint=say("recv_msg must read the whole 5 MiB body (a loop around recv()), and send_msg "
                "must send the whole reply (sendall(): one send() takes only what fits in the "
                "send buffer)",
                "recv_msg 要读完整个 5 MiB 的数据（围绕 recv() 循环），send_msg 要把整个回复发出去"
                "（用 sendall()：一次 send() 只能发出发送缓冲区放得下的那部分）"))
def test_server_five_mib(student):
    server = student.server("server.py")
    # more than any send buffer here holds, to a reader with a small window: one send() of
    # the reply is then partial on every run, so send-instead-of-sendall fails every time
    # (with a big window it would fail or pass by the machine's timing: not a fair grade)
    data = payload(longer_than_send_buffer(), seed=3)
    with watching(server.proc), connect(server, rcvbuf=65536) as peer:
        thread = sender(peer, lambda w: w.split(frame(data), 4, 4 + 65536))
        # read nothing until the server's first send() of the reply has returned
        blocked_sending(server.proc, peer.sock, seconds=10)
        expect_frame(peer, data[::-1], say("the reply to a {mib} MiB message (its body came as "
                                           "64 KiB, then the rest)",
                                           "对一条 {mib} MiB 消息的回复（它的数据先来了 64 KiB，然后是其余部分）",
                                           mib=len(data) >> 20), sent=frame(data), timeout=5)
        thread.join(5)


@check(points=1, hidden=True, title=say("server serves the next client after others close "
                                        "mid-message", "有客户端在消息中间断开后，服务器继续服务下一个客户端"),
       hint=say("a client that closes in the middle of a message makes recv_msg() raise "
                "ConnectionError: catch it per client, then serve the next one",
                "客户端在一条消息中间关闭，会让 recv_msg() 抛出 ConnectionError：对每个客户端单独捕获它，"
                "然后继续服务下一个"))
def test_server_survives_cut_messages(student):
    server = student.server("server.py")
    with watching(server.proc):
        for where, piece in ((say("in the middle of a body", "在数据中间"), frame(b"never finished")[:7]),
                             (say("in the middle of a header", "在报头中间"), b"\x00\x00")):
            with connect(server, name="client that hangs up") as rude:
                rude.send(piece)
                rude.shutdown_write()
                rude.expect_eof(say("a client sent {piece} and closed {where}: the server should "
                                    "close that connection",
                                    "一个客户端发送了 {piece}，然后{where}关闭了：服务器应该关闭这个连接",
                                    piece=show_bytes(piece), where=where), hint=HINT_EOF)
        msg = b"anyone there?"
        with connect(server, name="next client") as peer:
            peer.send(frame(msg))
            expect_frame(peer, msg[::-1], say("the reply to the client after two that hung up "
                                              "mid-message",
                                              "对两个中途挂断的客户端之后那个客户端的回复"),
                         sent=frame(msg))


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


def expect_printed(proc, line: bytes, what) -> None:
    got = proc.read_line(5)
    if got != line:
        reason = {"eof": say(" (the client exited)", "（客户端已经退出）"),
                  "timeout": say(" (nothing more within 5 s)", "（5 秒内没有更多输出）")}.get(
            proc.last_read, "")
        raise CheckFailed(what + reason, expected=line, got=got, has_got=True)


def skipped_lines(peer: Peer, lines: list[bytes], typed: list[bytes], n: int, header: bytes):
    """When the client sent a later line where line n (0-based) was due: the failure that
    says which lines it never sent (None if the frame is not a later line)."""
    announced = HEADER.unpack(header)[0]
    later = [m for m in range(n + 1, len(lines)) if len(lines[m]) == announced]
    if not later:
        return None
    body = peer.recv_exact(announced, 2.0)
    m = next((m for m in later if lines[m] == body), None)
    if m is None:
        return None
    never = typed[n:m]
    shown = ", ".join(show_bytes(t, 30) for t in never)
    if m == n + 1:
        summary = say("line {a} of stdin ({shown}) was never sent: the client sent line {m} "
                      "instead",
                      "stdin 第 {a} 行（{shown}）根本没有发送：客户端直接发送了第 {m} 行",
                      a=n + 1, shown=shown, m=m + 1)
    else:
        summary = say("lines {a} to {b} of stdin ({shown}) were never sent: the client sent line "
                      "{m} next",
                      "stdin 第 {a} 到第 {b} 行（{shown}）根本没有发送：客户端接着发送的是第 {m} 行",
                      a=n + 1, b=m, shown=shown, m=m + 1)
    empty = all(not lines[k] for k in range(n, m))
    return CheckFailed(summary, expected=frame(lines[n]), got=header + body,
                       hint=HINT_EMPTY_LINE if empty else HINT_EVERY_LINE)


def client_conversation(student, lines: list[bytes], deliver, *, last_newline: bool = True):
    """Run client.py with `lines` on stdin; answer each message with its reversal, written by
    `deliver(wire, frame, n)`; check what it sent and printed, then that it closes and exits 0."""
    stdin = b"\n".join(lines) + (b"\n" if last_newline else b"")
    typed = [line + b"\n" if last_newline or n + 1 < len(lines) else line
             for n, line in enumerate(lines)]
    proc, peer = start_client(student, stdin)
    with watching(proc), peer:
        for n, line in enumerate(lines):
            expect_frame(peer, line, say("what the client sent for line {n} of stdin, {typed}",
                                         "客户端为 stdin 第 {n} 行 {typed} 发送的内容",
                                         n=n + 1, typed=show_bytes(typed[n])),
                         wrong_header=lambda h, n=n: skipped_lines(peer, lines, typed, n, h))
            reply = frame(line[::-1])
            how = deliver(peer, reply, n)
            expect_printed(proc, line[::-1] + b"\n",
                           say("what the client printed for the reply {reply}",
                               "客户端收到回复 {reply} 后打印的内容",
                               reply=show_bytes(reply, 40)) + how)
        peer.expect_eof(say("at the end of stdin the client should close the connection",
                            "stdin 读完时，客户端应该关闭连接"),
                        hint=say("when the for loop over stdin ends, close the socket (a "
                                 "with-statement does it)",
                                 "对 stdin 的 for 循环结束时，关闭套接字（用 with 语句会自动关闭）"))
    if proc.wait(5) != 0:
        raise CheckFailed(say("client.py should exit with code 0 at the end of stdin; it {state}",
                              "stdin 读完时 client.py 应该以退出码 0 结束；但它{state}",
                              state=proc.state()),
                          hint=say("let the program end normally when stdin ends: no sys.exit() "
                                   "with an error, no exception",
                                   "stdin 读完时让程序正常结束：不要带错误地调用 sys.exit()，也不要抛出异常"))


@check(points=1, title=say("client sends each line as one message and prints each reply",
                           "客户端把每一行作为一条消息发送，并打印每条回复"),
       hint=say("for each line: send_msg(sock, line without b'\\n'), then print recv_msg(sock)",
                "对每一行：send_msg(sock, 去掉 b'\\n' 的这一行)，然后打印 recv_msg(sock) 的结果"))
def test_client_frames_lines_prints_replies(student):
    lines = [b"hello", b"", b"sticky packets", b"\xc3\xa9t\xc3\xa9", b"last line, no newline"]

    def whole(peer, reply, n):
        peer.send(reply)
        return ""
    client_conversation(student, lines, whole, last_newline=False)


@check(points=1, hidden=True, title=say("client waits for whole replies that arrive in pieces",
                                        "回复分几段到达时，客户端也要等到完整的回复"), hint=HINT_LOOP)
def test_client_replies_in_pieces(student):
    lines = [b"abc", b"a header split from its body", b"and a body in three pieces"]

    def pieces(peer, reply, n):
        if n == 0:
            peer.drip(reply)
            return say(" (sent 1 byte at a time)", "（一次发 1 个字节）")
        if n == 1:
            peer.split(reply, 2, 4)
            return say(" (its header cut in two, then the body)", "（报头切成两段，然后是数据）")
        peer.split(reply, 4, 9, 15)
        return say(" (the header, then the body in three pieces)", "（先是报头，然后数据分三段）")
    client_conversation(student, lines, pieces)
