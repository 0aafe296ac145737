"""The last local result of each exercise, kept in .netlab/state.json (git-ignored) for `grader list`."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

STATE_DIR = ".netlab"


def state_path(root: Path) -> Path:
    return root / STATE_DIR / "state.json"


def load(root: Path) -> dict:
    try:
        return json.loads(state_path(root).read_text())
    except (OSError, ValueError):
        return {}


def record(root: Path, exercise: str, score: float, max_score: float, passed: bool) -> None:
    """Write atomically (rename), so an interrupted check never leaves a broken file."""
    data = load(root)
    data[exercise] = {"score": score, "max_score": max_score, "passed": passed,
                      "when": time.strftime("%Y-%m-%d %H:%M:%S")}
    path = state_path(root)
    path.parent.mkdir(exist_ok=True)
    ignore = path.parent / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n")
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
    tmp.replace(path)
