"""The pytest plugin that makes a pytest process a judge.

It selects tests by visibility, gives each test a `student` sandbox, enforces the test's
wall-clock limit from outside the student's processes (watchdog: stacks dumped, groups killed),
turns failures into student feedback, and writes one JSON line per result to a pipe the grader
passed in (`--netlab-results-fd`). That pipe is not inherited by student processes and the
judge makes itself non-dumpable, so a student process cannot reach it through /proc either.

Plain `pytest tests/<id> --netlab-target solutions` works too (it prints a points summary).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from . import course as course_mod
from . import i18n
from .i18n import say
from .harness import Student
from .harness.feedback import CheckFailed
from .harness.sandbox import PYTHON_FLAGS, Limits, Sandbox, StudentTimeout, _preexec
from .procs import become_subreaper, make_undumpable

COMPILE_CHECK = Path(__file__).resolve().parent / "harness" / "_compile.py"


def pytest_addoption(parser):
    group = parser.getgroup("netlab")
    group.addoption("--netlab-target", default=os.environ.get("NETLAB_TARGET", "solutions"),
                    help="folder holding <exercise>/ folders to test (default: solutions)")
    group.addoption("--netlab-visibility", choices=("visible", "all"), default="all",
                    help="'visible': run only tests a student may see")
    group.addoption("--netlab-lang", choices=("en", "zh"), default=None,
                    help="language of the feedback (default: NETLAB_LANG, the locale, English)")
    group.addoption("--netlab-untrusted", action="store_true",
                    help="(grader use) the target is a submission: refuse without isolation")
    group.addoption("--netlab-results-fd", type=int, default=None,
                    help="(grader use) write JSON results to this file descriptor")
    group.addoption("--netlab-jobs", type=int, default=1,
                    help="(grader use) run the checks in this many forked shards at once")
    group.addoption("--netlab-order", default="[]",
                    help="(grader use) JSON list of check names, the longest first: the shards "
                         "take them in this order (the report keeps the suite's order)")


class Judge:
    """State of one judge session: the course, the results channel, the running test."""

    def __init__(self, config):
        self.config = config
        self.root = course_mod.find_root(Path(str(config.rootpath)))
        self.course = course_mod.load(self.root, check_folders=False)
        self.tests_root = self.root / "tests"
        target = Path(config.getoption("netlab_target"))
        self.target = target if target.is_absolute() else (Path.cwd() / target).resolve()
        self.visibility = config.getoption("netlab_visibility")
        from . import i18n
        self.lang = i18n.from_environment(config.getoption("netlab_lang"))
        i18n.set_lang(self.lang)
        fd = config.getoption("netlab_results_fd")
        self.out = None
        if fd is not None:
            os.set_inheritable(fd, False)
            self.out = os.fdopen(fd, "w", buffering=1)
            make_undumpable()
        self.strict = fd is not None  # judge mode: every child of ours is a student's
        become_subreaper()
        self.prechecks: dict[str, str | None] = {}
        self._compiling: dict[str, subprocess.Popen] = {}
        self.records: dict[str, dict] = {}
        self.results: list[dict] = []
        self.current: Sandbox | None = None
        self.timed_out: set[str] = set()
        self.hidden = 0
        self.refused: str | None = None
        self.jobs = config.getoption("netlab_jobs") if fd is not None else 1
        try:
            self.order = [str(n) for n in json.loads(config.getoption("netlab_order"))]
        except (TypeError, ValueError):
            self.order = []
        self.zygotes: list = []           # one per shard, adopted after the fork (shards.py)
        self.released_zygotes: list = []  # let go of; reaped at the end

    def emit(self, event: dict) -> None:
        if self.out is not None:
            self.out.write(json.dumps(event) + "\n")

    def exercise_at(self, path: Path) -> course_mod.Exercise | None:
        """The exercise whose suite folder tests/<id>/ holds (or is) `path`, if any."""
        try:
            rel = path.resolve().relative_to(self.tests_root)
        except ValueError:
            return None
        return self.course.exercises.get(rel.parts[0]) if rel.parts else None

    def exercise_of(self, item) -> course_mod.Exercise | None:
        return self.exercise_at(Path(str(item.path)))

    def info(self, item) -> dict:
        mark = item.get_closest_marker("netlab")
        kw = mark.kwargs if mark else {}
        ex = self.exercise_of(item)
        doc = (getattr(item.obj, "__doc__", None) or "").strip().splitlines()
        title = kw.get("title") or (doc[0].strip() if doc else
                                    item.name.removeprefix("test_").replace("_", " "))
        from .i18n import text
        return {
            "id": item.nodeid,
            "name": item.name,
            "title": text(title, self.lang),
            "exercise": ex.id if ex else None,
            "max_score": kw.get("points") if kw.get("points") is not None else
            (self.course.default_points if ex else 0),
            "visibility": kw.get("visibility", "visible"),
            "hint": text(kw.get("hint"), self.lang) or None,
            "time_limit": kw.get("time_limit") or (ex.time_limit if ex else self.course.time_limit),
        }

    def start_precheck(self, ex: course_mod.Exercise) -> None:
        """Start compiling `ex`'s files now (a fresh interpreter takes ~20 ms): collection
        goes on meanwhile, and the first check's setup collects the answer."""
        if ex.id in self.prechecks or ex.id in self._compiling:
            return
        folder = self.target / ex.id
        py = [f for f in ex.files if f.endswith(".py")]
        if not folder.is_dir() or not all((folder / f).is_file() for f in ex.files):
            return  # precheck() says what is missing
        self._compiling[ex.id] = subprocess.Popen(
            [sys.executable, *PYTHON_FLAGS, str(COMPILE_CHECK), "--lang", i18n.lang(), *py], cwd=folder,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            preexec_fn=_preexec(Limits()), env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})

    def precheck(self, ex: course_mod.Exercise) -> str | None:
        """Missing files or syntax errors, found by compiling in a confined child (never here)."""
        if ex.id not in self.prechecks:
            folder = self.target / ex.id
            missing = [f for f in ex.files if not (folder / f).is_file()]
            if missing:
                fields = dict(files=", ".join(missing), folder=folder, needs=", ".join(ex.files))
                self.prechecks[ex.id] = str(
                    say("{files} is missing from {folder} - this exercise needs {needs}",
                        "{folder} 里缺少 {files}——这个练习需要 {needs}", **fields)
                    if len(missing) == 1 else
                    say("{files} are missing from {folder} - this exercise needs {needs}",
                        "{folder} 里缺少 {files}——这个练习需要 {needs}", **fields))
            else:
                self.start_precheck(ex)
                proc = self._compiling.pop(ex.id)
                try:
                    out, _ = proc.communicate(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    out, _ = proc.communicate()
                py = [f for f in ex.files if f.endswith(".py")]
                self.prechecks[ex.id] = out.decode("utf-8", "replace").strip() or (
                    None if proc.returncode == 0 else str(say(
                        "could not check {files}", "无法检查 {files}", files=", ".join(py))))
            if self.prechecks[ex.id]:
                self.emit({"event": "precheck", "exercise": ex.id, "problem": self.prechecks[ex.id]})
        return self.prechecks[ex.id]


_judge: Judge | None = None
_prepared: list | None = None  # fork servers a standby judge started before its job came


def prepare(jobs: int) -> None:
    """Do ahead what pytest_configure does first and what no job changes: a standby judge (a
    fork of the warm process waiting for its next job, see warm.py) gets its private network
    and scratch folder and starts `jobs` fork servers, so a check that arrives finds them up.
    The judge is the same process, as confined as one that does this after its job came."""
    global _prepared
    from .harness import isolation, zygote
    from .harness.sandbox import _site_paths
    become_subreaper()
    _own_network_and_scratch(isolation.plan())
    _prepared = ([zygote.Zygote(_site_paths(), adopt=False) for _ in range(max(1, jobs))]
                 if zygote.enabled() else [])


def _own_network_and_scratch(plan) -> None:
    """A jail+uid judge's loopback network and size-limited scratch folder of its own."""
    from .harness import isolation
    if plan.mode == "jail+uid":
        isolation.private_network()
        isolation.private_scratch()


def _fork_servers(n: int) -> list:
    """`n` fork servers, not yet adopted: those a standby started first, then new ones; a
    standby's spare ones are let go of (they end when their socket closes)."""
    global _prepared
    from .harness import zygote
    from .harness.sandbox import _site_paths
    ready, _prepared = list(_prepared or []), None
    for z in ready[n:]:
        z.detach()
        _judge.released_zygotes.append(z)
    return ready[:n] + [zygote.Zygote(_site_paths(), adopt=False) for _ in range(n - len(ready[:n]))]


def pytest_configure(config):
    global _judge
    if os.environ.get("NETLAB_PARENT", "").isdigit():  # a cold judge: it dies with its grader
        from .procs import die_with_parent
        die_with_parent(int(os.environ["NETLAB_PARENT"]))
    config.addinivalue_line("markers", "netlab(points, visibility, hint, time_limit): a graded check")
    _judge = Judge(config)
    from .harness import isolation
    isolation.HIDE.add(str(_judge.root))  # the course is not in the student's view
    if _judge.out is not None:
        plan = isolation.plan()
        if _prepared is None:  # else a standby did it (prepare)
            _own_network_and_scratch(plan)
        _judge.emit({"event": "isolation", "mode": plan.mode, "isolated": plan.isolated,
                     "line": plan.describe()})
        if config.getoption("netlab_untrusted") and not plan.isolated:
            from .i18n import say
            _judge.refused = say(
                "refused to run this submission: student code cannot be confined on this machine "
                "({why}). Run the grader as root, or where user namespaces are allowed; or, if you "
                "trust this code, add --trust-submission.",
                "拒绝运行这份提交：本机无法隔离学生代码（{why}）。请以 root 运行评分程序，或在允许用户命名空间的"
                "机器上运行；如果你信任这份代码，加上 --trust-submission。", why=plan.why).render(_judge.lang)
    if _judge.out is not None or any(
            _judge.exercise_at(Path.cwd() / arg.split("::")[0]) for arg in config.args):
        # the fork server boots (~50 ms) on the other core while pytest collects
        from .harness import zygote
        if _judge.jobs > 1 and zygote.enabled():  # one per shard (see shards.py)
            _judge.zygotes = _fork_servers(_judge.jobs)
        elif zygote.enabled():
            z = _fork_servers(1)[0]
            z.adopt()
            zygote.install(z)
            _judge.zygotes = [z]
        else:
            _judge.zygotes = []
        for z in _judge.zygotes:  # if this judge dies, the grader waits for them to clean up
            _judge.emit({"event": "zygote", "pid": z.pid})
        if _judge.jobs <= 1:
            _judge.zygotes = []
        for arg in config.args:  # compile the student's files while pytest collects
            ex = _judge.exercise_at(Path.cwd() / arg.split("::")[0])
            if ex is not None:
                _judge.start_precheck(ex)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items):
    judge = _judge
    keep, hidden = [], []
    for item in items:
        info = judge.info(item)
        if judge.visibility == "visible" and info["exercise"] and info["visibility"] != "visible":
            hidden.append(item)
        else:
            keep.append(item)
    if hidden:
        config.hook.pytest_deselected(items=hidden)
        items[:] = keep
    judge.hidden = len(hidden)
    if judge.refused:  # announce the checks (they score 0), run none of them
        judge.emit({"event": "refused", "why": judge.refused})
        config.hook.pytest_deselected(items=list(items))
        infos = [judge.info(i) for i in items]
        items[:] = []
    else:
        infos = [judge.info(i) for i in items]
    judge.emit({"event": "collected", "tests": infos, "hidden": len(hidden),
                "hidden_points": sum(judge.info(i)["max_score"] for i in hidden)})


