"""grader/harness/ioview.py and grader/harness/holding.py: what the io_models and asyncio_echo
suites read from the kernel, and the server that proves a client's requests are concurrent."""
from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time

from grader.harness import connected_pair
from grader.harness.holding import HoldingServer
from grader.harness.ioview import busy_looks, open_fds, queues, sleeping, socket_fds


def wait_until(pred, timeout=5.0):
    end = time.monotonic() + timeout
    while not pred() and time.monotonic() < end:
        time.sleep(0.002)  # polling with a deadline
    return pred()


def test_queues_count_both_ends_and_what_the_far_program_holds():
    ours, theirs = connected_pair()
    try:
        ours.sendall(b"x" * 1000)
        assert wait_until(lambda: queues(ours).their_unread == 1000)
        q = queues(ours)
        assert (q.our_unsent, q.their_unsent, q.our_unread) == (0, 0, 0)
        assert q.held(sent=1000, read=0) == 0 and q.their_read == 0
        got = theirs.recv(600)          # the far program reads 600 and holds them
        assert wait_until(lambda: queues(ours).their_unread == 1000 - len(got))
        assert queues(ours).held(sent=1000, read=0) == len(got)
        theirs.sendall(got)             # ... and writes them back: we have not read them
        assert wait_until(lambda: queues(ours).our_unread == len(got))
        assert queues(ours).held(sent=1000, read=0) == 0
    finally:
        ours.close()
        theirs.close()
    assert queues(ours) is None  # a closed socket: nothing to say


def test_busy_looks_tell_a_spinning_process_from_a_sleeping_one():
    spin = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    nap = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert wait_until(lambda: sleeping(nap.pid))
        assert busy_looks(spin.pid, looks=10, gap=0.01).busy
        assert not busy_looks(nap.pid, looks=10, gap=0.01).busy
        assert open_fds(nap.pid) >= 3 and socket_fds(nap.pid) == 0
    finally:
        for p in (spin, nap):
            p.kill()
            p.wait()


def ask(addr, line: bytes, out: list, i: int) -> None:
    with socket.create_connection(addr, timeout=10) as s:
        s.sendall(line)
        out[i] = s.makefile("rb").readline()


def test_holding_server_sees_concurrent_requests_and_answers_in_reverse():
    with HoldingServer(parties=4, hold_timeout=10) as hs:
        out = [None] * 4
        threads = [threading.Thread(target=ask, args=((hs.host, hs.port), b"r%d\n" % i, out, i))
                   for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(15)
        assert hs.peak == 4 and not hs.gave_up
        assert sorted(out) == [b"r0\n", b"r1\n", b"r2\n", b"r3\n"]


def test_holding_server_serial_client_costs_one_deadline():
    with HoldingServer(parties=3, hold_timeout=0.5) as hs:
        out = [None] * 3
        for i in range(3):
            ask((hs.host, hs.port), b"s%d\n" % i, out, i)
        assert hs.peak == 1 and hs.gave_up
        assert out == [b"s0\n", b"s1\n", b"s2\n"]


class _Proc:
    """What blocked_sending needs of a student's process: pid and alive()."""

    def __init__(self, code: str, port: int):
        self.popen = subprocess.Popen([sys.executable, "-c", code, str(port)], stdout=subprocess.PIPE)
        self.pid = self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def end(self) -> None:
        self.popen.kill()
        self.popen.wait()
        self.popen.stdout.close()


def _accepting(code: str) -> tuple[_Proc, socket.socket]:
    lst = socket.socket()
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)  # the accepted socket's, too
    lst.bind(("127.0.0.1", 0))
    lst.listen(1)
    proc = _Proc(code, lst.getsockname()[1])
    lst.settimeout(10)
    conn, _ = lst.accept()
    lst.close()
    return proc, conn


def _read_all(conn: socket.socket) -> int:
    conn.settimeout(10)
    total = 0
    while chunk := conn.recv(1 << 20):
        total += len(chunk)
    return total


CONNECT = "import os, socket, sys, time\ns = socket.create_connection(('127.0.0.1', int(sys.argv[1])))\n"


def test_blocked_sending_waits_until_one_send_has_returned():
    """One send() of 8 MiB on a socket with a timeout takes only part; the program then waits
    in recv(). blocked_sending sees it asleep with bytes unsent, and what the test reads after
    that is exactly what that send() took: the rest was never sent."""
    from grader.harness.ioview import blocked_sending
    proc, conn = _accepting(CONNECT + "s.settimeout(30)\nn = s.send(b'x' * (8 << 20))\n"
                            "print(n, flush=True)\ns.shutdown(socket.SHUT_WR)\ns.recv(1)\n")
    try:
        assert blocked_sending(proc, conn)
        took = int(proc.popen.stdout.readline())
        assert 0 < took < 8 << 20
        assert _read_all(conn) == took
    finally:
        conn.close()
        proc.end()


def test_blocked_sending_watches_the_whole_process_tree():
    """A forking program: the child sends (sendall, all 8 MiB); the parent only waits for it."""
    from grader.harness.ioview import blocked_sending
    proc, conn = _accepting(CONNECT + "if os.fork() == 0:\n    s.sendall(b'x' * (8 << 20))\n"
                            "    os._exit(0)\ns.close()\nos.wait()\ntime.sleep(60)\n")
    try:
        assert blocked_sending(proc, conn)
        assert _read_all(conn) == 8 << 20
    finally:
        conn.close()
        proc.end()


def test_blocked_sending_gives_up_on_a_program_that_sends_nothing():
    """Asleep with nothing to send and nothing unread: it waits for something else, and the
    check goes on (after the quiet half second, long before the deadline); a program that
    ended, at once."""
    from grader.harness.ioview import blocked_sending
    proc, conn = _accepting(CONNECT + "time.sleep(60)\n")
    try:
        started = time.monotonic()
        assert not blocked_sending(proc, conn, seconds=30)
        assert time.monotonic() - started < 15
        proc.popen.kill()
        proc.popen.wait()
        started = time.monotonic()
        assert not blocked_sending(proc, conn, seconds=30)
        assert time.monotonic() - started < 15
    finally:
        conn.close()
        proc.end()
