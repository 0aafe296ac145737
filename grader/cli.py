"""The `grader` command: check, list, hint, watch, selftest, validate, batch, pack, release, export.

Exit codes: 0 every check run passed, 1 a check failed, 2 a usage or course problem.
Heavy imports (rich, watchfiles) wait until the judge is already running, so a check costs
little more than the suite itself.

Every message is in the student's language (grader.i18n): `grader --lang zh|en`, else
NETLAB_LANG, else the locale, else English; the judge is told the same (--netlab-lang).
argparse's own --help and its wording of a bad option stay English.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import course as course_mod
from . import i18n
from .i18n import say

DEFAULT_TARGET = "exercises"


class _Parser(argparse.ArgumentParser):
    """argparse, with our own words around its usage errors, in the chosen language."""

    def _print_message(self, message, file=None):
        # newer argparse (3.11.7 here, not Debian's 3.11.2) swallows a write error here, so
        # `grader --help | head -1` ended 0 on one Python and 141 on the other: now a closed
        # pipe ends it as it ends every command (main)
        if message:
            (file or sys.stderr).write(message)

    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(2, str(say("{prog}: error: {message} (`grader --help` lists every command and option)\n",
                             "{prog}：命令行有误：{message}（`grader --help` 列出全部命令和选项）\n",
                             prog=self.prog, message=message)))


def _parser(only: str | None = None) -> argparse.ArgumentParser:
    """The command line; `only`: with just that command (building all of them, with
    argparse looking up a translation for each of its words, took ~10 ms of every check)."""
    def want(name: str) -> bool:
        return only is None or name == only

    p = _Parser(prog="grader", description="netlab: check network and concurrency exercises")
    p.add_argument("--root", type=Path, default=None, help="course folder (default: found from here)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    if want("check"):
        c = sub.add_parser("check", help="run an exercise's checks and show feedback")
        c.add_argument("exercise")
        c.add_argument("--target", default=DEFAULT_TARGET,
                       help="folder holding <exercise>/ (default: exercises; 'solutions' checks the reference)")
        c.add_argument("--json", action="store_true", help="print one JSON object (Gradescope field names)")
        c.add_argument("--all", action="store_true", help="run hidden checks too (instructors)")
        c.add_argument("--trust-submission", action="store_true",
                       help="grade a submission even where its code cannot be confined (you trust it)")
        c.add_argument("--cold", action="store_true",
                       help="start a fresh judge instead of handing the check to the warm one "
                            "(same as NETLAB_WARM=0)")

    if want("list"):
        sub.add_parser("list", help="exercises in course order, with your last result")

    if want("hint"):
        h = sub.add_parser("hint", help="show the hints for an exercise")
        h.add_argument("exercise")

    if want("watch"):
        w = sub.add_parser("watch", help="re-check an exercise whenever one of its files changes")
        w.add_argument("exercise")
        w.add_argument("--target", default=DEFAULT_TARGET)
        w.add_argument("--all", action="store_true", help="run hidden checks too (instructors)")
        w.add_argument("--max-runs", type=int, default=None, help="stop after this many checks")
        w.set_defaults(json=False)

    if want("selftest"):
        s = sub.add_parser("selftest", help="solutions full marks, stubs zero, every mutant caught")
        s.add_argument("exercises", nargs="*")
        s.add_argument("--jobs", "-j", type=int, default=None, help="judges at once (default: twice the cores)")
        s.add_argument("--json", action="store_true")
        s.add_argument("--mutant", action="append", default=[], metavar="NAME",
                       help="run only this mutant of the one exercise named (repeatable)")
        s.add_argument("--show", action="store_true",
                       help="print the feedback each mutant gets, as `grader check --all` shows it")

    if want("validate"):
        sub.add_parser("validate", help="check course.yaml and the exercise folders")

    if want("batch"):
        b = sub.add_parser("batch", help="grade a folder of submissions (instructors): grades.csv, "
                                         "feedback/, results/, resumable")
        b.add_argument("submissions", help="folder with one folder or .zip per student (named by "
                                           "student id, or as Canvas/Moodle downloads name them)")
        b.add_argument("--out", required=True, help="output folder (gradebook.sqlite, grades.csv, ...)")
        b.add_argument("--workers", type=int, default=None, help="judges at once (default: CPU count)")
        b.add_argument("--exercises", nargs="+", default=None, metavar="ID",
                       help="grade only these exercises (default: all)")
        b.add_argument("--regrade", action="store_true", help="grade again what the gradebook holds")
        b.add_argument("--id-pattern", default=None, metavar="REGEX",
                       help="student id from an entry's name: group 'id' (else group 1)")
        b.add_argument("--release", choices=("none", "due", "published"), default="none",
                       help="show after_due_date ('due') or also after_published checks in full")
        b.add_argument("--trust-submission", action="store_true",
                       help="run even where student code cannot be confined (you trust every submission)")
        b.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="grade on a dask.distributed cluster: tls://HOST:PORT (tcp:// only on "
                            "loopback); needs netlab-grader[distributed]; --workers does not apply")
        b.add_argument("--tls-ca-file", default=None, metavar="CA.pem", help="the cluster's CA certificate")
        b.add_argument("--tls-cert", default=None, metavar="CLIENT.pem", help="this client's certificate")
        b.add_argument("--tls-key", default=None, metavar="CLIENT.key", help="this client's private key")
        b.add_argument("--insecure-scheduler", action="store_true",
                       help="allow a tcp:// scheduler beyond loopback (unencrypted; workers run code as root)")

    if want("pack"):
        k = sub.add_parser("pack", help="zip your exercise files for upload (students)")
        k.add_argument("--out", default=None, help="the zip to write (default: netlab-submission.zip)")
        k.add_argument("--exercises", nargs="+", default=None, metavar="ID", help="only these exercises")
        k.add_argument("--target", default=None, help="folder holding <exercise>/ (default: exercises)")

    if want("release"):
        r = sub.add_parser("release", help="write the student bundle (instructors): stubs, READMEs, "
                                           "visible checks, the grader; no solutions, hidden checks, mutants")
        r.add_argument("outdir", help="the bundle's folder (new, or an earlier release to replace)")
        r.add_argument("--exercises", nargs="+", default=None, metavar="ID",
                       help="release only these exercises (default: all)")

    if want("export"):
        e = sub.add_parser("export", help="files a platform takes (instructors): gradescope, classroom")
        platforms = e.add_subparsers(dest="platform", required=True, metavar="PLATFORM")
        g = platforms.add_parser("gradescope", help="an autograder zip for one Gradescope assignment")
        g.add_argument("out", help="the zip to write (e.g. tcp_echo.zip)")
        g.add_argument("--exercises", nargs="+", default=None, metavar="ID",
                       help="the assignment's exercises (default: all)")
        cl = platforms.add_parser("classroom", help="the GitHub Classroom workflow (visible checks)")
        cl.add_argument("outdir", help="the template repository (e.g. a release): gets "
                                       ".github/workflows/classroom.yml")
        cl.add_argument("--exercises", nargs="+", default=None, metavar="ID",
                        help="only these exercises (default: all)")

    if want("report"):
        rp = sub.add_parser("report", help="OUTDIR/report.html from a batch (instructors): summary, "
                                           "plots, most-failed checks, students, errors, similarity")
        rp.add_argument("outdir", help="a batch's output folder (grader batch ... --out OUTDIR)")
        rp.add_argument("--no-similarity", action="store_true", help="leave out the similarity section")

    if want("similarity"):
        sm = sub.add_parser("similarity", help="pairs of submissions ranked by shared code, per "
                                               "exercise (instructors; MOSS-style winnowing)")
        sm.add_argument("outdir", help="a batch's output folder (its graded/ copies are compared)")
        sm.add_argument("--exercises", nargs="+", default=None, metavar="ID",
                        help="only these exercises (default: every exercise the batch graded)")
        sm.add_argument("--top", type=int, default=10, help="pairs listed per exercise (default: 10)")
        sm.add_argument("--show", type=int, default=3,
                        help="of those, pairs whose matching code is shown side by side (default: 3)")
        sm.add_argument("--common", type=float, default=None, metavar="PCT",
                        help="also ignore code found in more than PCT %% of the submissions")

    # --lang before or after the command: `grader --lang zh list`, `grader list --lang zh`
    lang_help = "language of messages and feedback (default: NETLAB_LANG, else the locale, else en)"
    p.add_argument("--lang", choices=i18n.LANGS, default=None, help=lang_help)
    for command in [*sub.choices.values(), *(platforms.choices.values() if want("export") else ())]:
        command.add_argument("--lang", choices=i18n.LANGS, default=argparse.SUPPRESS, help=lang_help)
    return p


def _command_word(argv: list[str]) -> str | None:
    """The command argv names, if it is one of ours (then the parser is built for it alone);
    None for help, mistakes and anything unclear, which get the whole parser."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in ("-h", "--help"):
            return None
        elif arg in ("--root", "--lang"):
            skip = True  # its value follows
        elif not arg.startswith("-"):
            return arg if arg in COMMANDS else None
    return None


