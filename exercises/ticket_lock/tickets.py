"""Ticket buying (抢票): buyer processes share one JSON file, and a multiprocessing.Lock makes
each purchase - read the count, decide, write it back - one step nobody can cut into.

The file:  {"count": 3, "sold": []}   - tickets left, and who bought one (buyer numbers)

`network(stage, buyer)` stands for the slow round trip to the ticket office (the classic
version sleeps there): call it once in search() after reading, and once in buy() between
reading and writing.

Read README.md in this folder for the whole task, then `grader check ticket_lock`.
"""
import json
import multiprocessing


def search(path, buyer, network):
    """How many tickets are left, as buyer `buyer` sees it. Only reads: no lock."""
    # TODO: json.load() the file at `path`, call network("search", buyer) once,
    #       return data["count"].
    raise NotImplementedError("search() is not written yet")


def buy(path, buyer, lock, network):
    """Buy one ticket for `buyer`: True if bought, False if none was left."""
    # TODO: holding `lock` (with lock: ...): read the file, call network("buy", buyer),
    #       and if count > 0 write it back with count - 1 and `buyer` appended to "sold".
    raise NotImplementedError("buy() is not written yet")


def sell(path, buyers, network):
    """Start one process per buyer (numbered 0 .. buyers-1), all at once, sharing one
    multiprocessing.Lock; each searches, then buys. Return [bought?] in buyer order."""
    # TODO: one multiprocessing.Lock and one multiprocessing.Queue; a Process per buyer
    #       (its target: search, then buy, then put (buyer, bought) on the queue);
    #       start them all, read the queue, join them all.
    raise NotImplementedError("sell() is not written yet")
