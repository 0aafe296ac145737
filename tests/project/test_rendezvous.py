"""The rendezvous service: what concurrency suites prove with (barriers, gates, the "inside
now" gauge), reached by student threads and processes from inside their jail."""
import json
import socket
import textwrap

import pytest

from grader.harness import Student, hang
from grader.harness.sandbox import Sandbox

JOBS = '''
import netlab_rv

def meet(parties):
    with netlab_rv.inside("work"):
        return netlab_rv.barrier("all", parties, timeout=PATIENCE)

def after_gate(_):
    with netlab_rv.inside("waiting"):
        opened = netlab_rv.wait_gate("go", timeout=60)
    netlab_rv.log("started", opened=opened)
    return netlab_rv.add("started")
'''

WORK = '''
import multiprocessing, threading

def threads(job, n):
    out = [None] * n
    def run(i):
        out[i] = job(n)
    ts = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in ts: t.start()
    for t in ts: t.join()
    return out

def processes(job, n):
    with multiprocessing.Pool(n) as pool:
        return pool.map(job, [n] * n)

def serial(job, n):
    return [job(n) for _ in range(n)]
'''


@pytest.fixture
def student(tmp_path):
    target = tmp_path / "target"
    target.mkdir()
    (target / "work.py").write_text(textwrap.dedent(WORK))
    hang.reset()
    s = Student(Sandbox(target=target, wall_seconds=60))
    yield s
    s.sandbox.cleanup()
    s.close()
    hang.reset()


def test_a_barrier_of_threads_is_reached_in_one_process(student):
    rv = student.rendezvous()
    rv.install("jobs.py", JOBS.replace("PATIENCE", "60"))
    got = student.module("work", timeout=60).call("threads", student.callable("jobs:meet"), 4)
    assert got == [True] * 4
    assert rv.max_inside("work") == 4 and rv.now_inside("work") == 0
    assert len(rv.pids("work")) == 1 and len(rv.threads("work")) == 4


def test_a_barrier_of_processes_sees_distinct_pids(student):
    rv = student.rendezvous()
    rv.install("jobs.py", JOBS.replace("PATIENCE", "60"))
    got = student.module("work", timeout=60).call("processes", student.callable("jobs:meet"), 3)
    assert got == [True] * 3
    assert len(rv.pids("work")) == 3 and rv.max_inside("work") == 3


def test_serial_work_never_reaches_the_barrier(student):
    rv = student.rendezvous()
    rv.install("jobs.py", JOBS.replace("PATIENCE", "0.2"))
    got = student.module("work", timeout=60).call("serial", student.callable("jobs:meet"), 3)
    assert got == [False, False, True]  # the third arrival completes it, alone
    assert rv.max_inside("work") == 1


def test_nobody_passes_a_gate_before_the_test_opens_it(student):
    rv = student.rendezvous()
    rv.install("jobs.py", JOBS)
    call = student.module("work", timeout=60).start("threads", student.callable("jobs:after_gate"), 5)
    assert rv.wait_for(lambda r: r.now_inside("waiting") == 5, timeout=60)
    assert rv.log_of("started") == [] and not call.done()
    rv.open_gate("go")
    assert sorted(call.result(60)) == [1, 2, 3, 4, 5]
    assert [e["data"]["opened"] for e in rv.log_of("started")] == [True] * 5


def test_wait_for_sees_what_the_service_never_hears_of(student):
    """A predicate that also asks whether the student's call ended is true as soon as it ends:
    wait_for does not sit out its timeout for want of a notification."""
    import time
    rv = student.rendezvous()
    rv.install("jobs.py", JOBS.replace("PATIENCE", "0.2"))
    call = student.module("work", timeout=60).start("serial", student.callable("jobs:meet"), 3)
    started = time.monotonic()
    assert rv.wait_for(lambda r: r.now_inside("work") == 3 or call.done(), timeout=120)
    assert time.monotonic() - started < 60 and call.result(5) == [False, False, True]


def test_bad_requests_are_refused_and_the_service_ends_with_the_check(student):
    rv = student.rendezvous()
    for line in (b"not json\n", b'{"op": "explode"}\n', b'{"op": "barrier"}\n'):
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(str(rv.path))
            s.sendall(line)
            assert "error" in json.loads(s.makefile().readline())
    assert len(rv.errors) == 3
    rv.close()
    assert not rv.path.exists()
