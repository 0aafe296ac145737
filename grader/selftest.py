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

from . import i18n
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
    scores: dict = field(default_factory=dict)  # 'solution/en' -> {check: score} (both languages)

    @property
    def ok(self) -> bool:
        return not self.violations


def _summary(result: JudgeResult) -> str:
    return f"{result.score:g}/{result.max_score:g}"


def _failed(result: JudgeResult) -> list[str]:
    return [t["name"] for t in result.tests if t["status"] != "passed"]


def check_solution(course: Course, ex: Exercise, report: ExerciseReport) -> None:
    result = run_judge(course, ex, course.root / "solutions", visibility="all")
    report.scores[f"solution/{i18n.lang()}"] = {t["name"]: t["score"] for t in result.tests}
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
    report.scores[f"stub/{i18n.lang()}"] = {t["name"]: t["score"] for t in result.tests}
    report.stub = _summary(result)
    if result.problem:
        report.violations.append(f"stub: {result.problem}")
    passed = [t["name"] for t in result.tests if t["status"] == "passed"]
    if passed or result.score:
        report.violations.append(f"the untouched stub passes {', '.join(passed)}")


def check_mutant(course: Course, ex: Exercise, mutant, names: set[str] | None,
                 report: ExerciseReport) -> JudgeResult:
    """Run the whole suite (hidden checks too) against the solution with the mutant's edits,
    and require every check in its caught_by to fail. The caught_by names are checked against
    the checks this judge run collected (the suite itself, not a text search); `names` is
    no longer used. Returns the judge's result (`grader selftest --mutant N --show` prints it)."""
    with tempfile.TemporaryDirectory(prefix=f"netlab-mutant-{mutant.name}-") as tmp:
        os.chmod(tmp, 0o755)  # students may run under another uid: let them reach the copy
        mutant.apply(course.root / "solutions" / ex.id, Path(tmp) / ex.id)
        result = run_judge(course, ex, Path(tmp), visibility="all")
    collected = {t["name"] for t in result.tests}
    unknown = [n for n in mutant.caught_by if n not in collected]
    failed = set(_failed(result))
    missed = [n for n in mutant.caught_by if n not in failed]
    if result.problem:
        report.violations.append(f"mutant {mutant.name}: {result.problem}")
    elif unknown:
        report.violations.append(
            f"mutant {mutant.name}: caught_by names checks the suite does not have: "
            f"{', '.join(unknown)} (its checks: {', '.join(sorted(collected))})")
    elif missed:
        report.violations.append(f"mutant {mutant.name} ({mutant.why}) is not caught by "
                                 f"{', '.join(missed)}")
    else:
        report.killed += 1
    return result


def show_mutants(course: Course, ex_id: str, wanted: list[str], *, show: bool = True,
                 as_json: bool = False) -> int:
    """`grader selftest ID --mutant NAME [--show]`: run only the named mutants (all of them
    when none is named) and, with `show`, print the feedback each one gets, exactly as a
    student would see it from `grader check --all` (every check, hidden ones too). Then the
    verdict: which caught_by checks failed. 0 when every mutant run is caught."""
    ex = course.exercises[ex_id]
    try:
        muts = mutants_mod.load(course.root / "tests", ex_id)
    except mutants_mod.MutantError as exc:
        print(f"grader: {exc}")
        return 2
    known = {m.name: m for m in muts}
    unknown = [n for n in wanted if n not in known]
    if unknown or not muts:
        print(i18n.say("grader: {ex} has no mutant called {names}; its mutants: {known}",
                       "grader：{ex} 没有名为 {names} 的变异体；它的变异体有：{known}",
                       ex=ex_id, names=", ".join(unknown) or "-", known=", ".join(known) or "-"))
        return 2
    chosen = [known[n] for n in wanted] if wanted else muts
    report = ExerciseReport(ex_id, mutants=len(chosen))
    results = {}
    for m in chosen:
        before = len(report.violations)
        try:
            result = check_mutant(course, ex, m, None, report)
        except mutants_mod.MutantError as exc:
            report.violations.append(str(exc))
            continue
        results[m.name] = result
        if as_json:
            continue
        if show:
            from .report import print_result
            print(i18n.say("── mutant {name} ({file}): {why}", "── 变异体 {name}（{file}）：{why}",
                           name=m.name, file=m.file, why=m.why))
            print_result(result, ex.text("title", i18n.lang()), shown_target=f"{ex_id} + mutant {m.name}")
        caught = len(report.violations) == before
        print(i18n.say("mutant {name}: {verdict} (caught_by: {checks})",
                       "变异体 {name}：{verdict}（caught_by：{checks}）", name=m.name,
                       checks=", ".join(m.caught_by),
                       verdict=i18n.say("caught", "已被抓出") if caught else
                       i18n.say("NOT caught", "没有被抓出")))
        for v in report.violations[before:]:
            print("  " + v)
        if show:
            print()
    if as_json:
        print(json.dumps({"exercise": ex_id, "killed": report.killed, "mutants": len(chosen),
                          "violations": report.violations,
                          "results": {n: r.to_json() for n, r in results.items()}}, indent=2))
    return 0 if report.ok else 1


