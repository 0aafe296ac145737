"""zombies: the graded suite.

reaper.py is called through the call driver; its children run the test's own jobs (jobs.py in
the working copy), which report to the check's rendezvous service and wait at its gates, so the
test decides when each child ends. What is left behind is read from /proc
(grader/harness/proctree.py): a child that ended and was not reaped shows as state Z in its
parent's children; an orphan's parent is whoever adopted it.

Nothing is timed. A zombie that will stay is recognised when the student's processes sit idle
(no CPU used, nothing runnable) with a zombie still among the children: nothing is left that
could reap it. A SIGCHLD storm is made, not hoped for: the parent is stopped (SIGSTOP) while
20 children end, so their 20 SIGCHLDs become one pending signal, and it is continued (SIGCONT)
once every child is a zombie.
"""
from __future__ import annotations

import os
import signal

from grader.harness import CheckFailed, StudentRaised, StudentTimeout, check, proctree, say

JOBS = '''
"""The test's jobs: each runs in a child of reaper.py and reports to the check's rendezvous."""
import os

import netlab_rv


def exit_with(code):
    netlab_rv.log("child", code=code, ppid=os.getppid())
    with netlab_rv.inside("alive"):
        netlab_rv.wait_gate("exit", timeout=60)
    return code


def exit_in_turn(code):
    netlab_rv.log("child", code=code, ppid=os.getppid())
    with netlab_rv.inside("alive"):
        netlab_rv.wait_gate(f"exit-{code}", timeout=60)
    return code


def quick(code):
    return code


def orphan():
    netlab_rv.log("orphan", ppid=os.getppid())
    with netlab_rv.inside("orphan"):
        netlab_rv.wait_gate("adopted", timeout=60)
    netlab_rv.log("adopted", ppid=os.getppid())
    return 0
'''

# -- hints -------------------------------------------------------------------------------------

HINT_REAP = say(
    "a child that has ended stays a zombie process until its parent collects its exit status "
    "with os.waitpid(); install() a SIGCHLD handler that does it, so children are reaped while "
    "the parent does other things",
    "子进程结束之后会一直是僵尸进程，直到父进程用 os.waitpid() 取走它的退出状态；用 install() 装一个做"
    "这件事的 SIGCHLD 处理函数，父进程忙别的事时，子进程也能被回收")
HINT_STORM = say(
    "signals of one kind do not queue up: one SIGCHLD may stand for many children. In the "
    "handler, loop os.waitpid(-1, os.WNOHANG) until it returns pid 0 or raises "
    "ChildProcessError - never reap just one",
    "同一种信号不会排队：一个 SIGCHLD 可能代表好几个子进程。在处理函数里循环调用 "
    "os.waitpid(-1, os.WNOHANG)，直到它返回 pid 0 或抛出 ChildProcessError——绝不能只回收一个")
HINT_STATUS = say(
    "waitpid() gives a raw status, not the exit code: os.waitstatus_to_exitcode(status) turns it "
    "into the code (0..255) or -N for a child killed by signal N",
    "waitpid() 返回的是原始状态值，不是退出码：os.waitstatus_to_exitcode(status) 把它换成退出码"
    "（0..255），被信号 N 杀死的子进程则是 -N")
HINT_SLEEP = say(
    "let the kernel wake you: a SIGCHLD handler (or a thread blocked in os.waitpid(-1, 0)) costs "
    "nothing while no child ends; a loop around os.waitpid(-1, os.WNOHANG) burns a whole CPU core",
    "让内核来叫醒你：SIGCHLD 处理函数（或者阻塞在 os.waitpid(-1, 0) 上的线程）在没有子进程结束时"
    "不花任何代价；围着 os.waitpid(-1, os.WNOHANG) 打转的循环会占满一整个 CPU 核")
HINT_PILE = say(
    "a zombie still holds its pid and counts as a process of your user: a program that forks "
    "and never reaps can, after a while, fork no more (BlockingIOError: Resource temporarily "
    "unavailable)",
    "僵尸进程仍然占着它的 pid，仍然算作你这个用户的一个进程：只 fork 从不回收的程序，过一阵子就再也"
    " fork 不出来了（BlockingIOError: Resource temporarily unavailable）")
