"""A thread-safe job dispatcher on queue.PriorityQueue, and an undo stack on queue.LifoQueue.

Read README.md in this folder for the whole task, then `grader check priority_queue`.
"""
import itertools
import queue
import threading


class Dispatcher:
    def __init__(self, handler, workers: int = 2):
        """Start `workers` threads that take jobs from self.queue (a queue.PriorityQueue) and
        call handler(job) for each."""
        # TODO: self.handler, self.queue = queue.PriorityQueue(), a tie-break counter
        #       (itertools.count()), self.errors = [], then start the worker threads.
        raise NotImplementedError("Dispatcher() is not written yet")

    def submit(self, job, priority: int = 0) -> None:
        """Queue a job: a lower priority number first, equal priorities in FIFO order."""
        # TODO: put (priority, tie-break number, job) - never (priority, job): see README.md
        raise NotImplementedError("submit() is not written yet")

    def join(self) -> None:
        """Wait until every job submitted so far has been handled."""
        raise NotImplementedError("join() is not written yet")

    def close(self) -> None:
        """Handle what is queued, then stop every worker and wait for their threads."""
        raise NotImplementedError("close() is not written yet")


class UndoStack:
    """Actions to undo: the last one pushed is the first one undone (LIFO)."""

    def __init__(self):
        raise NotImplementedError("UndoStack() is not written yet")

    def push(self, action) -> None:
        raise NotImplementedError("push() is not written yet")

    def undo(self):
        """The most recent action not yet undone, or None when there is none."""
        raise NotImplementedError("undo() is not written yet")
