"""pools: the graded suite.

pools.py is loaded through the call driver; the work it runs is the test's own (jobs.py,
installed into the working copy): a stand-in for a download (`jobs.fetch`) and a pure-Python
computation (`jobs.crunch`), both reporting to the check's rendezvous service. So the check
sees *how* the pool ran them, beside the results it computes itself:

- at once: every job waits at a barrier of `workers` parties. Only a pool that really runs
  `workers` jobs together gets through; one that waits for each result before submitting the
  next never does. The barrier gives up after PATIENCE seconds, once (later jobs do not wait
  again), so a serial submission fails in seconds, on an event.
- bounded: every job says how many are inside now (the service's gauge) and how many threads
  its process has; neither may exceed `workers`.
- processes: every computation reports its pid: a process pool shows `workers` pids, threads
  show one.
- order: the computations are held at gates the test opens last-first, so they finish in
  reverse order on every run; map() still returns them in the order given.
- shut down: after the call, /proc shows the pool's threads and processes gone (a never
  shut down pool keeps them for ever).
"""
from __future__ import annotations

import hashlib

from grader.harness import CheckFailed, StudentRaised, StudentTimeout, check, say, show
from grader.harness.procs_view import all_children, settle

PATIENCE = 4  # seconds a job waits at a barrier for the other workers (a serial pool: never)

JOBS = '''
"""The test's jobs (installed by the check, not yours): stand-ins for a download and for a
computation that report to the check's rendezvous service, so the check sees how your pool
ran them."""
import hashlib
import threading

import netlab_rv

PARTIES = {parties}
PATIENCE = {patience}
HOLD = {hold}


def page(url):
    return "page " + hashlib.sha256(url.encode()).hexdigest()[:16]


def _meet(name):
    # Wait until PARTIES workers are here: only a pool running them at once gets through.
    # After one miss nobody waits again: the check has seen it.
    if PARTIES > 1 and netlab_rv.add("missed", 0) == 0:
        if not netlab_rv.barrier(name, PARTIES, timeout=PATIENCE):
            netlab_rv.add("missed")


def fetch(url):
    with netlab_rv.inside("work"):
        netlab_rv.log("fetch", url=url, threads=threading.active_count())
        _meet("fetch")
        if "missing" in url:
            raise LookupError("no such page: " + url)
        if "refused" in url:
            raise ConnectionRefusedError(111, "Connection refused")
        if "broken" in url:
            raise ValueError("invalid literal for int() with base 10: 'oops'")
        if HOLD:
            netlab_rv.wait_gate("go", timeout=60)
    return page(url)


def crunch(n):
    with netlab_rv.inside("cpu"):
        _meet("cpu")
        if HOLD:
            netlab_rv.wait_gate("finish-%d" % n, timeout=60)
        total = sum(i * i % 7 for i in range(n))
        netlab_rv.log("crunched", n=n)
    return total
'''


def page(url: str) -> str:
    return "page " + hashlib.sha256(url.encode()).hexdigest()[:16]


def crunched(n: int) -> int:
    return sum(i * i % 7 for i in range(n))


HINT_RESULT = say(
    "a done callback is called with the Future, not with the value (the course note has this "
    "wrong): inside it, future.result() is the value",
    "回调函数收到的参数是 Future 对象，而不是任务的返回值（课程笔记在这一点上写错了）：在回调里用 "
    "future.result() 取得返回值")
HINT_AT_ONCE = say(
    "submit every url first and let the callbacks collect the results: future.result() right "
    "after submit() waits for that task to end, and the pool runs one task at a time",
    "先把所有 url 都 submit 出去，再让回调函数收集结果：submit() 之后紧接着调用 future.result()，会等"
    "这个任务结束才提交下一个，线程池就变成一次只跑一个任务了")
HINT_BOUND = say(
    "ThreadPoolExecutor(max_workers=workers): the pool then never runs more than `workers` "
    "tasks nor starts more threads; ThreadPoolExecutor() picks min(32, CPU count + 4) itself",
    "ThreadPoolExecutor(max_workers=workers)：这样线程池同时运行的任务、启动的线程都不会超过 workers "
    "个；ThreadPoolExecutor() 不写参数时会自己取 min(32, CPU 个数 + 4)")
