"""Multiprogramming on one CPU: round-robin time slicing and a multi-level feedback queue
(see README.md).

A job is {"name": "A", "arrival": 0, "bursts": [3, 2, 4]}: its bursts alternate CPU and IO
(CPU 3, IO 2, CPU 4). Time is whole ticks of model time: simulate it, never sleep.

Both functions answer with the same shape:

    {"timeline": [[0, 2, "A"], [2, 3, None], ...],          # one entry per slice; None = idle
     "jobs": {"A": {"completion": 9, "turnaround": 9, "waiting": 2,
                    "states": [[0, 2, "running"], [2, 4, "blocked"], ...]}}}
"""


def round_robin(jobs, quantum):
    """Round-robin time slicing: every slice is at most `quantum` ticks."""
    raise NotImplementedError("round_robin: simulate the ready queue, slice by slice")


def mlfq(jobs, quanta=(2, 4, 8)):
    """The multi-level feedback queue: len(quanta) levels (3), level 1 first, quanta[i] ticks
    per slice at level i + 1."""
    raise NotImplementedError("mlfq: three ready queues, and feedback from used-up slices")
