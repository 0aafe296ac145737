"""One judge's checks run by several forked shards at once (`--netlab-jobs N`).

A check mostly waits: for a student's process to start, to listen, to answer. `grader check`
has the other core free, so the judge collects the suite once, compiles the student's files
once, and then forks N shards that take the checks one at a time from a shared queue (a pipe
of check numbers: whoever is free takes the next, so one long check does not hold up the
rest; the checks the last run found longest go first). Each shard is a judge as confined as
its parent: non-dumpable, a subreaper, dying with the parent, with its own fork server
(started beforehand, adopted after the fork). A shard
reports on a pipe of its own; the parent forwards whole lines onto the results pipe, so two
shards' lines never interleave. The grader orders results by collection, so the report is the
same as a serial run's. Batches and self-tests run one shard: they keep the cores busy with
many judges instead.
"""
from __future__ import annotations

import json
import os
import select
import sys
import traceback

from .harness import zygote as zygote_mod

MAX_ITEMS = 16000  # a check number takes 4 bytes; all of them fit in a pipe's 64 KiB


def keep_one(judge) -> None:
    """Not sharding after all: this process adopts the first fork server, lets the others go."""
    zs, judge.zygotes = judge.zygotes, []
    if zs:
        zs[0].adopt()
        zygote_mod.install(zs[0])
        for z in zs[1:]:
            z.detach()
        judge.released_zygotes.extend(zs[1:])


def queue_order(names: list[str], longest_first: list[str]) -> list[int]:
    """The order the shards take the checks in: those the last run did not time first (they
    may be long), then the others longest first, so that no long check starts last while the
    other shard runs out of work. Ties keep the suite's order."""
    rank = {name: i for i, name in enumerate(longest_first)}
    return sorted(range(len(names)), key=lambda i: rank.get(names[i], -1))


def run(session, judge, jobs: int) -> bool | None:
    """pytest_runtestloop for a judge with `jobs` > 1; None: run serially as usual."""
    items = list(session.items)
    if (jobs < 2 or len(items) < 2 or len(items) > MAX_ITEMS or judge.out is None
            or session.config.option.collectonly or not sys.platform.startswith("linux")):
        keep_one(judge)
        return None
    exercises = {ex.id: ex for i in items if (ex := judge.exercise_of(i)) is not None}
    for ex in exercises.values():
        judge.precheck(ex)  # once, here: every shard inherits the answer
    n = min(jobs, len(items))
    zs, judge.zygotes = judge.zygotes, []
    if len(zs) > n:
        for z in zs[n:]:
            z.detach()
        judge.released_zygotes.extend(zs[n:])
        zs = zs[:n]
    work_r, work_w = os.pipe()
    order = queue_order([i.name for i in items], judge.order)
    os.write(work_w, b"".join(i.to_bytes(4, "little") for i in order))
    os.close(work_w)
    judge.out.flush()
    parent = os.getpid()
    pipes: dict[int, int] = {}   # read end of a shard's results pipe -> the shard's pid
    for k in range(n):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            for fd in pipes:
                os.close(fd)
            _shard(session, judge, items, work_r, w, zs, k, parent)  # never returns
        os.close(w)
        pipes[r] = pid
    os.close(work_r)
    for z in zs:
        z.detach()   # the shards hold them now: a shard's end is its zygote's end
    _forward(pipes, judge, session)
    for pid in pipes.values():
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
    judge.released_zygotes.extend(zs)
    return True


def _shard(session, judge, items, work_r: int, out_w: int, zs, k: int, parent: int) -> None:
    """In a forked shard: take check numbers until the queue is empty; never returns."""
    code = 0
    try:
        from .procs import become_subreaper, die_with_parent, make_undumpable
        make_undumpable()
        die_with_parent(parent)
        become_subreaper()   # not inherited: our students' orphans must come to us
        for j, z in enumerate(zs):
            if j != k:
                z.detach()
        if zs:
            zs[k].adopt()
            zygote_mod.install(zs[k])
        old = judge.out
        judge.out = os.fdopen(out_w, "w", buffering=1)
        os.close(old.fileno())   # the grader's pipe is the parent's to write
        while True:
            number = os.read(work_r, 4)
            if len(number) < 4:
                break
            item = items[int.from_bytes(number, "little")]
            item.ihook.pytest_runtest_protocol(item=item, nextitem=None)
            if session.shouldstop or session.shouldfail:
                break
    except BaseException:  # noqa: BLE001 - the grader scores what was not reported 0
        traceback.print_exc()
        code = 70
    finally:
        try:
            judge.out.flush()
            sys.stdout.flush()
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
        zygote_mod.shutdown()  # EOF: the zygote kills what is left and exits
        os._exit(code)


def _forward(pipes: dict[int, int], judge, session) -> None:
    """Copy the shards' lines, whole, onto the results pipe until every shard is done."""
    partial = {fd: b"" for fd in pipes}
    while partial:
        ready, _, _ = select.select(list(partial), [], [])
        for fd in ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                os.close(fd)
                del partial[fd]   # a cut-off last line is dropped: its check scores 0
                continue
            *lines, partial[fd] = (partial[fd] + chunk).split(b"\n")
            for line in lines:
                text = line.decode("utf-8", "replace")
                judge.out.write(text + "\n")
                try:
                    event = json.loads(text)
                except ValueError:
                    continue
                if isinstance(event, dict) and event.get("event") == "result":
                    judge.results.append(event)
                    if event.get("status") == "failed":
                        session.testsfailed += 1
