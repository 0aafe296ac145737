"""The `grader` command: check, list, hint, watch, selftest, validate.

Exit codes: 0 every check run passed, 1 a check failed, 2 a usage or course problem.
Heavy imports (rich, watchfiles) wait until the judge is already running, so a check costs
little more than the suite itself.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import course as course_mod

DEFAULT_TARGET = "exercises"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="grader", description="netlab: check network and concurrency exercises")
    p.add_argument("--root", type=Path, default=None, help="course folder (default: found from here)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    c = sub.add_parser("check", help="run an exercise's checks and show feedback")
    c.add_argument("exercise")
    c.add_argument("--target", default=DEFAULT_TARGET,
                   help="folder holding <exercise>/ (default: exercises; 'solutions' checks the reference)")
    c.add_argument("--json", action="store_true", help="print one JSON object (Gradescope field names)")
    c.add_argument("--all", action="store_true", help="run hidden checks too (instructors)")
    c.add_argument("--trust-submission", action="store_true",
                   help="grade a submission even where its code cannot be confined (you trust it)")

    sub.add_parser("list", help="exercises in course order, with your last result")

    h = sub.add_parser("hint", help="show the hints for an exercise")
    h.add_argument("exercise")

    w = sub.add_parser("watch", help="re-check an exercise whenever one of its files changes")
    w.add_argument("exercise")
    w.add_argument("--target", default=DEFAULT_TARGET)
    w.add_argument("--all", action="store_true", help="run hidden checks too (instructors)")
    w.add_argument("--max-runs", type=int, default=None, help="stop after this many checks")
    w.set_defaults(json=False)

    s = sub.add_parser("selftest", help="solutions full marks, stubs zero, every mutant caught")
    s.add_argument("exercises", nargs="*")
    s.add_argument("--jobs", "-j", type=int, default=None, help="judges at once (default: cores)")
    s.add_argument("--json", action="store_true")

    sub.add_parser("validate", help="check course.yaml and the exercise folders")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        course = course_mod.load(args.root)
    except (course_mod.CourseError, FileNotFoundError) as exc:
        print(f"grader: {exc}", file=sys.stderr)
        return 2
    try:
        return COMMANDS[args.command](course, args)
    except course_mod.UnknownExercise as exc:
        print(f"grader: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _target_root(course, target: str) -> Path:
    path = Path(target)
    if not path.is_absolute():
        cwd_path = Path.cwd() / path
        path = cwd_path if cwd_path.is_dir() else course.root / path
    return path.resolve()


def _shown(course, path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        try:
            return str(path.relative_to(course.root))
        except ValueError:
            return str(path)


def cmd_check(course, args) -> int:
    from .judge import run_judge
    ex = course.get(args.exercise)
    target = _target_root(course, args.target)
    if not target.is_dir():
        print(f"grader: target folder {target} does not exist", file=sys.stderr)
        return 2
    # rich takes ~40 ms to import: do it on the other core while the judge runs
    import threading
    warm = threading.Thread(target=_warm_up, args=(args.json,), daemon=True)
    warm.start()
    from .judge import owns
    untrusted = not owns(course, target) and not getattr(args, "trust_submission", False)
    result = run_judge(course, ex, target, visibility="all" if args.all else "visible",
                       untrusted=untrusted)
    warm.join()
    if result.refused:
        print(f"grader: {ex.id}: {result.problem}", file=sys.stderr)
        if args.json:
            from .report import result_json
            print(result_json(result))
        return 2
    if result.problem and not result.tests:
        print(f"grader: {ex.id}: {result.problem}", file=sys.stderr)
        return 2
    if args.json:
        from .report import result_json
        print(result_json(result))
    else:
        from .report import print_result
        print_result(result, ex.title, shown_target=_shown(course, target / ex.id))
    if target == (course.root / DEFAULT_TARGET).resolve():
        from . import state
        state.record(course.root, ex.id, result.score, result.max_score, result.passed)
    return 0 if result.passed else 1


def _warm_up(as_json: bool) -> None:
    if not as_json:
        from . import report  # noqa: F401
        import rich.console  # noqa: F401
        import rich.text  # noqa: F401


def cmd_list(course, args) -> int:
    from rich.console import Console
    from rich.table import Table
    from . import state
    done = state.load(course.root)
    table = Table(title=course.title, title_justify="left")
    for col in ("#", "exercise", "topic", "last result", "requires"):
        table.add_column(col)
    for ex in course.exercises.values():
        last = done.get(ex.id)
        if last is None:
            shown = "[dim]not checked yet[/]"
        else:
            mark = "[green]✔[/]" if last["passed"] else "[red]✘[/]"
            shown = f"{mark} {last['score']:g}/{last['max_score']:g}  [dim]{last['when']}[/]"
        table.add_row(str(ex.index), ex.id, ex.topic, shown, ", ".join(ex.requires))
    console = Console(highlight=False)
    console.print(table)
    passed = {i for i, r in done.items() if r.get("passed")}
    todo = [ex for ex in course.exercises.values() if ex.id not in passed]
    ready = [ex for ex in todo if set(ex.requires) <= passed]
    if not todo:
        console.print("Every exercise passes. Well done.")
    elif ready:
        console.print(f"Next: [bold]{ready[0].id}[/] ({ready[0].title}) - read "
                      f"exercises/{ready[0].id}/README.md, then `grader check {ready[0].id}`")
    return 0


def cmd_hint(course, args) -> int:
    ex = course.get(args.exercise)
    print(f"{ex.id} · {ex.title}")
    for n, hint in enumerate(ex.hints, 1):
        print(f"  {n}. {hint}")
    readme = course.root / "exercises" / ex.id / "README.md"
    if readme.is_file():
        print(f"  The task itself: {_shown(course, readme)}")
    return 0


def cmd_watch(course, args) -> int:
    from .watch import watch
    return watch(course, course.get(args.exercise), _target_root(course, args.target),
                 args.max_runs, lambda: cmd_check(course, args))


def cmd_selftest(course, args) -> int:
    from .selftest import run_selftest
    for ex_id in args.exercises:
        course.get(ex_id)
    return run_selftest(course, args.exercises or list(course.exercises), jobs=args.jobs,
                        as_json=args.json)


def cmd_validate(course, args) -> int:
    try:
        course = course_mod.load(course.root, check_folders="strict")
    except course_mod.CourseError as exc:
        print(f"grader: {exc}", file=sys.stderr)
        return 2
    print(f"{course.root / course_mod.COURSE_FILE}: {len(course.exercises)} exercises, valid")
    return 0


COMMANDS = {"check": cmd_check, "list": cmd_list, "hint": cmd_hint, "watch": cmd_watch,
            "selftest": cmd_selftest, "validate": cmd_validate}
