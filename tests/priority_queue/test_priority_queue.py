"""priority_queue: the graded suite.

dispatcher.py is driven by a probe (queue_probe.py, beside this file) that the test copies into
the working copy and calls through the call driver, so it runs in the student's process. Its
handler records the jobs it is handed and can hold them at a gate: with one worker held on a
first job, every job submitted meanwhile waits in the queue, so the order they come out in is
the queue's own order, on every run. join() and close() are awaited for a few seconds *after*
every job has been handled (a correct one returns at once); a dispatcher that hangs there is
stopped and its threads' stacks go into the feedback. Idle workers must sleep in get(): the
judge reads the states of the student's threads from /proc (grader/harness/threadstates.py).
"""
from __future__ import annotations

import os
from pathlib import Path

from grader.harness import CheckFailed, StudentRaised, StudentTimeout, check, say
from grader.harness.threadstates import wait_asleep

PROBE = Path(__file__).with_name("queue_probe.py").read_text(encoding="utf-8")

HINT_TIEBREAK = say(
    "put (priority, n, job) with n = next(itertools.count()): tuples compare element by element, "
    "so with (priority, job) two equal priorities compare the jobs themselves - in the jobs' "
    "order, or TypeError when jobs cannot be ordered (dicts); a counter keeps equal priorities "
    "in the order they came (FIFO) and the jobs are never compared",
    "放进去的是 (priority, n, job)，其中 n = next(itertools.count())：元组是逐个元素比较的，"
    "用 (priority, job) 的话，优先级相同时就会去比较 job 本身——要么按 job 自己的大小排序，要么在 job "
    "无法比较时（比如字典）抛出 TypeError；加一个计数器，相同优先级就按到达的先后（先进先出）出队，"
    "job 也永远不会被拿来比较")
HINT_TASK_DONE = say(
    "queue.join() waits until task_done() has been called once for every item put: call "
    "self.queue.task_done() after each job a worker got - in a finally:, so a job whose handler "
    "raised counts as done too",
    "queue.join() 会一直等到每个放进去的元素都对应调用过一次 task_done()：worker 每处理完一个取到的 "
    "job 就调用 self.queue.task_done()——放在 finally: 里，这样 handler 抛出异常的 job 也算处理完了")
HINT_WORKERS = say(
    "start `workers` threads in __init__, each running a loop around self.queue.get(): they take "
    "jobs at the same time; do not join() them in __init__",
    "在 __init__ 里启动 workers 个线程，每个线程都循环调用 self.queue.get()：它们同时取 job；"
    "不要在 __init__ 里 join() 它们")
HINT_ERRORS = say(
    "catch the handler's exception in the worker (try/except Exception), record (job, "
    "'ValueError: ...') in self.errors and go on with the next job: one bad job must not kill a "
    "worker",
    "在 worker 里捕获 handler 的异常（try/except Exception），把 (job, 'ValueError: ...') 记进 "
    "self.errors，然后接着处理下一个 job：一个坏 job 不能让 worker 线程死掉")
HINT_IDLE = say(
    "a worker waits for the next job with self.queue.get(), which sleeps while the queue is "
    "empty; a loop that checks a list (`while not items: pass`, or q.queue without its lock) "
    "burns a CPU core while there is nothing to do - and nothing protects the list",
    "worker 用 self.queue.get() 等下一个 job，队列为空时它会睡眠；循环检查一个列表（`while not items: "
    "pass`，或者绕过锁直接用 q.queue）会在无事可做时白白占满一个 CPU 核——而且没有任何东西保护那个列表")
HINT_CLOSE = say(
    "close() puts one stop item per worker, sorted after every job ((float('inf'), n, STOP)), "
    "then join()s every thread: a worker that gets STOP returns; with a single STOP for several "
    "workers the others wait in get() for ever",
    "close() 要给每个 worker 各放一个停止标记，排在所有 job 之后（(float('inf'), n, STOP)），"
    "然后 join() 每个线程：取到 STOP 的 worker 就返回；几个 worker 只放一个 STOP，其余的会在 get() "
    "里永远等下去")
