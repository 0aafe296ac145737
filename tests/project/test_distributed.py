"""`grader batch ... --scheduler`: the same batch, its runs on a dask.distributed cluster
(grader/batch/distributed.py). A LocalCluster of 2 worker processes on loopback grades the
synthetic class (tcp_echo) as a local batch does: same verdicts, byte-identical outputs, and
an interrupted cluster batch resumes from the same gradebook (a local batch reads it too).
`dask scheduler` / `dask worker` with the README's TLS certificates grade a student over tls://.
What a worker does with a run (files verified, sandbox required) is tested in-process too."""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO, unusable_by

distributed = pytest.importorskip(
    "distributed", reason="dask.distributed is not installed: pip install -e '.[test]' (or "
                          "'netlab-grader[distributed]') to test `grader batch --scheduler`")

from grader import course as course_mod  # noqa: E402
from grader.batch import digest, distributed as remote  # noqa: E402
from grader.harness import isolation  # noqa: E402

_spec = importlib.util.spec_from_file_location("batch_examples", REPO / "examples/build.py")
examples = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(examples)

COURSE = course_mod.load(REPO)
STUDENTS = ("alice", "carol", "dave", "zhangwei", "lilei")   # outputs byte-identical run to run
TRUST = [] if os.geteuid() == 0 else ["--trust-submission"]


@pytest.fixture(autouse=True)
def english(monkeypatch):
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NETLAB_LANG", "en")


@pytest.fixture(scope="module")
def cluster():
    """Two worker processes of one thread each, on loopback; judges cold (NETLAB_WARM=0 from
    conftest: a warm judge would outlive the test)."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as c:
        yield c.scheduler_address


def grader(*args, env=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})


def batch(subs: Path, out: Path, *extra: str, scheduler: str | None = None):
    where = ["--scheduler", scheduler] if scheduler else ["--workers", "2"]
    return grader("batch", str(subs), "--out", str(out), "--exercises", "tcp_echo", *where, *TRUST, *extra)


def outputs(out: Path) -> dict[str, bytes]:
    files = [out / "grades.csv", *sorted((out / "feedback").iterdir()), *sorted((out / "results").iterdir())]
    return {str(p.relative_to(out)): p.read_bytes() for p in files}


def verdicts(out: Path) -> dict:
    got = {}
    for path in (out / "results").iterdir():
        record = json.loads(path.read_text())
        for ex_id, ex in record["exercises"].items():
            got[(record["student"], ex_id)] = (ex.get("status"), ex.get("score"), sorted(
                (t["name"], t["status"], t["score"]) for t in ex.get("tests", [])))
    return got


def finished(out: Path) -> dict:
    """(student, exercise) -> finished, of the runs stored so far; none while the batch has
    made the gradebook's file but not yet its tables."""
    import sqlite3
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        try:
            rows = db.execute("SELECT student, exercise, finished FROM runs").fetchall()
        except sqlite3.OperationalError as exc:
            if "no such table" not in str(exc):
                raise
            return {}
        return {(s, e): f for s, e, f in rows}


