"""gil: the graded suite. gil.py is loaded by the call driver (one student process); the jobs
it runs are the test's own (`gil_jobs.py`, installed in the working copy) and report to this
check's rendezvous service (grader/harness/rendezvous.py), so the suite sees *how* the work ran.

Concurrency is proved by observation, never by elapsed time:
  - IO-bound jobs wait at a barrier of `workers` parties: it is reached only if that many jobs
    were waiting at once (a serial loop, or a lock held across the wait, never reaches it; the
    barrier then gives up after a few seconds and the remaining jobs skip it, so a failing
    submission costs one barrier timeout, not one per job).
  - The threads and processes that ran jobs are recorded (pid, native thread id): threads must
    all be in the caller's process, processes must not be.
  - Parallel CPU work is shown by the GIL itself. Each of the first `workers` CPU jobs raises its
    interpreter's switch interval to 1000 s - so a thread keeps the GIL until it blocks - meets
    the others at a barrier, marks its own byte in a shared memory map and then spins, in pure
    bytecode that never releases the GIL, until every job's byte is marked. Processes (one GIL
    each) all spin at once and see every mark; threads of one process cannot: the first one to
    take the GIL spins alone and the others never run a single bytecode. The spin gives up
    after a few seconds and tells the others to give up too.
  - A lost update is made, not hoped for: the first `workers` IO jobs of io_total all wait at
    the barrier *before* they return, so `total += job(x)` (which reads the total before
    job(x) runs) has every one of them read the same old total.
"""
from __future__ import annotations

import os
import textwrap

from grader.harness import Callable, CheckFailed, StudentRaised, StudentTimeout, check, say

PATIENCE = 5.0      # seconds a barrier or the GIL spin waits before it gives up
CALL_TIMEOUT = 40.0  # a call that ends on events alone; a failing one ends after ~PATIENCE
LIMIT = 60           # a check's own wall-clock limit (never reached by a correct solution)

JOBS = '''
"""The test's jobs for gil.py (installed by the check; do not edit: it is rewritten each run)."""
import mmap
import os
import sys
import time

import netlab_rv

PARTIES = {parties}      # jobs that must be waiting (or computing) at the same time
PATIENCE = {patience}    # seconds before a barrier or the spin gives up
SLOTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gil_slots.bin")


def value(x):
    return x * x + 1


def meet(name):
    """Wait at barrier `name` with PARTIES-1 other jobs. Once it timed out for one job (a serial
    run never fills it), the later jobs skip it: a failing run costs one timeout."""
    if netlab_rv.add(name + "-gave-up", 0):
        return False
    ok = netlab_rv.barrier(name, PARTIES, timeout=PATIENCE)
    if not ok:
        netlab_rv.add(name + "-gave-up")
    return ok


def fetch(x):
    """An IO-bound job: it waits for the network (here: for the other fetches), then answers."""
    with netlab_rv.inside("io"):
        meet("io")
    return value(x)


def square(x):
    """A job that answers at once (for the order of results)."""
    netlab_rv.log("job", x=x)
    return value(x)


def fail_on_3(x):
    if x == 3:
        raise ValueError("job 3 failed")
    return value(x)


def crunch(x):
    """A CPU-bound job. The first PARTIES of them prove they run at the same time (see spin)."""
    rank = netlab_rv.add("cpu-rank")
    with netlab_rv.inside("cpu"):
        if rank <= PARTIES:
            spin(rank - 1)
        n = 0
        for i in range(20000):      # the computing itself
            n = (n * 31 + i * x) % 1000003
    return n


def spin(slot):
    """Mark our byte of the shared map, then spin without ever releasing the GIL until every
    one of the PARTIES bytes is marked (byte PARTIES marked means: somebody gave up)."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1000.0)   # from now on a thread keeps the GIL until it blocks
    try:
        if not meet("cpu"):
            return
        with open(SLOTS, "r+b") as f, mmap.mmap(f.fileno(), 0) as m:
            m[slot] = 1
            deadline = time.monotonic() + PATIENCE
            while True:
                seen = sum(m[:PARTIES])
                if m[PARTIES]:
                    ok = False
                    break
                if seen == PARTIES:
                    ok = True
                    break
                if time.monotonic() > deadline:
                    m[PARTIES] = 1
                    ok = False
                    break
    finally:
        sys.setswitchinterval(old)
    netlab_rv.log("spin", slot=slot, ok=ok, seen=seen)
'''


