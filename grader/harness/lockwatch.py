"""What a student's processes are waiting for, read from /proc - so a suite can tell "every
other worker is blocked (on a lock, in join(), on a pipe)" from "another worker is still on
its way", by observation and never by elapsed time.

    watch = Settle()
    while ...:
        blocked_for = watch.look(hang.tree(proc.pid), skip=pids_the_test_holds_at_a_gate)
        if blocked_for >= 0.05: ...     # two looks: every other thread asleep, no CPU used
        if blocked_for >= 1.0: ...      # a deadlock: nothing will ever move again

A look is *blocked* when every thread of every process in it (but those skipped) is asleep
(state S) or gone (a zombie, or exited), and none sleeps in `time.sleep()`: a sleeping
program will go on by itself. Load cannot fake it: a thread starved of the CPU is runnable
(state R), which counts as moving; so does CPU time used between two looks, and a process
that appears or ends. Where /proc/<pid>/wchan cannot be read, the states alone decide.
`describe(pid)` says in words what a process waits for ("waiting for a lock", "waiting in
join() for a child process to end"), for feedback.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from ..i18n import say
from ..procs import cpu_ticks, stat_fields, task_ids

SLEEPS = ("nanosleep",)  # time.sleep() (hrtimer_nanosleep, do_nanosleep): it goes on by itself


@dataclass(frozen=True)
class Task:
    pid: int
    tid: int
    state: str           # R S D Z T ...
    ticks: int           # utime + stime, clock ticks
    wchan: str | None    # the kernel function it sleeps in; None: unreadable


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def tasks(pid: int, limit: int = 64) -> list[Task]:
    """The threads of one process (at most `limit`); [] when it is gone."""
    out = []
    for tid in task_ids(pid)[:limit]:
        fields = stat_fields(pid, tid)
        ticks = cpu_ticks(fields)
        if ticks is None:
            continue  # ended meanwhile
        state = fields[0].decode()
        raw = _read(f"/proc/{pid}/task/{tid}/wchan")
        wchan = raw.decode("ascii", "replace").strip() if raw is not None else None
        out.append(Task(pid, tid, state, ticks, wchan))
    return out


def inner_pid(pid: int) -> int:
    """The pid a process has in its own (innermost) PID namespace: what it reports itself."""
    status = _read(f"/proc/{pid}/status")
    for line in (status or b"").splitlines():
        if line.startswith(b"NSpid:"):
            try:
                return int(line.split()[-1])
            except ValueError:
                break
    return pid


def _asleep(task: Task) -> bool:
    if task.state in ("Z", "X"):
        return True
    if task.state != "S":
        return False   # R (running or runnable, also when starved by load), D, T
    return not (task.wchan and any(s in task.wchan for s in SLEEPS))


def waiting_for(pid: int) -> str | None:
    """The kernel's name for what the main thread of `pid` sleeps in, or None."""
    for task in tasks(pid, limit=1):
        return task.wchan if task.state == "S" else None
    return None


def describe(pid: int):
    """What a process is doing, in words (a say() text, no verb: "waiting for a lock"), e.g.
    for "buyers 2, 3: waiting for a lock"."""
    ts = tasks(pid)
    if not ts or ts[0].state in ("Z", "X"):
        return say("ended", "已经结束")
    main = ts[0]
    w = main.wchan or ""
    if main.state in ("R", "D"):
        return say("running", "正在运行")
    if "futex" in w:
        return say("waiting for a lock or a semaphore (a full Queue's put() waits on one)",
                   "在等一把锁或一个信号量（往满了的 Queue 里 put() 就是在等信号量）")
    if "do_wait" in w or "wait4" in w or "waitid" in w:
        return say("waiting in join() for a child process to end", "在 join() 里等一个子进程结束")
    if "pipe" in w:
        return say("waiting on a pipe (a Queue's get() or put())", "在等一个管道（Queue 的 get() 或 put()）")
    if any(s in w for s in SLEEPS):
        return say("sleeping (time.sleep)", "在睡眠（time.sleep）")
    if "poll" in w or "select" in w:
        return say("waiting in select()/poll()", "在 select()/poll() 里等待")
    if w and w != "0":
        return say("waiting ({wchan})", "在等待（{wchan}）", wchan=w)
    return say("waiting", "在等待")


class Settle:
    """Successive looks at a set of processes; `look` says for how long every thread of
    them has been asleep without using the CPU (0.0 while something moves)."""

    def __init__(self):
        self._since: float | None = None
        self._last: dict[int, int] | None = None   # pid -> ticks at the previous look

    def reset(self) -> None:
        self._since = None
        self._last = None

    def look(self, pids, skip=()) -> float:
        now = time.monotonic()
        skip = set(skip)
        ticks: dict[int, int] = {}
        asleep = True
        for pid in pids:
            if inner_pid(pid) in skip:   # the test's gates hold these (pids as they see them)
                continue
            ts = tasks(pid)
            if not ts:
                continue
            ticks[pid] = sum(t.ticks for t in ts)
            if not all(_asleep(t) for t in ts):
                asleep = False
        if not asleep or self._last is None or ticks != self._last:
            self._since = None if not asleep else now
            self._last = ticks if asleep else None
            return 0.0
        if self._since is None:
            self._since = now
        return now - self._since
