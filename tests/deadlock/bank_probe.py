"""The deadlock suite's probe: runs transfers of the student's bank.py in threads and watches
every account lock. The test copies it into the working copy and calls it through the call
driver, so it runs in the student's process (standard library only, nothing of grader).

Each account's `lock` is wrapped in a Spy that records, per real lock, which thread holds it
(and how many times) and which thread is waiting for it (a blocking acquire without a
timeout). From that record a wait that can never end is found the moment it exists, not by a
timeout:
  - a cycle: thread 1 holds account 1's lock and waits for account 2's, which thread 2 holds
    while it waits for account 1's (a thread waiting for a plain Lock it holds itself is a
    cycle of one: a Lock does not count its owner's acquisitions);
  - a wait for a lock whose holder has finished: that lock will never be released.
Records are kept before the real release and after the real acquire, so a "stuck" state is
never seen by mistake: a lock recorded as held is really held.

Hooks pause a thread at a chosen point until the other threads have got somewhere (a round
where every transfer holds its first lock, money in flight between withdraw and deposit), so
the interleavings that expose a bug happen on every run. Pauses end on the state they wait
for; PATIENCE is only their last resort.
"""
import random
import threading
import traceback

PATIENCE = 8.0    # the longest a hook pauses a thread (seconds): it normally ends on an event
SETTLE = 20.0     # the longest the probe waits for the threads to finish or get stuck


class World:
    """Who holds and who waits for each lock, under one condition variable."""

    def __init__(self):
        self.cond = threading.Condition()
        self.owner = {}       # real lock id -> [thread name, count]
        self.waiting = {}     # thread name -> real lock id (blocking, no timeout)
        self.trying = {}      # thread name -> real lock id (any acquire in progress)
        self.reentrant = {}   # real lock id -> is it an RLock?
        self.accounts = {}    # real lock id -> [account numbers using it]
        self.started = set()
        self.alias = {}       # thread name -> what it is doing now, for the report
        self.finished = set()
        self.before = None    # hook(spy, me) before an acquire (outside cond)
        self.after = None     # hook(spy, me) after a successful acquire

    def holds(self, me):
        return [lid for lid, (who, _n) in self.owner.items() if who == me]

    def stuck(self):
        """[{thread, holds, waits, why}] of a wait that can never end, or None."""
        for start in list(self.waiting):
            path, seen, me = [], set(), start
            while me in self.waiting and me not in seen:
                seen.add(me)
                lid = self.waiting[me]
                path.append(me)
                own = self.owner.get(lid)
                if own is None:
                    break
                who = own[0]
                if who == me:
                    if self.reentrant.get(lid):
                        break  # an RLock its thread holds: that acquire succeeds at once
                    return [self._row(me, "self")]
                if who in self.finished or who not in self.started:
                    return [self._row(me, "gone", who)]
                if who in seen:
                    cycle = path[path.index(who):]
                    return [self._row(t, "cycle") for t in cycle]
                me = who
        return None

    def _row(self, me, why, holder=None):
        return {"thread": self.alias.get(me, me),
                "holds": [self.accounts[lid] for lid in self.holds(me)],
                "waits": self.accounts[self.waiting[me]], "why": why,
                "holder": self.alias.get(holder, holder)}