HINT_ERRORS = say(
    "a task's exception is kept in its Future: in the callback, future.exception() is it (or "
    "None); record {'error': f'{type(exc).__name__}: {exc}'} for that url. An exception raised "
    "inside a callback is only logged and ignored: the url is then simply missing",
    "任务抛出的异常保存在它的 Future 里：在回调里 future.exception() 就是它（没有异常时为 None）；为这个 "
    "url 记下 {'error': f'{type(exc).__name__}: {exc}'}。回调函数里抛出的异常只会被记进日志然后忽略："
    "这个 url 的结果就这样悄悄丢了")
HINT_SHUTDOWN = say(
    "shut the pool down when the work is done: pool.shutdown(wait=True), or a with block, "
    "waits for every task and callback and ends the pool's threads; a pool never shut down "
    "keeps them for ever, one more set every call",
    "活干完了就关闭线程池：pool.shutdown(wait=True)（或者用 with 语句）会等所有任务和回调结束，并让池里"
    "的线程退出；从不关闭的池会一直留着这些线程，每调用一次就多一批")
HINT_WAIT = say(
    "return the dict only once every task and callback is done: after pool.shutdown(wait=True) "
    "(or at the end of a with block). A callback runs when its task ends - maybe after your "
    "function has already returned its dict",
    "要等所有任务和回调都结束了再返回字典：放在 pool.shutdown(wait=True) 之后（或者 with 语句块结束之后）。"
    "回调函数在任务结束时才被调用——那时你的函数可能早已把字典返回了")
HINT_PROCESSES = say(
    "CPU-bound Python in threads runs one thread at a time (the GIL): use "
    "ProcessPoolExecutor(max_workers=workers) so the work runs in `workers` processes at once",
    "在线程里跑 CPU 密集的 Python 代码，受全局解释器锁（GIL）限制，同一时刻只有一个线程在执行：用 "
    "ProcessPoolExecutor(max_workers=workers)，让 workers 个进程同时计算")
HINT_ORDER = say(
    "pool.map(func, numbers) returns the results in the order of numbers, whichever finishes "
    "first; as_completed() gives them in the order they finish",
    "pool.map(func, numbers) 按 numbers 的顺序返回结果，不管谁先算完；as_completed() 给出的是完成的"
    "先后顺序")
HINT_PROCESS_SHUTDOWN = say(
    "use the process pool in a with block (or call pool.shutdown(wait=True)): its worker "
    "processes then exit and are reaped; otherwise they stay behind after your function "
    "returns",
    "把进程池放在 with 语句里用（或者调用 pool.shutdown(wait=True)）：池里的工作进程才会退出并被回收；"
    "否则函数返回之后，它们还一直留在那里")


def count(n: int, unit: str):
    """'1 thread' / '4 threads' (and '4 个线程'): plurals right."""
    one, many = {
        "thread": (say("{n} thread", "{n} 个线程", n=n), say("{n} threads", "{n} 个线程", n=n)),
        "process": (say("{n} process", "{n} 个进程", n=n),
                    say("{n} processes", "{n} 个进程", n=n)),
        "child": (say("{n} child process", "{n} 个子进程", n=n),
                  say("{n} child processes", "{n} 个子进程", n=n)),
        "worker": (say("{n} worker process", "{n} 个工作进程", n=n),
                   say("{n} worker processes", "{n} 个工作进程", n=n)),
        "time": (say("{n} time", "{n} 次", n=n), say("{n} times", "{n} 次", n=n)),
    }[unit]
    return one if n == 1 else many


def urls(*names: str) -> list[str]:
    return [f"http://pages.test/{name}" for name in names]


def setup(student, *, parties: int = 1, hold: bool = False):
    rv = student.rendezvous()
    rv.install("jobs.py", JOBS.format(parties=parties, patience=PATIENCE, hold=hold))
    return rv, student.module("pools", timeout=15)


def value_of(pending, call: str, *, hint, timeout: float = 15.0):
    """What the call returned, or the feedback a student needs when it raised or hung."""
    try:
        return pending.result(timeout)
    except StudentRaised as exc:
        raise CheckFailed(exc.summary(call), detail=exc.where(), hint=hint) from None
    except StudentTimeout as exc:
        raise CheckFailed(str(exc), hint=hint) from None