HINT_UNDO = say(
    "an undo stack gives back the last action first: queue.LifoQueue (last in, first out); "
    "undo() is get_nowait(), and queue.Empty means there is nothing to undo (return None)",
    "撤销栈先还回最后一个动作：用 queue.LifoQueue（后进先出）；undo() 就是 get_nowait()，"
    "遇到 queue.Empty 表示没有可撤销的了（返回 None）")


# -- the probe ------------------------------------------------------------------------------------

def probe(student, func: str, *args, timeout: float = 40.0, keep: bool = False):
    """Call queue_probe.func(*args) in the student's process: (module, report)."""
    target = Path(student.workdir) / "queue_probe.py"
    target.write_text(PROBE, encoding="utf-8")
    os.chmod(target, 0o644)
    mod = student.module("queue_probe", timeout=timeout)
    try:
        got = mod.call(func, *args)
        if isinstance(got, dict) and "raised" in got:
            raise CheckFailed(raised("dispatcher.py", got["raised"]), detail=where(got["raised"]))
        return mod, got
    except StudentRaised as exc:
        raise CheckFailed(exc.summary(_call_of(exc)), detail=exc.where()) from None
    except StudentTimeout as exc:
        raise CheckFailed(str(exc)) from None


def _call_of(exc: StudentRaised) -> str:
    for line in reversed(exc.traceback.splitlines()):
        line = line.strip()
        if line.startswith("File ") and "dispatcher.py" in line and " in " in line:
            return f"{line.rsplit(' in ', 1)[1]}()"
    return "dispatcher.py"


def raised(call: str, error: dict):
    if call == "dispatcher.py" and error.get("func"):
        call = f"{error['func']}()"
    if error["type"] == "NotImplementedError":
        call = f"{error['func']}()" if error.get("func") else call
        return say("{call} still raises NotImplementedError: the stub is waiting for you to "
                   "write it", "{call} 仍然抛出 NotImplementedError：这个函数还等着你来实现",
                   call=call)
    return say("{call} raised {error}", "{call} 抛出了 {error}", call=call,
               error=f"{error['type']}: {error['message']}")


def where(error: dict):
    if not error.get("where") or error["type"] == "NotImplementedError":
        return None
    return str(say("where it raised:", "在这里抛出：")) + "\n" + "\n".join(
        "    " + line for line in error["where"])


def stopped(mod, call: str):
    """The student's threads are still where they hang: take their stacks for the feedback."""
    mod.proc.calling = call
    mod.proc.collect_stacks(quiet=0.5)


def expect_returned(mod, joined: dict, call: str, what, *, hint):
    """join()/close() must have returned (within the probe's PATIENCE after the last job)."""
    unfinished = joined.get("unfinished")
    if joined.get("error"):
        raise CheckFailed(raised(call, joined["error"]), detail=where(joined["error"]), hint=hint)
    if not joined["returned"]:
        stopped(mod, f"Dispatcher.{call.rstrip('()')}")
        never = joined.get("never")
        detail = None
        if never == "task_done":
            summary = say("{what}: {call} never returns: every worker is back waiting in get() on "
                          "an empty queue, yet the queue still counts {n} unfinished job(s) "
                          "(self.queue.unfinished_tasks): task_done() was not called for them",
                          "{what}：{call} 永远不会返回：每个 worker 都已回到 get() 里等着一个空队列，"
                          "可队列仍记着 {n} 个未完成的 job（self.queue.unfinished_tasks）：它们都没有"
                          "调用 task_done()", what=what, call=call, n=unfinished or "?")
        elif never == "dead":
            summary = say("{what}: {call} never returns: every worker thread has died, with jobs "
                          "still unfinished", "{what}：{call} 永远不会返回：所有 worker 线程都死掉了，"
                          "还有 job 没有完成", what=what, call=call)
        else:
            summary = say("{what}: {call} had not returned 5 s after the last job was handled",
                          "{what}：最后一个 job 处理完 5 秒之后，{call} 还没有返回",
                          what=what, call=call)
            if unfinished:
                detail = say("self.queue.unfinished_tasks is still {n}", "self.queue.unfinished_tasks "
                             "仍然是 {n}", n=unfinished)
        raise CheckFailed(summary, detail=detail, hint=hint)


