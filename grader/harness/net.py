"""Addresses, readiness and adversarial TCP peers for suites.

Collisions under pytest-xdist or parallel batch judges are ruled out, not made unlikely: every
judge process gets its own loopback address, 127.<from its pid>, and ports come from the OS
on that address. Two judges never share an address, so they never share an (address, port).

Readiness is read from the kernel's socket table (/proc/net/tcp, /proc/net/udp), polled with
a deadline: it works for UDP servers too and never consumes a connection the server would
count as a client. Peers speak with TCP_NODELAY and can cut data into 1-byte writes or glue
several frames into one write, so stream-framing bugs show every time.
"""
from __future__ import annotations

import os
import socket
import struct
import threading
import time

from ..i18n import Text, say, text
from . import hang
from .feedback import CheckFailed, difference_note, expect_bytes, show_bytes

_HOST: str | None = None


def judge_host() -> str:
    """This process's own loopback address (127.A.B.C from the pid); 127.0.0.1 where the
    system only answers on that one."""
    global _HOST
    if _HOST is None:
        pid = os.getpid()
        host = f"127.{1 + ((pid >> 16) & 0x7F)}.{(pid >> 8) & 0xFF}.{pid & 0xFF}"
        try:
            with socket.socket() as s:
                s.bind((host, 0))
        except OSError:
            host = "127.0.0.1"
        _HOST = host
    return _HOST


def free_port(host: str | None = None, kind: int = socket.SOCK_STREAM) -> int:
    """A port the OS says is free on `host` (this judge's own address by default)."""
    host = host or judge_host()
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, kind) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


# -- the kernel's socket tables ---------------------------------------------------------------
# Asked over netlink (sock_diag: ~0.05 ms for the listening sockets only); /proc/net/tcp is the
# fallback (it walks every socket: ~2 ms on a busy machine, too slow to poll every millisecond).

NETLINK_SOCK_DIAG, SOCK_DIAG_BY_FAMILY, NLMSG_ERROR, NLMSG_DONE = 4, 20, 2, 3
TCP_LISTEN, UDP_BOUND = 10, 7


def _diag(family: int, proto: int, states: int) -> list[tuple[str, int, int]]:
    """(host, port, inode) of the sockets of `family`/`proto` in `states` (a bitmask)."""
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_SOCK_DIAG) as nl:
        req = struct.pack("=BBBBI", family, proto, 0, 0, states) + bytes(48)
        nl.send(struct.pack("=IHHII", 16 + len(req), SOCK_DIAG_BY_FAMILY, 0x301, 1, 0) + req)
        rows = []
        while True:
            data = nl.recv(1 << 16)
            off = 0
            while off < len(data):
                length, kind = struct.unpack_from("=IH", data, off)
                if kind == NLMSG_DONE:
                    return rows
                if kind == NLMSG_ERROR:
                    raise OSError("sock_diag refused the request")
                fam = data[off + 16]
                port = struct.unpack_from("!H", data, off + 20)[0]
                raw = data[off + 24: off + 24 + (4 if fam == socket.AF_INET else 16)]
                inode = struct.unpack_from("=I", data, off + 16 + 68)[0]
                rows.append((socket.inet_ntop(fam, raw), port, inode))
                off += (length + 3) & ~3
            if not data:
                return rows


def _decode_addr(text: str) -> tuple[str, int]:
    addr, port = text.split(":")
    raw = bytes.fromhex(addr)
    if len(raw) == 4:
        host = socket.inet_ntop(socket.AF_INET, raw[::-1])
    else:
        host = socket.inet_ntop(socket.AF_INET6, b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4)))
    return host, int(port, 16)


def _proc_table(proto: str) -> list[tuple[str, int, int]]:
    wanted = "0A" if proto == "tcp" else "07"
    rows = []
    for name in (proto, proto + "6"):
        try:
            with open(f"/proc/net/{name}") as f:
                lines = f.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if parts[3] == wanted:
                rows.append((*_decode_addr(parts[1]), int(parts[9])))
    return rows


_NETLINK_OK = True