def in_language(language: str, fn):
    """`fn` with its judges run in `language` (i18n.using: this thread only)."""
    def run(*args):
        with i18n.using(language):
            fn(*args)
    run.__name__ = f"{fn.__name__}_{language}"
    return run


def same_in_both_languages(report: ExerciseReport) -> None:
    """The solution and the stub score check for check the same in English and Chinese."""
    for kind in ("solution", "stub"):
        en, zh = report.scores.get(f"{kind}/en"), report.scores.get(f"{kind}/zh")
        if en is not None and zh is not None and en != zh:
            differ = sorted(n for n in en.keys() | zh.keys() if en.get(n) != zh.get(n))
            report.violations.append(f"the {kind} scores differently in English and Chinese: "
                                     f"{', '.join(differ)} (en {en}, zh {zh})")


def default_jobs() -> int:
    """Judges at once: twice the cores. A judge spends most of its time waiting (on its
    students' sockets, on deadlines a failing mutant runs into), and every check's verdict is
    made to hold on a busy machine (the determinism benchmark runs beside CPU burners)."""
    return 2 * (os.cpu_count() or 1)


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
        names = None  # caught_by is checked against the checks each judge run collects
        work.append((check_solution, (course, ex, report)))
        work.append((check_stub, (course, ex, report)))
        other = "zh" if i18n.lang() == "en" else "en"  # and in the other language: same scores
        work += [(in_language(other, check_solution), (course, ex, report)),
                 (in_language(other, check_stub), (course, ex, report))]
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

    jobs = jobs or default_jobs()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(run, work))
    for report in reports.values():
        same_in_both_languages(report)
    ok = all(r.ok for r in reports.values())
    if as_json:
        print(json.dumps([r.__dict__ for r in reports.values()], indent=2))
    else:
        _print_table(course, reports)
        print(i18n.say("{judges} judges, {jobs} at a time: {seconds} s", "共 {judges} 次评测，同时 {jobs} 个：{seconds} 秒",
                       judges=len(work), jobs=jobs,
                       seconds=f"{time.monotonic() - started:.1f}"))
    return 0 if ok else 1


def _print_table(course: Course, reports: dict[str, ExerciseReport]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text
    console = Console(highlight=False)
    say = i18n.say
    table = Table(title=str(say("netlab selftest", "netlab 自检")), title_justify="left")
    for col in (say("exercise", "练习"), say("solution", "参考答案"), say("stub", "初始代码"),
                say("mutants killed", "被抓出的变异体"), say("judge seconds", "评测秒数"), say("verdict", "结论")):
        table.add_column(str(col))
    for r in reports.values():
        table.add_row(r.exercise, r.solution, r.stub, f"{r.killed}/{r.mutants}", f"{r.seconds:.1f}",
                      Text(str(say("ok", "通过")), style="green") if r.ok else
                      Text(str(say("FAIL", "未通过")), style="bold red"))
    console.print(table)
    for r in reports.values():
        for v in r.violations:
            console.print(Text(f"{r.exercise}: {v}", style="red"), soft_wrap=True)
