"""`grader similarity` (grader/batch/similarity.py): MOSS-style winnowing over a batch's graded
copies. Synthetic tcp_echo servers: four written independently, in different styles, and two
copies that try to hide (one with every name, string, number and comment changed, one with its
functions reordered and renamed). The copies must rank above every pair of independent ones;
the stub's and the reference solution's code must never count."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import REPO

from grader import course as course_mod
from grader.batch import similarity as sim

COURSE = course_mod.load(REPO)

# -- four servers written independently ------------------------------------------------------

LOOPS = '''
"""Echo server, plain functions."""
import argparse
import socket


def echo_one(conn):
    while True:
        chunk = conn.recv(4096)
        if not chunk:
            break
        conn.sendall(chunk)
    conn.close()


def run(host, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    s.listen(10)
    print("listening on", host, port)
    try:
        while True:
            conn, peer = s.accept()
            print("client", peer)
            try:
                echo_one(conn)
            except ConnectionResetError:
                print("client went away")
    finally:
        s.close()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=9000)
    opts = ap.parse_args()
    run(opts.host, opts.port)
'''

SOCKETSERVER = '''
import socketserver
import sys


class EchoHandler(socketserver.BaseRequestHandler):
    def handle(self):
        total = 0
        for block in iter(lambda: self.request.recv(1024), b""):
            self.request.sendall(block)
            total += len(block)
        sys.stderr.write(f"echoed {total} bytes\\n")


class Server(socketserver.TCPServer):
    allow_reuse_address = True


def parse(argv):
    host, port = "127.0.0.1", 9000
    i = 0
    while i < len(argv):
        if argv[i] == "--host":
            host = argv[i + 1]
            i += 2
        elif argv[i] == "--port":
            port = int(argv[i + 1])
            i += 2
        else:
            i += 1
    return host, port


with Server(parse(sys.argv[1:]), EchoHandler) as srv:
    srv.serve_forever()
'''

CLASSY = '''
import argparse
import logging
import socket

log = logging.getLogger("echo")


class EchoServer:
    """Keeps the listening socket and counts clients."""

    def __init__(self, address):
        self.address = address
        self.clients = 0
        self.sock = None

    def open(self):
        self.sock = socket.create_server(self.address, reuse_port=False)
        log.info("bound %s", self.address)

    def session(self, conn):
        with conn:
            buffer = bytearray()
            while data := conn.recv(2048):
                buffer += data
                conn.sendall(bytes(buffer))
                buffer.clear()
        self.clients += 1

    def forever(self):
        self.open()
        while True:
            conn, _ = self.sock.accept()
            try:
                self.session(conn)
            except OSError as exc:
                log.warning("client %d failed: %s", self.clients, exc)


def cli():
    p = argparse.ArgumentParser(description="echo")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", default=9000, type=int)
    a = p.parse_args()
    EchoServer((a.host, a.port)).forever()


cli()
'''

SELECTORS = '''
import selectors
import socket
import sys

sel = selectors.DefaultSelector()
host = sys.argv[sys.argv.index("--host") + 1] if "--host" in sys.argv else "127.0.0.1"
port = int(sys.argv[sys.argv.index("--port") + 1]) if "--port" in sys.argv else 9000

lsock = socket.socket()
lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, True)
lsock.bind((host, port))
lsock.listen()
lsock.setblocking(False)
sel.register(lsock, selectors.EVENT_READ, data=None)

pending = {}
while True:
    for key, mask in sel.select(timeout=None):
        if key.data is None:
            c, addr = key.fileobj.accept()
            c.setblocking(False)
            pending[c] = b""
            sel.register(c, selectors.EVENT_READ | selectors.EVENT_WRITE, data=addr)
            continue
        c = key.fileobj
        if mask & selectors.EVENT_READ:
            got = c.recv(8192)
            if got:
                pending[c] += got
            else:
                sel.unregister(c)
                c.close()
                del pending[c]
                continue
        if mask & selectors.EVENT_WRITE and pending[c]:
            n = c.send(pending[c])
            pending[c] = pending[c][n:]
'''

# -- the copies --------------------------------------------------------------------------------

RENAMED = '''
# my own echo server (honest)
import argparse
import socket


def serve_client(connection):
    # loop until the peer is done
    while True:
        piece = connection.recv(65536)
        if not piece:
            break
        connection.sendall(piece)
    connection.close()


def main_loop(addr, prt):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((addr, prt))
    listener.listen(128)
    print("server up at", addr, prt)
    try:
        while True:
            connection, remote = listener.accept()
            print("new connection from", remote)
            try:
                serve_client(connection)
            except ConnectionResetError:
                print("reset by peer")
    finally:
        listener.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=8888)
    arguments = parser.parse_args()
    main_loop(arguments.host, arguments.port)
'''

REORDERED = '''
import argparse
import logging
import socket

logger = logging.getLogger("srv")


def entry():
    parser = argparse.ArgumentParser(description="my server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", default=9000, type=int)
    ns = parser.parse_args()
    Echo((ns.host, ns.port)).loop()


class Echo:
    """Echo server."""

    def loop(self):
        self.start()
        while True:
            client, _ = self.listener.accept()
            try:
                self.talk(client)
            except OSError as err:
                logger.warning("client %d failed: %s", self.served, err)

    def talk(self, client):
        with client:
            pending = bytearray()
            while got := client.recv(2048):
                pending += got
                client.sendall(bytes(pending))
                pending.clear()
        self.served += 1

    def start(self):
        self.listener = socket.create_server(self.addr, reuse_port=False)
        logger.info("bound %s", self.addr)

    def __init__(self, addr):
        self.addr = addr
        self.served = 0
        self.listener = None


entry()
'''

INDEPENDENT = {"ann": LOOPS, "ben": SOCKETSERVER, "cho": CLASSY, "dev": SELECTORS}
COPIES = {"rex": RENAMED, "roy": REORDERED}   # rex copied ann; roy copied cho
SOLUTION = (REPO / "solutions/tcp_echo/server.py").read_text()


def make_batch(out: Path, students: dict[str, str], ex_id: str = "tcp_echo") -> Path:
    """OUTDIR/graded/<student>/<exercise>/ as a batch leaves it (server.py, and the reference
    client.py that every student also hands in: all discounted)."""
    for student, server in students.items():
        folder = out / "graded" / student / ex_id
        folder.mkdir(parents=True)
        (folder / "server.py").write_text(textwrap.dedent(server).lstrip())
        shutil.copy(REPO / "solutions" / ex_id / "client.py", folder / "client.py")
    return out


def ranked(out: Path, **kw) -> sim.ExerciseResult:
    (res,) = sim.analyse(COURSE, out, ["tcp_echo"], **kw)
    return res


def test_the_synthetic_servers_are_real_python():
    for code in [*INDEPENDENT.values(), *COPIES.values()]:
        compile(textwrap.dedent(code), "server.py", "exec")


def test_normalisation_hides_names_strings_numbers_and_comments():
    a = [t.kind for t in sim.normalise("x = foo(1, 'a')  # hi\nif x:\n    y = f'{x}!'\n")]
    b = [t.kind for t in sim.normalise("total = bar(42, \"zzz\")\n\nif total:\n    out = f'{total} {x}'\n")]
    assert a == b
    assert a[:8] == ["V", "=", "V", "(", "0", ",", "S", ")"]
    assert "if" in a and "{" in a and "}" in a     # keywords and blocks stay
    # broken code gives its tokens up to the error, never an exception
    assert [t.kind for t in sim.normalise("x = 1\ny = '''never closed\n")][:4] == ["V", "=", "0", "\n"]


def test_winnowing_keeps_the_minimum_of_every_window():
    hashes = [77, 74, 42, 17, 98, 50, 17, 98, 8, 88, 67, 39, 77, 74, 42, 17, 98]  # the paper's
    picked = sim.winnow(hashes, 4)
    assert [h for _, h in picked] == [17, 17, 8, 39, 17]
    for start in range(len(hashes) - 3):      # every window holds one of the picked positions
        assert any(start <= pos < start + 4 for pos, _ in picked)


def test_copies_rank_above_every_independent_pair(tmp_path):
    out = make_batch(tmp_path / "out", {**INDEPENDENT, **COPIES})
    res = ranked(out)
    order = [(p.a, p.b) for p in res.pairs]
    assert set(order[:2]) == {("ann", "rex"), ("cho", "roy")}, order
    by = {(p.a, p.b): p for p in res.pairs}
    copies = [by[("ann", "rex")], by[("cho", "roy")]]
    independent = [p for p in res.pairs if (p.a, p.b) not in {("ann", "rex"), ("cho", "roy")}]
    worst_copy = min(p.score for p in copies)
    best_independent = max((p.score for p in independent), default=0)
    assert worst_copy >= 0.6 and best_independent <= 0.35, (worst_copy, best_independent)
    assert worst_copy > 2 * best_independent
    assert res.submissions == 6


def test_matching_regions_line_up_across_the_reordering(tmp_path):
    out = make_batch(tmp_path / "out", {**INDEPENDENT, **COPIES})
    res = ranked(out)
    roy = next(p for p in res.pairs if (p.a, p.b) == ("cho", "roy"))
    sources = {s.owner: s for s in sim.exercise_sources(out, "tcp_echo")}
    assert len(roy.regions) >= 3         # each moved method is a passage of its own
    cho_lines = sources["cho"].lines[sources["cho"].files.index("server.py")]
    roy_lines = sources["roy"].lines[sources["roy"].files.index("server.py")]
    for r in roy.regions:
        assert (r.a_file, r.b_file) == ("server.py", "server.py")
        left = "\n".join(cho_lines[r.a_start - 1:r.a_end])
        right = "\n".join(roy_lines[r.b_start - 1:r.b_end])
        # the same code, up to names, strings and numbers
        assert [t.kind for t in sim.normalise(left)][2:-2] == [t.kind for t in sim.normalise(right)][2:-2] or \
            len(set(left.split()) & set(right.split())) > 3
    # the method cho wrote first (session) and roy moved second (talk) is matched
    talk = roy_lines.index("    def talk(self, client):") + 1
    session = cho_lines.index("    def session(self, conn):") + 1
    assert any(r.b_start <= talk + 1 <= r.b_end and r.a_start <= session + 1 <= r.a_end for r in roy.regions)


def test_the_stub_and_the_reference_solution_never_count(tmp_path):
    stub = (REPO / "exercises/tcp_echo/server.py").read_text()
    out = make_batch(tmp_path / "out", {"sol1": SOLUTION, "sol2": SOLUTION, "stub1": stub, "stub2": stub,
                                        **INDEPENDENT})
    res = ranked(out)
    named = {n for p in res.pairs for n in (p.a, p.b)}
    assert not named & {"sol1", "sol2", "stub1", "stub2"}, res.pairs
    # but whoever handed in the reference solution is named as such
    assert res.reference["sol1"] == res.reference["sol2"] == 1.0
    assert res.reference["ann"] < 0.8       # (its client.py is the reference's; its server is not)
    # the same code outside the course's own files does count
    out2 = make_batch(tmp_path / "out2", {"x": LOOPS, "y": LOOPS})
    (p,) = ranked(out2).pairs
    assert p.score == 1.0


def test_code_shared_by_most_of_the_class_can_be_ignored(tmp_path):
    # everybody pastes the same helper (from a forum, say); two of them also share a server
    helper = '''
def log_line(prefix, *values):
    text = " ".join(str(v) for v in values)
    with open("server.log", "a", encoding="utf-8") as f:
        f.write(f"[{prefix}] {text}\\n")
    return len(text)
'''
    class_ = {name: code + helper for name, code in {**INDEPENDENT, "rex": RENAMED}.items()}
    out = make_batch(tmp_path / "out", class_)
    plain = ranked(out)
    assert len(plain.pairs) == 10                # the helper links every pair
    pruned = ranked(out, common=0.5)
    assert pruned.common > 0
    assert [(p.a, p.b) for p in pruned.pairs][:1] == [("ann", "rex")]
    assert len(pruned.pairs) < len(plain.pairs)


def grader(*args):
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=300, env={**os.environ, "NETLAB_LANG": "en"})


def test_cli_lists_pairs_and_shows_matching_code_side_by_side(tmp_path):
    out = make_batch(tmp_path / "out", {**INDEPENDENT, **COPIES})
    proc = grader("similarity", str(out), "--top", "3", "--show", "1")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "tcp_echo: 6 submissions compared, " + lines[0].split(", ", 1)[1]
    ranks = [line for line in lines if line.startswith("  1. ") or line.startswith("  2. ")
             or line.startswith("  3. ")]
    assert len(ranks) == 3
    assert {r.split(":")[0].strip()[3:] for r in ranks[:2]} == {"ann ~ rex", "cho ~ roy"}
    # the first pair's code, side by side: a line of each, with its number
    side = [line for line in lines if " | " in line]
    assert any("recv" in line.split(" | ")[0] for line in side)
    assert any("recv" in line.split(" | ")[1] for line in side)
    assert any(line.strip().startswith("ann/server.py:") and "rex/server.py:" in line for line in lines)
    assert grader("similarity", str(out), "--top", "3", "--show", "1").stdout == proc.stdout  # reproducible
    zh = grader("--lang", "zh", "similarity", str(out), "--top", "1")
    assert "比较了 6 份提交" in zh.stdout
    missing = grader("similarity", str(tmp_path / "nowhere"))
    assert missing.returncode == 2 and "not the output folder of a batch" in missing.stderr


@pytest.mark.parametrize("code", ["def f(:\n    pass\n", "x = '''\n", "\tif x:\n  y\n", ""])
def test_broken_submissions_are_compared_not_fatal(tmp_path, code):
    out = make_batch(tmp_path / "out", {"ann": LOOPS, "bad": code, "rex": RENAMED})
    res = ranked(out)
    assert [(p.a, p.b) for p in res.pairs][:1] == [("ann", "rex")]
