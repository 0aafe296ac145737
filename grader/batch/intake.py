"""SUBMISSIONS read into one normalised copy per student: OUTDIR/graded/<student>/<exercise>/.

An entry of SUBMISSIONS is a folder, a zip or a loose file (an LMS download of one uploaded
file), named as grader.batch.ids recognises. Entries of the same student are merged. Inside an
entry, after unwrapping single top folders (and a single zip, as Moodle's folders hold one):
an `exercises/` folder, or the exercise folders directly, or - when one exercise is graded -
its files directly. Anything else is ignored. A missing exercise scores zero with a reason; a
submission that cannot be read (a bad zip, a zip bomb, a zip-slip) is that student's error.
The copy is rebuilt from SUBMISSIONS on every run, so the same input gives the same copy.
"""
from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from ..course import Exercise
from ..i18n import Text, say
from . import extract, ids
from .extract import Budget, Caps, IntakeError, Notes
from .normalise import normalise_tree

STAGING = ".staging"


@dataclass
class Submission:
    student: str
    name: str = ""
    sources: list[str] = field(default_factory=list)   # the SUBMISSIONS entries it came from
    folder: Path | None = None                          # OUTDIR/graded/<student>
    exercises: dict[str, Path] = field(default_factory=dict)  # found: id -> its copy
    missing: dict[str, Text] = field(default_factory=dict)    # not found: id -> why
    notes: list[Text] = field(default_factory=list)           # about the whole submission
    ex_notes: dict[str, list[Text]] = field(default_factory=dict)
    error: Text | None = None                           # it could not be read at all


@dataclass
class Skipped:
    entry: str
    why: Text


def intake(submissions: Path, graded: Path, exercises: list[Exercise], *,
           id_pattern: re.Pattern | None = None, caps: Caps = Caps(),
           exclude: tuple[Path, ...] = (), known_ids: set[str] | None = None,
           ) -> tuple[list[Submission], list[Skipped]]:
    """Read every entry of `submissions` into `graded/<student>/`; the students in id order,
    and the entries that belong to nobody. `exercises`: the ones graded; `known_ids`: every
    exercise of the course (a folder named by one is never taken for a wrapping folder)."""
    submissions = Path(submissions).resolve()
    graded.mkdir(parents=True, exist_ok=True)
    os.chmod(graded, 0o755)  # the judge's sandbox copies from here (students run as another uid)
    excluded = {Path(p).resolve() for p in exclude}
    owners: dict[str, list[tuple[Path, ids.Owner]]] = {}
    skipped: list[Skipped] = []
    for entry in sorted(submissions.iterdir(), key=lambda p: p.name):
        if entry.name.startswith(".") or entry.name in extract.JUNK_DIRS or entry.name in extract.JUNK_FILES:
            continue
        if entry.resolve() in excluded or entry.name == "gradebook.sqlite":
            continue
        if entry.is_symlink() or not (entry.is_dir() or entry.is_file()):
            skipped.append(Skipped(entry.name, say("a symbolic link or special file: not read",
                                                   "是符号链接或特殊文件：没有读取")))
            continue
        owner = ids.identify(entry.name, is_dir=entry.is_dir(), pattern=id_pattern)
        if owner is None:
            skipped.append(Skipped(entry.name, say(
                "cannot tell whose submission this is: name it by the student id (a folder or "
                "<id>.zip), keep the LMS download names, or give --id-pattern",
                "无法判断这是谁的提交：请用学号命名（文件夹或 <学号>.zip），保留 LMS 下载时的文件名，"
                "或者给出 --id-pattern")))
            continue
        owners.setdefault(owner.student, []).append((entry, owner))
    staging = graded / STAGING
    extract.clear(staging)
    result = []
    try:
        for student in sorted(owners):
            result.append(_one(student, owners[student], graded, staging, exercises,
                               known_ids or {ex.id for ex in exercises}, caps))
    finally:
        extract.clear(staging)
    return result, skipped


