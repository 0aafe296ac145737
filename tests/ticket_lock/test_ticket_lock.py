"""ticket_lock: the graded suite.

tickets.py runs in the call driver; its sell() starts buyer processes that share
tickets.json. The `network` function they are given is the test's (network.py, installed in
the working copy): it stops every buyer at a gate of the check's rendezvous service, once
after it read the count to look at it (search) and once between reading and writing (buy).
The test opens the gates, and that is how it widens the race on every run instead of hoping:

- search: nobody goes on until every buyer is looking at the count at once (that proves the
  query holds no lock) - unless all the other processes are asleep (blocked on a lock, in
  join()) and use no CPU: then they wait for the ones looking, and the query is serial.
- buy: a buyer between reading and writing waits there until every other process is asleep
  (blocked on the lock: nobody can cut in) - or until a second buyer arrives there too. Then
  two buyers have read the same count and will both write it back: the race, shown, and the
  test lets them write so the oversold file shows it.
- nobody at a gate, every process asleep, no CPU used for a second: nothing will ever move
  again (a lock that was never released); the check says who waits for what, and shows where
  a blocked buyer was.

Nothing waits for time to pass: every gate opens on an observation (grader/harness/lockwatch.py
reads what each process sleeps in from /proc).
"""
from __future__ import annotations

import json
import os
import time

from grader.harness import CheckFailed, check, hang, lockwatch, say

FILE = "tickets.json"
SETTLED = 0.03   # every other process asleep, no CPU, over a few looks: let the one in the window go
SERIAL = 0.5     # asleep this long while some buyers look at the count: the others wait for them
STUCK = 1.0      # asleep this long with nobody at a gate: nothing will move again
DEADLINE = 25.0  # the whole sale (a safety net: every wait above ends on an event first)

NETWORK = '''\
"""The network between the buyers and the ticket office, as the check runs it (netlab).

network(stage, buyer) stops at a gate the test opens: that is the slow round trip."""
import netlab_rv

FAIL_FIRST_PURCHASE = FAIL


def network(stage, buyer):
    if stage not in ("search", "buy"):
        raise ValueError("network() takes 'search' or 'buy', not %r" % (stage,))
    netlab_rv.log(stage, buyer=buyer)
    if not netlab_rv.wait_gate("%s-%s" % (stage, buyer), timeout=90):
        raise TimeoutError("the check ended while buyer %r waited in network(%r)" % (buyer, stage))
    if stage == "buy" and FAIL_FIRST_PURCHASE and netlab_rv.add("purchases") == 1:
        netlab_rv.log("lost", buyer=buyer)
        raise ConnectionError("buyer %r lost the connection to the ticket office (the test did "
                              "this on purpose)" % (buyer,))
'''

# -- hints -------------------------------------------------------------------------------------

HINT_SEARCH = say(
    "search() only reads: json.load() the file, call network('search', buyer) once, return "
    "data['count'] - no lock, no writing",
    "search() 只读：用 json.load() 读文件，调用一次 network('search', buyer)，返回 data['count']"
    "——不加锁，也不写文件")
HINT_BUY = say(
    "buy(): with lock: read the file, network('buy', buyer), and if count > 0 write count - 1 "
    "with the buyer appended to 'sold' and return True; else return False",
    "buy()：with lock: 读文件，network('buy', buyer)，如果 count > 0，就把 count - 1、把买家编号追加到 "
    "'sold' 后写回文件，返回 True；否则返回 False")
HINT_LOCK = say(
    "reading the count, deciding and writing it back must be one step: hold one "
    "multiprocessing.Lock - made once in sell() and handed to every buyer process - from "
    "before the read until after the write",
    "读余票、判断、写回必须是一步完成的：用同一把 multiprocessing.Lock——在 sell() 里只创建一次，"
    "传给每个买家进程——从读之前一直持有到写之后")
HINT_CONCURRENT = say(
    "looking at the count needs no lock: start every buyer process first, let each search() "
    "without the lock, and take the lock only in buy()",
    "查票不需要加锁：先把所有买家进程都启动起来，每个进程不加锁地 search()，只在 buy() 里加锁")
