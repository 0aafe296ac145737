"""A slow local server for client checks: it holds every request until the test releases it,
and records how many it holds at once - the proof that a client has its requests in flight
together, by observation instead of by elapsed time.

    with SlowServer(release_at=100) as slow:           # answers once 100 requests are held
        proc = student.spawn("fetch.py", "--host", slow.host, "--port", str(slow.port), *paths)
        if not slow.wait_for(lambda s: s.max_held == 100 or not proc.alive(), timeout=5):
            ... "only {slow.max_held} of 100 requests were in flight at once"
        slow.release()                                  # (release_at did it already)

The protocol is a line each way, as a keep-alive server speaks it: the client connects and
sends `GET <path>\\n`; once released, the server answers `<body>\\n` (by default `<path> <tag>`,
the tag a hash of the path and a per-server nonce, so no answer can be written in advance)
and keeps the connection open for more requests, until the *client* closes it. So the server
also sees whether a client closes its connections once it has its answers (`closed`).

One thread per connection on the judge's side, bounded (`limit` connections in all); every
wait has a deadline, and `close()` ends them all.
"""
from __future__ import annotations

import hashlib
import os
import socket
import threading
import time

from .net import listener

LINE_LIMIT = 4096
EOF = object()  # _read_line: the client closed where a new request would begin


class SlowServer:
    def __init__(self, *, release_at: int | None = None, limit: int = 1000,
                 hold_timeout: float = 60.0):
        self.sock = listener()
        self.sock.listen(min(limit, 1024))
        self.host, self.port = self.sock.getsockname()[:2]
        self.nonce = os.urandom(6).hex()
        self.release_at = release_at
        self.limit = limit
        self.hold_timeout = hold_timeout
        self.cond = threading.Condition()
        self.connections = 0        # accepted so far
        self.held = 0               # requests waiting for their release now
        self.max_held = 0           # most requests held at once
        self.requests: list[str] = []   # paths, in the order they arrived
        self.replied: list[str] = []    # paths answered, in that order
        self.closed = 0             # connections the client closed after its answer
        self.open_after_reply = 0   # answered connections the client has not closed (yet)
        self.bad: list[bytes] = []  # request lines that were not `GET <path>`
        self._released_all = False
        self._released: set[str] = set()
        self._stop = False
        self._conns: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, name="netlab-slow-server",
                                        daemon=True)
        self._thread.start()

    @property
    def addr(self) -> tuple[str, int]:
        return (self.host, self.port)

    def body(self, path: str) -> str:
        """The answer to `GET <path>` (without the newline)."""
        tag = hashlib.sha256(f"{self.nonce}:{path}".encode()).hexdigest()[:12]
        return f"{path} {tag}"

    # -- the test's side ---------------------------------------------------------------------

    def release(self, path: str | None = None) -> None:
        """Answer the held request for `path` (and any later one for it), or every request."""
        with self.cond:
            if path is None:
                self._released_all = True
            else:
                self._released.add(path)
            self.cond.notify_all()

    def wait_for(self, predicate, timeout: float) -> bool:
        """Wait (on the server's own notifications) until predicate(self) holds."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while not predicate(self):
                left = deadline - time.monotonic()
                if left <= 0 or self._stop:
                    return bool(predicate(self))
                self.cond.wait(min(left, 0.1))  # 0.1: a predicate may also watch a process
            return True

    def close(self) -> None:
        with self.cond:
            self._stop = True
            self._released_all = True
            self.cond.notify_all()
            conns, self._conns = self._conns, []
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the accept() (close alone does not)
        except OSError:
            pass
        self.sock.close()
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._thread.join(5)

    def __enter__(self) -> "SlowServer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- the server ----------------------------------------------------------------------------

    def _accept(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.cond:
                if self._stop or self.connections >= self.limit:
                    conn.close()
                    continue
                self.connections += 1
                self._conns.append(conn)
                self.cond.notify_all()
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _released_for(self, path: str) -> bool:
        return self._released_all or path in self._released or (
            self.release_at is not None and self.max_held >= self.release_at)

    def _serve(self, conn: socket.socket) -> None:
        answered = 0
        try:
            conn.settimeout(self.hold_timeout)
            while True:
                line = self._read_line(conn)
                if line is None or line is EOF:
                    if line is EOF and answered:
                        with self.cond:
                            self.open_after_reply -= 1
                            self.closed += 1
                            self.cond.notify_all()
                    return
                parts = line.split(b" ", 1)
                if len(parts) != 2 or parts[0] != b"GET" or not parts[1]:
                    with self.cond:
                        self.bad.append(line[:200])
                        self.cond.notify_all()
                    return
                path = parts[1].decode("utf-8", "replace")
                with self.cond:
                    self.requests.append(path)
                    self.held += 1
                    self.max_held = max(self.max_held, self.held)
                    self.cond.notify_all()
                    deadline = time.monotonic() + self.hold_timeout
                    while not self._released_for(path) and not self._stop:
                        left = deadline - time.monotonic()
                        if left <= 0:
                            break
                        self.cond.wait(left)
                    self.held -= 1
                    self.cond.notify_all()
                    if self._stop:
                        return
                conn.sendall((self.body(path) + "\n").encode())
                with self.cond:
                    self.replied.append(path)
                    if not answered:
                        self.open_after_reply += 1
                    answered += 1
                    self.cond.notify_all()
                # keep-alive: the next request, or the client's close (counted in _read_line)
        except OSError:
            pass
        finally:
            conn.close()

    @staticmethod
    def _read_line(conn: socket.socket):
        """The next line without its end; EOF when the client closed before a new line;
        None when the connection broke, timed out or sent a line too long."""
        data = b""
        while not data.endswith(b"\n"):
            try:
                chunk = conn.recv(1)
            except OSError:
                return None
            if not chunk:
                return EOF if not data else None
            data += chunk
            if len(data) > LINE_LIMIT:
                return None
        return data.rstrip(b"\r\n")
