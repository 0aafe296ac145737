"""What /proc says about a student's process tree, for the process exercises (processes,
zombies, ...): which processes it holds and in what state, whether one of them is a zombie,
who adopted an orphan, and whether the whole tree has stopped making progress.

Pids: student processes live in a PID namespace of their own, so the pids they report (and
the rendezvous records) are that namespace's; `members(proc)` maps them to what the judge sees.

    tree = members(mod.proc)             # {pid as the student sees it: Member(outer, state, ppid)}
    zombies(mod.proc)                    # the student's children that ended and were not reaped
    idle = Idle(mod.proc); idle.idle()   # True once the tree sat still for the window
    gather(rv, mod.proc, "work", 4, gate="go")   # a barrier the test opens (see below)

Everything here only reads /proc; a wait that uses `Idle` ends early only when the student's
processes can no longer get anywhere by themselves (no CPU used, nothing runnable), which load
cannot fake: a process starved of CPU is runnable.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from ..procs import stat_fields
from . import hang

IDLE_SECONDS = hang.IDLE_SECONDS
POLL = 0.01   # between looks at /proc while a wait goes on


@dataclass(frozen=True)
class Member:
    outer: int          # the pid as the judge sees it
    inner: int          # the pid as the student's processes see it
    state: str          # 'R', 'S', 'Z', ... (/proc/<pid>/stat)
    ppid: int           # the parent, as the judge sees it
    starttime: int      # clock ticks after boot: tells a pid reused from the process it named


def stat(pid: int) -> tuple[str, int, int] | None:
    """(state, ppid, starttime) of a process as the judge sees it, or None when gone."""
    fields = stat_fields(pid)
    if fields is None:
        return None
    try:
        return fields[0].decode(), int(fields[1]), int(fields[19])
    except (IndexError, ValueError):
        return None


def nspid(pid: int) -> int | None:
    """The innermost pid of a process (its own PID namespace's), or None when gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("NSpid:"):
                    return int(line.split()[-1])
    except (OSError, ValueError, IndexError):
        return None
    return pid


def members(proc) -> dict[int, Member]:
    """Every process of the student's tree below and including `proc` (zombies too),
    keyed by the pid the student's processes know it by."""
    out: dict[int, Member] = {}
    if proc is None:
        return out
    for pid in hang.tree(proc.pid):
        st, inner = stat(pid), nspid(pid)
        if st is not None and inner is not None:
            out[inner] = Member(pid, inner, st[0], st[1], st[2])
    return out


def children(proc) -> dict[int, str]:
    """The direct children of `proc` (outer pids) and their states ('Z': a zombie)."""
    return proc.children() if proc is not None and proc.alive() else {}


def zombies(proc) -> list[int]:
    """The direct children of `proc` that ended and were not reaped (outer pids)."""
    return sorted(pid for pid, state in children(proc).items() if state == "Z")


def ended(proc, inner: int) -> bool:
    """Has the process the student knows as `inner` ended (a zombie, or reaped and gone)?
    Only for pids that existed in this tree (e.g. a worker that reported to the rendezvous)."""
    m = members(proc).get(inner)
    return m is None or m.state == "Z"


def alive(outer: int, starttime: int | None = None) -> bool:
    """Is the process (outer pid) still running - not gone, not a zombie, not a newer
    process that got the same pid?"""
    st = stat(outer)
    return st is not None and st[0] != "Z" and (starttime is None or st[2] == starttime)


class Idle:
    """Has the tree of `proc` sat still - no CPU time used, no thread runnable - for
    `window` seconds? Ask `idle()` as often as you like (it looks at /proc at most every
    hang.SAMPLE_SECONDS). A tree waiting on the test (a gate, a barrier that cannot fill, a
    join that waits for a child stuck on a gate) is idle; one that forks, computes or is
    starved of CPU by other work is not."""

    def __init__(self, proc, window: float = IDLE_SECONDS):
        self.proc = proc
        self.window = window
        self.since = time.monotonic()
        self.last: int | None = None
        self.next = 0.0

    def idle(self) -> bool:
        now = time.monotonic()
        if now < self.next:
            return now - self.since >= self.window
        self.next = now + hang.SAMPLE_SECONDS
        ticks, busy = 0, False
        for pid in hang.tree(self.proc.pid):
            st = hang._stat(pid)
            if st is None:
                continue
            ticks += st[1]
            if st[0] in ("R", "D") or (st[0] != "Z" and hang._threads_runnable(pid)):
                busy = True
        if busy or ticks != self.last:
            self.since = now
        self.last = ticks
        return now - self.since >= self.window


def wait_until(predicate, proc, *, timeout: float = 30.0, window: float = IDLE_SECONDS,
               stop=None) -> str:
    """Poll `predicate()` until it holds ("ok"), the student's tree has been idle for
    `window` s without it ("idle": it will not get there by itself), `stop()` holds ("stop",
    e.g. the call returned), or `timeout` passes ("timeout")."""
    idle = Idle(proc, window) if proc is not None else None
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return "ok"
        if stop is not None and stop():
            return "ok" if predicate() else "stop"
        if idle is not None and (not proc.alive() or idle.idle()):
            return "ok" if predicate() else "idle"
        if time.monotonic() >= deadline:
            return "timeout"
        time.sleep(POLL)  # looking at /proc again, not waiting for time to pass


def gather(rv, proc, tag: str, parties: int, *, gate: str, timeout: float = 30.0,
           window: float = IDLE_SECONDS, stop=None) -> int:
    """A barrier the test controls: workers do `with netlab_rv.inside(tag):
    netlab_rv.wait_gate(gate, ...)`; this waits until `parties` of them are inside at once,
    then opens the gate. If the student's tree goes idle first (a serial program: the one
    worker that started waits at the gate, the rest will only start after it), or `stop()`
    holds, or `timeout` passes, the gate is opened anyway so the program can finish. Returns
    how many were inside at once at most - `parties` for workers that truly ran together."""
    idle = Idle(proc, window)
    deadline = time.monotonic() + timeout
    try:
        while True:
            if rv.wait_for(lambda r: r.now_inside(tag) >= parties, timeout=hang.SAMPLE_SECONDS):
                break
            if (stop is not None and stop()) or not proc.alive() or idle.idle():
                break
            if time.monotonic() >= deadline:
                break
    finally:
        rv.open_gate(gate)
    return rv.max_inside(tag)


__all__ = ["Member", "stat", "nspid", "members", "children", "zombies", "ended", "alive",
           "Idle", "wait_until", "gather", "IDLE_SECONDS"]
