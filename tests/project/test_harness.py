"""The harness: limits enforced, process groups and escaped daemons killed, output bounded,
the call driver, readiness, peers and the lossy UDP path."""
import json
import os
import select
import signal
import socket
import textwrap
import threading
import time
from pathlib import Path

import pytest

from grader.harness import (DOWN, UP, CheckFailed, Ended, LossyPath, Peer, SendFailed, Student,
                            StudentRaised, StudentTimeout, accept, connected_pair, drop, dup,
                            forge, hang, hold, judge_host, listener, show_bytes)
from grader.i18n import using
from grader.harness.net import bound_sockets, free_port, _proc_table
from grader.harness.sandbox import Limits, Sandbox


@pytest.fixture(autouse=True)
def fresh_hang_memory():
    """What the hang detector remembers ("as in an earlier check") is per judge: per test here."""
    hang.reset()
    yield
    hang.reset()


@pytest.fixture
def make_student(tmp_path):
    made = []

    def make(files: dict, **kw) -> Student:
        target = tmp_path / f"target{len(made)}"
        target.mkdir()
        for name, text in files.items():
            (target / name).write_text(textwrap.dedent(text))
        sandbox = Sandbox(target=target, **kw)
        made.append(sandbox)
        return Student(sandbox)

    yield make
    for sandbox in made:
        sandbox.cleanup()


from conftest import alive  # noqa: E402


def test_handed_descriptors_arrive_at_every_number(tmp_path):
    """The fork server places a handed descriptor at the number the judge asks for, whatever
    number its own pipes have (a shard of a judge has few descriptors open: its pipes get the
    low numbers that the fork server's own report pipe has inside)."""
    from grader.harness import isolation, zygote
    from grader.harness.sandbox import _site_paths
    (tmp_path / "say.py").write_text("import os, sys\nos.write(int(sys.argv[1]), b'fd ' + sys.argv[1].encode())\n")
    tmp_path.chmod(0o755)
    (tmp_path / "say.py").chmod(0o644)
    z = zygote.Zygote(_site_paths())
    try:
        for n in range(3, 40):
            in_r, in_w = os.pipe()
            out_r, out_w = os.pipe()
            err_r, err_w = os.pipe()
            r, w = os.pipe()
            pid = z.spawn({"argv": ["say.py", str(n)], "cwd": str(tmp_path), "env": {"PATH": "/usr/bin:/bin"},
                           "rlimits": {}, "ids": None, "socket_timeout": 0,
                           "jail": isolation.for_workdir(tmp_path), "pidns": True,
                           "fds": [0, 1, 2, n]}, [in_r, out_w, err_w, w])
            for fd in (in_r, out_w, err_w, w, in_w):
                os.close(fd)
            assert z.wait_exit(pid, 10) == 0, (n, os.read(err_r, 3000))
            assert os.read(r, 100) == f"fd {n}".encode(), n
            for fd in (out_r, err_r, r):
                os.close(fd)
    finally:
        z.close()


@pytest.mark.parametrize("pidns", [False, True], ids=["plain", "pid-namespace"])
def test_a_judge_gone_before_the_fork_servers_answer_leaves_no_student(tmp_path, pidns):
    """The judge dies (a shard killed with its `grader check`) after asking for a student and
    before the fork server says it started: the fork server's answer then fails, and it must
    still kill what it started, not die of the failure and leave the student to run on (CI saw
    a hanging student outlive a killed check this way). The fork server is stopped while the
    request and the judge's end go, so its answer always finds the judge gone."""
    from grader.harness import isolation, zygote
    from grader.harness.sandbox import _site_paths
    (tmp_path / "hang.py").write_text("import os, sys, time\n"
                                      "os.write(int(sys.argv[1]), b'started')\n"
                                      "while True:\n    time.sleep(60)\n")
    tmp_path.chmod(0o755)
    (tmp_path / "hang.py").chmod(0o644)
    z = zygote.Zygote(_site_paths())
    null = os.open(os.devnull, os.O_RDWR)

    def request(rid: int, w: int) -> tuple:
        return ({"argv": ["hang.py", "3"], "cwd": str(tmp_path), "env": {"PATH": "/usr/bin:/bin"},
                 "rlimits": {}, "ids": None, "socket_timeout": 0, "id": rid,
                 "jail": isolation.for_workdir(tmp_path), "pidns": pidns, "fds": [0, 1, 2, 3]},
                [null, null, null, w])
    pipes = []
    try:
        # the same request, the judge still there: a student starts (so one starts below too)
        r, w = os.pipe()
        pipes.append(r)
        pid = z.spawn(*request(0, w))
        os.close(w)
        assert os.read(r, 32) == b"started"
        os.kill(pid, signal.SIGKILL)
        assert z.wait_exit(pid, 10) is not None
        # the judge goes between the request and the answer
        r, w = os.pipe()
        pipes.append(r)
        os.kill(z.pid, signal.SIGSTOP)
        with z._lock:
            msg, fds = request(99, w)
            socket.send_fds(z.sock, [json.dumps(msg).encode()], fds)
            z.sock.shutdown(socket.SHUT_RDWR)
            z.sock.close()
        os.close(w)
        os.kill(z.pid, signal.SIGCONT)
        assert z.proc.wait(10) is not None
        # the student (if it got as far as saying "started") holds the write end, and nothing
        # else does: its end is our EOF
        deadline = time.monotonic() + 10
        said = b"x"
        while said and select.select([r], [], [], max(0.0, deadline - time.monotonic()))[0]:
            said = os.read(r, 32)
        assert said == b"", "the fork server left its student running"
    finally:
        for fd in (*pipes, null):
            os.close(fd)
        if z.proc.poll() is None:
            z.proc.kill()
            z.proc.wait()


