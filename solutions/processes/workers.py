"""Worker processes with multiprocessing: both ways to create one, start/join, daemon.

Read README.md in this folder for the whole task, then `grader check processes`.
"""
import multiprocessing
from multiprocessing import Process


class MapWorker(Process):
    """One item's work in a process of its own: the subclass way (override run())."""

    def __init__(self, func, index, item, results):
        super().__init__()
        self.func = func
        self.index = index
        self.item = item
        self.results = results

    def run(self):
        # runs in the new process once start() has created it
        self.results.put((self.index, self.func(self.item)))


def parallel_map(func, items):
    """[func(x) for x in items], each call in a worker process of its own, all running at
    once; the results in the order of `items`."""
    items = list(items)
    results = multiprocessing.Queue()
    workers = [MapWorker(func, i, item, results) for i, item in enumerate(items)]
    for w in workers:
        w.start()                      # all of them first: they run at the same time
    out = [None] * len(items)
    for _ in workers:                  # before join(): a worker blocked on a full pipe never ends
        index, value = results.get()
        out[index] = value             # by index: they finish in any order
    for w in workers:
        w.join()                       # wait for each to end, and reap it
    return out


def start_daemon(func):
    """Start func() in a daemon process and return its pid without waiting for it."""
    p = Process(target=func, daemon=True)   # the target way; daemon before start()
    p.start()
    return p.pid


def daemon_after_start(func):
    """Check the note: start a process running func(), then set daemon = True on it."""
    p = Process(target=func)
    p.start()
    raised = message = None
    try:
        p.daemon = True
    except AssertionError as exc:
        raised, message = type(exc).__name__, str(exc)
    p.join()
    return {"raised": raised, "message": message, "pid": p.pid, "exitcode": p.exitcode}
