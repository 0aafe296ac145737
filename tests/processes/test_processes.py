"""processes: the graded suite.

workers.py is called through the call driver; the work it runs is the test's own (jobs.py,
installed in the working copy), and the jobs report to the check's rendezvous service
(grader/harness/rendezvous.py): which process ran each item (pid and parent pid, as the
student's processes see them), what class of process it was, how many workers were inside at
once. /proc (grader/harness/proctree.py) tells which processes are left, zombies included.

Nothing is timed. Parallel work is proved by a gate the test opens only when every worker is
waiting at it at the same time; a serial program (run() instead of start(), join() inside the
start loop) never gets there, and is recognised as soon as its processes sit idle, waiting for
the test (proctree.Idle: no CPU used, nothing runnable - load cannot fake it), so it fails in
about 2 s. Results out of order are made, not hoped for: the first item's worker is held at a
gate until the other workers have ended (seen in /proc), so its result arrives last.
"""
from __future__ import annotations

from grader.harness import CheckFailed, StudentRaised, StudentTimeout, check, proctree, say

ITEMS_ORDER = [7, 3, 5, 1, 9]   # the first one (7) is held back until the others have ended

JOBS = '''
"""The test's jobs: each reports to the check's rendezvous service, then does its work."""
import multiprocessing
import os

import netlab_rv


def square(x):
    netlab_rv.log("ran", x=x, ppid=os.getppid())
    return x * x


def together(x):
    netlab_rv.log("ran", x=x, ppid=os.getppid())
    with netlab_rv.inside("work"):
        netlab_rv.wait_gate("go", timeout=60)
    return x * x


def first_last(x):
    netlab_rv.log("ran", x=x, ppid=os.getppid())
    if x == FIRST:
        netlab_rv.wait_gate("first", timeout=60)
    return x * x


def which_class(x):
    cls = type(multiprocessing.current_process())
    netlab_rv.log("class", x=x, name=cls.__name__, mro=[c.__name__ for c in cls.__mro__],
                  own_run=getattr(cls, "run", None) is not multiprocessing.Process.run)
    return x * x


def linger():
    netlab_rv.log("daemon", ppid=os.getppid())
    netlab_rv.wait_gate("never", timeout=60)
    netlab_rv.log("outlived")


def hello():
    netlab_rv.log("hello", ppid=os.getppid())
'''.replace("FIRST", str(ITEMS_ORDER[0]))

# -- hints -------------------------------------------------------------------------------------

HINT_START = say(
    "start() asks the operating system for a new process, which then calls run() there; "
    "calling run() yourself runs the work in the calling process, like any method",
    "start() 请操作系统创建一个新进程，由新进程去调用 run()；自己直接调用 run()，工作就在当前进程里执行，"
    "和调用普通方法没有区别")
HINT_TOGETHER = say(
    "start every worker first, then join them in a second loop: join() waits until that "
    "process has ended, so join() inside the start loop runs the workers one after another",
    "先把所有工作进程都 start()，再在第二个循环里 join()：join() 会一直等到那个进程结束，所以在 start "
    "的循环里 join()，工作进程就只能一个接一个地运行")
HINT_ORDER = say(
    "workers end in any order: send (index, result) through the Queue and put each result at "
    "its index, instead of keeping them in the order they arrive",
    "工作进程结束的先后是不确定的：通过 Queue 发送 (index, result)，按 index 把结果放回原位，"
    "而不是按到达的先后保存")
HINT_JOIN = say(
    "join() every worker before you return: it waits for the process to end and reaps it - "
    "a process that ended and was never joined stays behind as a zombie process",
    "返回之前对每个工作进程调用 join()：它等进程结束并回收它——结束了却从没被 join() 的进程会留下来，"
    "成为僵尸进程")
HINT_SUBCLASS = say(
    "the second way to create a process: class MapWorker(Process) with its own run() (the "
    "work), and __init__ calling super().__init__() first; parallel_map starts MapWorker objects",
    "创建进程的第二种方式：class MapWorker(Process)，自己定义 run()（要做的工作），__init__ 里先调用 "
    "super().__init__()；parallel_map 启动的是 MapWorker 对象")
HINT_DAEMON = say(
    "Process(target=func, daemon=True) - or p.daemon = True - before start(): when the main "
    "process ends, multiprocessing terminates its daemon children; it waits (join) for the others",
    "在 start() 之前写 Process(target=func, daemon=True)——或者 p.daemon = True：主进程结束时，"
    "multiprocessing 会终止它的守护子进程；对其他子进程，它会等（join）它们结束")
