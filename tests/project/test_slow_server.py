"""The slow server (grader/harness/slow_server.py) and the /proc views (procs_view.py) that the
pools and gevent_convert suites prove concurrency with: observed, never timed."""
import os
import socket
import subprocess
import sys
import threading

from grader.harness.procs_view import all_children, settle, task_ids, thread_states
from grader.harness.slow_server import SlowServer


def ask(addr, path: str, close: bool = True) -> tuple[str, socket.socket | None]:
    sock = socket.create_connection(addr, timeout=30)
    sock.sendall(f"GET {path}\n".encode())
    reply = b""
    while not reply.endswith(b"\n"):
        chunk = sock.recv(4096)
        assert chunk, "the slow server closed before answering"
        reply += chunk
    if close:
        sock.close()
        return reply.decode()[:-1], None
    return reply.decode()[:-1], sock


def test_requests_are_held_until_all_are_in_flight():
    with SlowServer(release_at=5) as slow:
        answers = {}
        threads = [threading.Thread(target=lambda p=p: answers.__setitem__(p, ask(slow.addr, p)[0]))
                   for p in ("/a", "/b", "/c", "/d")]
        for t in threads:
            t.start()
        assert slow.wait_for(lambda s: s.held == 4, timeout=30)
        assert slow.replied == [] and answers == {}  # nobody answered: 4 < release_at
        threads.append(threading.Thread(target=lambda: answers.__setitem__("/e", ask(slow.addr, "/e")[0])))
        threads[-1].start()
        for t in threads:
            t.join(30)
        assert slow.max_held == 5 and sorted(slow.requests) == ["/a", "/b", "/c", "/d", "/e"]
        assert answers == {p: slow.body(p) for p in answers} and len(answers) == 5
        assert slow.wait_for(lambda s: s.closed == 5, timeout=30)


def test_a_serial_client_never_fills_the_server_and_release_lets_it_go():
    with SlowServer(release_at=3) as slow:
        done = []
        t = threading.Thread(target=lambda: done.extend(ask(slow.addr, p)[0] for p in "xyz"))
        t.start()
        assert slow.wait_for(lambda s: s.held == 1, timeout=30)
        assert not slow.wait_for(lambda s: s.max_held >= 3, timeout=0.3)
        slow.release()
        t.join(30)
        assert done == [slow.body(p) for p in "xyz"] and slow.max_held == 1


def test_connections_left_open_are_seen():
    with SlowServer() as slow:
        slow.release("/kept")
        body, sock = ask(slow.addr, "/kept", close=False)
        assert body == slow.body("/kept")
        assert slow.wait_for(lambda s: s.open_after_reply == 1, timeout=30) and slow.closed == 0
        sock.close()
        assert slow.wait_for(lambda s: s.closed == 1 and s.open_after_reply == 0, timeout=30)


def test_bodies_depend_on_a_nonce_and_bad_lines_are_recorded():
    with SlowServer() as a, SlowServer() as b:
        assert a.body("/x") != b.body("/x") and a.body("/x").startswith("/x ")
        with socket.create_connection(a.addr, timeout=30) as sock:
            sock.sendall(b"POST /x\n")
            assert sock.recv(10) == b""
        assert a.bad == [b"POST /x"]


def test_procs_view_threads_children_and_settle():
    code = ("import os, subprocess, sys, threading, time\n"
            "e = threading.Event()\n"
            "[threading.Thread(target=e.wait, daemon=True).start() for _ in range(3)]\n"
            "kid = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
            "print('ready', flush=True)\n"
            "sys.stdin.readline(); e.set(); kid.kill(); kid.wait()\n"
            "print('done', flush=True); sys.stdin.readline()\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline() == "ready\n"
        assert len(task_ids(proc.pid)) == 4
        assert set(thread_states(proc.pid)) == set(task_ids(proc.pid))
        assert len(all_children(proc.pid)) == 1
        proc.stdin.write("\n")
        proc.stdin.flush()
        assert proc.stdout.readline() == "done\n"
        assert settle(lambda: len(task_ids(proc.pid)), at_most=1, timeout=30) == 1
        assert all_children(proc.pid) == {}
        assert settle(lambda: 5, at_most=1, timeout=0.05) == 5  # the deadline decides
    finally:
        proc.kill()
        proc.wait()
    assert task_ids(proc.pid) == [] and all_children(os.getpid()) is not None
