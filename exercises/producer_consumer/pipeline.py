"""Producers and consumers (生产者消费者模型) with processes and a bounded multiprocessing.Queue.

    producers ──put──▶ [ queue, at most maxsize items ] ──get──▶ consumers ──▶ results

`produce(p, k)` makes item k of producer p; `consume(item)` processes one item and returns
its result. Every item is consumed exactly once; a full queue makes producers wait
(backpressure); the consumers end cleanly; nothing is left running.

Read README.md in this folder for the whole task, then `grader check producer_consumer`.
"""
import multiprocessing


def run(produce, consume, producers, consumers, items, maxsize):
    """Start `producers` producer processes (each makes `items` items) and `consumers`
    consumer processes around one Queue(maxsize); return the list of every result."""
    # TODO: queue = multiprocessing.Queue(maxsize) and a second queue for the results.
    # TODO: producer p: for k in range(items): queue.put(produce(p, k))
    # TODO: consumer: loop: item = queue.get(); stop at a sentinel; else
    #       results.put(consume(item)).
    # TODO: start them all; collect producers * items results; join the producers; then one
    #       sentinel per consumer; join the consumers; return the results.
    raise NotImplementedError("run() is not written yet")
