"""scheduler: the graded suite.

scheduler.py is a pure simulation, so nothing here needs a socket or a clock: `round_robin` and
`mlfq` are called through the call driver with plain data (a list of job dicts) and answer with
plain data (the timeline and each job's numbers and states). Time in the simulation is whole
ticks of model time.

Expected answers come from two places. The textbook cases are written out below by hand, and
`textbook()` asserts when the suite loads that the suite's reference agrees with them. Every
other case comes from that reference, `reference()`: a tick-by-tick simulation, written
independently of the event-driven solution, from the same rules as the README. The property
check judges answers without any reference: work is conserved, nobody runs while blocked or
before arriving, the timeline has no gaps or overlaps, the states add up.

Generated workloads come from a seeded random.Random: the same code always meets the same cases.
"""
from __future__ import annotations

import random
from collections import deque

import pytest

from grader.harness import CheckFailed, StudentRaised, StudentTimeout, check, say

MLFQ_QUANTA = [2, 4, 8]
CALL_TIMEOUT = 10.0

# -- hints ----------------------------------------------------------------------------------

HINT_SLICE = say(
    "a slice is min(quantum, what is left of the current CPU burst) ticks: a job with 5 ticks "
    "and quantum 2 runs 0-2, 2-4, 4-5 - one timeline entry per slice, even when the same job "
    "gets the CPU again at once",
    "一个时间片的长度是 min(quantum, 当前 CPU 阶段还剩的时间)：需要 5 个时间单位、时间片为 2 的作业依次运行 "
    "0-2、2-4、4-5——每个时间片在时间线里占一项，即使紧接着还是同一个作业上 CPU")
HINT_REQUEUE = say(
    "a job whose slice ran out with work left goes back to the tail of the ready queue - it is "
    "ready, not finished: forget it and it never completes",
    "时间片用完而工作还没做完的作业要回到就绪队列的队尾——它处于就绪态，并没有结束：忘了把它放回去，它就永远完成不了")
HINT_TIES = say(
    "at one instant: first the running slice ends; then the jobs that arrive or come back from "
    "IO join the queue, in the order of the jobs list; only then the job preempted at that "
    "instant joins, at the tail",
    "同一时刻的先后顺序：先结束正在运行的时间片；然后到达的作业和 IO 完成的作业按 jobs 列表里的顺序进入队列；"
    "最后才轮到这一刻被抢占的作业，排到队尾")
HINT_BLOCKED = say(
    "a CPU burst that ends with an IO burst after it makes the job blocked for exactly that "
    "long (IO devices are never busy: everyone's IO runs at once); then it is ready again, at "
    "the tail of the queue. Waiting time counts only the time spent ready - not blocked, not "
    "running",
    "CPU 阶段结束后如果接着是 IO 阶段，作业就进入阻塞态，恰好阻塞那么久（IO 设备从不繁忙：大家的 IO 同时进行）；"
    "然后重新进入就绪态，排到队尾。等待时间只算处于就绪态的时间——阻塞和运行都不算")
HINT_IDLE = say(
    "when no job is ready the CPU idles: the timeline holds [start, end, None] for that gap, so "
    "it covers every tick from 0 to the last completion",
    "没有作业就绪时 CPU 空闲：时间线里要为这段空档写一项 [start, end, None]，这样时间线覆盖从 0 "
    "到最后一个作业完成的每一个时间单位")
HINT_DEMOTE = say(
    "multi-level feedback queue: every new job enters level 1; a job that uses its whole slice "
    "and still has work drops one level (level 3 is the last); the CPU always serves the "
    "highest non-empty level, with that level's quantum",
    "多级反馈队列：新作业一律进入第 1 级；用完整个时间片仍没做完的作业降一级（第 3 级是最低一级）；"
    "CPU 总是先服务最高的非空级别，时间片用该级别的长度")
HINT_IO_LEVEL = say(
    "a job that gives up the CPU for IO before its slice runs out keeps its level: only a used-up "
    "slice is feedback that the job is long. That is how interactive jobs stay on top",
    "在时间片用完之前因 IO 让出 CPU 的作业保持原来的级别：只有用完时间片才说明这个作业“长”。"
    "交互式作业正是这样一直留在高优先级的")
