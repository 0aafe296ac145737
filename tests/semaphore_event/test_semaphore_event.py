"""semaphore_event: the graded suite. semaphore_event.py is loaded by the call driver (one
student process); the jobs and the green-light controller are the test's own
(`sem_jobs.py`, installed in the working copy) and report to this check's rendezvous service
(grader/harness/rendezvous.py).

Nothing is timed. Every wait ends on an event, and every event is accounted for:
  - sem_jobs.py, once imported in the student's process, wraps threading.Semaphore's acquire()
    (and `with`) and threading.Event's wait() so that they *say* when they are about to block:
    "sem-blocked" when no permit is free, "event-wait" when the event is not set. They then
    block exactly as before. So the test knows when every thread is either inside the job or
    blocked at the semaphore - only then does it read the most that were ever inside (n + 1
    with Semaphore(n + 1), however the threads were scheduled) - and when every thread of a
    round is waiting at the light before it lets green() return.
  - The jobs stay inside until the test opens a gate, so nobody leaves (and frees a permit)
    before the count is read.
  - A solution that never blocks where it should (a Lock: its acquire() is C code; a bool
    polled in a loop) never completes the picture: the check gives up after a few seconds and
    says what it saw.
"""
from __future__ import annotations

import time

from grader.harness import Callable, CheckFailed, StudentRaised, StudentTimeout, check, say

PATIENCE = 5.0        # seconds the test waits for the picture to complete before it gives up
CALL_TIMEOUT = 40.0   # every call ends on events; a failing one after ~PATIENCE
LIMIT = 60            # a check's own limit (never reached by a correct solution)

JOBS = '''
"""The test's jobs for semaphore_event.py (installed by the check; rewritten on every run).

Importing this module wraps threading.Semaphore.acquire (and `with`) and threading.Event.wait so
that each says, to the check, when it is about to block; then it blocks exactly as before."""
import sys
import threading

import netlab_rv

PATIENCE = {patience}
ROUND_SIZES = {sizes}       # traffic_light: how many items each round has (item // 100 = round)

_acquire = threading.Semaphore.acquire
_wait = threading.Event.wait


def _acquire_and_say(self, blocking=True, timeout=None):
    if _acquire(self, False):
        return True
    if not blocking:
        return False
    netlab_rv.log("sem-blocked", sem=id(self))
    return _acquire(self, True, timeout)


def _wait_and_say(self, timeout=None):
    if not self.is_set() and sys._getframe(1).f_globals.get("__name__") != "threading":
        # (threading's own waits, such as Thread.start() waiting for the thread, are left out)
        netlab_rv.log("event-wait", ev=id(self))
    return _wait(self, timeout)


threading.Semaphore.acquire = _acquire_and_say
threading.Semaphore.__enter__ = _acquire_and_say
threading.Event.wait = _wait_and_say


def value(x):
    return 3 * x + 1


def quick(x):
    """Answers at once."""
    with netlab_rv.inside("work"):
        netlab_rv.log("job", x=x)
    return value(x)


def stay(x):
    """Stays inside until the test opens the gate "leave"."""
    with netlab_rv.inside("work"):
        netlab_rv.wait_gate("leave", timeout=60)
    return value(x)


def fail_first(x):
    """The first job to get in raises; the others must then be able to fill all {parties}
    permits again: they meet at barrier "full" (with a permit lost, they never can)."""
    with netlab_rv.inside("work"):
        if netlab_rv.add("rank") == 1:
            raise ValueError("job %d failed" % x)
        if not netlab_rv.add("full-gave-up", 0):
            if not netlab_rv.barrier("full", {parties}, timeout=PATIENCE):
                netlab_rv.add("full-gave-up")
    return value(x)


def drive(x):
    """A car of round x // 100: it says it started, then meets the rest of its round."""
    r = x // 100
    netlab_rv.log("started", x=x, round=r)
    with netlab_rv.inside("driving"):
        if not netlab_rv.add("round%d-gave-up" % r, 0):
            if not netlab_rv.barrier("round%d" % r, ROUND_SIZES[r], timeout=PATIENCE):
                netlab_rv.add("round%d-gave-up" % r)
    return value(x)


def green(r):
    """The controller: returns when the test opens gate "green<r>"."""
    with netlab_rv.inside("controller"):
        netlab_rv.log("green-called", round=r)
        opened = netlab_rv.wait_gate("green%d" % r, timeout=60)
    return opened
'''


