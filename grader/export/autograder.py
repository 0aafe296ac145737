"""Inside Gradescope: grade /autograder/submission into /autograder/results/results.json.

`python -m grader.export.autograder --root /autograder` (what run_autograder runs, from the
course folder /autograder/source/course). The submission is read as `grader batch` reads one
student's entry (grader.batch.intake: folders or zips, exercises/<id>/, <id>/, or - for a
one-exercise assignment - the files directly; Windows and macOS uploads made runnable), then
each exercise is one judge run of every check against it, its student code confined as in a
batch. results.json follows Gradescope's specification: top-level score, execution_time,
output; per check name, number, score, max_score, status, output, visibility (the check's
own: visible, hidden, after_due_date, after_published) and tags (the exercise id, the check id).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

from .. import course as course_mod
from .. import i18n
from ..i18n import say, text

CONFIG = "netlab-autograder.json"


def _ignore_links(src, names):
    return [n for n in names if os.path.islink(os.path.join(src, n))]


def grade(root: Path) -> dict:
    """Grade ROOT/submission; the results.json data."""
    from ..batch.intake import intake
    from ..judge import run_judge
    started = time.monotonic()
    source = root / "source"
    config = json.loads((source / CONFIG).read_text(encoding="utf-8"))
    language = config.get("lang", "en")
    i18n.set_lang(language)
    course = course_mod.load(source / "course")
    ids = [i for i in config["exercises"] if i in course.exercises]
    exercises = [course.exercises[i] for i in ids]
    lines: list[str] = []
    tests: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="netlab-autograder-") as scratch:
        os.chmod(scratch, 0o755)  # the judge copies the submission from here for student code
        entries = Path(scratch) / "submissions"
        entries.mkdir()
        submission = root / "submission"
        if submission.is_dir():
            shutil.copytree(submission, entries / "submission", ignore=_ignore_links)
        else:
            (entries / "submission").mkdir()
        subs, _ = intake(entries, Path(scratch) / "graded", exercises,
                         id_pattern=re.compile(r"^(?P<id>submission)$"), known_ids=set(course.exercises))
        sub = subs[0] if subs else None
        if sub is None or sub.error is not None:
            why = sub.error if sub is not None else say("nothing was submitted", "没有提交任何内容")
            lines.append(text(say("Your submission could not be read: {why}", "无法读取你的提交：{why}", why=why)))
        for note in (sub.notes if sub else []):
            lines.append(text(note))
        for n, ex in enumerate(exercises, 1):
            folder = sub.exercises.get(ex.id) if sub else None
            if folder is not None:
                target = folder.parent
            else:  # not submitted: the judge says which files are missing, every check scores 0
                target = Path(scratch) / "missing"
                (target / ex.id).mkdir(parents=True, exist_ok=True)
                if sub is not None and ex.id in sub.missing:
                    lines.append(f"{ex.id}: {text(sub.missing[ex.id])}")
            for note in (sub.ex_notes.get(ex.id, []) if sub else []):
                lines.append(f"{ex.id}: {text(note)}")
            with i18n.using(language):
                result = run_judge(course, ex, target, visibility="all", untrusted=True, warm=False)
            lines.append(text(say("{id}: {score}/{max} points", "{id}：{score}/{max} 分", id=ex.id,
                                  score=f"{result.score:g}", max=f"{result.max_score:g}")))
            shown = str(target) + os.sep  # 'tcp_echo/server.py', not the scratch folder's path
            if result.precheck:
                lines.append(f"  {result.precheck.replace(shown, '')}")
            if result.problem:
                lines.append("  " + text(say("grader problem: {problem}", "评分程序出了问题：{problem}",
                                             problem=result.problem)))
            for m, t in enumerate(result.tests, 1):
                tests.append({
                    "name": f"{ex.id}: {t['title']}",
                    "number": f"{n}.{m}",
                    "score": t["score"],
                    "max_score": t["max_score"],
                    "status": "passed" if t["status"] == "passed" else "failed",
                    "output": (t["output"] or "").replace(shown, ""),
                    "visibility": t["visibility"],
                    "tags": [ex.id, t["name"]],
                })
            if result.isolation:
                lines.append("  " + text(say("isolation: {how}", "隔离方式：{how}", how=result.isolation)))
    return {
        "score": sum(t["score"] for t in tests),
        "execution_time": round(time.monotonic() - started),
        "output": "\n".join(lines),
        "output_format": "text",
        "test_output_format": "text",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def write_results(root: Path, data: dict) -> Path:
    results = root / "results"
    results.mkdir(parents=True, exist_ok=True)
    path = results / "results.json"
    tmp = results / f".results.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)
    return path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m grader.export.autograder")
    p.add_argument("--root", type=Path, default=Path(os.environ.get("NETLAB_AUTOGRADER_ROOT", "/autograder")))
    args = p.parse_args(argv)
    root = args.root.resolve()
    try:
        data = grade(root)
    except Exception as exc:  # noqa: BLE001 - Gradescope must get a results.json, never nothing
        data = {"score": 0, "execution_time": 0, "output_format": "text",
                "output": "the autograder failed (not your fault: tell your instructor) / "
                          f"自动评分程序出错了（不是你的问题：请告诉老师）: {type(exc).__name__}: {exc}",
                "tests": []}
        write_results(root, data)
        raise
    path = write_results(root, data)
    print(f"netlab: {data['score']:g} points -> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
