"""What a stored result depends on, as digests: a result is reused only while both are equal.

- the submission: every file of the student's normalised exercise folder (paths and bytes);
- the suite: the exercise's tests/<id>/ files and tests/conftest.py, its course.yaml entry and
  the course defaults it inherits, the grader's version and the digest of its own source (the
  judge, the plugin, the harness: everything but this batch package, which only reads results),
  and the language the feedback is written in.
Fix a test mid-term and the next batch regrades that exercise, and only that one.
"""
from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

from ..course import Course, Exercise

PACKAGE = Path(__file__).resolve().parents[1]
SKIP_DIRS = {"__pycache__", ".pytest_cache"}


def _files(folder: Path) -> list[Path]:
    return sorted((p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()
                   and not SKIP_DIRS & set(p.relative_to(folder).parts)
                   and not p.name.endswith((".pyc", ".pyo"))),
                  key=lambda p: p.relative_to(folder).as_posix())


def tree_digest(folder: Path) -> str:
    h = hashlib.sha256(b"netlab-tree-1\0")
    for path in _files(folder):
        data = path.read_bytes()
        h.update(path.relative_to(folder).as_posix().encode() + b"\0")
        h.update(f"{len(data)}\0".encode() + hashlib.sha256(data).digest())
    return h.hexdigest()


def grader_version() -> str:
    try:
        from importlib.metadata import version
        return version("netlab-grader")
    except Exception:  # noqa: BLE001 - not installed as a distribution (a plain checkout)
        return "0+unknown"


@functools.cache
def grader_source() -> str:
    """The grader's own code that decides results (grader/ without grader/batch/)."""
    h = hashlib.sha256()
    for path in _files(PACKAGE):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] == "batch" or path.suffix not in (".py", ".json", ".yaml"):
            continue
        h.update(rel.as_posix().encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def suite_digest(course: Course, ex: Exercise, lang: str) -> str:
    h = hashlib.sha256(b"netlab-suite-1\0")
    tests = course.root / "tests"
    for path in [*_files(tests / ex.id), tests / "conftest.py"]:
        if path.is_file():
            h.update(path.relative_to(tests).as_posix().encode() + b"\0")
            h.update(hashlib.sha256(path.read_bytes()).digest())
    entry = {"exercise": {k: v for k, v in ex.as_dict().items() if k != "index"}, "time_limit": course.time_limit,
             "points": course.default_points, "limits": course.limits}
    h.update(json.dumps(entry, sort_keys=True, default=str).encode())
    h.update(f"\0{grader_version()}\0{grader_source()}\0{lang}".encode())
    return h.hexdigest()
