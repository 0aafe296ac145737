"""lockwatch: telling "every other process is blocked" from "still on its way" by /proc, and
StudentProcess.collect_stacks(pid=...) for a process the student's program forked."""
import textwrap
import time

import pytest

from grader.harness import Student, hang, lockwatch
from grader.harness.sandbox import Sandbox

WORK = '''
import multiprocessing, os, time

def blocked(n):
    """n children blocked on a lock the parent holds until its stdin says so."""
    lock = multiprocessing.Lock()
    lock.acquire()
    kids = [multiprocessing.Process(target=_take, args=(lock,)) for _ in range(n)]
    for k in kids:
        k.start()
    import netlab_gate
    netlab_gate.wait()
    lock.release()
    for k in kids:
        k.join()
    return n

def _take(lock):
    with lock:
        pass

def spinning(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass
    return True
'''

GATE = '''
import os
def wait():
    while not os.path.exists("go"):
        os.read(os.open("fifo", os.O_RDONLY), 1)
'''


@pytest.fixture
def student(tmp_path):
    target = tmp_path / "target"
    target.mkdir()
    (target / "work.py").write_text(textwrap.dedent(WORK))
    (target / "netlab_gate.py").write_text(textwrap.dedent(GATE))
    hang.reset()
    s = Student(Sandbox(target=target, wall_seconds=60))
    yield s
    s.sandbox.cleanup()
    s.close()


def settle_for(watch, pid, seconds, skip=()):
    """Look until the tree has been asleep for `seconds` (or 30 s of looking)."""
    import time
    end = time.monotonic() + 30
    while time.monotonic() < end:
        if watch.look(hang.tree(pid), skip=skip) >= seconds:
            return True
        time.sleep(0.02)  # the look interval: what is observed is /proc, not the clock
    return False


def test_processes_blocked_on_a_lock_are_asleep_and_described(student):
    import os
    os.mkfifo(student.workdir / "fifo")
    os.chmod(student.workdir / "fifo", 0o666)
    mod = student.module("work", timeout=60)
    call = mod.start("blocked", 3)
    watch = lockwatch.Settle()
    assert settle_for(watch, mod.proc.pid, 0.3)
    kids = [p for p in hang.tree(mod.proc.pid) if p != mod.proc.pid]
    assert len(kids) == 3
    assert all(str(lockwatch.describe(k)).startswith("waiting for a lock") for k in kids)
    assert all("futex" in lockwatch.waiting_for(k) for k in kids)
    # a child's stack, through the parent's stderr: it is at `with lock:`
    mod.proc.collect_stacks(pid=kids[0])
    assert 'in _take' in mod.proc.stacks()
    (student.workdir / "go").write_text("")
    with open(student.workdir / "fifo", "wb") as f:
        f.write(b"x")
    assert call.result(30) == 3


def test_a_running_process_is_never_asleep(student):
    mod = student.module("work", timeout=60)
    call = mod.start("spinning", 3.0)
    # start() returns once the call is sent: under load the process may not have woken to
    # run it yet, and then it truly is asleep. Look once it has begun to spin.
    deadline = time.monotonic() + 20
    while not any(t.state == "R" for pid in hang.tree(mod.proc.pid) for t in lockwatch.tasks(pid)):
        assert time.monotonic() < deadline, "the spinning call never ran"
        time.sleep(0.001)
    watch = lockwatch.Settle()
    for _ in range(5):
        assert watch.look(hang.tree(mod.proc.pid)) == 0.0
    assert call.result(30) is True


def test_skipped_processes_do_not_count(student):
    mod = student.module("work", timeout=60)
    call = mod.start("spinning", 1.0)
    watch = lockwatch.Settle()
    inner = lockwatch.inner_pid(mod.proc.pid)
    assert settle_for(watch, mod.proc.pid, 0.05, skip={inner})
    assert call.result(30) is True