HINT_FINALLY = say(
    "a lock must be released on every path: `with lock:` (or try: ... finally: "
    "lock.release()) - an exception between acquire() and release() otherwise leaves it "
    "locked forever, and every other buyer waits for it",
    "锁在每条路径上都必须释放：用 `with lock:`（或者 try: ... finally: lock.release()）——否则在 "
    "acquire() 和 release() 之间抛出的异常会让锁永远锁着，其他买家全都等着它")
HINT_PROCESSES = say(
    "one multiprocessing.Process per buyer, started all before any join(); the lock is a "
    "multiprocessing.Lock, and each buyer's (number, bought) comes back on a "
    "multiprocessing.Queue",
    "每个买家一个 multiprocessing.Process，全部 start() 之后再 join()；锁用 multiprocessing.Lock，"
    "每个买家的（编号，是否买到）通过 multiprocessing.Queue 传回来")
HINT_RESULTS = say(
    "sell() returns one True/False per buyer, in buyer order: results[i] is True exactly when "
    "buyer i is in the file's 'sold' list",
    "sell() 为每个买家返回一个 True/False，按买家编号排列：results[i] 为 True，当且仅当买家 i 在文件的 "
    "'sold' 列表里")


def plural(n: int, one, many):
    return one if n == 1 else many


def buyers_text(numbers) -> str:
    return str(say(", ", "、")).join(map(str, sorted(numbers)))


# -- the sale, driven by the test --------------------------------------------------------------