def test_a_cluster_batch_grades_as_a_local_batch_and_resumes(tmp_path, cluster):
    subs = examples.build(tmp_path / "subs", STUDENTS)
    local, spread = tmp_path / "local", tmp_path / "spread"
    proc = batch(subs, local)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = batch(subs, spread, scheduler=cluster)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "graded 5 students (5 runs now, 0 from the gradebook)" in proc.stdout
    assert verdicts(spread) == verdicts(local) and len(verdicts(local)) == 5
    assert outputs(spread) == outputs(local)      # grades.csv, feedback/, results/: every byte
    assert (spread / "grades.csv").read_bytes() == (local / "grades.csv").read_bytes()
    # one gradebook, whoever filled it: a local batch over the cluster's reuses every run
    again = batch(subs, spread)
    assert again.returncode == 0 and "0 runs now, 5 from the gradebook" in again.stdout

    # interrupted once its first result is committed, then resumed on the cluster
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "grader", "batch", str(subs), "--out", str(out),
                             "--exercises", "tcp_echo", "--scheduler", cluster, *TRUST], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = proc.stdout.readline()
    proc.send_signal(signal.SIGINT)
    rest, err = proc.communicate(timeout=120)
    assert first.startswith("[1/5]"), first + rest + err
    assert proc.returncode == 130 and "run the same command again to resume" in err, rest + err
    kept = finished(out)
    assert 1 <= len(kept) < 5 and not (out / "grades.csv").exists()
    resumed = batch(subs, out, scheduler=cluster)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert f"{5 - len(kept)} runs now, {len(kept)} from the gradebook" in resumed.stdout
    assert all(finished(out)[k] == v for k, v in kept.items())
    assert outputs(out) == outputs(local)


def test_workers_that_cannot_confine_student_code_make_the_batch_refuse(tmp_path, cluster):
    if TRUST:
        pytest.skip("not root: batches here run with --trust-submission, which skips this check")
    if why := unusable_by(4242):  # the workers fall back to the own-uid-only mode, which needs it
        pytest.skip(why)
    subs = examples.build(tmp_path / "subs", ("carol",))
    weaken = ("import os; from grader.harness import isolation; "
              "os.environ['NETLAB_ISOLATION'] = 'uid'; isolation.probe_mode.cache_clear()")
    restore = ("import os; from grader.harness import isolation; "
               "os.environ.pop('NETLAB_ISOLATION', None); isolation.probe_mode.cache_clear()")
    with distributed.Client(cluster, set_as_default=False) as client:
        client.run(exec, weaken, {})
        try:
            proc = batch(subs, tmp_path / "out", scheduler=cluster)
            zh = batch(subs, tmp_path / "out", "--lang", "zh", scheduler=cluster)
        finally:
            client.run(exec, restore, {})
        assert set(client.run(remote.probe).keys()) == set(client.nthreads())
        assert {p["mode"] for p in client.run(remote.probe).values()} == {"jail+uid"}
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "refused: 2 worker(s) cannot confine student code" in proc.stderr
    assert "isolation mode 'uid'" in proc.stderr and "--trust-submission" in proc.stderr
    assert "无法隔离学生代码" in zh.stderr and zh.returncode == 2
    assert not (tmp_path / "out").exists()


def test_addresses_beyond_loopback_need_tls(tmp_path):
    """Refused before any connection is tried (so no packet leaves the machine here)."""
    subs = examples.build(tmp_path / "subs", ("carol",))
    out = tmp_path / "out"
    proc = batch(subs, out, scheduler="tcp://192.0.2.10:8786")     # TEST-NET-1: never reached
    assert proc.returncode == 2
    assert "not a loopback address" in proc.stderr and "--insecure-scheduler" in proc.stderr
    assert "tls://" in proc.stderr
    zh = batch(subs, out, "--lang", "zh", scheduler="tcp://192.0.2.10:8786")
    assert "不是回环地址" in zh.stderr
    proc = batch(subs, out, scheduler="tls://127.0.0.1:9")
    assert proc.returncode == 2 and "needs --tls-ca-file" in proc.stderr
    proc = batch(subs, out, "--tls-ca-file", "ca.pem", scheduler="tcp://127.0.0.1:9")
    assert proc.returncode == 2 and "are for a tls:// scheduler" in proc.stderr
    proc = batch(subs, out, scheduler="http://127.0.0.1:8786")
    assert proc.returncode == 2 and "tls://HOST:PORT" in proc.stderr
    assert not out.exists()
    assert remote.is_loopback("127.0.0.1") and remote.is_loopback("::1") and remote.is_loopback("localhost")
    assert not remote.is_loopback("10.0.0.1") and not remote.is_loopback("grader.example.edu")