def test_cpu_limit_kills_a_spinning_student(make_student):
    student = make_student({"spin.py": "while True: pass\n"}, limits=Limits(cpu_seconds=1))
    result = student.run("spin.py", timeout=10)
    assert not result.timed_out
    assert result.returncode in (-signal.SIGXCPU, -signal.SIGKILL)


def test_memory_limit_gives_memory_error(make_student):
    student = make_student({"hog.py": "x = bytearray(600 * 1024 * 1024)\nprint('got it')\n"},
                           limits=Limits(memory_mb=256))
    result = student.run("hog.py")
    assert result.returncode == 1 and "MemoryError" in result.stderr
    assert b"got it" not in result.stdout


def test_file_size_and_open_file_limits(make_student):
    student = make_student({"big.py": """
        import os, sys
        try:
            with open("big.bin", "wb") as f:
                f.write(b"x" * (3 * 1024 * 1024))
        except OSError as e:
            print("fsize", e.errno)
        files = []
        try:
            while True:
                files.append(open(os.devnull))
        except OSError as e:
            print("nofile", len(files) < 64)
    """}, limits=Limits(file_size_mb=1, open_files=32))
    result = student.run("big.py")
    assert b"fsize 27" in result.stdout  # EFBIG: SIGXFSZ is ignored by Python
    assert b"nofile True" in result.stdout


def test_wall_clock_limit_stops_a_student_that_ignores_signals(make_student):
    student = make_student({"stubborn.py": """
        import signal, time
        for s in (signal.SIGALRM, signal.SIGTERM, signal.SIGINT):
            signal.signal(s, signal.SIG_IGN)
        print("ready", flush=True)
        while True:
            time.sleep(1)
    """})
    result = student.run("stubborn.py", timeout=0.5)
    assert result.timed_out and result.returncode is None  # killed by the judge, not by a signal it could ignore
    assert result.stdout == b"ready\n"
    assert not student.processes[0].alive()


def test_cleanup_kills_the_group_and_double_forked_daemons(make_student):
    student = make_student({"daemon.py": """
        import os, subprocess, sys, time
        child = subprocess.Popen([sys.executable, "-S", "-c", "import time; time.sleep(60)"])
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                os.setsid()
                print("daemon", os.getpid(), flush=True)
                time.sleep(60)
            os._exit(0)
        print("child", child.pid, flush=True)
        time.sleep(60)
    """})
    proc = student.spawn("daemon.py")
    pids = {}
    for _ in range(2):
        line = proc.read_line(5)
        assert line, proc.stderr_tail()
        kind, pid = line.split()
        pids[kind.decode()] = proc.pid_of(int(pid))  # as the judge sees it
    assert all(p and alive(p) for p in pids.values())
    killed = student.sandbox.cleanup()
    # the daemon escaped its group by setsid: found as an orphan of ours, or, inside the
    # student's PID namespace, killed with it when its init was
    assert killed
    assert not any(alive(p) for p in [proc.pid, *pids.values()])


def test_environment_is_scrubbed(make_student, monkeypatch):
    monkeypatch.setenv("SECRET_TOKEN", "hunter2")
    monkeypatch.setenv("PYTHONPATH", "/somewhere")
    student = make_student({"env.py": "import os, sys\nprint(sorted(os.environ))\nprint(os.getcwd())\n"})
    result = student.run("env.py")
    names, cwd = result.stdout.decode().splitlines()
    assert "SECRET_TOKEN" not in names and "PYTHONPATH" not in names
    assert cwd == str(student.workdir)


def test_flooding_output_is_bounded_and_does_not_block(make_student):
    student = make_student({"flood.py": """
        import sys
        chunk = b"y" * 65536
        for _ in range(800):  # 50 MiB
            sys.stdout.buffer.write(chunk)
        print("done", file=sys.stderr)
    """})
    proc = student.spawn("flood.py", keep_stdout=1 << 20)
    assert proc.wait(20) == 0
    assert len(proc.output()) == 1 << 20
    assert proc.stdout.total == 800 * 65536
    assert "done" in proc.stderr_tail()


