"""HTTP for suites: the clients that ship with Python, and a strict reader of raw answers.

A score must never depend on the machine, so an HTTP exercise is graded with clients every
Python has: `fetch` (http.client) and `urlopen` (urllib.request, with no proxy, whatever the
environment says), and `HttpPeer`, a `Wire` that sends a request as raw bytes - whole, cut
anywhere, or one byte at a time - and reads the answer strictly, as RFC 9112 writes it: a
status line, header lines and a blank line, each ending in CRLF, then exactly Content-Length
bytes of body, then the close that `Connection: close` promises.

Both kinds keep the raw bytes that came back, so feedback shows what the server sent, not only
what a client library made of it. And both end a wait early, with a reason, when the server
has read every byte of the request and then sat idle (no CPU, nothing runnable) with nothing
more coming: it is waiting for something the client will never send - the client's close,
say, where it should have stopped at the blank line - and would only fail at the deadline.
Like grader/harness/hang.py, that never passes a check; it only ends a wait that could end in
nothing but the same failure.

    from grader.harness.web import HttpPeer, fetch, urlopen

    resp = fetch(server, "GET", "/hello.txt")          # http.client
    resp.status, resp.header("content-type"), resp.body
    with HttpPeer.open(server) as peer:
        peer.drip(b"GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
        resp = peer.read_response(say("the answer", "响应"), sent=...)
"""
from __future__ import annotations

import http.client
import io
import re
import socket
import struct
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from ..i18n import Text, say
from . import hang
from .feedback import CheckFailed, show_bytes
from .net import Ended, Wire, reader_state

IDLE_SECONDS = 2.0          # read it all, then no CPU and nothing runnable: it waits for us
HEAD_LIMIT = 64 * 1024      # a response head longer than this is not one
_seen: set[str] = set()     # programs found waiting for more in this judge (then: REPEAT_SECONDS)


def reset() -> None:
    """Forget which programs were found waiting (for tests of the harness itself)."""
    _seen.clear()


@dataclass
class HttpResponse:
    """One answer: status, headers in the order they came, body, and the raw bytes."""
    status: int
    reason: str = ""
    version: str = "HTTP/1.1"
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    raw: bytes = b""
    head: bytes = b""       # the status line, header lines and empty line, as they came

    def header(self, name: str) -> str | None:
        """The first header of that name (case-insensitive), or None."""
        values = self.header_all(name)
        return values[0] if values else None

    def header_all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    @property
    def status_line(self) -> str:
        return f"{self.version} {self.status} {self.reason}"


def head_lines(head: bytes, limit: int = 12):
    """A response head line by line, each line's bytes shown with its ending, for feedback."""
    lines = head.splitlines(keepends=True)
    shown = [f"    {show_bytes(line, 100)}" for line in lines[:limit]]
    if len(lines) > limit:
        shown.append(f"    … (+{len(lines) - limit})")
    return say("the answer's head, line by line:", "响应头部，逐行显示：") + "\n" + "\n".join(shown)


# -- telling "waits for something we will never send" ---------------------------------------------

class Waiting:
    """Has the server read every byte the client wrote, and sat idle since, with nothing new
    arriving? `check()` returns how long, once that held for the window (2 s the first time a
    program is found so in this judge, hang.REPEAT_SECONDS later), else None."""

    def __init__(self, proc, sock: socket.socket, written):
        self.proc, self.sock, self.written = proc, sock, written
        self.repeat = proc is not None and proc.name in _seen
        self.window = hang.REPEAT_SECONDS if self.repeat else IDLE_SECONDS
        self.failed = proc is None
        self.since: float | None = None
        self.ticks: int | None = None
        self.next = time.monotonic()

    def moved(self) -> None:
        """Bytes came: whatever it was doing, it was not stuck."""
        self.since = None

    def check(self) -> float | None:
        now = time.monotonic()
        if self.failed or now < self.next:
            return None
        self.next = now + hang.SAMPLE_SECONDS
        try:
            if not self.proc.alive():
                return None
            look = hang._Look(hang.tree(self.proc.pid), sockets=False)
            unread, received = reader_state(self.sock)
        except (OSError, struct.error, ValueError, IndexError):
            self.failed = True  # no /proc or no sock_diag here: find nothing, ever
            return None
        idle = (not look.runnable and look.ticks == self.ticks and unread == 0
                and received is not None and received >= self.written())
        self.ticks = look.ticks
        if not idle:
            self.since = None
            return None
        if self.since is None:
            self.since = now
            return None
        if now - self.since >= self.window:
            if not self.repeat:
                _seen.add(self.proc.name)
                try:
                    self.proc.collect_stacks()  # where it waits, for the feedback
                except Exception:
                    pass
            return now - self.since + hang.SAMPLE_SECONDS
        return None