def call(mod, func: str, *args, hint, text: str | None = None, timeout: float = 15.0):
    text = text or f"{func}({', '.join(map(repr, args))})"
    return value_of(mod.start(func, *args), text, hint=hint, timeout=timeout)


def is_future(value) -> bool:
    return isinstance(value, dict) and value.get("$type") == "Future"


def stderr_lines(mod, limit: int = 6000) -> str | None:
    """What concurrent.futures logged about callbacks that raised (their errors are written to
    stderr and otherwise ignored), in one line each; None when it logged nothing."""
    lines = mod.proc.stderr_tail(limit).splitlines()
    raised = []
    for i, line in enumerate(lines):
        if line.startswith("exception calling callback for"):
            error = next((l for l in lines[i + 1:] if l and not l[0].isspace()
                          and not l.startswith(("Traceback", "exception calling", "During",
                                                "The above"))), "?")
            raised.append(error)
    if not raised:
        return None
    return str(say("your callback raised {error} ({times}); concurrent.futures wrote "
                   "'exception calling callback for <Future ...>' to stderr and went on as if "
                   "nothing had happened",
                   "你的回调函数抛出了 {error}（{times}）；concurrent.futures 只在 stderr 上写了一句 "
                   "'exception calling callback for <Future ...>'，然后就当什么都没发生，继续往下运行",
                   error=raised[-1], times=count(len(raised), "time")))


def expect_outcomes(mod, got, expected: dict, call: str, hint):
    """Compare fetch_all's dict with the expected outcomes, url by url."""
    if not isinstance(got, dict):
        raise CheckFailed(say("{call} should return a dict {{url: outcome}}",
                              "{call} 应当返回一个字典 {{url: 结果}}", call=call),
                          expected=expected, got=got, has_got=True, hint=hint)
    futures = [u for u, v in got.items() if isinstance(v, dict) and is_future(v.get("ok"))]
    if futures:
        raise CheckFailed(
            say("{call}: the outcome of {url} holds a Future object, not the page",
                "{call}：{url} 的结果里装的是一个 Future 对象，而不是网页内容", call=call,
                url=futures[0]),
            expected={futures[0]: expected[futures[0]]}, got={futures[0]: got[futures[0]]},
            detail=say("the callback stored its argument as if it were fetch()'s return value",
                       "回调函数把它收到的参数当成了 fetch() 的返回值存了起来"),
            hint=HINT_RESULT)
    missing = [u for u in expected if u not in got]
    if missing:
        raised = stderr_lines(mod)
        raise CheckFailed(
            say("{call}: no outcome for {n} of the {total} urls, e.g. {url}",
                "{call}：{total} 个 url 中有 {n} 个没有结果，例如 {url}", call=call,
                n=len(missing), total=len(expected), url=missing[0]),
            expected={missing[0]: expected[missing[0]]}, got=sorted(got), has_got=True,
            detail=raised, hint=HINT_ERRORS if raised else HINT_WAIT)
    for url, want in expected.items():
        if got[url] != want:
            raise CheckFailed(say("{call}: the outcome of {url}", "{call}：{url} 的结果",
                                  call=call, url=url),
                              expected=want, got=got[url], has_got=True,
                              detail=stderr_lines(mod), hint=hint)
    extra = [u for u in got if u not in expected]
    if extra:
        raise CheckFailed(say("{call}: an outcome for a url that was not asked for: {url}",
                              "{call}：出现了一个没有请求过的 url 的结果：{url}", call=call,
                              url=extra[0]), hint=hint)


def at_once_failure(rv, name: str, tag: str, workers: int, call: str, hint):
    most = rv.max_inside(tag)
    return CheckFailed(
        say("{call}: {workers} jobs never ran together - at most {most} did at the same time",
            "{call}：从来没有 {workers} 个任务同时运行——同一时刻最多只有 {most} 个在运行",
            call=call, workers=workers, most=most),
        expected=say("{workers} jobs running together (each waited up to {t} s for the others)",
                     "{workers} 个任务同时运行（每个任务最多等其他任务 {t} 秒）", workers=workers,
                     t=PATIENCE),
        got=say("at most {most} at once", "同一时刻最多 {most} 个", most=most), hint=hint)


# -- fetch_all: a thread pool for IO-bound work -----------------------------------------------