def bound_sockets(proto: str) -> list[tuple[str, int, int]]:
    """(host, port, inode) of every listening TCP socket, or every bound UDP socket."""
    global _NETLINK_OK
    if _NETLINK_OK:
        ipproto = socket.IPPROTO_TCP if proto == "tcp" else socket.IPPROTO_UDP
        states = 1 << (TCP_LISTEN if proto == "tcp" else UDP_BOUND)
        try:
            return [*_diag(socket.AF_INET, ipproto, states), *_diag(socket.AF_INET6, ipproto, states)]
        except (OSError, struct.error, IndexError):
            _NETLINK_OK = False
    return _proc_table(proto)


def bound_by(pid: int, proto: str) -> list[tuple[str, int]]:
    """Where process `pid` listens (tcp) or is bound (udp): what a student really did with --host."""
    inodes = hang.socket_inodes(pid)
    return sorted({(h, p) for h, p, ino in bound_sockets(proto) if ino in inodes})


def _same_host(a: str, b: str) -> bool:
    if a == b:
        return True
    import ipaddress
    try:
        return ipaddress.ip_address(a) == ipaddress.ip_address(b)
    except ValueError:
        return a == b


WILDCARDS = ("0.0.0.0", "::")


def is_listening(host: str, port: int, proto: str = "tcp") -> bool:
    """Is something listening (tcp) or bound (udp) where a client of (host, port) reaches it?
    A wildcard bind counts: it is reachable; checks of where a server binds use bound_by."""
    return any(p == port and (h in WILDCARDS or _same_host(h, host))
               for h, p, _ in bound_sockets(proto))


def wait_listening(host: str, port: int, proto: str, proc, timeout: float,
                   idle: float | None = None) -> None:
    """Poll the socket table until (host, port) is listening; fail with the reason otherwise:
    the process died (its stderr is in the feedback), or bound elsewhere, or never bound.
    It gives up early when the process tree has been idle - no CPU used, nothing runnable -
    for `idle` seconds (default hang.IDLE_SECONDS; hang.REPEAT_SECONDS once this program was seen never
    listening in this judge; see grader/harness/hang.py); `idle=0` turns that off."""
    end = time.monotonic() + timeout
    watcher = hang.Readiness(proc, idle) if idle != 0 else None
    listening = say("listening", "监听") if proto == "tcp" else say("bound", "绑定")
    hint = (say("bind((host, port)) with exactly the --host and --port you were given, then call "
                "listen(); nothing may block before it",
                "用给你的 --host 和 --port 原样调用 bind((host, port))，然后调用 listen()；在这之前不能有"
                "任何阻塞的操作") if proto == "tcp" else
            say("bind((host, port)) with exactly the --host and --port you were given",
                "用给你的 --host 和 --port 原样调用 bind((host, port))"))
    while True:
        if is_listening(host, port, proto):
            return
        if not proc.alive():
            proc.wait(1.0)
            raise CheckFailed(say(
                "{what} before it was {listening} on its port; a server should run until it is "
                "killed", "{what}，那时它还没有在自己的端口上{listening}；服务器应当一直运行，直到被终止",
                what=proc.describe(), listening=listening))
        idle_for = watcher.idle() if watcher is not None else None
        if idle_for is not None or time.monotonic() >= end:
            where = bound_by(proc.pid, proto)
            got = ", ".join(f"{h}:{p}" for h, p in where) or say("nothing", "没有任何地址")
            if idle_for is not None and watcher.repeat:
                raise CheckFailed(say(
                    "as in an earlier check, {name} did not start {listening} on its port",
                    "和前面的检查一样，{name} 没有在自己的端口上开始{listening}",
                    name=proc.name, listening=listening), expected=f"{host}:{port}", got=got,
                    hint=hint)
            if idle_for is not None:
                summary = say(
                    "{name} is not {listening} on {addr}, and for {s:.1f} s it has not used the "
                    "CPU at all: it is blocked (in accept() on another address, in sleep(), in "
                    "input()...) and will not start by itself",
                    "{name} 没有在 {addr} 上{listening}，而且已经 {s:.1f} 秒完全没有使用 CPU："
                    "它阻塞住了（在别的地址上 accept()、sleep()、input()……），不会自己开始{listening}",
                    name=proc.name, listening=listening, addr=f"{host}:{port}", s=idle_for)
                proc.collect_stacks()  # where it was blocked, for the feedback
            else:
                summary = say("{name} was not {listening} on {addr} within {t:g} s",
                              "{name} 在 {t:g} 秒内没有在 {addr} 上{listening}",
                              name=proc.name, listening=listening, addr=f"{host}:{port}",
                              t=timeout)
            raise CheckFailed(summary, expected=f"{host}:{port}", got=got, hint=hint)
        time.sleep(0.001)  # polling the kernel's table (~0.05 ms a look) with a deadline


