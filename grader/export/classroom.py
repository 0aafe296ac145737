"""`grader export classroom OUTDIR`: OUTDIR/.github/workflows/classroom.yml for GitHub Classroom.

One autograding command-grader step per exercise runs `grader check <id>` (the visible checks:
Classroom runs in the student's own repository, where hidden checks must not be) and awards
the exercise's visible points when every check passes; the reporter step sends the points to
Classroom. OUTDIR is the assignment's template repository, typically a `grader release`.
"""
from __future__ import annotations

import math
import sys
from pathlib import Path

from ..i18n import lang, say, text
from . import exercise_ids

WORKFLOW = Path(".github") / "workflows" / "classroom.yml"
COMMAND_GRADER = "classroom-resources/autograding-command-grader@v1"
REPORTER = "classroom-resources/autograding-grading-reporter@v1"
PYTHON = "3.11"


def visible_checks(course, ids: list[str]) -> dict[str, list[dict]]:
    from ..release import collect, is_hidden
    return {ex: [c for c in checks if not is_hidden(c)] for ex, checks in collect(course.root, ids).items()}


def workflow(course, ids: list[str], language: str) -> dict:
    from ..release import INSTALL
    checks = visible_checks(course, ids)
    steps = [
        {"name": "Checkout code", "uses": "actions/checkout@v4"},
        {"name": "Set up Python", "uses": "actions/setup-python@v5",
         "with": {"python-version": PYTHON}},
        {"name": "Install netlab", "run": INSTALL},  # the README's set-up
    ]
    for ex_id in ids:
        ex = course.exercises[ex_id]
        visible = checks.get(ex_id, [])
        seconds = sum(c["time_limit"] or ex.time_limit for c in visible) + 120  # + start-up
        steps.append({
            "name": f"{ex_id}: {ex.text('title', language)}",
            "id": ex_id,
            "uses": COMMAND_GRADER,
            "with": {
                "test-name": ex_id,
                "setup-command": "",
                "command": f".venv/bin/grader --lang {language} check {ex_id}",
                "timeout": min(360, math.ceil(seconds / 60)),   # minutes
                "max-score": sum(c["points"] for c in visible),
            },
        })
    steps.append({
        "name": "Autograding Reporter",
        "uses": REPORTER,
        "env": {f"{ex_id.upper()}_RESULTS": f"${{{{steps.{ex_id}.outputs.result}}}}" for ex_id in ids},
        "with": {"runners": ",".join(ids)},
    })
    return {
        "name": "Autograding Tests",
        "on": ["push", "repository_dispatch", "workflow_dispatch"],
        "permissions": {"checks": "write", "actions": "read", "contents": "read"},
        "jobs": {"run-autograding-tests": {
            "runs-on": "ubuntu-latest",
            "if": "github.actor != 'github-classroom[bot]'",
            "steps": steps,
        }},
    }


HEADER = """\
# GitHub Classroom autograding for netlab, made by `grader export classroom` (do not edit:
# export again). One step per exercise runs its visible checks (`grader check <id>`) and gives
# the exercise's visible points when all of them pass; hidden checks are graded elsewhere
# (`grader batch`, or the Gradescope export), never in the student's own repository.
"""


def write(course, outdir: Path, ids: list[str], language: str) -> Path:
    import yaml
    path = Path(outdir) / WORKFLOW
    path.parent.mkdir(parents=True, exist_ok=True)
    data = workflow(course, ids, language)
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def cmd_classroom(course, args) -> int:
    ids = exercise_ids(course, args.exercises)
    outdir = Path(args.outdir)
    if not outdir.is_dir():
        print(text(say("grader: {path} is not a folder (make the template first: grader release {path})",
                       "grader：{path} 不是文件夹（先生成模板仓库：grader release {path}）", path=str(outdir))),
              file=sys.stderr)
        return 2
    from ..release import ReleaseError
    try:
        path = write(course, outdir, ids, lang())
    except ReleaseError as exc:
        print(text(say("grader: the suites could not be read:", "grader：无法读取检查套件：")), file=sys.stderr)
        for p in exc.problems:
            print(f"  {p}", file=sys.stderr)
        return 2
    print(text(say("wrote {path}: {n} autograding steps (visible checks; Classroom runs in the "
                   "student's repository, so hidden checks are not there)",
                   "已写出 {path}：共 {n} 个自动评分步骤（公开检查；Classroom 在学生自己的仓库里运行，"
                   "所以不含隐藏检查）", path=str(path), n=len(ids))))
    return 0