def test_without_dask_the_grader_says_how_to_install_it(tmp_path):
    subs = examples.build(tmp_path / "subs", ("carol",))
    hide = "import sys; sys.modules['distributed'] = None; from grader.cli import main; sys.exit(main())"
    for lang, said in (("en", "pip install 'netlab-grader[distributed]'"), ("zh", "请安装")):
        proc = subprocess.run([sys.executable, "-c", hide, "batch", str(subs), "--out", str(tmp_path / "out"),
                               "--exercises", "tcp_echo", "--scheduler", "tcp://127.0.0.1:9", "--lang", lang],
                              cwd=REPO, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert said in proc.stderr and "netlab-grader[distributed]" in proc.stderr, proc.stderr


# -- what a worker does with one run (in this process) ------------------------------------------

def _run_args(tmp_path, **change):
    ex = COURSE.exercises["tcp_echo"]
    folder = REPO / "solutions" / "tcp_echo"
    files = remote.course_files(COURSE, ["tcp_echo"])
    args = dict(course=files, course_key=remote.files_key(files), ex_id="tcp_echo",
                submission=remote.folder_files(folder), submission_digest=digest.tree_digest(folder),
                suite_digest=digest.suite_digest(COURSE, ex, "en"),
                grader=(digest.grader_version(), digest.grader_source()), untrusted=True, language="en")
    args.update(change)
    return args


def test_a_worker_verifies_what_it_gets_before_anything_runs(tmp_path):
    files = remote.course_files(COURSE, ["tcp_echo"])
    assert "course.yaml" in files and "tests/conftest.py" in files
    assert "tests/tcp_echo/test_tcp_echo.py" in files
    assert not [n for n in files if n.startswith(("solutions/", "exercises/", "tests/udp_echo/"))]

    sub = remote.folder_files(REPO / "solutions" / "tcp_echo")
    tampered = {**sub, "server.py": sub["server.py"] + b"\n# changed on the way\n"}
    record, _ = remote.grade_remote(**_run_args(tmp_path, submission=tampered))
    assert record["status"] == "error" and "submission arrived changed" in record["problem"]
    assert record["score"] == 0 and record["max_score"] == COURSE.exercises["tcp_echo"].points

    record, _ = remote.grade_remote(**_run_args(tmp_path, grader=("0.0.1", "f" * 64), suite_digest="x"))
    assert record["status"] == "error" and "runs another netlab" in record["problem"]
    record, _ = remote.grade_remote(**_run_args(tmp_path, suite_digest="x"))
    assert record["status"] == "error" and "course arrived changed" in record["problem"]
    bad = {**files, "tests/tcp_echo/test_tcp_echo.py": b"# not the suite\n"}
    record, _ = remote.grade_remote(**_run_args(tmp_path, course=bad, course_key=remote.files_key(bad)))
    assert record["status"] == "error" and "course arrived changed" in record["problem"]
    remote._remove_courses()  # a worker that has not written this course yet checks its files
    record, _ = remote.grade_remote(**_run_args(tmp_path, course=bad))
    assert record["status"] == "error" and "do not match their digest" in record["problem"]

    for name in ("../escape.py", "/etc/x", "a/../../b", "a\\b"):
        with pytest.raises(ValueError):
            remote.write_tree(tmp_path / "w", {name: b"x"})
    assert not (tmp_path / "escape.py").exists()


def test_a_worker_that_cannot_confine_refuses_each_run(tmp_path, monkeypatch):
    if os.geteuid() != 0:
        pytest.skip("needs root: only root confines a batch's runs (jail+uid)")
    monkeypatch.setenv("NETLAB_ISOLATION", "uid")
    isolation.probe_mode.cache_clear()
    try:
        record, _ = remote.grade_remote(**_run_args(tmp_path))
    finally:
        monkeypatch.delenv("NETLAB_ISOLATION")
        isolation.probe_mode.cache_clear()
    assert record["status"] == "refused" and "cannot be confined" in record["problem"]
    assert record["score"] == 0 and not record["tests"]


# -- the README's TLS set-up: openssl, `dask scheduler`, `dask worker` --------------------------

def stored(out: Path) -> dict:
    """(student, exercise) -> (status, when it was stored), from the gradebook."""
    import sqlite3
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        return {(s, e): (st, f) for s, e, st, f in
                db.execute("SELECT student, exercise, status, finished FROM runs")}


def _certificates(folder: Path) -> None:
    """The README's openssl commands (section "Grading on several machines")."""
    folder.mkdir()
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    cmds = [["openssl", "req", "-x509", *ec, "-days", "365", "-subj", "/CN=netlab course CA",
             "-keyout", "ca.key", "-out", "ca.pem"]]
    for role in ("scheduler", "worker", "client"):
        cmds += [["openssl", "req", *ec, "-subj", f"/CN=netlab-{role}", "-keyout", f"{role}.key",
                  "-out", f"{role}.csr"],
                 ["openssl", "x509", "-req", "-in", f"{role}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                  "-CAcreateserial", "-days", "365", "-out", f"{role}.pem"]]
    for cmd in cmds:
        subprocess.run(cmd, cwd=folder, check=True, capture_output=True, timeout=60)


def _stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)      # our own session: the nanny and its worker
        proc.wait(timeout=60)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)


def _scheduler_address(info: Path, scheduler: subprocess.Popen) -> str:
    """The address a `dask scheduler --scheduler-file` wrote. The file exists before its text
    does (it is created, then written), so wait until it parses, not until it appears."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert scheduler.poll() is None, f"the scheduler exited with {scheduler.returncode}"
        try:
            return json.loads(info.read_text())["address"]
        except (FileNotFoundError, ValueError, KeyError):
            time.sleep(0.1)
    raise AssertionError(f"the scheduler wrote no address to {info} in 120 s")


def test_dask_scheduler_and_worker_over_tls(tmp_path):
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed")
    certs = tmp_path / "tls"
    _certificates(certs)
    dask = str(Path(sys.executable).parent / "dask")
    info = tmp_path / "scheduler.json"
    tls = lambda role: ["--tls-ca-file", str(certs / "ca.pem"), "--tls-cert", str(certs / f"{role}.pem"),
                        "--tls-key", str(certs / f"{role}.key")]
    procs = [subprocess.Popen([dask, "scheduler", "--protocol", "tls", "--host", "127.0.0.1", "--port", "0",
                               "--no-dashboard", "--scheduler-file", str(info), *tls("scheduler")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)]
    try:
        address = _scheduler_address(info, procs[0])
        assert address.startswith("tls://127.0.0.1:")
        procs.append(subprocess.Popen([dask, "worker", address, "--nworkers", "1", "--nthreads", "2",
                                       "--host", "127.0.0.1", "--no-dashboard", *tls("worker")],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                      start_new_session=True))
        subs = examples.build(tmp_path / "subs", ("alice", "carol"))
        out = tmp_path / "out"
        proc = batch(subs, out, *tls("client"), scheduler=address)   # waits for the worker
        assert proc.returncode == 0, proc.stdout + proc.stderr
        rows = (out / "grades.csv").read_text(encoding="utf-8-sig").splitlines()
        assert rows[1:] == ["alice,,13,13,13,ok", "carol,,0,0,13,tcp_echo: invalid"]
        # a client whose certificate the course's CA did not sign is turned away
        stranger = tmp_path / "stranger"
        _certificates(stranger)
        proc = batch(subs, tmp_path / "out2", "--tls-ca-file", str(certs / "ca.pem"),
                     "--tls-cert", str(stranger / "client.pem"), "--tls-key", str(stranger / "client.key"),
                     scheduler=address)
        assert proc.returncode == 2 and "could not reach the scheduler" in proc.stderr, proc.stderr
        assert not (tmp_path / "out2").exists()
    finally:
        for p in reversed(procs):
            _stop(p)


def test_a_killed_workers_copies_are_swept_by_the_next(tmp_path):
    """A worker killed with SIGKILL runs no atexit and no teardown: its course copy and run
    folder stay in /tmp. The next worker to write a course copy removes them, and only them."""
    script = ("import tempfile, sys\n"
              "from grader.batch import distributed as d\n"
              "for kind in ('course', 'run'):\n"
              "    print(tempfile.mkdtemp(prefix=d._our_prefix(kind)))\n"
              "sys.stdout.flush()\n"
              "sys.stdin.read()\n")
    victim = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              env={**os.environ, "TMPDIR": str(tmp_path)})
    left = [Path(victim.stdout.readline().strip()) for _ in range(2)]
    assert all(p.is_dir() and p.parent == tmp_path for p in left), left
    (left[0] / "tests").mkdir()
    (left[0] / "tests" / "hidden.py").write_text("# the course, hidden checks included\n")
    assert remote.sweep_stale(tmp_path) == []  # its worker still runs: nothing is touched
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    victim.stdin.close()
    victim.stdout.close()
    ours = Path(__import__("tempfile").mkdtemp(prefix=remote._our_prefix("course"), dir=tmp_path))
    other = tmp_path / "netlab-course-notours"
    other.mkdir()
    assert sorted(remote.sweep_stale(tmp_path)) == sorted(left)
    assert not any(p.exists() for p in left)
    assert ours.is_dir() and other.is_dir()  # a live worker's copy, and what is not a worker's


def test_a_batch_whose_scheduler_dies_ends_and_resumes(tmp_path):
    """The scheduler is killed mid-batch: the batch does not hang; it ends (exit 1) with the
    runs the cluster lost marked as such, keeps what finished, and the next batch (here a
    local one) redoes only the lost runs, to the outputs of a batch never interrupted."""
    dask = str(Path(sys.executable).parent / "dask")
    info = tmp_path / "scheduler.json"
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", "0",
                               "--no-dashboard", "--scheduler-file", str(info)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)]
    try:
        address = _scheduler_address(info, procs[0])
        procs.append(subprocess.Popen([dask, "worker", address, "--nworkers", "1", "--nthreads", "1",
                                       "--host", "127.0.0.1", "--no-dashboard"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                      start_new_session=True))
        subs = examples.build(tmp_path / "subs", ("alice", "carol", "dave", "eve"))
        out = tmp_path / "out"
        run = subprocess.Popen([sys.executable, "-m", "grader", "batch", str(subs), "--out", str(out),
                                "--exercises", "tcp_echo", "--scheduler", address, *TRUST], cwd=REPO,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and run.poll() is None:  # until one run is stored
            if (out / "gradebook.sqlite").exists() and any(finished(out).values()):
                break
            time.sleep(0.1)
        assert run.poll() is None, "the batch ended before the scheduler could be killed"
        os.killpg(procs[0].pid, signal.SIGKILL)
        stdout, stderr = run.communicate(timeout=180)   # it ends: no run waits forever
        assert run.returncode == 1, stdout + stderr
        assert "the cluster lost this run" in stdout + stderr + "".join(
            p.read_text() for p in (out / "results").glob("*.json"))
        kept = {k: f for k, (status, f) in stored(out).items() if status != "error"}
        lost = {k for k, (status, f) in stored(out).items() if status == "error"}
        assert kept and lost, stored(out)
    finally:
        for p in reversed(procs):
            _stop(p)
    assert batch(subs, out).returncode == 0          # resumed locally: only the lost runs
    after = stored(out)
    assert all(after[k][1] == f for k, f in kept.items())   # kept as they were, not redone
    assert all(after[k][0] != "error" for k in lost)
    whole = tmp_path / "whole"
    assert batch(subs, whole).returncode == 0
    assert verdicts(out) == verdicts(whole)
