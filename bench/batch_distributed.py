"""A batch on a dask.distributed cluster against the local executor, on the same class:
N full-marks and N stub submissions of the network exercises (or --exercises), graded by
`grader batch --workers 2` and by `grader batch --scheduler` on a LocalCluster of 2 worker
processes of one thread each, on loopback, on this same machine. Prints each batch's wall
seconds (cluster start not included), its cost per (student, exercise) run, the mean run time
the gradebooks hold, and whether any submission was graded differently (it must never be).

    python bench/batch_distributed.py [--copies 3] [--exercises ID ...] [--cold]

Needs netlab-grader[distributed]. Run it as root (batches confine each run under its own uid).
On one machine the cluster can only cost more than the local pool: what it adds is shipping
the course and each submission to a worker, and dask's scheduling. It is there to grade on
more machines than one; this measures what each run pays for that.
"""
from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from batch_throughput import NETWORK, build  # noqa: E402

from grader import course as course_mod  # noqa: E402


def batch(subs: Path, out: Path, ids: list[str], where: list[str], env: dict) -> float:
    cmd = [sys.executable, "-m", "grader", "batch", str(subs), "--out", str(out), *where,
           "--exercises", *ids]
    if os.geteuid() != 0:
        cmd.append("--trust-submission")
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"batch failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return seconds


def verdicts(out: Path) -> dict:
    got = {}
    for path in (out / "results").iterdir():
        record = json.loads(path.read_text())
        for ex_id, ex in record["exercises"].items():
            got[(record["student"], ex_id)] = (ex.get("status"), ex.get("score"), sorted(
                (t["name"], t["status"], t["score"]) for t in ex.get("tests", [])))
    return got


def mean_run(out: Path) -> float:
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        return statistics.mean(s for (s,) in db.execute("SELECT seconds FROM runs"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=3, help="full and stub submissions each")
    parser.add_argument("--exercises", nargs="*")
    parser.add_argument("--cold", action="store_true", help="no warm judges (NETLAB_WARM=0), both sides")
    args = parser.parse_args()
    try:
        from distributed import LocalCluster
    except ImportError:
        raise SystemExit("needs dask.distributed: pip install 'netlab-grader[distributed]'")
    course = course_mod.load(ROOT)
    ids = args.exercises or [i for i in course.exercises if i in NETWORK]
    env = {k: v for k, v in os.environ.items() if not k.startswith("NETLAB_")}
    if args.cold:
        env["NETLAB_WARM"] = "0"
    os.environ.clear()
    os.environ.update(env)   # the cluster's workers (and their judges) see what the batches see
    runs = 2 * args.copies * len(ids)
    with tempfile.TemporaryDirectory(prefix="netlab-bench-") as tmp:
        subs = Path(tmp) / "subs"
        build(subs, course, ids, args.copies)
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address=None) as cluster:
            address = cluster.scheduler_address
            # one small batch first on each side, so both start with warm judges (when warm)
            for where, name in ((["--workers", "2"], "warm-local"), (["--scheduler", address], "warm-cluster")):
                batch(subs, Path(tmp) / name, ids[:1], where, env)
            local = batch(subs, Path(tmp) / "local", ids, ["--workers", "2"], env)
            spread = batch(subs, Path(tmp) / "cluster", ids, ["--scheduler", address], env)
        same = verdicts(Path(tmp) / "local") == verdicts(Path(tmp) / "cluster")
        csv_same = (Path(tmp) / "local" / "grades.csv").read_bytes() == \
            (Path(tmp) / "cluster" / "grades.csv").read_bytes()
        print(f"{len(ids)} exercises x {2 * args.copies} submissions = {runs} runs, "
              f"judges {'cold' if args.cold else 'warm'}")
        print(f"  local pool, 2 workers:            {local:7.1f} s  ({local / runs:.2f} s per run, "
              f"a run {mean_run(Path(tmp) / 'local'):.2f} s)")
        print(f"  LocalCluster, 2 worker processes: {spread:7.1f} s  ({spread / runs:.2f} s per run, "
              f"a run {mean_run(Path(tmp) / 'cluster'):.2f} s)")
        print(f"  cluster / local: {spread / local:.2f}x")
        print(f"  verdicts identical: {'yes' if same else 'NO'}; grades.csv identical: {'yes' if csv_same else 'NO'}")
    return 0 if same and csv_same else 1


if __name__ == "__main__":
    raise SystemExit(main())