# -- how a read ended ---------------------------------------------------------------------------

class Ended:
    """Why a Peer's last read stopped: `kind` is one of

        "unread"   nothing read yet            (the connection is open)
        "complete" every byte asked for came   (open)
        "timeout"  no more bytes came in time  (open; `detail` may say the program hung)
        "closed"   the other side closed it    (a FIN: recv() returned b'')
        "reset"    the other side reset it     (an RST)

    `str(ended)` is a sentence in the judge's language for feedback. It compares equal to its
    kind ("closed") and, for suites written before it existed, to the old English sentence
    ("the other side closed the connection")."""

    UNREAD, COMPLETE, TIMEOUT, CLOSED, RESET = "unread", "complete", "timeout", "closed", "reset"
    _LEGACY = {UNREAD: "not read yet", COMPLETE: "complete",
               CLOSED: "the other side closed the connection", RESET: "the connection was reset"}

    __slots__ = ("kind", "waited", "detail", "other")

    def __init__(self, kind: str, waited: float | None = None, detail: "Text | str | None" = None,
                 other: "Text | str | None" = None):
        if kind not in self._LEGACY and kind != self.TIMEOUT:
            raise ValueError(f"unknown ending {kind!r}")
        self.kind, self.waited, self.detail, self.other = kind, waited, detail, other

    @property
    def open(self) -> bool:
        """Is the connection still open (the read stopped for another reason)?"""
        return self.kind in (self.UNREAD, self.COMPLETE, self.TIMEOUT)

    @property
    def gone(self) -> bool:
        """Did the other side close or reset the connection?"""
        return self.kind in (self.CLOSED, self.RESET)

    def legacy(self) -> str:
        if self.kind == self.TIMEOUT:
            return f"no more bytes came within {self.waited:g} s"
        return self._LEGACY[self.kind]

    def text(self) -> Text:
        other = self.other or say("the other side", "对方")
        if self.kind == self.TIMEOUT:
            if self.detail is not None:
                return say("{detail}", "{detail}", detail=self.detail)
            return say("no more bytes came within {t:g} s", "{t:g} 秒内没有再收到任何字节",
                       t=self.waited or 0)
        return {
            self.UNREAD: say("nothing read yet", "还没有读过"),
            self.COMPLETE: say("every byte expected came", "预期的字节都已收到"),
            self.CLOSED: say("{other} closed the connection", "{other}关闭了连接", other=other),
            self.RESET: say("{other} reset the connection", "{other}重置了连接（RST）", other=other),
        }[self.kind]

    def __str__(self) -> str:
        return str(self.text())

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __eq__(self, other) -> bool:
        if isinstance(other, Ended):
            return self.kind == other.kind
        if isinstance(other, str):
            return other in (self.kind, self.legacy())
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.kind)

    def __repr__(self) -> str:
        return f"Ended({self.kind!r})"


# -- adversarial TCP peers --------------------------------------------------------------------

THE_SERVER = say("the server", "服务器")
THE_CLIENT = say("the client", "客户端")


def _other_side(name: str):
    """Who is at the other end of a peer called `name` ('test client' talks to the server)."""
    if "server" in name:
        return THE_CLIENT
    if "client" in name:
        return THE_SERVER
    return say("the other side", "对方")


class SendFailed(CheckFailed, ConnectionError):
    """A Peer could not write everything: the other side closed or reset the connection, or
    stopped reading. Feedback, like every CheckFailed; also a ConnectionError, so a suite's
    `except OSError` around a write still catches it. `done` of `total` bytes were written."""

    def __init__(self, summary, done: int, total: int, reason: str = "closed", **kw):
        super().__init__(summary, **kw)
        self.done, self.total, self.reason = done, total, reason


