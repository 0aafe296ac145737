"""deadlock: the graded suite.

bank.py is driven by a probe (bank_probe.py, beside this file) that the test copies into the
working copy and calls through the call driver: it runs the student's transfers in threads,
in the student's process, with every account's `lock` wrapped in a spy that records who holds
and who waits for each lock. A deadlock is found the moment the wait-for record shows a cycle
(or a wait for a lock nobody will release), never by a timeout; then the student's threads are
still blocked, and their stacks go into the feedback. Interleavings are forced, not hoped for:
opposing transfers each take their first lock before any takes its second; an audit runs while
a transfer has its money in flight (withdrawn, not yet deposited).
"""
from __future__ import annotations

import os
from pathlib import Path

from grader.harness import CheckFailed, StudentRaised, StudentTimeout, check, say

PROBE = Path(__file__).with_name("bank_probe.py").read_text(encoding="utf-8")

HINT_ORDER = say(
    "take the two locks in one global order - e.g. the lower account number first - whatever "
    "the direction of the transfer: then no thread can hold the lock another one waits for "
    "while it waits for that one's",
    "不管转账的方向如何，都按同一个全局顺序加锁——比如先锁账号小的账户：这样就不会出现"
    "“我拿着你要的锁、又在等你拿着的锁”的循环等待")
HINT_RLOCK = say(
    "transfer() holds an account's lock and then calls withdraw()/deposit(), which take the "
    "same lock again: a threading.Lock blocks its own owner, a threading.RLock counts "
    "the acquisitions of its owner and lets it in",
    "transfer() 拿着账户的锁再调用 withdraw()/deposit()，它们会再拿一次同一把锁：threading.Lock "
    "会把持有它的线程自己也挡住，而 threading.RLock（递归锁）会给持有者计数，让它再次进入")
HINT_OWN_LOCK = say(
    "each Account gets a lock of its own in __init__: self.lock = threading.RLock(). One lock "
    "shared by every account (the note's `mutex1, mutex2 = RLock()`) cannot deadlock, but it "
    "makes every transfer wait for every other one",
    "每个 Account 在 __init__ 里有自己的一把锁：self.lock = threading.RLock()。所有账户共用一把锁"
    "（笔记里的 `mutex1,mutex2 = RLock()`）确实不会死锁，却让每笔转账都要等其他所有转账")
HINT_RELEASE = say(
    "release every lock you took, on every path - also when withdraw() raises InsufficientFunds: "
    "`with first.lock, second.lock:` does it for you (try/finally if you call acquire() "
    "yourself)",
    "拿到的每一把锁都要在每条路径上释放——withdraw() 抛出 InsufficientFunds 时也一样："
    "`with first.lock, second.lock:` 会替你做到（自己调用 acquire() 就要配上 try/finally）")
HINT_ATOMIC = say(
    "hold both accounts' locks for the whole transfer (withdraw and deposit), and let audit() "
    "take every account's lock, in the same order, before it adds up: then nobody sees money "
    "that has left one account and not yet arrived in the other",
    "整笔转账（取款和存款）期间都要同时持有两个账户的锁，audit() 在求和之前也要按同样的顺序拿到"
    "所有账户的锁：这样谁也看不到“已经离开一个账户、还没到另一个账户”的钱")
HINT_BASICS = say(
    "deposit() adds to the balance, withdraw() subtracts - or raises InsufficientFunds and "
    "changes nothing when the amount is larger than the balance; both under self.lock",
    "deposit() 增加余额，withdraw() 减少余额——金额大于余额时抛出 InsufficientFunds，什么也不改；"
    "两者都在 self.lock 之下进行")


# -- the probe ------------------------------------------------------------------------------------

def probe(student, func: str, *args, timeout: float = 40.0):
    """Call bank_probe.func(*args) in the student's process: (module, report)."""
    target = Path(student.workdir) / "bank_probe.py"
    target.write_text(PROBE, encoding="utf-8")
    os.chmod(target, 0o644)
    mod = student.module("bank_probe", timeout=timeout)
    try:
        return mod, mod.call(func, *args)
    except StudentRaised as exc:
        raise CheckFailed(exc.summary(_call_of(exc)), detail=exc.where()) from None
    except StudentTimeout as exc:
        raise CheckFailed(str(exc)) from None


