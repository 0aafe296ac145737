"""What a batch leaves in OUTDIR, written from the gradebook's results (never from a run in
flight), each file atomically (a temporary file renamed over it):

    grades.csv               one row per student: id, name, points per exercise, total, max,
                             status (the runs that were not simply graded); UTF-8 with a BOM so
                             Excel shows Chinese names, cells that would be formulas quoted
    results/<student>.json   the instructor's record: every check, hidden ones included, by id
    feedback/<student>.md    what may go back to the student (grader.batch.feedback)

The same submissions and suites give byte-identical files, however the batch was interrupted
and resumed: nothing in them depends on time or on the run (no timings; the loopback address
and port a judge happened to use, and the student uid of a run, are masked).
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
import statistics
from pathlib import Path

from ..course import Course
from ..i18n import Text, say, text
from . import feedback
from .intake import Skipped, Submission

_ADDR = re.compile(r"\b127(?:\.\d{1,3}){3}(:\d{1,5})?\b")
_UID = re.compile(r"\buid \d+")


def stable(s: str | None) -> str | None:
    """Run-specific details masked: a judge's loopback address and port, a run's uid."""
    if not s:
        return s
    return _UID.sub("uid N", _ADDR.sub(lambda m: "127.x.y.z" + (":PORT" if m.group(1) else ""), s))


def _notes(notes: list[Text]) -> tuple[list[str], list[str]]:
    return [text(n) for n in notes], [feedback.md_text(n) for n in notes]


def student_record(sub: Submission, course: Course, ex_ids: list[str], runs: dict) -> dict:
    """Everything about one student: intake, and each exercise's run (or why there is none)."""
    exercises = {}
    for ex_id in ex_ids:
        ex = course.exercises[ex_id]
        notes, notes_md = _notes(sub.ex_notes.get(ex_id, []))
        rec = runs.get((sub.student, ex_id))
        if sub.error is not None:
            e = {"status": "unreadable", "score": 0, "reason": text(sub.error), "tests": []}
        elif ex_id in sub.missing:
            e = {"status": "missing", "score": 0, "reason": text(sub.missing[ex_id]), "tests": []}
        elif rec is None:  # only when the batch stopped before this run
            e = {"status": "error", "score": 0, "tests": [], "reason": text(say(
                "not graded: the batch stopped before this run", "未评分：批量评分在这次运行之前停止了"))}
        else:
            e = {"status": rec["status"], "score": rec["score"],
                 "reason": stable(rec["problem"]) if rec["status"] in ("error", "timeout", "refused") else None,
                 "precheck": stable(rec["precheck"]), "isolation": stable(rec["isolation"]),
                 "hidden_tests": rec["hidden_tests"],
                 "tests": [{**t, "output": stable(t["output"])} for t in rec["tests"]]}
            if rec["status"] == "ok" and rec["problem"]:
                e["problem"] = stable(rec["problem"])
        e.update(max_score=ex.points, notes=notes, notes_md=notes_md)
        exercises[ex_id] = e
    general, general_md = _notes(sub.notes)
    bad = [f"{i}: {e['status']}" for i, e in exercises.items() if e["status"] != "ok"]
    return {"student": sub.student, "name": sub.name, "sources": sub.sources,
            "error": text(sub.error) if sub.error is not None else None,
            "notes": general, "notes_md": general_md,
            "total": sum(e["score"] for e in exercises.values()),
            "max_score": sum(e["max_score"] for e in exercises.values()),
            "status": "; ".join(bad) or "ok", "exercises": exercises}


def atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)


def _cell(value: str) -> str:
    """A spreadsheet must show a student's text, not run it as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def grades_csv(records: list[dict], ex_ids: list[str]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(["student", "name", *ex_ids, "total", "max", "status"])
    for r in records:
        w.writerow([_cell(r["student"]), _cell(r["name"]),
                    *(f"{r['exercises'][i]['score']:g}" for i in ex_ids),
                    f"{r['total']:g}", f"{r['max_score']:g}", _cell(r["status"])])
    return buf.getvalue().encode("utf-8-sig")


def write_all(out: Path, course: Course, ex_ids: list[str], records: list[dict],
              release: str, lang: str) -> None:
    titles = {i: course.exercises[i].text("title", lang) for i in ex_ids}
    for sub in ("feedback", "results"):
        (out / sub).mkdir(exist_ok=True)
    keep = {r["student"] for r in records}
    for folder, suffix in (("feedback", ".md"), ("results", ".json")):
        for old in (out / folder).glob(f"*{suffix}"):   # students no longer in SUBMISSIONS
            if old.name[:-len(suffix)] not in keep:
                old.unlink()
    for r in records:
        plain = {k: v for k, v in r.items() if k != "notes_md"}
        plain["exercises"] = {i: {k: v for k, v in e.items() if k != "notes_md"}
                              for i, e in r["exercises"].items()}
        plain["lang"] = lang
        atomic_write(out / "results" / f"{r['student']}.json",
                     (json.dumps(plain, indent=2, ensure_ascii=False, sort_keys=True) + "\n").encode())
        atomic_write(out / "feedback" / f"{r['student']}.md",
                     feedback.render(r, titles, release).encode())
    atomic_write(out / "grades.csv", grades_csv(records, ex_ids))


def summary(records: list[dict], ex_ids: list[str], skipped: list[Skipped], *, reused: int,
            graded: int, seconds: float, out: Path) -> list[str]:
    """The lines printed at the end of a batch."""
    lines = [text(say("graded {n} students ({graded} runs now, {reused} from the gradebook) in {s} s",
                      "共评 {n} 名学生（本次运行 {graded} 次评测，{reused} 次取自成绩簿），用时 {s} 秒",
                      n=len(records), graded=graded, reused=reused, s=f"{seconds:.1f}"))]
    for ex_id in ex_ids:
        scores = [r["exercises"][ex_id]["score"] for r in records]
        got = sum(1 for r in records if r["exercises"][ex_id]["status"] not in ("missing", "unreadable"))
        top = records[0]["exercises"][ex_id]["max_score"] if records else 0
        lines.append(text(say("  {ex}: mean {mean}, median {median} of {max} points ({got} of {n} submitted)",
                              "  {ex}：平均 {mean}，中位数 {median}，满分 {max}（{n} 人中 {got} 人提交）",
                              ex=ex_id, mean=f"{statistics.fmean(scores):.2f}" if scores else "-",
                              median=f"{statistics.median(scores):g}" if scores else "-",
                              max=f"{top:g}", got=got, n=len(records))))
    bad = [(r["student"], i, e) for r in records for i, e in r["exercises"].items()
           if e["status"] in ("error", "timeout", "refused", "unreadable")]
    if bad:
        lines.append(text(say("runs that errored, timed out or could not be read ({n}):",
                              "出错、超时或无法读取的评测（{n} 个）：", n=len(bad))))
        for student, ex_id, e in bad:
            why = (e.get("reason") or "").strip().split("\n")[0][:200]
            lines.append(f"  {student} {ex_id}: {e['status']}: {why}")
    if skipped:
        lines.append(text(say("entries of SUBMISSIONS not graded ({n}):", "SUBMISSIONS 中没有评分的条目（{n} 个）：",
                              n=len(skipped))))
        lines += [f"  {s.entry}: {text(s.why)}" for s in skipped]
    lines.append(text(say("wrote {csv}, {feedback}/ and {results}/", "已写出 {csv}、{feedback}/ 和 {results}/",
                          csv=str(out / "grades.csv"), feedback=str(out / "feedback"),
                          results=str(out / "results"))))
    return lines