# -- the checks -----------------------------------------------------------------------------------

PLAN = [["zeta", 2], ["mike", 1], ["alpha", 2], ["delta", 0], ["kilo", 1], ["bravo", 0],
        ["yankee", 1], ["charlie", 2]]
BY_PRIORITY = ["delta", "bravo", "mike", "kilo", "yankee", "zeta", "alpha", "charlie"]
SUBMITTED = ", ".join(f"submit({n!r}, priority={p})" for n, p in PLAN)


def check_order(student, kind: str):
    mod, got = probe(student, "order", PLAN, kind)
    sent = say("Dispatcher(handler, workers=1), held on a first job while the test called {calls}",
               "Dispatcher(handler, workers=1)，worker 被第一个 job 拦住时，测试依次调用了 {calls}",
               calls=SUBMITTED if kind == "str" else SUBMITTED.replace("submit('", "submit({'id': '")
               .replace("', priority", "', ...}, priority"))
    if got.get("stage") == "first":
        raise CheckFailed(say("the worker never called the handler with the first job",
                              "worker 一直没有用第一个 job 调用 handler"), sent=sent,
                          hint=HINT_WORKERS)
    if got["error"]:
        error = got["error"]
        hint = HINT_TIEBREAK if error["type"] == "TypeError" else None
        name, priority = got.get("at") or ["?", "?"]
        call = f"submit({name!r}, priority={priority})" if kind == "str" else \
            f"submit({{'id': {name!r}, ...}}, priority={priority})"
        raise CheckFailed(raised(call, error), sent=sent, detail=where(error), hint=hint)
    handled = got["handled"]
    if handled != BY_PRIORITY:
        raise CheckFailed(say("the order the jobs were handled in", "job 被处理的顺序"), sent=sent,
                          expected=BY_PRIORITY, got=handled,
                          detail=say("lower priority numbers first, and jobs of equal priority in the "
                                     "order they were submitted",
                                     "优先级数字小的先处理，优先级相同的按提交的先后处理"),
                          hint=HINT_TIEBREAK)
    expect_returned(mod, got["joined"], "join()", say("after the 9 jobs", "9 个 job 之后"),
                    hint=HINT_TASK_DONE)


@check(points=2, title=say("jobs come out by priority, equal priorities first come first served",
                           "job 按优先级出队，优先级相同的先来先处理"), hint=HINT_TIEBREAK)
def test_priority_order_one_worker(student):
    check_order(student, "str")


@check(points=1, title=say("jobs that cannot be compared (dicts) with equal priorities",
                           "无法比较的 job（字典）优先级相同时"), hint=HINT_TIEBREAK)
def test_unorderable_jobs(student):
    check_order(student, "dict")


@check(points=2, title=say("join() returns once every job has been handled, not before",
                           "join() 在每个 job 都处理完之后返回，不早也不晚"), hint=HINT_TASK_DONE)
def test_join_waits_for_every_job(student):
    mod, got = probe(student, "join_waits", 3, 9)
    what = say("Dispatcher(handler, workers=3), 9 jobs, join() called while 3 of them were being "
               "handled", "Dispatcher(handler, workers=3)，9 个 job，在其中 3 个正在处理时调用 join()")
    joined = got["joined"]
    if joined.get("handled") is not None and joined["handled"] < 9:
        raise CheckFailed(say("{what}: join() returned when only {k} of the 9 jobs had been handled",
                              "{what}：只处理完 9 个 job 中的 {k} 个时，join() 就返回了",
                              what=what, k=joined["handled"]), hint=HINT_TASK_DONE)
    if not got["done"] and joined["never"] != "task_done":
        stopped(mod, "Dispatcher")
        raise CheckFailed(say("{what}: only {k} of the 9 jobs were handled",
                              "{what}：9 个 job 只处理了 {k} 个", what=what, k=got["handled"]),
                          hint=HINT_WORKERS)
    expect_returned(mod, joined, "join()", what, hint=HINT_TASK_DONE)


@check(points=1, title=say("the workers handle jobs at the same time",
                           "多个 worker 同时处理 job"), hint=HINT_WORKERS)
