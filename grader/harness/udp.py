"""A lossy UDP path: a relay that drops, duplicates, holds back or forges chosen datagrams.

Loss is made, not hoped for: rules name the datagram (by direction and its index for that
client), so 'the first request is lost' happens on every run. Each client gets its own upstream
socket, so the server sees distinct senders, as it would on a real network.

With `server=None` the path is its own far end: an ideal echo server inside the relay thread,
so client checks need no student server, and an echo is decided in a fixed order (the reply to
a datagram goes through the DOWN rules before the relay reads anything else).
"""
from __future__ import annotations

import selectors
import socket
import threading
import time
from dataclasses import dataclass, field

from ..i18n import say
from .feedback import show_bytes
from .net import judge_host

UP, DOWN = "client→server", "server→client"


@dataclass(frozen=True)
class Rule:
    """Do `action` to datagram number `index` (0-based, per client) going `direction`.
    (The API counts from 0, like a list; the story a student reads counts from 1: index 0 is
    shown as '#1'.)

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
    upstream: socket.socket | None
    name: str = "client 1"
    counts: dict = field(default_factory=lambda: {UP: 0, DOWN: 0})
    held: dict = field(default_factory=dict)  # direction -> datagrams held back, oldest first


class LossyPath:
    """Relay on this judge's address: clients send to `.addr`, the server sees the relay.

    `server=None`: the path echoes every datagram that reaches its far end (see above).
    `.received` lists the datagrams that reached the far end, `.delivered` those handed to
    clients (duplicates, forged and late ones included), in order; `.clients` counts the client
    addresses seen; `.story()` tells what happened, naming clients when there are several:
    'client 1', 'client 2' in the order they first sent, or `name_client(first datagram)`
    when that returns a name (so a test's own client numbers show in the story).
    """

    def __init__(self, server: tuple[str, int] | None, rules: list[Rule] = (), *,
                 lifetime: float = 30.0, max_size: int = 65535, name_client=None):
        self.server = server
        self.rules = {(r.direction, r.index): r for r in rules}
        self._events: list = []  # say() texts: rendered when read, in the reader's language
        self._event_client: list[str | None] = []
        self.received: list[bytes] = []
        self.delivered: list[bytes] = []
        self._name_client = name_client
        self._echoes: list[tuple[_Client, bytes]] = []
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

    def log(self, what, client: "_Client | None" = None) -> None:
        self._event_client.append(client.name if client else None)
        self._events.append(what)

    @property
    def events(self) -> list[str]:
        """What happened on the path, one line per event, oldest first."""
        return [str(e) for e in list(self._events)]

    @property
    def clients(self) -> int:
        """How many client addresses have sent through the path."""
        return len(self._clients)

    def _client(self, addr: tuple, first: bytes) -> _Client:
        client = self._clients.get(addr)
        if client is None:
            up = None
            if self.server is not None:
                up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                up.bind((judge_host(), 0))
            n = len(self._clients) + 1
            name = str(say("client {n}", "客户端 {n}", n=n))
            if self._name_client is not None:
                unnamed = str(say("unnamed client {n}", "未命名的客户端 {n}", n=n))
                try:
                    name = self._name_client(first) or unnamed
                except Exception:  # a test's naming function must not kill the relay
                    name = unnamed
            client = _Client(addr, up, name)
            self._clients[addr] = client
            if up is not None:
                self._by_upstream[up] = client
                self._sel.register(up, selectors.EVENT_READ)
        return client

    def _deliver(self, client: _Client, direction: str, data: bytes) -> None:
        try:
            if direction == UP:
                self.received.append(data)
                if self.server is None:
                    self._echoes.append((client, data))  # answered once this datagram is done
                else:
                    client.upstream.sendto(data, self.server)
            else:
                self.sock.sendto(data, client.addr)
                self.delivered.append(data)
        except OSError as exc:  # e.g. the client's socket is gone: a real network drops it too
            self.log(say("{d}: could not deliver {data} ({exc})", "{d}：无法投递 {data}（{exc}）",
                         d=direction, data=show_bytes(data, 40), exc=exc), client)

    def _pass(self, client: _Client, direction: str, data: bytes) -> None:
        index = client.counts[direction]
        client.counts[direction] += 1
        rule = self.rules.get((direction, index))
        tag = f"{direction} #{index + 1} {show_bytes(data, 40)}"  # counted from 1 for students
        action = rule.action if rule else "pass"

        def event(en: str, zh: str, **fields) -> None:
            self.log(say(en, zh, tag=tag, **fields), client)

        if action == "drop":
            event("{tag}: dropped (on purpose)", "{tag}：被丢弃（有意的）")
        elif action == "hold":
            client.held.setdefault(direction, []).append(data)
            event("{tag}: held back, to arrive late", "{tag}：被扣下，稍后才到达")
            return
        elif action == "forge":
            self.log(say("{d}: forged {data} sent first", "{d}：先发出一个伪造的 {data}",
                         d=direction, data=show_bytes(rule.payload, 40)), client)
            self._deliver(client, direction, rule.payload)
            event("{tag}: delivered", "{tag}：已送达")
            self._deliver(client, direction, data)
        else:
            event("{tag}: delivered", "{tag}：已送达")
            self._deliver(client, direction, data)
            if action == "dup":
                event("{tag}: delivered again (duplicate)", "{tag}：又送达了一次（重复）")
                self._deliver(client, direction, data)
        for late in client.held.pop(direction, []):
            self.log(say("{d}: held datagram {data} delivered late", "{d}：被扣下的数据报 {data} 迟到送达",
                         d=direction, data=show_bytes(late, 40)), client)
            self._deliver(client, direction, late)

    def _run(self) -> None:
        while not self._stop:
            left = self._deadline - time.monotonic()
            if left <= 0:
                self.log(say("relay stopped: lifetime over", "中继已停止：寿命到了"))
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
                    self._pass(self._client(addr, data), UP, data)
                else:
                    self._pass(self._by_upstream[sock], DOWN, data)
                while self._echoes:  # server=None: the far end echoes what reached it
                    client, echo = self._echoes.pop(0)
                    self._pass(client, DOWN, echo)

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

    def story(self, last: int = 12) -> str:
        """What happened on the path, for feedback: the `last` events, one a line, each
        prefixed by its client ('client 2: ...') when several clients used the path."""
        events = list(zip(self._event_client, self.events))
        if not events:
            return "    " + str(say("(nothing crossed the path)", "（没有任何数据经过这条路径）"))
        several = len(self._clients) > 1
        lines = []
        if len(events) > last:
            n = len(events) - last
            lines.append("    " + str(say("(… {n} earlier event)" if n == 1 else "(… {n} earlier events)",
                                          "（……前面还有 {n} 个事件）", n=n)))
        for name, what in events[-last:]:
            lines.append(f"    {f'{name}: ' if several and name else ''}{what}")
        return "\n".join(lines)
