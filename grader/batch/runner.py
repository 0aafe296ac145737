"""`grader batch SUBMISSIONS --out OUTDIR`: grade a class, in parallel, resumably.

1. Refuse to start where student code cannot be confined (isolation mode "jail+uid": root
   with mount namespaces) unless --trust-submission.
2. Intake (grader.batch.intake): one normalised copy per student in OUTDIR/graded/.
3. Each (student, exercise) whose result is not already in the gradebook under the same
   digests is one run_judge(..., visibility="all") in a pool of --workers threads (each judge
   is its own process, handed to the warm judge when one answers). Each finished run is
   committed to the gradebook by this thread before it counts as done. With --scheduler the
   same runs go to a dask.distributed cluster instead (grader.batch.distributed), committed here
   the same way as their results come back.
4. Outputs and the summary (grader.batch.outputs) from the gradebook's results.
Ctrl-C or SIGTERM: the running judges are killed, what was committed stays; the same command
resumes. Exit code: 0 every run gave a result, 1 some run failed in the grader itself (status
error: tried again next time), 2 refused or a usage problem, 130 interrupted.
"""
from __future__ import annotations

import os
import re
import signal
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from .. import i18n
from ..course import Course
from ..i18n import say, text
from ..textsafe import visible
from . import digest, outputs
from .gradebook import Gradebook
from .intake import intake


@dataclass
class Options:
    submissions: Path
    out: Path
    workers: int
    exercises: list[str]
    regrade: bool = False
    id_pattern: str | None = None
    trust: bool = False
    release: str = "none"
    scheduler: str | None = None            # a dask.distributed scheduler (grader.batch.distributed)
    tls_ca_file: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    insecure_scheduler: bool = False


def _err(message) -> None:
    print(visible(text(message)), file=sys.stderr, flush=True)


def refusal() -> str | None:
    """Why this machine may not run a batch of submissions, or None when it may."""
    from ..harness import isolation
    mode, why = isolation.probe_mode()
    if mode == "jail+uid":
        return None
    return text(say(
        "refused: a batch runs every student's code, and here it cannot be confined (isolation "
        "mode '{mode}'{why}). Batches need the grader to run as root on Linux with mount and "
        "network namespaces, so each run gets its own uid and a private view of the files: run "
        "it with sudo (in a container: --privileged, or --cap-add SYS_ADMIN with namespaces not "
        "blocked by seccomp). If you trust every submission, add --trust-submission.",
        "拒绝运行：批量评分要运行每个学生的代码，而本机无法隔离它们（隔离方式 '{mode}'{why}）。批量评分需要以 "
        "root 在支持挂载和网络命名空间的 Linux 上运行，这样每次评测都有自己的 uid 和私有的文件视图：请用 sudo "
        "运行（在容器里：--privileged，或 --cap-add SYS_ADMIN 并且 seccomp 没有禁止命名空间）。"
        "如果你信任所有提交，加上 --trust-submission。",
        mode=mode, why=f": {why}" if why else ""))


def record_of(result) -> dict:
    """A judge's result as stored: its JSON without the run-specific target path and time."""
    data = result.to_json()
    for key in ("target", "execution_time"):
        data.pop(key, None)
    if result.refused:
        status = "refused"
    elif result.problem and "did not finish within its time limit" in result.problem:
        status = "timeout"
    elif result.problem:
        status = "error"
    elif result.precheck:
        status = "invalid"
    else:
        status = "ok"
    data.update(status=status, isolated=result.isolated)
    return data


def failed_record(ex_id: str, points: float, problem: str) -> dict:
    """The record of a run the grader itself failed (status error: redone by the next batch)."""
    return {"exercise": ex_id, "score": 0, "max_score": points, "hidden_tests": 0,
            "hidden_points": 0, "isolation": None, "visibility": "all", "precheck": None,
            "problem": problem, "tests": [], "status": "error", "isolated": False}


def _grade(course: Course, ex_id: str, target: Path, untrusted: bool, language: str) -> tuple[dict, float]:
    from ..judge import run_judge
    started = time.monotonic()
    ex = course.exercises[ex_id]
    try:
        with i18n.using(language):
            result = run_judge(course, ex, target, visibility="all", untrusted=untrusted)
        record = record_of(result)
    except Exception as exc:  # noqa: BLE001 - one run's failure never stops the batch
        record = failed_record(ex_id, ex.points,
                               f"the grader failed to run the judge: {type(exc).__name__}: {exc}")
    return record, time.monotonic() - started


class Progress:
    """Students done / total, failures so far, ETA: a rich bar on a terminal, lines otherwise."""

    def __init__(self, units: dict[str, int], total_runs: int):
        self.left = dict(units)             # student -> runs still to finish
        self.students = len(units)
        self.students_done = sum(1 for n in units.values() if n == 0)
        self.runs = total_runs
        self.runs_done = 0
        self.failures = 0
        self.bar = None
        if sys.stdout.isatty() and total_runs:
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress as Bar, TextColumn,
                                       TimeElapsedColumn, TimeRemainingColumn)
            self.bar = Bar(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                           TextColumn("{task.fields[extra]}"), TimeElapsedColumn(),
                           TextColumn("ETA"), TimeRemainingColumn())
            self.task = self.bar.add_task(text(say("runs", "评测")), total=total_runs, extra=self._extra())
            self.bar.start()

    def _extra(self) -> str:
        return text(say("students {done}/{total}, failures {failures}", "学生 {done}/{total}，失败 {failures}",
                        done=self.students_done, total=self.students, failures=self.failures))

    def finished(self, student: str, ex_id: str, record: dict) -> None:
        self.runs_done += 1
        self.left[student] -= 1
        if self.left[student] == 0:
            self.students_done += 1
        if record["status"] in ("error", "timeout", "refused"):
            self.failures += 1
        if self.bar is not None:
            self.bar.update(self.task, advance=1, extra=self._extra())
            return
        status = "" if record["status"] == "ok" else f"  ({record['status']})"
        print(visible(f"[{self.runs_done:>{len(str(self.runs))}}/{self.runs}] {student} {ex_id}: "
                      f"{record['score']:g}/{record['max_score']:g}{status}  {self._extra()}"), flush=True)

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()


