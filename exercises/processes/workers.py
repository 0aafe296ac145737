"""Worker processes with multiprocessing: both ways to create one, start/join, daemon.

Read README.md in this folder for the whole task, then `grader check processes`.
The checks call these functions with a `func` of their own (it reports to the checks which
process runs it): call it, never replace it.
"""
import multiprocessing
from multiprocessing import Process


class MapWorker(Process):
    """One item's work in a process of its own: the subclass way (override run())."""

    def __init__(self, func, index, item, results):
        super().__init__()
        # TODO: keep func, index, item and results (a multiprocessing.Queue) on self
        raise NotImplementedError("MapWorker.__init__() is not written yet")

    def run(self):
        # TODO: this runs in the new process once start() has created it:
        #       put (self.index, self.func(self.item)) on self.results
        raise NotImplementedError("MapWorker.run() is not written yet")


def parallel_map(func, items):
    """[func(x) for x in items], each call in a MapWorker process of its own, all running at
    the same time; the results in the order of `items`. Every worker is joined before it
    returns."""
    # TODO: a multiprocessing.Queue for the results; one MapWorker per item;
    #       start() them all, then take one result per worker from the queue (they finish in
    #       any order: put each at its index), then join() them all.
    raise NotImplementedError("parallel_map() is not written yet")


def start_daemon(func):
    """Start func() in a daemon process (the Process(target=...) way) and return its pid at
    once, without waiting for it."""
    # TODO: Process(target=func, daemon=True), start() it, return its pid
    raise NotImplementedError("start_daemon() is not written yet")


def daemon_after_start(func):
    """Check what the note says: start a process running func(), then try to set its daemon
    flag. Return {"raised": exception class name or None, "message": str(exception) or None,
    "pid": its pid, "exitcode": its exit code once joined}."""
    # TODO: Process(target=func), start(); try p.daemon = True, catching the exception it
    #       raises; join(); return the dict
    raise NotImplementedError("daemon_after_start() is not written yet")