def crunch_value(x: int) -> int:
    n = 0
    for i in range(20000):
        n = (n * 31 + i * x) % 1000003
    return n


def value(x: int) -> int:
    return x * x + 1


# -- hints -------------------------------------------------------------------------------------

HINT_IO_THREADS = say(
    "IO-bound work goes to threads: a thread that waits for IO releases the GIL, so the others "
    "wait at the same time. with ThreadPoolExecutor(max_workers=workers) as pool: "
    "return list(pool.map(job, items))",
    "IO 密集型的任务交给线程：线程在等待 IO 时会释放全局解释器锁，其他线程就能同时等待。"
    "with ThreadPoolExecutor(max_workers=workers) as pool: return list(pool.map(job, items))")
HINT_ORDER = say(
    "results come back in the order of the items, whatever order the jobs finish in: "
    "pool.map() keeps the order (as_completed() does not)",
    "不管任务按什么顺序完成，结果都要按 items 的顺序返回：pool.map() 会保持顺序（as_completed() 不会）")
HINT_POOL = say(
    "a pool of `workers` threads runs every job: ThreadPoolExecutor(max_workers=workers) reuses "
    "its threads; one new Thread per item makes 10 000 threads for 10 000 URLs",
    "由 workers 个线程组成的线程池来运行所有任务：ThreadPoolExecutor(max_workers=workers) 会重复使用"
    "它的线程；每个 item 新开一个 Thread，10000 个 URL 就是 10000 个线程")
HINT_LOST_UPDATE = say(
    "`total += job(x)` reads total, runs job(x) - during which the other threads change total - "
    "and writes back the old value plus its own: their updates are lost. The GIL does not "
    "prevent it. value = job(x) first, then `with lock: total += value`",
    "`total += job(x)` 先读出 total，再运行 job(x)——这期间其他线程改了 total——最后写回旧值加上自己的"
    "结果：别人的更新就丢了。全局解释器锁挡不住这个。先 value = job(x)，再 `with lock: total += value`")
HINT_LOCK_SCOPE = say(
    "hold the lock only for the read-modify-write of the total, never across job(x): a lock "
    "held while a thread waits for IO makes every other thread wait for it",
    "锁只在读-改-写 total 的那一下持有，绝不要把 job(x) 也包进去：线程等待 IO 时还拿着锁，"
    "其他线程就都得等它")
HINT_CPU_PROCESSES = say(
    "CPU-bound work goes to processes: threads of one process take turns holding its one GIL; "
    "each process has its own GIL. with ProcessPoolExecutor(max_workers=workers) as pool: "
    "return list(pool.map(job, items))",
    "计算密集型的任务交给进程：同一个进程里的线程只能轮流持有这唯一的全局解释器锁；每个进程都有自己的"
    "全局解释器锁。with ProcessPoolExecutor(max_workers=workers) as pool: return list(pool.map(job, items))")
HINT_GLOBALS = say(
    "a worker process has its own copy of every global: `global TOTAL; TOTAL += ...` in a child "
    "changes the child's copy, never the parent's. Return each result and add them up in the "
    "parent: sum(pool.map(job, items))",
    "工作进程里的每个全局变量都是它自己的一份拷贝：在子进程里 `global TOTAL; TOTAL += ...` 改的是子进程"
    "的那一份，父进程的永远不变。让每个任务返回结果，在父进程里相加：sum(pool.map(job, items))")
HINT_RESET = say(
    "each call returns the total of its own items: a module-level total kept from the last call "
    "adds the old results in; start every call from 0 (a local total is simplest)",
    "每次调用只返回它自己这些 items 的总和：模块级的 total 如果保留着上一次调用的值，旧结果就被加了进来；"
    "每次调用都要从 0 开始（用局部变量最简单）")
HINT_ERRORS = say(
    "a job that raises must not vanish: pool.map() re-raises the job's exception in the caller "
    "when its result is taken; a bare Thread only prints it and leaves a hole in the results",
    "任务抛出的异常不能就这么消失：取结果时 pool.map() 会在调用者里重新抛出任务的异常；"
    "直接用 Thread 的话，异常只会被打印出来，结果里却留下一个空洞")


# -- helpers -----------------------------------------------------------------------------------

def setup(student, parties: int):
    """This check's rendezvous service with the test's jobs installed, and gil.py loaded."""
    rv = student.rendezvous()
    rv.install("gil_jobs.py", JOBS.format(parties=parties, patience=PATIENCE))
    slots = student.workdir / "gil_slots.bin"
    slots.write_bytes(bytes(parties + 1))
    os.chmod(slots, 0o666)
    mod = student.module("gil", timeout=CALL_TIMEOUT)
    return rv, mod


