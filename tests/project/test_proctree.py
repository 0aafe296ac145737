"""grader/harness/proctree.py: zombies, pids across the PID namespace, and idleness, read from
/proc about real student processes."""
import textwrap

import pytest

from grader.harness import Student, hang, proctree
from grader.harness.sandbox import Sandbox

KIDS = '''
import os, signal, time

kids = []

def fork_and_forget(n):
    for _ in range(n):
        pid = os.fork()
        if pid == 0:
            os._exit(3)
        kids.append(pid)
    return kids

def reap():
    return [os.waitstatus_to_exitcode(os.waitpid(p, 0)[1]) for p in kids]

def spin(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass
'''


@pytest.fixture
def student(tmp_path):
    target = tmp_path / "target"
    target.mkdir()
    (target / "kids.py").write_text(textwrap.dedent(KIDS))
    hang.reset()
    s = Student(Sandbox(target=target, wall_seconds=60))
    yield s
    s.sandbox.cleanup()
    s.close()


def test_children_that_ended_unreaped_are_zombies_until_reaped(student):
    mod = student.module("kids", timeout=30)
    pids = mod.call("fork_and_forget", 3)
    assert proctree.wait_until(lambda: len(proctree.zombies(mod.proc)) == 3, mod.proc) == "ok"
    tree = proctree.members(mod.proc)
    assert set(pids) <= set(tree) and all(tree[p].state == "Z" for p in pids)
    assert proctree.nspid(mod.proc.pid) in tree
    assert mod.call("reap") == [3, 3, 3]
    assert proctree.zombies(mod.proc) == [] and proctree.children(mod.proc) == {}


def test_a_waiting_tree_is_idle_and_a_spinning_one_is_not(student):
    mod = student.module("kids", timeout=30)
    assert proctree.wait_until(lambda: False, mod.proc, window=0.3, timeout=20) == "idle"
    pending = mod.start("spin", 3)
    assert proctree.wait_until(lambda: False, mod.proc, window=0.5, timeout=1.5) == "timeout"
    pending.result(30)
