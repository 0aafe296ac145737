"""generators: the graded suite.

coroutines.py is pure Python in one thread, so the evidence is order, not time. Generators
cannot cross the call driver (JSON only), so the suite's probe (probe_generators.py, copied
into the working copy by grader.harness.probe) makes the test's own tasks, sources and
consumers in the student's process, hands them to the student's `run`, `pump` and `averager`,
and answers with a trace: every step of every task and consumer appends a line to one list, in
the order it ran. The expected traces come from the suite's reference (`expected_run`,
`expected_pump`) written from the README's rules; generated cases use a seeded random.Random.
"""
from __future__ import annotations

import random
from collections import deque
from pathlib import Path

import pytest

from grader.harness import CheckFailed, StudentRaised, StudentTimeout, check, say
from grader.harness.probe import load_probe

PROBE = Path(__file__).with_name("probe_generators.py")
CALL_TIMEOUT = 10.0

# -- hints ----------------------------------------------------------------------------------

HINT_TURNS = say(
    "round robin: take the task at the front, next() it once (it runs to its next yield and "
    "stops there, its local variables saved), put it at the back; one step each, in turn - "
    "never run one task to its end before the others",
    "轮转：取出排在最前面的任务，对它 next() 一次（它运行到下一个 yield 就停下，局部变量都保存着），"
    "再把它放到队尾；每个任务轮流走一步——绝不能先把一个任务跑完再跑别的")
HINT_STOP = say(
    "a task that returns raises StopIteration from next(): catch it for that task alone, take "
    "the task out of the ring, keep stop.value, and go on with the others - it is not the end "
    "of the scheduler",
    "任务返回时，next() 会抛出 StopIteration：只针对这一个任务捕获它，把这个任务移出轮转队列，保存 "
    "stop.value，然后继续运行其他任务——这并不是整个调度器的结束")
HINT_RESULTS = say(
    "a generator's return value travels in StopIteration.value (a for loop throws it away): "
    "keep it at the task's own index, so results come in the order of tasks, not of finishing",
    "生成器的返回值装在 StopIteration.value 里（for 循环会把它丢掉）：按任务自己的下标保存，"
    "这样结果的顺序是任务的顺序，而不是完成的顺序")
HINT_PRIME = say(
    "a new generator has not reached its first yield yet, so send(item) raises TypeError "
    "(\"can't send non-None value to a just-started generator\"): prime it with next(consumer) "
    "first",
    "新建的生成器还没有运行到第一个 yield，所以 send(item) 会抛出 TypeError（\"can't send non-None "
    "value to a just-started generator\"）：先用 next(consumer) 预激它")
HINT_LAZY = say(
    "producer and consumer take turns: take one item from the source, send it, take the next - "
    "never list(source) first. The source may be endless, and a consumer that has had enough "
    "(StopIteration from send) ends the pumping at once",
    "生产者和消费者轮流执行：从数据源取一个，send 出去，再取下一个——绝不能先 list(source)。数据源可能是无穷的，"
    "消费者吃饱了（send 抛出 StopIteration）就要立刻停止")
HINT_CLOSE = say(
    "when the source runs out, consumer.close(): it raises GeneratorExit at the consumer's yield, "
    "so its finally: and cleanup run now, not whenever the garbage collector gets to it",
    "数据源用完时要 consumer.close()：它在消费者停着的 yield 处抛出 GeneratorExit，于是消费者的 "
    "finally: 和清理工作马上执行，而不是等垃圾回收哪天想起它")
HINT_AVERAGER = say(
    "one yield per number: `number = yield average` hands out the answer and then waits for the "
    "next number; priming with next() gets the first `average`, None",
    "每个数只对应一个 yield：`number = yield average` 先交出答案，再等下一个数；用 next() "
    "预激时得到的是第一个 average，即 None")
HINT_STATE = say(
    "the state lives in the generator's own local variables - that is the \"save state\" of "
    "\"switch + save state\": two averagers must not share a global total",
    "状态保存在生成器自己的局部变量里——这就是“切换+保存状态”中的“保存状态”：两个 averager "
    "不能共用一个全局的 total")


# -- the reference ---------------------------------------------------------------------------