def call(mod, func: str, job: str, items, workers, *, hint=None):
    """mod.func(gil_jobs.job, items, workers): its value, or feedback when it raised or hung."""
    text = f"{func}(gil_jobs.{job}, {items}, workers={workers})"
    pending = mod.start(func, _job(job), list(items), workers)
    try:
        return pending.result()
    except StudentRaised as exc:
        raise CheckFailed(exc.summary(text), detail=exc.where(), hint=hint) from None
    except StudentTimeout as exc:
        raise CheckFailed(str(exc), hint=hint) from None


def _job(name: str) -> Callable:
    return Callable(f"gil_jobs:{name}")


def in_caller(mod, pids) -> set:
    """The reported pids that are the caller's own process (the one running gil.py)."""
    return {p for p in pids if mod.proc.pid_of(p) == mod.proc.pid}


def expect_value(got, expected, text, *, hint=None, detail=None):
    if got != expected:
        raise CheckFailed(say("what {call} returned", "{call} 的返回值", call=text),
                          expected=expected, got=got, has_expected=True, has_got=True,
                          hint=hint, detail=detail)


def how_many_waited(rv, tag: str, parties: int):
    """'only 1 of 4 jobs was ever waiting at once' (from the 'inside now' gauge)."""
    most = rv.max_inside(tag)
    return say("the jobs wait at a barrier that needs {parties} of them waiting at the same time; "
               "at most {most} ever were (the barrier gave up after {t:g} s)",
               "这些任务在一个栅栏前等待，栅栏要等到 {parties} 个任务同时在等才放行；"
               "而同一时刻最多只有 {most} 个在等（{t:g} 秒后栅栏放弃了）",
               most=most, parties=parties, t=PATIENCE)


# -- io_map: threads for waiting ---------------------------------------------------------------

@check(points=1, title=say("io_map returns every job's result, in the order of the items",
                           "io_map 返回每个任务的结果，顺序与 items 相同"), hint=HINT_ORDER,
       time_limit=LIMIT)
def test_io_map_results_in_order(student):
    rv, mod = setup(student, parties=3)
    items = [5, 3, 8, 1, 9, 2, 7]
    text = f"io_map(gil_jobs.square, {items}, workers=3)"
    got = call(mod, "io_map", "square", items, 3)
    expect_value(got, [value(x) for x in items], text,
                 detail=say("gil_jobs.square(x) returns x * x + 1", "gil_jobs.square(x) 返回 x * x + 1"))
    ran = sorted(e["data"]["x"] for e in rv.log_of("job"))
    if ran != sorted(items):
        raise CheckFailed(say("{call} must call the job once for every item",
                              "{call} 必须对每个 item 调用一次任务", call=text),
                          expected=sorted(items), got=ran, hint=HINT_ORDER)


@check(points=2, title=say("io_map's threads wait at the same time, in the caller's process",
                           "io_map 的各个线程同时等待，而且都在调用者的进程里"),
       hint=HINT_IO_THREADS, time_limit=LIMIT)
def test_io_map_waits_concurrently(student):
    workers = 4
    rv, mod = setup(student, parties=workers)
    items = list(range(8))
    text = f"io_map(gil_jobs.fetch, {items}, workers={workers})"
    got = call(mod, "io_map", "fetch", items, workers, hint=HINT_IO_THREADS)
    if rv.counters["io-gave-up"] or rv.max_inside("io") < workers:
        raise CheckFailed(say("{call}: the jobs did not wait at the same time",
                              "{call}：这些任务没有同时等待", call=text),
                          detail=how_many_waited(rv, "io", workers), hint=HINT_IO_THREADS)
    pids = rv.pids("io")
    if len(pids) != 1 or not in_caller(mod, pids):
        raise CheckFailed(say("{call}: the jobs ran in other processes ({n} of them), not in "
                              "threads of the caller's process",
                              "{call}：这些任务在另外 {n} 个进程里运行，而不是在调用者进程的线程里",
                              call=text, n=len(pids - in_caller(mod, pids))),
                          hint=say("waiting needs no CPU, so no process of its own: threads are "
                                   "cheaper, and they share the caller's memory",
                                   "等待用不着 CPU，也就用不着单独的进程：线程开销更小，而且与调用者共享内存"))
    expect_value(got, [value(x) for x in items], text, hint=HINT_ORDER)


