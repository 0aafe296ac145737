"""Runs one judge (a pytest process for one exercise against one target) and collects its results.

The grader trusts only what arrives on the results pipe, and only for tests the judge said it
collected; a judge that dies, hangs or stays silent yields zero for every test it did not
report. A judge past its deadline is killed with its process group, and any student process
orphaned by that is found (the grader is a child subreaper) and killed as well.
"""
from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from . import warm as warm_mod
from .course import Course, Exercise, Record

COLLECT_SECONDS = 30.0   # time for pytest to start and collect the suite
MARGIN_SECONDS = 15.0    # on top of the sum of the tests' own limits


class JudgeResult(Record):
    _fields = ("exercise", "target", "tests", "hidden", "precheck", "problem", "seconds",
               "visibility", "hidden_points", "isolation", "isolated", "refused", "judge_pid")

    def __init__(self, exercise: str, target: str, tests: list[dict] | None = None,
                 hidden: int = 0, precheck: str | None = None, problem: str | None = None,
                 seconds: float = 0.0, visibility: str = "visible", hidden_points: float = 0.0,
                 isolation: str | None = None, isolated: bool = True, refused: bool = False,
                 judge_pid: int | None = None):
        self.exercise, self.target = exercise, target
        self.tests: list[dict] = [] if tests is None else tests
        self.hidden, self.precheck = hidden, precheck
        self.problem = problem          # the judge itself failed (not the student's fault)
        self.seconds, self.visibility, self.hidden_points = seconds, visibility, hidden_points
        self.isolation = isolation      # the one line that says how student code was confined
        self.isolated = isolated
        self.refused = refused          # a submission not run: student code cannot be confined here
        self.judge_pid = judge_pid      # (root: its students ran as uid 1,000,000 + this pid)

    @property
    def score(self) -> float:
        return sum(t["score"] for t in self.tests)

    @property
    def max_score(self) -> float:
        return sum(t["max_score"] for t in self.tests)

    @property
    def passed(self) -> bool:
        return not self.problem and bool(self.tests) and all(t["status"] == "passed" for t in self.tests)

    def to_json(self) -> dict:
        return {
            "exercise": self.exercise, "target": self.target, "score": self.score,
            "max_score": self.max_score, "hidden_tests": self.hidden,
            "hidden_points": self.hidden_points, "isolation": self.isolation,
            "visibility": self.visibility, "precheck": self.precheck, "problem": self.problem,
            "execution_time": round(self.seconds, 3),
            "tests": [{k: t[k] for k in ("name", "title", "score", "max_score", "status",
                                          "visibility", "output")} for t in self.tests],
        }


def judge_command(course: Course, ex: Exercise, target: Path, visibility: str, fd: int | None,
                  untrusted: bool = False, jobs: int = 1, order: list[str] | None = None) -> list[str]:
    from .i18n import lang  # the grader's language (or this thread's: see i18n.using)
    cmd = [sys.executable, "-m", "pytest", str(course.root / "tests" / ex.id),
           "--rootdir", str(course.root), "-q", "--no-header", "-p", "no:cacheprovider",
           "--netlab-target", str(target), "--netlab-visibility", visibility, "--netlab-lang", lang()]
    if fd is not None:
        cmd += ["--netlab-results-fd", str(fd)]
    if untrusted:
        cmd += ["--netlab-untrusted"]
    if jobs > 1:
        cmd += ["--netlab-jobs", str(jobs)]
        if order:
            cmd += ["--netlab-order", json.dumps(order)]
    return cmd


def interactive_jobs() -> int:
    """Shards for one `grader check` (grader/shards.py): its checks mostly wait, so two run
    at once where there are two cores; NETLAB_JOBS overrides (1: one after another)."""
    try:
        wanted = int(os.environ.get("NETLAB_JOBS", "0"))
    except ValueError:
        wanted = 0
    return max(1, wanted) if wanted else min(2, os.cpu_count() or 1)


PASSED_ON = ("NETLAB_ISOLATION", "NETLAB_STUDENT_UID", "NETLAB_ZYGOTE", "NETLAB_PIDNS")  # how to confine students


def owns(course: Course, target: Path) -> bool:
    """Is `target` code the course itself owns (its exercises/ or solutions/)? Anything else
    is a submission: it is graded only where student code can be confined, unless the person
    running the grader says --trust-submission."""
    target = Path(target).resolve()
    return target in ((course.root / "exercises").resolve(), (course.root / "solutions").resolve())


def judge_env() -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTEST_", "NETLAB_")) or k in PASSED_ON}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # hermetic and fast: only our plugin loads
    env.pop("PYTHONPATH", None)
    return env