def test_output_keeps_its_head_and_exact_tail_and_long_lines_whole(make_student):
    """What tests read (the head), what feedback shows (the tail, byte for byte at any chunk
    size), and a 5 MiB line that arrives in many pieces read back as one line."""
    student = make_student({"out.py": """
        import os, sys
        data = bytes(range(256)) * (5 * 4096)  # 5 MiB
        data = data.replace(b"\\n", b"-")
        sys.stdout.buffer.write(data + b"\\nnext\\n")
        sys.stdout.flush()
        for i in range(3000):
            os.write(2, b"err %d;" % i)
    """})
    proc = student.spawn("out.py", keep_stdout=6 << 20)
    line = proc.read_line(10)
    assert line is not None and len(line) == 5 * (1 << 20) + 1 and line.endswith(b"\n")
    assert b"\n" not in line[:-1]
    assert proc.read_line(5) == b"next\n"
    assert proc.wait(10) == 0
    everything = b"".join(b"err %d;" % i for i in range(3000))
    assert proc.stderr.total == len(everything)
    assert proc.stderr.tail_bytes() == everything[-16384:]


def test_student_traceback_hides_the_launcher(make_student):
    student = make_student({"boom.py": "def f():\n    raise ValueError('bad')\nf()\n"})
    result = student.run("boom.py")
    assert result.returncode == 1
    assert 'File "' in result.stderr and "_launch.py" not in result.stderr
    assert "ValueError: bad" in result.stderr


def test_send_can_be_partial_for_students(make_student):
    """The launcher's default socket timeout is what makes a forgotten sendall visible."""
    student = make_student({"t.py": "import socket\nprint(socket.getdefaulttimeout())\n"})
    assert student.run("t.py").stdout == b"60.0\n"


# -- the call driver --------------------------------------------------------------------------

MODULE = """
import time
def add(a, b):
    return a + b
def rev(data):
    return data[::-1]
def fail():
    raise ConnectionResetError("peer gone")
def hang():
    while True:
        time.sleep(1)
def noisy():
    print('{"ok": true, "value": 42}')
    return 1
def echo_once(sock):
    data = sock.recv(100)
    sock.sendall(data.upper())
    return len(data)
"""


def test_call_driver_returns_values_and_exceptions(make_student):
    student = make_student({"mod.py": MODULE})
    mod = student.module("mod")
    assert mod.call("add", 2, 3) == 5
    assert mod.call("rev", b"\x00abc") == b"cba\x00"
    with pytest.raises(StudentRaised) as info:
        mod.call("fail")
    assert info.value.is_a("ConnectionError") and info.value.type == "ConnectionResetError"
    assert mod.call("noisy") == 1  # what the student prints is not an answer


SIGNALLED = """
import signal, threading, time

def install():
    signal.signal(signal.SIGUSR2, lambda *_: print("handled", flush=True))
    threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
    # the main thread blocks SIGUSR2, so the kernel gives it to the other thread: the main
    # thread's wait for the next request is not interrupted, and only a wake-up fd tells it
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR2})
    return True
"""


def test_call_driver_runs_signal_handlers_while_it_waits(make_student):
    """A Python signal handler runs only in the main thread, between bytecodes. The driver
    waits for the next request there: a signal that does not interrupt that wait (it went to
    another thread, or came just before the wait began) must still get its handler run, as in
    `python script.py`, not only once the next request comes (zombies' SIGCHLD reaper)."""
    student = make_student({"sig.py": SIGNALLED})
    mod = student.module("sig")
    assert mod.call("install") is True
    os.kill(mod.proc.pid, signal.SIGUSR2)
    assert mod.proc.read_line(5) == b"handled\n"


def test_call_driver_timeout_kills_the_child(make_student):
    student = make_student({"mod.py": MODULE})
    mod = student.module("mod")
    with pytest.raises(StudentTimeout):
        mod.call("hang", timeout=0.3)
    assert not mod.proc.alive()


def test_call_driver_over_a_handed_socket(make_student):
    student = make_student({"mod.py": MODULE})
    ours, theirs = connected_pair()
    mod = student.module("mod", sockets=[theirs])
    pending = mod.start("echo_once", mod.sock)
    ours.sendall(b"hi")
    assert pending.result(5) == 2
    ours.settimeout(5)
    assert ours.recv(10) == b"HI"
    ours.close()


def test_import_error_is_reported(make_student):
    student = make_student({"mod.py": "import nonexistent_module_xyz\n"})
    with pytest.raises(CheckFailed) as info:
        student.module("mod").call("f")
    assert "ModuleNotFoundError" in str(info.value)


# -- addresses, readiness, peers ----------------------------------------------------------------

def test_judge_host_is_a_private_loopback_address_per_process():
    host = judge_host()
    assert host.startswith("127.")
    pid = os.getpid()
    assert host == f"127.{1 + ((pid >> 16) & 0x7F)}.{(pid >> 8) & 0xFF}.{pid & 0xFF}"
    port = free_port()
    with socket.socket() as s:
        s.bind((host, port))


def test_netlink_table_agrees_with_proc():
    with socket.socket() as s:
        s.bind((judge_host(), 0))
        s.listen()
        assert sorted(bound_sockets("tcp")) == sorted(_proc_table("tcp"))
        assert s.getsockname() in [(h, p) for h, p, _ in bound_sockets("tcp")]


