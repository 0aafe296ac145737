"""Producers and consumers (生产者消费者模型) with processes and a bounded multiprocessing.Queue.

    producers ──put──▶ [ queue, at most maxsize items ] ──get──▶ consumers ──▶ results

`produce(p, k)` makes item k of producer p; `consume(item)` processes one item and returns
its result. Every item is consumed exactly once; a full queue makes producers wait
(backpressure); one sentinel per consumer ends them; nothing is left running.
"""
import multiprocessing

STOP = None  # the sentinel: "no more items" (produce() never returns None)


def producer(produce, p, items, queue):
    for k in range(items):
        queue.put(produce(p, k))   # blocks while the queue is full: a fast producer waits


def consumer(consume, queue, results):
    while True:
        item = queue.get()         # blocks until an item (or the sentinel) arrives
        if item is STOP:
            break                  # exactly one sentinel per consumer: this one is ours
        results.put(consume(item))


def run(produce, consume, producers, consumers, items, maxsize):
    """Start `producers` producer processes (each makes `items` items) and `consumers`
    consumer processes around one Queue(maxsize); return the list of every result."""
    queue = multiprocessing.Queue(maxsize)   # bounded: backpressure
    results = multiprocessing.Queue()
    makers = [multiprocessing.Process(target=producer, args=(produce, p, items, queue))
              for p in range(producers)]
    eaters = [multiprocessing.Process(target=consumer, args=(consume, queue, results))
              for _ in range(consumers)]
    for proc in makers + eaters:
        proc.start()
    out = [results.get() for _ in range(producers * items)]   # read before join()
    for proc in makers:
        proc.join()                # every item is in the queue (or eaten) now ...
    for _ in eaters:
        queue.put(STOP)            # ... so the sentinels come after all of them: one each
    for proc in eaters:
        proc.join()
    return out
