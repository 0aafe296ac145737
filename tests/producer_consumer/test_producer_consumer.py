"""producer_consumer: the graded suite.

pipeline.py runs in the call driver; its run() starts producer and consumer processes. The
`produce` and `consume` they are given are the test's (kitchen.py, installed in the working
copy): they count and log every item at the check's rendezvous service, and can stop at gates
the test opens:

- "eat": every consumer holds its first item inside consume() until the test opens it - when
  all consumers are inside at once (they run in parallel), or when every process is asleep
  (then the producers are blocked on the full queue, and the test counts what they made: a
  bounded queue lets them make at most maxsize + one item per consumer + one per producer).
- "make": producers wait before their first item until every process is asleep (the consumers
  blocked in get() on an empty queue); a consumer that quits on an empty queue is gone by then.
- nothing at a gate, every process asleep, no CPU used for a second, run() not returned:
  nothing will move again (a consumer still waiting for a sentinel); the check says who waits
  for what.

Every gate opens on an observation (grader/harness/lockwatch.py reads /proc), never on time.
"""
from __future__ import annotations

import time
from collections import Counter

from grader.harness import CheckFailed, check, hang, lockwatch, say

SETTLED = 0.3    # every process asleep, no CPU, this long: they wait for the test (or for ever)
STUCK = 1.0      # the same with nobody at a gate: nothing will move again
DEADLINE = 25.0  # a safety net: every wait above ends on an event first

KITCHEN = '''\
"""produce and consume, as the check runs them (netlab): counted, logged, and held at gates."""
import netlab_rv

GATE_MAKE = MAKE
GATE_EAT = EAT


def produce(producer, k):
    if GATE_MAKE and k == 0:
        netlab_rv.wait_gate("make", timeout=90)
    item = "p%s-%s" % (producer, k)
    netlab_rv.log("made", item=item)
    return item


def consume(item):
    with netlab_rv.inside("consume"):
        if GATE_EAT:
            netlab_rv.wait_gate("eat", timeout=90)
        netlab_rv.log("eaten", item=item)
    return str(item).upper()
'''

# -- hints -------------------------------------------------------------------------------------

HINT_ONCE = say(
    "producer p puts produce(p, k) for k in range(items); a consumer loops item = queue.get(), "
    "results.put(consume(item)) until it gets a sentinel; run() returns producers * items results",
    "生产者 p 对 k in range(items) 依次 put(produce(p, k))；消费者循环 item = queue.get()、"
    "results.put(consume(item))，直到拿到结束标志；run() 返回 producers * items 个结果")
HINT_SENTINEL = say(
    "each consumer stops at the first sentinel it gets, so put one sentinel per consumer - and "
    "only after every producer has finished (join() the producers first)",
    "每个消费者拿到第一个结束标志就停下，所以有几个消费者就要放几个结束标志——而且要等所有生产者都"
    "结束之后再放（先 join() 生产者）")
HINT_PARALLEL = say(
    "start every consumer process before waiting for anything: they take items from the same "
    "queue at the same time",
    "先把所有消费者进程都启动起来，再去等待任何东西：它们同时从同一个队列里取数据")
HINT_BOUNDED = say(
    "multiprocessing.Queue(maxsize): put() blocks while maxsize items wait in it, so a fast "
    "producer waits for the consumers instead of filling the memory",
    "multiprocessing.Queue(maxsize)：队列里已有 maxsize 个数据时，put() 会阻塞，快的生产者就得等消费者，"
    "而不是把内存塞满")
HINT_BLOCKING_GET = say(
    "an empty queue does not mean the producers are done: block in queue.get() (no get_nowait(), "
    "no empty()) and stop only at a sentinel",
    "队列空了不代表生产者已经做完：要在 queue.get() 上阻塞等待（不要用 get_nowait()，也不要用 empty()），"
    "只有拿到结束标志才停下")
HINT_CLEAN = say(
    "before run() returns, every process it started has ended: join() the producers, send the "
    "sentinels, join() the consumers",
    "run() 返回之前，它启动的每个进程都必须已经结束：join() 生产者，发送结束标志，再 join() 消费者")


