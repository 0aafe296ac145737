"""The suite's probe: runs in the student's process, beside coroutines.py (never in the judge).

Generators cannot travel through the call driver (its arguments and answers are JSON), so this
probe makes the test's own tasks, sources and consumers in the student's process, hands them
to the student's functions and answers with plain data: a trace of who ran when, in order,
and what came back. Every task and consumer writes its steps into one shared trace list, so
the interleaving order is the evidence. It is the suite's code (copied into the working copy
by grader.harness.probe); it only calls the student's functions.
"""
import inspect
import threading

import coroutines


def _plain(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return {"$repr": repr(value)[:200], "$type": type(value).__name__}


def _task(name, steps, trace, threads):
    """A task: `steps` turns of work, each recorded as "<name><i>" and followed by a yield
    (switch, state saved: `i` is a local), then one more turn that records "<name> returns"
    and returns "<name>:<steps>"."""
    for i in range(steps):
        threads.add(threading.get_ident())
        trace.append(f"{name}{i}")
        yield
    threads.add(threading.get_ident())
    trace.append(f"{name} returns")
    return f"{name}:{steps}"


def run_tasks(specs):
    """specs: [[name, steps], ...] -> what run() did with such tasks."""
    trace, threads = [], set()
    tasks = [_task(name, steps, trace, threads) for name, steps in specs]
    caller = threading.get_ident()
    results = coroutines.run(tasks)
    states = [inspect.getgeneratorstate(t) for t in tasks]
    return {"trace": trace, "results": _plain(results),
            "other_threads": len(threads - {caller}), "states": states}


def _source(items, trace):
    for item in items:
        trace.append(f"produce {item}")
        yield item
    trace.append("source ends")


def _consumer(limit, trace):
    """Takes up to `limit` items (None: no limit); answers each but the last with "ok <item>";
    records being closed."""
    reply = None
    taken = 0
    try:
        while limit is None or taken < limit:
            item = yield reply
            taken += 1
            trace.append(f"consume {item}")
            reply = f"ok {item}"
        trace.append("consumer returns")
        return taken
    except GeneratorExit:
        trace.append("consumer closed")
        raise


def pump_test(items, limit):
    """pump(<a recording source of items>, <a recording consumer>)."""
    trace = []
    consumer = _consumer(limit, trace)
    source = _source(items, trace)
    replies = coroutines.pump(source, consumer)
    return {"trace": trace, "replies": _plain(replies),
            "consumer": inspect.getgeneratorstate(consumer)}


def pump_count(count, limit):
    """pump() on a long source of `count` numbers: how many it pulled."""
    pulled = [0]

    def numbers():
        for n in range(count):
            pulled[0] += 1
            yield n

    trace = []
    replies = coroutines.pump(numbers(), _consumer(limit, trace))
    return {"pulled": pulled[0], "replies": _plain(replies), "trace": trace[-5:]}


def averager_test(numbers):
    """Prime one averager, send it the numbers: [what next() gave, what each send gave]."""
    avg = coroutines.averager()
    if not inspect.isgenerator(avg):
        return {"not_generator": type(avg).__name__}
    out = [next(avg)]
    for n in numbers:
        out.append(avg.send(n))
    return {"answers": _plain(out)}


def averagers_interleaved(first, second):
    """Two averagers driven in turns: each must keep its own state."""
    a, b = coroutines.averager(), coroutines.averager()
    next(a)
    next(b)
    got_a, got_b = [], []
    for x, y in zip(first, second):
        got_a.append(a.send(x))
        got_b.append(b.send(y))
    return {"a": _plain(got_a), "b": _plain(got_b)}


def pipeline(numbers):
    """The student's pump feeding the student's averager."""
    return {"replies": _plain(coroutines.pump(iter(numbers), coroutines.averager()))}
