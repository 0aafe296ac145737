"""Pools: a thread pool for IO-bound work, a process pool for CPU-bound work.

    fetch_all(fetch, urls, workers)    -> {url: {"ok": page} or {"error": "Type: message"}}
    crunch_all(func, numbers, workers) -> [func(n) for n in numbers], computed in processes

Read README.md in this folder for the whole task, then `grader check pools`.
"""
import threading  # noqa: F401  (a lock for the dict your callbacks fill)
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor  # noqa: F401


def describe(exc: BaseException) -> str:
    """'LookupError: no such page: /a' - the exception's type name, a colon, its message."""
    return f"{type(exc).__name__}: {exc}"


def fetch_all(fetch, urls, workers):
    """Run fetch(url) for every url in a pool of `workers` threads (at most `workers` at
    once), collect each outcome through a done callback, and return them by url:
    {url: {"ok": what fetch returned}} or {url: {"error": describe(exception)}}."""
    # TODO: pool = ThreadPoolExecutor(max_workers=workers); submit every url first,
    #       future.add_done_callback(...) on each - the callback is called with the Future.
    # TODO: shut the pool down (waits for every task and callback), then return the dict.
    raise NotImplementedError("fetch_all() is not written yet")


def crunch_all(func, numbers, workers):
    """[func(n) for n in numbers], in that order, computed by `workers` processes at once."""
    # TODO: a ProcessPoolExecutor(max_workers=workers) in a with block, and its map().
    raise NotImplementedError("crunch_all() is not written yet")
