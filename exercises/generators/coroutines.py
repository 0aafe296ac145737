"""Coroutines as the course note describes them: "switch + save state" with yield, next and
send, in one thread (see README.md).

- run(tasks): a round-robin scheduler of generator tasks;
- pump(source, consumer): the producer side of a producer-consumer pipeline, pushing items
  into a consumer coroutine with send();
- averager(): a consumer coroutine that answers each number sent to it with the average so far.
"""


def run(tasks):
    """Run generator tasks in turns until all have finished; their return values, in the
    order of `tasks`."""
    raise NotImplementedError("run: take turns with next() until every task has returned")


def pump(source, consumer):
    """Send each item of `source`, one at a time, into the `consumer` coroutine; the list of
    its replies. Stops when the source ends (then closes the consumer) or the consumer returns."""
    raise NotImplementedError("pump: prime the consumer, then send() it one item at a time")


def averager():
    """After priming, yields None; then answers every number sent in with the average of all
    the numbers so far."""
    raise NotImplementedError("averager: a generator whose yield both answers and receives")