class GaveUp(Exception):
    """A client stopped waiting: `reason` says why, in words for a student."""

    def __init__(self, reason, kind: str):
        super().__init__(str(reason))
        self.reason, self.kind = reason, kind


def idle_words(proc, seconds: float, repeat: bool) -> Text:
    if repeat:
        return say("as in an earlier check, {name} read the whole request and then sat idle",
                   "和前面的检查一样，{name} 读完了整个请求之后就闲置不动了", name=proc.name)
    return say("{name} has read every byte the client sent and has sat idle for {s:.1f} s "
               "since (no CPU used): it waits for something that will not come",
               "{name} 已经读完了客户端发来的每一个字节，此后闲置了 {s:.1f} 秒（没有使用 CPU）："
               "它在等一样永远不会到来的东西", name=proc.name, s=seconds)


# -- http.client and urllib, with the raw bytes kept --------------------------------------------

class _TapRaw(io.RawIOBase):
    def __init__(self, tap: "_TapSocket"):
        self.tap = tap

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        return self.tap.recv_into(b)


class _TapSocket:
    """A connected socket that counts what http.client writes, keeps what it reads, and reads
    with a deadline and the hang watchers."""

    def __init__(self, sock: socket.socket, proc, timeout: float):
        self._sock = sock
        self.proc = proc
        self.record = bytearray()
        self.written = 0
        self.end = time.monotonic() + timeout
        self.timeout = timeout
        self.waiting = Waiting(proc, sock, lambda: self.written)
        self.stall = hang.Stall()

    def sendall(self, data) -> None:
        self._sock.sendall(data)
        self.written += len(data)

    def makefile(self, mode: str = "rb", buffering=None):
        return io.BufferedReader(_TapRaw(self))

    def close(self) -> None:
        """http.client closes its socket while the response still reads from it (a real
        socket's makefile() keeps it open): the real close is `shut()`, when all is read."""

    def shut(self) -> None:
        self._sock.close()

    def recv_into(self, b) -> int:
        while True:
            left = self.end - time.monotonic()
            if left <= 0:
                raise GaveUp(say("no answer within {t:g} s", "{t:g} 秒内没有收到应答",
                                 t=self.timeout), "timeout")
            self._sock.settimeout(min(left, hang.SAMPLE_SECONDS))
            try:
                n = self._sock.recv_into(b)
            except socket.timeout:
                found = self.stall.check()
                if found is not None:
                    raise GaveUp(found.text, "spin") from None
                idle = self.waiting.check()
                if idle is not None:
                    raise GaveUp(idle_words(self.proc, idle, self.waiting.repeat), "idle") from None
                continue
            self.record += bytes(memoryview(b)[:n])
            self.waiting.moved()
            return n

    def __getattr__(self, name):
        return getattr(self._sock, name)


class _Connection(http.client.HTTPConnection):
    def __init__(self, host, port=None, *, proc=None, tap_timeout: float = 5.0, **kw):
        super().__init__(host, port, **kw)
        self.proc, self.tap_timeout, self.tap = proc, tap_timeout, None

    def connect(self) -> None:
        super().connect()
        self.tap = self.sock = _TapSocket(self.sock, self.proc, self.tap_timeout)


def head_of(raw: bytes) -> bytes:
    """The head of a raw answer, its empty line included (all of it if it never ended)."""
    end = raw.find(b"\r\n\r\n")
    return raw[:end + 4] if end >= 0 else raw