class Peer:
    """One end of a TCP connection that a test drives; every read has a deadline and records
    why it stopped (`ended`, an `Ended`), so a failure can say 'the server closed' or 'timed
    out'. Writes that fail (the other side hung up, or stopped reading) raise `SendFailed`:
    feedback saying how far the test got, not a raw BrokenPipeError.

    `other` names the other side in feedback: "the server" for `Peer.connect`, "the client"
    for `accept` (or the `who` given there)."""

    SEND_TIMEOUT = 10.0  # a write that cannot progress for this long: the other side stopped reading
    GRACE = 0.25         # after a wrong reply: how long to wait for the rest of it to arrive

    def __init__(self, sock: socket.socket, name: str = "test client", other=None):
        self.sock = sock
        self.name = name
        self.other = other if other is not None else _other_side(name)
        self.ended = Ended(Ended.UNREAD, other=self.other)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    @classmethod
    def connect(cls, addr: tuple[str, int], timeout: float = 3.0, rcvbuf: int | None = None,
                name: str = "test client", other=None) -> "Peer":
        family = socket.AF_INET6 if ":" in addr[0] else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        if rcvbuf:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.settimeout(timeout)
        try:
            sock.connect(addr)
        except OSError as exc:
            sock.close()
            raise CheckFailed(say("could not connect to {addr}: {exc}", "无法连接到 {addr}：{exc}",
                                  addr=f"{addr[0]}:{addr[1]}", exc=exc),
                              hint=say("is the server accepting the next client?",
                                       "服务器在 accept() 下一个客户端吗？")) from None
        return cls(sock, name, other)

    # writing
    def _write(self, data: bytes, done: int, total: int) -> int:
        """Write all of `data`; returns `done + len(data)`, or raises SendFailed saying how
        many of the `total` bytes of this operation had been written."""
        view = memoryview(data)
        self.sock.settimeout(self.SEND_TIMEOUT)
        while view:
            try:
                n = self.sock.send(view)
            except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError) as exc:
                reset = isinstance(exc, ConnectionResetError)
                raise SendFailed(say(
                    "{other} {how} the connection while the test was still sending, after "
                    "{done} of {total} bytes",
                    "测试还在发送时{other}就{how}了连接：{total} 字节只发出了 {done} 字节",
                    other=self.other, done=done, total=total,
                    how=say("reset", "重置") if reset else say("closed", "关闭")),
                    done, total, "reset" if reset else "closed") from None
            except socket.timeout:
                raise SendFailed(say(
                    "{other} stopped reading: the test could not send more than {done} of "
                    "{total} bytes within {t:g} s",
                    "{other}不再读取数据：{t:g} 秒内测试只发出了 {total} 字节中的 {done} 字节",
                    other=self.other, done=done, total=total, t=self.SEND_TIMEOUT),
                    done, total, "stopped") from None
            view = view[n:]
            done += n
        return done

    def send(self, data: bytes) -> None:
        self._write(data, 0, len(data))

    def trickle(self, data: bytes, pause: float = 0.001) -> None:
        """One byte per segment, with a small pause, so the other side sees partial reads."""
        for i in range(len(data)):
            self._write(data[i:i + 1], i, len(data))
            if pause and i + 1 < len(data):
                time.sleep(pause)  # spacing segments apart is the point: not synchronisation

    def send_split(self, data: bytes, at: int, pause: float = 0.02) -> None:
        """Two writes cut at `at`, with a pause between, so a single recv() gets a piece."""
        done = self._write(data[:at], 0, len(data))
        time.sleep(pause)  # separates the two segments on the wire; nothing waits on it
        self._write(data[at:], done, len(data))

    def merged(self, frames: list[bytes]) -> None:
        """Several frames glued into one write: one recv() may return all of them."""
        self.send(b"".join(frames))

    def shutdown_write(self) -> None:
        """Half-close: send a FIN (the other side's recv() returns b''), keep reading."""
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def close(self) -> None:
        self.sock.close()

    def reset(self) -> None:
        """Vanish abruptly: close with an RST instead of a FIN."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        self.sock.close()

    # reading
    def _read(self, n: int, timeout: float, *, quiet: float | None = None,
              buf: bytearray | None = None, stop=None) -> bytes:
        """Up to n bytes (appended to `buf`). Stops at EOF, reset, the deadline, after `quiet`
        seconds without a new byte, when `stop(buf)` says so after a chunk, or when a student
        program is found spinning on a closed connection (hang.Stall); `ended` says which."""
        buf = bytearray() if buf is None else buf
        start = last = time.monotonic()
        end = start + timeout
        stall: hang.Stall | None = None
        while len(buf) < n:
            now = time.monotonic()
            left = end - now
            if quiet is not None:
                left = min(left, last + quiet - now)
            if left <= 0:
                waited = timeout if now >= end else quiet
                self.ended = Ended(Ended.TIMEOUT, waited, other=self.other)
                return bytes(buf)
            self.sock.settimeout(min(left, hang.SAMPLE_SECONDS))
            try:
                chunk = self.sock.recv(min(n - len(buf), 1 << 20))
            except socket.timeout:
                if stall is None:
                    stall = hang.Stall()
                found = stall.check()
                if found is not None:
                    self.ended = Ended(Ended.TIMEOUT, time.monotonic() - start, found.text,
                                       other=self.other)
                    return bytes(buf)
                continue
            except (ConnectionResetError, ConnectionAbortedError):
                self.ended = Ended(Ended.RESET, other=self.other)
                return bytes(buf)
            if not chunk:
                self.ended = Ended(Ended.CLOSED, other=self.other)
                return bytes(buf)
            buf += chunk
            last = time.monotonic()
            if stop is not None and stop(buf):
                break
        self.ended = Ended(Ended.COMPLETE, other=self.other)
        return bytes(buf)

    def recv_exact(self, n: int, timeout: float = 3.0) -> bytes:
        """Up to n bytes: stops early only at EOF, reset, the deadline, or when a student
        program is found spinning on a closed connection (see `ended`)."""
        return self._read(n, timeout)

    def recv_until_eof(self, timeout: float = 3.0, limit: int = 64 << 20) -> bytes:
        """Everything until the other side closes (at most `limit` bytes; see `ended`)."""
        return self._read(limit, timeout)

    def recv_reply(self, timeout: float = 3.0, quiet: float | None = None,
                   limit: int = 64 << 20) -> bytes:
        """What arrives until the other side closes, or `quiet` seconds pass with nothing new
        (a reply of unknown length), or the deadline (see `ended`)."""
        return self._read(limit, timeout, quiet=quiet if quiet is not None else self.GRACE)

    def expect(self, expected: bytes, what, *, sent: object = None, timeout: float = 3.0,
               hint=None) -> bytes:
        """Read len(expected) bytes and fail with a byte-exact comparison if they differ.
        A right reply returns as soon as its last byte is in (nothing more is read). A wrong
        one is shown whole: from the first wrong byte on, the test stops waiting for the
        expected length and reads what else arrives until `GRACE` seconds pass with nothing
        new or the connection ends, so the feedback reads "expected: b'3\\n'  got: b'12\\n'"
        rather than a reply cut to the expected length."""
        expected = bytes(expected)
        checked = 0

        def wrong(buf: bytearray) -> bool:
            nonlocal checked
            bad = buf[checked:] != expected[checked:len(buf)]
            checked = len(buf)
            return bad

        buf = bytearray()
        self._read(len(expected), timeout, buf=buf, stop=wrong)
        got = bytes(buf)
        if got == expected:
            return got
        why = ""
        if self.ended.kind == Ended.COMPLETE:  # wrong bytes, the connection still open
            self._read(len(buf) + max(len(expected), 1 << 16), self.GRACE * 8,
                       quiet=self.GRACE, buf=buf)
            got = bytes(buf)
            if self.ended.gone:
                why = f" ({self.ended})"
        else:
            why = f" ({self.ended})"
        raise CheckFailed(text(what) + why, sent=sent, expected=expected, got=got, hint=hint,
                          detail=difference_note(expected, got))

    def expect_eof(self, what, timeout: float = 3.0, hint=None) -> None:
        """Fail unless the other side closes (or resets) the connection with nothing more."""
        extra = self._read(1 << 16, timeout)
        if not self.ended.gone:
            raise CheckFailed(what, expected=say("the connection closed", "连接被关闭"),
                              got=say("still open ({why})", "连接仍然开着（{why}）",
                                      why=self.ended.text()), hint=hint)
        if extra:
            raise CheckFailed(what, expected=say("no more bytes", "不再有任何字节"), got=extra,
                              has_got=True, hint=hint)

    def exchange(self, data: bytes, what, *, expected: bytes | None = None, sent: object = None,
                 timeout: float = 3.0, hint=None) -> bytes:
        """The most common conversation: send `data` (from a thread, so a big echo cannot
        fill both directions' buffers and stall), shut the write side (the other side's
        recv() returns b''), read the reply until the other side closes, and return it.
        Fails with feedback when the other side hangs up while the test is still sending,
        when the reply differs from `expected` (if given), or when the connection is not
        closed within `timeout` seconds after the reply. `what` names the reply."""
        data = bytes(data)
        sent = data if sent is None else sent
        failure: list[SendFailed] = []

        def send() -> None:
            try:
                self._write(data, 0, len(data))
            except SendFailed as exc:
                failure.append(exc)
            self.shutdown_write()

        thread = None
        if len(data) <= 65536:
            send()
        else:
            thread = threading.Thread(target=send, daemon=True, name="peer-exchange")
            thread.start()
        reply = self._read(max(64 << 20, 2 * len(data)), timeout)
        if thread is not None:
            thread.join(self.SEND_TIMEOUT + 1)
        if failure:  # it hung up early: that is the story, with what it answered
            raise CheckFailed(failure[0].summary, sent=sent, expected=expected, got=reply,
                              has_got=True, hint=hint)
        if expected is not None and reply != expected:
            raise CheckFailed(text(what) + f" ({self.ended})", sent=sent, expected=expected,
                              got=reply, hint=hint, detail=difference_note(expected, reply))
        if not self.ended.gone:
            raise CheckFailed(say(
                "{what}: after the test had sent everything and shut its side, {other} did not "
                "close the connection ({why})",
                "{what}：测试发完所有数据并关闭了自己的发送方向之后，{other}没有关闭连接（{why}）",
                what=what, other=self.other, why=self.ended.text()),
                sent=sent, expected=expected, got=reply, has_got=True, hint=hint)
        return reply

    def __enter__(self) -> "Peer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# -- watching the other end read ----------------------------------------------------------------
# (sock_diag again, by ioview.tcp_diag: how many bytes the peer socket has received and its
# program not yet read)


def reader_state(sock: socket.socket) -> tuple[int, int | None]:
    """(unread, received) for the socket at the other end of `sock` (same machine): bytes it
    has received but its program has not read yet, and bytes received in all (None if the
    kernel does not say). One exact sock_diag lookup by the connection's address pair."""
    from .ioview import tcp_diag
    ours, theirs = sock.getsockname()[:2], sock.getpeername()[:2]
    _state, unread, _unsent, received = tcp_diag(sock.family, theirs, ours)
    return unread, received


