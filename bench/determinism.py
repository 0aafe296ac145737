"""Same submission, same grade: grade the solution, the stub and every mutant of each exercise
several times, judges running two at a time while CPU burners load every core, and report any
check whose verdict changed between runs.

    python bench/determinism.py [ID ...] [--rounds 3] [--burners 2] [--jobs 1]

--jobs 2 runs each judge's checks in two shards, as `grader check` does on two cores (more
load still: two judges of two shards each beside the burners).

Exits 1 if any verdict differs. The burners stop by themselves when the runs are over (and at
the latest after --max-seconds).
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from grader import course as course_mod  # noqa: E402
from grader import mutants as mutants_mod  # noqa: E402
from grader.judge import run_judge  # noqa: E402

BURN = "import time\nend = time.monotonic() + {s}\nwhile time.monotonic() < end: pass\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("exercises", nargs="*")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--burners", type=int, default=2)
    parser.add_argument("--max-seconds", type=float, default=1800)
    parser.add_argument("--jobs", type=int, default=1, help="shards per judge (grader/shards.py)")
    args = parser.parse_args()
    course = course_mod.load(ROOT)
    ids = args.exercises or list(course.exercises)
    burners = [subprocess.Popen([sys.executable, "-c", BURN.format(s=args.max_seconds)])
               for _ in range(args.burners)]
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="netlab-determinism-") as tmp:
            targets = []
            for ex_id in ids:
                targets.append((ex_id, "solution", ROOT / "solutions"))
                targets.append((ex_id, "stub", ROOT / "exercises"))
                for m in mutants_mod.load(ROOT / "tests", ex_id):
                    base = Path(tmp) / f"{ex_id}-{m.name}"
                    m.apply(ROOT / "solutions" / ex_id, base / ex_id)
                    base.chmod(0o755)
                    targets.append((ex_id, m.name, base))
            jobs = [(ex_id, name, path, r) for r in range(args.rounds) for ex_id, name, path in targets]

            def grade(job):
                ex_id, name, path, _ = job
                result = run_judge(course, course.get(ex_id), path, visibility="all", jobs=args.jobs)
                return (ex_id, name), tuple((t["name"], t["status"]) for t in result.tests)

            with ThreadPoolExecutor(max_workers=2) as pool:
                results = list(pool.map(grade, jobs))
    finally:
        for b in burners:
            b.kill()
            b.wait()
    verdicts: dict = {}
    for key, tests in results:
        verdicts.setdefault(key, []).append(tests)
    unstable = {k: v for k, v in verdicts.items() if len(set(v)) > 1}
    print(f"{len(verdicts)} targets x {args.rounds} rounds = {len(results)} gradings, "
          f"{args.burners} CPU burners, 2 judges at a time of {args.jobs} shard(s) each, "
          f"{time.monotonic() - started:.0f} s")
    for (ex_id, name), runs in verdicts.items():  # the reference must pass, the stub must not
        if name == "solution" and any(s != "passed" for run in runs for _, s in run):
            print(f"SOLUTION FAILED {ex_id}: {sorted({t for run in runs for t in run if t[1] != 'passed'})}")
            unstable[(ex_id, name)] = runs
    for (ex_id, name), runs in unstable.items():
        changed = {t for run in runs for t in run} - set.intersection(*(set(r) for r in runs))
        print(f"UNSTABLE {ex_id}/{name}: {sorted(changed)}")
    if not unstable:
        print("every verdict was the same in every round")
    return 1 if unstable else 0


if __name__ == "__main__":
    raise SystemExit(main())