def _request_bytes(method: str, target: str, host: str, headers: dict) -> bytes:
    """Roughly what the client library sends, for the feedback's 'sent:' line."""
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogateescape")


def _failed(client: str, what, exc: BaseException, sent: bytes, record: bytes, hint, hint_wait):
    if isinstance(exc, GaveUp):
        why = exc.reason
        if exc.kind in ("idle", "timeout") and not record:
            hint = hint_wait or hint
    elif isinstance(exc, (socket.timeout, TimeoutError)):
        why = say("no answer in time", "没有及时收到应答")
    elif isinstance(exc, ConnectionResetError):
        why = say("the server reset the connection", "服务器重置了连接（RST）")
    elif isinstance(exc, http.client.RemoteDisconnected):
        why = say("the server closed the connection without answering",
                  "服务器没有应答就关闭了连接")
    else:
        why = f"{type(exc).__name__}: {exc}"
    detail = head_lines(head_of(record)) if record else None
    return CheckFailed(say("{what}: {client} could not read an answer ({why})",
                           "{what}：{client} 没能读到应答（{why}）", what=what, client=client, why=why),
                       sent=sent, got=bytes(record), has_got=True, detail=detail, hint=hint)


def fetch(server, method: str, target: str, *, headers: dict | None = None,
          timeout: float = 5.0, what=None, hint=None, hint_wait=None) -> HttpResponse:
    """One request with http.client (HTTP/1.1) to a `Server`; the answer as an HttpResponse.
    A 404 is an answer like any other; no answer (closed, reset, garbage, a hang, the
    deadline) is a CheckFailed showing the bytes that did come, with `hint` - or `hint_wait`
    when nothing came because the server sat waiting, or the deadline passed."""
    headers = dict(headers or {})
    host = f"{server.host}:{server.port}"
    sent = _request_bytes(method, target, host, {"Accept-Encoding": "identity", **headers})
    what = what if what is not None else f"{method} {target}"
    conn = _Connection(server.host, server.port, proc=server.proc, tap_timeout=timeout,
                       timeout=timeout)
    try:
        conn.request(method, target, headers=headers)
        resp = conn.getresponse()
        body = resp.read()
        version = {10: "HTTP/1.0", 11: "HTTP/1.1"}.get(resp.version, f"HTTP/{resp.version}")
        record = bytes(conn.tap.record) if conn.tap else b""
        return HttpResponse(resp.status, resp.reason, version, list(resp.getheaders()), body,
                            record, head_of(record))
    except (OSError, http.client.HTTPException, GaveUp) as exc:
        record = bytes(conn.tap.record) if conn.tap else b""
        raise _failed("http.client", what, exc, sent, record, hint, hint_wait) from None
    finally:
        conn.close()
        if conn.tap is not None:
            conn.tap.shut()


def urlopen(server, target: str, *, method: str = "GET", timeout: float = 5.0, what=None,
            hint=None, hint_wait=None) -> HttpResponse:
    """One request with urllib.request, as a program that 'opens a URL' does (no proxy: the
    environment's http_proxy must not decide a grade). 4xx answers are answers too."""
    made: list[_Connection] = []

    def connection(host, timeout=None, **kw):
        conn = _Connection(host, proc=server.proc, tap_timeout=timeout or 5.0, timeout=timeout, **kw)
        made.append(conn)
        return conn

    class Handler(urllib.request.HTTPHandler):
        def http_open(self, req):
            return self.do_open(connection, req)

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), Handler)
    url = f"http://{server.host}:{server.port}{target}"
    what = what if what is not None else f"urlopen({url!r})"
    sent = _request_bytes(method, target, f"{server.host}:{server.port}",
                          {"Accept-Encoding": "identity", "User-Agent": "Python-urllib",
                           "Connection": "close"})
    record = lambda: bytes(made[0].tap.record) if made and made[0].tap else b""  # noqa: E731
    try:
        req = urllib.request.Request(url, method=method)
        try:
            resp = opener.open(req, timeout=timeout)
        except urllib.error.HTTPError as err:  # 4xx/5xx: still an answer
            resp = err
        with resp:
            body = resp.read()
            status = getattr(resp, "status", None) or resp.code
            reason = getattr(resp, "reason", "") or ""
            headers = list(resp.headers.items())
        raw = record()
        return HttpResponse(status, reason, "HTTP/1.1", headers, body, raw, head_of(raw))
    except urllib.error.URLError as exc:
        inner = exc.reason if isinstance(exc.reason, BaseException) else exc
        raise _failed("urllib.request", what, inner, sent, record(), hint, hint_wait) from None
    except (OSError, http.client.HTTPException, GaveUp) as exc:
        raise _failed("urllib.request", what, exc, sent, record(), hint, hint_wait) from None
    finally:
        for conn in made:
            conn.close()
            if conn.tap is not None:
                conn.tap.shut()


