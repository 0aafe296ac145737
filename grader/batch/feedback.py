"""feedback/<student>.md: what may be returned to the student, in the batch's language.

Per exercise: the score, what intake changed in their files, and every visible check with the
same feedback `grader check` gives (sent / expected / got, stderr tail, hint); hidden checks by
title and points only (after_due_date / after_published ones in full once --release says so).

Student text must not become Markdown: a reply of `[prize](http://evil)` or `<script>` is
shown, never rendered. Everything a student controls (outputs, file names, their name) goes in
code blocks or code spans fenced longer than any backtick run it holds (code is never parsed
for links, HTML or emphasis); our own words are escaped character by character.
"""
from __future__ import annotations

import re

from ..i18n import Joined, Text, say, text
from ..textsafe import visible

RELEASES = {"none": (), "due": ("after_due_date",), "published": ("after_due_date", "after_published")}

_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&])")


def md_escape(s: str) -> str:
    """Our own words as literal Markdown text: every character that could start emphasis, code,
    a link, HTML, an entity or a table cell is backslash-escaped; newlines become spaces."""
    return _SPECIAL.sub(r"\\\1", visible(str(s)).replace("\n", " "))


def code_span(s: str) -> str:
    s = visible(str(s)).replace("\n", " ")
    longest = max((len(m) for m in re.findall(r"`+", s)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if s.startswith("`") or s.endswith("`") or not s.strip() else ""
    return f"{fence}{pad}{s}{pad}{fence}"


def code_block(s: str, indent: str = "") -> str:
    s = visible(str(s))
    longest = max((len(m) for m in re.findall(r"`+", s)), default=0)
    fence = "`" * max(3, longest + 1)
    lines = [f"{fence}text", *s.split("\n"), fence]
    return "\n".join(indent + line if line else line for line in lines)


def md_text(value, language: str | None = None) -> str:
    """A message of ours (Text) with its fields - student file names, entry names - in code."""
    if isinstance(value, Joined):
        return "".join(md_text(p, language) if isinstance(p, Text) else md_escape(p) for p in value.parts)
    if isinstance(value, Text):
        if not value.fields:
            return md_escape(value.render(language))
        template = value.zh if (language or _lang()) == "zh" else value.en
        # escape the template's own text around its {placeholders}, then fill them
        pieces = re.split(r"(\{\w+\})", template)
        out = []
        for piece in pieces:
            m = re.fullmatch(r"\{(\w+)\}", piece)
            if not m:
                out.append(md_escape(piece))
                continue
            v = value.fields[m.group(1)]
            out.append(md_text(v, language) if isinstance(v, Text) else
                       md_escape(v) if isinstance(v, (int, float)) else code_span(v))
        return "".join(out)
    return md_escape(value)


def _lang() -> str:
    from ..i18n import lang
    return lang()


def pts(x) -> str:
    return f"{float(x):g}"


STATUS = {
    "ok": say("graded", "已评分"),
    "invalid": say("your files could not be checked", "你的文件无法检查"),
    "missing": say("not submitted", "未提交"),
    "unreadable": say("the submission could not be read", "提交的内容无法读取"),
    "timeout": say("grading ran out of time", "评分超时"),
    "error": say("the grader failed on this run (not your fault; it will be graded again)",
                 "这一次评分程序自身出了问题（不是你的错；会重新评分）"),
    "refused": say("not graded: it could not be run safely here", "未评分：本机无法安全地运行它"),
}


def render(student: dict, titles: dict[str, str], release: str = "none") -> str:
    """The Markdown feedback of one student's record (outputs.student_record)."""
    shown_in_full = {"visible", *RELEASES[release]}
    out = ["# " + md_text(say("netlab feedback: {student}", "netlab 评分反馈：{student}",
                              student=student["student"]))]
    if student.get("name"):
        out += ["", md_text(say("Name: {name}", "姓名：{name}", name=student["name"]))]
    out += ["", "**" + md_escape(text(say("Total: {score}/{max_score} points", "总分：{score}/{max_score} 分",
                                           score=pts(student["total"]), max_score=pts(student["max_score"])))) + "**"]
    if student["notes_md"]:
        out += ["", md_escape(text(say("What was done to your submission before grading:",
                                       "评分之前对你的提交做了这些处理：")))]
        out += [f"- {n}" for n in student["notes_md"]]
    for ex_id, ex in student["exercises"].items():
        out += ["", f"## {code_span(ex_id)} · {md_escape(titles.get(ex_id, ex_id))} — "
                    f"{pts(ex['score'])}/{pts(ex['max_score'])}"]
        if ex["status"] not in ("ok", "invalid"):  # (invalid: the precheck below says why)
            out += ["", f"*{md_escape(text(STATUS.get(ex['status'], ex['status'])))}*"]
        if ex.get("reason"):
            out += ["", code_block(ex["reason"])]
        if ex.get("notes_md"):
            out += ["", md_escape(text(say("Changed so that your program runs here:",
                                           "为了让你的程序能在这里运行，做了这些改动：")))]
            out += [f"- {n}" for n in ex["notes_md"]]
        if ex.get("precheck"):
            out += ["", md_escape(text(say("Your files could not be checked:", "无法检查你的文件："))),
                    "", code_block(ex["precheck"])]
        seen: set[str] = set()
        full = [t for t in ex["tests"] if t["visibility"] in shown_in_full]
        brief = [t for t in ex["tests"] if t["visibility"] not in shown_in_full]
        if full:
            out.append("")
        for t in full:
            ok = t["status"] == "passed"
            out.append(f"- {'✔' if ok else '✘'} {md_escape(t['title'])} — {pts(t['score'])}/{pts(t['max_score'])}")
            if not ok and t["output"] and not (ex.get("precheck") and ex["precheck"] in t["output"]):
                from ..report import _dedupe
                out += ["", code_block(_dedupe(t["output"], seen), "  "), ""]
        if brief:
            out += ["", md_escape(text(say("Hidden checks (title and points only):",
                                           "隐藏检查（只列出标题和分数）：")))]
            for t in brief:
                out.append(f"- {md_escape(t['title'])} — {pts(t['score'])}/{pts(t['max_score'])}")
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).rstrip("\n") + "\n"
