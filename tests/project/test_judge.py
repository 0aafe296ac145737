"""The judge and the trust boundary: results only through the private pipe, zero for what a
dead or hung judge did not report, the per-check watchdog, and no process left behind."""
import json

import pytest

from conftest import grader
from grader import course as course_mod
from grader.harness import isolation
from grader.judge import run_judge

FORGED = {"event": "result", "id": "tests/forge/test_forge.py::test_cannot_be_faked",
          "name": "test_cannot_be_faked", "title": "x", "exercise": "forge",
          "visibility": "visible", "status": "passed", "score": 5, "max_score": 5, "output": ""}

FORGER = """
import json, os, sys
line = (json.dumps(%r) + "\\n").encode()
hits = []
for fd in range(3, 1024):             # any inherited descriptor
    try:
        os.write(fd, line)
        hits.append(fd)
    except OSError:
        pass
sys.stdout.buffer.write(line)           # stdout and stderr are the student's own
sys.stderr.buffer.write(line)
open("results.json", "wb").write(line)  # and so is the working copy
if os.environ.get("FORGE_PROC"):
    ppid = os.getppid()
    try:
        fds = os.listdir(f"/proc/{ppid}/fd")
    except OSError:
        fds = []
    for fd in fds:
        try:
            with open(f"/proc/{ppid}/fd/{fd}", "wb") as f:
                f.write(line)
            hits.append("proc" + fd)
        except OSError:
            pass
print("wrote to", hits, flush=True)
""" % FORGED

SUITE = """
import os
from grader.harness import CheckFailed, check

@check(points=5)
def test_cannot_be_faked(student):
    \"\"\"a check the student cannot pass\"\"\"
    result = student.run("forge.py", timeout=5, env={"FORGE_PROC": os.environ.get("FORGE_PROC", "")})
    raise CheckFailed("this check always fails; the student tried: " + result.stdout.decode())
"""


def forge_course(course_dir):
    course_dir.exercise("forge", stub={"forge.py": FORGER}, solution={"forge.py": FORGER},
                        suite=SUITE, points=5)
    return course_mod.load(course_dir.root)


def test_inherited_fds_stdout_and_files_cannot_forge_a_result(course_dir):
    course = forge_course(course_dir)
    result = run_judge(course, course.get("forge"), course.root / "exercises")
    [test] = result.tests
    assert test["status"] == "failed" and test["score"] == 0
    assert "wrote to []" in test["output"]  # no descriptor of the judge reached the student
    assert result.score == 0 and not result.problem


def test_judge_proc_fds_are_out_of_reach(course_dir, monkeypatch):
    plan = isolation.plan()
    if not plan.isolated:
        pytest.skip(plan.describe())
    monkeypatch.setenv("FORGE_PROC", "1")
    course = forge_course(course_dir)
    result = run_judge(course, course.get("forge"), course.root / "exercises")
    [test] = result.tests
    assert test["score"] == 0 and "wrote to []" in test["output"], test["output"]


DYING = """
import os
from grader.harness import check

@check(points=1)
def test_first(student):
    \"\"\"passes\"\"\"

@check(points=2)
def test_kills_the_judge(student):
    \"\"\"the judge dies here\"\"\"
    os._exit(3)

@check(points=4)
def test_never_runs(student):
    \"\"\"never reached\"\"\"
"""


def test_a_judge_that_dies_scores_zero_for_what_it_did_not_report(course_dir):
    course_dir.exercise("dies", stub={"a.py": ""}, solution={"a.py": ""}, suite=DYING, points=7)
    course = course_mod.load(course_dir.root)
    result = run_judge(course, course.get("dies"), course.root / "solutions")
    scores = {t["name"]: (t["status"], t["score"]) for t in result.tests}
    assert scores == {"test_first": ("passed", 1), "test_kills_the_judge": ("failed", 0),
                      "test_never_runs": ("failed", 0)}
    assert "ended early" in result.problem


HANGING = """
import threading
from grader.harness import check

@check(points=1)
def test_hangs_in_the_judge(student):
    \"\"\"a suite bug: waits forever\"\"\"
    threading.Event().wait()
"""


def test_a_hung_judge_is_killed_at_its_deadline(course_dir):
    course_dir.exercise("hangs", stub={"a.py": ""}, solution={"a.py": ""}, suite=HANGING,
                        points=1, time_limit=0.5)
    course = course_mod.load(course_dir.root)
    result = run_judge(course, course.get("hangs"), course.root / "solutions", margin=1.0)
    [test] = result.tests
    assert test["score"] == 0 and "no result" in test["output"]
    assert "time limit" in result.problem


STUCK_SERVER = """
import argparse, socket, threading
p = argparse.ArgumentParser(); p.add_argument("--host"); p.add_argument("--port", type=int)
a = p.parse_args()
s = socket.socket(); s.bind((a.host, a.port)); s.listen()
lock = threading.Lock()
def serve():
    c, _ = s.accept()
    with lock:
        with lock:   # a deadlock: never answers
            c.sendall(b"never")
serve()
"""

WATCHED = """
from grader.harness import Peer, check

@check(points=1, time_limit=1)
def test_waits_on_a_stuck_server(student):
    \"\"\"the watchdog ends it\"\"\"
    server = student.server("server.py")
    with Peer.connect(server.addr) as peer:
        peer.send(b"hello")
        peer.expect(b"hello", "an answer", timeout=30)
"""


def test_watchdog_stops_a_stuck_check_and_shows_the_stacks(course_dir):
    course_dir.exercise("stuck", stub={"server.py": STUCK_SERVER}, solution={"server.py": STUCK_SERVER},
                        suite=WATCHED, points=1)
    run = grader("check", "stuck", "--target", "solutions", "--json", cwd=course_dir.root, timeout=60)
    data = json.loads(run.stdout)
    [test] = data["tests"]
    assert test["score"] == 0
    assert "ran past its 1 s time limit" in test["output"]
    # faulthandler's dump, the student's own frames only, labelled for a student
    assert "your server.py was here when it was stopped" in test["output"]
    assert "in serve" in test["output"]
