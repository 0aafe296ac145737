"""What suite authors use: `check` to give a test points, visibility and a hint, and the
`student` fixture (a `Student`) to run student code - scripts as processes, modules through
the call driver - confined, and gone when the test ends.

    from grader.harness import check, Peer

    @check(points=2, hint="recv() returns b'' when the client closes")
    def test_echoes_small_payload(student):
        server = student.server("server.py")
        with Peer.connect(server.addr) as peer:
            peer.send(b"hello")
            peer.expect(b"hello", "the server's echo of b'hello'", sent=b"hello")
"""
from __future__ import annotations

import sys
from dataclasses import dataclass

from ..i18n import Text, say
from . import hang
from .calls import Callable, Handed, PendingCall, StudentModule, StudentRaised
from .feedback import CheckFailed, expect_bytes, expect_equal, show, show_bytes
from .net import (Ended, Peer, SendFailed, Wire, accept, bound_by, connected_pair, free_port,
                  judge_host, listener, wait_listening)
from .sandbox import Completed, Limits, Sandbox, StudentProcess, StudentTimeout
from .udp import DOWN, UP, LossyPath, drop, dup, forge, hold

VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")


def check(points: float = 1, *, hidden: bool = False, visibility: str | None = None,
          hint=None, time_limit: float | None = None, title=None):
    """Mark a test as a graded check (pytest marks underneath, so plain pytest runs it too).
    `title` and `hint` are `say(en, zh)` texts (grader.i18n); without `title`, the first line
    of the test's docstring is the (English-only) title."""
    import pytest  # here, not at import time: the grader CLI imports this package too

    visibility = visibility or ("hidden" if hidden else "visible")
    if visibility not in VISIBILITIES:
        raise ValueError(f"visibility must be one of {VISIBILITIES}, not {visibility!r}")
    return pytest.mark.netlab(points=points, visibility=visibility, hint=hint,
                              time_limit=time_limit, title=title)


@dataclass
class Server:
    """A student server that is listening (tcp) or bound (udp) where it was told."""
    proc: StudentProcess
    host: str
    port: int
    proto: str

    @property
    def addr(self) -> tuple[str, int]:
        return (self.host, self.port)

    def alive(self) -> bool:
        return self.proc.alive()


class Student:
    """The student's code for one test. Every process it starts is killed when the test ends."""

    def __init__(self, sandbox: Sandbox):
        self.sandbox = sandbox
        self._rendezvous = None
        hang.watch(lambda: sandbox.procs)  # Peer's reads and calls watch these for hangs

    def rendezvous(self):
        """This check's rendezvous service (grader/harness/rendezvous.py): barriers, gates,
        counters and an "inside now" gauge student code reaches through `import netlab_rv`."""
        if self._rendezvous is None:
            from .rendezvous import Rendezvous
            self._rendezvous = Rendezvous(self.workdir)
        return self._rendezvous

    @staticmethod
    def callable(ref: str) -> "Callable":
        """A function of the working copy, passed as an argument of `module(...).call`:
        "jobs:square" arrives in the student's function as jobs.square itself."""
        return Callable(ref)

    def close(self) -> None:
        if self._rendezvous is not None:
            self._rendezvous.close()

    @property
    def host(self) -> str:
        return judge_host()

    @property
    def workdir(self):
        return self.sandbox._prepare()

    def spawn(self, script: str, *args: str, **spawn) -> StudentProcess:
        """Start `python script args...` in the sandbox; talk to it through its pipes."""
        return self.sandbox.spawn([script, *map(str, args)], **spawn)

    def server(self, script: str = "server.py", *args: str, proto: str = "tcp",
               host: str | None = None, ready_timeout: float = 5.0,
               ready_idle: float | None = None, **spawn) -> Server:
        """Start a server with `--host H --port P` (a free port) and wait until it listens:
        at most `ready_timeout` s, and less when the server sits idle (no CPU, nothing
        runnable) without listening for `ready_idle` s (default hang.IDLE_SECONDS; 0: off)."""
        host = host or judge_host()
        port = free_port(host, socket_kind(proto))
        proc = self.spawn(script, "--host", host, "--port", str(port), *args, **spawn)
        wait_listening(host, port, proto, proc, ready_timeout, idle=ready_idle)
        return Server(proc, host, port, proto)

    def run(self, script: str, *args: str, input: bytes = b"", timeout: float = 5.0,
            **spawn) -> Completed:
        """Run a script to completion with `input` on stdin; killed at `timeout`."""
        proc = self.spawn(script, *args, wall_seconds=timeout, **spawn)
        proc.write(input)
        proc.close_stdin()
        rc = proc.wait()
        return Completed(proc.argv, rc, proc.output(), proc.stderr_tail(), proc.timed_out,
                         proc.stdout.total)

    def module(self, name: str, *, sockets=(), timeout: float = 5.0, **spawn) -> StudentModule:
        """Load `name.py` in a child process; `.call(func, *args)` runs one function there."""
        return StudentModule(self.sandbox, name, sockets=sockets, timeout=timeout, **spawn)

    @property
    def processes(self) -> list[StudentProcess]:
        return list(self.sandbox.procs)


def socket_kind(proto: str) -> int:
    import socket
    return {"tcp": socket.SOCK_STREAM, "udp": socket.SOCK_DGRAM}[proto]


def stderr_note(proc: StudentProcess, limit: int = 800) -> str:
    """'its stderr ended with: ...' for a failure message, or '' when it printed nothing."""
    tail = proc.stderr_tail(limit).strip()
    if not tail:
        return ""
    return ("\n  " + str(say("its stderr ended with:", "它的 stderr 最后几行是：")) + "\n"
            + "\n".join("    " + l for l in tail.splitlines()))


__all__ = [
    "Callable",
    "check", "Student", "Server", "CheckFailed", "Ended", "SendFailed", "hang", "expect_bytes", "expect_equal", "show",
    "show_bytes", "Peer", "Wire", "accept", "listener", "connected_pair", "free_port", "judge_host",
    "wait_listening", "bound_by", "Completed", "Limits", "StudentProcess", "StudentTimeout", "StudentModule",
    "StudentRaised", "PendingCall", "Handed", "LossyPath", "drop", "dup", "hold", "forge", "UP",
    "DOWN", "stderr_note", "VISIBILITIES", "say", "Text",
]
assert sys.version_info >= (3, 11), "netlab needs Python 3.11+"