@check(points=2, hint=HINT_RESULT,
       title=say("fetch_all returns every url's page, collected by done callbacks",
                 "fetch_all 通过回调函数收集并返回每个 url 的网页"))
def test_fetch_all_results(student):
    rv, mod = setup(student)
    pages = urls("index.html", "news", "about", "a/b/c", "?q=1", "中文")
    text = "fetch_all(jobs.fetch, [6 urls], 3)"
    got = call(mod, "fetch_all", student.callable("jobs:fetch"), pages, 3, hint=HINT_RESULT,
               text=text)
    expect_outcomes(mod, got, {u: {"ok": page(u)} for u in pages}, text, HINT_RESULT)
    fetched = sorted(e["data"]["url"] for e in rv.log_of("fetch"))
    if fetched != sorted(pages):
        raise CheckFailed(say("{call}: each url should be fetched exactly once",
                              "{call}：每个 url 应当恰好获取一次", call=text),
                          expected=sorted(pages), got=fetched, hint=HINT_RESULT)


@check(points=2, hint=HINT_AT_ONCE,
       title=say("fetch_all runs `workers` downloads at once", "fetch_all 同时进行 workers 个下载"))
def test_fetch_all_runs_at_once(student):
    workers = 4
    rv, mod = setup(student, parties=workers)
    pages = urls(*(f"p{i}" for i in range(workers)))
    text = f"fetch_all(jobs.fetch, [{workers} urls], {workers})"
    got = call(mod, "fetch_all", student.callable("jobs:fetch"), pages, workers,
               hint=HINT_AT_ONCE, text=text)
    if rv.counters["missed"]:
        raise at_once_failure(rv, "fetch", "work", workers, text, HINT_AT_ONCE)
    expect_outcomes(mod, got, {u: {"ok": page(u)} for u in pages}, text, HINT_RESULT)
    if len(rv.pids("work")) != 1:
        raise CheckFailed(say("{call}: downloads are IO-bound work for threads of your own "
                              "process, but they ran in {n} processes",
                              "{call}：下载是 IO 密集型的工作，应当交给本进程的线程去做，它们却在 {n} 个进程里运行",
                              call=text, n=len(rv.pids("work"))),
                          hint=say("use ThreadPoolExecutor for fetch_all: threads are cheap and "
                                   "wait for IO together",
                                   "fetch_all 要用 ThreadPoolExecutor：线程开销小，可以一起等待 IO"))


@check(points=2, hint=HINT_BOUND,
       title=say("fetch_all never runs more than `workers` downloads or threads",
                 "fetch_all 同时运行的下载和线程都不超过 workers 个"))
def test_fetch_all_stays_bounded(student):
    workers = 3
    rv, mod = setup(student, parties=workers)
    pages = urls(*(f"item/{i}" for i in range(12)))
    text = f"fetch_all(jobs.fetch, [12 urls], {workers})"
    got = call(mod, "fetch_all", student.callable("jobs:fetch"), pages, workers, hint=HINT_BOUND,
               text=text)
    if rv.counters["missed"]:
        raise at_once_failure(rv, "fetch", "work", workers, text, HINT_AT_ONCE)
    most = rv.max_inside("work")
    threads = max((e["data"]["threads"] - 1 for e in rv.log_of("fetch")), default=0)
    if most > workers or threads > workers:
        raise CheckFailed(
            say("{call}: the pool went past its bound of {workers}",
                "{call}：线程池超过了 workers = {workers} 的上限", call=text, workers=workers),
            expected=say("at most {workers} downloads at once, in at most {workers} threads",
                         "同时最多 {workers} 个下载，最多 {workers} 个线程", workers=workers),
            got=say("{most} downloads at once, in {threads} threads besides the main one",
                    "同时 {most} 个下载，除主线程外还有 {threads} 个线程", most=most,
                    threads=threads),
            hint=HINT_BOUND)
    expect_outcomes(mod, got, {u: {"ok": page(u)} for u in pages}, text, HINT_RESULT)


@check(points=2, hint=HINT_ERRORS,
       title=say("fetch_all reports each failed download as an error, the others as pages",
                 "fetch_all 把每个失败的下载报告为错误，其余的照常返回网页"))
