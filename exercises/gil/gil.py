"""Threads for waiting, processes for computing: the GIL decides which is which.

Read README.md in this folder for the whole task, then `grader check gil`.

    io_map(job, items, workers)     threads    [job(x) for x in items], the waits overlapped
    io_total(job, items, workers)   threads    sum of job(x), added into one shared total
    cpu_map(job, items, workers)    processes  [job(x) for x in items], on several cores
    cpu_total(job, items, workers)  processes  sum of job(x)

`job` is a function of one argument (the checks pass their own: importable and picklable, so
it can go to a process pool as it is).
"""
import threading  # noqa: F401  (you will need a Lock)
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor  # noqa: F401


def io_map(job, items, workers=4):
    """[job(x) for x in items], run by a pool of `workers` threads; results in input order."""
    # TODO: the jobs wait for IO: threads. A ThreadPoolExecutor(max_workers=workers) and its
    #       map() (which keeps the order of the items and re-raises a job's exception).
    raise NotImplementedError("io_map() is not written yet")


def io_total(job, items, workers=4):
    """sum(job(x) for x in items): `workers` threads add each result into one shared total."""
    # TODO: a total shared by the threads, and a threading.Lock for changing it. Run job(x)
    #       *outside* the lock (that is the slow, waiting part), then add its value under it.
    raise NotImplementedError("io_total() is not written yet")


def cpu_map(job, items, workers=2):
    """[job(x) for x in items], run by a pool of `workers` processes; results in input order."""
    # TODO: the jobs compute: processes (each has its own GIL). A ProcessPoolExecutor.
    raise NotImplementedError("cpu_map() is not written yet")


def cpu_total(job, items, workers=2):
    """sum(job(x) for x in items), computed by a pool of `workers` processes."""
    # TODO: a global changed in a worker process is that process's own copy: add up the
    #       values the jobs return, here in the caller.
    raise NotImplementedError("cpu_total() is not written yet")