@check(points=1, title=say("io_map runs the jobs on a pool of `workers` threads",
                           "io_map 用 workers 个线程组成的线程池运行任务"), hint=HINT_POOL,
       time_limit=LIMIT)
def test_io_map_uses_at_most_workers_threads(student):
    workers = 3
    rv, mod = setup(student, parties=workers)
    items = list(range(12))
    text = f"io_map(gil_jobs.fetch, {items}, workers={workers})"
    got = call(mod, "io_map", "fetch", items, workers, hint=HINT_POOL)
    threads = rv.threads("io")
    if len(threads) > workers or rv.max_inside("io") > workers:
        raise CheckFailed(say("{call} ran the {n} jobs on {t} different threads, up to {most} at "
                              "once; at most {workers} were allowed",
                              "{call} 用了 {t} 个不同的线程来运行这 {n} 个任务，最多时 {most} 个同时运行；"
                              "最多只允许 {workers} 个",
                              call=text, n=len(items), t=len(threads), most=rv.max_inside("io"),
                              workers=workers), hint=HINT_POOL)
    expect_value(got, [value(x) for x in items], text, hint=HINT_ORDER)


# -- io_total: threads share memory, and must take turns changing it ---------------------------

@check(points=2, title=say("io_total adds every result: no update is lost between threads",
                           "io_total 把每个结果都加上：线程之间一个更新也不丢"),
       hint=HINT_LOST_UPDATE, time_limit=LIMIT)
def test_io_total_counts_every_result(student):
    workers = 4
    rv, mod = setup(student, parties=workers)
    items = list(range(1, 11))
    text = f"io_total(gil_jobs.fetch, {items}, workers={workers})"
    got = call(mod, "io_total", "fetch", items, workers, hint=HINT_LOST_UPDATE)
    expected = sum(value(x) for x in items)
    if got != expected:
        detail = say("gil_jobs.fetch(x) returns x * x + 1 after waiting for the other fetches "
                     "(the first {w} wait for each other, as downloads do)",
                     "gil_jobs.fetch(x) 等其他 fetch 一起等待之后返回 x * x + 1（前 {w} 个互相等待，"
                     "就像下载一样）", w=workers)
        if isinstance(got, int) and 0 < got < expected:
            detail = say("{lost} of the total went missing: the updates of threads that read the "
                         "same old total were lost", "总和少了 {lost}：读到同一个旧 total 的那些线程，"
                         "它们的更新丢失了", lost=expected - got)
        raise CheckFailed(say("what {call} returned", "{call} 的返回值", call=text),
                          expected=expected, got=got, has_expected=True, has_got=True,
                          detail=detail, hint=HINT_LOST_UPDATE)


@check(points=1, title=say("io_total's threads still wait at the same time (the lock is short)",
                           "io_total 的各个线程仍然同时等待（锁只持有一小会儿）"),
       hint=HINT_LOCK_SCOPE, time_limit=LIMIT)
def test_io_total_fetches_outside_the_lock(student):
    workers = 4
    rv, mod = setup(student, parties=workers)
    items = list(range(1, 9))
    text = f"io_total(gil_jobs.fetch, {items}, workers={workers})"
    got = call(mod, "io_total", "fetch", items, workers, hint=HINT_LOCK_SCOPE)
    if rv.counters["io-gave-up"] or rv.max_inside("io") < workers:
        raise CheckFailed(say("{call}: the jobs did not wait at the same time",
                              "{call}：这些任务没有同时等待", call=text),
                          detail=how_many_waited(rv, "io", workers), hint=HINT_LOCK_SCOPE)
    pids = rv.pids("io")
    if len(pids) != 1 or not in_caller(mod, pids):
        raise CheckFailed(say("{call}: the jobs ran in other processes, which cannot share a "
                              "total with the caller", "{call}：这些任务在别的进程里运行，"
                              "进程之间无法和调用者共享同一个 total", call=text),
                          hint=HINT_IO_THREADS)
    expect_value(got, sum(value(x) for x in items), text, hint=HINT_LOST_UPDATE)


# -- cpu_map / cpu_total: processes for computing ----------------------------------------------

@check(points=1, title=say("cpu_map returns every job's result, in the order of the items",
                           "cpu_map 返回每个任务的结果，顺序与 items 相同"), hint=HINT_ORDER,
       time_limit=LIMIT)