def test_fetch_all_errors_per_item(student):
    rv, mod = setup(student)
    good = urls("ok/1", "ok/2", "ok/3")
    bad = {
        "http://pages.test/missing/1": "LookupError: no such page: http://pages.test/missing/1",
        "http://refused.test/": "ConnectionRefusedError: [Errno 111] Connection refused",
        "http://pages.test/broken": "ValueError: invalid literal for int() with base 10: 'oops'",
    }
    order = [good[0], *list(bad)[:2], good[1], list(bad)[2], good[2]]
    text = "fetch_all(jobs.fetch, [6 urls, 3 of them failing], 2)"
    got = call(mod, "fetch_all", student.callable("jobs:fetch"), order, 2, hint=HINT_ERRORS, text=text)
    expected = {u: ({"error": bad[u]} if u in bad else {"ok": page(u)}) for u in order}
    expect_outcomes(mod, got, expected, text, HINT_ERRORS)


@check(points=1, hidden=True, hint=HINT_SHUTDOWN,
       title=say("fetch_all waits for every download, then leaves no thread behind",
                 "fetch_all 等所有下载完成才返回，之后不留下任何线程"))
def test_fetch_all_shuts_down(student):
    workers = 4
    rv, mod = setup(student, hold=True)
    pages = urls(*(f"held/{i}" for i in range(workers)))
    text = f"fetch_all(jobs.fetch, [{workers} urls], {workers})"
    pending = mod.start("fetch_all", student.callable("jobs:fetch"), pages, workers)
    # every download is held at a gate until the test opens it: a function that returns now
    # has not waited for them
    # (one that runs them one at a time never has them all inside: the gate opens anyway)
    rv.wait_for(lambda r: r.now_inside("work") == workers or pending.done(), timeout=PATIENCE)
    if pending.done():
        got = value_of(pending, text, hint=HINT_SHUTDOWN, timeout=1)
        running = rv.now_inside("work")
        raise CheckFailed(
            say("{call} returned while {n} of its {workers} downloads were still running",
                "{call} 在 {workers} 个下载中还有 {n} 个正在进行时就返回了", call=text,
                n=running, workers=workers),
            expected=say("the outcomes of all {workers} urls, once every download has ended",
                         "等所有下载结束之后，返回全部 {workers} 个 url 的结果", workers=workers),
            got=got, has_got=True, hint=HINT_SHUTDOWN)
    rv.open_gate("go")
    got = value_of(pending, text, hint=HINT_SHUTDOWN)
    expect_outcomes(mod, got, {u: {"ok": page(u)} for u in pages}, text, HINT_RESULT)
    left = settle(mod.proc.threads, at_most=1, alive=mod.proc.alive) - 1
    if left > 0:
        raise CheckFailed(
            say("after {call} returned, your process still had {left} besides the main one",
                "{call} 返回之后，你的进程除了主线程还留着 {left}", call=text,
                left=count(left, "thread")),
            expected=say("only the main thread", "只剩主线程"),
            got=say("{left} more, idle for ever", "多出 {left}，永远闲着",
                    left=count(left, "thread")),
            hint=HINT_SHUTDOWN)


# -- crunch_all: a process pool for CPU-bound work ---------------------------------------------

@check(points=2, hint=HINT_PROCESSES,
       title=say("crunch_all computes in `workers` processes at once",
                 "crunch_all 在 workers 个进程里同时计算"))
def test_crunch_all_in_processes(student):
    workers = 4
    rv, mod = setup(student, parties=workers)
    numbers = [20_000, 30_011, 25_000, 12_345]
    text = f"crunch_all(jobs.crunch, {numbers}, {workers})"
    got = call(mod, "crunch_all", student.callable("jobs:crunch"), numbers, workers,
               hint=HINT_PROCESSES, text=text)
    if rv.counters["missed"]:
        raise at_once_failure(rv, "cpu", "cpu", workers, text, HINT_PROCESSES)
    want = [crunched(n) for n in numbers]
    if got != want:
        raise CheckFailed(say("what {call} returned", "{call} 的返回值", call=text),
                          expected=want, got=got, has_got=True, hint=HINT_ORDER)
    pids = rv.pids("cpu")
    if len(pids) != workers:
        raise CheckFailed(
            say("{call}: the computations ran in {n}", "{call}：这些计算只在 {n}里运行", call=text,
                n=count(len(pids), "process")),
            expected=say("{workers} worker processes, one computation each",
                         "{workers} 个工作进程，每个进程一项计算", workers=workers),
            got=say("{n}: threads of one process take turns holding the GIL",
                    "{n}：同一个进程里的线程只能轮流持有全局解释器锁（GIL）",
                    n=count(len(pids), "process")),
            hint=HINT_PROCESSES)


