"""The reference http_server answers curl - a client the grader does not ship.

The http_server suite grades only with clients every Python has (urllib.request, http.client,
raw sockets), so a grade never depends on what is installed. This file checks the other side
of that promise: the contract those checks enforce is the one real clients expect, by fetching
from solutions/http_server/server.py with curl (installed by .ci/run). The server runs as a
plain subprocess (the reference solution is ours, not a student's) on a free loopback port;
readiness is read from the kernel's socket table, polled with a deadline.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader.harness.net import free_port, is_listening

REPO = Path(__file__).resolve().parents[2]
SERVER = REPO / "solutions" / "http_server" / "server.py"
CURL = shutil.which("curl")
HOST = "127.0.0.1"

pytestmark = pytest.mark.skipif(
    CURL is None, reason="curl is not installed (.ci/run installs it with apt-get), so the "
                         "reference http_server cannot be fetched with curl on this machine")

FILES = {
    "index.html": "<!DOCTYPE html>\n<p>客户端:访问不同的服务端只需要在浏览器输入不同的网址</p>\n".encode(),
    "笔记.txt": "粘包与报头\r\n".encode(),
    "logo.png": b"\x89PNG\r\n\x1a\n" + bytes(range(256)),
}
SECRET = b"outside the served folder: never sent\n"


@pytest.fixture
def served(tmp_path):
    """(port, root): the reference server serving FILES from tmp_path/www, secret.txt beside it."""
    root = tmp_path / "www"
    root.mkdir()
    for name, data in FILES.items():
        (root / name).write_bytes(data)
    (tmp_path / "secret.txt").write_bytes(SECRET)
    for attempt in range(3):  # the free port may be taken again before the server binds it
        port = free_port(HOST)
        proc = subprocess.Popen([sys.executable, str(SERVER), "--host", HOST, "--port", str(port),
                                 "--root", str(root)], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while not is_listening(HOST, port) and proc.poll() is None:
            if time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                pytest.fail(f"the reference server was not listening on {HOST}:{port} within 30 s")
            time.sleep(0.002)  # polls the kernel's socket table; the deadline bounds the wait
        if proc.poll() is None:
            break
        err = proc.stderr.read().decode(errors="replace")
        proc.stderr.close()
        if "Address already in use" not in err or attempt == 2:
            pytest.fail(f"the reference server exited with code {proc.returncode}:\n{err}")
    try:
        yield port, root
    finally:
        proc.kill()
        proc.wait()
        proc.stderr.close()


def curl(*args: str) -> subprocess.CompletedProcess:
    """curl, HTTP/1.1, no proxy whatever the environment says, bounded in time."""
    return subprocess.run([CURL, "--silent", "--show-error", "--http1.1", "--noproxy", "*",
                           "--max-time", "20", *args], capture_output=True, timeout=60)


def headers_of(raw: bytes) -> tuple[str, dict[str, str]]:
    lines = raw.decode("iso-8859-1").split("\r\n")
    fields = {}
    for line in lines[1:]:
        if ":" in line:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
    return lines[0], fields


def test_curl_fetches_files_byte_for_byte(served, tmp_path):
    port, _ = served
    for target, name, ctype in [("/", "index.html", "text/html; charset=utf-8"),
                                ("/%E7%AC%94%E8%AE%B0.txt", "笔记.txt", "text/plain; charset=utf-8"),
                                ("/logo.png", "logo.png", "image/png")]:
        head, body = tmp_path / "head", tmp_path / "body"
        done = curl("--dump-header", str(head), "--output", str(body),
                    f"http://{HOST}:{port}{target}")
        assert done.returncode == 0, (target, done.stderr)
        status, fields = headers_of(head.read_bytes())
        assert status == "HTTP/1.1 200 OK", (target, status)
        assert fields["content-type"] == ctype, (target, fields)
        assert fields["content-length"] == str(len(FILES[name])), (target, fields)
        assert fields["connection"] == "close", (target, fields)
        assert body.read_bytes() == FILES[name], target


def test_curl_head_gets_the_headers_only(served):
    port, _ = served
    done = curl("--head", f"http://{HOST}:{port}/logo.png")
    assert done.returncode == 0, done.stderr
    status, fields = headers_of(done.stdout)
    assert status == "HTTP/1.1 200 OK"
    assert fields["content-length"] == str(len(FILES["logo.png"]))
    assert done.stdout.endswith(b"\r\n\r\n")  # the head, and not a byte of body


def test_curl_path_as_is_cannot_leave_the_folder(served):
    port, _ = served
    for target in ("/../secret.txt", "/%2e%2e/secret.txt"):
        done = curl("--path-as-is", "--write-out", "\n%{http_code}", f"http://{HOST}:{port}{target}")
        assert done.returncode == 0, (target, done.stderr)
        assert SECRET not in done.stdout, target
        assert done.stdout.rsplit(b"\n", 1)[-1] == b"400", (target, done.stdout)
    done = curl("--write-out", "%{http_code}", "--output", "/dev/null",
                f"http://{HOST}:{port}/missing.html")
    assert done.stdout == b"404", done.stdout