def pytest_collectreport(report):
    if report.failed and _judge is not None:
        _judge.emit({"event": "collect_error", "where": report.nodeid,
                     "message": str(report.longrepr)[-3000:]})


@pytest.fixture
def exercise(request) -> course_mod.Exercise:
    ex = _judge.exercise_of(request.node)
    if ex is None:
        pytest.fail("this test is not inside tests/<exercise>/")
    return ex


@pytest.fixture
def target(exercise) -> Path:
    """The folder under test: <target>/<exercise id>."""
    return _judge.target / exercise.id


@pytest.fixture
def student(request, exercise, target):
    """The student's code for this test; every process it starts dies with the test."""
    info = _judge.info(request.node)
    limits = Limits.from_mapping(_judge.course.limits_for(exercise))
    sandbox = Sandbox(target=target, limits=limits,
                      wall_seconds=info["time_limit"], kill_all_children=_judge.strict)
    _judge.current = sandbox
    student = Student(sandbox)
    try:
        yield student
    finally:
        _judge.current = None
        sandbox.cleanup()
        student.close()
        record = _judge.records.setdefault(request.node.nodeid, {})
        record["workdir"] = f"{sandbox.workdir}/" if sandbox.workdir else None
        record["stderr"] = [(p.name, p.stderr_tail(1200)) for p in sandbox.procs
                            if p.stderr_tail().strip()]
        record["stacks"] = [(p.stacks_label(), frames) for p in sandbox.procs
                            if (frames := p.stacks())]


