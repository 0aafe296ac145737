"""How results look: in the terminal (rich, plain when piped) and as JSON.

The terminal form is for a student reading on a laptop: one line per check with its points,
and under a failed check the facts (sent / expected / got), the stderr tail, and the hint.
Every word of ours is in the chosen language (grader.i18n); the checks' own texts arrive
already rendered by the judge, which was told the same language.
"""
from __future__ import annotations

import json

from .i18n import lang, say, text
from .judge import JudgeResult

# how a check's visibility reads in its line (ids stay as they are in JSON)
VISIBILITY = {
    "hidden": say("hidden", "隐藏"),
    "after_due_date": say("shown after the due date", "截止后公布"),
    "after_published": say("shown after grades are published", "成绩发布后公布"),
}


def console(file=None, *, soft_wrap: bool = True):
    """A rich console for our output. A reader that goes away (`grader list | head -3`) ends
    the command the same way for every kind of output (grader.cli.main: quietly, exit 141)."""
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:  # rich would exit(1) by itself
            raise BrokenPipeError

    return _Console(file=file, highlight=False, soft_wrap=soft_wrap)


def fmt_points(x: float) -> str:
    return f"{x:g}"


def print_result(result: JudgeResult, title: str, *, file=None, shown_target: str | None = None) -> None:
    from rich.text import Text
    out = console(file)
    head = Text()
    head.append(result.exercise, style="bold")
    head.append(f" · {title}")
    head.append(f"   {say('(checking {path})', '（检查的是 {path}）', path=shown_target or result.target)}",
                style="dim")
    out.print(head)
    if result.precheck:
        out.print(Text(f"  {say('Your files could not be checked:', '无法检查你的文件：')}", style="bold red"))
        out.print(Text(_indent(result.precheck, 4), style="red"))
    elif any("NotImplementedError" in t["output"] for t in result.tests):
        out.print(Text("  " + text(say(
            "Some of your code still raises NotImplementedError: the stub is waiting for you to write it.",
            "你的代码有一部分仍然抛出 NotImplementedError：这是练习留给你的空白，等着你来写。")),
            style="yellow"))
    seen_blocks: set[str] = set()
    for test in result.tests:
        ok = test["status"] == "passed"
        line = Text("  ")
        line.append("✔ " if ok else "✘ ", style="green" if ok else "red")
        line.append(test["title"])
        if test["visibility"] != "visible":
            line.append(f" [{text(VISIBILITY.get(test['visibility'], test['visibility']))}]", style="dim")
        line.append(f"  {fmt_points(test['score'])}/{fmt_points(test['max_score'])}",
                    style="green" if ok else "red")
        out.print(line)
        # (a check not run because of the precheck says only what was said above)
        if not ok and test["output"] and not (result.precheck and result.precheck in test["output"]):
            out.print(Text(_indent(_dedupe(test["output"], seen_blocks), 6)))
    if result.problem:
        out.print(Text(f"  {say('grader problem: {problem}', '评分程序出了问题：{problem}', problem=result.problem)}",
                           style="bold yellow"))
    if result.hidden:
        out.print(Text(f"  {hidden_line(result.hidden, getattr(result, 'hidden_points', None) or None)}",
                           style="dim"))
    if result.isolation:  # how student code was confined, always said, in one line
        out.print(Text(f"  {say('isolation: {how}', '隔离方式：{how}', how=result.isolation)}",
                       style="dim" if result.isolated else "bold yellow"))
    score = Text(str(say("{exercise}: {score}/{max_score} points", "{exercise}：{score}/{max_score} 分",
                         exercise=result.exercise, score=fmt_points(result.score),
                         max_score=fmt_points(result.max_score))),
                 style="bold green" if result.passed else "bold")
    out.print(score)


def hidden_line(n: int, points: float | None):
    """'5 hidden checks, 5 more points, run when your work is graded.' (the points when the
    judge reported them, else the count alone: `points` None)."""
    checks = say("1 hidden check", "1 项隐藏检查") if n == 1 else \
        say("{n} hidden checks", "{n} 项隐藏检查", n=n)
    if points is None:
        return say("{checks} will also run when your work is graded.",
                   "另有 {checks}，会在正式评分时运行。", checks=checks)
    more = say("1 more point", "共 1 分") if points == 1 else \
        say("{points} more points", "共 {points} 分", points=fmt_points(points))
    return say("{checks}, {more}, run when your work is graded.",
               "另有 {checks}（{more}），会在正式评分时运行。", checks=checks, more=more)


def _dedupe(output: str, seen: set[str]) -> str:
    """Show each identical labelled block once: a stub fails every check with the same
    traceback. A block is a line indented by two spaces that ends with a colon ('  stderr of
    server.py (last lines):', in either language) and the lines indented under it."""
    lines = output.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        j = i + 1
        if line.startswith("  ") and not line.startswith("   ") and line.rstrip().endswith((":", "：")):
            while j < len(lines) and lines[j].startswith("    "):
                j += 1
        if j > i + 1:
            block = "\n".join(lines[i:j])
            if block in seen:
                label = line.rstrip()
                out.append(label + ("" if label.endswith("：") else " ") + text(say("the same as above", "同上")))
            else:
                out.extend(lines[i:j])
            seen.add(block)
        else:
            out.append(line)
        i = j
    return "\n".join(out)


def _indent(text: str, n: int) -> str:
    pad = " " * n
    return "\n".join(pad + line for line in text.splitlines())


def result_json(result: JudgeResult, *, error: str | None = None) -> str:
    """The result as JSON, with the language its texts are in; `error` (a stable code) when
    the check did not run, with the problem also as Gradescope's top-level `output`."""
    data = {**result.to_json(), "lang": lang()}
    if error:
        data.update(error=error, output=text(result.problem))
    return json.dumps(data, indent=2)


def error_json(*, exercise: str, target: str | None, error: str, message, max_score: float | None = None,
               visibility: str = "visible", seconds: float = 0.0) -> str:
    """The one JSON object of a check that could not run (the judge failed, the target or the
    exercise does not exist): the fields of a result, score 0, and the error as a stable
    code (`error`) and as text in the chosen language (`problem`, and Gradescope's `output`)."""
    message = text(message)
    return json.dumps({
        "exercise": exercise, "target": target, "score": 0, "max_score": max_score,
        "hidden_tests": 0, "visibility": visibility, "precheck": None, "problem": message,
        "execution_time": round(seconds, 3), "tests": [], "lang": lang(), "error": error,
        "output": message,
    }, indent=2)
