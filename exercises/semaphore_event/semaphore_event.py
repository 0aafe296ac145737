"""A Semaphore that lets n threads in at once, and an Event that starts threads together.

Read README.md in this folder for the whole task, then `grader check semaphore_event`.

    run_limited(job, items, n)        one thread per item, at most n inside job() at once
    traffic_light(job, rounds, green) each round's threads wait at a red light (an Event);
                                      green(r) says when it turns green; red again after
"""
import threading  # noqa: F401  (threading.Semaphore, threading.Event, threading.Thread)


def run_limited(job, items, n):
    """[job(x) for x in items]: one thread per item, all started at once, and a
    threading.Semaphore(n) so that at most n of them are inside job() at the same time.
    Results in the order of the items; a job's exception is raised here once all are done."""
    # TODO: one Semaphore(n) shared by all; each thread: `with sem: results[i] = job(x)`.
    #       Start every thread, then join them all.
    raise NotImplementedError("run_limited() is not written yet")


def traffic_light(job, rounds, green):
    """For each round (a list of items): start one thread per item, which waits at the red
    light - a threading.Event - and then runs job(x); call green(r), which returns when round r
    may go, and turn the light green (set()); wait for the round's threads; turn the light red
    again (clear()) before the next round. Returns one list of results per round."""
    # TODO: light = threading.Event(); per round: start the threads (each: light.wait(), then
    #       job(x)), green(r), light.set(), join them, light.clear().
    raise NotImplementedError("traffic_light() is not written yet")