def expected_run(specs):
    """The trace and results of round-robin run() over the probe's tasks."""
    trace, results = [], [None] * len(specs)
    ready = deque((i, name, steps, 0) for i, (name, steps) in enumerate(specs))
    while ready:
        i, name, steps, done = ready.popleft()
        if done < steps:
            trace.append(f"{name}{done}")
            ready.append((i, name, steps, done + 1))
        else:
            trace.append(f"{name} returns")
            results[i] = f"{name}:{steps}"
    return trace, results


def expected_pump(items, limit):
    """The trace and replies of pump() with the probe's source and consumer."""
    trace, replies, taken = [], [], 0
    for item in items:
        trace.append(f"produce {item}")
        taken += 1
        trace.append(f"consume {item}")
        if limit is not None and taken == limit:
            trace.append("consumer returns")
            return trace, replies, "GEN_CLOSED"
        replies.append(f"ok {item}")
    trace.append("source ends")
    trace.append("consumer closed")
    return trace, replies, "GEN_CLOSED"


def averages(numbers):
    out, total = [None], 0
    for n, x in enumerate(numbers, 1):
        total += x
        out.append(total / n)
    return out


# -- calling and showing ---------------------------------------------------------------------

@pytest.fixture
def probe(student):
    return load_probe(student, PROBE, timeout=CALL_TIMEOUT)


def ask(probe, func, *args, call, hint):
    try:
        return probe.call(func, *args)
    except StudentRaised as exc:
        if exc.type == "TypeError" and "just-started" in exc.message:
            hint = HINT_PRIME
        raise CheckFailed(exc.summary(call), detail=exc.where(), hint=hint) from None
    except StudentTimeout as exc:
        raise CheckFailed(str(exc), hint=say(
            "it never returned: a loop that goes on after every task has finished, or a task "
            "that is run again and again without end?",
            "它一直没有返回：是不是所有任务都结束了循环还在继续，或者有个任务被没完没了地反复运行？")) from None


def plain(text: str):
    return say("{s}", "{s}", s=text)


def trace_text(trace, start=0, count=16) -> str:
    part = [str(x) for x in trace[start:start + count]]
    text = ", ".join(part)
    if start > 0:
        text = "…, " + text
    if start + count < len(trace):
        text += ", …"
    return text or str(say("(nothing)", "（什么都没有）"))


def first_difference(a, b) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))


def tasks_text(specs) -> str:
    return ", ".join(str(say("{name} ({n} step)", "{name}（{n} 步）", name=name, n=steps) if steps == 1
                         else say("{name} ({n} steps)", "{name}（{n} 步）", name=name, n=steps))
                     for name, steps in specs)


def check_run(probe, specs, hint=HINT_TURNS, *, results=True):
    call = f"run([{', '.join(name for name, _ in specs)}])"
    got = ask(probe, "run_tasks", specs, call=call, hint=hint)
    trace, want_results = expected_run(specs)
    what = str(say("the tasks: {tasks}; each records a step, then yields",
                   "任务：{tasks}；每个任务记下一步，然后 yield", tasks=tasks_text(specs)))
    if got["trace"] != trace:
        at = first_difference(got["trace"], trace)
        start = max(0, at - 4)
        stop = trace[at] if at < len(trace) else None
        hint_now = hint
        if at > 0 and "returns" in str(trace[at - 1]) and hint is HINT_TURNS:
            hint_now = HINT_STOP
        raise CheckFailed(
            say("{call}: the order the tasks ran in differs from step {n} on (expected {e}, got {g})",
                "{call}：任务运行的顺序从第 {n} 步起不同（期望 {e}，实际 {g}）", call=call, n=at + 1,
                e=stop if stop is not None else say("nothing more", "什么都没有了"),
                g=got["trace"][at] if at < len(got["trace"]) else say("nothing more", "什么都没有了")),
            expected=plain(trace_text(trace, start)), got=plain(trace_text(got["trace"], start)),
            detail=what, hint=hint_now)
    if got["other_threads"]:
        raise CheckFailed(say("{call}: the tasks ran in another thread; coroutines switch inside one "
                              "thread, with next()", "{call}：任务在别的线程里运行；协程是在同一个线程里用 next() 切换的",
                              call=call), hint=HINT_TURNS)
    if results and got["results"] != want_results:
        raise CheckFailed(say("{call}: the return values, in the order of the tasks",
                              "{call}：各任务的返回值，按任务的顺序", call=call),
                          expected=want_results, got=got["results"], has_got=True, detail=what,
                          hint=HINT_RESULTS)
    return got