HINT_BACKGROUND = say(
    "start_daemon() starts the process and returns its pid at once: no join(), the daemon keeps "
    "running in the background",
    "start_daemon() 启动进程后立刻返回它的 pid：不要 join()，守护进程在后台继续运行")
HINT_AFTER_START = say(
    "the daemon setter is `assert self._popen is None, 'process has already started'`: it raises "
    "AssertionError; catch that, then join() the process",
    "daemon 的 setter 里是 `assert self._popen is None, 'process has already started'`：它抛出的是 "
    "AssertionError；捕获它，然后 join() 这个进程")


def setup(student, timeout: float = 30):
    rv = student.rendezvous()
    rv.install("jobs.py", JOBS)
    return rv, student.module("workers", timeout=timeout)


def hint_for(exc: StudentRaised, default):
    if "can only join a started process" in exc.message:
        return say("join() raised because the process was never started: you called run() "
                   "(the work, in this process) where start() (a new process) was meant",
                   "join() 抛出异常，因为这个进程根本没有启动：你调用的是 run()（在当前进程里干活），"
                   "而应该调用 start()（创建新进程）")
    return default


def value_of(pending, call: str, hint, timeout: float | None = None):
    """What the call returned, or feedback (raised, stub, did not return)."""
    try:
        return pending.result(timeout)
    except StudentRaised as exc:
        raise CheckFailed(exc.summary(call), detail=exc.where(), hint=hint_for(exc, hint)) from None
    except StudentTimeout as exc:
        raise CheckFailed(str(exc), hint=hint) from None


def expect_squares(got, items, call: str, hint) -> None:
    """The right results, in any order. The order in which workers end is the machine's, so
    only a check that forces that order judges the order of the results: anywhere else a
    results-in-finishing-order bug would pass or fail by chance."""
    want = [x * x for x in items]
    if got == want or (isinstance(got, list) and sorted(map(repr, got)) == sorted(map(repr, want))):
        return
    raise CheckFailed(say("what {call} returned", "{call} 的返回值", call=call),
                      expected=want, got=got, has_got=True, hint=hint)


def driver_pid(mod) -> int | None:
    """The pid of the process running workers.py, as the student's processes see it."""
    return proctree.nspid(mod.proc.pid)


def describe_children(kids: dict[int, str]):
    zombies = sum(1 for s in kids.values() if s == "Z")
    running = len(kids) - zombies
    return say("{z} zombie process(es) (ended, never joined) and {r} still running",
               "{z} 个僵尸进程（已结束，但从没被 join()）和 {r} 个仍在运行的进程", z=zombies, r=running)


# -- parallel_map ----------------------------------------------------------------------------------

@check(points=1, title=say("parallel_map returns func(x) for every item",
                           "parallel_map 返回每一项的 func(x)"),
       hint=say("one MapWorker per item; each puts (index, func(item)) on a multiprocessing.Queue; "
                "the parent takes one result per worker and puts it at its index",
                "每一项一个 MapWorker；每个工作进程把 (index, func(item)) 放进 multiprocessing.Queue；"
                "父进程为每个工作进程取一个结果，放到对应的下标处"))
def test_map_returns_results(student):
    rv, mod = setup(student)
    items = [3, 1, 4, 1, 5, 9, 2, 6]
    call = f"parallel_map(jobs.square, {items})"
    got = value_of(mod.start("parallel_map", student.callable("jobs:square"), items), call, None)
    expect_squares(got, items, call, None)
    got = value_of(mod.start("parallel_map", student.callable("jobs:square"), []),
                   "parallel_map(jobs.square, [])", None)
    if got != []:
        raise CheckFailed(say("what parallel_map(jobs.square, []) returned",
                              "parallel_map(jobs.square, []) 的返回值"), expected=[], got=got,
                          has_got=True, hint=say("no items: no workers, and an empty list",
                                                 "没有任何项：不启动工作进程，返回空列表"))


@check(points=2, title=say("each item runs in a worker process of its own",
                           "每一项都在一个单独的工作进程里运行"), hint=HINT_START)