def test_workers_run_in_parallel(student):
    mod, got = probe(student, "parallel", 3)
    if got["met"] != [True, True, True]:
        raise CheckFailed(say("Dispatcher(handler, workers=3) with 3 jobs that each wait (5 s at "
                              "most) until all 3 are being handled at once: they never were",
                              "Dispatcher(handler, workers=3)，3 个 job 各自最多等 5 秒，直到 3 个同时"
                              "在处理：它们始终没有同时在处理"),
                          detail=say("the handler ran in {n} thread(s); the Dispatcher started "
                                     "{w} thread(s)", "handler 在 {n} 个线程里运行过；Dispatcher "
                                     "启动了 {w} 个线程", n=got["threads"], w=got["workers"]))
    expect_returned(mod, got["joined"], "join()", say("after 3 jobs", "3 个 job 之后"),
                    hint=HINT_TASK_DONE)


@check(points=1, title=say("the undo stack gives back the last action first (LIFO)",
                           "撤销栈先还回最后一个动作（后进先出）"), hint=HINT_UNDO)
def test_undo_stack_lifo(student):
    _, got = probe(student, "undo_case", 4, 50)
    if got["first"] != ["c", "b", "a", None]:
        raise CheckFailed(say("push('a'), push('b'), push('c'), then undo() four times",
                              "push('a')、push('b')、push('c')，然后调用四次 undo()"),
                          expected=["c", "b", "a", None], got=got["first"])
    undone = got["undone"]
    if len(undone) != 200:
        raise CheckFailed(say("4 threads pushed 50 actions each at once, then undo() until None: "
                              "the number of actions undone", "4 个线程同时各 push 50 个动作，然后反复 "
                              "undo() 直到返回 None：撤销出来的动作个数"), expected=200,
                          got=len(undone))
    for t in range(4):
        mine = [i for tt, i in undone if tt == t]
        if mine != list(range(49, -1, -1)):
            raise CheckFailed(say("4 threads pushed 50 actions each at once: thread {t}'s actions "
                                  "as undo() gave them back", "4 个线程同时各 push 50 个动作：undo() "
                                  "还回的线程 {t} 的动作", t=t + 1),
                              expected="[49, 48, ..., 0]", got=mine[:8] + (["..."] if len(mine) > 8
                                                                           else []))


@check(points=1, hidden=True, title=say("a job whose handler raises does not stop its worker",
                                        "handler 抛出异常的 job 不会让 worker 停下"), hint=HINT_ERRORS)
def test_handler_error_does_not_stop_worker(student):
    mod, got = probe(student, "errors_case")
    what = say("Dispatcher(handler, workers=1), jobs 'ok 1', 'boom', 'ok 2'; the handler raises "
               "ValueError for 'boom'", "Dispatcher(handler, workers=1)，job 依次是 'ok 1'、'boom'、"
               "'ok 2'；handler 处理 'boom' 时抛出 ValueError")
    if got["handled"] != ["ok 1", "boom", "ok 2"]:
        if got["workers_alive"] == 0:
            stopped(mod, "Dispatcher")
        raise CheckFailed(say("{what}: the jobs the handler was given", "{what}：交给 handler 的 job",
                              what=what), expected=["ok 1", "boom", "ok 2"], got=got["handled"],
                          detail=say("the worker thread died with the exception",
                                     "worker 线程随着这个异常死掉了") if got["workers_alive"] == 0
                          else None)
    expect_returned(mod, got["joined"], "join()", what, hint=HINT_TASK_DONE)
    want = [["boom", "ValueError: job 'boom' failed on purpose"]]
    if got["errors"] != want:
        raise CheckFailed(say("{what}: Dispatcher.errors", "{what}：Dispatcher.errors", what=what),
                          expected=want, got=got["errors"])


@check(points=2, hidden=True, title=say("4 producers submit 800 jobs at once: each handled exactly once",
                                        "4 个生产者同时提交 800 个 job：每个恰好处理一次"),
       hint=HINT_WORKERS)