def check_pump(probe, items, limit, hint):
    shown = items if len(items) <= 8 else str(items[:8])[:-1] + ", …]"
    call = f"pump(source({shown}), consumer({'' if limit is None else f'limit={limit}'}))"
    got = ask(probe, "pump_test", items, limit, call=call, hint=hint)
    trace, replies, state = expected_pump(items, limit)
    if got["trace"] != trace:
        at = first_difference(got["trace"], trace)
        start = max(0, at - 4)
        hint_now = hint
        if "consumer closed" in trace[at:at + 1]:
            hint_now = HINT_CLOSE
        elif at < len(got["trace"]) and str(got["trace"][at]).startswith(("produce", "source")):
            hint_now = HINT_LAZY   # the source ran ahead of the consumer
        raise CheckFailed(
            say("{call}: what the source and the consumer did differs from step {n} on",
                "{call}：数据源和消费者的执行过程从第 {n} 步起不同", call=call, n=at + 1),
            expected=plain(trace_text(trace, start)), got=plain(trace_text(got["trace"], start)),
            hint=hint_now)
    if got["replies"] != replies:
        raise CheckFailed(say("{call}: the replies it returned", "{call}：它返回的回复列表", call=call),
                          expected=replies, got=got["replies"], has_got=True, hint=hint)
    if got["consumer"] != state:
        raise CheckFailed(say("{call}: afterwards the consumer is {got}, not closed",
                              "{call}：结束后消费者处于 {got}，没有关闭", call=call, got=got["consumer"]),
                          hint=HINT_CLOSE)


# -- visible checks ----------------------------------------------------------------------------

@check(points=2, title=say("run: tasks take turns, one step each", "run：任务轮流执行，每次一步"),
       hint=HINT_TURNS)
def test_run_interleaves(probe):
    check_run(probe, [["A", 3], ["B", 1], ["C", 2]])
    check_run(probe, [["A", 2], ["B", 2]])


@check(points=1, title=say("run: a finished task leaves the ring, the others go on",
                           "run：结束的任务退出轮转，其他任务继续"), hint=HINT_STOP)
def test_run_finished_task_leaves_ring(probe):
    check_run(probe, [["A", 1], ["B", 3], ["C", 3]], HINT_STOP)
    check_run(probe, [["A", 0], ["B", 2], ["C", 0], ["D", 1]], HINT_STOP)


@check(points=1, title=say("run: return values come back in the order of the tasks",
                           "run：返回值按任务的顺序给出"), hint=HINT_RESULTS)
def test_run_return_values(probe):
    check_run(probe, [["A", 4], ["B", 0], ["C", 2]], HINT_RESULTS)
    got = ask(probe, "run_tasks", [], call="run([])", hint=HINT_RESULTS)
    if got["results"] != []:
        raise CheckFailed(say("run([]) must return []", "run([]) 应当返回 []"), expected=[],
                          got=got["results"], has_got=True, hint=HINT_RESULTS)


@check(points=2, title=say("pump: primes the consumer, then one item at a time",
                           "pump：先预激消费者，再一次送一个"), hint=HINT_PRIME)
def test_pump_primes_consumer(probe):
    check_pump(probe, [1, 2, 3], None, HINT_PRIME)
    check_pump(probe, ["x"], None, HINT_PRIME)


@check(points=1, title=say("pump: a consumer that has had enough stops the producer",
                           "pump：消费者吃饱了，生产者就停下"), hint=HINT_LAZY)
def test_pump_consumer_stops(probe):
    check_pump(probe, [1, 2, 3, 4, 5, 6], 3, HINT_LAZY)
    got = ask(probe, "pump_count", 1000, 2, call="pump(source(range(1000)), consumer(limit=2))", hint=HINT_LAZY)
    if got["pulled"] != 2:
        raise CheckFailed(say("pump took {n} items from a source of 1000 for a consumer that returned "
                              "after 2", "消费者收到 2 个就返回了，pump 却从 1000 个的数据源里取了 {n} 个",
                              n=got["pulled"]), expected=2, got=got["pulled"], hint=HINT_LAZY)