def _call_of(exc: StudentRaised) -> str:
    """The student's function the traceback ended in (bank.Account.deposit ...), for feedback."""
    for line in reversed(exc.traceback.splitlines()):
        line = line.strip()
        if line.startswith("File ") and "bank.py" in line and " in " in line:
            return f"{line.rsplit(' in ', 1)[1]}()"
    return "bank.py"


def accounts_text(numbers: list[int]):
    if len(numbers) == 1:
        return say("account {n}'s lock", "账户 {n} 的锁", n=numbers[0])
    joined = ", ".join(map(str, numbers))
    return say("the lock of accounts {ns} (one lock for all of them)",
               "账户 {ns} 共用的那一把锁", ns=joined)


def who(thread: str):
    """A thread of the probe, named for a student: 'teller 2', 'the auditor', 'transfer(...)'."""
    if thread.startswith("teller "):
        return say("teller {n}", "柜员 {n}", n=thread.split()[1])
    if thread == "auditor":
        return say("the auditor", "审计员")
    return thread


def describe_stuck(rows: list[dict]):
    """The wait that can never end, in words."""
    rows = [{**row, "thread": str(who(row["thread"])),
             "holder": str(who(row["holder"])) if row.get("holder") else None} for row in rows]
    first = rows[0]
    if first["why"] == "self":
        return say("{t} waits for {lock}, which its own thread already holds: a threading.Lock "
                   "does not know who holds it, so a second acquire() by its holder waits for ever "
                   "(a self-deadlock)",
                   "{t} 在等 {lock}，而这把锁正被它自己的线程拿着：threading.Lock 不知道是谁拿着它，"
                   "持有者第二次 acquire() 就会永远等下去（自己把自己锁死）",
                   t=first["thread"], lock=accounts_text(first["waits"]))
    if first["why"] == "gone":
        return say("{t} waits for {lock}, held by {holder}, which has finished without releasing "
                   "it: nobody will ever release it",
                   "{t} 在等 {lock}，而拿着它的 {holder} 已经结束、却没有释放它：这把锁再也不会被释放了",
                   t=first["thread"], lock=accounts_text(first["waits"]), holder=first["holder"])
    parts = []
    for row in rows:
        held = [accounts_text(h) for h in row["holds"]]
        holds = str(say(", ", "、")).join(str(h) for h in held) if held else \
            str(say("nothing", "什么都没有"))
        parts.append(str(say("{t} holds {holds} and waits for {lock}",
                             "{t} 拿着{holds}，在等{lock}", t=row["thread"], holds=holds,
                             lock=accounts_text(row["waits"]))))
    return say("a deadlock: {cycle}. Each waits for a lock the next one holds, in a circle: "
               "none of them can ever go on",
               "死锁：{cycle}。每个线程都在等下一个线程拿着的锁，绕成一个圈：谁也无法再往下走",
               cycle=str(say("; ", "；")).join(parts))


STUCK_HINTS = {"self": HINT_RLOCK, "cycle": HINT_ORDER, "gone": HINT_RELEASE}


def settle(mod, report: dict, *, hint=None, what=None) -> dict:
    """Fail when the probe found its threads stuck (a deadlock, a lock never released) or not
    finished; the student's threads are still where they stopped, so their stacks are taken."""
    if report["stuck"]:
        mod.proc.calling = "bank.py"
        mod.proc.collect_stacks(quiet=0.5)
        why = describe_stuck(report["stuck"])
        raise CheckFailed(say("{what}: {why}", "{what}：{why}", what=what, why=why) if what else why,
                          hint=STUCK_HINTS.get(report["stuck"][0]["why"], hint))
    if not report["settled"]:
        mod.proc.calling = "bank.py"
        mod.proc.collect_stacks(quiet=0.5)
        waiting = ", ".join(f"{t} -> {accounts_text(l)}" for t, l in report["waiting"].items())
        raise CheckFailed(say("{what}: the threads did not finish within 20 s (still running: "
                              "{left})", "{what}：这些线程在 20 秒内没有结束（仍在运行：{left}）",
                              what=what or "bank.transfer",
                              left=", ".join(t for t in report["threads"]
                                             if t not in report["finished"]) or "?"),
                          detail=waiting or None, hint=hint)
    for name, result in report["results"].items():
        if "error" in result:
            raise CheckFailed(raised(name, result["error"]), hint=hint,
                              detail=where(result["error"]))
    return report


def raised(call: str, error: dict):
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


# -- the checks -------------------------------------------------------------------------------------