def value(x: int) -> int:
    return 3 * x + 1


# -- hints -------------------------------------------------------------------------------------

HINT_SEMAPHORE = say(
    "slots = threading.Semaphore(n) once, shared by every thread; each thread does "
    "`with slots: results[i] = job(x)`: acquire() takes a permit or waits for one, release() "
    "gives it back",
    "slots = threading.Semaphore(n) 只创建一次，所有线程共用；每个线程执行 "
    "`with slots: results[i] = job(x)`：acquire() 拿走一个许可，没有就等待，release() 把它还回去")
HINT_LOCK = say(
    "a Lock lets one thread in at a time - a Semaphore(1). Semaphore(n) lets n in: the n + 1-th "
    "acquire() waits until one of them calls release()",
    "Lock 一次只放一个线程进来——相当于 Semaphore(1)。Semaphore(n) 放 n 个进来：第 n + 1 个 acquire() "
    "要等到其中一个调用 release() 才能继续")
HINT_OVER = say(
    "Semaphore(n) holds exactly n permits: n threads inside, and the n + 1-th blocks in acquire(). "
    "Semaphore(n + 1), or a release() too many, lets one more in",
    "Semaphore(n) 恰好有 n 个许可：n 个线程在里面，第 n + 1 个阻塞在 acquire() 上。"
    "Semaphore(n + 1)，或者多调用了一次 release()，都会多放一个线程进来")
HINT_THREADS = say(
    "start one thread per item, all of them before joining any: each one acquires the semaphore "
    "itself, so the ones that find no permit wait inside acquire()",
    "每个 item 启动一个线程，先把它们全部启动，再逐个 join：每个线程自己去获取信号量，拿不到许可的线程"
    "就在 acquire() 里等待")
HINT_RELEASE = say(
    "a permit must come back even when the job raises: `with slots:` (or try/finally: "
    "slots.release()); a permit lost on every error leaves fewer and fewer threads inside",
    "即使任务抛出了异常，许可也必须还回去：用 `with slots:`（或者 try/finally: slots.release()）；"
    "每出一次错就丢一个许可，能进去的线程就会越来越少")
HINT_WAIT = say(
    "each thread calls light.wait() on one threading.Event: it sleeps, using no CPU, until "
    "someone calls light.set(). A loop that checks a bool (or is_set()) and sleeps is polling: "
    "it burns CPU and starts late",
    "每个线程都在同一个 threading.Event 上调用 light.wait()：它会睡眠、不占 CPU，直到有人调用 "
    "light.set()。在循环里检查一个布尔值（或 is_set()）再 sleep 是轮询：既浪费 CPU，又启动得晚")
HINT_ORDER = say(
    "start the round's threads first (each waits at light.wait()), then call green(r), then "
    "light.set(): the controller decides when they go, and none goes before",
    "先启动这一轮的线程（每个都在 light.wait() 处等待），再调用 green(r)，最后 light.set()："
    "什么时候出发由控制者决定，谁也不能抢先")
HINT_CLEAR = say(
    "an Event stays set until clear(): after a round, light.clear() - red again - before the "
    "next round's threads start, or they drive straight through",
    "Event 一旦 set()，在 clear() 之前一直保持设置状态：一轮结束后要先 light.clear()——重新变红——"
    "再启动下一轮的线程，否则它们会直接冲过去")
HINT_RESULTS = say(
    "return the results in the order of the items: results[i] = job(x) in the thread of item i",
    "按 items 的顺序返回结果：在第 i 个 item 的线程里 results[i] = job(x)")


# -- helpers -----------------------------------------------------------------------------------

