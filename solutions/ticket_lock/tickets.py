"""Ticket buying (抢票): buyer processes share one JSON file, and a multiprocessing.Lock makes
each purchase - read the count, decide, write it back - one step nobody can cut into.

The file:  {"count": 3, "sold": []}   - tickets left, and who bought one (buyer numbers)

`network(stage, buyer)` stands for the slow round trip to the ticket office (the classic
version sleeps there): call it once in search() after reading, and once in buy() between
reading and writing.
"""
import json
import multiprocessing
import sys


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def save(path, data):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f)


def search(path, buyer, network):
    """How many tickets are left, as buyer `buyer` sees it. Only reads: no lock, so every
    buyer may look at the same time."""
    count = load(path)["count"]
    network("search", buyer)
    return count


def buy(path, buyer, lock, network):
    """Buy one ticket for `buyer`: True if bought, False if none was left. Reading the count,
    deciding and writing it back happen under the lock, as one step."""
    with lock:  # acquire() now, release() when the block ends - also when it raises
        data = load(path)
        network("buy", buyer)  # the slow part: the others must not read the old count meanwhile
        if data["count"] <= 0:
            return False
        data["count"] -= 1
        data["sold"].append(buyer)
        save(path, data)
        return True


def visit(path, buyer, lock, network, results):
    """One buyer's process: look, then buy; report (buyer, bought) on the queue, whatever
    happens."""
    bought = False
    try:
        search(path, buyer, network)
        bought = buy(path, buyer, lock, network)
    except Exception as exc:  # a failed purchase buys nothing; the lock is released already
        print(f"buyer {buyer}: {type(exc).__name__}: {exc}", file=sys.stderr)
    finally:
        results.put((buyer, bought))


def sell(path, buyers, network):
    """Start one process per buyer (numbered 0 .. buyers-1), all at once, sharing one
    multiprocessing.Lock; return [bought?] in buyer order."""
    lock = multiprocessing.Lock()   # one lock, made before the processes, handed to each
    results = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=visit, args=(path, i, lock, network, results))
             for i in range(buyers)]
    for p in procs:      # start them all first ...
        p.start()
    got = dict(results.get() for _ in procs)   # (read the queue before join())
    for p in procs:      # ... then wait for them all
        p.join()
    return [got[i] for i in range(buyers)]