class Sale:
    """One run of sell(): the ticket file, the network module, the gates, and what was seen."""

    def __init__(self, student, tickets: int, buyers: int, *, fail_first: bool = False):
        self.student = student
        self.tickets = tickets
        self.buyers = buyers
        self.start_file = {"count": tickets, "sold": []}
        write_file(student, self.start_file)
        self.rv = student.rendezvous()
        self.rv.install("network.py", NETWORK.replace("= FAIL", f"= {fail_first}"))
        self.mod = student.module("tickets", timeout=DEADLINE + 5)
        self.call = f"sell({FILE!r}, {buyers}, network)"
        self.opened: set[tuple[str, int]] = set()
        self.seen: dict[tuple[str, int], int] = {}   # (stage, buyer) -> pid (as the student sees it)
        self.overlaps: list[list[int]] = []          # buyers between reading and writing at once
        self.search_max = 0                          # most buyers looking at the count at once
        self.serial = None                           # (how many looked, what the others did)
        self.results = None

    def _open(self, stage: str, buyers) -> None:
        for b in buyers:
            self.opened.add((stage, b))
            self.rv.open_gate(f"{stage}-{b}")

    def _register(self, events) -> None:
        for e in events:
            stage, buyer = e["event"], e["data"].get("buyer")
            if stage not in ("search", "buy"):
                continue
            if type(buyer) is not int or not 0 <= buyer < self.buyers:
                self.fail_now(say("network() was called with buyer={got}: buyers are numbered 0 to "
                                  "{last}", "调用 network() 时 buyer={got}：买家编号应为 0 到 {last}",
                                  got=repr(buyer), last=self.buyers - 1), hint=HINT_PROCESSES)
            if (stage, buyer) in self.seen:
                self.fail_now(say("buyer {b} called network({stage!r}, {b}) twice: once per visit is "
                                  "the contract", "买家 {b} 调用了两次 network({stage!r}, {b})：约定是每次"
                                  "只调用一次", b=buyer, stage=stage),
                              hint=HINT_SEARCH if stage == "search" else HINT_BUY)
            self.seen[(stage, buyer)] = e["pid"]

    def fail_now(self, summary, hint=None, detail=None, stacks_of: int | None = None, label=None):
        """Stop the sale with feedback; the stacks shown are sell()'s, or those of the process
        `stacks_of` (e.g. a buyer blocked on the lock), labelled `label`."""
        proc = self.mod.proc
        if proc.alive():
            proc.collect_stacks(pid=stacks_of)
            if label is not None:
                proc.calling = str(label)
        self.mod.close()
        raise CheckFailed(summary, detail=detail, hint=hint)

    def run(self):
        """Drive the sale to its end; returns sell()'s value (checked to be a list of bools)."""
        rv, proc = self.rv, self.mod.proc
        pending = self.mod.start("sell", FILE, self.buyers, self.student.callable("network:network"))
        settle = lockwatch.Settle()
        gate_search = True
        deadline = time.monotonic() + DEADLINE
        count = 0
        while not pending.done():
            if time.monotonic() > deadline:
                self.fail_now(say("{call} did not return within {t:g} s", "{call} 在 {t:g} 秒内没有返回",
                                  call=self.call, t=DEADLINE), hint=HINT_PROCESSES)
            rv.wait_for(lambda r: len(r.events) != count, timeout=0.02)
            events = rv.log_of()
            self._register(events[count:])
            count = len(events)
            waiting = {k for k in self.seen if k not in self.opened}
            looking = sorted(b for s, b in waiting if s == "search")
            window = sorted(b for s, b in waiting if s == "buy")
            if looking:
                self.search_max = max(self.search_max, len(looking))
                if not gate_search or len(looking) == self.buyers:
                    self._open("search", looking)
                    continue
            if len(window) >= 2:   # two have read the same count: both will write it back
                self.overlaps.append(window)
                self._open("buy", window)
                continue
            tree = hang.tree(proc.pid)
            asleep = settle.look(tree, skip={self.seen[k] for k in waiting})
            if len(window) == 1 and asleep >= SETTLED:   # the others are blocked: nobody cuts in
                self._open("buy", window)
                settle.reset()
            elif looking and not window and asleep >= SERIAL:
                self.serial = (len(looking), self.others(tree, {self.seen[("search", b)] for b in looking}))
                gate_search = False
                self._open("search", looking)
                settle.reset()
            elif not waiting and asleep >= STUCK:
                self.stuck(tree)
        self.results = pending.value(self.call, hint=HINT_PROCESSES, timeout=5)
        expect_results(self.results, self.buyers, self.call)
        return self.results

    def buyer_of(self, pid: int) -> int | None:
        """The buyer number a process (pid as the judge sees it) said it was, or None."""
        inner = lockwatch.inner_pid(pid)
        for (stage, b), p in self.seen.items():
            if p == inner:
                return b
        return None

    def others(self, tree, skip) -> str:
        """'sell()'s own process: waiting on a pipe (...); buyers 2, 3: waiting for a lock' -
        what the processes not at a gate were doing, as words for feedback."""
        groups: dict[str, tuple[list, list[int], list[int]]] = {}   # what -> (sell, buyers, others)
        for pid in tree:
            if lockwatch.inner_pid(pid) in skip:
                continue
            sell, buyers, unknown = groups.setdefault(str(lockwatch.describe(pid)), ([], [], []))
            b = self.buyer_of(pid)
            if pid == self.mod.proc.pid:
                sell.append(pid)
            elif b is not None:
                buyers.append(b)
            else:
                unknown.append(pid)
        parts = []
        for what, (sell, buyers, unknown) in groups.items():
            who = []
            if sell:
                who.append(str(say("sell()'s own process", "运行 sell() 的进程本身")))
            if buyers:
                who.append(str(plural(len(buyers), say("buyer {b}", "买家 {b}", b=buyers[0]),
                                      say("buyers {bs}", "买家 {bs}", bs=buyers_text(buyers)))))
            if unknown:
                who.append(str(plural(len(unknown), say("1 other process", "另外 1 个进程"),
                                      say("{n} other processes", "另外 {n} 个进程", n=len(unknown)))))
            parts.append(str(say("{who}: {what}", "{who}：{what}", who=str(say(", ", "、")).join(who),
                                 what=what)))
        return str(say("; ", "；")).join(parts)

    def stuck(self, tree) -> None:
        blocked = [pid for pid in tree if pid != self.mod.proc.pid
                   and "futex" in (lockwatch.waiting_for(pid) or "")]
        lost = [e["data"].get("buyer") for e in self.rv.log_of("lost")]
        detail = say("for {t:g} s every process had been asleep, and none was in network(): "
                     "{others}", "所有进程都已睡了 {t:g} 秒，而且没有一个在 network() 里：{others}",
                     t=STUCK, others=self.others(tree, set()))
        if lost:
            detail = detail + "\n  " + str(say(
                "buyer {b} had lost its connection (an exception, on purpose) between reading and "
                "writing, while it held the lock",
                "买家 {b} 在读和写之间（持有锁的时候）断了连接（测试故意抛出的异常）", b=lost[0]))
        who = self.buyer_of(blocked[0]) if blocked else None
        self.fail_now(say("{call} never returned: the buyers wait for a lock that nobody will "
                          "release", "{call} 一直没有返回：买家们在等一把没有人会释放的锁", call=self.call)
                      if blocked else
                      say("{call} never returned: every process waits and nothing will move again",
                          "{call} 一直没有返回：所有进程都在等待，再也不会有任何进展", call=self.call),
                      hint=HINT_FINALLY, detail=detail, stacks_of=blocked[0] if blocked else None,
                      label=None if who is None else say("sell()'s buyer {b}", "sell() 的买家 {b}", b=who))

    # -- evidence for the checks ---------------------------------------------------------------

    def bought(self) -> list[int]:
        return [i for i, r in enumerate(self.results) if r]

    def pids(self) -> dict[int, int]:
        return {b: pid for (s, b), pid in self.seen.items() if s == "search"}