SERVER = """
import argparse, socket
p = argparse.ArgumentParser(); p.add_argument("--host"); p.add_argument("--port", type=int)
a = p.parse_args()
s = socket.socket(); s.bind(({host}, a.port)); s.listen()
while True:
    c, _ = s.accept()
    with c:
        while data := c.recv(1024):
            c.sendall(str(len(data)).encode() + b",")
"""


def test_server_readiness_and_where_it_is_bound(make_student):
    student = make_student({"server.py": SERVER.format(host="a.host")})
    server = student.server("server.py")
    assert server.alive()
    from grader.harness import bound_by
    assert bound_by(server.proc.pid, "tcp") == [server.addr]


def test_server_that_dies_is_reported_with_its_exit(make_student):
    student = make_student({"server.py": "raise SystemExit(3)\n"})
    with pytest.raises(CheckFailed) as info:
        student.server("server.py")
    assert "exited with code 3" in str(info.value)


def test_server_bound_elsewhere_is_named(make_student):
    student = make_student({"server.py": SERVER.format(host="'127.0.0.1'")})
    with pytest.raises(CheckFailed) as info:
        student.server("server.py", ready_timeout=0.5)
    assert "127.0.0.1:" in str(info.value)


def test_peer_trickle_and_merge_make_sticky_packets(make_student):
    student = make_student({"server.py": SERVER.format(host="a.host")})
    server = student.server("server.py")
    with Peer.connect(server.addr) as peer:
        peer.trickle(b"abc", pause=0.02)
        assert peer.expect(b"1,1,1,", "three separate reads") == b"1,1,1,"
    with Peer.connect(server.addr) as peer:
        peer.merged([b"ab", b"cd", b"ef"])
        assert peer.expect(b"6,", "one read of three frames") == b"6,"


def test_peer_expect_failure_shows_bytes_and_reason(make_student):
    student = make_student({"server.py": SERVER.format(host="a.host")})
    server = student.server("server.py")
    with Peer.connect(server.addr) as peer:
        peer.send(b"xyz")
        with pytest.raises(CheckFailed) as info:
            peer.expect(b"3,\n", "the reply", sent=b"xyz", timeout=0.3)
    text = str(info.value)
    assert "expected: b'3,\\n'" in text and "got:      b'3,'" in text and "within 0.3 s" in text
    assert peer.ended == "timeout" and peer.ended.open


def test_show_bytes_truncates_long_data_with_its_length():
    text = show_bytes(bytes(range(256)) * 10)
    assert "2560 bytes in all" in text and len(text) < 200
    assert show_bytes(b"hi\n") == "b'hi\\n'"


# -- the lossy UDP path ---------------------------------------------------------------------------

@pytest.fixture
def udp_echo():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((judge_host(), 0))
    stop = threading.Event()

    def serve():
        sock.settimeout(0.05)
        while not stop.is_set():
            try:
                data, addr = sock.recvfrom(65535)
            except socket.timeout:
                continue
            sock.sendto(data, addr)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield sock.getsockname()
    stop.set()
    t.join(2)
    sock.close()


def client(path):
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    c.settimeout(2)
    c.connect(path.addr)
    return c


def test_lossy_path_drops_and_duplicates_by_plan(udp_echo):
    with LossyPath(udp_echo, [drop(UP, 0), dup(DOWN, 0)]) as path:
        c = client(path)
        c.send(b"lost")
        c.send(b"kept")
        assert c.recv(100) == b"kept" and c.recv(100) == b"kept"
        c.close()
    assert "dropped (on purpose)" in path.story()
    assert f"{UP} #1 b'lost': dropped" in path.story()  # counted from 1 where a student reads
    assert f"{DOWN} #1 b'kept': delivered again" in path.story() and "#0" not in path.story()


def test_lossy_path_holds_back_and_forges(udp_echo):
    with LossyPath(udp_echo, [hold(DOWN, 0), forge(DOWN, 2, b"fake")]) as path:
        c = client(path)
        c.send(b"first")
        c.send(b"second")  # reply 1 passes, then the held reply 0 arrives late
        assert c.recv(100) == b"second" and c.recv(100) == b"first"
        c.send(b"third")
        assert c.recv(100) == b"fake" and c.recv(100) == b"third"
        c.close()


def test_proc_inspection_threads_memory_and_zombies(make_student):
    student = make_student({"zombie.py": """
        import os, threading, time
        data = bytearray(64 * 1024 * 1024)
        for i in range(0, len(data), 4096):
            data[i] = 1
        threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        print(pid, flush=True)
        time.sleep(60)
    """})
    proc = student.spawn("zombie.py")
    reported = int(proc.read_line(5))
    child = None
    end = time.monotonic() + 5
    while child is None and time.monotonic() < end:
        child = proc.pid_of(reported)  # the zombie, as the judge sees it
    while proc.children().get(child) != "Z" and time.monotonic() < end:
        time.sleep(0.005)  # polling /proc with a deadline until the child has exited
    assert proc.children() == {child: "Z"}
    assert proc.threads() == 2
    assert proc.peak_rss_kib() > 64 * 1024


