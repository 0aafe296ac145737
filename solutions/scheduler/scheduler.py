"""Multiprogramming on one CPU: round-robin time slicing and a multi-level feedback queue
(see README.md).

Both schedulers share one simulation. Time is whole ticks; a job's `bursts` alternate CPU and
IO ([cpu, io, cpu, ...]). At each instant the order of events is fixed:
  1. the running slice ends (its job goes blocked, finishes, or is preempted);
  2. jobs that become ready now - arrivals and IO completions - join their queue, in the
     order of the jobs list;
  3. the job preempted now joins the tail of its queue (after them);
  4. if the CPU is free, the head of the highest non-empty queue gets it.
"""

def round_robin(jobs, quantum):
    """Round-robin time slicing with a quantum of `quantum` ticks."""
    return simulate(jobs, [quantum], feedback=False)


def mlfq(jobs, quanta=(2, 4, 8)):
    """The multi-level feedback queue: len(quanta) levels, level 1 first."""
    return simulate(jobs, list(quanta), feedback=True)


def simulate(jobs, quanta, feedback):
    order = {job["name"]: i for i, job in enumerate(jobs)}
    info = {job["name"]: {"arrival": job["arrival"], "bursts": list(job["bursts"])}
            for job in jobs}
    queues = [[] for _ in quanta]            # ready queues, level 0 first
    level = {name: 0 for name in info}       # every new job enters level 1 (index 0)
    burst = {name: 0 for name in info}       # index of the current burst
    left = {name: info[name]["bursts"][0] for name in info}  # ticks left in the current burst
    wakes = {name: info[name]["arrival"] for name in info}   # arrival or end of IO, pending
    changes = {name: [] for name in info}    # (time, state): each job's state changes
    done = {}
    timeline = []
    now = 0
    running = None                           # (name, slice end)

    def enter(name, state, t):
        changes[name].append((t, state))

    while len(done) < len(info):
        preempted = None
        # 1. the running slice ends now
        if running is not None and running[1] == now:
            name = running[0]
            running = None
            if left[name] == 0:
                burst[name] += 1
                bursts = info[name]["bursts"]
                if burst[name] == len(bursts):
                    done[name] = now
                    enter(name, "done", now)
                else:
                    wakes[name] = now + bursts[burst[name]]   # IO: blocked, keeps its level
                    enter(name, "blocked", now)
            else:
                if feedback:
                    level[name] = min(level[name] + 1, len(quanta) - 1)
                preempted = name
        # 2. arrivals and IO completions, in the order of the jobs list
        for name in sorted((n for n, t in wakes.items() if t == now), key=order.get):
            del wakes[name]
            if burst[name] > 0:                   # back from IO: the next CPU burst
                burst[name] += 1
                left[name] = info[name]["bursts"][burst[name]]
            queues[level[name]].append(name)
            enter(name, "ready", now)
        # 3. the preempted job goes to the tail of its queue, after them
        if preempted is not None:
            queues[level[preempted]].append(preempted)
            enter(preempted, "ready", now)
        # 4. a free CPU takes the head of the highest non-empty queue
        if running is None:
            for lvl, queue in enumerate(queues):
                if queue:
                    name = queue.pop(0)
                    run = min(quanta[lvl], left[name])
                    left[name] -= run
                    running = (name, now + run)
                    timeline.append([now, now + run, name])
                    enter(name, "running", now)
                    break
        if len(done) == len(info):
            break
        # the next instant something happens
        upcoming = list(wakes.values())
        if running is not None:
            upcoming.append(running[1])
        if not upcoming:
            break
        nxt = min(upcoming)
        if running is None:
            timeline.append([now, nxt, None])    # the CPU idles until then
        now = nxt

    result = {}
    for name, job in info.items():
        if name not in done:
            continue
        rows = intervals(changes[name])
        waiting = sum(end - start for start, end, state in rows if state == "ready")
        result[name] = {"completion": done[name],
                        "turnaround": done[name] - job["arrival"],
                        "waiting": waiting,
                        "states": rows}
    return {"timeline": timeline, "jobs": result}


def intervals(changes):
    """[[start, end, state], ...] from (time, state) changes: maximal intervals, none empty."""
    rows = []
    for (start, state), (end, _) in zip(changes, changes[1:]):
        if end == start:
            continue
        if rows and rows[-1][2] == state and rows[-1][1] == start:
            rows[-1][1] = end
        else:
            rows.append([start, end, state])
    return rows