def pytest_runtest_setup(item):
    ex = _judge.exercise_of(item)
    if ex is not None:
        problem = _judge.precheck(ex)
        if problem:
            raise CheckFailed(say("not run: {problem}", "未运行：{problem}", problem=problem))


def _watchdog(nodeid: str) -> None:
    """Fires at the test's wall-clock limit: stacks to stderr, then the student's groups die,
    which ends any wait of the test on them."""
    sandbox = _judge.current
    _judge.timed_out.add(nodeid)
    if sandbox is None:
        return
    for proc in list(sandbox.procs):
        proc.collect_stacks()
    for proc in list(sandbox.procs):
        proc.kill()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    if _judge.exercise_of(item) is None:  # not a graded check: no watchdog
        yield
        return
    seconds = _judge.info(item)["time_limit"]
    timer = threading.Timer(seconds, _watchdog, (item.nodeid,))
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    record = _judge.records.setdefault(item.nodeid, {})
    if report.when == "call" and item.nodeid in _judge.timed_out and report.passed:
        report.outcome = "failed"
    if report.failed and "failure" not in record:
        record["failure"] = _failure_text(call, report, item)
        record["when"] = report.when
    if report.skipped and "failure" not in record:
        record["failure"] = f"skipped: {getattr(report, 'longrepr', '')}"