def write_file(student, data) -> None:
    """The ticket file, owned by the uid the student's processes run as (they write it)."""
    path = student.workdir / FILE
    path.write_text(json.dumps(data), encoding="utf-8")
    if student.sandbox.ids:
        os.chown(path, *student.sandbox.ids)


def read_file(student, sale: Sale | None = None):
    raw = (student.workdir / FILE).read_bytes()
    try:
        data = json.loads(raw.decode("utf-8"))
    except ValueError:
        detail = None
        if sale is not None and sale.overlaps:
            detail = overlap_text(sale)
        raise CheckFailed(say("{file} is no longer valid JSON after the sale",
                              "卖完票之后，{file} 已经不是合法的 JSON 了", file=FILE),
                          got=raw, has_got=True, detail=detail, hint=HINT_LOCK) from None
    if (not isinstance(data, dict) or type(data.get("count")) is not int
            or not isinstance(data.get("sold"), list)):
        raise CheckFailed(say("{file} should still be an object {{\"count\": <int>, \"sold\": [<buyer>, ...]}}",
                              "{file} 应当仍然是对象 {{\"count\": <int>, \"sold\": [<buyer>, ...]}}",
                              file=FILE), got=data, hint=HINT_BUY)
    return data


def expect_results(results, buyers: int, call: str) -> None:
    if (not isinstance(results, list) or len(results) != buyers
            or any(type(r) is not bool for r in results)):
        raise CheckFailed(say("{call} should return a list of {n} True/False, one per buyer in "
                              "buyer order", "{call} 应当返回由 {n} 个 True/False 组成的列表，每个买家一个，"
                              "按买家编号排列", call=call, n=buyers),
                          got=results, has_got=True, hint=HINT_RESULTS)


def overlap_text(sale: Sale) -> str:
    group = sale.overlaps[0]
    return str(say("buyers {who} were all between reading the count and writing it back at the "
                   "same moment: each writes back what it read, minus one",
                   "买家 {who} 同时处在“读到余票”和“写回”之间：每个人都会把自己读到的数减一写回去",
                   who=buyers_text(group)))


def file_text(data) -> str:
    return str(say("the file after the sale: {data}", "卖完之后的文件：{data}", data=json.dumps(data)))


