"""Submissions that try to win without solving the task, graded two at a time beside an honest
one, as a batch would grade them: each ends with nothing (tcp_echo's client and server both
misbehave, so zero is what each honestly earned), the honest one keeps its full marks, and no
process of any of them survives its judge.
"""
from __future__ import annotations

import os
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from conftest import processes_of

from grader import course as course_mod
from grader.judge import run_judge

MAIN = Path(__file__).resolve().parents[2]

# tcp_echo's contract in two checks with short limits: each attack costs seconds, not minutes
SUITE = """
import socket
from grader.harness import Peer, accept, check, listener, say

@check(points=1, time_limit=4, title=say("echoes a line", "回显一行"))
def test_server_echoes(student):
    server = student.server("server.py", ready_timeout=3)
    with Peer.connect(server.addr) as peer:
        peer.send(b"hi\\n")
        peer.expect(b"hi\\n", "the echo", sent=b"hi\\n", timeout=2)

@check(points=1, time_limit=4, title=say("client sends and prints", "客户端发送并打印"))
def test_client_echoes(student):
    lst = listener()
    host, port = lst.getsockname()[:2]
    proc = student.spawn("client.py", "--host", host, "--port", str(port))
    proc.write(b"hi\\n")
    proc.close_stdin()
    peer = accept(lst, 3, "client.py", proc)
    with peer:
        peer.expect(b"hi\\n", "what the client sent", timeout=2)
        peer.send(b"hi\\n")
        assert proc.read_line(2) == b"hi\\n", "the client should print the echo"
"""

ATTACKS = {
    "exit_at_import": "import os\nos._exit(0)\n",
    "sys_exit_zero": "raise SystemExit(0)\n",
    "ignores_every_signal_and_spins": """
        import signal
        for sig in (signal.SIGTERM, signal.SIGALRM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1):
            signal.signal(sig, signal.SIG_IGN)
        while True:
            pass
        """,
    "sleeps_forever": "import time\ntime.sleep(10 ** 6)\n",
    "floods_output": """
        import sys
        chunk = b"x" * (1 << 20)
        for _ in range(1024):          # 1 GiB on stdout, then on stderr
            sys.stdout.buffer.write(chunk)
        for _ in range(1024):
            sys.stderr.buffer.write(chunk)
        """,
    "squats_ports": """
        import socket, time
        held = []
        for port in range(20000, 20400):
            for host in ("127.0.0.1", "0.0.0.0"):
                try:
                    s = socket.socket(); s.bind((host, port)); s.listen(); held.append(s)
                except OSError:
                    pass
        time.sleep(10 ** 6)
        """,
    "leaves_a_daemon": """
        import os, time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                while True:
                    time.sleep(1000)
            os._exit(0)
        """,
    "patches_what_it_can": """
        import builtins, sys
        builtins.print = lambda *a, **k: None
        sys.modules["grader"] = None        # no grader in its view to patch anyway
        try:
            import pytest                     # the judge's pytest is not its pytest
            pytest.main = lambda *a, **k: 0
        except ImportError:
            pass
        class Always:
            def __eq__(self, other): return True
            def __ne__(self, other): return False
        sys.stdout.write(repr(Always()))
        """,
}

# More that a batch must survive (graded in test_a_batch_of_attackers_...: the batch's own process
# tree, the gradebook and the other students are what they go for)
BATCH_ATTACKS = {
    "fork_bomb": """
        import os
        while True:
            try:
                os.fork()
            except OSError:
                pass
        """,
    "kills_everything_it_sees": """
        import os, signal
        for name in os.listdir("/proc"):
            if name.isdigit() and int(name) != os.getpid():
                for sig in (signal.SIGKILL, signal.SIGTERM):
                    try:
                        os.kill(int(name), sig)
                    except OSError:
                        pass
        for pid in (os.getppid(), 1):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        """,
    "fills_the_disk_and_forges_results": """
        import json, os
        forged = json.dumps({"score": 100, "tests": [{"name": "test_server_echoes", "status": "passed"}]})
        for folder in ("/tmp", "/dev/shm", ".", "/root", "/home", "/var/tmp"):
            try:
                for name in ("results.json", "grades.csv", "gradebook.sqlite"):
                    with open(os.path.join(folder, name), "w") as f:
                        f.write(forged)
            except OSError:
                pass
        try:
            with open("filler", "wb") as f:
                while True:
                    f.write(b"\0" * (1 << 20))
        except OSError:
            pass
        """,
}


