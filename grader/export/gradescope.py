"""`grader export gradescope OUT.zip [--exercises ID ...] [--lang zh|en]`: an autograder zip.

One zip per Gradescope assignment (one exercise, or a group of them). At the zip's root:
- setup.sh: run once when Gradescope builds the image: a Python 3.11+ virtualenv in
  /autograder/netlab-venv with netlab installed from netlab/ (readable by every user: student
  code runs under its own uid), and the course folder closed to everyone but root.
- run_autograder: run per submission: grades /autograder/submission with every check, hidden
  ones included (grader.export.autograder), into /autograder/results/results.json.
- netlab/: the grader package and its pyproject; course/: course.yaml with the assignment's
  exercises, their stubs and READMEs, and their complete suites (no solutions, no mutants);
  netlab-autograder.json: the exercises and the feedback's language, chosen at export.
The student uploads that exercise's files (or exercises/<id>/..., <id>/..., or the zip `grader
pack` makes; files of several exercises go in their <id>/ folders, so equal names never collide).
NETLAB_AUTOGRADER_ROOT moves /autograder (the project's tests use a temp folder).
"""
from __future__ import annotations

import json
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

from ..i18n import lang, say, text
from . import exercise_ids

CONFIG = "netlab-autograder.json"
STAMP = (2020, 1, 1, 0, 0, 0)

SETUP_SH = """\
#!/usr/bin/env bash
# netlab autograder set-up: Gradescope runs this once, as root, when it builds the image.
set -euo pipefail
ROOT="${NETLAB_AUTOGRADER_ROOT:-/autograder}"
PY=""
for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && \\
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        PY="$candidate"
        break
    fi
done
if [ -z "$PY" ]; then  # Ubuntu 22.04 images have Python 3.10: netlab needs 3.11+
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3.11 python3.11-venv
    PY=python3.11
fi
if ! "$PY" -c 'import ensurepip, venv' 2>/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$(basename "$PY")-venv" || \\
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
fi
"$PY" -m venv "$ROOT/netlab-venv"
"$ROOT/netlab-venv/bin/pip" install -q "$ROOT/source/netlab"
# student code runs under a uid of its own: it needs Python and netlab, never the suites
chmod -R a+rX "$ROOT/netlab-venv"
chmod 0711 "$ROOT"
chmod 0700 "$ROOT/source"
chmod +x "$ROOT/source/run_autograder"
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# netlab: Gradescope runs this for every submission. It grades /autograder/submission (every
# check, hidden ones included) into /autograder/results/results.json.
# NETLAB_AUTOGRADER_ROOT moves /autograder; NETLAB_AUTOGRADER_PYTHON names the interpreter.
set -u
ROOT="${NETLAB_AUTOGRADER_ROOT:-/autograder}"
PYTHON="${NETLAB_AUTOGRADER_PYTHON:-$ROOT/netlab-venv/bin/python}"
cd "$ROOT/source/course" || exit 1
exec "$PYTHON" -m grader.export.autograder --root "$ROOT"
"""


def _add(zf: zipfile.ZipFile, arc: str, data: bytes, mode: int = 0o644) -> None:
    info = zipfile.ZipInfo(arc, date_time=STAMP)
    info.external_attr = (0o100000 | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    info.flag_bits |= 0x800
    zf.writestr(info, data)


def _add_tree(zf: zipfile.ZipFile, folder: Path, arc: str) -> None:
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder)
        if p.is_file() and not any(part in ("__pycache__", ".netlab", ".pytest_cache") for part in rel.parts) \
                and p.suffix != ".pyc" and p.name != "mutants.yaml":
            _add(zf, f"{arc}/{rel.as_posix()}", p.read_bytes())


def build(course, out: Path, ids: list[str], language: str) -> list[str]:
    """Write the zip; the names it holds."""
    from ..release import _course_yaml, copy_package
    root = course.root
    out = Path(out).resolve()
    tmp = out.with_name(f".{out.name}.tmp")
    with tempfile.TemporaryDirectory() as scratch, \
            zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        _add(zf, "setup.sh", SETUP_SH.encode(), 0o755)
        _add(zf, "run_autograder", RUN_AUTOGRADER.encode(), 0o755)
        _add(zf, CONFIG, json.dumps({"exercises": ids, "lang": language}, indent=2).encode())
        package = Path(scratch) / "netlab"
        package.mkdir()
        copy_package(root, package)
        (package / "README.md").write_text("netlab's grader (the Gradescope autograder's copy)\n")
        _add_tree(zf, package, "netlab")
        _add(zf, "course/course.yaml", _course_yaml(root, ids).encode())
        _add(zf, "course/tests/conftest.py", (root / "tests" / "conftest.py").read_bytes())
        for ex_id in ids:
            _add_tree(zf, root / "exercises" / ex_id, f"course/exercises/{ex_id}")
            _add_tree(zf, root / "tests" / ex_id, f"course/tests/{ex_id}")
        names = zf.namelist()
    tmp.replace(out)
    return names


def cmd_gradescope(course, args) -> int:
    ids = exercise_ids(course, args.exercises)
    out = Path(args.out)
    if out.suffix.lower() != ".zip":
        print(text(say("grader: the autograder must be a .zip file", "grader：自动评分包必须是 .zip 文件")),
              file=sys.stderr)
        return 2
    if course.root.resolve() in out.resolve().parents:
        print(text(say("grader: write the zip outside the course folder", "grader：请把 zip 写到课程文件夹之外")),
              file=sys.stderr)
        return 2
    build(course, out, ids, lang())
    print(text(say("wrote {path}: a Gradescope autograder for {ids} (every check; feedback in {lang}). "
                   "Upload it as the assignment's autograder (Docker base image: Ubuntu 22.04 or later); "
                   "students upload their files, or the zip `grader pack` makes.",
                   "已写出 {path}：{ids} 的 Gradescope 自动评分包（包含全部检查；反馈语言 {lang}）。"
                   "把它上传为作业的 autograder（Docker 基础镜像：Ubuntu 22.04 或更新）；"
                   "学生上传自己的文件，或者 `grader pack` 生成的 zip。",
                   path=str(out.resolve()), ids=", ".join(ids), lang=lang())))
    return 0