# -- raw: requests as bytes, answers read strictly -------------------------------------------------

def too_much(what, head_only: bool, n: int) -> Text:
    """Bytes after the body the answer announced (or after a HEAD answer's head)."""
    if head_only:
        return say("{what}: bytes came after the head, but a HEAD answer has no body at all "
                   "(its Content-Length tells what a GET would get)",
                   "{what}：头部之后还有数据，可是 HEAD 的应答根本没有正文（它的 Content-Length "
                   "说的是 GET 会得到多少）", what=what)
    return say("{what}: more bytes came than the {n} the answer announced",
               "{what}：收到的字节比应答声明的 {n} 字节多", what=what, n=n)


STATUS_LINE = re.compile(rb"^HTTP/(\d)\.(\d) (\d{3}) ([^\r\n]*)$")
TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


class HttpPeer(Wire):
    """A test client on a raw connection: send the request as bytes (Wire's send, drip,
    split), then `read_response` reads and checks the answer as RFC 9112 writes it."""

    proc = None
    gave_up = gave_up_kind = None

    @classmethod
    def open(cls, server, *, rcvbuf: int | None = None, name: str = "test client") -> "HttpPeer":
        peer = cls.connect(server.addr, rcvbuf=rcvbuf, name=name)
        peer.proc = server.proc
        peer.stop = lambda: not server.alive()
        return peer

    def _fill(self, buf: bytearray, done, timeout: float, limit: int) -> None:
        """Read into `buf` until done(buf), EOF, reset, `limit` bytes, the deadline, or a hang
        (spinning on a closed connection, or idle with the whole request read); `ended` and
        `gave_up` say which."""
        self.gave_up, self.gave_up_kind = None, None
        end = time.monotonic() + timeout
        stall = hang.Stall()
        waiting = Waiting(self.proc, self.sock, lambda: self.written)
        while not done(buf) and len(buf) < limit:
            left = end - time.monotonic()
            if left <= 0:
                self.ended = Ended(Ended.TIMEOUT, timeout, other=self.other)
                self.gave_up_kind = "timeout"
                return
            self.sock.settimeout(min(left, hang.SAMPLE_SECONDS))
            try:
                chunk = self.sock.recv(min(limit - len(buf), 1 << 20))
            except socket.timeout:
                found = stall.check()
                if found is not None:
                    self.gave_up, self.gave_up_kind = found.text, "spin"
                    self.ended = Ended(Ended.TIMEOUT, timeout, found.text, other=self.other)
                    return
                idle = waiting.check()
                if idle is not None:
                    self.gave_up = idle_words(self.proc, idle, waiting.repeat)
                    self.gave_up_kind = "idle"
                    self.ended = Ended(Ended.TIMEOUT, timeout, self.gave_up, other=self.other)
                    return
                continue
            except (ConnectionResetError, ConnectionAbortedError):
                self.ended = Ended(Ended.RESET, other=self.other)
                return
            if not chunk:
                self.ended = Ended(Ended.CLOSED, other=self.other)
                return
            buf += chunk
            waiting.moved()
        self.ended = Ended(Ended.COMPLETE, other=self.other)

    def read_response(self, what, *, sent=None, head_only: bool = False, timeout: float = 5.0,
                      hint=None, hint_crlf=None, hint_length=None, hint_close=None,
                      hint_wait=None, hint_short=None, silent=None, expect_close: bool = True,
                      status_line: str | None = None, status_hint=None,
                      status_detail=None) -> HttpResponse:
        """Read one answer and check its form: a head ending in a blank line, every line ending
        in CRLF, a status line 'HTTP/1.1 NNN Reason', 'Name: value' header lines, exactly one
        Content-Length, that many bytes of body (none for `head_only`: a HEAD's answer), and
        then - with `expect_close` - the server's close and nothing more. `silent` explains an
        answer that never began. The hint_* replace `hint` for those faults (`hint_wait`: no
        answer because the server sat waiting with the request read, or the deadline;
        `hint_short`: a body shorter than its Content-Length). With `status_line` (e.g.
        'HTTP/1.1 200 OK') a different status line fails first, before headers and body."""
        buf = bytearray()

        def head_done(b: bytearray) -> bool:
            return b"\r\n\r\n" in b or b"\n\n" in b

        self._fill(buf, head_done, timeout, HEAD_LIMIT)
        why = self.ended.text()
        crlf, lf = buf.find(b"\r\n\r\n"), buf.find(b"\n\n")
        if crlf < 0 and lf < 0:
            if not buf:
                raise CheckFailed(say("{what}: no answer came ({why})", "{what}：没有收到应答（{why}）",
                                      what=what, why=why),
                                  sent=sent, detail=silent if self.ended.kind == Ended.TIMEOUT
                                  or self.gave_up is not None else None,
                                  hint=(hint_wait or hint) if self.gave_up_kind in ("idle", "timeout")
                                  else hint)
            raise CheckFailed(say("{what}: the answer's head never ended with an empty line "
                                  "({why})", "{what}：响应头部始终没有以空行结束（{why}）",
                                  what=what, why=why),
                              sent=sent, expected=say("… \\r\\n\\r\\n (the empty line ends the head)",
                                                      "… \\r\\n\\r\\n（空行表示头部结束）"),
                              got=bytes(buf), detail=head_lines(bytes(buf)), hint=hint_crlf or hint)
        if crlf < 0 or (0 <= lf < crlf):
            head = bytes(buf[:lf])
            raise CheckFailed(say("{what}: the lines of the answer's head end with \\n alone; "
                                  "HTTP ends every line with \\r\\n, and the head with an empty "
                                  "line, \\r\\n", "{what}：响应头部的行只以 \\n 结尾；HTTP 规定每一行都"
                                  "以 \\r\\n 结尾，头部以一个空行 \\r\\n 结束", what=what),
                              sent=sent, detail=head_lines(head + b"\n\n"), hint=hint_crlf or hint)
        head, rest = bytes(buf[:crlf]), bytes(buf[crlf + 4:])
        lines = head.split(b"\r\n")
        bare = next((i for i, line in enumerate(lines) if b"\n" in line or b"\r" in line), None)
        if bare is not None:
            raise CheckFailed(say("{what}: line {n} of the answer's head has a \\n (or \\r) "
                                  "without its partner; every line ends with \\r\\n",
                                  "{what}：响应头部第 {n} 行有单独的 \\n（或 \\r）；每一行都必须以 "
                                  "\\r\\n 结尾", what=what, n=bare + 1),
                              sent=sent, detail=head_lines(head + b"\r\n\r\n"),
                              hint=hint_crlf or hint)
        m = STATUS_LINE.match(lines[0])
        if not m or m.group(1, 2) != (b"1", b"1"):
            raise CheckFailed(say("{what}: the status line", "{what}：状态行", what=what),
                              sent=sent, expected="b'HTTP/1.1 200 OK\\r\\n' (HTTP/1.1 <code> <reason>)",
                              got=lines[0] + b"\r\n", detail=head_lines(head + b"\r\n\r\n"),
                              hint=hint)
        resp = HttpResponse(int(m.group(3)), m.group(4).decode("iso-8859-1"), "HTTP/1.1",
                            head=head + b"\r\n\r\n")
        if status_line is not None and lines[0] != status_line.encode("iso-8859-1"):
            raise CheckFailed(say("{what}: the status line", "{what}：状态行", what=what),
                              sent=sent, expected=status_line, got=resp.status_line,
                              detail=head_lines(resp.head) if status_detail is None else
                              status_detail + "\n  " + head_lines(resp.head),
                              hint=status_hint or hint)
        for n, line in enumerate(lines[1:], 2):
            name, colon, value = line.decode("iso-8859-1").partition(":")
            if not colon or not TOKEN.match(name):
                raise CheckFailed(say("{what}: line {n} of the answer's head is not a header "
                                      "line 'Name: value'", "{what}：响应头部第 {n} 行不是"
                                      "“名称: 值”形式的首部行", what=what, n=n),
                                  sent=sent, got=line, detail=head_lines(head + b"\r\n\r\n"),
                                  hint=hint)
            resp.headers.append((name, value.strip(" \t")))
        lengths = resp.header_all("Content-Length")
        if len(lengths) != 1 or not lengths[0].isdigit():
            summary = (say("{what}: the answer has no Content-Length header", "{what}：响应没有 "
                           "Content-Length 首部", what=what) if not lengths else
                       say("{what}: the answer needs exactly one Content-Length, a number of bytes",
                           "{what}：响应必须有且只有一个 Content-Length，值是字节数", what=what))
            raise CheckFailed(summary, sent=sent, got=lengths or None,
                              detail=head_lines(head + b"\r\n\r\n"), hint=hint_length or hint)
        length = int(lengths[0])
        body = bytearray(rest)
        if not head_only and len(body) < length and self.ended.kind == Ended.COMPLETE:
            self._fill(body, lambda b: len(b) >= length, timeout, length)
        if not head_only and len(body) < length:
            raise CheckFailed(say("{what}: Content-Length says {n} bytes, but {m} came before "
                                  "the answer stopped ({why})",
                                  "{what}：Content-Length 是 {n} 字节，但应答停下时只收到了 {m} 字节（{why}）",
                                  what=what, n=length, m=len(body), why=self.ended.text()),
                              sent=sent, detail=head_lines(head + b"\r\n\r\n"),
                              hint=hint_short or hint_length or hint)
        keep = 0 if head_only else length
        resp.body, extra = bytes(body[:keep]), bytes(body[keep:])
        resp.raw = head + b"\r\n\r\n" + bytes(body)
        if extra:
            raise CheckFailed(too_much(what, head_only, keep),
                sent=sent, expected=say("the connection closed", "连接被关闭"), got=extra,
                detail=head_lines(head + b"\r\n\r\n"), hint=hint_length or hint)
        if expect_close:
            self.expect_closed(what, sent=sent, head_only=head_only, length=keep,
                               hint=hint_close or hint, after_head=head)
        return resp

    def expect_closed(self, what, *, sent=None, head_only: bool = False, length: int = 0,
                      hint=None, after_head: bytes = b"", timeout: float = 3.0) -> None:
        """After a whole answer, the server closes: nothing more, no connection left open."""
        more = bytearray()
        if self.ended.gone:
            return
        self._fill(more, lambda b: False, timeout, 1 << 16)
        if more:
            raise CheckFailed(too_much(what, head_only, length),
                sent=sent, expected=say("the connection closed", "连接被关闭"), got=bytes(more),
                detail=head_lines(after_head + b"\r\n\r\n") if after_head else None, hint=hint)
        if not self.ended.gone:
            raise CheckFailed(say("{what}: after the whole answer the server kept the connection "
                                  "open ({why}); Connection: close means the server closes it",
                                  "{what}：完整的应答发完之后，服务器没有关闭连接（{why}）；"
                                  "Connection: close 的意思就是由服务器关闭连接",
                                  what=what, why=self.ended.text()),
                              sent=sent, expected=say("the connection closed", "连接被关闭"),
                              got=say("still open", "连接仍然开着"), hint=hint)


__all__ = ["HttpResponse", "HttpPeer", "fetch", "urlopen", "Waiting", "GaveUp", "head_lines",
           "IDLE_SECONDS", "reset"]