class Spy:
    """Stands in for an account's lock: the same acquire/release/with, recorded."""

    def __init__(self, world, real, number):
        self._world, self._real, self._id = world, real, id(real)
        world.reentrant[self._id] = type(real).__name__ in ("RLock", "_RLock")
        world.accounts.setdefault(self._id, []).append(number)

    def acquire(self, blocking=True, timeout=-1):
        w, me = self._world, threading.current_thread().name
        if w.before is not None:
            w.before(self, me)
        untimed = blocking and (timeout is None or timeout < 0)
        with w.cond:
            w.trying[me] = self._id
            if untimed:
                w.waiting[me] = self._id
            w.cond.notify_all()
        ok = False
        try:
            ok = self._real.acquire(blocking, timeout)
        finally:
            with w.cond:
                w.waiting.pop(me, None)
                w.trying.pop(me, None)
                if ok:
                    own = w.owner.get(self._id)
                    if own is not None and own[0] == me:
                        own[1] += 1
                    else:
                        w.owner[self._id] = [me, 1]
                w.cond.notify_all()
        if ok and w.after is not None:
            w.after(self, me)
        return ok

    def release(self):
        w = self._world
        with w.cond:
            own = w.owner.get(self._id)
            if own is not None:
                own[1] -= 1
                if own[1] <= 0:
                    del w.owner[self._id]
            w.cond.notify_all()
        self._real.release()

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()

    def __getattr__(self, name):
        return getattr(self._real, name)


def _bank():
    import bank
    return bank


def _error(exc):
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.endswith("bank.py")]
    where = [f"bank.py, line {f.lineno}, in {f.name}: {f.line}" for f in frames[-4:]]
    return {"type": type(exc).__name__, "message": str(exc)[:300], "where": where,
            "func": frames[-1].name if frames else None,
            "mro": [c.__name__ for c in type(exc).__mro__]}


def _accounts(world, balances):
    bank = _bank()
    accounts = [bank.Account(n, b) for n, b in enumerate(balances, 1)]
    for a in accounts:
        a.lock = Spy(world, a.lock, a.number)
    return accounts


def _run(world, jobs):
    """Run jobs [(name, fn)] in threads; wait until all finish or some wait can never end.
    -> (results {name: value or {"error": ...}}, stuck rows or None, settled)"""
    results = {}

    def work(name, fn):
        try:
            results[name] = {"value": fn()}
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            results[name] = {"error": _error(exc)}
        finally:
            with world.cond:
                world.finished.add(name)
                world.cond.notify_all()

    threads = [threading.Thread(target=work, args=job, name=job[0], daemon=True) for job in jobs]
    with world.cond:
        world.started.update(name for name, _ in jobs)
    for t in threads:
        t.start()
    stuck = None
    with world.cond:
        def settled():
            nonlocal stuck
            stuck = world.stuck()
            return stuck is not None or len(world.finished) == len(jobs)
        done = world.cond.wait_for(settled, SETTLE)
    return results, stuck, done


def _report(world, accounts, results, stuck, done, **extra):
    with world.cond:
        held = [{"accounts": world.accounts[lid], "by": who, "count": n}
                for lid, (who, n) in world.owner.items()]
        waiting = {t: world.accounts[lid] for t, lid in world.waiting.items()}
    return {"results": {world.alias.get(k, k): v for k, v in results.items()},
            "stuck": stuck, "settled": done, "held": held,
            "waiting": waiting, "finished": sorted(world.finished),
            "threads": sorted(world.started),
            "balances": [a.balance for a in accounts], **extra}


def _name(src, dst, amount):
    return f"transfer({src.number}->{dst.number}, {amount})"


# -- what the checks call ------------------------------------------------------------------------

def accounts_basics():
    bank = _bank()
    a = bank.Account(1, 100)
    steps = []
    a.deposit(50)
    steps.append(a.balance)
    a.withdraw(30)
    steps.append(a.balance)
    try:
        a.withdraw(500)
        steps.append("returned")
    except Exception as exc:  # noqa: BLE001
        steps.append(_error(exc))
    steps.append(a.balance)
    return {"steps": steps, "number": a.number}