HINT_PROPERTIES = say(
    "check your simulation against its own facts: each job runs exactly the sum of its CPU "
    "bursts; one job at a time; nobody runs before arriving or while blocked; the timeline has "
    "no gaps; ready + running + blocked cover arrival to completion; waiting = time ready",
    "用模拟自身应满足的事实来检查：每个作业运行的总时间恰好等于它各个 CPU 阶段之和；同一时刻只有一个作业运行；"
    "到达之前、阻塞期间都不能运行；时间线没有空档；就绪、运行、阻塞三段拼起来正好覆盖从到达到完成；"
    "等待时间 = 就绪的时间")


# -- the reference: a tick-by-tick simulation -------------------------------------------------

def reference(jobs, quanta, feedback):
    """What round_robin (quanta=[q], feedback=False) and mlfq (feedback=True) must answer."""
    names = [job["name"] for job in jobs]
    arrival = {job["name"]: job["arrival"] for job in jobs}
    bursts = {job["name"]: list(job["bursts"]) for job in jobs}
    index = {n: 0 for n in names}
    left = {n: bursts[n][0] for n in names}
    level = {n: 0 for n in names}
    queues = [deque() for _ in quanta]
    io_until: dict[str, int] = {}
    arrived: set[str] = set()
    done: dict[str, int] = {}
    running, slice_left = None, 0
    slices: list[list] = []
    idle: list[list] = []
    ticks: dict[str, list[str]] = {n: [] for n in names}   # state per tick from arrival
    t = 0
    while len(done) < len(names):
        preempted = None
        if running is not None and (slice_left == 0 or left[running] == 0):
            name, running = running, None
            slices[-1][1] = t
            if left[name] == 0:
                index[name] += 1
                if index[name] == len(bursts[name]):
                    done[name] = t
                else:
                    io_until[name] = t + bursts[name][index[name]]
            else:
                if feedback:
                    level[name] = min(level[name] + 1, len(quanta) - 1)
                preempted = name
        for name in names:
            if name not in arrived and arrival[name] == t:
                arrived.add(name)
                queues[level[name]].append(name)
            elif io_until.get(name) == t:
                del io_until[name]
                index[name] += 1
                left[name] = bursts[name][index[name]]
                queues[level[name]].append(name)
        if preempted is not None:
            queues[level[preempted]].append(preempted)
        if running is None:
            for lvl, queue in enumerate(queues):
                if queue:
                    running, slice_left = queue.popleft(), quanta[lvl]
                    slices.append([t, None, running])
                    break
        if len(done) == len(names):
            break
        if running is None:
            if idle and idle[-1][1] == t:
                idle[-1][1] = t + 1
            else:
                idle.append([t, t + 1, None])
        for name in names:
            if name in arrived and name not in done:
                ticks[name].append("running" if name == running else
                                   "blocked" if name in io_until else "ready")
        if running is not None:
            left[running] -= 1
            slice_left -= 1
        t += 1
    out = {}
    for name in names:
        rows: list[list] = []
        for i, state in enumerate(ticks[name]):
            at = arrival[name] + i
            if rows and rows[-1][2] == state:
                rows[-1][1] = at + 1
            else:
                rows.append([at, at + 1, state])
        out[name] = {"completion": done[name], "turnaround": done[name] - arrival[name],
                     "waiting": ticks[name].count("ready"), "states": rows}
    return {"timeline": sorted(slices + idle, key=lambda row: row[0]), "jobs": out}


def job(name, arrival, *bursts):
    return {"name": name, "arrival": arrival, "bursts": list(bursts)}


def generated(rng: random.Random, n_max=5):
    """A random workload: up to n_max jobs, not sorted by arrival, some with IO."""
    jobs = []
    names = rng.sample("ABCDEFGH", rng.randint(1, n_max))
    for name in names:
        shape = rng.choice([1, 1, 3, 3, 5])
        bursts = [rng.randint(1, 9) if i % 2 == 0 else rng.randint(1, 7) for i in range(shape)]
        jobs.append(job(name, rng.choice([0, 0, rng.randint(0, 14)]), *bursts))
    return jobs


# -- showing workloads and answers -----------------------------------------------------------

def plain(text: str):
    return say("{s}", "{s}", s=text)


def describe_jobs(jobs) -> str:
    lines = []
    for j in jobs:
        kinds = ", ".join(f"{'CPU' if i % 2 == 0 else 'IO'} {b}" for i, b in enumerate(j["bursts"]))
        lines.append(str(say("{name}: arrives at {t}, bursts {b} ({kinds})",
                             "{name}：时刻 {t} 到达，各阶段 {b}（{kinds}）",
                             name=j["name"], t=j["arrival"], b=j["bursts"], kinds=kinds)))
    return "\n".join("      " + line for line in lines) if lines else "      []"


