"""Telling a hung student program from a slow one, so a hang fails in about a second instead
of costing every wait its whole deadline - with verdicts exactly as strong as before.

Two signatures, both read from outside the student's processes (/proc and the kernel's socket
table), both about the whole process tree a check started (a server's children count):

- **idle before listening** (`Readiness`, used by `wait_listening`): the tree has used no CPU
  time and none of its processes was runnable for `IDLE_SECONDS` (2 s), and it does not listen
  where it was told. A program starting up uses the CPU; one that sleeps, or blocks in
  accept() on the wrong address, or waits for input, does not - and will not start listening by
  itself. Load cannot fake it: a process starved of CPU by other work is *runnable* (state R),
  which counts as activity.
- **spinning on a closed connection** (`Stall`, used by Peer's reads and by PendingCall): for
  `SPIN_SECONDS` (1 s) the tree keeps running (CPU time grows or a process is runnable at
  every look), holds a TCP connection whose peer has closed (CLOSE_WAIT) with nothing left
  unread on it, and not one byte moves on any of its connections. That is a recv() loop without
  a b'' check: recv() returns b'' at once, forever. A correct program reacts to the close within
  milliseconds (it closes, or answers and closes: bytes move, or the socket leaves CLOSE_WAIT).

Once a program (by file name) was found hung one way in this judge, later checks give up on the
same signature after `REPEAT_SECONDS` (0.4 s) and say "as in an earlier check" instead of
repeating the diagnosis; the first report dumps the program's stacks ("where it was").

Nothing here ever passes a check: it only ends a wait early that would otherwise have ended at
its deadline with the same failure. Where /proc or sock_diag cannot be read, nothing is found.
"""
from __future__ import annotations

import os
import socket
import struct
import time

from ..i18n import Text, say
from ..procs import cpu_ticks, stat_fields, threads_runnable

IDLE_SECONDS = 2.0     # no CPU, nothing runnable, not listening: the server will not start
SPIN_SECONDS = 1.0     # busy, holding a fully-read closed connection, nothing moving
REPEAT_SECONDS = 0.4   # the same program, found hung the same way earlier in this judge
SAMPLE_SECONDS = 0.1   # how often the processes are looked at while a wait goes on

_seen: dict[tuple[str, str], bool] = {}   # (program name, kind) found hung in this judge
_procs_source = None                        # () -> the current test's StudentProcess list


def watch(source) -> None:
    """Tell the harness where the current test's student processes are (Student does this)."""
    global _procs_source
    _procs_source = source


def current_procs() -> list:
    try:
        return [p for p in (_procs_source() if _procs_source else []) if p.alive()]
    except Exception:  # never let the watcher break a check
        return []


def seen(name: str, kind: str) -> bool:
    return _seen.get((name, kind), False)


def reset() -> None:
    """Forget what was seen (the project's tests use it)."""
    _seen.clear()


# -- what /proc says -----------------------------------------------------------------------------

def _stat(pid: int) -> tuple[str, int] | None:
    """(state letter, utime+stime in clock ticks) of one process."""
    fields = stat_fields(pid)
    ticks = cpu_ticks(fields)
    return None if ticks is None else (fields[0].decode(), ticks)


def _children(pid: int) -> list[int]:
    kids = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/children") as f:
                    kids += [int(p) for p in f.read().split()]
            except OSError:
                pass
    except OSError:
        pass
    return kids


def tree(pid: int, limit: int = 256) -> list[int]:
    """The process and its descendants (breadth first, at most `limit`)."""
    out, todo = [], [pid]
    while todo and len(out) < limit:
        p = todo.pop(0)
        out.append(p)
        todo += _children(p)
    return out


def _threads_runnable(pid: int) -> bool:
    """Is any thread of the process runnable (R) or in an uninterruptible wait (D)?"""
    return threads_runnable(pid, 64)


def socket_inodes(pid: int) -> set[int]:
    """The inodes of the sockets process `pid` holds open (what the socket tables name)."""
    found = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if link.startswith("socket:["):
                found.add(int(link[8:-1]))
    except OSError:
        pass
    return found


