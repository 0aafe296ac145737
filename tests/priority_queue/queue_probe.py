"""The priority_queue suite's probe: drives the student's dispatcher.py in the student's own
process (the test copies it into the working copy and calls it through the call driver;
standard library only, nothing of grader).

The handler it gives the Dispatcher records every job it is handed and can hold a job at a
gate, so the order of the queue is seen as it really is: with one worker held on a first job,
every job submitted meanwhile waits in the queue, and the order they come out in is the
queue's order, not an accident of timing. Waits end on what they wait for (a Condition the
handler notifies); the PATIENCE and SETTLE deadlines are only a last resort, reached by broken
code alone.
"""
import queue
import random
import threading
import time
import traceback

PATIENCE = 5.0    # how long join()/close() may take once every job has been handled
SETTLE = 20.0     # the longest the probe waits for the jobs to be handled

_keep = []        # dispatchers kept alive between calls (the idle check looks at them)


def _error(exc):
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if f.filename.endswith("dispatcher.py")]
    func = frames[-1].name if frames else None
    if func == "__init__":  # say Dispatcher() or UndoStack(), not __init__()
        tb, owner = exc.__traceback__, None
        while tb is not None:
            if tb.tb_frame.f_code.co_filename.endswith("dispatcher.py"):
                owner = tb.tb_frame.f_locals.get("self", owner)
            tb = tb.tb_next
        func = type(owner).__name__ if owner is not None else func
    return {"type": type(exc).__name__, "message": str(exc)[:300],
            "mro": [c.__name__ for c in type(exc).__mro__], "func": func,
            "where": [f"dispatcher.py, line {f.lineno}, in {f.name}: {f.line}"
                      for f in frames[-4:]]}


