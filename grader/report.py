"""How results look: in the terminal (rich, plain when piped) and as JSON.

The terminal form is for a student reading on a laptop: one line per check with its points,
and under a failed check the facts (sent / expected / got), the stderr tail, and the hint.
"""
from __future__ import annotations

import json

from .judge import JudgeResult


def _console(file=None):
    from rich.console import Console
    return Console(file=file, highlight=False, soft_wrap=True)


def fmt_points(x: float) -> str:
    return f"{x:g}"


def print_result(result: JudgeResult, title: str, *, file=None, shown_target: str | None = None) -> None:
    from rich.text import Text
    console = _console(file)
    head = Text()
    head.append(result.exercise, style="bold")
    head.append(f" · {title}")
    head.append(f"   (checking {shown_target or result.target})", style="dim")
    console.print(head)
    if result.precheck:
        console.print(Text("  Your files could not be checked:", style="bold red"))
        console.print(Text(_indent(result.precheck, 4), style="red"))
    elif any("NotImplementedError" in t["output"] for t in result.tests):
        console.print(Text("  Some of your code still raises NotImplementedError: the stub is "
                           "waiting for you to write it.", style="yellow"))
    seen_blocks: set[str] = set()
    for test in result.tests:
        ok = test["status"] == "passed"
        line = Text("  ")
        line.append("✔ " if ok else "✘ ", style="green" if ok else "red")
        line.append(test["title"])
        if test["visibility"] != "visible":
            line.append(f" [{test['visibility']}]", style="dim")
        line.append(f"  {fmt_points(test['score'])}/{fmt_points(test['max_score'])}",
                    style="green" if ok else "red")
        console.print(line)
        if not ok and test["output"] and not (result.precheck and test["output"].startswith("not run:")):
            console.print(Text(_indent(_dedupe(test["output"], seen_blocks), 6)))
    if result.problem:
        console.print(Text(f"  grader problem: {result.problem}", style="bold yellow"))
    if result.hidden:
        n = result.hidden
        console.print(Text(f"  {n} hidden check{'s' if n != 1 else ''} will also run when your work "
                           "is graded.", style="dim"))
    if result.isolation:  # how student code was confined, always said, in one line
        console.print(Text(f"  isolation: {result.isolation}",
                           style="dim" if result.isolated else "bold yellow"))
    score = Text(f"{result.exercise}: {fmt_points(result.score)}/{fmt_points(result.max_score)} points",
                 style="bold green" if result.passed else "bold")
    console.print(score)


def _dedupe(output: str, seen: set[str]) -> str:
    """Show each identical stderr tail once: a stub fails every check with the same traceback."""
    head, *blocks = output.split("\n  stderr of ")
    parts = [head]
    for block in blocks:
        name = block.split(" (last lines)", 1)[0]
        parts.append(f"stderr of {name}: the same as above" if block in seen else f"stderr of {block}")
        seen.add(block)
    return "\n  ".join(parts)


def _indent(text: str, n: int) -> str:
    pad = " " * n
    return "\n".join(pad + line for line in text.splitlines())


def result_json(result: JudgeResult) -> str:
    return json.dumps(result.to_json(), indent=2)
