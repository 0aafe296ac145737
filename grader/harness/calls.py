"""Call functions of a student module in a child process, with JSON-able arguments.

The child is `_driver.py` started in the test's sandbox; answers come back as JSON on a private
pipe, so nothing the student prints can pose as a result. A socket the test controls can be
handed to the child (its fd is passed at start), so framing code runs over a real connection
whose other end the test drives byte by byte.
"""
from __future__ import annotations

import base64
import json
import os
import select
import socket
import time

from .feedback import CheckFailed
from .sandbox import Sandbox, StudentProcess, StudentTimeout


class StudentRaised(Exception):
    """The student's function raised; `type`, `mro`, `message` and `traceback` say what."""

    def __init__(self, answer: dict):
        self.type = answer.get("type", "?")
        self.mro = answer.get("mro", [self.type])
        self.message = answer.get("message", "")
        self.traceback = answer.get("traceback", "")
        self.phase = answer.get("phase", "call")
        super().__init__(f"{self.type}: {self.message}")

    def is_a(self, name: str) -> bool:
        return name in self.mro


class Handed:
    """Stands for a socket handed to the child; pass it as an argument."""

    def __init__(self, fd: int, family: int, peer: str):
        self.fd = fd
        self.family = family
        self.peer = peer

    def __repr__(self) -> str:
        return f"<socket connected to {self.peer}>"


def _encode(value):
    if isinstance(value, Handed):
        return {"$socket": value.fd}
    if isinstance(value, (bytes, bytearray)):
        return {"$bytes": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    return value


def _decode(value):
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {"$bytes"}:
            return base64.b64decode(value["$bytes"])
        return {k: _decode(v) for k, v in value.items()}
    return value


class PendingCall:
    """A call in flight: the test drives the peer meanwhile, then asks for the result."""

    def __init__(self, module: "StudentModule", text: str):
        self.module = module
        self.text = text
        self._done = False
        self._answer = None

    def result(self, timeout: float | None = None):
        """The returned value; raises StudentRaised if the function raised, StudentTimeout
        if it does not answer in `timeout` seconds (the child is then killed)."""
        if not self._done:
            self._answer = self.module._read_answer(self.text, timeout)
            self._done = True
        answer = self._answer
        if answer.get("ok"):
            return _decode(answer.get("value"))
        raise StudentRaised(answer)

    def done(self) -> bool:
        """Has the call answered (or its process ended)? Never blocks."""
        if self._done:
            return True
        module = self.module
        if b"\n" in module._buffer:
            return True
        try:
            return bool(select.select([module._resp_r], [], [], 0)[0])
        except (OSError, ValueError):
            return True

    def raised(self, timeout: float | None = None) -> StudentRaised | None:
        """The exception the call raised, or None if it returned."""
        try:
            self.result(timeout)
        except StudentRaised as exc:
            return exc
        return None


class StudentModule:
    """A student module loaded in its own sandboxed process; call its functions by name."""

    def __init__(self, sandbox: Sandbox, module: str, *, sockets=(), timeout: float = 5.0,
                 **spawn):
        self.name = module
        self.timeout = timeout
        self._resp_r, resp_w = os.pipe()
        fds = tuple(s.fileno() for s in sockets)
        self.handed = [Handed(s.fileno(), s.family, _peer_name(s)) for s in sockets]
        try:
            self.proc: StudentProcess = sandbox.spawn_driver(module, resp_fd=resp_w,
                                                             pass_fds=fds, **spawn)
        finally:
            os.close(resp_w)
        for s in sockets:  # the child holds its own copy: closing ours lets its close be seen
            s.close()
        self._buffer = b""
        self._busy = False

    @property
    def sock(self) -> Handed:
        return self.handed[0]

    def start(self, func: str, *args, **kwargs) -> PendingCall:
        if self._busy:
            raise RuntimeError("one call at a time: take the previous result first")
        text = f"{func}({', '.join([*map(repr, args), *(f'{k}={v!r}' for k, v in kwargs.items())])})"
        request = json.dumps({"func": func, "args": _encode(list(args)), "kwargs": _encode(kwargs)})
        self.proc.write(request.encode() + b"\n")
        self._busy = True
        return PendingCall(self, text)

    def call(self, func: str, *args, timeout: float | None = None, **kwargs):
        return self.start(func, *args, **kwargs).result(timeout)

    def _read_answer(self, text: str, timeout: float | None) -> dict:
        timeout = self.timeout if timeout is None else timeout
        end = min(time.monotonic() + timeout, self.proc.deadline)
        while b"\n" not in self._buffer:
            left = end - time.monotonic()
            if left <= 0:
                self.proc.collect_stacks()
                self.proc.kill()
                raise StudentTimeout(
                    f"{self.name}.{_short(text)} did not return within {timeout:g} s "
                    f"(the process was stopped)" + _stderr_note(self.proc))
            ready, _, _ = select.select([self._resp_r], [], [], left)
            if not ready:
                continue
            chunk = os.read(self._resp_r, 65536)
            if not chunk:
                self.proc.wait(2.0)
                raise CheckFailed(
                    f"{self.name}.{_short(text)}: the process running your module ended "
                    f"without answering ({self.proc.describe()})" + _stderr_note(self.proc))
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        self._busy = False
        answer = json.loads(line)
        if not answer.get("ok") and answer.get("phase") == "import":
            raise CheckFailed(f"importing {self.name}.py failed: {answer.get('type')}: "
                              f"{answer.get('message')}\n{answer.get('traceback', '')}")
        return answer

    def close(self) -> None:
        self.proc.kill()
        try:
            os.close(self._resp_r)
        except OSError:
            pass


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[:limit] + "…)"


def _stderr_note(proc: StudentProcess) -> str:
    tail = proc.stderr_tail(800).strip()
    return f"\n  its stderr ended with:\n{_indent(tail)}" if tail else ""


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


def _peer_name(sock: socket.socket) -> str:
    try:
        peer = sock.getpeername()
        return f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer) or "a socketpair"
    except OSError:
        return "?"