INTROSPECT = """
import json, os, resource, socket, sys
print(json.dumps({
    "argv": sys.argv, "cwd": os.getcwd(), "path0": sys.path[0], "uid": os.getuid(),
    "env": sorted(os.environ), "timeout": socket.getdefaulttimeout(),
    "nofile": resource.getrlimit(resource.RLIMIT_NOFILE)[0], "sid": os.getsid(0) == os.getpid(),
    "fds": sorted(int(f) for f in os.listdir("/proc/self/fd")),
    "main": __name__, "file": os.path.basename(__file__),
}))
"""


def test_forked_and_fresh_students_see_the_same_world(make_student):
    """The zygote's children must be indistinguishable from a fresh interpreter."""
    student = make_student({"look.py": INTROSPECT}, limits=Limits(open_files=77))
    import json
    forked = json.loads(student.run("look.py", "a", "b c").stdout)
    fresh = json.loads(student.run("look.py", "a", "b c", fresh=True).stdout)
    forked["fds"] = fresh["fds"] = None  # listdir's own descriptor number may differ
    assert forked == fresh
    assert forked["argv"] == ["look.py", "a", "b c"] and forked["main"] == "__main__"
    assert forked["nofile"] == 77 and forked["sid"] and forked["timeout"] == 60.0


ENDING = """
import sys, threading, time
log = open("unclosed.txt", "w")  # never closed: the interpreter flushes it at exit
log.write("flushed at exit")
threading.Thread(target=lambda: (time.sleep(0.05), print("thread joined"))).start()
sys.exit(int(sys.argv[1]))
"""


@pytest.mark.parametrize("fresh", [False, True], ids=["forked", "fresh"])
def test_a_student_ends_as_python_ends(make_student, fresh):
    """Exit code, non-daemon threads joined and unclosed files flushed, in both ways of starting."""
    student = make_student({"end.py": ENDING})
    result = student.run("end.py", "3", fresh=fresh)
    assert result.returncode == 3 and result.stdout == b"thread joined\n"
    assert (student.workdir / "unclosed.txt").read_text() == "flushed at exit"


def test_forked_student_has_only_its_own_descriptors(make_student):
    student = make_student({"look.py": INTROSPECT})
    import json
    fds = json.loads(student.run("look.py").stdout)["fds"]
    assert fds[:3] == [0, 1, 2] and len(fds) == 4  # stdin, stdout, stderr, listdir's own


def test_fork_bomb_is_held_by_the_process_limit(make_student):
    """A (bounded) fork loop: RLIMIT_NPROC stops it, cleanup takes every child."""
    from grader.harness import isolation
    if os.geteuid() == 0 and isolation.plan().ids is None:
        pytest.skip(f"RLIMIT_NPROC does not bind root: {isolation.plan().describe()}")
    student = make_student({"bomb.py": """
        import os, time
        made = 0
        for _ in range(300):
            try:
                if os.fork() == 0:
                    time.sleep(60)
                    os._exit(0)
                made += 1
            except OSError:
                break
        print(made, flush=True)
        time.sleep(60)
    """}, limits=Limits(processes=20))
    proc = student.spawn("bomb.py")
    made = int(proc.read_line(10))
    assert 0 < made <= 20
    assert len(proc.children()) == made
    student.sandbox.cleanup()
    assert not proc.alive()


# -- Peer: writes that fail, whole wrong replies, how a read ended, exchange --------------------

HANGS_UP = """
import argparse, socket
p = argparse.ArgumentParser(); p.add_argument("--host"); p.add_argument("--port", type=int)
a = p.parse_args()
s = socket.socket(); s.bind((a.host, a.port)); s.listen()
while True:
    c, _ = s.accept()
    c.recv(10)
    c.close()   # hangs up after 10 bytes at most, with more on the way
"""


def test_peer_write_to_a_server_that_hung_up_is_feedback(make_student):
    student = make_student({"server.py": HANGS_UP})
    server = student.server("server.py")
    data = b"x" * (32 << 20)  # far more than the socket buffers hold: the send must fail
    with Peer.connect(server.addr) as peer:
        with pytest.raises(SendFailed) as info:
            peer.send(data)
    exc = info.value
    assert isinstance(exc, CheckFailed) and isinstance(exc, OSError)  # old `except OSError` still works
    assert 0 < exc.done < exc.total == len(data)
    text = str(exc)
    assert text.startswith(f"the server closed the connection while the test was still sending, "
                           f"after {exc.done} of {len(data)} bytes") or \
        text.startswith("the server reset the connection while the test was still sending")
    with using("zh"), Peer.connect(server.addr) as peer, pytest.raises(SendFailed) as info:
        peer.trickle(b"y" * 64, pause=0)
        peer.send(data)
    assert "测试还在发送时服务器就" in str(info.value)