class Kitchen:
    """One run(): the test's produce/consume, the gates, and what was seen."""

    def __init__(self, student, producers: int, consumers: int, items: int, maxsize: int, *,
                 gate_make: bool = False, gate_eat: bool = False):
        self.student = student
        self.producers, self.consumers, self.items, self.maxsize = producers, consumers, items, maxsize
        self.total = producers * items
        self.rv = student.rendezvous()
        self.rv.install("kitchen.py", KITCHEN.replace("= MAKE", f"= {gate_make}")
                        .replace("= EAT", f"= {gate_eat}"))
        self.mod = student.module("pipeline", timeout=DEADLINE + 5)
        self.call = f"run(produce, consume, {producers}, {consumers}, {items}, {maxsize})"
        self.pending = None
        self.deadline = 0.0
        self.settle = lockwatch.Settle()

    def start(self) -> None:
        self.pending = self.mod.start("run", self.student.callable("kitchen:produce"),
                                      self.student.callable("kitchen:consume"), self.producers,
                                      self.consumers, self.items, self.maxsize)
        self.deadline = time.monotonic() + DEADLINE

    def made(self) -> list[str]:
        return [e["data"].get("item") for e in self.rv.log_of("made")]

    def eaten(self) -> list[str]:
        return [e["data"].get("item") for e in self.rv.log_of("eaten")]

    def wait(self, event=None, asleep: float = SETTLED, hint=None) -> str:
        """Until `event(rv)` holds ('event'), every process has been asleep for `asleep` s
        ('asleep'), or run() returned ('done'). A process tree asleep for STUCK s with no
        event wanted is a hang: feedback."""
        rv = self.rv
        while True:
            if event is not None and event(rv):
                return "event"
            if self.pending.done():
                return "done"
            if time.monotonic() > self.deadline:
                self.fail_now(say("{call} did not return within {t:g} s", "{call} 在 {t:g} 秒内没有返回",
                                  call=self.call, t=DEADLINE), hint=hint)
            n = len(rv.events)
            rv.wait_for(lambda r: len(r.events) != n, timeout=0.02)
            tree = hang.tree(self.mod.proc.pid)
            slept = self.settle.look(tree)
            if event is not None and slept >= asleep:
                self.settle.reset()
                return "asleep"
            if event is None and slept >= STUCK:
                self.stuck(tree, hint)

    def result(self, hint=None) -> list:
        self.wait(hint=hint)
        got = self.pending.value(self.call, hint=hint or HINT_ONCE, timeout=5)
        if not isinstance(got, list):
            raise CheckFailed(say("{call} should return a list of results", "{call} 应当返回结果的列表",
                                  call=self.call), got=got, hint=HINT_ONCE)
        return got

    def roles(self, tree) -> str:
        """"run()'s own process: waiting in join() ...; consumers (pids 5, 6): waiting for a
        lock" - what each process of the tree was doing, as words for feedback."""
        consumers = self.rv.pids("consume")
        producers = {e["pid"] for e in self.rv.log_of("made")}
        groups: dict[str, list[list]] = {}
        for pid in tree:
            inner = lockwatch.inner_pid(pid)
            role = (0 if pid == self.mod.proc.pid else 1 if inner in producers
                    else 2 if inner in consumers else 3)
            groups.setdefault(str(lockwatch.describe(pid)), [[], [], [], []])[role].append(inner)
        parts = []
        for what, (own, makers, eaters, others) in groups.items():
            who = []
            if own:
                who.append(str(say("run()'s own process", "运行 run() 的进程本身")))
            for pids, one, many in (
                    (makers, say("a producer", "1 个生产者"), say("{n} producers", "{n} 个生产者", n=len(makers))),
                    (eaters, say("a consumer", "1 个消费者"), say("{n} consumers", "{n} 个消费者", n=len(eaters))),
                    (others, say("1 other process", "另外 1 个进程"),
                     say("{n} other processes", "另外 {n} 个进程", n=len(others)))):
                if pids:
                    who.append(str(one if len(pids) == 1 else many))
            parts.append(str(say("{who}: {what}", "{who}：{what}", who=str(say(", ", "、")).join(who),
                                 what=what)))
        return str(say("; ", "；")).join(parts)

    def stuck(self, tree, hint) -> None:
        detail = say("for {t:g} s every process had been asleep: {roles}. {e} of {n} items had "
                     "been consumed", "所有进程都已睡了 {t:g} 秒：{roles}。{n} 个数据里已经消费了 {e} 个",
                     t=STUCK, roles=self.roles(tree), e=len(self.eaten()), n=self.total)
        consumers = self.rv.pids("consume")
        waiting = [pid for pid in tree if lockwatch.inner_pid(pid) in consumers
                   and any(t.state == "S" for t in lockwatch.tasks(pid))]
        self.fail_now(say("{call} never returned: every process waits, and nothing will move again",
                          "{call} 一直没有返回：所有进程都在等待，再也不会有任何进展", call=self.call),
                      detail=detail, hint=hint or HINT_SENTINEL,
                      stacks_of=waiting[0] if waiting else None)

    def fail_now(self, summary, detail=None, hint=None, stacks_of=None):
        """Stop run() with feedback; the stacks shown are run()'s, or those of a consumer
        that still waits (`stacks_of`)."""
        if self.mod.proc.alive():
            self.mod.proc.collect_stacks(pid=stacks_of)
            if stacks_of is not None:
                self.mod.proc.calling = str(say("run()'s consumer (pid {pid})", "run() 的消费者（pid {pid}）",
                                                pid=lockwatch.inner_pid(stacks_of)))
        self.mod.close()
        raise CheckFailed(summary, detail=detail, hint=hint)


