"""grader/harness/threadstates.py: the judge tells a program whose threads all sleep (blocked in
a queue's get(), on a lock, reading a pipe) from one that polls, by reading /proc from outside."""
import subprocess
import sys
import textwrap

import pytest

from grader.harness.threadstates import running, thread_states, wait_asleep

SLEEPER = textwrap.dedent("""
    import queue, sys, threading
    q = queue.Queue()
    for _ in range(3):
        threading.Thread(target=q.get, daemon=True).start()
    print("ready", flush=True)
    sys.stdin.read()
""")

SPINNER = textwrap.dedent("""
    import sys, threading
    items = []
    def poll():
        while not items:
            pass
    threading.Thread(target=poll, daemon=True).start()
    print("ready", flush=True)
    sys.stdin.read()
""")


@pytest.fixture
def program():
    procs = []

    def start(source):
        proc = subprocess.Popen([sys.executable, "-c", source], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True)
        procs.append(proc)
        assert proc.stdout.readline() == "ready\n"
        return proc

    yield start
    for proc in procs:
        proc.kill()
        proc.wait()


def test_threads_blocked_in_get_are_all_asleep(program):
    proc = program(SLEEPER)
    assert len(thread_states(proc.pid)) == 4
    assert wait_asleep(proc.pid, timeout=30) is None  # ends as soon as it is true
    assert running(proc.pid) == {}


def test_a_polling_thread_is_never_asleep(program):
    proc = program(SPINNER)
    busy = wait_asleep(proc.pid, timeout=1.0)
    assert busy and set(busy.values()) <= {"R", "D"}


POLLERS = textwrap.dedent("""
    import sys, threading
    sys.setswitchinterval(1e-5)  # the GIL changes hands all the time: the race, made likely
    items = []
    def poll():
        while not items:
            pass
    for _ in range(3):
        threading.Thread(target=poll, daemon=True).start()
    print("ready", flush=True)
    sys.stdin.read()
""")

BURN = "import time\nend = time.monotonic() + 60\nwhile time.monotonic() < end: pass\n"


def test_pollers_passing_the_gil_on_busy_cores_are_never_asleep(program):
    """Three polling threads hand the GIL to each other (who waits for it sleeps on a futex),
    here every 10 microseconds, on cores other programs keep busy: a look often finds each
    thread asleep at the moment it was read. CPU time during the quiet wait tells them from
    sleepers all the same."""
    burners = [subprocess.Popen([sys.executable, "-c", BURN]) for _ in range(2)]
    try:
        pollers = program(POLLERS)
        sleeper = program(SLEEPER)
        for _ in range(10):
            assert wait_asleep(pollers.pid, timeout=0.5), "polling threads were taken for asleep"
        assert wait_asleep(sleeper.pid, timeout=30) is None
    finally:
        for b in burners:
            b.kill()
            b.wait()


def test_a_process_that_is_gone_has_no_threads(program):
    proc = program(SLEEPER)
    proc.kill()
    proc.wait()
    assert thread_states(proc.pid) == {} and wait_asleep(proc.pid, timeout=1) is None