REPLIES = """
import argparse, socket, threading, time
p = argparse.ArgumentParser(); p.add_argument("--host"); p.add_argument("--port", type=int)
a = p.parse_args()
s = socket.socket(); s.bind((a.host, a.port)); s.listen()
def talk(c):
    data = c.recv(100)
    if data == b"count":
        c.sendall(b"12\\n")             # a wrong answer, longer than the right one
    elif data == b"extra":
        c.sendall(b"3\\nEXTRA")         # the right answer, then more
    else:
        c.sendall(data.upper())        # then keeps the connection open, idle
    time.sleep(3600)
while True:
    c, _ = s.accept()
    threading.Thread(target=talk, args=(c,), daemon=True).start()
"""


def test_peer_expect_shows_the_whole_wrong_reply(make_student):
    student = make_student({"server.py": REPLIES})
    server = student.server("server.py")
    with Peer.connect(server.addr) as peer:
        peer.send(b"count")
        with pytest.raises(CheckFailed) as info:
            peer.expect(b"3\n", "the count", sent=b"count")
    text = str(info.value)
    assert "expected: b'3\\n'" in text and "got:      b'12\\n'" in text, text
    assert "first difference at byte 1 (index 0)" in text  # counted from 1, index for data[i]
    assert "lengths differ: expected 2 bytes, got 3" in text


def test_peer_expect_reads_no_more_than_a_right_reply(make_student, monkeypatch):
    """A right reply returns as soon as its bytes are in: no grace period, nothing more read."""
    student = make_student({"server.py": REPLIES})
    server = student.server("server.py")
    quiet_reads = []
    original = Peer._read

    def spy(self, n, timeout, **kw):
        if kw.get("quiet") is not None:
            quiet_reads.append(n)
        return original(self, n, timeout, **kw)

    monkeypatch.setattr(Peer, "_read", spy)
    with Peer.connect(server.addr) as peer:
        peer.send(b"extra")
        assert peer.expect(b"3\n", "the count") == b"3\n"
        assert peer.ended == Ended.COMPLETE and peer.ended == "complete"
        assert peer.recv_exact(5) == b"EXTRA"
    assert quiet_reads == []


def test_ended_is_structured_and_compares_with_the_old_strings():
    closed = Ended(Ended.CLOSED, other="the server")
    assert closed == "closed" and closed == "the other side closed the connection"
    assert closed.gone and not closed.open and closed != "reset"
    timeout = Ended(Ended.TIMEOUT, 3.0)
    assert timeout == "no more bytes came within 3 s" and timeout.open
    assert f"({timeout})" == "(no more bytes came within 3 s)"
    assert str(closed) == "the server closed the connection"
    assert Ended(Ended.RESET) == "the connection was reset"
    with using("zh"):
        assert str(timeout) == "3 秒内没有再收到任何字节"
    with pytest.raises(ValueError):
        Ended("vanished")


def test_peer_exchange_sends_shuts_and_reads_until_close(make_student):
    student = make_student({"server.py": SERVER.format(host="a.host"), "upper.py": REPLIES})
    echo = student.server("server.py")   # answers each read with its length and a comma
    with Peer.connect(echo.addr) as peer:
        assert peer.exchange(b"abc", "the lengths") in (b"3,", b"1,2,", b"2,1,", b"1,1,1,")
    upper = student.server("upper.py")   # answers, but keeps the connection open
    with Peer.connect(upper.addr) as peer:
        with pytest.raises(CheckFailed) as info:
            peer.exchange(b"hello", "the answer", expected=b"HELLO", timeout=0.5)
    text = str(info.value)
    assert "did not close the connection" in text and "got:      b'HELLO'" in text
    with Peer.connect(upper.addr) as peer:
        with pytest.raises(CheckFailed) as info:
            peer.exchange(b"hello", "the answer", expected=b"HELLO!", timeout=0.5)
    assert "got:      b'HELLO'" in str(info.value) and "expected: b'HELLO!'" in str(info.value)


def test_peer_exchange_reports_a_server_that_hangs_up_early(make_student):
    student = make_student({"server.py": HANGS_UP})
    server = student.server("server.py")
    with Peer.connect(server.addr) as peer:
        with pytest.raises(CheckFailed) as info:
            peer.exchange(b"z" * (32 << 20), "the echo")
    assert "while the test was still sending, after" in str(info.value)


# -- hangs: found early, said once -----------------------------------------------------------------

NEVER_LISTENS = """
import argparse, socket, time
p = argparse.ArgumentParser(); p.add_argument("--host"); p.add_argument("--port", type=int)
a = p.parse_args()
s = socket.socket(); s.bind((a.host, a.port))   # forgot listen(); waits for nothing
time.sleep(3600)
"""

BUSY_THEN_LISTENS = """
import argparse, socket, time
p = argparse.ArgumentParser(); p.add_argument("--host"); p.add_argument("--port", type=int)
a = p.parse_args()
end = time.monotonic() + 3
while time.monotonic() < end:   # a slow start that keeps the CPU busy is not a hang
    pass
s = socket.socket(); s.bind((a.host, a.port)); s.listen()
time.sleep(3600)
"""


