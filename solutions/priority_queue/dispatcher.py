"""A thread-safe job dispatcher on queue.PriorityQueue, and an undo stack on queue.LifoQueue.

The queue module's classes hold their own lock: put() and get() from any number of threads
never corrupt them, get() sleeps while the queue is empty (no polling), and a Queue counts the
items put that are not yet done: task_done() says one is, join() waits until none is left.

A PriorityQueue hands out its smallest item first. Its items are compared as tuples, element
by element: (priority, job) compares the jobs themselves when two priorities are equal - which
raises TypeError for jobs that cannot be ordered (dicts) and, for jobs that can (strings), hands
them out in the jobs' order instead of the order they came in. A counter between the two makes
every tuple unique before the job is ever looked at: (priority, n, job).
"""
import itertools
import queue
import threading

STOP = object()              # what close() puts in the queue: one per worker
LAST = float("inf")          # its priority: after every real job


class Dispatcher:
    def __init__(self, handler, workers: int = 2):
        self.handler = handler
        self.queue = queue.PriorityQueue()
        self._order = itertools.count()      # the tie-break: equal priorities keep FIFO order
        self.errors = []                     # (job, "ExceptionType: message") per failed job
        self._errors_lock = threading.Lock()
        self.threads = [threading.Thread(target=self._work, name=f"worker-{i}", daemon=True)
                        for i in range(workers)]
        for thread in self.threads:
            thread.start()

    def submit(self, job, priority: int = 0) -> None:
        """Queue a job; a lower priority number is handled first, equal ones in FIFO order."""
        self.queue.put((priority, next(self._order), job))

    def join(self) -> None:
        """Wait until every job submitted so far has been handled."""
        self.queue.join()

    def close(self) -> None:
        """Handle what is queued, then stop every worker and wait for their threads."""
        for _ in self.threads:
            self.queue.put((LAST, next(self._order), STOP))
        for thread in self.threads:
            thread.join()

    def _work(self) -> None:
        while True:
            item = self.queue.get()       # (priority, n, job); sleeps while the queue is empty
            job = item[-1]
            try:
                if job is STOP:
                    return
                self.handler(job)
            except Exception as exc:  # one bad job must not kill the worker
                with self._errors_lock:
                    self.errors.append((job, f"{type(exc).__name__}: {exc}"))
            finally:
                self.queue.task_done()              # every get() is matched, whatever happened


class UndoStack:
    """Actions to undo: the last one pushed is the first one undone (LIFO)."""

    def __init__(self):
        self._stack = queue.LifoQueue()

    def push(self, action) -> None:
        self._stack.put(action)

    def undo(self):
        """The most recent action not yet undone, or None when there is none."""
        try:
            return self._stack.get_nowait()
        except queue.Empty:
            return None