def expect_sale(student, sale: Sale, *, failed=frozenset()) -> None:
    """The file and the results agree, no ticket was sold twice or lost, and none was left
    unsold while a buyer went without."""
    results, n, tickets = sale.results, sale.buyers, sale.tickets
    data = read_file(student, sale)
    bought = sale.bought()
    should = min(tickets, n - len(failed))
    expected_results = say("{t} True, {f} False", "{t} 个 True，{f} 个 False", t=should, f=n - should)
    race = overlap_text(sale) + "\n  " if sale.overlaps else ""
    if len(bought) > tickets:
        raise CheckFailed(
            say("{k} buyers were told they got a ticket, with only {t} for sale",
                "有 {k} 个买家被告知买到了票，可是待售的只有 {t} 张", k=len(bought), t=tickets),
            expected=expected_results, got=results, detail=race + file_text(data),
            hint=HINT_LOCK if sale.overlaps else HINT_BUY)
    expected = {"count": tickets - len(bought), "sold": sorted(bought)}
    sold = data["sold"]
    got = {"count": data["count"], "sold": sorted(sold) if all(type(x) is int for x in sold) else sold}
    if got != expected:
        if sale.overlaps:
            raise CheckFailed(
                say("{k} buyers were told they got a ticket, but the file counts {s} sold: "
                    "purchases were lost", "有 {k} 个买家被告知买到了票，文件里却只记着卖出 {s} 张："
                    "有的购买被覆盖掉了", k=len(bought), s=tickets - data["count"]),
                expected=expected, got=data,
                detail=race + str(say("sell() returned {results}", "sell() 返回了 {results}",
                                      results=repr(results))), hint=HINT_LOCK)
        raise CheckFailed(say("{file} after the sale does not match who was told they bought a "
                              "ticket", "卖完之后 {file} 的内容与被告知买到票的买家对不上", file=FILE),
                          expected=expected, got=data,
                          detail=say("sell() returned {results}", "sell() 返回了 {results}",
                                     results=repr(results)), hint=HINT_RESULTS)
    if failed & set(bought):
        raise CheckFailed(say("buyer {b} lost its connection before it could write, yet its result "
                              "is True", "买家 {b} 在写回之前就断了连接，它的结果却是 True",
                              b=buyers_text(failed & set(bought))), got=results, hint=HINT_FINALLY)
    if len(bought) != should:
        raise CheckFailed(say("{k} of {n} buyers got a ticket, with {t} for sale",
                              "{n} 个买家中有 {k} 个买到了票，而待售的有 {t} 张", k=len(bought), n=n,
                              t=tickets),
                          expected=expected_results, got=results, detail=file_text(data),
                          hint=HINT_BUY)


def expect_concurrent_search(sale: Sale) -> None:
    if sale.serial is not None or sale.search_max < sale.buyers:
        looked, others = sale.serial or (sale.search_max, "")
        raise CheckFailed(
            plural(looked, say("only 1 of {n} buyers was ever looking at the count at a time",
                               "{n} 个买家里，同一时刻只有 1 个在查票", n=sale.buyers),
                   say("only {k} of {n} buyers were ever looking at the count at once",
                       "{n} 个买家里，同一时刻最多只有 {k} 个在查票", k=looked, n=sale.buyers)),
            expected=say("all {n} looking at once (a query needs no lock)",
                         "{n} 个买家同时在查票（查票不需要加锁）", n=sale.buyers),
            got=say("{k} at most", "最多 {k} 个", k=looked),
            detail=plural(looked, say("while 1 was looking: {others}", "当 1 个买家在查票时：{others}",
                                      others=others),
                          say("while {k} were looking: {others}", "当 {k} 个买家在查票时：{others}",
                              k=looked, others=others)) if others else None,
            hint=HINT_CONCURRENT)


# -- visible checks ----------------------------------------------------------------------------

@check(points=1, hint=HINT_SEARCH,
       title=say("search() returns the count in the file, and changes nothing",
                 "search() 返回文件里的余票数，而且什么都不改"))
def test_search_reads_the_count(student):
    rv = student.rendezvous()
    rv.install("network.py", NETWORK.replace("= FAIL", "= False"))
    rv.open_gate("search-0")
    rv.open_gate("search-1")
    mod = student.module("tickets")
    for buyer, data in ((0, {"count": 5, "sold": [7, 8]}), (1, {"count": 0, "sold": [0, 1, 2]})):
        write_file(student, data)
        call = f"search({FILE!r}, {buyer}, network)"
        got = mod.start("search", FILE, buyer, student.callable("network:network")).value(
            call, hint=HINT_SEARCH, timeout=10)
        if got != data["count"]:
            raise CheckFailed(say("{call} with {file} holding {data}", "{file} 的内容为 {data} 时调用 {call}",
                                  call=call, file=FILE, data=json.dumps(data)),
                              expected=data["count"], got=got, hint=HINT_SEARCH)
        after = read_file(student)
        if after != data:
            raise CheckFailed(say("{call} changed {file}: looking must not write",
                                  "{call} 改动了 {file}：查票不能写文件", call=call, file=FILE),
                              expected=data, got=after, hint=HINT_SEARCH)
    calls = [(e["event"], e["data"].get("buyer")) for e in rv.log_of()]
    if calls != [("search", 0), ("search", 1)]:
        raise CheckFailed(say("each search() calls network('search', buyer) once, after reading",
                              "每次 search() 在读完之后调用一次 network('search', buyer)"),
                          expected=[("search", 0), ("search", 1)], got=calls, hint=HINT_SEARCH)