# -- what the kernel's socket table says ---------------------------------------------------------

NETLINK_SOCK_DIAG, SOCK_DIAG_BY_FAMILY, NLMSG_ERROR, NLMSG_DONE = 4, 20, 2, 3
INET_DIAG_INFO = 2
TCP_CLOSE_WAIT = 8
TCPI_BYTES_ACKED, TCPI_BYTES_RECEIVED = 120, 128


def tcp_table() -> dict[int, tuple[int, int, int, int, int]]:
    """inode -> (state, unread, unsent, bytes acked, bytes received) of every TCP socket."""
    rows: dict[int, tuple[int, int, int, int, int]] = {}
    for family in (socket.AF_INET, socket.AF_INET6):
        with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_SOCK_DIAG) as nl:
            nl.settimeout(1.0)
            req = struct.pack("=BBBBI", family, socket.IPPROTO_TCP, 1 << (INET_DIAG_INFO - 1), 0,
                              0xFFFFFFFF) + bytes(48)
            nl.send(struct.pack("=IHHII", 16 + len(req), SOCK_DIAG_BY_FAMILY, 0x301, 1, 0) + req)
            done = False
            while not done:
                data = nl.recv(1 << 17)
                if not data:
                    break
                off = 0
                while off + 16 <= len(data):
                    length, kind = struct.unpack_from("=IH", data, off)
                    if kind in (NLMSG_DONE, NLMSG_ERROR) or length < 16:
                        done = True
                        break
                    state = data[off + 17]
                    unread, unsent, _uid, inode = struct.unpack_from("=IIII", data, off + 16 + 56)
                    acked = received = 0
                    a = off + 16 + 72
                    while a + 4 <= off + length:
                        alen, atype = struct.unpack_from("=HH", data, a)
                        if alen < 4:
                            break
                        if atype == INET_DIAG_INFO and alen - 4 >= TCPI_BYTES_RECEIVED + 8:
                            acked, received = struct.unpack_from(
                                "=QQ", data, a + 4 + TCPI_BYTES_ACKED)
                        a += (alen + 3) & ~3
                    rows[inode] = (state, unread, unsent, acked, received)
                    off += (length + 3) & ~3
    return rows


# -- looking at a set of processes over time -----------------------------------------------------

class _Look:
    """One look at the trees of some student processes."""
    __slots__ = ("ticks", "runnable", "closed", "moved")

    def __init__(self, pids: list[int], sockets: bool):
        self.ticks = 0
        self.runnable = False
        for pid in pids:
            st = _stat(pid)
            if st is None:
                continue
            self.ticks += st[1]
            if st[0] in ("R", "D") or (st[0] != "Z" and _threads_runnable(pid)):
                self.runnable = True
        self.closed: set[int] = set()   # CLOSE_WAIT sockets with nothing unread
        self.moved: dict[int, tuple[int, int]] = {}  # inode -> (acked, received)
        if sockets:
            inodes = set()
            for pid in pids:
                inodes |= socket_inodes(pid)
            if inodes:
                table = tcp_table()
                for inode in inodes & set(table):
                    state, unread, _unsent, acked, received = table[inode]
                    self.moved[inode] = (acked, received)
                    if state == TCP_CLOSE_WAIT and unread == 0:
                        self.closed.add(inode)


class _Watcher:
    """Samples the trees of `procs` at most every SAMPLE_SECONDS; subclasses decide."""

    def __init__(self, procs, sockets: bool):
        self.procs = [p for p in procs if p is not None]
        self.sockets = sockets
        self.next = time.monotonic() + SAMPLE_SECONDS
        self.failed = False

    def _look(self) -> _Look | None:
        now = time.monotonic()
        if self.failed or now < self.next:
            return None
        self.next = now + SAMPLE_SECONDS
        try:
            pids = [pid for p in self.procs if p.alive() for pid in tree(p.pid)]
            return _Look(pids, self.sockets) if pids else None
        except (OSError, struct.error, ValueError, IndexError):
            self.failed = True  # no /proc or no sock_diag here: find nothing, ever
            return None