def test_map_runs_in_other_processes(student):
    rv, mod = setup(student)
    items = [2, 3, 5, 7]
    call = f"parallel_map(jobs.square, {items})"
    got = value_of(mod.start("parallel_map", student.callable("jobs:square"), items), call, HINT_START)
    expect_squares(got, items, call, HINT_START)
    me = driver_pid(mod)
    ran = rv.log_of("ran")
    pids = sorted({e["pid"] for e in ran})
    if me in pids:
        raise CheckFailed(
            say("{n} of the {total} items ran in the process that called parallel_map itself "
                "(pid {pid}), not in a new process",
                "{total} 项中有 {n} 项是在调用 parallel_map 的进程自己（pid {pid}）里运行的，而不是在新进程里",
                n=sum(e["pid"] == me for e in ran), total=len(items), pid=me),
            expected=say("{n} worker processes, one per item, each a child of pid {pid}",
                         "{n} 个工作进程，每项一个，都是 pid {pid} 的子进程", n=len(items), pid=me),
            got=say("the pids that ran the items: {pids}", "运行这些项的 pid：{pids}", pids=pids))
    if len(pids) != len(items) or len(ran) != len(items):
        raise CheckFailed(
            say("{total} items ran in {n} process(es)", "{total} 项在 {n} 个进程里运行",
                total=len(items), n=len(pids)),
            expected=say("{n} worker processes, one per item", "{n} 个工作进程，每项一个", n=len(items)),
            got=say("pids {pids}", "pid {pids}", pids=pids),
            hint=say("one worker process per item: a MapWorker for each, each started",
                     "每一项一个工作进程：每项一个 MapWorker，每个都要 start()"))
    strangers = sorted({e["data"]["ppid"] for e in ran} - {me})
    if strangers:
        raise CheckFailed(
            say("the workers are not children of the process that called parallel_map (pid {pid})",
                "工作进程不是调用 parallel_map 的进程（pid {pid}）的子进程", pid=me),
            expected=say("parent pid {pid} for every worker", "每个工作进程的父进程 pid 都是 {pid}", pid=me),
            got=say("parent pids {pids}", "父进程 pid {pids}", pids=sorted({e["data"]["ppid"] for e in ran})),
            hint=say("start the workers from parallel_map itself, with Process.start()",
                     "在 parallel_map 里直接用 Process.start() 启动工作进程"))


@check(points=2, title=say("all the workers run at the same time", "所有工作进程同时运行"),
       hint=HINT_TOGETHER, time_limit=40)
def test_map_workers_run_at_once(student):
    rv, mod = setup(student)
    items = [1, 2, 3, 4]
    call = f"parallel_map(jobs.together, {items})"
    pending = mod.start("parallel_map", student.callable("jobs:together"), items)
    most = proctree.gather(rv, mod.proc, "work", len(items), gate="go", stop=pending.done)
    got = value_of(pending, call, HINT_TOGETHER)
    if most < len(items):
        one_pid = len({e["pid"] for e in rv.log_of("ran")}) <= 1
        raise CheckFailed(
            say("only {most} of the {n} workers was ever running at once: each job waits until "
                "all {n} are running together, and they never were",
                "{n} 个工作进程中同一时刻最多只有 {most} 个在运行：每个任务都要等到 {n} 个一起运行，"
                "而这从来没有发生", most=most, n=len(items)),
            expected=say("{n} workers inside at once", "同时有 {n} 个工作进程在里面", n=len(items)),
            got=say("at most {most}", "最多 {most} 个", most=most),
            hint=HINT_START if one_pid else HINT_TOGETHER)
    expect_squares(got, items, call, HINT_TOGETHER)


@check(points=2, hidden=True, title=say("results come back in input order, whatever order the workers end in",
                                        "无论工作进程以什么顺序结束，结果都按输入的顺序返回"),
       hint=HINT_ORDER, time_limit=40)
