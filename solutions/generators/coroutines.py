"""Coroutines as the course note describes them: "switch + save state" with yield, next and
send, in one thread (see README.md).

- run(tasks): a round-robin scheduler of generator tasks;
- pump(source, consumer): the producer side of a producer-consumer pipeline, pushing items
  into a consumer coroutine with send();
- averager(): a consumer coroutine that answers each number sent to it with the average so far.
"""
from collections import deque


def run(tasks):
    """Run generator tasks in turns until all have finished; their return values, in the
    order of `tasks`."""
    results = [None] * len(tasks)
    ready = deque(enumerate(tasks))
    while ready:
        i, task = ready.popleft()
        try:
            next(task)                     # switch: run the task up to its next yield
        except StopIteration as stop:
            results[i] = stop.value        # it returned: out of the ring, its value kept
            continue
        ready.append((i, task))            # suspended at its yield, its state saved: back of the line
    return results


def pump(source, consumer):
    """Send each item of `source`, one at a time, into the `consumer` coroutine; the list of
    its replies. Stops when the source ends (then closes the consumer) or the consumer returns."""
    replies = []
    next(consumer)                         # prime it: run it to its first yield
    for item in source:                    # one item at a time: the source may be endless
        try:
            replies.append(consumer.send(item))
        except StopIteration:              # the consumer has had enough: take no more items
            return replies
    consumer.close()                       # no more items: GeneratorExit at its yield
    return replies


def averager():
    """After priming, yields None; then answers every number sent in with the average of all
    the numbers so far."""
    total = 0
    count = 0
    average = None
    while True:
        number = yield average             # hand out the answer, wait for the next number
        total += number
        count += 1
        average = total / count