@check(points=1, hint=HINT_BUY, time_limit=40,
       title=say("one buyer buys one ticket: the file and the result say so",
                 "一个买家买一张票：文件和返回值都这样说"))
def test_one_buyer_buys(student):
    sale = Sale(student, tickets=2, buyers=1)
    sale.run()
    expect_sale(student, sale)


@check(points=1, hint=HINT_BUY, time_limit=40,
       title=say("when no ticket is left, nobody buys and the file stays as it was",
                 "没有余票时，谁也买不到，文件保持原样"))
def test_sold_out(student):
    sale = Sale(student, tickets=0, buyers=3)
    sale.run()
    expect_sale(student, sale)


@check(points=3, hint=HINT_LOCK, time_limit=40,
       title=say("8 buyers, 3 tickets, the race window wide open: exactly 3 sold, never more",
                 "8 个买家抢 3 张票，竞争窗口开到最大：正好卖出 3 张，绝不超卖"))
def test_never_oversold(student):
    sale = Sale(student, tickets=3, buyers=8)
    sale.run()
    expect_sale(student, sale)


@check(points=2, hint=HINT_CONCURRENT, time_limit=40,
       title=say("every buyer looks at the count at the same time (the query holds no lock)",
                 "所有买家同时查票（查票不持有锁）"))
def test_searches_run_concurrently(student):
    sale = Sale(student, tickets=6, buyers=6)
    sale.run()
    expect_concurrent_search(sale)
    expect_sale(student, sale)


# -- hidden checks -----------------------------------------------------------------------------

@check(points=2, hidden=True, hint=HINT_FINALLY, time_limit=40,
       title=say("a purchase that fails while holding the lock releases it: the others still buy",
                 "持有锁时失败的购买会释放锁：其他人照样能买"))
def test_failed_purchase_releases_lock(student):
    sale = Sale(student, tickets=3, buyers=6, fail_first=True)
    sale.run()
    lost = {e["data"].get("buyer") for e in sale.rv.log_of("lost")}
    expect_sale(student, sale, failed=lost)


@check(points=2, hidden=True, hint=HINT_PROCESSES, time_limit=40,
       title=say("16 buyers, each in a process of its own, 5 tickets: exactly 5 sold",
                 "16 个买家，每人一个独立进程，抢 5 张票：正好卖出 5 张"))
def test_many_buyers_in_processes(student):
    sale = Sale(student, tickets=5, buyers=16)
    sale.run()
    pids = sale.pids()
    parent = lockwatch.inner_pid(sale.mod.proc.pid)
    distinct = set(pids.values())
    if len(distinct) < sale.buyers or parent in distinct:
        raise CheckFailed(
            say("each buyer should run in a process of its own", "每个买家都应当在自己的进程里运行"),
            expected=say("16 different processes, none of them the one running sell()",
                         "16 个不同的进程，而且都不是运行 sell() 的那个进程"),
            got=say("all {n} buyers in pid {pid}, the process running sell() itself (threads?)",
                    "{n} 个买家全都在 pid {pid} 里，也就是运行 sell() 的那个进程（用了线程？）",
                    n=sale.buyers, pid=parent) if distinct == {parent} else
            say("{k} different processes for {n} buyers (their pids: {pids}; sell() runs in pid {parent})",
                "{n} 个买家只用了 {k} 个不同的进程（它们的 pid：{pids}；sell() 运行在 pid {parent}）",
                k=len(distinct), n=sale.buyers, pids=", ".join(str(pids[b]) for b in sorted(pids)),
                parent=parent),
            hint=HINT_PROCESSES)
    expect_concurrent_search(sale)
    expect_sale(student, sale)