HINT_ORPHAN = say(
    "fork twice: the middle child forks the grandchild (which runs func) and ends at once with "
    "os._exit(0); the grandchild, whose parent is gone, is an orphan and gets adopted",
    "fork 两次：中间的子进程 fork 出孙进程（由它运行 func），然后立刻用 os._exit(0) 结束；孙进程的"
    "父进程没了，它就成了孤儿进程，会被收养")
HINT_MIDDLE = say(
    "the middle child ends at once - and it is your child: os.waitpid(middle, 0) right away, or "
    "it stays behind as a zombie",
    "中间的子进程马上就结束了——而它是你的子进程：立刻 os.waitpid(middle, 0)，否则它会留下来成为僵尸进程")


def setup(student, timeout: float = 20):
    rv = student.rendezvous()
    rv.install("jobs.py", JOBS)
    return rv, student.module("reaper", timeout=timeout)


def call(mod, func: str, *args, text: str, hint, timeout: float | None = None):
    """mod.func(*args)'s value, or feedback (raised, stub, did not return)."""
    try:
        return mod.call(func, *args, timeout=timeout)
    except StudentRaised as exc:
        raise CheckFailed(exc.summary(text), detail=exc.where(), hint=hint) from None
    except StudentTimeout as exc:
        raise CheckFailed(str(exc), hint=hint) from None


def reaped(mod, hint) -> dict[int, object]:
    got = call(mod, "reaped", text="reaped()", hint=hint)
    if not isinstance(got, dict):
        raise CheckFailed(say("what reaped() returned", "reaped() 的返回值"),
                          expected=say("a dict {pid: exit code}", "一个 dict {pid: 退出码}"),
                          got=got, has_got=True, hint=hint)
    try:
        return {int(k): v for k, v in got.items()}
    except ValueError:
        raise CheckFailed(say("what reaped() returned", "reaped() 的返回值"),
                          expected=say("a dict {pid: exit code}", "一个 dict {pid: 退出码}"),
                          got=got, has_got=True, hint=hint) from None


def start_children(mod, job: str, codes, hint) -> list[int]:
    from grader.harness import Callable
    pids = []
    for code in codes:
        pid = call(mod, "start", Callable(f"jobs:{job}"), code, text=f"start(jobs.{job}, {code})",
                   hint=hint)
        if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
            raise CheckFailed(say("what start(jobs.{job}, {code}) returned",
                                  "start(jobs.{job}, {code}) 的返回值", job=job, code=code),
                              expected=say("the child's pid (what os.fork() returned in the parent)",
                                           "子进程的 pid（os.fork() 在父进程里的返回值）"),
                              got=pid, has_got=True, hint=hint)
        pids.append(pid)
    return pids


def all_inside(rv, mod, tag: str, n: int, what) -> None:
    """Wait until n children wait at the gate (they were started and are running)."""
    outcome = proctree.wait_until(lambda: rv.now_inside(tag) >= n, mod.proc)
    if outcome != "ok":
        raise CheckFailed(say("only {k} of the {n} children started ran {what}",
                              "启动的 {n} 个子进程中只有 {k} 个运行了 {what}",
                              k=rv.now_inside(tag), n=n, what=what),
                          expected=say("{n} children, each running its job", "{n} 个子进程，各自运行自己的任务", n=n),
                          got=rv.now_inside(tag), has_got=True, hint=HINT_REAP)


