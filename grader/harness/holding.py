"""A test server that proves a client's requests are in flight at once: it holds every request
until `parties` connections have each sent theirs (a barrier on the judge's side, with a
deadline), and records the most it ever held together. A client that waits for one reply
before sending the next request never gets there: the first request is released at the
deadline (once; later ones are answered at once, so a serial client costs one deadline), and
`peak` says 1.

    from grader.harness.holding import HoldingServer

    with HoldingServer(parties=8) as hs:
        run = student.run("client.py", "--host", hs.host, "--port", str(hs.port), input=...)
        hs.peak        # the most requests held at once (8 for a concurrent client)
        hs.requests    # the request lines, in the order they arrived

Once all `parties` are in, the replies go out in the reverse of the order the requests came
(`reverse=True`), so a client that prints replies as they complete, rather than in the order of
its requests, is caught too. Each request is one line; the reply is `reply(line)`.
"""
from __future__ import annotations

import socket
import threading
import time

from .net import listener


class HoldingServer:
    def __init__(self, parties: int, hold_timeout: float = 4.0, reply=lambda line: line,
                 reverse: bool = True, read_timeout: float = 10.0):
        self.parties, self.hold_timeout, self.reply = parties, hold_timeout, reply
        self.reverse, self.read_timeout = reverse, read_timeout
        self.sock = listener()
        self.sock.listen(max(16, parties * 2))
        self.host, self.port = self.sock.getsockname()[:2]
        self.cond = threading.Condition()
        self.requests: list[bytes] = []   # request lines in arrival order
        self.now = 0                      # requests held right now
        self.peak = 0                     # the most held at once
        self.gave_up = False              # the barrier's deadline passed once: no more holding
        self.replied = 0
        self.connections = 0
        self.closed = False
        self.threads: list[threading.Thread] = []
        self._accepter = threading.Thread(target=self._accept, daemon=True, name="holding")
        self._accepter.start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.cond:
                self.connections += 1
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self.threads.append(t)
            t.start()

    def _read_line(self, conn: socket.socket) -> bytes:
        buf = bytearray()
        end = time.monotonic() + self.read_timeout
        while b"\n" not in buf and len(buf) < 65536:
            left = end - time.monotonic()
            if left <= 0:
                break
            conn.settimeout(left)
            try:
                chunk = conn.recv(4096)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
        return bytes(buf)

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            line = self._read_line(conn)
            if not line:
                return
            with self.cond:
                index = len(self.requests)
                self.requests.append(line)
                self.now += 1
                self.peak = max(self.peak, self.now)
                self.cond.notify_all()
                if not self.gave_up:
                    if not self.cond.wait_for(lambda: len(self.requests) >= self.parties
                                              or self.closed, self.hold_timeout):
                        self.gave_up = True
                        self.cond.notify_all()
                if self.reverse and not self.gave_up and len(self.requests) >= self.parties:
                    # replies in the reverse of the order the requests came
                    turn = self.parties - 1 - index if index < self.parties else index
                    self.cond.wait_for(lambda: self.replied >= turn or self.closed,
                                       self.read_timeout)
                self.now -= 1
            try:
                conn.sendall(self.reply(line))
            except OSError:
                pass
            with self.cond:
                self.replied += 1
                self.cond.notify_all()

    def close(self) -> None:
        with self.cond:
            self.closed = True
            self.cond.notify_all()
        self.sock.close()

    def __enter__(self) -> "HoldingServer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


__all__ = ["HoldingServer"]