def _failure_text(call, report, item) -> str:
    from .i18n import say
    limit = _judge.info(item)["time_limit"]
    timed_out = item.nodeid in _judge.timed_out
    prefix = str(say("this check ran past its {t:g} s time limit; your processes were stopped.",
                     "这项检查超过了 {t:g} 秒的时间限制；你的进程已被停止。", t=limit)) + "\n" \
        if timed_out else ""
    excinfo = call.excinfo
    if excinfo is None:
        return prefix.strip() or str(say("failed", "未通过"))
    exc = excinfo.value
    if isinstance(exc, CheckFailed) and exc.hint:  # its own hint: the check's is not repeated
        _judge.records.setdefault(item.nodeid, {})["own_hint"] = True
    if isinstance(exc, (CheckFailed, StudentTimeout)):
        return prefix + str(exc)
    if isinstance(exc, AssertionError):
        crash = getattr(report.longrepr, "reprcrash", None)
        return prefix + (crash.message if crash else str(exc))
    where = ""
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        where = f" (at {Path(crash.path).name}:{crash.lineno})"
    if report.when != "call":
        return prefix + str(say("the check could not run ({when}): {error}",
                                "这项检查无法运行（{when}）：{error}", when=report.when,
                                error=f"{excinfo.typename}: {exc}{where}"))
    return prefix + f"{excinfo.typename}: {exc}{where}"


def pytest_runtest_logfinish(nodeid, location):
    judge = _judge
    record = judge.records.pop(nodeid, {})
    info = record.get("info")
    if info is None or info["exercise"] is None:
        return  # not a graded check (e.g. the project's own tests)
    failed = "failure" in record
    output = record.get("failure", "")
    if failed:
        from .harness.feedback import label
        from .i18n import say
        # one hint: the failure's own when it has one (it fits the failure), else the check's
        if info["hint"] and not record.get("own_hint") and info["hint"] not in output:
            output += f"\n{label('hint')}{info['hint']}"
        for where, frames in record.get("stacks", []):
            output += f"\n  {where}{say(':', '：')}\n" + "\n".join(
                "    " + l for l in frames.splitlines()[-20:])
        for name, tail in record.get("stderr", []):
            lines = tail.rstrip().splitlines()
            output += "\n  " + str(say("stderr of {name} (last lines):", "{name} 的 stderr（最后几行）：",
                                        name=name)) + "\n" + "\n".join("    " + l for l in lines[-15:])
        if record.get("workdir"):  # 'framing.py', not the sandbox's temp folder
            output = output.replace(record["workdir"], "")
    result = {
        "event": "result", "id": nodeid, "name": info["name"], "title": info["title"],
        "exercise": info["exercise"], "visibility": info["visibility"],
        "max_score": info["max_score"], "score": 0 if failed else info["max_score"],
        "status": "failed" if failed else "passed", "output": output,
        "seconds": round(time.monotonic() - record.get("started", time.monotonic()), 3),
    }
    judge.results.append(result)
    judge.emit(result)


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session):
    if _judge is None or session.testsfailed:
        return None
    from . import shards
    return shards.run(session, _judge, _judge.jobs) if _judge.jobs > 1 else None


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item, nextitem):
    record = _judge.records.setdefault(item.nodeid, {})
    record["info"] = _judge.info(item)
    record["started"] = time.monotonic()  # how long it took steers the next check's shards


def pytest_sessionfinish(session, exitstatus):
    if _judge is not None:
        from .harness import isolation, zygote
        zygote.shutdown()
        if _judge.zygotes:  # started for shards that never ran (no checks collected)
            from . import shards
            shards.keep_one(_judge)
            zygote.shutdown()
        for z in _judge.released_zygotes:
            z.detach()
            try:
                z.proc.wait(5)
            except subprocess.TimeoutExpired:
                z.proc.kill()
                z.proc.wait()
        isolation.release_scratch()
        _judge.emit({"event": "done"})


def pytest_terminal_summary(terminalreporter):
    judge = _judge
    if judge is None or not judge.results:
        return
    by_ex: dict[str, list] = {}
    for r in judge.results:
        by_ex.setdefault(r["exercise"] or "?", []).append(r)
    for ex_id, results in by_ex.items():
        got = sum(r["score"] for r in results)
        total = sum(r["max_score"] for r in results)
        terminalreporter.write_line(f"netlab: {ex_id} against {judge.target}: {got:g}/{total:g} points")