def no_zombies_left(mod, *, after, hint, window: float = proctree.IDLE_SECONDS) -> None:
    """Wait until the student's process has no zombie child; fail once it sits idle with one."""
    outcome = proctree.wait_until(lambda: not proctree.zombies(mod.proc), mod.proc, window=window)
    if outcome == "ok":
        return
    kids = proctree.children(mod.proc)
    zombies = sorted(p for p, s in kids.items() if s == "Z")
    summary = say("after {after}, your process still had a zombie child, and sat idle: nothing "
                  "was going to reap it", "{after}之后，你的进程还有 1 个僵尸子进程，而且它停在那里什么也不做："
                  "没有谁会去回收它", after=after) if len(zombies) == 1 else say(
        "after {after}, your process still had {n} zombie children, and sat idle: nothing was "
        "going to reap them", "{after}之后，你的进程还有 {n} 个僵尸子进程，而且它停在那里什么也不做："
        "没有谁会去回收它们", after=after, n=len(zombies))
    raise CheckFailed(
        summary,
        expected=say("no zombie: every child that ended was reaped (os.waitpid)",
                     "没有僵尸进程：每个结束了的子进程都被回收（os.waitpid）"),
        got=say("child pids {pids} in state Z (zombie) in /proc",
                "/proc 里子进程 {pids} 的状态是 Z（僵尸）", pids=zombie_inner(mod, zombies)), hint=hint)


def zombie_inner(mod, outer: list[int]) -> list[int]:
    """The zombies' pids as the student's processes know them."""
    inner = {m.outer: m.inner for m in proctree.members(mod.proc).values()}
    return sorted(inner.get(p, p) for p in outer)


# -- reaping ------------------------------------------------------------------------------------

@check(points=1, title=say("start() runs func in a child process and returns its pid",
                           "start() 在子进程里运行 func 并返回它的 pid"),
       hint=say("pid = os.fork(): 0 in the child - run func(*args), then os._exit(its return "
                "value); the child's pid in the parent - return it",
                "pid = os.fork()：在子进程里得到 0——运行 func(*args)，然后 os._exit(它的返回值)；"
                "在父进程里得到子进程的 pid——把它返回"))
def test_start_runs_func_in_a_child(student):
    rv, mod = setup(student)
    call(mod, "install", text="install()", hint=HINT_REAP)
    [pid] = start_children(mod, "exit_with", [5], None)
    all_inside(rv, mod, "alive", 1, "jobs.exit_with")
    me = proctree.nspid(mod.proc.pid)
    [event] = rv.log_of("child")
    if event["pid"] != pid or event["data"]["ppid"] != me:
        raise CheckFailed(say("start(jobs.exit_with, 5) returned {pid}, but the job ran in pid {ran}, "
                              "whose parent is pid {ppid}",
                              "start(jobs.exit_with, 5) 返回了 {pid}，但任务是在 pid {ran} 里运行的，它的父进程是 pid {ppid}",
                              pid=pid, ran=event["pid"], ppid=event["data"]["ppid"]),
                          expected=say("a child of your process (pid {me}), and its pid returned",
                                       "你的进程（pid {me}）的一个子进程，并返回它的 pid", me=me),
                          got=say("pid {ran}, parent {ppid}", "pid {ran}，父进程 {ppid}", ran=event["pid"],
                                  ppid=event["data"]["ppid"]))
    rv.open_gate("exit")


@check(points=2, title=say("every child that ends is reaped, with its exit code",
                           "每个结束的子进程都被回收，并取得它的退出码"), hint=HINT_REAP)
def test_reaps_children_with_exit_codes(student):
    rv, mod = setup(student)
    call(mod, "install", text="install()", hint=HINT_REAP)
    codes = [0, 1, 2, 42, 255]
    pids = start_children(mod, "exit_in_turn", codes, HINT_REAP)
    all_inside(rv, mod, "alive", len(codes), "jobs.exit_in_turn")
    # One child ends at a time, each once the one before was reaped: every SIGCHLD then stands
    # for one child, whatever the machine's load (many ending at once is the storm check's).
    # A child left a zombie ends the turns: the rest go together, and the zombie is reported.
    for pid, code in zip(pids, codes):
        rv.open_gate(f"exit-{code}")
        outer = mod.proc.pid_of(pid)
        if proctree.wait_until(lambda: outer not in proctree.children(mod.proc), mod.proc) != "ok":
            for rest in codes:
                rv.open_gate(f"exit-{rest}")
            break
    proctree.wait_until(lambda: all(s == "Z" for s in proctree.children(mod.proc).values()), mod.proc)
    no_zombies_left(mod, after=say("{n} children had ended", "{n} 个子进程结束", n=len(codes)),
                    hint=HINT_REAP)
    got = reaped(mod, HINT_REAP)
    want = dict(zip(pids, codes))
    if got != want:
        raise CheckFailed(say("what reaped() returned after the children ended with exit codes {codes}",
                              "子进程以退出码 {codes} 结束之后，reaped() 的返回值", codes=codes),
                          expected=want, got=got, has_got=True,
                          hint=HINT_STATUS if set(got) == set(want) else HINT_REAP)