@check(points=1, title=say("an Account deposits, withdraws and refuses an overdraft",
                           "Account 能存款、取款，并拒绝透支"), hint=HINT_BASICS)
def test_account_deposit_withdraw(student):
    _, got = probe(student, "accounts_basics")
    steps = got["steps"]
    if got["number"] != 1:
        raise CheckFailed(say("Account(1, 100).number", "Account(1, 100).number"), expected=1,
                          got=got["number"], has_got=True)
    if steps[0] != 150:
        raise CheckFailed(say("the balance after Account(1, 100).deposit(50)",
                              "Account(1, 100).deposit(50) 之后的余额"), expected=150,
                          got=steps[0], has_got=True)
    if steps[1] != 120:
        raise CheckFailed(say("the balance after withdraw(30)", "withdraw(30) 之后的余额"),
                          expected=120, got=steps[1], has_got=True)
    refused = steps[2]
    if refused == "returned" or "InsufficientFunds" not in refused.get("mro", []):
        got_text = say("it returned", "它正常返回了") if refused == "returned" else \
            f"{refused['type']}: {refused['message']}"
        raise CheckFailed(say("withdraw(500) from a balance of 120", "余额 120 时 withdraw(500)"),
                          expected="InsufficientFunds", got=got_text,
                          detail=where(refused) if refused != "returned" else None)
    if steps[3] != 120:
        raise CheckFailed(say("the balance after the refused withdraw(500)",
                              "被拒绝的 withdraw(500) 之后的余额"), expected=120, got=steps[3],
                          has_got=True, hint=say("check first, then change: a refused withdrawal "
                                                 "leaves the balance as it was",
                                                 "先检查，再修改：被拒绝的取款不能改动余额"))


@check(points=1, title=say("each account has a re-entrant lock of its own (RLock)",
                           "每个账户都有自己的一把递归锁（RLock）"), hint=HINT_OWN_LOCK)
def test_each_account_has_its_own_rlock(student):
    _, got = probe(student, "lock_kind")
    if got.get("first") is None:
        raise CheckFailed(say("Account(1, 10).lock should be a lock (threading.RLock())",
                              "Account(1, 10).lock 应该是一把锁（threading.RLock()）"),
                          expected="threading.RLock()", got=got["type"])
    if not got["distinct"]:
        raise CheckFailed(say("Account(1, 10).lock and Account(2, 10).lock are the same lock",
                              "Account(1, 10).lock 和 Account(2, 10).lock 是同一把锁"),
                          expected=say("two locks, one per account", "两把锁，每个账户一把"),
                          got=say("one lock shared by both", "两个账户共用一把锁"))
    if not got.get("again"):
        raise CheckFailed(say("the thread holding Account(1, 10).lock could not take it a second "
                              "time (acquire(timeout=0.5) returned False): {kind} is not "
                              "re-entrant", "拿着 Account(1, 10).lock 的线程没能再拿它一次"
                              "（acquire(timeout=0.5) 返回了 False）：{kind} 不可重入",
                              kind=got["type"]),
                          expected="threading.RLock()", got=got["type"], hint=HINT_RLOCK)
    if got["type"] != "threading.RLock()":
        raise CheckFailed(say("Account(1, 10).lock should be a threading.RLock()",
                              "Account(1, 10).lock 应该是 threading.RLock()"),
                          expected="threading.RLock()", got=got["type"], hint=HINT_RLOCK)


@check(points=2, title=say("transfer() moves money between two accounts",
                           "transfer() 在两个账户之间转账"), hint=HINT_RLOCK)
def test_one_transfer_moves_money(student):
    mod, got = probe(student, "transfers", [[1, 2, 30], [2, 1, 80]], [100, 50])
    settle(mod, got, hint=HINT_RLOCK)
    expect_steps(got["steps"], [[70, 80], [150, 0]],
                 ["transfer(1->2, 30)", "transfer(2->1, 80)"], start=[100, 50])


def expect_steps(steps, balances, calls, start):
    before = start
    for step, want, call in zip(steps, balances, calls):
        if not step["ok"]:
            raise CheckFailed(raised(call, step["error"]), detail=where(step["error"]))
        if step["balances"] != want:
            raise CheckFailed(say("the balances after {call}, starting from {before}",
                                  "从 {before} 开始，{call} 之后的余额", call=call,
                                  before=str(before)), expected=want, got=step["balances"])
        before = want