def test_cpu_map_results_in_order(student):
    rv, mod = setup(student, parties=1)
    items = [4, 9, 1, 7, 3, 8]
    text = f"cpu_map(gil_jobs.crunch, {items}, workers=2)"
    got = call(mod, "cpu_map", "crunch", items, 2, hint=HINT_ORDER)
    expect_value(got, [crunch_value(x) for x in items], text, hint=HINT_ORDER)


@check(points=2, title=say("cpu_map runs the jobs in `workers` worker processes",
                           "cpu_map 在 workers 个工作进程里运行任务"), hint=HINT_CPU_PROCESSES,
       time_limit=LIMIT)
def test_cpu_map_runs_in_worker_processes(student):
    workers = 2
    rv, mod = setup(student, parties=workers)
    items = [2, 5, 3, 6, 4, 7]
    text = f"cpu_map(gil_jobs.crunch, {items}, workers={workers})"
    got = call(mod, "cpu_map", "crunch", items, workers, hint=HINT_CPU_PROCESSES)
    pids = rv.pids("cpu")
    mine = in_caller(mod, pids)
    if mine:
        raise CheckFailed(say("{call}: {n} of the {total} jobs ran in the caller's own process, "
                              "in {t} of its threads", "{call}：{total} 个任务中有 {n} 个是在调用者"
                              "自己的进程里运行的，用了它的 {t} 个线程", call=text,
                              n=sum(1 for pid, _ in rv.entries.get("cpu", []) if pid in mine),
                              t=len({tid for pid, tid in rv.threads("cpu") if pid in mine}),
                              total=len(items)),
                          hint=HINT_CPU_PROCESSES)
    if not 2 <= len(pids) <= workers:
        raise CheckFailed(say("{call}: the jobs ran in {n} different processes; expected a pool "
                              "of {workers}", "{call}：这些任务在 {n} 个不同的进程里运行；"
                              "应该是由 {workers} 个进程组成的进程池", call=text, n=len(pids),
                              workers=workers), hint=HINT_CPU_PROCESSES)
    expect_value(got, [crunch_value(x) for x in items], text, hint=HINT_ORDER)


@check(points=2, title=say("cpu_map's jobs compute at the same time (each process has its own GIL)",
                           "cpu_map 的各个任务同时计算（每个进程都有自己的全局解释器锁）"),
       hint=HINT_CPU_PROCESSES, time_limit=LIMIT)
def test_cpu_map_runs_in_parallel(student):
    workers = 3
    rv, mod = setup(student, parties=workers)
    items = [3, 1, 4, 1, 5, 9]
    text = f"cpu_map(gil_jobs.crunch, {items}, workers={workers})"
    got = call(mod, "cpu_map", "crunch", items, workers, hint=HINT_CPU_PROCESSES)
    spins = rv.log_of("spin")
    if rv.counters["cpu-gave-up"] or len(spins) < workers:
        raise CheckFailed(say("{call}: the first {w} jobs were not even running at the same time",
                              "{call}：前 {w} 个任务甚至没有同时在运行", call=text, w=workers),
                          detail=how_many_waited(rv, "cpu", workers), hint=HINT_CPU_PROCESSES)
    if not all(s["data"]["ok"] for s in spins):
        alone = min(s["data"]["seen"] for s in spins)
        raise CheckFailed(say("{call}: the first {w} jobs were running, but only {n} of them was "
                              "executing Python code at any moment",
                              "{call}：前 {w} 个任务都在运行，但任何时刻只有 {n} 个在执行 Python 代码",
                              call=text, w=workers, n=alone),
                          detail=say("each job spun for up to {t:g} s without releasing the GIL, "
                                     "waiting to see the others spin too; threads of one process "
                                     "share one GIL, so the others never ran",
                                     "每个任务在不释放全局解释器锁的情况下空转最多 {t:g} 秒，等着看到其他任务"
                                     "也在空转；同一个进程里的线程共用一个全局解释器锁，其他线程根本没有机会运行",
                                     t=PATIENCE),
                          hint=HINT_CPU_PROCESSES)
    expect_value(got, [crunch_value(x) for x in items], text, hint=HINT_ORDER)


@check(points=2, title=say("cpu_total adds up results computed in worker processes",
                           "cpu_total 把工作进程算出的结果加起来"), hint=HINT_GLOBALS,
       time_limit=LIMIT)