def test_many_producers(student):
    mod, got = probe(student, "many", 4, 200, 3, 11)
    what = say("4 threads submitting 200 jobs each at once, random priorities, 3 workers",
               "4 个线程同时各提交 200 个 job，优先级随机，3 个 worker")
    if got["failures"]:
        error = got["failures"][0]
        raise CheckFailed(raised("submit()", error), detail=where(error), hint=HINT_TIEBREAK)
    if got["handled"] != 800 or got["distinct"] != 800:
        if got["workers_alive"] == 0:
            stopped(mod, "Dispatcher")
        raise CheckFailed(say("{what}: jobs handled (distinct ones)", "{what}：处理过的 job（不同的个数）",
                              what=what), expected="800 (800)",
                          got=f"{got['handled']} ({got['distinct']})",
                          detail=say("handled twice: {twice}", "处理了两次的：{twice}",
                                     twice=", ".join(got["twice"])) if got["twice"] else None)
    expect_returned(mod, got["joined"], "join()", what, hint=HINT_TASK_DONE)


@check(points=1, hidden=True, title=say("idle workers sleep in get() instead of polling",
                                        "空闲的 worker 在 get() 里睡眠，而不是轮询"), hint=HINT_IDLE)
def test_idle_workers_block(student):
    mod, got = probe(student, "idle_case", 3, 6)
    expect_returned(mod, got["joined"], "join()", say("after 6 jobs", "6 个 job 之后"),
                    hint=HINT_TASK_DONE)
    busy = wait_asleep(mod.proc.pid, timeout=3.0)
    if busy:
        stopped(mod, "Dispatcher")
        raise CheckFailed(say("Dispatcher(handler, workers=3) after its 6 jobs were handled and "
                              "join() returned: with nothing left to do, {n} of the process's "
                              "threads kept running for 3 s", "Dispatcher(handler, workers=3) 的 6 个 "
                              "job 都处理完、join() 也返回之后：明明无事可做，进程里仍有 {n} 个线程持续运行了 3 秒",
                              n=len(busy)),
                          expected=say("every thread asleep (waiting in get())",
                                       "所有线程都在睡眠（在 get() 里等待）"),
                          got=say("{n} running", "{n} 个在运行", n=len(busy)))


@check(points=1, hidden=True, title=say("close() handles what is queued, then stops every worker",
                                        "close() 处理完队列里的 job，再让每个 worker 停下"),
       hint=HINT_CLOSE)
def test_close_stops_workers(student):
    mod, got = probe(student, "close_case", 3, 6)
    what = say("Dispatcher(handler, workers=3), 6 jobs, then close()",
               "Dispatcher(handler, workers=3)，6 个 job，然后 close()")
    closed = got["closed"]
    if closed.get("error"):
        raise CheckFailed(raised("close()", closed["error"]), detail=where(closed["error"]),
                          hint=HINT_CLOSE)
    if not closed["returned"]:
        stopped(mod, "Dispatcher.close")
        if closed.get("never") == "stop":
            raise CheckFailed(say("{what}: close() never returns: every job is done and the queue "
                                  "is empty, yet {alive} of the {n} worker threads still wait in "
                                  "get() - no stop item is coming for them",
                                  "{what}：close() 永远不会返回：所有 job 都处理完了，队列也空了，可 {n} 个 "
                                  "worker 线程中仍有 {alive} 个在 get() 里等着——不会再有停止标记来找它们了",
                                  what=what, alive=got["workers_alive"], n=got["workers"]))
        raise CheckFailed(say("{what}: close() had not returned after 5 s; {alive} of the {n} worker "
                              "threads were still running", "{what}：5 秒后 close() 还没有返回；{n} 个 "
                              "worker 线程中仍有 {alive} 个在运行", what=what,
                              alive=got["workers_alive"], n=got["workers"]))
    if got["handled"] != 6:
        raise CheckFailed(say("{what}: the jobs handled before the workers stopped",
                              "{what}：worker 停下之前处理过的 job", what=what), expected=6,
                          got=got["handled"])
    if got["workers_alive"]:
        raise CheckFailed(say("{what}: close() returned with {alive} of the {n} worker threads "
                              "still running", "{what}：close() 返回时，{n} 个 worker 线程中仍有 "
                              "{alive} 个在运行", what=what, alive=got["workers_alive"],
                              n=got["workers"]))