@check(points=2, title=say("opposing transfers (1->2 and 2->1 at once) do not deadlock",
                           "方向相反的两笔转账（1->2 和 2->1 同时进行）不会死锁"), hint=HINT_ORDER)
def test_opposing_transfers_no_deadlock(student):
    mod, got = probe(student, "opposing", [[1, 2], [2, 1]], [100, 100], 30)
    settle(mod, got, hint=HINT_ORDER,
           what=say("two threads, transfer(1->2, 30) and transfer(2->1, 30), each paused after "
                    "its first lock until the other held or wanted one",
                    "两个线程 transfer(1->2, 30) 和 transfer(2->1, 30)，各自拿到第一把锁后停下，"
                    "等另一个也拿到或想要一把锁"))
    if got["balances"] != [100, 100]:
        raise CheckFailed(say("the balances after transfer(1->2, 30) and transfer(2->1, 30) from "
                              "[100, 100]", "从 [100, 100] 开始，transfer(1->2, 30) 和 "
                              "transfer(2->1, 30) 之后的余额"), expected=[100, 100],
                          got=got["balances"], hint=HINT_ATOMIC)


@check(points=1, title=say("a refused transfer changes nothing and releases both locks",
                           "被拒绝的转账什么也不改，并释放两把锁"), hint=HINT_RELEASE)
def test_refused_transfer_releases_locks(student):
    mod, got = probe(student, "transfers", [[1, 2, 1000], [1, 2, 0]], [100, 50])
    settle(mod, got, hint=HINT_RELEASE)
    first = got["steps"][0]
    if first["ok"] or "InsufficientFunds" not in first["error"]["mro"]:
        raise CheckFailed(say("transfer(1->2, 1000) with a balance of 100",
                              "余额为 100 时 transfer(1->2, 1000)"), expected="InsufficientFunds",
                          got=say("it returned", "它正常返回了") if first["ok"] else
                          f"{first['error']['type']}: {first['error']['message']}",
                          hint=HINT_BASICS)
    if first["balances"] != [100, 50]:
        raise CheckFailed(say("the balances after the refused transfer(1->2, 1000)",
                              "被拒绝的 transfer(1->2, 1000) 之后的余额"), expected=[100, 50],
                          got=first["balances"], hint=HINT_BASICS)
    held = [h for h in got["held"]] or [{"accounts": [n], "by": "transfer", "count": 1}
                                        for n, free in got["free"].items() if not free]
    if held:
        h = held[0]
        raise CheckFailed(say("after transfer(1->2, 1000) raised InsufficientFunds, {lock} was "
                              "still held by the thread that called it ({n} acquire() without its "
                              "release()): every other thread that needs it would wait for ever",
                              "transfer(1->2, 1000) 抛出 InsufficientFunds 之后，{lock}仍被调用它的"
                              "线程拿着（有 {n} 次 acquire() 没有对应的 release()）：其他需要它的线程会永远等下去",
                              lock=accounts_text(h["accounts"]), n=h["count"]))
    zero = got["steps"][1]
    if zero["ok"] or "ValueError" not in zero["error"]["mro"]:
        raise CheckFailed(say("transfer(1->2, 0): a transfer moves a positive amount",
                              "transfer(1->2, 0)：转账金额必须是正数"), expected="ValueError",
                          got=say("it returned", "它正常返回了") if zero["ok"] else
                          f"{zero['error']['type']}: {zero['error']['message']}",
                          hint=say("check the amount before you take any lock: amount <= 0 -> "
                                   "raise ValueError", "在拿任何锁之前先检查金额：amount <= 0 就 "
                                   "raise ValueError"))


@check(points=2, hidden=True, time_limit=60,
       title=say("4 tellers, 200 transfers in every direction and an auditor: no deadlock, no "
                 "money lost", "4 个柜员、各个方向的 200 笔转账加一个审计员：不死锁，钱一分不少"),
       hint=HINT_ORDER)