class _Stop(BaseException):
    pass


def _on_term(signum, frame):
    raise _Stop()


def _kill_running_judges() -> None:
    """Interrupted: our judges (children in their own sessions) die with their students."""
    from ..procs import _proc_children, kill_strays
    for pid in _proc_children(os.getpid()):
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    kill_strays(tag=None, everything=True)


def run_batch(course: Course, opts: Options) -> int:
    language = i18n.lang()
    remote = None
    if opts.scheduler:  # the runs go to a cluster, whose workers must confine them (checked there)
        from .distributed import Refused, RemotePool
        try:
            remote = RemotePool(opts, course, opts.exercises, untrusted=not opts.trust, language=language)
        except Refused as exc:
            _err(exc.message)
            return 2
    elif not opts.trust:
        why = refusal()
        if why:
            _err(why)
            return 2
    started = time.monotonic()
    out = opts.out.resolve()
    if not out.exists():
        out.mkdir(parents=True, mode=0o700)  # grades and submissions: the instructor's alone
    pattern = re.compile(opts.id_pattern) if opts.id_pattern else None
    exercises = [course.exercises[i] for i in opts.exercises]
    subs, skipped = intake(opts.submissions, out / "graded", exercises, id_pattern=pattern,
                           exclude=(out,), known_ids=set(course.exercises))
    book = Gradebook(out / "gradebook.sqlite")
    suites = {ex.id: digest.suite_digest(course, ex, language) for ex in exercises}
    runs: dict[tuple[str, str], dict] = {}
    todo = []
    for sub in subs:
        for ex_id, folder in sub.exercises.items():
            key = (sub.student, ex_id, digest.tree_digest(folder), suites[ex_id])
            stored = None if opts.regrade else book.reusable(*key)
            if stored is not None:
                runs[(sub.student, ex_id)] = stored
            else:
                todo.append((key, sub.folder))
    reused = len(runs)
    units = {sub.student: 0 for sub in subs}
    for key, _ in todo:
        units[key[0]] += 1
    progress = Progress(units, len(todo))
    untrusted = not opts.trust
    previous = signal.signal(signal.SIGTERM, _on_term)
    pool = remote or ThreadPoolExecutor(max_workers=max(1, opts.workers), thread_name_prefix="netlab-batch")
    try:
        if remote is not None:  # the same runs, each shipped to a worker of the cluster
            pending = {remote.submit(key, folder): key for key, folder in todo}
        else:
            pending = {pool.submit(_grade, course, key[1], folder, untrusted, language): key
                       for key, folder in todo}
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                key = pending.pop(future)
                record, seconds = future.result()
                book.put(*key, record, seconds)          # durable before it counts as done
                runs[(key[0], key[1])] = record
                progress.finished(key[0], key[1], record)
    except (KeyboardInterrupt, _Stop):
        progress.stop()
        pool.shutdown(wait=False, cancel_futures=True)
        if remote is None:
            _kill_running_judges()
        book.close()
        _err(say("interrupted: {n} finished runs are in {db}; run the same command again to "
                 "resume", "已中断：已完成的 {n} 次评测保存在 {db} 中；再次运行同一条命令即可继续",
                 n=len(runs), db=str(out / "gradebook.sqlite")))
        sys.stdout.flush()
        os._exit(130)  # the pool's threads are still waiting on judges we just killed
    finally:
        signal.signal(signal.SIGTERM, previous)
    pool.shutdown(wait=True)
    progress.stop()
    book.close()
    records = [outputs.student_record(sub, course, opts.exercises, runs) for sub in subs]
    outputs.write_all(out, course, opts.exercises, records, opts.release, language)
    for line in outputs.summary(records, opts.exercises, skipped, reused=reused,
                                graded=len(todo), seconds=time.monotonic() - started, out=out):
        print(visible(line))
    return 1 if any(r["status"] == "error" for r in runs.values()) else 0


def cmd_batch(course: Course, args) -> int:
    """The `batch` subcommand (grader.cli)."""
    ids = args.exercises or list(course.exercises)
    for ex_id in ids:
        course.get(ex_id)  # an unknown id: the CLI's closest-match message
    submissions = Path(args.submissions)
    if not submissions.is_dir():
        _err(say("grader: {path} is not a folder of submissions", "grader：{path} 不是存放提交的文件夹",
                 path=str(submissions)))
        return 2
    if args.id_pattern:
        try:
            re.compile(args.id_pattern)
        except re.error as exc:
            _err(say("grader: --id-pattern is not a regular expression: {why}",
                     "grader：--id-pattern 不是合法的正则表达式：{why}", why=str(exc)))
            return 2
    return run_batch(course, Options(submissions=submissions, out=Path(args.out),
                                     workers=args.workers or os.cpu_count() or 1, exercises=ids,
                                     regrade=args.regrade, id_pattern=args.id_pattern,
                                     trust=args.trust_submission, release=args.release,
                                     scheduler=getattr(args, "scheduler", None),
                                     tls_ca_file=getattr(args, "tls_ca_file", None),
                                     tls_cert=getattr(args, "tls_cert", None),
                                     tls_key=getattr(args, "tls_key", None),
                                     insecure_scheduler=getattr(args, "insecure_scheduler", False)))