def test_map_keeps_input_order(student):
    rv, mod = setup(student)
    items = ITEMS_ORDER
    first = items[0]
    call = f"parallel_map(jobs.first_last, {items})"
    pending = mod.start("parallel_map", student.callable("jobs:first_last"), items)

    def others_ended() -> bool:
        ran = {e["data"]["x"]: e["pid"] for e in rv.log_of("ran")}
        if len(ran) < len(items):
            return False
        tree = proctree.members(mod.proc)
        return all(pid not in tree or tree[pid].state == "Z"
                   for x, pid in ran.items() if x != first)

    proctree.wait_until(others_ended, mod.proc, stop=pending.done)
    rv.open_gate("first")
    got = value_of(pending, call, HINT_ORDER)
    want = [x * x for x in items]
    if got != want:
        detail = None
        if isinstance(got, list) and sorted(map(repr, got)) == sorted(map(repr, want)):
            detail = say("the worker of {first} (the first item) was held back until the other "
                         "workers had ended, so its result arrived last - and it is where your "
                         "list has it", "{first}（第一项）的工作进程被拦住，直到其他工作进程都结束了才放行，"
                         "所以它的结果最后到达——你的列表也就把它放在了那里", first=first)
        raise CheckFailed(say("what {call} returned", "{call} 的返回值", call=call),
                          expected=want, got=got, has_got=True, detail=detail)


@check(points=1, title=say("parallel_map joins every worker: no zombie or worker left behind",
                           "parallel_map 对每个工作进程都 join()：不留下僵尸进程或工作进程"),
       hint=HINT_JOIN)
def test_map_joins_every_worker(student):
    rv, mod = setup(student)
    items = [1, 2, 3, 4, 5]
    call = f"parallel_map(jobs.square, {items})"
    got = value_of(mod.start("parallel_map", student.callable("jobs:square"), items), call, HINT_JOIN)
    expect_squares(got, items, call, HINT_JOIN)
    kids = proctree.children(mod.proc)
    if kids:
        raise CheckFailed(
            say("after {call} returned, its process still had {n} child process(es)",
                "{call} 返回之后，它的进程还有 {n} 个子进程", call=call, n=len(kids)),
            expected=say("no child process: every worker ended and was joined",
                         "没有子进程：每个工作进程都已结束并被 join()"),
            got=describe_children(kids))


@check(points=1, hidden=True, title=say("the workers are MapWorker processes (a Process subclass with run)",
                                        "工作进程是 MapWorker 进程（带 run 方法的 Process 子类）"),
       hint=HINT_SUBCLASS)
def test_map_uses_a_process_subclass(student):
    rv, mod = setup(student)
    items = [4, 6]
    call = f"parallel_map(jobs.which_class, {items})"
    got = value_of(mod.start("parallel_map", student.callable("jobs:which_class"), items), call,
                   HINT_SUBCLASS)
    expect_squares(got, items, call, HINT_SUBCLASS)
    for e in rv.log_of("class"):
        data = e["data"]
        if data["name"] == "_MainProcess":
            raise CheckFailed(
                say("the item {x} ran in the main process, not in a worker process",
                    "第 {x} 项在主进程里运行，而不是在工作进程里", x=data["x"]),
                expected=say("a MapWorker process", "一个 MapWorker 进程"),
                got=say("the process that called parallel_map", "调用 parallel_map 的那个进程"),
                hint=HINT_START)
        if "Process" not in data["mro"] or data["name"] == "Process" or not data["own_run"]:
            raise CheckFailed(
                say("the item {x} ran in a {name} process, which does not override run()",
                    "第 {x} 项在一个 {name} 进程里运行，而这个类没有重写 run()", x=data["x"],
                    name=data["name"]),
                expected=say("a subclass of Process with its own run()", "一个有自己的 run() 的 Process 子类"),
                got=say("class {name}, base classes {mro}", "类 {name}，基类 {mro}", name=data["name"],
                        mro=" -> ".join(data["mro"])))


# -- daemon --------------------------------------------------------------------------------------

@check(points=2, title=say("a daemon process ends when its parent process ends",
                           "父进程结束时，守护进程也随之结束"),
       hint=HINT_DAEMON, time_limit=40)
