"""Batch throughput: `grader batch` over N full-marks and N stub submissions, with 1 and with 2
workers, against bare pytest runs of the same suites on the same targets, measured in this one
process. Prints, for the network exercises and for the whole course:
- each batch's wall seconds and its cost per (student, exercise) run;
- per exercise, the mean seconds of one batch run (from the gradebook) against one bare
  `pytest tests/<id>` (hidden checks included) on a full and on a stub target;
- the speed-up of the second worker, and what a class of 200 full submissions would take;
- whether any submission was graded differently across the batches (it must never be).

    python bench/batch_throughput.py [--copies 4] [--exercises ID ...] [--enforce]

Targets (issue 11): a batch run costs no more than the bare pytest run of the same suite
(<= 1.0x, isolation included); the second worker gives >= 1.6x on the network exercises.
Run it as root (batches confine each run under its own uid); it needs nothing else.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from grader import course as course_mod  # noqa: E402

NETWORK = ("tcp_echo", "udp_echo", "sticky_header", "sticky_json", "packets", "tcp_states",
           "remote_cmd", "file_upload", "socketserver_chat", "http_server")


def build(subs: Path, course, ids: list[str], copies: int) -> None:
    for kind, source in (("full", "solutions"), ("stub", "exercises")):
        for i in range(copies):
            folder = subs / f"{kind}{i:02d}" / "exercises"
            for ex_id in ids:
                shutil.copytree(ROOT / source / ex_id, folder / ex_id,
                                ignore=shutil.ignore_patterns("__pycache__", "README*"))


def busy_seconds() -> float:
    """CPU seconds the whole machine spent not idle since boot (/proc/stat, all cores)."""
    with open("/proc/stat") as f:
        ticks = [int(x) for x in f.readline().split()[1:]]
    idle = ticks[3] + ticks[4]  # idle + iowait
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def batch(subs: Path, out: Path, ids: list[str], workers: int, env: dict) -> tuple[float, float]:
    cmd = [sys.executable, "-m", "grader", "batch", str(subs), "--out", str(out),
           "--workers", str(workers), "--exercises", *ids]
    if os.geteuid() != 0:
        cmd.append("--trust-submission")
    started, cpu = time.perf_counter(), busy_seconds()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds, cpu = time.perf_counter() - started, busy_seconds() - cpu
    if proc.returncode != 0:
        raise SystemExit(f"batch failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return seconds, cpu / seconds


def run_seconds(out: Path) -> dict[str, list[float]]:
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        cols = [r[1] for r in db.execute("PRAGMA table_info(runs)")]
        col = "seconds" if "seconds" in cols else next(c for c in cols if "second" in c)
        rows = db.execute(f"SELECT exercise, {col} FROM runs").fetchall()
    per: dict[str, list[float]] = {}
    for ex_id, s in rows:
        per.setdefault(ex_id, []).append(float(s))
    return per


def results(out: Path) -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text()) for p in sorted((out / "results").iterdir())}


def differences(a: dict[str, dict], b: dict[str, dict]) -> tuple[list[str], list[str]]:
    """(verdicts, texts): the (student, exercise, check) whose score or status differ between
    two batches' results, and those whose feedback text alone differs."""
    verdicts, texts = [], []
    for student in sorted(set(a) | set(b)):
        ea, eb = a.get(student, {}).get("exercises", {}), b.get(student, {}).get("exercises", {})
        for ex_id in sorted(set(ea) | set(eb)):
            ta = {t["name"]: t for t in ea.get(ex_id, {}).get("tests", [])}
            tb = {t["name"]: t for t in eb.get(ex_id, {}).get("tests", [])}
            if ea.get(ex_id, {}).get("score") != eb.get(ex_id, {}).get("score") or set(ta) != set(tb):
                verdicts.append(f"{student}/{ex_id}: {ea.get(ex_id, {}).get('score')} vs {eb.get(ex_id, {}).get('score')}")
            for name in sorted(set(ta) & set(tb)):
                x, y = ta[name], tb[name]
                where = f"{student}/{ex_id}/{name}"
                if (x.get("score"), x.get("status")) != (y.get("score"), y.get("status")):
                    verdicts.append(f"{where}: {x.get('status')} {x.get('score')} vs {y.get('status')} {y.get('score')}")
                elif x != y:
                    texts.append(where)
    return verdicts, texts


