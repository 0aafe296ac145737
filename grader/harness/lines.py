"""Line-based TCP peers, for suites of line protocols (a chat room): read one line at a time,
with Peer's deadlines, its record of why a read stopped (`ended`) and its hang detection.

    from grader.harness.lines import LinePeer

    alice = LinePeer.connect(server.addr, name="client alice")
    alice.send(b"alice\\n")
    alice.expect_line(b"* welcome alice, 1 online\\n", say("alice's welcome", "alice 收到的欢迎语"))
    alice.expect_lines([b"bob: hi\\n", b"* carol joined\\n"], what)   # in any order

Bytes that arrive after a line stay for the next read (`pending`): a LinePeer never loses a
byte nor reads one twice. Lines keep their b'\\n'; a read that ends without one (the other side
closed, reset, the deadline, or a hang) returns what came, and `ended` says why.
"""
from __future__ import annotations

import socket

from ..i18n import say, text
from .feedback import CheckFailed, difference_note, show_bytes
from .net import Ended, Peer


class LinePeer(Peer):
    """A Peer that reads lines. Use its own reads (read_line, expect_line, expect_lines,
    expect_eof), not Peer.expect/recv_exact, which know nothing of `pending`."""

    def __init__(self, sock: socket.socket, name: str = "test client", other=None):
        super().__init__(sock, name, other)
        self.pending = bytearray()  # read from the socket, not yet handed out
        self.tolerated: set[bytes] = set()  # lines a race may or may not produce: see read_line

    def read_line(self, timeout: float = 3.0, limit: int = 64 << 20) -> bytes:
        """The next line, b'\\n' included; without it, what came before the read stopped.
        A line in `tolerated` (one that the protocol allows but does not promise, e.g. the
        notice of a client that joined at the same moment) is dropped, once, and the next
        line read instead."""
        while True:
            line = self._next_line(timeout, limit)
            if line not in self.tolerated:
                return line
            self.tolerated.discard(line)

    def _next_line(self, timeout: float, limit: int) -> bytes:
        buf = self.pending
        if b"\n" not in buf:
            scanned = len(buf)

            def found(data: bytearray) -> bool:
                nonlocal scanned
                hit = data.find(b"\n", scanned) >= 0
                scanned = len(data)
                return hit

            self._read(limit, timeout, buf=buf, stop=found)
        else:
            self.ended = Ended(Ended.COMPLETE, other=self.other)
        cut = buf.find(b"\n") + 1 or len(buf)
        line = bytes(buf[:cut])
        del buf[:cut]
        return line

    def ending(self) -> str:
        """Why the last read stopped early, as " (the server closed the connection)"; else ''."""
        return "" if self.ended.kind == Ended.COMPLETE else f" ({self.ended})"

    def expect_line(self, expected: bytes, what, *, sent: object = None, timeout: float = 3.0,
                    hint=None, detail=None) -> bytes:
        """The next line must be `expected` (one whole line, b'\\n' included)."""
        got = self.read_line(timeout, limit=max(len(expected) + 1, 1 << 16))
        if got == expected:
            return got
        raise CheckFailed(text(what) + self.ending(), sent=sent, expected=expected, got=got,
                          has_got=True, hint=hint,
                          detail=detail or difference_note(expected, got))

    def expect_lines(self, expected: list[bytes], what, *, sent: object = None,
                     timeout: float = 3.0, hint=None, detail=None) -> list[bytes]:
        """The next len(expected) lines must be `expected` in any order (lines of different
        senders may interleave); returns them in the order they came. The first line that is
        not one of those still missing fails at once, showing what was still expected."""
        missing = list(expected)
        came: list[bytes] = []
        limit = max([len(line) for line in expected] + [1 << 16]) + 1
        while missing:
            got = self.read_line(timeout, limit=limit)
            if got in missing:
                missing.remove(got)
                came.append(got)
                continue
            if len(missing) == 1:
                want = missing[0]
            else:
                want = say("one of: {lines}", "以下之一：{lines}",
                           lines=", ".join(show_bytes(line, 60) for line in missing))
            lines_before = (say("(before it, in order: {lines})", "（在它之前依次收到：{lines}）",
                                lines=", ".join(show_bytes(line, 40) for line in came))
                            if came else None)
            raise CheckFailed(text(what) + self.ending(), sent=sent, expected=want, got=got,
                              has_got=True, hint=hint, detail=detail or lines_before)
        return came

    def peek(self, timeout: float = 3.0) -> bytes | None:
        """Bytes waiting to be read (up to 64, none taken), b'' if the other side closed,
        None if nothing came within `timeout`."""
        if self.pending:
            return bytes(self.pending[:64])
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(64, socket.MSG_PEEK)
        except socket.timeout:
            return None
        except OSError:
            return b""

    def expect_eof(self, what, timeout: float = 3.0, hint=None) -> None:
        """The other side must close (or reset) the connection with nothing more."""
        if self.pending:
            raise CheckFailed(what, expected=say("no more bytes: the connection closed",
                                                 "不再有任何字节：连接被关闭"),
                              got=bytes(self.pending), hint=hint)
        super().expect_eof(what, timeout, hint)


__all__ = ["LinePeer"]