def expect_every_item_once(k: Kitchen, results: list, hint=HINT_ONCE) -> None:
    expected = sorted(f"P{p}-{i}" for p in range(k.producers) for i in range(k.items))
    eaten = Counter(k.eaten())
    twice = sorted(item for item, n in eaten.items() if n > 1)
    never = sorted(set(i.lower() for i in expected) - set(eaten))
    if twice:
        raise CheckFailed(say("{n} items were consumed more than once, e.g. {item}",
                              "有 {n} 个数据被消费了不止一次，例如 {item}", n=len(twice), item=twice[0]),
                          hint=hint)
    if sorted(map(str, results)) != expected or never:
        missing = sorted(Counter(expected) - Counter(map(str, results)))
        extra = sorted(Counter(map(str, results)) - Counter(expected))
        raise CheckFailed(
            say("{call} should return the {n} results, each exactly once", "{call} 应当返回全部 {n} 个结果，"
                "每个恰好一次", call=k.call, n=k.total),
            expected=say("{n} results: {first} ... {last} (any order)", "{n} 个结果：{first} …… {last}"
                         "（顺序不限）", n=k.total, first=expected[0], last=expected[-1]),
            got=say("{k} results", "{k} 个结果", k=len(results)),
            detail=say("missing: {missing}; not expected: {extra}; never consumed: {never}",
                       "缺少：{missing}；多出来的：{extra}；从未被消费：{never}",
                       missing=short(missing), extra=short(extra), never=short(never)),
            hint=hint)


def short(items: list, n: int = 6) -> str:
    if not items:
        return "-"
    head = ", ".join(map(str, items[:n]))
    return head + (f" … (+{len(items) - n})" if len(items) > n else "")


# -- visible checks ----------------------------------------------------------------------------

@check(points=2, hint=HINT_ONCE, time_limit=40,
       title=say("one producer, one consumer: every item consumed exactly once",
                 "一个生产者、一个消费者：每个数据恰好被消费一次"))
def test_every_item_once(student):
    k = Kitchen(student, producers=1, consumers=1, items=5, maxsize=2)
    k.start()
    expect_every_item_once(k, k.result())


@check(points=3, hint=HINT_SENTINEL, time_limit=40,
       title=say("3 producers, 3 consumers in parallel: every item once, and every consumer ends",
                 "3 个生产者、3 个消费者并行：每个数据一次，每个消费者都能结束"))