@check(points=1, hidden=True, title=say("a child killed by a signal is reported as -N",
                                        "被信号杀死的子进程报告为 -N"), hint=HINT_STATUS)
def test_killed_child_reported(student):
    rv, mod = setup(student)
    call(mod, "install", text="install()", hint=HINT_REAP)
    [pid] = start_children(mod, "exit_with", [3], HINT_REAP)
    all_inside(rv, mod, "alive", 1, "jobs.exit_with")
    outer = mod.proc.pid_of(pid)
    if outer is not None:
        os.kill(outer, signal.SIGKILL)
    proctree.wait_until(lambda: all(s == "Z" for s in proctree.children(mod.proc).values()), mod.proc)
    no_zombies_left(mod, after=say("the child was killed", "子进程被杀死"), hint=HINT_REAP)
    got = reaped(mod, HINT_STATUS)
    if got != {pid: -9}:
        raise CheckFailed(say("what reaped() returned after the test killed child pid {pid} with SIGKILL",
                              "测试用 SIGKILL 杀死子进程 {pid} 之后，reaped() 的返回值", pid=pid),
                          expected={pid: -9}, got=got, has_got=True)


@check(points=2, hidden=True, title=say("20 children ending at once leave no zombie (one SIGCHLD for many)",
                                        "20 个子进程同时结束，不留下僵尸进程（一个 SIGCHLD 代表多个子进程）"),
       hint=HINT_STORM, time_limit=40)
def test_no_zombies_after_a_storm(student):
    rv, mod = setup(student)
    call(mod, "install", text="install()", hint=HINT_REAP)
    codes = list(range(10, 30))
    pids = start_children(mod, "exit_with", codes, HINT_STORM)
    all_inside(rv, mod, "alive", len(codes), "jobs.exit_with")
    os.kill(mod.proc.pid, signal.SIGSTOP)   # the parent stops; its children run on
    try:
        proctree.wait_until(lambda: (proctree.stat(mod.proc.pid) or "T")[0] in "TtZX", None,
                            timeout=10)
        rv.open_gate("exit")
        # every child ends; the stopped parent cannot reap: 20 zombies, one SIGCHLD pending
        proctree.wait_until(lambda: list(proctree.children(mod.proc).values()) == ["Z"] * len(codes),
                            None, timeout=20)
    finally:
        os.kill(mod.proc.pid, signal.SIGCONT)
    got = reaped(mod, HINT_STORM)
    no_zombies_left(mod, after=say("{n} children ended while the test held your process stopped "
                                   "(SIGSTOP: one SIGCHLD pending for all of them) and let it go on "
                                   "(SIGCONT)", "测试让你的进程暂停（SIGSTOP：{n} 个子进程只留下一个待处理的 "
                                   "SIGCHLD），{n} 个子进程在此期间结束，然后让它继续运行（SIGCONT）",
                                   n=len(codes)), hint=HINT_STORM)
    got = reaped(mod, HINT_STORM)
    want = dict(zip(pids, codes))
    if got != want:
        raise CheckFailed(say("what reaped() returned after the storm", "这一阵 SIGCHLD 之后 reaped() 的返回值"),
                          expected=want, got=got, has_got=True)


@check(points=1, title=say("while no child ends, the parent sleeps (no busy polling)",
                           "没有子进程结束时，父进程在睡眠（不忙等轮询）"),
       hint=HINT_SLEEP, time_limit=30)