def _submission(base: Path, name: str, server: str, client: str) -> Path:
    target = base / name
    (target / "duel").mkdir(parents=True)
    (target / "duel" / "server.py").write_text(textwrap.dedent(server))
    (target / "duel" / "client.py").write_text(textwrap.dedent(client))
    return target


def test_adversarial_submissions_earn_nothing_and_leave_nothing(tmp_path, course_dir):
    if os.geteuid() != 0:
        pytest.skip("students get uids of their own only when the grader is root")
    solution = {f: (MAIN / "solutions" / "tcp_echo" / f).read_text() for f in ("server.py", "client.py")}
    course_dir.exercise("duel", stub=solution, solution=solution, suite=SUITE, points=2)
    course = course_mod.load(course_dir.root)
    ex = course.get("duel")
    base = tmp_path / "subs"
    targets = {name: _submission(base, name, code, code) for name, code in ATTACKS.items()}
    honest = _submission(base, "honest", solution["server.py"], solution["client.py"])
    jobs = {**targets, "honest": honest}
    with ThreadPoolExecutor(2) as pool:
        results = dict(zip(jobs, pool.map(
            lambda t: run_judge(course, ex, t, visibility="all", untrusted=True), jobs.values())))
    assert results["honest"].score == ex.points, [t["output"] for t in results["honest"].tests
                                                   if t["status"] != "passed"]
    for name in ATTACKS:
        r = results[name]
        assert r.score == 0, (name, [(t["name"], t["output"]) for t in r.tests if t["score"]])
        assert len(r.tests) == 2 and not r.refused, (name, r.problem)
        assert all(len(t["output"]) < 20_000 for t in r.tests), name  # floods arrive cut
    assert processes_of({1_000_000 + r.judge_pid for r in results.values()}) == []


def test_a_batch_of_attackers_carries_on_and_the_honest_grade_is_unchanged(tmp_path, course_dir):
    """Through `grader batch`: every attack above, two runs at a time, beside two honest
    students; the batch finishes, gives each attacker 0 and each honest student full marks."""
    import csv
    import io
    import subprocess
    import sys
    if os.geteuid() != 0:
        pytest.skip("batches confine each run under a uid of its own only when run as root")
    solution = {f: (MAIN / "solutions" / "tcp_echo" / f).read_text() for f in ("server.py", "client.py")}
    course_dir.exercise("duel", stub=solution, solution=solution, suite=SUITE, points=2)
    subs = tmp_path / "subs"
    for name, code in {**ATTACKS, **BATCH_ATTACKS}.items():
        (subs / name).mkdir(parents=True)
        _submission(subs / name, "exercises", code, code)
    for name in ("honest1", "honest2"):
        _submission(subs / name, "exercises", solution["server.py"], solution["client.py"])
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "grader", "--root", str(course_dir.root), "batch",
                           str(subs), "--out", str(out), "--workers", "2"], capture_output=True,
                          text=True, timeout=600, cwd=MAIN)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    rows = {r["student"]: r for r in csv.DictReader(io.StringIO(
        (out / "grades.csv").read_text(encoding="utf-8-sig")))}
    assert set(rows) == {*ATTACKS, *BATCH_ATTACKS, "honest1", "honest2"}
    for name in ("honest1", "honest2"):
        assert float(rows[name]["total"]) == 2, rows[name]
    for name in {*ATTACKS, *BATCH_ATTACKS}:
        assert float(rows[name]["total"]) == 0, rows[name]
    assert not (MAIN / "results.json").exists() and not (out / "results.json").exists()