def lock_kind():
    bank = _bank()
    a, b = bank.Account(1, 10), bank.Account(2, 10)
    lock = getattr(a, "lock", None)
    kind = type(lock)
    out = {"type": {"_thread.lock": "threading.Lock()", "_thread.RLock": "threading.RLock()",
                    "threading._RLock": "threading.RLock()"}.get(
                        f"{kind.__module__}.{kind.__qualname__}", repr(lock)[:80]),
           "distinct": lock is not getattr(b, "lock", None)}
    if lock is None or not hasattr(lock, "acquire"):
        return out
    if not lock.acquire(timeout=1):
        out["first"] = False
        return out
    out["first"] = True
    again = lock.acquire(timeout=0.5)
    out["again"] = again
    if again:
        lock.release()
    lock.release()
    return out


def transfers(plan, balances):
    """Transfers one after another in one worker thread: plan [(src, dst, amount)] (1-based)."""
    world = World()
    accounts = _accounts(world, balances)
    bank = _bank()
    steps = []

    def job():
        for s, d, amount in plan:
            src, dst = accounts[s - 1], accounts[d - 1]
            with world.cond:
                world.alias["transfer"] = _name(src, dst, amount)
            try:
                bank.transfer(src, dst, amount)
                steps.append({"ok": True, "balances": [a.balance for a in accounts]})
            except Exception as exc:  # noqa: BLE001
                steps.append({"ok": False, "error": _error(exc),
                              "balances": [a.balance for a in accounts]})
                if type(exc).__name__ not in ("InsufficientFunds", "ValueError"):
                    raise
        return steps

    results, stuck, done = _run(world, [("transfer", job)])
    # from another thread: can each lock be taken now?
    free = {}
    for a in accounts:
        real = getattr(a.lock, "_real", None)
        if stuck is None and done and hasattr(real, "acquire"):
            got = real.acquire(False)
            if got:
                real.release()
            free[a.number] = got
    return _report(world, accounts, results, stuck, done, steps=steps, free=free)


def opposing(pairs, balances, amount):
    """One thread per transfer of `pairs` [(src, dst)]. Round 1 is forced: each thread, once
    it holds its first lock, waits until every other one holds a lock or waits for one."""
    world = World()
    accounts = _accounts(world, balances)
    bank = _bank()
    names = [_name(accounts[s - 1], accounts[d - 1], amount) for s, d in pairs]
    paused = set()

    def every_one_holds_or_waits():
        return all(n in world.finished or world.holds(n) or n in world.trying for n in names)

    def after(spy, me):
        if me in paused or me not in names:
            return
        paused.add(me)
        with world.cond:
            world.cond.wait_for(lambda: every_one_holds_or_waits() or world.stuck(), PATIENCE)

    world.after = after
    jobs = [(n, (lambda s=s, d=d: bank.transfer(accounts[s - 1], accounts[d - 1], amount)))
            for n, (s, d) in zip(names, pairs)]
    results, stuck, done = _run(world, jobs)
    return _report(world, accounts, results, stuck, done, names=names, paused=sorted(paused))


def many(balances, rounds, seed):
    """A ring of forced opposing first transfers (1->2, 2->3, ..., n->1), then `rounds` random
    transfers per thread, and an auditor adding up all the while."""
    world = World()
    accounts = _accounts(world, balances)
    bank = _bank()
    n = len(accounts)
    names = [f"teller {i}" for i in range(1, n + 1)]
    paused = set()
    logs = {name: [] for name in names}
    audits = []

    def every_one_holds_or_waits():
        return all(t in world.finished or world.holds(t) or t in world.trying for t in names)

    def after(spy, me):
        if me in paused or me not in names:
            return
        paused.add(me)
        with world.cond:
            world.cond.wait_for(lambda: every_one_holds_or_waits() or world.stuck(), PATIENCE)

    world.after = after

    def teller(i):
        rng = random.Random(seed * 100 + i)
        log = logs[names[i]]
        plan = [(i, (i + 1) % n, 1 + rng.randrange(20))]
        for _ in range(rounds):
            s = rng.randrange(n)
            d = (s + 1 + rng.randrange(n - 1)) % n
            plan.append((s, d, 1 + rng.randrange(80)))
        for s, d, amount in plan:
            try:
                bank.transfer(accounts[s], accounts[d], amount)
                log.append([s + 1, d + 1, amount, "ok"])
            except bank.InsufficientFunds:
                log.append([s + 1, d + 1, amount, "refused"])
        return len(plan)

    def auditor():
        while len(audits) < 400:
            with world.cond:
                if all(t in world.finished for t in names):
                    break
            audits.append(bank.audit(list(accounts)))
        audits.append(bank.audit(list(accounts)))
        return len(audits)

    jobs = [(names[i], (lambda i=i: teller(i))) for i in range(n)] + [("auditor", auditor)]
    results, stuck, done = _run(world, jobs)
    return _report(world, accounts, results, stuck, done, logs=logs, audits=audits[:50],
                   audit_values=sorted(set(audits)), audit_count=len(audits))