def test_cpu_total_sums_in_processes(student):
    workers = 2
    rv, mod = setup(student, parties=1)
    items = [6, 2, 9, 4, 1]
    text = f"cpu_total(gil_jobs.crunch, {items}, workers={workers})"
    got = call(mod, "cpu_total", "crunch", items, workers, hint=HINT_GLOBALS)
    expected = sum(crunch_value(x) for x in items)
    if got != expected:
        ran = len(rv.entries.get("cpu", []))
        detail = say("the test saw {ran} of the {n} jobs run", "测试看到 {n} 个任务中有 {ran} 个运行了",
                     ran=ran, n=len(items))
        if got == 0 and ran == len(items):
            detail = say("all {n} jobs ran, in worker processes, and computed their results; 0 is "
                         "a total that nobody changed in the caller's process",
                         "{n} 个任务都在工作进程里运行了，也算出了结果；0 是调用者进程里一个从来没人改过的总和",
                         n=len(items))
        raise CheckFailed(say("what {call} returned", "{call} 的返回值", call=text),
                          expected=expected, got=got, has_expected=True, has_got=True,
                          detail=detail, hint=HINT_GLOBALS)
    pids = rv.pids("cpu")
    if not pids or in_caller(mod, pids):
        raise CheckFailed(say("{call}: the jobs ran in the caller's own process, not in worker "
                              "processes", "{call}：这些任务是在调用者自己的进程里运行的，"
                              "而不是在工作进程里", call=text), hint=HINT_CPU_PROCESSES)


# -- hidden: the same ideas at their edges -----------------------------------------------------

@check(points=1, hidden=True, title=say("io_total called twice returns each call's own total",
                                        "连续调用两次 io_total，每次都返回自己那一次的总和"),
       hint=HINT_RESET, time_limit=LIMIT)
def test_io_total_twice(student):
    rv, mod = setup(student, parties=2)
    for items in ([1, 2, 3, 4], [10, 20]):
        text = f"io_total(gil_jobs.fetch, {items}, workers=2)"
        got = call(mod, "io_total", "fetch", items, 2, hint=HINT_RESET)
        expect_value(got, sum(value(x) for x in items), text, hint=HINT_RESET,
                     detail=say("the second call in the same process", "同一个进程里的第二次调用")
                     if items[0] == 10 else None)


@check(points=1, hidden=True, title=say("a job's exception reaches the caller (threads and processes)",
                                        "任务抛出的异常会传到调用者（线程和进程都一样）"),
       hint=HINT_ERRORS, time_limit=LIMIT)
def test_a_failing_job_raises_in_the_caller(student):
    rv, mod = setup(student, parties=1)
    items = [1, 2, 3, 4]
    for func in ("io_map", "cpu_map"):
        text = f"{func}(gil_jobs.fail_on_3, {items}, workers=2)"
        pending = mod.start(func, _job("fail_on_3"), items, 2)
        try:
            got = pending.result()
        except StudentRaised as exc:
            if exc.type == "ValueError" and "job 3 failed" in exc.message:
                continue
            raise CheckFailed(exc.summary(text), expected="ValueError: job 3 failed",
                              got=exc.last_line(), detail=exc.where(), hint=HINT_ERRORS) from None
        except StudentTimeout as exc:
            raise CheckFailed(str(exc), hint=HINT_ERRORS) from None
        raise CheckFailed(say("{call} returned instead of raising the job's ValueError",
                              "{call} 返回了，而没有抛出任务的 ValueError", call=text),
                          expected="ValueError: job 3 failed", got=got, has_got=True,
                          hint=HINT_ERRORS)


@check(points=1, hidden=True, title=say("no items, and a single worker",
                                        "没有 item，以及只有一个 worker"),
       time_limit=LIMIT)
def test_no_items_and_one_worker(student):
    rv, mod = setup(student, parties=1)
    cases = [("io_map", "square", [], 3, []), ("io_total", "square", [], 3, 0),
             ("cpu_map", "crunch", [], 2, []), ("cpu_total", "crunch", [], 2, 0),
             ("io_map", "fetch", [3, 1, 2], 1, [value(x) for x in (3, 1, 2)]),
             ("cpu_total", "crunch", [5, 6], 1, crunch_value(5) + crunch_value(6))]
    hints = {"io_map": HINT_IO_THREADS, "io_total": HINT_LOST_UPDATE,
             "cpu_map": HINT_CPU_PROCESSES, "cpu_total": HINT_GLOBALS}
    for func, job, items, workers, expected in cases:
        got = call(mod, func, job, items, workers, hint=hints[func])
        expect_value(got, expected, f"{func}(gil_jobs.{job}, {items}, workers={workers})",
                     hint=hints[func])