def test_a_server_that_never_listens_is_found_idle_and_said_once(make_student):
    student = make_student({"server.py": NEVER_LISTENS})
    with pytest.raises(CheckFailed) as first:
        student.server("server.py", ready_timeout=120)
    text = str(first.value)
    assert "has not used the CPU" in text and "blocked" in text, text
    assert "time.sleep" not in text  # the stack goes to the plugin's "was here" block
    assert "in <module>" in student.processes[0].stacks()
    assert "_zygote.py" not in student.processes[0].stacks()
    with pytest.raises(CheckFailed) as again:
        student.server("server.py", ready_timeout=120)
    assert str(again.value).startswith("as in an earlier check, server.py did not start listening")


def test_a_busy_slow_start_is_not_a_hang(make_student):
    student = make_student({"server.py": BUSY_THEN_LISTENS})
    server = student.server("server.py", ready_timeout=120)
    assert server.alive()


SPINS = """
import argparse, socket
p = argparse.ArgumentParser(); p.add_argument("--host"); p.add_argument("--port", type=int)
a = p.parse_args()
s = socket.socket(); s.bind((a.host, a.port)); s.listen()
while True:
    c, _ = s.accept()
    while True:
        data = c.recv(1024)      # no check for b'': spins once the client has closed
        c.sendall(data)
"""


def test_a_recv_loop_spinning_on_a_closed_connection_is_found(make_student):
    student = make_student({"server.py": SPINS})
    server = student.server("server.py")
    with Peer.connect(server.addr) as peer:
        peer.send(b"ping")
        peer.shutdown_write()
        peer.expect(b"ping", "the echo")
        with pytest.raises(CheckFailed) as info:
            peer.expect_eof("the server should close", timeout=120)
    assert "server.py is spinning" in str(info.value) and peer.ended == "timeout"
    assert "in <module>" in server.proc.stacks()
    with Peer.connect(server.addr) as peer:  # still spinning on the first: nobody accepts
        peer.shutdown_write()
    with Peer.connect(server.addr) as peer:
        assert peer.recv_until_eof(timeout=0.3) == b""


SPIN_MODULE = """
def read_ten(sock):
    buf = b""
    while len(buf) < 10:
        buf += sock.recv(10)     # b'' forever once the peer has closed
    return buf
"""


def test_a_spinning_call_is_stopped_and_labelled_as_the_function(make_student):
    student = make_student({"framing.py": SPIN_MODULE})
    ours, theirs = connected_pair()
    mod = student.module("framing", sockets=[theirs])
    pending = mod.start("read_ten", mod.sock)
    ours.sendall(b"abc")
    ours.shutdown(socket.SHUT_WR)
    with pytest.raises(StudentTimeout) as info:
        pending.result(120)
    ours.close()
    assert "read_ten() is spinning" in str(info.value) and info.value.hang is not None
    frames = mod.proc.stacks()
    assert "in read_ten" in frames and "_driver.py" not in frames and "_zygote.py" not in frames
    assert mod.proc.stacks_label() == "your read_ten was here when it was stopped"
    assert "Current thread" not in mod.proc.stderr_tail()  # the dump is kept apart from stderr


def test_stack_dump_keeps_only_the_students_frames():
    from grader.harness.stacks import student_frames
    dump = """Thread 0x00007f0000000001 (most recent call first):
  File "/usr/lib/python3.11/threading.py", line 320 in wait
  File "server.py", line 9 in worker
Current thread 0x00007f0000000002 (most recent call first):
  File "framing.py", line 29 in recv_exactly
  File "/x/grader/harness/_driver.py", line 84 in main
  File "/x/grader/harness/_main.py", line 17 in run_main
  File "/x/grader/harness/_zygote.py", line 103 in child
Thread 0x00007f0000000003 (most recent call first):
  File "/x/grader/harness/_zygote.py", line 166 in main
"""
    assert student_frames(dump).splitlines() == [
        "thread 1:", '  File "/usr/lib/python3.11/threading.py", line 320 in wait',
        '  File "server.py", line 9 in worker', "thread 2:",
        '  File "framing.py", line 29 in recv_exactly']


def test_stack_dump_keeps_one_library_frame_above_the_students_and_drops_library_threads():
    from grader.harness.stacks import student_frames
    lib = "/usr/lib/python3.11"
    dump = f"""Thread 0x00007f0000000001 (most recent call first):
  File "{lib}/threading.py", line 320 in wait
  File "{lib}/queue.py", line 171 in get
  File "/tmp/netlab-work-1/dispatcher.py", line 30 in worker
  File "{lib}/threading.py", line 975 in run
  File "{lib}/threading.py", line 1038 in _bootstrap_inner
Thread 0x00007f0000000002 (most recent call first):
  File "{lib}/concurrent/futures/thread.py", line 81 in _worker
  File "{lib}/threading.py", line 975 in run
Current thread 0x00007f0000000003 (most recent call first):
  File "{lib}/threading.py", line 1112 in join
  File "/tmp/netlab-work-1/dispatcher.py", line 50 in close
  File "/x/grader/harness/_driver.py", line 84 in main
"""
    assert student_frames(dump).splitlines() == [
        "thread 1:", f'  File "{lib}/queue.py", line 171 in get',
        '  File "/tmp/netlab-work-1/dispatcher.py", line 30 in worker',
        "thread 2:", f'  File "{lib}/threading.py", line 1112 in join',
        '  File "/tmp/netlab-work-1/dispatcher.py", line 50 in close']