@check(points=2, hidden=True, hint=HINT_ORDER,
       title=say("crunch_all returns results in the order of the numbers, not of finishing",
                 "crunch_all 按 numbers 的顺序返回结果，而不是按完成的先后"))
def test_crunch_all_keeps_order(student):
    workers = 4
    rv, mod = setup(student, hold=True)
    numbers = [1_001, 2_002, 3_003, 4_004]
    text = f"crunch_all(jobs.crunch, {numbers}, {workers})"
    pending = mod.start("crunch_all", student.callable("jobs:crunch"), numbers, workers)
    if not rv.wait_for(lambda r: r.now_inside("cpu") == workers or pending.done(), timeout=20):
        value_of(pending, text, hint=HINT_PROCESSES, timeout=0.5)  # a hang: its stacks
    if pending.done():
        value_of(pending, text, hint=HINT_PROCESSES, timeout=1)
        raise CheckFailed(say("{call} returned before its computations could finish",
                              "{call} 在计算完成之前就返回了", call=text), hint=HINT_ORDER)
    for n in reversed(numbers):  # the last number finishes first, the first one last
        rv.open_gate(f"finish-{n}")
        if not rv.wait_for(lambda r: any(e["data"]["n"] == n for e in r.log_of("crunched")),
                           timeout=20):
            raise CheckFailed(say("{call}: the computation of {n} did not finish",
                                  "{call}：{n} 的计算没有完成", call=text, n=n),
                              hint=HINT_PROCESSES, text=text)
    finished = [e["data"]["n"] for e in rv.log_of("crunched")]
    got = value_of(pending, text, hint=HINT_ORDER)
    want = [crunched(n) for n in numbers]
    if got != want:
        raise CheckFailed(say("what {call} returned (the computations finished in the order "
                              "{finished})", "{call} 的返回值（这些计算完成的先后顺序是 {finished}）",
                              call=text, finished=show(finished)),
                          expected=want, got=got, has_got=True, hint=HINT_ORDER)


@check(points=1, hidden=True, hint=HINT_PROCESS_SHUTDOWN,
       title=say("crunch_all shuts its pool down: no worker process is left after it returns",
                 "crunch_all 会关闭进程池：返回之后不留下任何工作进程"))
def test_crunch_all_shuts_down(student):
    workers = 3
    rv, mod = setup(student)
    numbers = [5_000, 6_000, 7_000, 8_000, 9_000]
    text = f"crunch_all(jobs.crunch, {numbers}, {workers})"
    got = call(mod, "crunch_all", student.callable("jobs:crunch"), numbers, workers,
               hint=HINT_PROCESS_SHUTDOWN, text=text)
    want = [crunched(n) for n in numbers]
    if got != want:
        raise CheckFailed(say("what {call} returned", "{call} 的返回值", call=text),
                          expected=want, got=got, has_got=True, hint=HINT_ORDER)
    pid = mod.proc.pid
    left = settle(lambda: len(all_children(pid)), at_most=0, alive=mod.proc.alive)
    if left:
        raise CheckFailed(
            say("after {call} returned, your process still had {left}",
                "{call} 返回之后，你的进程还留着 {left}", call=text,
                left=count(left, "child")),
            expected=say("no child process: the pool's workers exited and were reaped",
                         "没有子进程：池里的工作进程都已退出并被回收"),
            got=say("{left} still there", "还有 {left}",
                    left=count(left, "worker")),
            hint=HINT_PROCESS_SHUTDOWN)
    threads = settle(mod.proc.threads, at_most=1, alive=mod.proc.alive) - 1
    if threads > 0:
        raise CheckFailed(
            say("after {call} returned, your process still had {n} besides the main one (the "
                "pool's manager and queue threads)",
                "{call} 返回之后，你的进程除了主线程还留着 {n}（进程池的管理线程和队列线程）",
                call=text, n=count(threads, "thread")),
            hint=HINT_PROCESS_SHUTDOWN)