@check(points=1, title=say("pump: closes the consumer when the source runs out",
                           "pump：数据源用完时关闭消费者"), hint=HINT_CLOSE)
def test_pump_closes_consumer(probe):
    check_pump(probe, [1, 2], None, HINT_CLOSE)
    check_pump(probe, [], None, HINT_CLOSE)


@check(points=1, title=say("averager: a coroutine that answers every send()",
                           "averager：每次 send() 都给出回答的协程"), hint=HINT_AVERAGER)
def test_averager(probe):
    numbers = [10, 20, 0, 50]
    got = ask(probe, "averager_test", numbers, call="averager()", hint=HINT_AVERAGER)
    if "not_generator" in got:
        raise CheckFailed(say("averager() returned a {t}, not a generator: its body needs a yield",
                              "averager() 返回的是 {t}，不是生成器：函数体里需要 yield", t=got["not_generator"]),
                          hint=HINT_AVERAGER)
    want = averages(numbers)
    if got["answers"] != want:
        raise CheckFailed(say("a = averager(); next(a), then a.send(x) for x in {xs}",
                              "a = averager(); next(a)，然后对 {xs} 里的每个 x 调用 a.send(x)", xs=numbers),
                          expected=want, got=got["answers"], has_got=True, hint=HINT_AVERAGER)


# -- hidden checks -----------------------------------------------------------------------------

@check(points=2, hidden=True, title=say("run: 40 generated sets of tasks", "run：随机生成的 40 组任务"),
       hint=HINT_TURNS)
def test_run_generated(probe):
    rng = random.Random(1958)   # Conway's year for "coroutine"
    for _ in range(40):
        names = rng.sample("ABCDEFGHJK", rng.randint(1, 7))
        check_run(probe, [[name, rng.choice([0, 1, 2, 3, 5, 8])] for name in names])


@check(points=1, hidden=True, title=say("pump: 30 generated sources and consumers",
                                        "pump：随机生成的 30 组数据源和消费者"), hint=HINT_LAZY)
def test_pump_generated(probe):
    rng = random.Random(342)    # PEP 342: coroutines via enhanced generators
    for _ in range(30):
        items = [rng.randint(0, 99) for _ in range(rng.randint(0, 9))]
        limit = rng.choice([None, None, rng.randint(1, 10)])
        check_pump(probe, items, limit, HINT_LAZY)


@check(points=1, hidden=True, title=say("pump feeds averager: the pipeline end to end",
                                        "pump 把数据送进 averager：整条流水线"), hint=HINT_PRIME)
def test_pipeline_end_to_end(probe):
    numbers = [4, 8, 15, 16, 23, 42]
    got = ask(probe, "pipeline", numbers, call=f"pump(iter({numbers}), averager())", hint=HINT_PRIME)
    want = averages(numbers)[1:]
    if got["replies"] != want:
        raise CheckFailed(say("pump(iter({xs}), averager())", "pump(iter({xs}), averager())", xs=numbers),
                          expected=want, got=got["replies"], has_got=True, hint=HINT_AVERAGER)


@check(points=1, hidden=True, title=say("two averagers keep their own state",
                                        "两个 averager 各自保存自己的状态"), hint=HINT_STATE)
def test_averager_own_state(probe):
    first, second = [1, 2, 3, 4], [100, 0, 100, 0]
    got = ask(probe, "averagers_interleaved", first, second, call="averager(), averager()",
              hint=HINT_STATE)
    want_a, want_b = averages(first)[1:], averages(second)[1:]
    if got["a"] != want_a or got["b"] != want_b:
        raise CheckFailed(say("a, b = averager(), averager(); sends to a {xs} and to b {ys}, in turns",
                              "a, b = averager(), averager()；轮流给 a 发送 {xs}、给 b 发送 {ys}",
                              xs=first, ys=second),
                          expected={"a": want_a, "b": want_b}, got=got, has_got=True, hint=HINT_STATE)