class Wire(Peer):
    """A reference peer that knows how many bytes it wrote and can wait until the other end's
    program has read them all. Use it on a fresh connection (the count starts at zero)."""

    def __init__(self, sock: socket.socket, name: str = "test peer", other=None):
        super().__init__(sock, name, other)
        self.written = 0
        self.gone = False       # the other end stopped taking bytes: writes are dropped
        self.watching = True    # False once the kernel could not say, or a wait ran out
        self.seen_read = False  # the other end has read something: later waits can be short

    def send(self, data: bytes) -> None:
        """Write `data`; if the other end is gone (it crashed or hung up), write nothing more:
        what the test reads next says what happened, and the other end's stderr says why."""
        if self.gone:
            return
        try:
            super().send(data)
        except SendFailed as exc:
            if exc.reason == "stopped":  # it stopped reading but is there: that is a failure
                raise
            self.gone = True
            return
        self.written += len(data)

    def wait_read(self) -> bool:
        """Until the other end has read every byte written so far (True), or give up (False):
        at the deadline, or as soon as `self.stop()` says nobody will read any more. After
        the first give-up the wire stops waiting and only spaces its writes."""
        if not self.watching:
            return False
        end = time.monotonic() + (1.0 if self.seen_read else 3.0)  # the first covers start-up
        while True:
            try:
                unread, received = reader_state(self.sock)
            except (OSError, struct.error, ValueError):
                self.watching = False  # no sock_diag here, or the other socket is gone
                return False
            if unread == 0 and (received is None or received >= self.written):
                self.seen_read = True
                return True
            if time.monotonic() >= end or self.stop():
                self.watching = False  # the other end stopped reading: don't wait on it again
                return False
            time.sleep(0.0003)  # polling the kernel's table (~40 us a look), with a deadline

    def stop(self) -> bool:
        """Is the other end known to have stopped reading? (Set per test.)"""
        return False

    def _gap(self) -> None:
        if not self.wait_read():
            time.sleep(0.002)  # only spaces the segments apart; nothing waits on it

    def drip(self, data: bytes) -> None:
        """One byte per write, the next only once the other end has read the one before."""
        for i in range(len(data)):
            self.send(data[i:i + 1])
            if i + 1 < len(data):
                self._gap()

    def split(self, data: bytes, *cuts: int) -> None:
        """`data` in pieces cut at `cuts`, each written once the other end has read the last."""
        bounds = [0, *cuts, len(data)]
        for n, (a, b) in enumerate(zip(bounds, bounds[1:])):
            if n:
                self._gap()
            self.send(data[a:b])

    def expect_eof(self, what, timeout: float = 3.0, hint=None) -> None:
        """Like Peer.expect_eof, but bytes that came instead of the end are shown as such."""
        extra = self._read(1 << 16, timeout)
        closed = self.ended.gone
        if extra:
            raise CheckFailed(what, expected=say("no more bytes: the connection closed",
                                                 "不再有任何字节：连接被关闭"), got=extra,
                              hint=hint, detail=None if closed else say(
                                  "and the connection was still open", "而且连接仍然开着"))
        if not closed:
            raise CheckFailed(what, expected=say("the connection closed", "连接被关闭"),
                              got=say("still open ({why})", "连接仍然开着（{why}）",
                                      why=self.ended.text()), hint=hint)

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes a sender thread blocked on this socket
        except OSError:
            pass
        self.sock.close()