def test_daemon_dies_with_parent(student):
    rv, mod = setup(student)
    call = "start_daemon(jobs.linger)"
    pending = mod.start("start_daemon", student.callable("jobs:linger"))
    if proctree.wait_until(pending.done, mod.proc) != "ok":
        kids = proctree.children(mod.proc)
        raise CheckFailed(
            say("{call} did not return while its daemon process was running",
                "守护进程还在运行时，{call} 没有返回", call=call),
            expected=say("the daemon's pid, at once", "立刻返回守护进程的 pid"),
            got=say("no answer; the process had {n} child process(es) and sat idle, waiting",
                    "没有返回；这个进程有 {n} 个子进程，它停在那里等待", n=len(kids)),
            hint=HINT_BACKGROUND)
    pid = value_of(pending, call, HINT_DAEMON)
    if not rv.wait_for(lambda r: r.log_of("daemon"), timeout=10):
        raise CheckFailed(say("the process started by {call} never ran jobs.linger",
                              "{call} 启动的进程从来没有运行 jobs.linger", call=call),
                          expected=say("jobs.linger running in a new process", "jobs.linger 在新进程里运行"),
                          got=say("nothing ran", "什么也没有运行"), hint=HINT_DAEMON)
    event = rv.log_of("daemon")[0]
    me = driver_pid(mod)
    if event["pid"] == me or event["pid"] != pid:
        raise CheckFailed(say("{call} returned {got}, but jobs.linger ran in pid {ran}",
                              "{call} 返回了 {got}，但 jobs.linger 是在 pid {ran} 里运行的",
                              call=call, got=pid, ran=event["pid"]),
                          expected=say("the pid of the new process (p.pid after p.start())",
                                       "新进程的 pid（p.start() 之后的 p.pid）"), got=pid, has_got=True,
                          hint=HINT_DAEMON)
    daemon = proctree.members(mod.proc).get(pid)
    mod.proc.close_stdin()  # the driver's input ends: its main program ends, as a script's would
    outcome = proctree.wait_until(lambda: not mod.proc.alive(), mod.proc)
    if outcome != "ok":
        raise CheckFailed(
            say("the main program ended, but its process did not: it sat waiting for the child "
                "started by {call}", "主程序已经结束，但它的进程没有退出：它停在那里等 {call} 启动的子进程",
                call=call),
            expected=say("the daemon process terminated, the parent gone", "守护进程被终止，父进程退出"),
            got=say("the parent still waiting (join) for a child that is not a daemon",
                    "父进程仍在等（join）一个不是守护进程的子进程"))
    if daemon is not None and proctree.wait_until(
            lambda: not proctree.alive(daemon.outer, daemon.starttime), None, timeout=10) != "ok":
        raise CheckFailed(
            say("the parent process ended, and its daemon child (pid {pid}) is still running",
                "父进程已经结束，它的守护子进程（pid {pid}）却还在运行", pid=pid),
            expected=say("the daemon ended with its parent", "守护进程随父进程一起结束"),
            got=say("an orphan process, still running", "一个仍在运行的孤儿进程"))
    if rv.log_of("outlived"):
        raise CheckFailed(say("the daemon process outlived its parent", "守护进程比它的父进程活得还久"),
                          expected=say("the daemon ended with its parent", "守护进程随父进程一起结束"),
                          got=say("it was still running when the parent's end was seen",
                                  "父进程结束之后，它还在运行"))


@check(points=1, title=say("setting daemon after start() raises (the note says so: checked)",
                           "start() 之后再设置 daemon 会报错（笔记这么说：验证一下）"),
       hint=HINT_AFTER_START)
def test_daemon_after_start_raises(student):
    rv, mod = setup(student)
    call = "daemon_after_start(jobs.hello)"
    got = value_of(mod.start("daemon_after_start", student.callable("jobs:hello")), call,
                   HINT_AFTER_START)
    want_keys = {"raised", "message", "pid", "exitcode"}
    if not isinstance(got, dict) or set(got) != want_keys:
        raise CheckFailed(say("what {call} returned", "{call} 的返回值", call=call),
                          expected=say("a dict with the keys {keys}", "一个含有键 {keys} 的 dict",
                                       keys=sorted(want_keys)), got=got, has_got=True)
    ran = rv.log_of("hello")
    if len(ran) != 1 or ran[0]["pid"] != got["pid"] or got["pid"] == driver_pid(mod):
        raise CheckFailed(say("{call}: the process it started is not the one that ran jobs.hello",
                              "{call}：它启动的进程并不是运行 jobs.hello 的那个进程", call=call),
                          expected=say("'pid': the pid of the started process, which ran jobs.hello once",
                                       "'pid'：所启动进程的 pid，这个进程运行了一次 jobs.hello"),
                          got=say("'pid': {pid}; jobs.hello ran in {ran}", "'pid'：{pid}；jobs.hello 在 {ran} 里运行",
                                  pid=got["pid"], ran=[e["pid"] for e in ran]))
    want = {"raised": "AssertionError", "message": "process has already started",
            "pid": got["pid"], "exitcode": 0}
    if got != want:
        raise CheckFailed(say("what {call} returned", "{call} 的返回值", call=call),
                          expected=want, got=got, has_got=True)
