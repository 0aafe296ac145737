"""Check latency: `grader check <id> --target solutions` against a bare pytest run of the same
suite on the same target, measured in the same process, interleaved (A B A B ...) so drift
hits both alike. Prints medians and the ratio, and the whole course's time against its
solutions (hidden checks included).

    python bench/check_latency.py [ID ...] [--runs 7]

Targets (DESIGN.md): median under 1 s per exercise, ratio <= 1.25, course under 60 s.
Exits 1 if a target is missed and --enforce is given.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from grader import course as course_mod  # noqa: E402


def timed(cmd: list[str], env: dict | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env=env, check=False)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("exercises", nargs="*")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--enforce", action="store_true")
    args = parser.parse_args()
    course = course_mod.load(ROOT)
    ids = args.exercises or list(course.exercises)
    grader = [sys.executable, "-m", "grader"]
    bare_env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    print(f"{'exercise':16} {'grader check':>13} {'bare pytest':>12} {'ratio':>6} "
          f"{'bare+autoload':>14}   (medians of {args.runs}, seconds)")
    missed = []
    for ex_id in ids:
        check_cmd = [*grader, "check", ex_id, "--target", "solutions"]
        bare_cmd = [sys.executable, "-m", "pytest", f"tests/{ex_id}", "--netlab-target", "solutions",
                    "--netlab-visibility", "visible", "-q", "-p", "no:cacheprovider"]
        timed(check_cmd)  # warm the caches (bytecode, page cache) for both
        g, b, a = [], [], []
        for _ in range(args.runs):
            g.append(timed(check_cmd))
            b.append(timed(bare_cmd, bare_env))
            a.append(timed(bare_cmd))
        gm, bm, am = map(statistics.median, (g, b, a))
        ratio = gm / bm
        print(f"{ex_id:16} {gm:13.3f} {bm:12.3f} {ratio:6.2f} {am:14.3f}")
        if gm >= 1.0 or ratio > 1.25:
            missed.append(f"{ex_id}: median {gm:.3f} s, ratio {ratio:.2f}")
    started = time.perf_counter()
    for ex_id in course.exercises:
        subprocess.run([*grader, "check", ex_id, "--target", "solutions", "--all"], cwd=ROOT,
                       stdout=subprocess.DEVNULL, check=False)
    total = time.perf_counter() - started
    print(f"whole course against solutions, hidden checks included, one after another: {total:.2f} s")
    if total >= 60:
        missed.append(f"course: {total:.1f} s")
    for m in missed:
        print(f"target missed: {m}")
    return 1 if missed and args.enforce else 0


if __name__ == "__main__":
    raise SystemExit(main())