def test_parent_sleeps_while_idle(student):
    rv, mod = setup(student)
    call(mod, "install", text="install()", hint=HINT_SLEEP)
    pids = start_children(mod, "exit_with", [1, 2], HINT_SLEEP)
    all_inside(rv, mod, "alive", len(pids), "jobs.exit_with")
    # two children wait; the parent has nothing to do: it must sit still (no CPU, not runnable)
    if proctree.wait_until(lambda: False, mod.proc, window=0.5, timeout=8) != "idle":
        raise CheckFailed(
            say("while its children waited and nothing happened, your process kept running "
                "for 8 s", "子进程都在等待、什么事也没有发生时，你的进程却一直在运行了 8 秒"),
            expected=say("your process asleep until a child ends", "你的进程一直睡眠，直到有子进程结束"),
            got=say("busy: using the CPU or runnable at every look", "很忙：每次查看，它都在占用 CPU 或处于可运行状态"))
    rv.open_gate("exit")
    proctree.wait_until(lambda: all(s == "Z" for s in proctree.children(mod.proc).values()), mod.proc)
    no_zombies_left(mod, after=say("the 2 children had ended", "2 个子进程结束"), hint=HINT_REAP)


@check(points=2, hidden=True, title=say("128 children, 16 at a time: zombies never pile up",
                                        "128 个子进程，每批 16 个：僵尸进程不会越积越多"),
       hint=HINT_PILE, time_limit=60)
def test_zombies_do_not_pile_up(student):
    rv, mod = setup(student)
    call(mod, "install", text="install()", hint=HINT_PILE)
    started = 0
    for _ in range(8):
        try:
            start_children(mod, "quick", [7] * 16, HINT_PILE)
        except CheckFailed:
            zombies = len(proctree.zombies(mod.proc))
            raise CheckFailed(
                say("start() failed after {n} children had been started; your process had "
                    "{z} zombie children then",
                    "启动了 {n} 个子进程之后 start() 失败了；那时你的进程有 {z} 个僵尸子进程",
                    n=started, z=zombies),
                expected=say("128 children started, 16 at a time, each reaped once it ended",
                             "128 个子进程，每批 16 个，每个结束后都被回收"),
                got=say("no more processes: this check allows your programs 64 processes, and a "
                        "zombie still counts", "进程用完了：这项检查允许你的程序有 64 个进程，而僵尸进程也算在内"),
                hint=HINT_PILE) from None
        started += 16
        # this batch ends by itself; wait until none of them is still running
        proctree.wait_until(lambda: all(s == "Z" for s in proctree.children(mod.proc).values()),
                            mod.proc)
    no_zombies_left(mod, after=say("128 children had ended", "128 个子进程结束"), hint=HINT_PILE)
    got = reaped(mod, HINT_PILE)
    if len(got) != 128 or set(got.values()) != {7}:
        raise CheckFailed(say("reaped() after 128 children that each exited with code 7",
                              "128 个子进程都以退出码 7 结束之后的 reaped()"),
                          expected=say("128 entries, every exit code 7", "128 项，退出码都是 7"),
                          got=say("{n} entries, exit codes {codes}", "{n} 项，退出码 {codes}", n=len(got),
                                  codes=sorted(set(map(repr, got.values())))))


# -- orphans ------------------------------------------------------------------------------------

def orphan_setup(student):
    rv, mod = setup(student)
    pending = mod.start("spawn_orphan", student.callable("jobs:orphan"))
    text = "spawn_orphan(jobs.orphan)"
    if proctree.wait_until(pending.done, mod.proc) != "ok":
        raise CheckFailed(say("{call} did not return while the grandchild was running",
                              "孙进程还在运行时，{call} 没有返回", call=text),
                          expected=say("the grandchild's pid, at once", "立刻返回孙进程的 pid"),
                          got=say("no answer: your process sat waiting", "没有返回：你的进程停在那里等待"),
                          hint=HINT_ORPHAN)
    try:
        pid = pending.result()
    except StudentRaised as exc:
        raise CheckFailed(exc.summary(text), detail=exc.where(), hint=HINT_ORPHAN) from None
    if not rv.wait_for(lambda r: r.now_inside("orphan") >= 1, timeout=10):
        raise CheckFailed(say("{call} returned {pid}, but jobs.orphan never ran",
                              "{call} 返回了 {pid}，但 jobs.orphan 从来没有运行", call=text, pid=pid),
                          hint=HINT_ORPHAN)
    return rv, mod, pid, text


