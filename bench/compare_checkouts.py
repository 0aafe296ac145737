"""Warm `grader check` latency of two checkouts of the course, measured alternately (A, B, A,
B ...) in this one process, so that a small change is seen through a noisy machine's drift.

    python bench/compare_checkouts.py A_FOLDER B_FOLDER [ID] [--runs 25]

Each folder is a whole course (e.g. `git worktree add /tmp/before HEAD~1`); each gets its own
warm judge, started and seeded (the shards' order file) before the timed runs. Every run must
pass: a faster checkout that grades differently is not faster.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("a", type=Path)
    parser.add_argument("b", type=Path)
    parser.add_argument("exercise", nargs="?", default="tcp_echo")
    parser.add_argument("--runs", type=int, default=25)
    args = parser.parse_args()
    # bytecode cached, as on a user's machine (see check_latency.py)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")}
    folders = {"A": args.a.resolve(), "B": args.b.resolve()}
    times: dict[str, list[float]] = {name: [] for name in folders}

    def check(folder: Path) -> float:
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "grader", "check", args.exercise, "--target", "solutions"],
                              cwd=folder, env={**env, "PYTHONPATH": str(folder)}, capture_output=True, text=True)
        took = time.perf_counter() - started
        if proc.returncode != 0:
            raise SystemExit(f"{folder}: the check did not pass (exit {proc.returncode}):\n"
                             f"{proc.stdout}{proc.stderr}")
        return took

    for folder in folders.values():
        for _ in range(2):  # the warm judge starts, then the order file is written
            check(folder)
    for _ in range(args.runs):
        for name, folder in folders.items():
            times[name].append(check(folder))
    for name, folder in folders.items():
        ts = times[name]
        print(f"{name} {folder}: median {statistics.median(ts):.3f} s, mean {statistics.mean(ts):.3f} s, "
              f"min {min(ts):.3f} s ({len(ts)} runs of {args.exercise})")
    a, b = (statistics.median(times[n]) for n in folders)
    print(f"B / A: {b / a:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
