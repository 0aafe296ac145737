"""Check latency: `grader check <id> --target solutions` with a warm judge and with a cold one,
against a bare pytest run of the same suite on the same target, all measured in this one
process and interleaved (warm, cold, bare, warm, cold, bare ...) so drift hits them alike.
Both run as a user types them: the `grader` and `pytest` commands of this environment.
Prints medians and ratios, `--all` on the same files against check50's time, and the whole
course's time against its solutions (hidden checks included).

    python bench/check_latency.py [ID ...] [--runs 7] [--enforce]

Targets (DESIGN.md, issue 6):
- warm check of tcp_echo: median <= 0.40 s (aim 0.30 s) and <= 0.7x the bare pytest run;
- warm `--all` on tcp_echo's correct files: <= 0.6x check50's 0.81 s for its 7 checks;
- a cold check under 1 s; the whole course against its solutions under 60 s.
The warm judge is this course's own (started here if none runs, NETLAB_WARM=require).
After each warm check the bench waits until the warm process has prepared its next judge (a
standby, see grader/warm.py), as it has between two checks a student runs by hand, so that
preparing it never overlaps the next command measured.
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
from grader import course as course_mod, warm  # noqa: E402

CHECK50_SECONDS = 0.81   # check50 3.5.0, 7 equivalent checks on the same tcp_echo files (issue 6)


def _count_checks(ex_id: str) -> int:
    """The exercise's graded checks, hidden ones included, read from its suite's source."""
    import ast
    n = 0
    for path in (ROOT / "tests" / ex_id).glob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_") and any(
                    getattr(getattr(d, "func", d), "id", None) == "check" for d in node.decorator_list):
                n += 1
    return n


def _command(name: str) -> list[str]:
    """The command a user types: the console script installed beside this Python (`grader`,
    `pytest`), as the README's set-up makes it; `python -m name` where there is none (runpy
    costs `-m` about 20 ms more, for grader and for pytest alike)."""
    script = Path(sys.executable).parent / name
    return [str(script)] if script.is_file() else [sys.executable, "-m", name]


def settle(timeout: float = 10.0) -> None:
    """Until the warm process runs no judge and its standby is ready (or it has none)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        now = warm.status(ROOT)
        if now is None or (now["judges"] == 0 and now["standby"] != "preparing"):
            return
        time.sleep(0.005)  # polling the warm process, with a deadline


def timed(cmd: list[str], env: dict) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env=env, check=False)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("exercises", nargs="*")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--enforce", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    course = course_mod.load(ROOT)
    warm.stop(ROOT)  # the warm judge measured is the one this script's first check starts
    ids = args.exercises or list(course.exercises)
    grader = _command("grader")
    # As on a user's machine: no NETLAB_ settings, and bytecode cached (a shell that sets
    # PYTHONDONTWRITEBYTECODE makes every start compile grader's and the suite's sources).
    base = {k: v for k, v in os.environ.items()
            if not k.startswith("NETLAB_") and k != "PYTHONDONTWRITEBYTECODE"}
    warm_env = {**base, "NETLAB_WARM": "require"}
    cold_env = {**base, "NETLAB_WARM": "0"}
    bare_env = {**base, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    print(f"{'exercise':16} {'warm':>7} {'cold':>7} {'bare':>7} {'warm/bare':>10} {'cold/bare':>10}"
          f"   (medians of {args.runs}, seconds)")
    missed = []
    for ex_id in ids:
        check = [*grader, "check", ex_id, "--target", "solutions"]
        bare = [*_command("pytest"), f"tests/{ex_id}", "--netlab-target", "solutions",
                "--netlab-visibility", "visible", "-q", "-p", "no:cacheprovider"]
        timed(check, warm_env)  # starts the warm judge; warms bytecode and page caches
        timed(check, warm_env)  # and its first standby
        settle()
        timed(bare, bare_env)
        w, c, b = [], [], []
        for _ in range(args.runs):
            w.append(timed(check, warm_env))
            settle()
            c.append(timed(check, cold_env))
            b.append(timed(bare, bare_env))
        wm, cm, bm = map(statistics.median, (w, c, b))
        print(f"{ex_id:16} {wm:7.3f} {cm:7.3f} {bm:7.3f} {wm / bm:10.2f} {cm / bm:10.2f}")
        if ex_id == "tcp_echo" and (wm > 0.40 or wm / bm > 0.7):
            missed.append(f"tcp_echo warm: {wm:.3f} s, {wm / bm:.2f}x bare")
        if cm >= 1.0:
            missed.append(f"{ex_id} cold: {cm:.3f} s")
    if "tcp_echo" in ids:
        every = [*grader, "check", "tcp_echo", "--target", "solutions", "--all"]
        timed(every, warm_env)
        settle()
        alls = []
        for _ in range(args.runs):
            alls.append(timed(every, warm_env))
            settle()
        allm = statistics.median(alls)
        n = _count_checks("tcp_echo")
        print(f"tcp_echo --all ({n} checks), warm: {allm:.3f} s = {allm / CHECK50_SECONDS:.2f}x "
              f"check50's {CHECK50_SECONDS} s for 7 checks")
        if allm > 0.6 * CHECK50_SECONDS:
            missed.append(f"tcp_echo --all: {allm / CHECK50_SECONDS:.2f}x check50")
    started = time.perf_counter()
    for ex_id in course.exercises:
        subprocess.run([*grader, "check", ex_id, "--target", "solutions", "--all"], cwd=ROOT,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=warm_env, check=False)
    total = time.perf_counter() - started
    print(f"whole course against solutions, hidden checks included, one after another (warm): "
          f"{total:.2f} s")
    if total >= 60:
        missed.append(f"course: {total:.1f} s")
    for m in missed:
        print(f"target missed: {m}")
    return 1 if missed and args.enforce else 0


if __name__ == "__main__":
    raise SystemExit(main())