def _early_lang(argv: list[str]) -> str | None:
    """--lang as written on the command line, before argparse has run (for its errors)."""
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
    return None


_QUICK_EXIT = ("check",)  # commands that start nothing meant to outlive them


def run() -> None:
    """The `grader` command. After `check`, whose report is printed and whose state is
    written, it exits without the interpreter's teardown: freeing every module and object
    that is about to vanish anyway took 15-35 ms of a check's ~0.4 s. Other commands (batch,
    watch, ...) end the usual way, with their exit handlers."""
    code = main()
    if _command in _QUICK_EXIT:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except BrokenPipeError:
            code = code or 141
        except (OSError, ValueError):
            code = code or 1
        os._exit(code)
    sys.exit(code)


_command: str | None = None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    i18n.set_lang(i18n.from_environment(_early_lang(argv)))
    try:
        args = _parser(_command_word(argv)).parse_args(argv)
        i18n.set_lang(i18n.from_environment(args.lang))
        return _run(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # the reader went away (`grader hint udp_echo | head -3`): stop quietly, as standard
        # tools do; stdout goes to /dev/null so the interpreter's last flush cannot complain
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 141  # 128 + SIGPIPE, what a shell reports for a tool ended by a closed pipe


def _run(args) -> int:
    global _command
    _command = args.command
    try:
        course = course_mod.load(args.root)
    except FileNotFoundError:
        return _problem(args, "no_course", say(
            "no {file} in {folder} or any folder above it: run grader inside the course folder "
            "(or name it with --root)",
            "{folder} 及其上级目录中都没有 {file}：请在课程目录里运行 grader（或用 --root 指明课程目录）",
            file=course_mod.COURSE_FILE, folder=str(Path.cwd())))
    except course_mod.CourseError as exc:
        return _problem(args, "invalid_course", say("{error}", "课程文件有误：{error}", error=str(exc)))
    if args.command in NEEDS_LINUX and (why := unsupported_platform()) is not None:
        return _problem(args, "unsupported_platform", why)
    try:
        return COMMANDS[args.command](course, args)
    except course_mod.UnknownExercise as exc:
        return _problem(args, "unknown_exercise", unknown_exercise(course, exc))


PROC = Path("/proc/self")  # the grader reads the process tree and its sockets here
NEEDS_LINUX = ("check", "watch", "selftest", "batch")  # the commands that run student code


def unsupported_platform():
    """Why the grader cannot run student code on this system (None on Linux with /proc):
    said in one message with the two ways out, instead of a traceback."""
    if sys.platform.startswith("linux") and PROC.is_dir():
        return None
    system = {"win32": "Windows", "darwin": "macOS", "cygwin": "Cygwin"}.get(sys.platform, sys.platform)
    if sys.platform.startswith("linux"):
        system = "Linux without /proc"
    return say(
        "the grader runs only on Linux (it confines your programs with Linux namespaces and "
        "watches them through /proc), and this is {system}. Two ways out:\n"
        "  - Windows: WSL 2. In PowerShell as administrator: `wsl --install`, restart, open "
        "Ubuntu, copy the course into your Linux home folder and set it up there as the README "
        "says.\n"
        "  - Any system: the dev container. Open the course folder in VS Code with the Dev "
        "Containers extension (\"Reopen in Container\") or in GitHub Codespaces; it builds "
        ".devcontainer/ and gives you a Linux terminal where `grader check` works.",
        "评分程序只能在 Linux 上运行（它用 Linux 的命名空间隔离你的程序，并通过 /proc 观察它们），"
        "而这里是 {system}。有两种办法：\n"
        "  - Windows：WSL 2。以管理员身份打开 PowerShell，运行 `wsl --install`，重启后打开 Ubuntu，"
        "把课程复制到 Linux 的主目录里，按 README 的说明在那里安装。\n"
        "  - 任何系统：开发容器。在装有 Dev Containers 扩展的 VS Code 里打开课程文件夹"
        "（选择“Reopen in Container”），或者在 GitHub Codespaces 里打开；它会按 .devcontainer/ "
        "构建环境，给你一个能运行 `grader check` 的 Linux 终端。",
        system=system)


def unknown_exercise(course, exc: course_mod.UnknownExercise) -> i18n.Text:
    """'no exercise called X; did you mean Y?' and every exercise id, in course order."""
    close = say("; did you mean {ids}?", "；你要找的是不是 {ids}？", ids=", ".join(exc.close)) \
        if exc.close else ""
    return say("no exercise called {name}{close}\n  the exercises, in order: {ids}",
               "没有叫 {name} 的练习{close}\n  全部练习（按课程顺序）：{ids}",
               name=repr(exc.ex_id), close=close, ids=", ".join(course.exercises))


def _problem(args, code: str, message, *, exercise: str | None = None, target: str | None = None,
             max_score: float | None = None, seconds: float = 0.0) -> int:
    """A problem that stops the command (exit code 2): said on stderr, and for
    `grader check --json` also as the one JSON object on stdout that scripts wait for."""
    print(say("grader: {message}", "grader：{message}", message=message), file=sys.stderr)
    if getattr(args, "json", False) and args.command == "check":
        from .report import error_json
        print(error_json(exercise=exercise or args.exercise, target=target, error=code,
                         message=message, max_score=max_score,
                         visibility="all" if args.all else "visible", seconds=seconds))
    return 2


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


def _readme(course, ex) -> Path:
    """The task in the student's language (README.zh.md), else README.md."""
    folder = course.root / "exercises" / ex.id
    zh = folder / "README.zh.md"
    return zh if i18n.lang() == "zh" and zh.is_file() else folder / "README.md"


def cmd_check(course, args) -> int:
    from .judge import run_judge
    ex = course.get(args.exercise)
    target = _target_root(course, args.target)
    # max_score is known before the judge runs only when every check will run (--all)
    known_max = ex.points if args.all else None
    if not target.is_dir():
        return _problem(args, "target_missing", say("target folder {path} does not exist",
                                                    "目标文件夹 {path} 不存在", path=str(target)),
                        exercise=ex.id, target=str(target / ex.id), max_score=known_max)
    # rich takes ~40 ms to import: do it while the judge runs, once it has its job (before,
    # the import held the GIL the request was waiting for)
    import threading
    warm = threading.Thread(target=_warm_up, args=(args.json,), daemon=True)
    from . import state
    from .judge import interactive_jobs, owns
    untrusted = not owns(course, target) and not getattr(args, "trust_submission", False)
    result = run_judge(course, ex, target, visibility="all" if args.all else "visible",
                       untrusted=untrusted, warm=not getattr(args, "cold", False),
                       jobs=interactive_jobs(), order=state.check_order(course.root, ex.id),
                       on_start=warm.start)
    if warm.ident is None:  # no judge started (the import is still wanted for the report)
        warm.start()
    if not result.problem:
        state.record_seconds(course.root, ex.id, result.tests)
    warm.join()
    if result.refused:  # nothing of the submission ran: the result says why (score 0)
        print(say("grader: {exercise}: {problem}", "grader：{exercise}：{problem}",
                  exercise=ex.id, problem=result.problem), file=sys.stderr)
        if args.json:
            from .report import result_json
            print(result_json(result, error="refused"))
        return 2
    if result.problem and not result.tests:
        return _problem(args, "judge_failed",
                        say("{exercise}: grader problem: {problem}", "{exercise}：评分程序出了问题：{problem}",
                            exercise=ex.id, problem=result.problem),
                        exercise=ex.id, target=result.target, max_score=known_max,
                        seconds=result.seconds)
    if not args.all and not result.hidden:  # a student bundle: its hidden checks were cut out
        from .release import hidden_counts
        result.hidden, result.hidden_points = hidden_counts(course.root, ex.id) or (0, 0.0)
    if target == (course.root / DEFAULT_TARGET).resolve():
        # recorded before printing: a closed pipe must not lose it
        state.record(course.root, ex.id, result.score, result.max_score, result.passed)
    if args.json:
        from .report import result_json
        print(result_json(result))
    else:
        from .report import print_result
        print_result(result, ex.text("title", i18n.lang()), shown_target=_shown(course, target / ex.id))
    return 0 if result.passed else 1


def _warm_up(as_json: bool) -> None:
    if not as_json:
        from . import report  # noqa: F401
        import rich.console  # noqa: F401
        import rich.text  # noqa: F401


def cmd_list(course, args) -> int:
    from rich.table import Table
    from rich.text import Text
    from . import state
    from .report import console as make_console
    lang = i18n.lang()
    done = state.load(course.root)
    table = Table(title=course.title, title_justify="left")
    # ids never break; other cells wrap (fold: a Chinese phrase has no spaces) rather than
    # end in "…"; rich measures wide characters, so the columns stay straight
    table.add_column("#", no_wrap=True)
    for col, least in ((say("exercise", "练习"), 8), (say("topic", "主题"), 10),
                       (say("last result", "上次结果"), 10), (say("requires", "先修练习"), 8)):
        table.add_column(str(col), overflow="fold", min_width=least)
    for ex in course.exercises.values():
        last = done.get(ex.id)
        if last is None:
            shown = Text(str(say("not checked yet", "尚未检查")), style="dim")
        else:
            shown = Text.assemble(("✔" if last["passed"] else "✘", "green" if last["passed"] else "red"),
                                  f" {last['score']:g}/{last['max_score']:g}  ",
                                  (last["when"], "dim"))
        table.add_row(str(ex.index), ex.id, ex.text("topic", lang), shown, ", ".join(ex.requires))
    console = make_console(soft_wrap=False)
    console.print(table)
    passed = {i for i, r in done.items() if r.get("passed")}
    todo = [ex for ex in course.exercises.values() if ex.id not in passed]
    ready = [ex for ex in todo if set(ex.requires) <= passed]
    if not todo:
        console.print(Text(str(say("Every exercise passes. Well done.", "所有练习都已通过，做得好！"))))
    elif ready:
        nxt = ready[0]
        console.print(Text(str(say(
            "Next: {id} ({title}) - read {readme}, then `grader check {id}`",
            "下一个：{id}（{title}）——先读 {readme}，再运行 `grader check {id}`",
            id=nxt.id, title=nxt.text("title", lang), readme=_shown(course, _readme(course, nxt))))),
            soft_wrap=True)
    return 0


def cmd_hint(course, args) -> int:
    ex = course.get(args.exercise)
    lang = i18n.lang()
    print(f"{ex.id} · {ex.text('title', lang)}")
    for n, hint in enumerate(ex.text("hints", lang), 1):
        print(f"  {n}. {hint}")
    readme = _readme(course, ex)
    if readme.is_file():
        print(say("  The task itself: {path}", "  题目全文：{path}", path=_shown(course, readme)))
    return 0


def cmd_watch(course, args) -> int:
    from .watch import watch
    return watch(course, course.get(args.exercise), _target_root(course, args.target),
                 args.max_runs, lambda: cmd_check(course, args))


def cmd_selftest(course, args) -> int:
    from .selftest import run_selftest
    for ex_id in args.exercises:
        course.get(ex_id)
    if args.mutant or args.show:  # one exercise's mutants, with their feedback
        from .selftest import show_mutants
        if len(args.exercises) != 1:
            print(say("grader: --mutant and --show need exactly one exercise id",
                      "grader：--mutant 和 --show 只能配一个练习 id"), file=sys.stderr)
            return 2
        return show_mutants(course, args.exercises[0], args.mutant, show=args.show,
                            as_json=args.json)
    return run_selftest(course, args.exercises or list(course.exercises), jobs=args.jobs,
                        as_json=args.json)


def cmd_validate(course, args) -> int:
    try:
        course = course_mod.load(course.root, check_folders="strict")
    except course_mod.CourseError as exc:
        return _problem(args, "invalid_course", say("{error}", "课程文件有误：{error}", error=str(exc)))
    from .release import check_bundle  # a student bundle: its hidden points still add up
    problems = check_bundle(course)
    if problems:
        return _problem(args, "invalid_course", say("{error}", "课程文件有误：{error}", error="\n  ".join(
            [f"{course.root / course_mod.COURSE_FILE}: invalid course bundle:", *problems])))
    print(say("{path}: {n} exercises, valid", "{path}：共 {n} 个练习，校验通过",
              path=str(course.root / course_mod.COURSE_FILE), n=len(course.exercises)))
    return 0


def cmd_batch(course, args) -> int:
    from .batch.runner import cmd_batch as batch
    return batch(course, args)


def cmd_pack(course, args) -> int:
    from .batch.pack import cmd_pack as pack
    return pack(course, args)


def cmd_release(course, args) -> int:
    from .release import cmd_release as release
    return release(course, args)


def cmd_export(course, args) -> int:
    from .export import cmd_export as export
    return export(course, args)


def cmd_report(course, args) -> int:
    from .batch.report import cmd_report as report
    return report(course, args)


def cmd_similarity(course, args) -> int:
    from .batch.similarity import cmd_similarity as similarity
    return similarity(course, args)


COMMANDS = {"check": cmd_check, "list": cmd_list, "hint": cmd_hint, "watch": cmd_watch,
            "selftest": cmd_selftest, "validate": cmd_validate, "batch": cmd_batch, "pack": cmd_pack,
            "release": cmd_release, "export": cmd_export, "report": cmd_report,
            "similarity": cmd_similarity}
