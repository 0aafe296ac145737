"""The scheduler states of a student process's threads, read from /proc by the judge (outside
the student's process, so looking does not disturb it: no GIL taken, nothing run there).

A thread blocked in queue.get(), lock.acquire(), Event.wait() or a read is asleep (state S);
one that polls in a loop (`while not items: pass`) is running or runnable (R) at every look,
whether or not the CPU is free (a starved thread is runnable, so load cannot make it look
asleep). So "every thread asleep" proves an idle program waits the right way, and is seen as
soon as it is true; a program that never gets there is told apart by a deadline.

One look is not a snapshot: the threads' files are read one after another, and polling threads
hand the GIL to each other meanwhile (a thread waiting for the GIL sleeps on a futex), so a
look can find every thread asleep when each was asleep only at the moment it was read. Asleep
therefore also means: no thread got any CPU (schedstat's run time, in ns) during QUIET seconds
with nothing running at either end.

    busy = wait_asleep(proc.pid, timeout=3.0)   # None once every thread sleeps
    if busy: ...                                 # {tid: state} of the threads still running
"""
from __future__ import annotations

import time

from ..procs import cpu_ticks, stat_fields, task_ids

LOOK_EVERY = 0.01
QUIET = 0.05


def thread_states(pid: int) -> dict[int, str]:
    """{thread id: state letter} of every thread of `pid` now ({} when it is gone)."""
    states = {}
    for tid in task_ids(pid):
        fields = stat_fields(pid, tid)
        if fields:  # else it ended meanwhile
            states[tid] = fields[0].decode()
    return states


def running(pid: int) -> dict[int, str]:
    """The threads of `pid` that are running or runnable (R) or in an uninterruptible wait (D)."""
    return {tid: s for tid, s in thread_states(pid).items() if s in ("R", "D")}


def run_times(pid: int) -> dict[int, int]:
    """{thread id: nanoseconds it has run} for every thread of `pid` (schedstat; where the
    kernel has none, utime+stime in clock ticks, coarser but still growing while it runs)."""
    out = {}
    for tid in task_ids(pid):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat", "rb") as f:
                out[tid] = int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            ticks = cpu_ticks(stat_fields(pid, tid))
            if ticks is not None:
                out[tid] = ticks
    return out


def wait_asleep(pid: int, timeout: float) -> dict[int, str] | None:
    """Look at `pid` until its threads have all slept for QUIET seconds (then None), at most
    `timeout` seconds; then the threads that were running at the last looks."""
    deadline = time.monotonic() + timeout
    quiet_since, quiet_times = None, None
    ran: dict[int, str] = {}
    while True:
        busy = running(pid)
        now = time.monotonic()
        times = run_times(pid)
        if not times:
            return None  # gone
        if busy:
            quiet_since = None
            ran = busy
        elif quiet_since is None or times != quiet_times:
            if quiet_times is not None and quiet_since is not None:  # one ran between looks
                ran = {tid: "R" for tid, t in times.items() if t != quiet_times.get(tid)}
            quiet_since, quiet_times = now, times
        elif now - quiet_since >= QUIET:
            return None
        if now >= deadline:
            return busy or ran or None
        time.sleep(LOOK_EVERY)  # the next look at /proc; the deadline bounds the wait


__all__ = ["thread_states", "running", "run_times", "wait_asleep"]
