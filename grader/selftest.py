"""`grader selftest`: the course tests itself. For each exercise: the reference solution scores
full marks (and the suite's points add up to course.yaml's), the untouched stub scores zero,
and every mutant fails each test named in its `caught_by`. Judges run in parallel threads
(each judge is its own process)."""
from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from . import mutants as mutants_mod
from .course import Course, Exercise
from .judge import JudgeResult, run_judge


@dataclass
class ExerciseReport:
    exercise: str
    solution: str = ""
    stub: str = ""
    killed: int = 0
    mutants: int = 0
    seconds: float = 0.0  # the sum of this exercise's judges' wall times
    violations: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations


def _summary(result: JudgeResult) -> str:
    return f"{result.score:g}/{result.max_score:g}"


def _failed(result: JudgeResult) -> list[str]:
    return [t["name"] for t in result.tests if t["status"] != "passed"]


def check_solution(course: Course, ex: Exercise, report: ExerciseReport) -> None:
    result = run_judge(course, ex, course.root / "solutions", visibility="all")
    report.solution = _summary(result)
    if result.problem:
        report.violations.append(f"solution: {result.problem}")
    for t in result.tests:
        if t["status"] != "passed":
            report.violations.append(f"solution fails {t['name']}:\n{t['output']}")
    if result.max_score != ex.points:
        report.violations.append(f"the suite's checks add up to {result.max_score:g} points, "
                                 f"course.yaml says {ex.points:g}")


def check_stub(course: Course, ex: Exercise, report: ExerciseReport) -> None:
    result = run_judge(course, ex, course.root / "exercises", visibility="all")
    report.stub = _summary(result)
    if result.problem:
        report.violations.append(f"stub: {result.problem}")
    passed = [t["name"] for t in result.tests if t["status"] == "passed"]
    if passed or result.score:
        report.violations.append(f"the untouched stub passes {', '.join(passed)}")


def check_mutant(course: Course, ex: Exercise, mutant, names: set[str], report: ExerciseReport) -> None:
    unknown = [n for n in mutant.caught_by if n not in names]
    if unknown:
        report.violations.append(f"mutant {mutant.name}: caught_by names unknown tests {unknown}")
        return
    with tempfile.TemporaryDirectory(prefix=f"netlab-mutant-{mutant.name}-") as tmp:
        os.chmod(tmp, 0o755)  # students may run under another uid: let them reach the copy
        mutant.apply(course.root / "solutions" / ex.id, Path(tmp) / ex.id)
        result = run_judge(course, ex, Path(tmp), visibility="all")
    failed = set(_failed(result))
    missed = [n for n in mutant.caught_by if n not in failed]
    if result.problem:
        report.violations.append(f"mutant {mutant.name}: {result.problem}")
    elif missed:
        report.violations.append(f"mutant {mutant.name} ({mutant.why}) is not caught by "
                                 f"{', '.join(missed)}")
    else:
        report.killed += 1


def _test_names(course: Course, ex: Exercise) -> set[str]:
    """Test function names in the suite (read as text: the grader imports no suite code)."""
    names = set()
    for path in (course.root / "tests" / ex.id).glob("test_*.py"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("def test_"):
                names.add(line[4:line.index("(")])
    return names


def run_selftest(course: Course, ids: list[str], *, jobs: int | None = None, as_json: bool = False) -> int:
    reports = {i: ExerciseReport(i) for i in ids}
    started = time.monotonic()
    work = []
    for ex_id in ids:
        ex = course.exercises[ex_id]
        report = reports[ex_id]
        try:
            muts = mutants_mod.load(course.root / "tests", ex_id)
        except mutants_mod.MutantError as exc:
            report.violations.append(str(exc))
            muts = []
        if not muts:
            report.violations.append("no mutants: tests/<id>/mutants.yaml must hold at least one")
        report.mutants = len(muts)
        names = _test_names(course, ex)
        work.append((check_solution, (course, ex, report)))
        work.append((check_stub, (course, ex, report)))
        work += [(check_mutant, (course, ex, m, names, report)) for m in muts]
    lock = threading.Lock()

    def run(item):
        fn, args = item
        report = args[-1]
        t0 = time.monotonic()
        try:
            fn(*args)
        except mutants_mod.MutantError as exc:
            report.violations.append(str(exc))
        with lock:
            report.seconds += time.monotonic() - t0

    with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 2) as pool:
        list(pool.map(run, work))
    ok = all(r.ok for r in reports.values())
    if as_json:
        print(json.dumps([r.__dict__ for r in reports.values()], indent=2))
    else:
        _print_table(course, reports)
        print(f"{len(work)} judges, {jobs or os.cpu_count() or 2} at a time: "
              f"{time.monotonic() - started:.1f} s")
    return 0 if ok else 1


def _print_table(course: Course, reports: dict[str, ExerciseReport]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text
    console = Console(highlight=False)
    table = Table(title="netlab selftest", title_justify="left")
    for col in ("exercise", "solution", "stub", "mutants killed", "judge seconds", "verdict"):
        table.add_column(col)
    for r in reports.values():
        table.add_row(r.exercise, r.solution, r.stub, f"{r.killed}/{r.mutants}", f"{r.seconds:.1f}",
                      Text("ok", style="green") if r.ok else Text("FAIL", style="bold red"))
    console.print(table)
    for r in reports.values():
        for v in r.violations:
            console.print(Text(f"{r.exercise}: {v}", style="red"), soft_wrap=True)
