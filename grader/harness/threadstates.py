"""The scheduler states of a student process's threads, read from /proc by the judge (outside
the student's process, so looking does not disturb it: no GIL taken, nothing run there).

A thread blocked in queue.get(), lock.acquire(), Event.wait() or a read is asleep (state S);
one that polls in a loop (`while not items: pass`) is running or runnable (R) at every look,
whether or not the CPU is free (a starved thread is runnable, so load cannot make it look
asleep). So "every thread asleep" proves an idle program waits the right way, and is seen as
soon as it is true; a program that never gets there is told apart by a deadline.

    busy = wait_asleep(proc.pid, timeout=3.0)   # None once every thread sleeps
    if busy: ...                                 # {tid: state} of the threads still running
"""
from __future__ import annotations

import os
import time

LOOK_EVERY = 0.01


def thread_states(pid: int) -> dict[int, str]:
    """{thread id: state letter} of every thread of `pid` now ({} when it is gone)."""
    states = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return states
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat", "rb") as f:
                data = f.read()
        except OSError:
            continue  # ended meanwhile
        states[int(tid)] = data[data.rfind(b")") + 2:][:1].decode()
    return states


def running(pid: int) -> dict[int, str]:
    """The threads of `pid` that are running or runnable (R) or in an uninterruptible wait (D)."""
    return {tid: s for tid, s in thread_states(pid).items() if s in ("R", "D")}


def wait_asleep(pid: int, timeout: float) -> dict[int, str] | None:
    """Look at `pid` until none of its threads runs (then None), at most `timeout` seconds;
    then the threads that were running at the last look."""
    deadline = time.monotonic() + timeout
    while True:
        busy = running(pid)
        if not busy:
            return None
        if time.monotonic() >= deadline:
            return busy
        time.sleep(LOOK_EVERY)  # the next look at /proc; the deadline bounds the wait


__all__ = ["thread_states", "running", "wait_asleep"]