def _one(student: str, entries: list[tuple[Path, ids.Owner]], graded: Path, staging: Path,
         exercises: list[Exercise], known: set[str], caps: Caps) -> Submission:
    sub = Submission(student, name=next((o.name for _, o in entries if o.name), ""),
                     sources=[e.name for e, _ in entries])
    sub.folder = graded / student
    extract.clear(sub.folder)
    budget = Budget(caps)
    notes = Notes()
    found: dict[str, tuple[Path, str]] = {}   # exercise id -> (staged folder, entry name)
    looked: list[str] = []
    try:
        loose = [(e, o) for e, o in entries if e.is_file() and not e.name.lower().endswith(".zip")]
        groups = [[item] for item in entries if item not in loose] + ([loose] if loose else [])
        for k, group in enumerate(groups):  # loose files (one LMS download each) go together
            where = staging / student / str(k)
            where.mkdir(parents=True)
            for entry, owner in group:
                _stage(entry, owner, where, budget, notes)
            shown = ", ".join(e.name for e, _ in group)
            located, level = _locate(where, exercises, known, budget, notes, shown)
            if not located and level.is_dir():  # what the student's files look like, for the reason
                try:
                    prefix = level.relative_to(where).as_posix() + "/"
                except ValueError:
                    prefix = ""
                looked += [(prefix if prefix != "./" else "") + p.name for p in sorted(level.iterdir())][:12]
            for ex_id, folder in located.items():
                if ex_id in found:
                    notes.add(say("{ex} is in both {first} and {second}: graded the one in {second}",
                                  "{first} 和 {second} 中都有 {ex}：评分用的是 {second} 中的那份",
                                  ex=ex_id, first=found[ex_id][1], second=shown))
                found[ex_id] = (folder, shown)
    except IntakeError as exc:
        sub.error = exc.message
        sub.notes = notes.items
        extract.clear(sub.folder)
        for ex in exercises:
            sub.missing[ex.id] = exc.message
        return sub
    sub.folder.mkdir(parents=True)
    os.chmod(sub.folder, 0o755)
    for ex in exercises:
        if ex.id in found:
            dest = sub.folder / ex.id
            shutil.copytree(found[ex.id][0], dest)
            sub.exercises[ex.id] = dest
            sub.ex_notes[ex.id] = normalise_tree(dest, f"{ex.id}/")
        elif found:
            sub.missing[ex.id] = say("{ex}/ is not in the submission (it scores 0)",
                                     "提交中没有 {ex}/（该练习记 0 分）", ex=ex.id)
        else:
            sub.missing[ex.id] = say(
                "no exercise folder in the submission (it scores 0): expected exercises/{ex}/ "
                "or {ex}/ at the top; it holds: {found}",
                "提交中找不到练习目录（该练习记 0 分）：应当在最上层有 exercises/{ex}/ 或 {ex}/；"
                "实际内容：{found}", ex=ex.id, found=", ".join(looked) or "-")
    sub.notes = notes.items
    return sub


def _stage(entry: Path, owner: ids.Owner, where: Path, budget: Budget, notes: Notes) -> None:
    """The entry's files into `where`: a folder copied, a zip extracted, a loose file placed."""
    if entry.is_dir():
        extract.copy_folder(entry, where, budget, notes)
    elif entry.name.lower().endswith(".zip"):
        extract.extract_zip(entry, where, budget, notes, entry.name)
    else:
        extract.copy_file(entry, where, owner.file or entry.name, budget)


def _locate(top: Path, exercises: list[Exercise], known: set[str], budget: Budget,
            notes: Notes, shown: str) -> tuple[dict[str, Path], Path]:
    """The exercise folders of one staged entry (and the level looked at last)."""
    level = top
    unzipped = False
    for _ in range(budget.caps.depth):
        inside = (level / "exercises").is_dir()
        if inside:
            level = level / "exercises"
        found = {ex.id: level / ex.id for ex in exercises if (level / ex.id).is_dir()}
        if found or inside:
            return found, level
        if len(exercises) == 1 and any((level / f).is_file() for f in exercises[0].files):
            return {exercises[0].id: level}, level  # one exercise graded: its files at the top
        items = sorted(level.iterdir())
        if len(items) == 1 and items[0].is_dir() and items[0].name not in known:
            level = items[0]  # a wrapping folder (not another exercise's folder)
            continue
        if len(items) == 1 and items[0].suffix.lower() == ".zip" and not unzipped:
            inner = top.with_name(top.name + ".inner")  # a zip inside (a Moodle folder's upload)
            inner.mkdir()
            extract.extract_zip(items[0], inner, budget, notes, f"{shown}/{items[0].name}")
            level, top, unzipped = inner, inner, True
            continue
        break
    return {}, level
