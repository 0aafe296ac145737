"""Pools: a thread pool for IO-bound work, a process pool for CPU-bound work.

    fetch_all(fetch, urls, workers)   -> {url: {"ok": page} or {"error": "Type: message"}}
    crunch_all(func, numbers, workers) -> [func(n) for n in numbers], computed in processes

Read README.md in this folder for the whole task, then `grader check pools`.
"""
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor


def describe(exc: BaseException) -> str:
    """'LookupError: no such page: /a' - the exception's type name, a colon, its message."""
    return f"{type(exc).__name__}: {exc}"


def fetch_all(fetch, urls, workers):
    """Run fetch(url) for every url in a pool of `workers` threads (at most `workers` at
    once), collect each outcome through a done callback, and return them by url."""
    results = {}
    lock = threading.Lock()

    def collector(url):
        def done(future):  # a done callback receives the Future, not the returned value
            exc = future.exception()
            if exc is not None:
                outcome = {"error": describe(exc)}
            else:
                outcome = {"ok": future.result()}
            with lock:
                results[url] = outcome
        return done

    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        for url in urls:
            future = pool.submit(fetch, url)
            future.add_done_callback(collector(url))
    finally:
        pool.shutdown(wait=True)  # every task done, every callback run, every thread joined
    return results


def crunch_all(func, numbers, workers):
    """[func(n) for n in numbers], in that order, computed by `workers` processes at once."""
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(func, numbers))