def setup(student, *, sizes=(), parties=1):
    rv = student.rendezvous()
    rv.install("sem_jobs.py", JOBS.format(patience=PATIENCE, sizes=list(sizes), parties=parties))
    mod = student.module("semaphore_event", timeout=CALL_TIMEOUT)
    return rv, mod


def job(name: str) -> Callable:
    return Callable(f"sem_jobs:{name}")


def result(pending, text: str, *, hint=None):
    try:
        return pending.result()
    except StudentRaised as exc:
        raise CheckFailed(exc.summary(text), detail=exc.where(), hint=hint) from None
    except StudentTimeout as exc:
        raise CheckFailed(str(exc), hint=hint) from None


def early_end(pending, text: str, *, hint=None) -> None:
    """The call ended while the test was still waiting for its threads: say what it returned."""
    if pending.done():
        got = result(pending, text, hint=hint)
        raise CheckFailed(say("{call} returned before its threads were done",
                              "{call} 在它的线程结束之前就返回了", call=text),
                          got=got, has_got=True, hint=hint)


def wait_or_end(rv, predicate, pending, timeout: float = PATIENCE) -> bool:
    """rv.wait_for(predicate), which wakes on every report of the student's threads - but also
    ends soon after the call itself has ended (a stub that raises at once, a function that
    returns early), which the service is not told about: then it waits in short slices."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if rv.wait_for(predicate, timeout=max(0.0, min(0.25, left))):
            return True
        if pending.done() or left <= 0:
            return bool(predicate(rv))


def blocked_at_semaphore(rv) -> int:
    """How many threads said they were blocked at one Semaphore (the most at any one)."""
    by_sem: dict = {}
    for e in rv.log_of("sem-blocked"):
        by_sem.setdefault(e["data"]["sem"], set()).add(e["tid"])
    return max((len(t) for t in by_sem.values()), default=0)


def waiting_at_event(rv, since: int) -> int:
    """How many threads said they were waiting at one Event (not set) since log entry `since`."""
    by_event: dict = {}
    for e in rv.log_of("event-wait"):
        if e["seq"] >= since:
            by_event.setdefault(e["data"]["ev"], set()).add(e["tid"])
    return max((len(t) for t in by_event.values()), default=0)


def expect_value(got, expected, text, *, hint=None, detail=None):
    if got != expected:
        raise CheckFailed(say("what {call} returned", "{call} 的返回值", call=text),
                          expected=expected, got=got, has_expected=True, has_got=True,
                          hint=hint, detail=detail)


def hold_and_count(student, n: int, m: int, hint):
    """run_limited(sem_jobs.stay, m items, n): wait until every thread is inside or blocked at
    the semaphore; returns (rv, pending, text, accounted) with the gate still closed."""
    rv, mod = setup(student)
    items = list(range(m))
    text = f"run_limited(sem_jobs.stay, {items}, n={n})"
    pending = mod.start("run_limited", job("stay"), items, n)
    accounted = wait_or_end(rv, lambda r: r.now_inside("work") + blocked_at_semaphore(r) >= m,
                            pending)
    early_end(pending, text, hint=hint)
    return rv, pending, text, items, accounted


# -- run_limited: a Semaphore(n) ---------------------------------------------------------------

@check(points=1, title=say("run_limited returns every job's result, in the order of the items",
                           "run_limited 返回每个任务的结果，顺序与 items 相同"),
       hint=HINT_RESULTS, time_limit=LIMIT)
def test_run_limited_results_in_order(student):
    rv, mod = setup(student)
    items = [4, 0, 7, 2, 9, 5]
    text = f"run_limited(sem_jobs.quick, {items}, n=2)"
    got = result(mod.start("run_limited", job("quick"), items, 2), text, hint=HINT_RESULTS)
    expect_value(got, [value(x) for x in items], text, hint=HINT_RESULTS,
                 detail=say("sem_jobs.quick(x) returns 3 * x + 1", "sem_jobs.quick(x) 返回 3 * x + 1"))
    ran = sorted(e["data"]["x"] for e in rv.log_of("job"))
    if ran != sorted(items):
        raise CheckFailed(say("{call} must call the job once for every item",
                              "{call} 必须对每个 item 调用一次任务", call=text),
                          expected=sorted(items), got=ran, hint=HINT_RESULTS)


@check(points=2, title=say("the semaphore lets n threads in at the same time",
                           "信号量同时放 n 个线程进去"), hint=HINT_LOCK, time_limit=LIMIT)
def test_semaphore_lets_n_in_at_once(student):
    n, m = 3, 7
    rv, pending, text, items, _ = hold_and_count(student, n, m, HINT_LOCK)
    most = rv.max_inside("work")
    if most < n:
        raise CheckFailed(say("{call}: the most threads inside the job at the same time: {most}; "
                              "with n = {n} it should be {n}", "{call}：同一时刻在任务里面的线程最多只有 "
                              "{most} 个；按 n = {n}，应该有 {n} 个", call=text, most=most, n=n),
                          detail=say("the jobs stay inside until the test lets them go; the test "
                                     "waited {t:g} s for more to come in",
                                     "任务会一直待在里面，直到测试放它们走；测试等了 {t:g} 秒，没有更多线程进来",
                                     t=PATIENCE), hint=HINT_LOCK)
    rv.open_gate("leave")
    expect_value(result(pending, text, hint=HINT_RESULTS), [value(x) for x in items], text,
                 hint=HINT_RESULTS)


@check(points=2, title=say("the semaphore never lets more than n threads in",
                           "信号量放进去的线程从不超过 n 个"), hint=HINT_OVER, time_limit=LIMIT)
def test_semaphore_never_lets_more_than_n_in(student):
    n, m = 2, 6
    rv, pending, text, items, accounted = hold_and_count(student, n, m, HINT_OVER)
    inside, blocked = rv.now_inside("work"), blocked_at_semaphore(rv)
    if rv.max_inside("work") > n:
        raise CheckFailed(say("{call}: {most} threads were inside the job at the same time; "
                              "n = {n} allows {n}", "{call}：同一时刻有 {most} 个线程在任务里面；"
                              "n = {n} 只允许 {n} 个", call=text, most=rv.max_inside("work"), n=n),
                          detail=say("threads waiting at the semaphore meanwhile: {blocked}",
                                     "与此同时在信号量前等待的线程：{blocked} 个", blocked=blocked),
                          hint=HINT_OVER)
    if not accounted:
        raise CheckFailed(say("{call}: of its {m} threads, inside the job: {inside}; waiting at a "
                              "threading.Semaphore: {blocked}; neither: {rest}",
                              "{call}：{m} 个线程中，{inside} 个在任务里面，{blocked} 个在 "
                              "threading.Semaphore 前等待；其余 {rest} 个两者都不是",
                              call=text, m=m, inside=inside, blocked=blocked,
                              rest=m - inside - blocked),
                          detail=say("the test waited {t:g} s for every thread to be inside or "
                                     "blocked in acquire()", "测试等了 {t:g} 秒，等每个线程要么进入任务，"
                                     "要么阻塞在 acquire() 上", t=PATIENCE),
                          hint=HINT_THREADS)
    rv.open_gate("leave")
    got = result(pending, text, hint=HINT_RESULTS)
    if rv.max_inside("work") > n:
        raise CheckFailed(say("{call}: once the jobs could leave, {most} threads were inside at "
                              "the same time; n = {n} allows {n}", "{call}：任务可以离开之后，"
                              "同一时刻有 {most} 个线程在任务里面；n = {n} 只允许 {n} 个",
                              call=text, most=rv.max_inside("work"), n=n), hint=HINT_OVER)
    expect_value(got, [value(x) for x in items], text, hint=HINT_RESULTS)


# -- traffic_light: an Event -------------------------------------------------------------------

def drive_rounds(student, rounds, hint):
    """traffic_light(sem_jobs.drive, rounds, sem_jobs.green), round by round: the test lets
    green(r) return only once every thread of round r waits at the light, and fails at once if
    one of them starts before. Returns (rv, got, text)."""
    rv, mod = setup(student, sizes=[len(items) for items in rounds])
    text = f"traffic_light(sem_jobs.drive, {rounds}, sem_jobs.green)"
    pending = mod.start("traffic_light", job("drive"), rounds, job("green"))
    since = 0
    for r, items in enumerate(rounds):
        started = lambda: [e["data"]["x"] for e in rv.log_of("started") if e["data"]["round"] == r]
        called = lambda: any(e["data"]["round"] == r for e in rv.log_of("green-called"))
        wait_or_end(rv, lambda _: (called() and waiting_at_event(rv, since) >= len(items))
                    or started(), pending)
        if started():
            raise CheckFailed(say("{call}: in round r = {r}, threads started before green({r}) "
                                  "returned, while the light was still red: {k} of the round's {m}",
                                  "{call}：在 r = {r} 这一轮，green({r}) 返回之前、还是红灯的时候就出发了的线程："
                                  "这一轮 {m} 个线程中的 {k} 个", call=text, r=r, k=len(started()),
                                  m=len(items)),
                              detail=say("the ones that started: items {xs}", "抢先出发的是 items {xs}",
                                         xs=sorted(started())),
                              hint=HINT_CLEAR if r else hint)
        early_end(pending, text, hint=hint)
        if not called():
            raise CheckFailed(say("{call}: green({r}) was not called within {t:g} s of the round "
                                  "beginning", "{call}：这一轮开始后 {t:g} 秒内没有调用 green({r})",
                                  call=text, r=r, t=PATIENCE), hint=HINT_ORDER)
        waiting = waiting_at_event(rv, since)
        if waiting < len(items):
            raise CheckFailed(say("{call}: in round r = {r}, threads waiting at a threading.Event "
                                  "when green({r}) was called: {k} of the round's {m}",
                                  "{call}：在 r = {r} 这一轮，调用 green({r}) 时在 threading.Event 上等待的"
                                  "线程：这一轮 {m} 个线程中的 {k} 个", call=text, r=r, k=waiting,
                                  m=len(items)),
                              detail=say("the test waited {t:g} s for every thread of the round to "
                                         "call wait() on an Event that was not set",
                                         "测试等了 {t:g} 秒，等这一轮的每个线程都在一个尚未设置的 Event 上调用 wait()",
                                         t=PATIENCE), hint=HINT_WAIT)
        since = len(rv.log_of())
        rv.open_gate(f"green{r}")
    return rv, result(pending, text, hint=hint), text


@check(points=2, title=say("the threads wait at the light (an Event) and nobody starts before green",
                           "线程们在红灯（一个 Event）前等待，绿灯之前谁也不出发"),
       hint=HINT_WAIT, time_limit=LIMIT)
def test_nobody_starts_before_green(student):
    rounds = [[1, 2, 3, 4]]
    rv, got, text = drive_rounds(student, rounds, HINT_WAIT)
    expect_value(got, [[value(x) for x in items] for items in rounds], text, hint=HINT_RESULTS)


@check(points=1, title=say("at green, every thread of the round goes at once",
                           "绿灯一亮，这一轮的线程同时出发"), hint=HINT_ORDER, time_limit=LIMIT)
def test_everybody_starts_after_green(student):
    rounds = [[0, 1, 2, 3, 4]]
    rv, got, text = drive_rounds(student, rounds, HINT_ORDER)
    if rv.counters["round0-gave-up"] or rv.max_inside("driving") < len(rounds[0]):
        raise CheckFailed(say("{call}: after green, the most threads driving at the same time: "
                              "{most} of {m}", "{call}：绿灯亮后，同一时刻在行驶的线程最多只有 {m} 个中的 {most} 个",
                              call=text, most=rv.max_inside("driving"), m=len(rounds[0])),
                          detail=say("each job waits for the rest of its round (it gave up after {t:g} s)",
                                     "每个任务都等着这一轮的其他任务（{t:g} 秒后放弃了）", t=PATIENCE),
                          hint=HINT_WAIT)
    expect_value(got, [[value(x) for x in items] for items in rounds], text, hint=HINT_RESULTS)


@check(points=2, title=say("the light turns red again between rounds",
                           "两轮之间红灯重新亮起"), hint=HINT_CLEAR, time_limit=LIMIT)
def test_light_turns_red_between_rounds(student):
    rounds = [[0, 1, 2], [100, 101, 102], [200, 201]]
    rv, got, text = drive_rounds(student, rounds, HINT_CLEAR)
    expect_value(got, [[value(x) for x in items] for items in rounds], text, hint=HINT_RESULTS)


# -- hidden ------------------------------------------------------------------------------------

@check(points=1, hidden=True, title=say("a job that raises gives its permit back",
                                        "抛出异常的任务会把许可还回去"),
       hint=HINT_RELEASE, time_limit=LIMIT)
def test_a_failing_job_releases_its_permit(student):
    n = 2
    rv, mod = setup(student, parties=n)
    items = [0, 1, 2, 3, 4]
    text = f"run_limited(sem_jobs.fail_first, {items}, n={n})"
    pending = mod.start("run_limited", job("fail_first"), items, n)
    raised = None
    try:
        pending.result()
    except StudentRaised as exc:
        raised = exc
    except StudentTimeout as exc:
        raise CheckFailed(str(exc), hint=HINT_RELEASE) from None
    if rv.counters["full-gave-up"] or rv.arrived["full"] < n:
        raise CheckFailed(say("{call}: after the first job raised, the other jobs never had {n} "
                              "threads inside at the same time again",
                              "{call}：第一个任务抛出异常之后，其余任务再也没有出现过 {n} 个线程同时在里面的情况",
                              call=text, n=n),
                          detail=say("n = {n} permits, one job raised: once its permit was back, "
                                     "{n} others should have been inside together (the test waited "
                                     "{t:g} s); a permit was never given back",
                                     "n = {n} 个许可，一个任务抛出了异常：它的许可还回来之后，应该有 {n} 个"
                                     "其他任务同时在里面（测试等了 {t:g} 秒）；有一个许可一直没有还回去",
                                     n=n, t=PATIENCE), hint=HINT_RELEASE)
    if raised is None or raised.type != "ValueError" or "failed" not in raised.message:
        raise CheckFailed(say("{call} should raise the job's ValueError once every thread is done",
                              "所有线程结束后，{call} 应该抛出任务的 ValueError", call=text),
                          expected="ValueError: job ... failed",
                          got=raised.last_line() if raised else "no exception",
                          detail=raised.where() if raised else None, hint=HINT_RELEASE)


@check(points=1, hidden=True, title=say("n = 1, no items, and a round of one",
                                        "n = 1、没有 item，以及只有一个线程的一轮"),
       hint=HINT_SEMAPHORE, time_limit=LIMIT)
def test_edges(student):
    rv, mod = setup(student, sizes=[1])
    items = [5, 6, 7]
    text = f"run_limited(sem_jobs.quick, {items}, n=1)"
    got = result(mod.start("run_limited", job("quick"), items, 1), text, hint=HINT_SEMAPHORE)
    expect_value(got, [value(x) for x in items], text, hint=HINT_SEMAPHORE)
    if rv.max_inside("work") != 1:
        raise CheckFailed(say("{call}: threads inside at the same time: {most}; n = 1 allows 1",
                              "{call}：同一时刻在里面的线程有 {most} 个；n = 1 只允许 1 个",
                              call=text, most=rv.max_inside("work")), hint=HINT_OVER)
    for func, args, expected in (("run_limited", (job("quick"), [], 3), []),
                                 ("traffic_light", (job("drive"), [], job("green")), [])):
        text = f"{func}(..., [], ...)"
        expect_value(result(mod.start(func, *args), text, hint=HINT_SEMAPHORE), expected, text,
                     hint=HINT_SEMAPHORE)
    text = "traffic_light(sem_jobs.drive, [[7]], sem_jobs.green)"
    pending = mod.start("traffic_light", job("drive"), [[7]], job("green"))
    wait_or_end(rv, lambda r: r.now_inside("controller") == 1, pending)
    rv.open_gate("green0")
    expect_value(result(pending, text, hint=HINT_ORDER), [[value(7)]], text, hint=HINT_ORDER)