# -- feedback in the judge: one hint, stacks labelled, both languages ------------------------------

HINTED_SUITE = """
from grader.harness import CheckFailed, check, say

@check(points=1, hint=say("the check's own hint", "检查自己的提示"))
def test_failure_with_its_own_hint(student):
    \"\"\"a failure that knows better\"\"\"
    raise CheckFailed("wrong", hint=say("the failure's hint", "失败自己的提示"))

@check(points=1, hint=say("the check's own hint", "检查自己的提示"))
def test_failure_without_a_hint(student):
    \"\"\"a plain failure\"\"\"
    raise CheckFailed("wrong too")

@check(points=1)
def test_hanging_call(student):
    \"\"\"a call that never returns\"\"\"
    student.module("framing").call("forever", timeout=0.5)
"""

FOREVER = """
import time
def forever():
    while True:
        time.sleep(1)
"""


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_judge_feedback_one_hint_and_labelled_stacks(course_dir, lang):
    import json
    from conftest import grader
    course_dir.exercise("hinted", stub={"framing.py": FOREVER}, solution={"framing.py": FOREVER},
                        suite=HINTED_SUITE, points=3)
    run = grader("--lang", lang, "check", "hinted", "--target", "solutions", "--json",
                 cwd=course_dir.root, timeout=120)
    tests = {t["name"]: t["output"] for t in json.loads(run.stdout)["tests"]}
    own, plain, hanging = (tests["test_failure_with_its_own_hint"],
                           tests["test_failure_without_a_hint"], tests["test_hanging_call"])
    hint = "hint:" if lang == "en" else "提示："
    assert own.count(hint) == 1 and ("the failure's hint" in own or "失败自己的提示" in own), own
    assert plain.count(hint) == 1 and ("the check's own hint" in plain or "检查自己的提示" in plain)
    if lang == "en":
        assert "your forever was here when it was stopped:" in hanging, hanging
        assert "did not return within 0.5 s" in hanging
    else:
        assert "你的 forever 被停下时正运行到这里" in hanging, hanging
        assert "在 0.5 秒内没有返回" in hanging
    assert 'File "framing.py"' in hanging and "in forever" in hanging
    assert "_driver.py" not in hanging and "_zygote.py" not in hanging
    assert "stderr of framing.py" not in hanging  # the dump is not the module's stderr


def test_process_states_in_both_languages(make_student):
    student = make_student({"boom.py": "raise SystemExit(3)\n"})
    result = student.run("boom.py")
    proc = student.processes[0]
    assert result.returncode == 3 and proc.describe() == "boom.py exited with code 3"
    with using("zh"):
        assert proc.state() == "退出了，退出码为 3"
        assert str(CheckFailed("x", sent=b"a", expected=b"b", got=b"c")).splitlines()[1:] == [
            "  发送：b'a'", "  期望：b'b'", "  实际：b'c'"]


# -- mutants: caught_by from the suite itself, one mutant's feedback ---------------------------------

ANSWER_SUITE = """
from grader.harness import CheckFailed, check

@check(points=1)
def test_says_42(student):
    \"\"\"the answer is 42\"\"\"
    result = student.run("answer.py")
    if result.stdout.strip() != b"42":
        raise CheckFailed("the answer", expected=b"42", got=result.stdout.strip())
"""

ANSWER_MUTANTS = """
- name: off_by_one
  why: off by one
  file: answer.py
  edits: [{old: "print(42)", new: "print(41)"}]
  caught_by: [test_says_42]
- name: misnamed
  why: names a check the suite does not have
  file: answer.py
  edits: [{old: "print(42)", new: "print(40)"}]
  caught_by: [test_says_42, test_says_forty_two]
"""


def test_mutant_feedback_and_unknown_caught_by(course_dir, capsys):
    from grader import course as course_mod
    from grader.selftest import show_mutants
    course_dir.exercise("answer", stub={"answer.py": "print(0)\n"},
                        solution={"answer.py": "print(42)\n"}, suite=ANSWER_SUITE,
                        mutants=ANSWER_MUTANTS, points=1)
    course = course_mod.load(course_dir.root)
    assert show_mutants(course, "answer", ["off_by_one"], show=True) == 0
    out = capsys.readouterr().out
    assert "mutant off_by_one (answer.py): off by one" in out
    assert "✘ the answer is 42" in out and "got:      b'41'" in out  # the student's view
    assert "mutant off_by_one: caught" in out
    assert show_mutants(course, "answer", ["misnamed"], show=False) == 1
    out = capsys.readouterr().out
    assert "caught_by names checks the suite does not have: test_says_forty_two" in out
    assert "its checks: test_says_42" in out
    assert show_mutants(course, "answer", ["nope"]) == 2
    assert "its mutants: off_by_one, misnamed" in capsys.readouterr().out