def listener(host: str | None = None) -> socket.socket:
    """A listening socket on this judge's address, for tests where the student is the client."""
    host = host or judge_host()
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.bind((host, 0))
    sock.listen(16)
    return sock


def accept(sock: socket.socket, timeout: float, who=None, proc=None) -> Peer:
    """Accept one connection within `timeout`, as a Peer (its `other` is `who`, default
    "the client"); fail at once if `proc` (the student's client) exits first instead of
    waiting out the deadline."""
    who = THE_CLIENT if who is None else who
    end = time.monotonic() + timeout
    while True:
        left = end - time.monotonic()
        if left <= 0:
            raise CheckFailed(say("{who} did not connect within {t:g} s",
                                  "{who} 在 {t:g} 秒内没有连接上来", who=who, t=timeout),
                              hint=say("connect to the --host and --port you were given",
                                       "连接到给你的 --host 和 --port"))
        sock.settimeout(min(left, 0.05) if proc is not None else left)
        try:
            conn, _ = sock.accept()
            return Peer(conn, "test server", other=who)
        except socket.timeout:
            if proc is not None and not proc.alive():
                proc.wait(1.0)
                raise CheckFailed(say("{what} without connecting", "{what}，一直没有连接上来",
                                      what=proc.describe())) from None


def connected_pair(host: str | None = None) -> tuple[socket.socket, socket.socket]:
    """A real TCP connection on loopback: (ours, theirs). Hand `theirs` to a student module."""
    with listener(host) as lst:
        ours = socket.create_connection(lst.getsockname()[:2], timeout=3)
        lst.settimeout(3)
        theirs, _ = lst.accept()
    ours.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    theirs.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    theirs.settimeout(None)
    return ours, theirs


__all__ = ["judge_host", "free_port", "wait_listening", "bound_by", "is_listening", "Peer",
           "bound_sockets", "Wire", "reader_state", "Ended", "SendFailed",
           "listener", "accept", "connected_pair", "show_bytes"]