def entry(row) -> str:
    try:
        start, end, who = row
    except (TypeError, ValueError):
        return repr(row)
    return f"{start}-{end} {say('idle', '空闲') if who is None else who}"


def timeline_text(rows, start=0, count=14) -> str:
    part = rows[start:start + count]
    text = " | ".join(entry(r) for r in part)
    if start > 0:
        text = "… | " + text
    if start + count < len(rows):
        text += " | …"
    return text


def chart(result, jobs, width=72):
    """A Gantt chart: one row per job, '#' running, '.' ready, '~' blocked; None if too long
    or malformed."""
    try:
        rows = result["jobs"]
        end = max(int(r["completion"]) for r in rows.values())
    except Exception:
        return None
    if end > width or end <= 0:
        return None
    marks = {"running": "#", "ready": ".", "blocked": "~"}
    lines = ["      " + "".join(str(t // 10) if t % 10 == 0 else " " for t in range(end))]
    lines.append("      " + "".join(str(t % 10) for t in range(end)))
    for j in jobs:
        cells = [" "] * end
        try:
            for start, stop, state in rows[j["name"]]["states"]:
                for t in range(max(0, start), min(end, stop)):
                    cells[t] = marks.get(state, "?")
        except Exception:
            pass
        lines.append(f"    {j['name']:>1} " + "".join(cells))
    return "\n".join(lines)


def call_text(policy, param) -> str:
    return f"round_robin(jobs, quantum={param})" if policy == "round_robin" else \
        f"mlfq(jobs, quanta={param})"


# -- calling and judging ---------------------------------------------------------------------

@pytest.fixture
def sched(student):
    return student.module("scheduler", timeout=CALL_TIMEOUT)


def run(sched, policy, jobs, param, hint):
    call = call_text(policy, param)
    try:
        return sched.call(policy, jobs, param)
    except StudentRaised as exc:
        raise CheckFailed(exc.summary(call), detail=_join(say("the jobs:", "作业："), describe_jobs(jobs),
                                                         exc.where()), hint=hint) from None
    except StudentTimeout as exc:
        raise CheckFailed(str(exc), detail=_join(say("the jobs:", "作业："), describe_jobs(jobs)),
                          hint=say("a simulation loop that never ends: is a job lost, or does "
                                   "time stop moving when the CPU is idle?",
                                   "模拟循环停不下来：是不是有作业丢了，或者 CPU 空闲时时间没有往前走？")) from None


def _join(*parts) -> str:
    return "\n".join(str(p) for p in parts if p)


def well_formed(got, call, jobs, hint):
    """The answer's shape: {"timeline": [[s, e, name|None], ...], "jobs": {name: {...}}}."""
    bad, why = None, hint
    if not isinstance(got, dict) or not isinstance(got.get("timeline"), list) \
            or not isinstance(got.get("jobs"), dict):
        bad = say("{call} must return a dict with 'timeline' (a list) and 'jobs' (a dict)",
                  "{call} 应当返回一个含有 'timeline'（列表）和 'jobs'（字典）的字典", call=call)
    else:
        for row in got["timeline"]:
            if not (isinstance(row, list) and len(row) == 3 and all(isinstance(x, int) for x in row[:2])):
                bad = say("every timeline entry must be [start, end, name or None]; {call} gave {row!r}",
                          "时间线的每一项都应当是 [start, end, 作业名或 None]；{call} 给出了 {row!r}",
                          call=call, row=row)
                break
        for j in jobs:
            info = got["jobs"].get(j["name"])
            if not isinstance(info, dict):
                bad = say("job {name} is missing from the 'jobs' of {call} (it never completed?)",
                          "{call} 的 'jobs' 里没有作业 {name}（它从来没有完成？）", call=call, name=j["name"])
                why = HINT_REQUEUE
                break
            keys = {"completion", "turnaround", "waiting", "states"}
            if not keys <= set(info):
                bad = say("jobs[{name!r}] must have 'completion', 'turnaround', 'waiting' and "
                          "'states'; it has {keys}", "jobs[{name!r}] 应当有 'completion'、'turnaround'、"
                          "'waiting' 和 'states'；实际只有 {keys}", name=j["name"], keys=sorted(info))
                break
    if bad is not None:
        raise CheckFailed(bad, detail=_join(say("the jobs:", "作业："), describe_jobs(jobs)),
                          hint=why)


def compare(got, want, policy, param, jobs, hint):
    """Fail with the first difference between the student's answer and the expected one."""
    call = call_text(policy, param)
    well_formed(got, call, jobs, hint)
    context = _join(say("the jobs:", "作业："), describe_jobs(jobs))
    exp_chart = chart(want, jobs)
    got_tl, want_tl = got["timeline"], want["timeline"]
    if got_tl != want_tl:
        at = next((i for i, (a, b) in enumerate(zip(got_tl, want_tl)) if a != b),
                  min(len(got_tl), len(want_tl)))
        start = max(0, at - 3)
        detail = [context]
        if exp_chart:
            detail.append("  " + str(say("expected (# running, . ready, ~ blocked):",
                                         "期望的过程（# 运行，. 就绪，~ 阻塞）：")) + "\n" + exp_chart)
        got_chart = chart(got, jobs)
        if got_chart:
            detail.append("  " + str(say("yours:", "你的：")) + "\n" + got_chart)
        what = say("{call}: the timeline differs from entry {n} on", "{call}：时间线从第 {n} 项起不同",
                   call=call, n=at + 1)
        if at < len(want_tl) and at < len(got_tl):
            what = what + str(say(" (expected {e}, got {g})", "（期望 {e}，实际 {g}）",
                                  e=entry(want_tl[at]), g=entry(got_tl[at])))
        elif at >= len(got_tl):
            what = what + str(say(" (yours ends after {n} entries)", "（你的时间线只有 {n} 项）", n=len(got_tl)))
        raise CheckFailed(what, expected=plain(timeline_text(want_tl, start)),
                          got=plain(timeline_text(got_tl, start)), detail=_join(*detail), hint=hint)
    for j in jobs:
        name = j["name"]
        for key in ("completion", "turnaround", "waiting", "states"):
            if got["jobs"][name][key] != want["jobs"][name][key]:
                extra = [context]
                if exp_chart:
                    extra.append("  " + str(say("expected (# running, . ready, ~ blocked):",
                                                "期望的过程（# 运行，. 就绪，~ 阻塞）：")) + "\n" + exp_chart)
                raise CheckFailed(say("{call}: the timeline is right, but jobs[{name!r}][{key!r}] is not",
                                      "{call}：时间线是对的，但 jobs[{name!r}][{key!r}] 不对",
                                      call=call, name=name, key=key),
                                  expected=want["jobs"][name][key], got=got["jobs"][name][key],
                                  has_got=True, detail=_join(*extra),
                                  hint=HINT_BLOCKED if key in ("waiting", "states") else hint)
    extra = set(got["jobs"]) - {j["name"] for j in jobs}
    if extra:
        raise CheckFailed(say("{call}: 'jobs' names jobs that do not exist: {names}",
                              "{call}：'jobs' 里出现了不存在的作业：{names}", call=call, names=sorted(extra)),
                          hint=hint)


def expect(sched, policy, jobs, param, want, hint):
    got = run(sched, policy, jobs, param, hint)
    compare(got, want, policy, param, jobs, hint)


# -- the textbook cases, written out -----------------------------------------------------------

TEXTBOOK_RR = [job("A", 0, 5), job("B", 1, 3), job("C", 2, 1), job("D", 3, 2), job("E", 4, 3)]
TEXTBOOK_RR_TIMELINE = [[0, 2, "A"], [2, 4, "B"], [4, 5, "C"], [5, 7, "A"], [7, 9, "D"],
                        [9, 11, "E"], [11, 12, "B"], [12, 13, "A"], [13, 14, "E"]]
TEXTBOOK_RR_JOBS = {"A": (13, 8), "B": (12, 8), "C": (5, 2), "D": (9, 4), "E": (14, 7)}

# MLFQ, quanta 2/4/8: A is long, B and C are short; C arrives while A sits at level 2.
TEXTBOOK_MLFQ = [job("A", 0, 15), job("B", 1, 3), job("C", 5, 2)]
TEXTBOOK_MLFQ_TIMELINE = [[0, 2, "A"], [2, 4, "B"], [4, 8, "A"], [8, 10, "C"], [10, 11, "B"],
                          [11, 19, "A"], [19, 20, "A"]]
TEXTBOOK_MLFQ_JOBS = {"A": (20, 5), "B": (11, 7), "C": (10, 3)}


def textbook(jobs, timeline, numbers, quanta, feedback):
    """The written-out answer, checked against the reference when the suite loads."""
    want = reference(jobs, quanta, feedback)
    assert want["timeline"] == timeline, want["timeline"]
    for name, (completion, waiting) in numbers.items():
        assert (want["jobs"][name]["completion"], want["jobs"][name]["waiting"]) == \
            (completion, waiting), (name, want["jobs"][name])
    return want


RR_TEXTBOOK_ANSWER = textbook(TEXTBOOK_RR, TEXTBOOK_RR_TIMELINE, TEXTBOOK_RR_JOBS, [2], False)
MLFQ_TEXTBOOK_ANSWER = textbook(TEXTBOOK_MLFQ, TEXTBOOK_MLFQ_TIMELINE, TEXTBOOK_MLFQ_JOBS,
                                MLFQ_QUANTA, True)


# -- visible checks ----------------------------------------------------------------------------

@check(points=1, title=say("round robin: one job, cut into slices of the quantum",
                           "时间片轮转：一个作业，按时间片切开"), hint=HINT_SLICE)
def test_rr_one_job_slices(sched):
    for q, timeline in ((2, [[0, 2, "A"], [2, 4, "A"], [4, 5, "A"]]), (5, [[0, 5, "A"]]),
                        (7, [[0, 5, "A"]])):
        jobs = [job("A", 0, 5)]
        want = reference(jobs, [q], False)
        assert want["timeline"] == timeline
        expect(sched, "round_robin", jobs, q, want, HINT_SLICE)


@check(points=2, title=say("round robin: the textbook case (5 jobs, quantum 2)",
                           "时间片轮转：教科书上的例子（5 个作业，时间片 2）"), hint=HINT_REQUEUE)
def test_rr_textbook(sched):
    expect(sched, "round_robin", TEXTBOOK_RR, 2, RR_TEXTBOOK_ANSWER, HINT_REQUEUE)


@check(points=1, title=say("ties: arrivals before the preempted job, then the jobs list's order",
                           "同时发生：先排到达的作业，再排被抢占的作业，同时到达按 jobs 列表顺序"),
       hint=HINT_TIES)
def test_rr_ties(sched):
    cases = [
        # B arrives at 2, the instant A's slice runs out: B first, then A
        ([job("A", 0, 4), job("B", 2, 2)], 2),
        # Z and Y arrive together: the list's order, not the names' order
        ([job("Z", 0, 3), job("Y", 0, 3), job("X", 1, 1)], 2),
        # B comes back from IO at 4 as C arrives at 4, A's slice ends at 4: B, C, then A
        ([job("C", 4, 2), job("A", 0, 8), job("B", 0, 1, 3, 2)], 3),
    ]
    for jobs, q in cases:
        expect(sched, "round_robin", jobs, q, reference(jobs, [q], False), HINT_TIES)


@check(points=2, title=say("IO bursts: blocked, then ready again; waiting counts ready time only",
                           "IO 阶段：先阻塞，再回到就绪；等待时间只算就绪的时间"), hint=HINT_BLOCKED)
def test_rr_io_blocked(sched):
    cases = [
        ([job("A", 0, 2, 4, 2), job("B", 0, 6)], 2),
        ([job("A", 0, 3, 2, 1, 2, 3), job("B", 1, 2, 5, 2), job("C", 2, 7)], 2),
    ]
    for jobs, q in cases:
        expect(sched, "round_robin", jobs, q, reference(jobs, [q], False), HINT_BLOCKED)


@check(points=1, title=say("an idle CPU: nobody ready, the timeline shows the gap",
                           "CPU 空闲：没有作业就绪时，时间线要写出这段空档"), hint=HINT_IDLE)
def test_idle_cpu(sched):
    cases = [
        ([job("A", 3, 2)], 2),                               # nothing until 3
        ([job("A", 0, 2, 5, 1), job("B", 9, 1)], 4),          # A blocked, B not there yet
    ]
    for jobs, q in cases:
        expect(sched, "round_robin", jobs, q, reference(jobs, [q], False), HINT_IDLE)
    expect(sched, "mlfq", cases[1][0], MLFQ_QUANTA, reference(cases[1][0], MLFQ_QUANTA, True),
           HINT_IDLE)


@check(points=2, title=say("multi-level feedback queue: a long job drops level by level",
                           "多级反馈队列：长作业一级一级往下降"), hint=HINT_DEMOTE)
def test_mlfq_demotion(sched):
    expect(sched, "mlfq", TEXTBOOK_MLFQ, MLFQ_QUANTA, MLFQ_TEXTBOOK_ANSWER, HINT_DEMOTE)
    jobs = [job("A", 0, 20)]   # alone: 2 at level 1, 4 at level 2, then 8s at level 3
    expect(sched, "mlfq", jobs, MLFQ_QUANTA, reference(jobs, MLFQ_QUANTA, True), HINT_DEMOTE)
    jobs = [job("A", 0, 9), job("B", 0, 9)]
    expect(sched, "mlfq", jobs, [1, 2, 3], reference(jobs, [1, 2, 3], True), HINT_DEMOTE)


IO_LEVEL_CASE = [job("A", 0, 30), job("B", 0, 30), job("I", 0, 1, 2, 1, 2, 1, 2, 1)]


@check(points=1, title=say("multi-level feedback queue: a job that blocks for IO keeps its level",
                           "多级反馈队列：因 IO 阻塞的作业保持原来的级别"), hint=HINT_IO_LEVEL)
def test_mlfq_io_keeps_level(sched):
    expect(sched, "mlfq", IO_LEVEL_CASE, MLFQ_QUANTA, reference(IO_LEVEL_CASE, MLFQ_QUANTA, True),
           HINT_IO_LEVEL)


# -- hidden checks -----------------------------------------------------------------------------

@check(points=2, hidden=True, title=say("round robin: 60 generated workloads, quanta 1 to 5",
                                        "时间片轮转：60 个随机生成的负载，时间片 1 到 5"), hint=HINT_TIES)
def test_rr_generated(sched):
    rng = random.Random(9001)
    for _ in range(60):
        jobs, q = generated(rng), rng.randint(1, 5)
        expect(sched, "round_robin", jobs, q, reference(jobs, [q], False), HINT_TIES)


@check(points=2, hidden=True, title=say("multi-level feedback queue: 60 generated workloads",
                                        "多级反馈队列：60 个随机生成的负载"), hint=HINT_DEMOTE)
def test_mlfq_generated(sched):
    rng = random.Random(9002)
    for _ in range(60):
        jobs = generated(rng, 6)
        quanta = rng.choice([[2, 4, 8], [1, 2, 4], [1, 3, 9], [3, 6, 12]])
        expect(sched, "mlfq", jobs, quanta, reference(jobs, quanta, True), HINT_DEMOTE)


def violations(got, jobs):
    """What is wrong with an answer, judged by the facts alone (no reference): a list of texts."""
    out = []
    tl = got["timeline"]
    last = max(got["jobs"][j["name"]]["completion"] for j in jobs) if jobs else 0
    t = 0
    for row in tl:
        start, end, who = row
        if start != t or end <= start:
            out.append(say("the timeline is not one run of entries from 0: {row} follows time {t}",
                           "时间线不是从 0 开始首尾相接的：{row} 接在时刻 {t} 之后", row=entry(row), t=t))
            return out
        t = end
    if t != last:
        out.append(say("the timeline ends at {t}, the last job completes at {last}",
                       "时间线在 {t} 结束，而最后一个作业在 {last} 完成", t=t, last=last))
    for j in jobs:
        name, info = j["name"], got["jobs"][j["name"]]
        cpu, io = sum(j["bursts"][0::2]), sum(j["bursts"][1::2])
        ran = sum(e - s for s, e, w in tl if w == name)
        if ran != cpu:
            out.append(say("job {name} ran {ran} ticks in the timeline; its CPU bursts add up to {cpu}",
                           "时间线里作业 {name} 运行了 {ran} 个时间单位，而它的 CPU 阶段加起来是 {cpu}",
                           name=name, ran=ran, cpu=cpu))
        states = info["states"]
        pos = j["arrival"]
        for s, e, state in states:
            if s != pos or e <= s or state not in ("ready", "running", "blocked"):
                out.append(say("job {name}'s states must cover arrival ({a}) to completion without "
                               "gaps, each 'ready', 'running' or 'blocked': {row} is wrong",
                               "作业 {name} 的状态必须从到达（{a}）到完成首尾相接地覆盖，每段是 'ready'、'running' "
                               "或 'blocked'：{row} 不对", name=name, a=j["arrival"], row=[s, e, state]))
                break
            pos = e
        else:
            if pos != info["completion"]:
                out.append(say("job {name}'s states end at {t}, but it completes at {c}",
                               "作业 {name} 的状态在 {t} 结束，但它在 {c} 完成", name=name, t=pos,
                               c=info["completion"]))
        blocked = sum(e - s for s, e, st in states if st == "blocked")
        if blocked != io:
            out.append(say("job {name} was blocked {b} ticks; its IO bursts add up to {io}",
                           "作业 {name} 阻塞了 {b} 个时间单位，而它的 IO 阶段加起来是 {io}",
                           name=name, b=blocked, io=io))
        runs = [[s, e] for s, e, w in tl if w == name]
        merged: list[list[int]] = []
        for s, e in runs:
            if merged and merged[-1][1] == s:
                merged[-1][1] = e
            else:
                merged.append([s, e])
        if merged != [[s, e] for s, e, st in states if st == "running"]:
            out.append(say("job {name} runs at {t} in the timeline, but its states say running at {r}",
                           "时间线里作业 {name} 在 {t} 运行，而它的状态说它在 {r} 运行", name=name,
                           t=merged, r=[[s, e] for s, e, st in states if st == "running"]))
        for s, e in merged:
            for bs, be, st in states:
                if st == "blocked" and s < be and bs < e:
                    out.append(say("job {name} runs at {s}-{e} while it is blocked ({bs}-{be})",
                                   "作业 {name} 在阻塞期间（{bs}-{be}）却在 {s}-{e} 运行",
                                   name=name, s=s, e=e, bs=bs, be=be))
            if s < j["arrival"]:
                out.append(say("job {name} runs at {s}, before it arrives at {a}",
                               "作业 {name} 在 {s} 就运行了，而它 {a} 才到达", name=name, s=s, a=j["arrival"]))
        ready = sum(e - s for s, e, st in states if st == "ready")
        if info["waiting"] != ready:
            out.append(say("job {name}'s waiting is {w}, but it was ready for {r} ticks",
                           "作业 {name} 的 waiting 是 {w}，但它处于就绪态的时间是 {r}",
                           name=name, w=info["waiting"], r=ready))
        if info["turnaround"] != info["completion"] - j["arrival"]:
            out.append(say("job {name}'s turnaround must be completion - arrival",
                           "作业 {name} 的 turnaround 应当等于 completion - arrival", name=name))
    for s, e, w in tl:
        if w is None:
            for j in jobs:
                for rs, re_, st in got["jobs"][j["name"]]["states"]:
                    if st == "ready" and rs < e and s < re_:
                        out.append(say("the CPU idles at {s}-{e} while job {name} is ready",
                                       "作业 {name} 处于就绪态时，CPU 却在 {s}-{e} 空闲", s=s, e=e,
                                       name=j["name"]))
    return out


@check(points=2, hidden=True, title=say("the facts hold: work conserved, no job runs while blocked",
                                        "基本事实成立：工作量守恒，阻塞的作业不运行"), hint=HINT_PROPERTIES)
def test_properties(sched):
    rng = random.Random(9003)
    for i in range(40):
        jobs = generated(rng, 6)
        policy, param = (("round_robin", rng.randint(1, 4)) if i % 2 == 0 else
                         ("mlfq", rng.choice([[2, 4, 8], [1, 2, 4]])))
        got = run(sched, policy, jobs, param, HINT_PROPERTIES)
        call = call_text(policy, param)
        well_formed(got, call, jobs, HINT_PROPERTIES)
        try:
            found = violations(got, jobs)
        except (TypeError, ValueError, KeyError) as exc:
            found = [say("the answer could not be read: {exc}", "无法读取这个结果：{exc}",
                         exc=f"{type(exc).__name__}: {exc}")]
        if found:
            raise CheckFailed(say("{call}: {what}", "{call}：{what}", call=call, what=found[0]),
                              detail=_join(say("the jobs:", "作业："), describe_jobs(jobs),
                                           "  " + str(say("your timeline:", "你的时间线：")),
                                           "      " + timeline_text(got["timeline"], 0, 30)),
                              hint=HINT_PROPERTIES)