def test_many_opposing_transfers(student):
    balances = [100, 100, 100, 100]
    mod, got = probe(student, "many", balances, 49, 7)
    settle(mod, got, hint=HINT_ORDER,
           what=say("4 tellers whose first transfers form a ring (1->2, 2->3, 3->4, 4->1), each "
                    "paused after its first lock", "4 个柜员，第一笔转账连成一个环（1->2、2->3、"
                    "3->4、4->1），各自拿到第一把锁后停下"))
    expected = list(balances)
    for log in got["logs"].values():
        for s, d, amount, outcome in log:
            if outcome == "ok":
                expected[s - 1] -= amount
                expected[d - 1] += amount
    if got["balances"] != expected:
        raise CheckFailed(say("the balances after 200 concurrent transfers (starting from "
                              "{start}), computed from the transfers that returned",
                              "从 {start} 开始、200 笔并发转账之后的余额（按正常返回的转账算出）",
                              start=str(balances)), expected=expected, got=got["balances"],
                          hint=HINT_ATOMIC)
    if any(b < 0 for b in got["balances"]):
        raise CheckFailed(say("a balance went below zero", "有账户余额变成了负数"),
                          expected=say("no balance below 0", "没有负余额"), got=got["balances"],
                          hint=HINT_ATOMIC)
    wrong = [v for v in got["audit_values"] if v != sum(balances)]
    if wrong:
        raise CheckFailed(say("audit() while the transfers ran: {n} audits, some saw a wrong total",
                              "转账进行时调用 audit()：共 {n} 次，有的看到的总额不对",
                              n=got["audit_count"]), expected=sum(balances),
                          got=got["audit_values"], hint=HINT_ATOMIC)


@check(points=1, hidden=True,
       title=say("audit() never sees money in flight", "audit() 看不到“在路上”的钱"),
       hint=HINT_ATOMIC)
def test_audit_consistent_during_transfer(student):
    mod, got = probe(student, "audit_in_flight", 30)
    settle(mod, got, hint=HINT_ATOMIC, what="transfer(1->2, 30) + audit([1, 2])")
    total = got["results"][got["aname"]]["value"]
    if total != 200:
        raise CheckFailed(say("audit([account 1, account 2]) called while transfer(1->2, 30) had "
                              "withdrawn from account 1 and not yet deposited into account 2",
                              "在 transfer(1->2, 30) 已从账户 1 取出、还没存入账户 2 时调用 "
                              "audit([账户 1, 账户 2])"),
                          expected=200, got=total,
                          detail=say("30 was in flight: the transfer did not hold both locks "
                                     "throughout, or audit() did not wait for them",
                                     "有 30 元正“在路上”：要么转账没有全程拿着两把锁，要么 audit() "
                                     "没有等这两把锁"))
    if got["balances"] != [70, 130]:
        raise CheckFailed(say("the balances after transfer(1->2, 30) from [100, 100]",
                              "从 [100, 100] 开始，transfer(1->2, 30) 之后的余额"),
                          expected=[70, 130], got=got["balances"])


@check(points=1, hidden=True,
       title=say("transfers between different accounts run at the same time",
                 "不同账户之间的转账可以同时进行"), hint=HINT_OWN_LOCK)
def test_disjoint_transfers_run_together(student):
    mod, got = probe(student, "disjoint", 10)
    settle(mod, got, hint=HINT_OWN_LOCK, what="transfer(1->2, 10) + transfer(3->4, 10)")
    if got["blocked_by"] or not got["together"]:
        blocked = next(iter(got["blocked_by"].items()), None)
        raise CheckFailed(say("transfer(1->2, 10) and transfer(3->4, 10) touch four different "
                              "accounts, yet they were never inside their locks at the same time",
                              "transfer(1->2, 10) 和 transfer(3->4, 10) 涉及四个不同的账户，"
                              "却从来没有同时在各自的锁里"),
                          detail=say("{waiter} waited for a lock {holder} held: the accounts share "
                                     "one lock", "{waiter} 在等 {holder} 拿着的锁：这些账户共用了一把锁",
                                     waiter=blocked[0], holder=blocked[1]) if blocked else None)
    if got["balances"] != [90, 110, 90, 110]:
        raise CheckFailed(say("the balances after transfer(1->2, 10) and transfer(3->4, 10)",
                              "transfer(1->2, 10) 和 transfer(3->4, 10) 之后的余额"),
                          expected=[90, 110, 90, 110], got=got["balances"])


@check(points=1, hidden=True, title=say("a transfer from an account to itself changes nothing",
                                        "账户转给自己：什么都不变"), hint=HINT_RLOCK)
def test_transfer_to_same_account(student):
    mod, got = probe(student, "transfers", [[1, 1, 10]], [100])
    settle(mod, got, hint=HINT_RLOCK)
    expect_steps(got["steps"], [[100]], ["transfer(1->1, 10)"], start=[100])