def audit_in_flight(amount):
    """transfer(1->2) is paused with the money in flight (withdrawn from 1, not yet in 2) as
    it is about to take account 2's lock for the deposit; then audit([1, 2]) runs. The
    transfer goes on once the audit has returned or waits for a lock."""
    world = World()
    a, b = accounts = _accounts(world, [100, 100])
    bank = _bank()
    tname, aname = _name(a, b, amount), "audit([1, 2])"
    state = {"window": False, "audit_done": False}

    def before(spy, me):
        if me != tname or state["window"] or spy._id != id(b.lock._real):
            return
        if not (a.balance == 100 - amount and b.balance == 100):
            return
        with world.cond:
            state["window"] = True
            world.cond.notify_all()
            world.cond.wait_for(lambda: aname in world.finished or aname in world.trying
                                or world.stuck(), PATIENCE)

    world.before = before
    results = {}

    def work_transfer():
        bank.transfer(a, b, amount)

    # the transfer first, in a thread of its own; the audit once the window is open (or the
    # transfer is over without one: then there is nothing to see, and the audit is simply run)
    def work_audit():
        with world.cond:
            world.cond.wait_for(lambda: state["window"] or tname in world.finished, SETTLE)
        return bank.audit([a, b])

    results, stuck, done = _run(world, [(tname, work_transfer), (aname, work_audit)])
    return _report(world, accounts, results, stuck, done, window=state["window"],
                   tname=tname, aname=aname)


def disjoint(amount):
    """transfer(1->2) and transfer(3->4) at once: each pauses with its money in flight, just
    before taking the destination's lock for the deposit, until the other one is there too -
    or is found waiting for a lock the first one holds (they share a lock)."""
    world = World()
    accounts = _accounts(world, [100, 100, 100, 100])
    a, b, c, d = accounts
    bank = _bank()
    pairs = {_name(a, b, amount): (a, b), _name(c, d, amount): (c, d)}
    at_window = set()
    met = set()
    blocked_by = {}

    def before(spy, me):
        if me not in pairs or me in at_window:
            return
        src, dst = pairs[me]
        if spy._id != id(dst.lock._real) or not (src.balance == 100 - amount
                                                   and dst.balance == 100):
            return
        other = next(n for n in pairs if n != me)
        with world.cond:
            at_window.add(me)
            world.cond.notify_all()

            def together_or_blocked():
                if other in at_window:
                    met.add(me)  # both had their money in flight at the same time
                    return True
                if other in world.finished:
                    return True
                lid = world.trying.get(other)
                if lid is not None and lid in world.holds(me):
                    blocked_by[other] = me
                    return True
                return False
            world.cond.wait_for(together_or_blocked, 2 * PATIENCE)

    world.before = before
    jobs = [(n, (lambda s=s, t=t: bank.transfer(s, t, amount))) for n, (s, t) in pairs.items()]
    results, stuck, done = _run(world, jobs)
    return _report(world, accounts, results, stuck, done, together=bool(met),
                   at_window=sorted(at_window), blocked_by=blocked_by)