def test_several_producers_and_consumers(student):
    k = Kitchen(student, producers=3, consumers=3, items=8, maxsize=4, gate_eat=True)
    k.start()
    k.wait(lambda rv: rv.now_inside("consume") >= k.consumers)   # or until all sleep
    most = k.rv.max_inside("consume")
    k.rv.open_gate("eat")
    expect_every_item_once(k, k.result(hint=HINT_SENTINEL))
    if most < k.consumers:
        raise CheckFailed(say("only {m} of {n} consumers were ever consuming at once",
                              "{n} 个消费者里，同一时刻最多只有 {m} 个在消费", m=most, n=k.consumers),
                          expected=say("all {n} at once", "{n} 个同时在消费", n=k.consumers),
                          got=most, hint=HINT_PARALLEL)


@check(points=2, hint=HINT_BOUNDED, time_limit=40,
       title=say("a full queue makes the producers wait (backpressure)",
                 "队列满了，生产者就得等（背压）"))
def test_bounded_queue_blocks_producers(student):
    k = Kitchen(student, producers=2, consumers=2, items=10, maxsize=3, gate_eat=True)
    k.start()
    seen = k.wait(lambda rv: False)   # consumers held with one item each: until all sleep
    made = len(k.made())
    bound = k.maxsize + k.consumers + k.producers
    k.rv.open_gate("eat")
    if seen == "asleep" and made > bound:
        k.result()
        raise CheckFailed(
            say("while the consumers were held, the producers made {m} items: a queue of maxsize "
                "{q} should have stopped them", "消费者被拦住的时候，生产者做出了 {m} 个数据：maxsize 为 "
                "{q} 的队列本应让它们停下", m=made, q=k.maxsize),
            expected=say("at most {b}: {q} in the queue, 1 held by each of the {c} consumers, 1 "
                         "waiting in put() in each of the {p} producers",
                         "最多 {b} 个：队列里 {q} 个，{c} 个消费者各拿着 1 个，{p} 个生产者各有 1 个在 put() 里等待",
                         b=bound, q=k.maxsize, c=k.consumers, p=k.producers),
            got=made, hint=HINT_BOUNDED)
    expect_every_item_once(k, k.result())


# -- hidden checks -----------------------------------------------------------------------------

@check(points=2, hidden=True, hint=HINT_BLOCKING_GET, time_limit=40,
       title=say("consumers wait for items that come late (an empty queue is not the end)",
                 "消费者会等待迟到的数据（队列空了并不是结束）"))
def test_consumers_wait_for_late_items(student):
    k = Kitchen(student, producers=2, consumers=2, items=6, maxsize=3, gate_make=True)
    k.start()
    k.wait(lambda rv: False)   # producers held before their first item: until all sleep
    k.rv.open_gate("make")
    results = k.result(hint=HINT_BLOCKING_GET)
    expect_every_item_once(k, results, hint=HINT_BLOCKING_GET)


@check(points=2, hidden=True, hint=HINT_CLEAN, time_limit=40,
       title=say("when run() returns, every process it started has ended",
                 "run() 返回时，它启动的每个进程都已经结束"))
def test_nothing_left_running(student):
    k = Kitchen(student, producers=2, consumers=3, items=4, maxsize=2)
    k.start()
    results = k.result(hint=HINT_CLEAN)
    expect_every_item_once(k, results)
    tree = hang.tree(k.mod.proc.pid)
    alive = [pid for pid in tree if pid != k.mod.proc.pid
             and any(t.state not in ("Z", "X") for t in lockwatch.tasks(pid))]
    if alive:
        raise CheckFailed(say("{call} returned, but {n} of the processes it started were still "
                              "there", "{call} 已经返回，可它启动的进程里还有 {n} 个没有结束",
                              call=k.call, n=len(alive)),
                          detail=k.roles(alive), hint=HINT_CLEAN)


@check(points=1, hidden=True, hint=HINT_ONCE, time_limit=40,
       title=say("4 producers, 4 consumers, 100 items through a queue of one",
                 "4 个生产者、4 个消费者，100 个数据通过容量为 1 的队列"))
def test_many_items_small_queue(student):
    k = Kitchen(student, producers=4, consumers=4, items=25, maxsize=1)
    k.start()
    expect_every_item_once(k, k.result())