class Readiness(_Watcher):
    """While waiting for a server to listen: has its tree been idle for the window?"""

    def __init__(self, proc, window: float | None = None):
        super().__init__([proc], sockets=False)
        self.proc = proc
        self.kind = "idle"
        self.repeat = seen(proc.name, self.kind)
        self.window = window if window is not None else (
            REPEAT_SECONDS if self.repeat else IDLE_SECONDS)
        self.since: float | None = None
        self.last: int | None = None

    def idle(self) -> float | None:
        """Seconds the tree has been idle once that reaches the window, else None."""
        look = self._look()
        if look is None:
            return None
        now = time.monotonic()
        if look.runnable or self.last is None or look.ticks != self.last:
            self.since = now
        self.last = look.ticks
        if now - self.since >= self.window:
            _seen[(self.proc.name, self.kind)] = True
            return now - self.since
        return None


class Stall(_Watcher):
    """While the judge waits on student processes: is one of them spinning on a closed
    connection? `check()` returns a `Hang` once the signature has held for the window."""

    def __init__(self, procs=None, window: float | None = None):
        procs = current_procs() if procs is None else list(procs)
        super().__init__(procs, sockets=True)
        self.next = time.monotonic()  # the first look (the baseline) at once
        self.window = window
        self.state: dict[int, tuple[float, int, dict]] = {}  # pid -> (since, ticks, moved)

    def check(self) -> "Hang | None":
        if not self.procs:
            return None
        now = time.monotonic()
        if self.failed or now < self.next:
            return None
        self.next = now + SAMPLE_SECONDS
        for proc in self.procs:
            if not proc.alive():
                self.state.pop(proc.pid, None)
                continue
            try:
                look = _Look(tree(proc.pid), sockets=True)
            except (OSError, struct.error, ValueError, IndexError):
                self.failed = True
                return None
            before = self.state.get(proc.pid)
            busy = before is not None and (look.runnable or look.ticks > before[1])
            spinning = busy and look.closed and look.moved == before[2]
            if not spinning:
                self.state[proc.pid] = (now, look.ticks, look.moved)
                continue
            self.state[proc.pid] = (before[0], look.ticks, look.moved)
            repeat = seen(proc.name, "spin")
            window = self.window if self.window is not None else (
                REPEAT_SECONDS if repeat else SPIN_SECONDS)
            if now - before[0] >= window:
                _seen[(proc.name, "spin")] = True
                return Hang(proc, "spin", now - before[0], repeat)
        return None


class Hang:
    """A student program found hung: which, how, for how long; `text` says it to a student."""

    def __init__(self, proc, kind: str, seconds: float, repeat: bool):
        self.proc, self.kind, self.seconds, self.repeat = proc, kind, seconds, repeat
        if not repeat:  # the first time: where it was, in the feedback ("your ... was here")
            try:
                proc.collect_stacks()
            except Exception:
                pass

    @property
    def text(self) -> Text:
        who = getattr(self.proc, "calling", None)
        who = f"{who}()" if who else self.proc.name
        if self.repeat:
            return say("as in an earlier check, {who} keeps running after the other side "
                       "closed the connection",
                       "和前面的检查一样，对方关闭连接之后 {who} 仍在空转", who=who)
        return say("{who} is spinning: the other side closed the connection {s:.1f} s ago, "
                   "every recv() since has returned b'' at once, and it keeps calling it",
                   "{who} 在空转：对方在 {s:.1f} 秒前就关闭了连接，此后每次 recv() 都立刻返回 b''，"
                   "而它还在不停地调用", who=who, s=self.seconds)

    def __str__(self) -> str:
        return str(self.text)


__all__ = ["Readiness", "Stall", "Hang", "watch", "current_procs", "tree", "tcp_table",
           "IDLE_SECONDS", "SPIN_SECONDS", "REPEAT_SECONDS", "reset", "seen"]
