"""Threads for waiting, processes for computing: the GIL decides which is which.

Read README.md in this folder for the whole task, then `grader check gil`.

    io_map(job, items, workers)     threads    [job(x) for x in items], the waits overlapped
    io_total(job, items, workers)   threads    sum of job(x), added into one shared total
    cpu_map(job, items, workers)    processes  [job(x) for x in items], on several cores
    cpu_total(job, items, workers)  processes  sum of job(x)
"""
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor


def io_map(job, items, workers=4):
    """[job(x) for x in items], run by a pool of `workers` threads; results in input order.

    IO-bound: a thread waiting for the network or the disk releases the GIL, so the other
    threads wait at the same time."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(job, items))


def io_total(job, items, workers=4):
    """sum(job(x) for x in items): `workers` threads add each result into one shared total.

    Threads share the process's memory, so they can share one total - and must take turns to
    change it: `total += job(x)` reads the total *before* job(x) runs and writes it back after,
    so every other thread's update made meanwhile is lost. The GIL does not prevent that."""
    total = 0
    lock = threading.Lock()

    def work(x):
        nonlocal total
        value = job(x)              # the slow part (IO), outside the lock: threads overlap here
        with lock:                  # read-modify-write of the shared total: one thread at a time
            total += value

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(work, items))  # list(): waits for every job and re-raises its exception
    return total


def cpu_map(job, items, workers=2):
    """[job(x) for x in items], run by a pool of `workers` processes; results in input order.

    CPU-bound: threads would take turns holding one GIL; every process has its own
    interpreter and its own GIL, so the jobs really run at the same time, on several cores."""
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(job, items))


def cpu_total(job, items, workers=2):
    """sum(job(x) for x in items), computed by a pool of `workers` processes.

    Each process has its own copy of every global: a total that a worker changes is that
    worker's copy. The results come back to this process as return values - add them here."""
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return sum(pool.map(job, items))
