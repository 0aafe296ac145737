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


def check_order(root: Path, exercise: str) -> list[str]:
    """The exercise's checks by how long they took in its last local check, longest first."""
    try:
        seconds = json.loads((root / STATE_DIR / "seconds.json").read_text()).get(exercise, {})
        return sorted((str(n) for n in seconds), key=lambda n: -float(seconds[n]))
    except (OSError, ValueError, TypeError, AttributeError):
        return []


def record_seconds(root: Path, exercise: str, tests: list[dict]) -> None:
    """Remember how long each check took, for the next check's shards (judge.run_judge)."""
    took = {t["name"]: t["seconds"] for t in tests if isinstance(t.get("seconds"), (int, float))}
    if not took:
        return
    path = root / STATE_DIR / "seconds.json"
    try:
        data = json.loads(path.read_text())
        data = data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        data = {}
    data[exercise] = took
    _write(path, data)


def record(root: Path, exercise: str, score: float, max_score: float, passed: bool) -> None:
    """Keep the exercise's last local result (what `grader list` shows), written atomically."""
    data = load(root)
    data[exercise] = {"score": score, "max_score": max_score, "passed": passed,
                      "when": time.strftime("%Y-%m-%d %H:%M:%S")}
    _write(state_path(root), data)


def _write(path: Path, data: dict) -> None:
    """Write atomically (rename), so an interrupted check never leaves a broken file."""
    path.parent.mkdir(exist_ok=True)
    ignore = path.parent / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n")
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
    tmp.replace(path)