@check(points=2, title=say("spawn_orphan: the grandchild outlives its parent and is adopted",
                           "spawn_orphan：孙进程比它的父进程活得久，并被收养"), hint=HINT_ORPHAN)
def test_orphan_is_adopted(student):
    rv, mod, pid, text = orphan_setup(student)
    [born] = rv.log_of("orphan")
    me = proctree.nspid(mod.proc.pid)
    if born["pid"] != pid:
        raise CheckFailed(say("{call} returned {pid}, but jobs.orphan ran in pid {ran}",
                              "{call} 返回了 {pid}，但 jobs.orphan 是在 pid {ran} 里运行的",
                              call=text, pid=pid, ran=born["pid"]),
                          expected=say("the grandchild's pid", "孙进程的 pid"), got=pid, has_got=True)
    if born["data"]["ppid"] == me:
        raise CheckFailed(say("jobs.orphan ran in a child of your process, not in a grandchild",
                              "jobs.orphan 是在你的进程的子进程里运行的，而不是在孙进程里"),
                          expected=say("a grandchild, whose parent (the middle child) ends at once",
                                       "一个孙进程，它的父进程（中间的子进程）立刻结束"),
                          got=say("a child of pid {me}: it has a parent, it is no orphan",
                                  "pid {me} 的子进程：它有父进程，不是孤儿进程", me=me))
    outer = mod.proc.pid_of(pid)
    adopter = (proctree.stat(mod.proc.pid) or ("?", 0, 0))[1]   # the reaper above the student
    mine = proctree.stat(outer)[1] if outer is not None and proctree.stat(outer) else None
    if mine != adopter:
        parent = say("the middle child, still running", "中间的子进程，它还在运行") \
            if mine is not None and proctree.stat(mine) and proctree.stat(mine)[0] != "Z" \
            else say("the middle child, which ended and was not reaped (a zombie)",
                     "中间的子进程，它已经结束却没被回收（僵尸进程）")
        raise CheckFailed(say("the grandchild has not been orphaned: its parent is still there",
                              "孙进程没有成为孤儿：它的父进程还在"),
                          expected=say("parent: the process that adopts orphans (pid 1 as your "
                                       "processes see it)", "父进程：收养孤儿进程的那个进程（在你的进程看来是 pid 1）"),
                          got=parent, hint=HINT_ORPHAN)
    rv.open_gate("adopted")
    if not rv.wait_for(lambda r: r.log_of("adopted"), timeout=10):
        raise CheckFailed(say("the grandchild stopped before it could say who adopted it",
                              "孙进程还没来得及说出是谁收养了它，就停下了"), hint=HINT_ORPHAN)


@check(points=1, title=say("spawn_orphan reaps the middle child: no zombie left",
                           "spawn_orphan 回收了中间的子进程：不留下僵尸进程"), hint=HINT_MIDDLE)
def test_no_zombie_left_by_spawn_orphan(student):
    rv, mod, pid, text = orphan_setup(student)
    # the middle child may still be on its way out when spawn_orphan returns (it writes the
    # grandchild's pid, then exits): wait until no child of ours runs, so that one left
    # unreaped is a zombie by the time we look (CI: the mutant escaped on a busy machine)
    proctree.wait_until(lambda: all(s == "Z" for s in proctree.children(mod.proc).values()),
                        mod.proc, window=1.0)
    no_zombies_left(mod, after=say("{call} returned", "{call} 返回", call=text), hint=HINT_MIDDLE,
                    window=1.0)
    rv.open_gate("adopted")
