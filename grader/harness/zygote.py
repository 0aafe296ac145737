"""The judge's side of the fork server (_zygote.py): start it once, ask it for processes.

`Zygote.spawn()` returns a `ZygoteChild`, which looks like a subprocess.Popen to the rest of
the harness (pid, stdin/stdout/stderr, poll, wait, kill, returncode). Exit codes arrive as
messages from the zygote, the student's parent. One zygote per judge process, started on first
use; `NETLAB_ZYGOTE=0` turns it off (every student process is then a fresh interpreter).
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

ZYGOTE = Path(__file__).resolve().parent / "_zygote.py"


class ZygoteChild:
    """A student process forked by the zygote, with Popen's interface."""

    def __init__(self, zygote: "Zygote", pid: int, stdin, stdout, stderr):
        self._zygote = zygote
        self.pid = pid
        self.stdin, self.stdout, self.stderr = stdin, stdout, stderr
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self._zygote.exit_code(self.pid)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        code = self._zygote.wait_exit(self.pid, timeout)
        if code is None:
            raise subprocess.TimeoutExpired(f"pid {self.pid}", timeout)
        self.returncode = code
        return code

    def kill(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


class Zygote:
    """`adopt=False`: started, but nobody reads its answers yet - a judge that will fork
    itself into shards starts one per shard, and each shard adopts its own (after the fork:
    a reader thread does not survive one)."""

    def __init__(self, site_paths: list[str], adopt: bool = True):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.proc = subprocess.Popen(
            [sys.executable, "-S", "-E", str(ZYGOTE), str(theirs.fileno()), os.pathsep.join(site_paths)],
            pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, start_new_session=True,
            # children see this (not what they are given) in /proc/self/environ: keep it bare
            env={"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"})
        theirs.close()
        self.sock = ours
        self.pid = self.proc.pid
        self._lock = threading.Lock()           # one request at a time
        self._cond = threading.Condition()
        self._spawned: dict[int, int] = {}
        self._exits: dict[int, int] = {}
        self._next = 0
        self.dead = False
        self.owner = os.getpid()  # only its parent can poll() it; others learn its end by EOF
        if adopt:
            self.adopt()

    def adopt(self) -> None:
        """Read the zygote's answers in this process (call once, in the process using it)."""
        threading.Thread(target=self._read, daemon=True, name="zygote-reader").start()

    def detach(self) -> None:
        """Let go of this process's end without waiting (a shard's copy of another shard's
        zygote, the parent's copies once its shards run): the zygote ends when all are gone."""
        try:
            self.sock.close()
        except OSError:
            pass

    def gone(self) -> bool:
        return self.dead or (self.owner == os.getpid() and self.proc.poll() is not None)

    def _read(self) -> None:
        while True:
            try:
                msg = self.sock.recv(65536)
            except OSError:
                msg = b""
            with self._cond:
                if not msg:
                    self.dead = True
                    self._cond.notify_all()
                    return
                event = json.loads(msg)
                if "spawned" in event:
                    self._spawned[event["spawned"]] = event["pid"]
                else:
                    self._exits[event["exit"]] = event["code"]
                self._cond.notify_all()

    def spawn(self, request: dict, fds: list[int], timeout: float = 10.0) -> int:
        with self._lock:
            self._next += 1
            rid = self._next
            socket.send_fds(self.sock, [json.dumps({**request, "id": rid}).encode()], fds)
            with self._cond:
                if not self._cond.wait_for(lambda: rid in self._spawned or self.dead, timeout):
                    raise RuntimeError("the zygote did not answer")
                if self.dead:
                    raise RuntimeError("the zygote died")
                return self._spawned.pop(rid)

    def exit_code(self, pid: int) -> int | None:
        with self._cond:
            return self._exits.get(pid)

    def wait_exit(self, pid: int, timeout: float | None) -> int | None:
        with self._cond:
            self._cond.wait_for(lambda: pid in self._exits or self.dead, timeout)
            return self._exits.get(pid)

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes our reader thread; EOF for the zygote
        except OSError:
            pass
        self.sock.close()
        if self.owner != os.getpid():
            return  # a shard's zygote: its parent, the judge, reaps it
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


_ZYGOTE: Zygote | None = None
_ZLOCK = threading.Lock()


def enabled() -> bool:
    return os.environ.get("NETLAB_ZYGOTE", "1") != "0" and sys.platform.startswith("linux")


def get(site_paths: list[str]) -> Zygote | None:
    """This process's zygote (started on first use), or None when turned off or broken."""
    global _ZYGOTE
    if not enabled():
        return None
    with _ZLOCK:
        if _ZYGOTE is None or _ZYGOTE.gone():
            _ZYGOTE = Zygote(site_paths)
        return _ZYGOTE


def install(z: Zygote | None) -> None:
    """Make `z` (adopted) this process's zygote, in place of any other (a shard's own)."""
    global _ZYGOTE
    with _ZLOCK:
        _ZYGOTE = z


def shutdown() -> None:
    """Close this process's zygote and wait for it (it kills whatever it still has)."""
    global _ZYGOTE
    with _ZLOCK:
        if _ZYGOTE is not None:
            _ZYGOTE.close()
            _ZYGOTE = None


def current_pid() -> int | None:
    z = _ZYGOTE
    return z.pid if z is not None and not z.dead else None


def spawn_child(zygote: Zygote, argv: list[str], cwd: str, env: dict, rlimits: dict,
                ids, socket_timeout: float, pass_fds: tuple, jail: dict | None = None) -> ZygoteChild:
    """Fork a student process: pipes for 0/1/2 are made here, their far ends sent along."""
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    try:
        pid = zygote.spawn({"argv": argv, "cwd": cwd, "env": env, "rlimits": rlimits,
                            "ids": list(ids) if ids else None, "socket_timeout": socket_timeout,
                            "jail": jail, "pidns": os.environ.get("NETLAB_PIDNS", "1") != "0",
                            "fds": [0, 1, 2, *pass_fds]}, [in_r, out_w, err_w, *pass_fds])
    finally:
        for fd in (in_r, out_w, err_w):
            os.close(fd)
    return ZygoteChild(zygote, pid, os.fdopen(in_w, "wb"), os.fdopen(out_r, "rb"),
                       os.fdopen(err_r, "rb"))