class Recorder:
    """The handler: records jobs in the order it is handed them; jobs named in `hold` wait
    at the gate until open() (a handler that is held counts as inside)."""

    def __init__(self, hold=(), fail=()):
        self.cond = threading.Condition()
        self.handled = []
        self.inside = 0
        self.most_inside = 0
        self.hold = set(hold)
        self.fail = set(fail)
        self.opened = False
        self.threads = set()

    def __call__(self, job):
        key = job if isinstance(job, str) else job.get("id")
        with self.cond:
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
            self.threads.add(threading.get_ident())
            self.cond.notify_all()
            try:
                if key in self.hold or "*" in self.hold:
                    self.cond.wait_for(lambda: self.opened, SETTLE)
                self.handled.append(job)
            finally:
                self.inside -= 1
                self.cond.notify_all()
        if key in self.fail:
            raise ValueError(f"job {key!r} failed on purpose")

    def open(self):
        with self.cond:
            self.opened = True
            self.cond.notify_all()

    def wait(self, predicate, workers, timeout=SETTLE):
        """Wait until predicate() holds; False early when every worker thread has died."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while not predicate():
                if workers and not any(t.is_alive() for t in workers):
                    return predicate()
                left = deadline - time.monotonic()
                if left <= 0:
                    return predicate()
                self.cond.wait(min(left, 0.05))  # woken by the handler; looks at the workers too
            return True


def _dispatcher(handler, workers):
    import dispatcher
    before = set(threading.enumerate())
    d = dispatcher.Dispatcher(handler, workers=workers)
    started = [t for t in threading.enumerate() if t not in before]
    return d, started


def _start(d, recorder, call):
    """Call d.join() (or d.close()) in a thread of its own; its results go into the box."""
    box = {}

    def run():
        try:
            getattr(d, call)()
        except BaseException as exc:  # noqa: BLE001 - reported
            box["error"] = _error(exc)
        with recorder.cond:
            box["handled"] = len(recorder.handled)
            box["done"] = True
            recorder.cond.notify_all()

    threading.Thread(target=run, name=f"the test calling {call}()", daemon=True).start()
    return box


def _await(box, d, recorder, call, workers):
    """Wait until the call returns - or until it surely never will: every job is out of the
    queue and every live worker is back waiting in get() (then no task_done() and no STOP is
    coming), or every worker is dead. PATIENCE is the last resort.
    -> {returned, handled (when it returned), never (why it never will), error}"""
    never = None
    deadline = time.monotonic() + PATIENCE
    with recorder.cond:
        while not box.get("done"):
            never = _never(d, workers, call)
            left = deadline - time.monotonic()
            if never or left <= 0:
                break
            recorder.cond.wait(min(left, 0.05))  # looks at the workers again
    return {"returned": bool(box.get("done")), "never": never, "unfinished": _unfinished(d),
            **{k: v for k, v in box.items() if k != "done"}}


def _joined(d, recorder, call="join", workers=()):
    return _await(_start(d, recorder, call), d, recorder, call, workers)


def _waiting_in_get(q):
    """How many threads wait in q.get() on an empty queue (queue.Queue's own condition)."""
    cond = getattr(q, "not_empty", None)
    waiters = getattr(cond, "_waiters", None)
    return len(waiters) if waiters is not None else None


def _never(d, workers, call):
    """Why join()/close() can never return now, or None."""
    if not workers:
        return None
    alive = _alive(workers)
    q = getattr(d, "queue", None)
    unfinished = getattr(q, "unfinished_tasks", None)
    if alive == 0:
        return "dead" if (call == "join" and unfinished) else None
    waiting = _waiting_in_get(q) if isinstance(q, queue.Queue) else None
    if waiting is None or waiting < alive or q.qsize():
        return None
    # every live worker sleeps in get() on an empty queue: nothing will happen any more
    if call == "join" and unfinished:
        return "task_done"
    if call == "close":
        return "stop"
    return None


def _unfinished(d):
    q = getattr(d, "queue", None)
    return getattr(q, "unfinished_tasks", None)


def _alive(threads):
    return sum(t.is_alive() for t in threads)


def _reported(func):
    """A probe entry point: what the student's code raised in it comes back as {"raised": ...}
    (with the student's function named: Dispatcher(), submit(), ...)."""
    def entry(*args):
        try:
            return func(*args)
        except Exception as exc:  # noqa: BLE001 - reported to the test
            return {"raised": _error(exc)}
    entry.__name__ = func.__name__
    return entry


# -- what the checks call -------------------------------------------------------------------------

@_reported
def order(plan, kind):
    """One worker, held on a first job; meanwhile submit(job, priority) for every [name,
    priority] of plan; then the worker goes on. -> the order the jobs were handled in."""
    def make(name, i):
        return name if kind == "str" else {"id": name, "n": i}

    rec = Recorder(hold=["first"])
    d, workers = _dispatcher(rec, 1)
    d.submit(make("first", -1), priority=0)
    if not rec.wait(lambda: rec.inside == 1, workers):
        return {"error": None, "stage": "first", "handled": rec.handled}
    for i, (name, priority) in enumerate(plan):
        try:
            d.submit(make(name, i), priority=priority)
        except Exception as exc:  # noqa: BLE001
            rec.open()
            return {"error": _error(exc), "stage": "submit", "at": [name, priority],
                    "submitted": plan[:i]}
    rec.open()
    rec.wait(lambda: len(rec.handled) == len(plan) + 1, workers)
    joined = _joined(d, rec, workers=workers)
    names = [j if isinstance(j, str) else j["id"] for j in rec.handled]
    return {"error": None, "handled": names[1:], "joined": joined,
            "workers_alive": _alive(workers), "workers": len(workers)}


@_reported
def join_waits(workers, n):
    """`workers` workers, n jobs, every handler held at the gate; join() is called while they
    are held, then the gate opens. -> when join() returned, how many jobs were done."""
    rec = Recorder(hold=["*"])
    d, threads = _dispatcher(rec, workers)
    for i in range(n):
        d.submit(f"job {i + 1}", priority=i % 3)
    busy = rec.wait(lambda: rec.inside == workers, threads)
    box = _start(d, rec, "join")
    # while every worker is held, join() cannot be finished: it is already running when the
    # gate opens below, so one that returns too early is seen doing so
    with rec.cond:
        rec.cond.wait_for(lambda: box.get("done"), 0.2)
    rec.open()
    done = rec.wait(lambda: len(rec.handled) == n, threads)
    joined = _await(box, d, rec, "join", threads)
    return {"busy": busy, "most_inside": rec.most_inside, "done": done,
            "handled": len(rec.handled), "joined": joined, "unfinished": _unfinished(d),
            "workers_alive": _alive(threads), "workers": len(threads)}


@_reported
def parallel(workers):
    """`workers` jobs that each wait for all the others at a barrier (5 s at most)."""
    barrier = threading.Barrier(workers, timeout=5)
    met = []

    def handler(job):
        try:
            barrier.wait()
            met.append(True)
        except threading.BrokenBarrierError:
            met.append(False)

    rec = Recorder()

    def wrapped(job):
        handler(job)
        rec(job)

    d, threads = _dispatcher(wrapped, workers)
    for i in range(workers):
        d.submit(f"job {i + 1}", priority=0)
    rec.wait(lambda: len(rec.handled) == workers, threads)
    joined = _joined(d, rec, workers=threads)
    return {"met": met, "threads": len(rec.threads), "workers": len(threads),
            "joined": joined}


@_reported
def errors_case():
    """One worker; the second of three jobs raises ValueError in the handler."""
    rec = Recorder(fail=["boom"])
    d, threads = _dispatcher(rec, 1)
    for name in ("ok 1", "boom", "ok 2"):
        d.submit(name, priority=0)
    rec.wait(lambda: len(rec.handled) == 3, threads)
    joined = _joined(d, rec, workers=threads)
    errors = getattr(d, "errors", None)
    return {"handled": list(rec.handled), "joined": joined, "workers_alive": _alive(threads),
            "errors": [list(e) for e in errors] if isinstance(errors, list) else repr(errors),
            "unfinished": _unfinished(d)}


@_reported
def many(producers, per, workers, seed):
    """`producers` threads submit `per` jobs each at once, random priorities; every job must be
    handled exactly once."""
    rec = Recorder()
    d, threads = _dispatcher(rec, workers)
    failures = []

    def produce(p):
        rng = random.Random(seed * 10 + p)
        for i in range(per):
            try:
                d.submit(f"p{p}-{i}", priority=rng.randrange(5))
            except Exception as exc:  # noqa: BLE001
                failures.append(_error(exc))
                return

    ps = [threading.Thread(target=produce, args=(p,), name=f"producer {p}")
          for p in range(producers)]
    for t in ps:
        t.start()
    for t in ps:
        t.join(SETTLE)
    total = producers * per
    rec.wait(lambda: len(rec.handled) >= total, threads)
    joined = _joined(d, rec, workers=threads)
    counts = {}
    for job in rec.handled:
        counts[job] = counts.get(job, 0) + 1
    return {"failures": failures[:3], "total": total, "handled": len(rec.handled),
            "distinct": len(counts), "twice": sorted(k for k, v in counts.items() if v > 1)[:5],
            "joined": joined, "workers_alive": _alive(threads)}


@_reported
def close_case(workers, n):
    """n jobs, then close(): every job handled, every worker thread ended, close() returned."""
    rec = Recorder()
    d, threads = _dispatcher(rec, workers)
    for i in range(n):
        d.submit(f"job {i + 1}", priority=i % 2)
    closed = _joined(d, rec, "close", workers=threads)
    return {"closed": closed, "handled": len(rec.handled), "workers": len(threads),
            "workers_alive": _alive(threads)}


@_reported
def idle_case(workers, n):
    """n jobs handled and joined; the dispatcher is kept, idle, for the test to look at."""
    rec = Recorder()
    d, threads = _dispatcher(rec, workers)
    for i in range(n):
        d.submit(f"job {i + 1}", priority=0)
    rec.wait(lambda: len(rec.handled) == n, threads)
    joined = _joined(d, rec, workers=threads)
    _keep.append(d)
    return {"handled": len(rec.handled), "joined": joined, "workers": len(threads),
            "workers_alive": _alive(threads)}


@_reported
def undo_case(threads, per):
    """push a, b, c then undo() four times; then `threads` threads push `per` actions each at
    once, and everything is undone."""
    import dispatcher
    u = dispatcher.UndoStack()
    for a in ("a", "b", "c"):
        u.push(a)
    first = [u.undo() for _ in range(4)]
    u2 = dispatcher.UndoStack()

    def push(t):
        for i in range(per):
            u2.push([t, i])

    ts = [threading.Thread(target=push, args=(t,)) for t in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(SETTLE)
    undone = []
    while len(undone) <= threads * per:
        item = u2.undo()
        if item is None:
            break
        undone.append(item)
    return {"first": first, "undone": undone}
