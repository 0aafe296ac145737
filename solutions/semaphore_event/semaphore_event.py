"""A Semaphore that lets n threads in at once, and an Event that starts threads together.

Read README.md in this folder for the whole task, then `grader check semaphore_event`.

    run_limited(job, items, n)        one thread per item, at most n inside job() at once
    traffic_light(job, rounds, green) each round's threads wait at a red light (an Event);
                                      green(r) says when it turns green; red again after
"""
import threading


def run_limited(job, items, n):
    """[job(x) for x in items]: one thread per item, all started at once, and a
    threading.Semaphore(n) so that at most n of them are inside job() at the same time.
    Results in the order of the items; a job's exception is raised here once all are done."""
    slots = threading.Semaphore(n)   # n permits: the n+1-th acquire() waits for a release()
    results = [None] * len(items)
    errors = []

    def worker(i, x):
        with slots:                  # acquire() ... release(), even when job(x) raises
            try:
                results[i] = job(x)
            except Exception as exc:
                errors.append((i, exc))

    threads = [threading.Thread(target=worker, args=(i, x)) for i, x in enumerate(items)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise min(errors, key=lambda e: e[0])[1]
    return results


def traffic_light(job, rounds, green):
    """For each round (a list of items): start one thread per item, which waits at the red
    light - a threading.Event - and then runs job(x); call green(r), which returns when round r
    may go, and turn the light green (set()); wait for the round's threads; turn the light red
    again (clear()) before the next round. Returns one list of results per round."""
    light = threading.Event()        # not set: red
    results = []
    for r, items in enumerate(rounds):
        out = [None] * len(items)

        def car(i, x, out=out):
            light.wait()             # blocks (no CPU) until set(); nobody starts before
            out[i] = job(x)

        threads = [threading.Thread(target=car, args=(i, x)) for i, x in enumerate(items)]
        for t in threads:
            t.start()
        green(r)                     # the controller decides when
        light.set()                  # green: every waiting thread wakes up
        for t in threads:
            t.join()
        light.clear()                # red again, before the next round's threads arrive
        results.append(out)
    return results