def run_judge(course: Course, ex: Exercise, target: Path, *, visibility: str = "visible",
              margin: float = MARGIN_SECONDS, untrusted: bool = False,
              warm: bool = True, jobs: int = 1, order: list[str] | None = None,
              on_start=None) -> JudgeResult:
    """Run the suite of `ex` against `target/<ex.id>` in a fresh pytest process.
    `untrusted`: refuse (score nothing, say why) where student code cannot be confined.
    `order`: check names, longest first, for the shards' queue (state.check_order).
    `on_start`: called once the judge runs (the caller's own work can wait until then)."""
    from .procs import become_subreaper, kill_strays, make_undumpable, reap_orphan
    from .textsafe import visible
    become_subreaper()
    make_undumpable()  # a student of our uid must not take our end of the results pipe
    started = time.monotonic()
    target = Path(target).resolve()
    result = JudgeResult(ex.id, str(target / ex.id), visibility=visibility)
    read_fd, write_fd = os.pipe()
    cmd = judge_command(course, ex, target, visibility, write_fd, untrusted, jobs, order)
    try:
        proc = None
        if warm and warm_mod.enabled():  # a fork of the warm process, if one answers
            proc = warm_mod.start_judge(course.root, cmd[3:], course.root, judge_env(), write_fd)
            if proc is None and warm_mod.required():
                os.close(read_fd)
                result.problem = "NETLAB_WARM=require, but no warm judge answered"
                return result
        if proc is None:
            proc = subprocess.Popen(
                cmd, cwd=course.root, env={**judge_env(), "NETLAB_PARENT": str(os.getpid())},
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, pass_fds=(write_fd,),
                start_new_session=True)
    finally:
        os.close(write_fd)
    result.judge_pid = proc.pid
    if on_start is not None:
        on_start()
    collected: dict[str, dict] = {}
    collected_once = False
    reported: dict[str, dict] = {}
    zygote_pids: list[int] = []
    deadline = started + COLLECT_SECONDS
    buffer = b""
    log = bytearray()
    done = False
    streams = {read_fd: "results", proc.stdout.fileno(): "log"}
    try:
        while streams and not done:  # after `done` the judge has nothing more to say
            left = deadline - time.monotonic()
            if left <= 0:
                result.problem = (f"the judge did not finish within its time limit "
                                  f"({deadline - started:.0f} s); unreported checks score 0")
                break
            ready, _, _ = select.select(list(streams), [], [], left)
            for fd in ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    del streams[fd]
                    continue
                if streams[fd] == "log":
                    log += chunk
                    del log[:-20000]
                    continue
                buffer += chunk
                while b"\n" in buffer and not done:
                    line, buffer = buffer.split(b"\n", 1)
                    try:
                        event = json.loads(line)
                        kind = event.get("event")
                    except (ValueError, AttributeError):
                        result.problem = f"the judge sent an unreadable result: {line[:200]!r}"
                        continue
                    if kind == "collected" and collected_once:
                        continue  # the judge announces its checks once; nobody adds to them
                    if kind == "collected":
                        collected_once = True
                        for t in event["tests"]:
                            collected[t["id"]] = t
                        result.hidden = event.get("hidden", 0)
                        result.hidden_points = event.get("hidden_points", 0)
                        deadline = time.monotonic() + sum(
                            t["time_limit"] for t in event["tests"]) + margin
                    elif kind == "result" and event["id"] in collected:
                        reported[event["id"]] = event
                    elif kind == "zygote" and len(zygote_pids) < 16:
                        zygote_pids.append(int(event["pid"]))
                    elif kind == "isolation":
                        result.isolation = event["line"]
                        result.isolated = event["isolated"]
                    elif kind == "refused":
                        result.problem = event["why"]
                        result.refused = True
                    elif kind == "precheck":
                        result.precheck = event["problem"]
                    elif kind == "collect_error":
                        result.problem = f"the suite could not be loaded: {event['message']}"
                    elif kind == "done":
                        done = True
    finally:
        # a judge that said `done` has reaped its students, fork servers and shards and has
        # only pytest's own ending left (~10 ms a check): it ends now, as one that did not
        if proc.poll() is None:
            _kill_group(proc)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            proc.wait()
        os.close(read_fd)
        proc.stdout.close()
        for pid in zygote_pids:
            reap_orphan(pid)
        kill_strays(tag=None)
    if collected and not done and not result.problem:
        result.problem = (f"the judge ended early (exit code {proc.returncode}); checks it did "
                          "not report score 0")
    if not collected and not result.problem:
        result.problem = ("the judge reported no checks (exit code "
                          f"{proc.returncode}):\n{log.decode('utf-8', 'replace')[-3000:]}")
    for test_id, info in collected.items():
        got = reported.get(test_id)
        if got is None:
            got = {**info, "score": 0, "status": "failed",
                   "output": "no result: the judge stopped before this check reported "
                             "(it scores 0)"}
        else:
            # points come from what was collected, never from the result line alone
            got = {**info, "status": got["status"], "output": got["output"],
                   "score": info["max_score"] if got["status"] == "passed" else 0,
                   "seconds": got.get("seconds") if isinstance(got.get("seconds"), (int, float)) else None}
        # student text (stderr, replies) reaches terminals, JSON and reports: no raw controls
        got = {**got, "output": visible(str(got["output"])), "title": visible(str(got["title"]))}
        result.tests.append(got)
    result.precheck = visible(result.precheck) if result.precheck else None
    result.problem = visible(result.problem) if result.problem else None
    result.seconds = time.monotonic() - started
    return result


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
