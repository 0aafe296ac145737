"""A lossy UDP path: a relay that drops, duplicates, holds back or forges chosen datagrams.

Loss is made, not hoped for: rules name the datagram (by direction and its index for that
client), so 'the first request is lost' happens on every run. Each client gets its own upstream
socket, so the server sees distinct senders, as it would on a real network.
"""
from __future__ import annotations

import selectors
import socket
import threading
import time
from dataclasses import dataclass, field

from .feedback import show_bytes
from .net import judge_host

UP, DOWN = "client→server", "server→client"


@dataclass(frozen=True)
class Rule:
    """Do `action` to datagram number `index` (0-based, per client) going `direction`.

    actions: "drop"; "dup" (deliver twice); "hold" (deliver it right after the next datagram
    of the same client and direction, so it arrives late and out of order); "forge" (deliver
    `payload` from the server's address just before it)."""
    direction: str
    index: int
    action: str
    payload: bytes = b""


def drop(direction: str, index: int) -> Rule:
    return Rule(direction, index, "drop")


def dup(direction: str, index: int) -> Rule:
    return Rule(direction, index, "dup")


def hold(direction: str, index: int) -> Rule:
    return Rule(direction, index, "hold")


def forge(direction: str, index: int, payload: bytes) -> Rule:
    return Rule(direction, index, "forge", payload)


@dataclass
class _Client:
    addr: tuple
    upstream: socket.socket
    counts: dict = field(default_factory=lambda: {UP: 0, DOWN: 0})
    held: dict = field(default_factory=dict)


class LossyPath:
    """Relay on this judge's address: clients send to `.addr`, the server sees the relay."""

    def __init__(self, server: tuple[str, int], rules: list[Rule] = (), *, lifetime: float = 30.0,
                 max_size: int = 65535):
        self.server = server
        self.rules = {(r.direction, r.index): r for r in rules}
        self.events: list[str] = []
        self.max_size = max_size
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((judge_host(), 0))
        self.addr = self.sock.getsockname()
        self._clients: dict[tuple, _Client] = {}
        self._by_upstream: dict[socket.socket, _Client] = {}
        self._sel = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._sel.register(self.sock, selectors.EVENT_READ)
        self._sel.register(self._wake_r, selectors.EVENT_READ)
        self._stop = False
        self._deadline = time.monotonic() + lifetime
        self._thread = threading.Thread(target=self._run, daemon=True, name="lossy-udp")
        self._thread.start()

    def log(self, what: str) -> None:
        self.events.append(what)

    def _client(self, addr: tuple) -> _Client:
        client = self._clients.get(addr)
        if client is None:
            up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            up.bind((judge_host(), 0))
            client = _Client(addr, up)
            self._clients[addr] = client
            self._by_upstream[up] = client
            self._sel.register(up, selectors.EVENT_READ)
        return client

    def _deliver(self, client: _Client, direction: str, data: bytes) -> None:
        if direction == UP:
            client.upstream.sendto(data, self.server)
        else:
            self.sock.sendto(data, client.addr)

    def _pass(self, client: _Client, direction: str, data: bytes) -> None:
        index = client.counts[direction]
        client.counts[direction] += 1
        rule = self.rules.get((direction, index))
        tag = f"{direction} #{index} {show_bytes(data, 40)}"
        action = rule.action if rule else "pass"
        if action == "drop":
            self.log(f"{tag}: dropped (on purpose)")
        elif action == "hold":
            client.held[direction] = data
            self.log(f"{tag}: held back, to arrive late")
            return
        elif action == "forge":
            self._deliver(client, direction, rule.payload)
            self.log(f"{direction}: forged {show_bytes(rule.payload, 40)} sent first")
            self._deliver(client, direction, data)
            self.log(f"{tag}: delivered")
        else:
            self._deliver(client, direction, data)
            self.log(f"{tag}: delivered")
            if action == "dup":
                self._deliver(client, direction, data)
                self.log(f"{tag}: delivered again (duplicate)")
        late = client.held.pop(direction, None)
        if late is not None and action != "hold":
            self._deliver(client, direction, late)
            self.log(f"{direction}: held datagram {show_bytes(late, 40)} delivered late")

    def _run(self) -> None:
        while not self._stop:
            left = self._deadline - time.monotonic()
            if left <= 0:
                self.log("relay stopped: lifetime over")
                return
            for key, _ in self._sel.select(timeout=left):
                sock = key.fileobj
                if sock is self._wake_r:
                    return
                try:
                    data, addr = sock.recvfrom(self.max_size)
                except OSError:
                    continue
                if sock is self.sock:
                    self._pass(self._client(addr), UP, data)
                else:
                    self._pass(self._by_upstream[sock], DOWN, data)

    def close(self) -> None:
        self._stop = True
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass
        self._thread.join(5)
        for s in [self.sock, self._wake_r, self._wake_w, *self._by_upstream]:
            s.close()
        self._sel.close()

    def __enter__(self) -> "LossyPath":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def story(self) -> str:
        """What happened on the path, for feedback."""
        return "\n".join("    " + e for e in self.events[-12:]) or "    (nothing crossed the path)"
