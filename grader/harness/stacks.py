"""A stack dump (faulthandler's, taken when a check stops a student program) cut down to the
student's own frames: the harness's frames (_driver.py, _zygote.py, _launch.py, _main.py,
_jail.py) say nothing to a student and are left out, and so are threads with no frame left.

    Current thread 0x00007f3743a4a040 (most recent call first):
      File "framing.py", line 29 in recv_exactly
      File "framing.py", line 38 in recv_msg
      File "/…/grader/harness/_driver.py", line 84 in main
becomes
      File "framing.py", line 29 in recv_exactly
      File "framing.py", line 38 in recv_msg
"""
from __future__ import annotations

import re

from ..i18n import say

HARNESS_FILES = ("_driver.py", "_zygote.py", "_launch.py", "_main.py", "_jail.py")
_THREAD = re.compile(r"^(Current thread|Thread) 0x[0-9a-f]+ \(most recent call first\):\s*$")
_FRAME = re.compile(r'^\s+File "(?P<file>[^"]*)", line (?P<line>\d+) in (?P<func>.*)$')


def _harness(path: str) -> bool:
    return path.rsplit("/", 1)[-1] in HARNESS_FILES and "/grader/harness/" in path


def parse(dump: str) -> list[tuple[bool, list[str]]]:
    """[(is the current thread, [frame lines])] in the order of the dump."""
    threads: list[tuple[bool, list[str]]] = []
    for line in dump.splitlines():
        head = _THREAD.match(line)
        if head:
            threads.append((head.group(1) == "Current thread", []))
            continue
        frame = _FRAME.match(line)
        if frame and threads:
            threads[-1][1].append(line.strip())
    return threads


def _library(path: str) -> bool:
    """The standard library's and installed packages' files (threading.py, queue.py, ...)."""
    return path.startswith("<frozen") or "/lib/python" in path or "/site-packages/" in path


def _trim(frames: list[str]) -> list[str]:
    """A thread's frames without the harness's, and without library frames except the one the
    student's code called last (where it waits: queue.py in get, threading.py in wait); a thread
    with no frame of the student's is dropped (the pool's and the interpreter's own)."""
    files = [_FRAME.match("  " + f).group("file") for f in frames]
    frames = [f for f, path in zip(frames, files) if not _harness(path)]
    files = [path for path in files if not _harness(path)]
    mine = [i for i, path in enumerate(files) if not _library(path)]
    if not mine:
        return []
    first = mine[0]  # most recent call first: what precedes it is what the student called
    kept = [frames[first - 1]] if first > 0 else []
    return kept + [frames[i] for i in range(first, len(frames)) if not _library(files[i])]


def student_frames(dump: str) -> str:
    """The student's frames of every thread, most recent call first, one a line; threads are
    numbered from 1 when there are several. '' when the dump holds none."""
    kept = []
    for current, frames in parse(dump):
        mine = _trim(frames)
        if mine:
            kept.append(mine)
    if not kept:
        return ""
    if len(kept) == 1:
        return "\n".join(kept[0])
    out = []
    for n, frames in enumerate(kept, 1):
        out.append(str(say("thread {n}:", "线程 {n}：", n=n)))
        out += ["  " + f for f in frames]
    return "\n".join(out)