def bare(ex_id: str, target: Path, env: dict) -> float:
    cmd = [sys.executable, "-m", "pytest", f"tests/{ex_id}", "--netlab-target", str(target),
           "--netlab-visibility", "all", "-q", "-p", "no:cacheprovider"]
    started = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def measure(name: str, course, ids: list[str], copies: int, work: Path, env: dict) -> dict:
    subs = work / f"subs-{name}"
    build(subs, course, ids, copies)
    runs = 2 * copies * len(ids)
    walls, outs, cores = {}, {}, {}
    for workers in (1, 2):
        out = work / f"out-{name}-{workers}"
        walls[workers], cores[workers] = batch(subs, out, ids, workers, env)
        outs[workers] = out
    verdicts, texts = differences(results(outs[1]), results(outs[2]))
    same = not verdicts
    per = run_seconds(outs[1])
    print(f"\n{name}: {len(ids)} exercises x {2 * copies} submissions = {runs} runs")
    print(f"  1 worker: {walls[1]:7.1f} s ({walls[1] / runs:.2f} s per run)   "
          f"2 workers: {walls[2]:7.1f} s ({walls[2] / runs:.2f} s per run)   "
          f"speed-up {walls[1] / walls[2]:.2f}x")
    print(f"  cores kept busy (whole machine, /proc/stat): {cores[1]:.2f} with 1 worker, "
          f"{cores[2]:.2f} with 2 of {os.cpu_count()}")
    print(f"  {'exercise':18} {'batch run':>9} {'bare full':>9} {'bare stub':>9} {'ratio':>6}")
    ratios = []
    for ex_id in ids:
        full = bare(ex_id, subs / "full00" / "exercises", env)
        stub = bare(ex_id, subs / "stub00" / "exercises", env)
        mine = statistics.mean(per.get(ex_id, [float("nan")]))
        ratio = mine / ((full + stub) / 2)
        ratios.append(ratio)
        print(f"  {ex_id:18} {mine:9.2f} {full:9.2f} {stub:9.2f} {ratio:6.2f}")
    print(f"  verdicts identical across the 1- and 2-worker batches: {'yes' if same else 'NO'}")
    for line in verdicts:
        print(f"    graded differently: {line}")
    if texts:  # e.g. how many bytes a stub's server had read when it was stopped
        print(f"  feedback text alone differed in {len(texts)} checks: {', '.join(texts[:6])}")
    full_share = walls[2] / 2  # the full half of the submissions, roughly
    class_minutes = full_share / copies * 200 / 60
    print(f"  a class of 200 full submissions, these exercises, 2 workers: ~{class_minutes:.0f} min")
    return {"speedup": walls[1] / walls[2], "ratio": statistics.median(ratios), "same": same}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=4, help="full and stub submissions each")
    parser.add_argument("--exercises", nargs="*")
    parser.add_argument("--enforce", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    course = course_mod.load(ROOT)
    env = {k: v for k, v in os.environ.items() if not k.startswith("NETLAB_")}
    groups = ({"chosen": args.exercises} if args.exercises else
              {"network": [i for i in course.exercises if i in NETWORK],
               "course": list(course.exercises)})
    missed = []
    with tempfile.TemporaryDirectory(prefix="netlab-bench-") as tmp:
        for name, ids in groups.items():
            got = measure(name, course, ids, args.copies, Path(tmp), env)
            if not got["same"]:
                missed.append(f"{name}: a submission was graded differently across batches")
            if got["ratio"] > 1.0:
                missed.append(f"{name}: a batch run costs {got['ratio']:.2f}x the bare pytest run")
            if name == "network" and got["speedup"] < 1.6:
                missed.append(f"network: second worker {got['speedup']:.2f}x")
    for m in missed:
        print(f"target missed: {m}")
    return 1 if missed and args.enforce else 0


if __name__ == "__main__":
    raise SystemExit(main())
