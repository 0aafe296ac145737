"""What /proc says about a student's process, for the pool and greenlet exercises: its OS
threads (and what each is doing), its children whichever of its threads started them, and
waits that end when a count settles to what a correct program leaves behind.

    from grader.harness.procs_view import settle, all_children, thread_states
    left = settle(mod.proc.threads, at_most=1)     # threads once the pool's have exited
    kids = all_children(mod.proc.pid)              # a pool's worker processes, any thread's

Waits poll /proc with a deadline: the wait ends at the event (a thread that has finished its
Python code still shows in /proc/<pid>/task for a moment while it exits), and the deadline
only decides a failure - a pool that is never shut down keeps its threads for ever.
(Used by tests/pools and tests/project/test_slow_server.py; the process-tree helpers of the
process exercises are in proctree.py.)
"""
from __future__ import annotations

import time

from ..procs import _state, task_ids
from .threadstates import thread_states  # {tid: state}: re-exported for the suites


def all_children(pid: int) -> dict[int, str]:
    """{pid: state} of the direct children of every thread of the process ('Z': a zombie).
    A pool's worker processes may be started by any of its threads, not only the main one."""
    kids: dict[int, str] = {}
    for tid in task_ids(pid):
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                for child in f.read().split():
                    kids[int(child)] = _state(int(child)) or "?"
        except OSError:
            pass
    return kids


def settle(measure, at_most: int, timeout: float = 3.0, alive=None) -> int:
    """Call `measure()` until it returns at most `at_most` (or `alive()` turns false, or the
    deadline): the last value measured. What a correct program leaves goes within
    milliseconds; what a wrong one leaves stays, and the deadline says so."""
    end = time.monotonic() + timeout
    while True:
        now = measure()
        if now <= at_most or time.monotonic() >= end or (alive is not None and not alive()):
            return now
        time.sleep(0.01)  # polling /proc with a deadline: the wait ends at the event


__all__ = ["task_ids", "thread_states", "all_children", "settle"]
