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

from ..i18n import say
from . import hang
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

    def last_line(self) -> str:
        """'struct.error: unpack requires a buffer of 4 bytes' (the traceback's last line)."""
        lines = [l for l in self.traceback.rstrip().splitlines() if l.strip()]
        last = lines[-1].strip() if lines else ""
        return last if self.type in last else f"{self.type}: {self.message}"

    def summary(self, call: str):
        """'recv_msg(sock) raised ValueError: ...', or, for a stub, that it still raises
        NotImplementedError (a say() text)."""
        if self.type == "NotImplementedError":
            return say("{call} still raises NotImplementedError: the stub is waiting for you to "
                       "write it", "{call} 仍然抛出 NotImplementedError：这个函数还等着你来实现",
                       call=call)
        return say("{call} raised {error}", "{call} 抛出了 {error}", call=call,
                   error=self.last_line())

    def where(self, lines: int = 6) -> str | None:
        """'where it raised:' and the traceback's last lines (the student's frames)."""
        tb = [l for l in self.traceback.rstrip().splitlines() if l.strip()]
        if not tb or self.type == "NotImplementedError":
            return None
        return str(say("where it raised:", "在这里抛出：")) + "\n" + "\n".join(
            "    " + l for l in tb[-lines:])


class Handed:
    """Stands for a socket handed to the child; pass it as an argument."""

    def __init__(self, fd: int, family: int, peer: str):
        self.fd = fd
        self.family = family
        self.peer = peer

    def __repr__(self) -> str:
        return f"<socket connected to {self.peer}>"


class Callable:
    """Stands for a function of the working copy ("module:name"); pass it as an argument."""

    def __init__(self, ref: str):
        module, _, name = ref.partition(":")
        if not module or not name:
            raise ValueError(f"a callable is 'module:name', not {ref!r}")
        self.ref = ref

    def __repr__(self) -> str:
        return self.ref.replace(":", ".")


def _encode(value):
    if isinstance(value, Handed):
        return {"$socket": value.fd}
    if isinstance(value, Callable):
        return {"$call": value.ref}
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

    def value(self, call=None, *, sent: object = None, hint=None, timeout: float | None = None):
        """The returned value, or CheckFailed feedback when the call raised ('still raises
        NotImplementedError' for a stub) or did not return in time. `call` names the call in
        the feedback (default: the call as written, e.g. "recv_msg(<socket ...>)")."""
        call = call or self.text
        try:
            return self.result(timeout)
        except StudentRaised as exc:
            raise CheckFailed(exc.summary(call), sent=sent, detail=exc.where(), hint=hint) from None
        except StudentTimeout as exc:
            raise CheckFailed(str(exc), sent=sent, hint=hint) from None

    def expect(self, expected, call=None, *, sent: object = None, hint=None,
               timeout: float | None = None):
        """Fail with expected/got feedback unless the call returns `expected`."""
        from .feedback import expect_equal
        call = call or self.text
        got = self.value(call, sent=sent, hint=hint, timeout=timeout)
        expect_equal(got, expected, say("what {call} returned", "{call} 的返回值", call=call),
                     sent=sent, hint=hint)
        return got


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
        self.proc.calling = func  # a stack dump is then labelled "your <func> was here"
        return PendingCall(self, text)

    def call(self, func: str, *args, timeout: float | None = None, **kwargs):
        """Call `func(*args, **kwargs)` in the child and return its value (see PendingCall)."""
        return self.start(func, *args, **kwargs).result(timeout)

    def _read_answer(self, text: str, timeout: float | None) -> dict:
        """The next answer line. Waits up to `timeout`, or less when the child is found
        spinning on a connection its peer has closed (hang.Stall): then, as at the timeout,
        its stacks are taken, it is killed and StudentTimeout says why (`.hang` is set)."""
        timeout = self.timeout if timeout is None else timeout
        started = time.monotonic()
        end = min(started + timeout, self.proc.deadline)
        stall = None
        while b"\n" not in self._buffer:
            left = end - time.monotonic()
            if left <= 0:
                self.proc.collect_stacks()
                self.proc.kill()
                exc = StudentTimeout(str(say(
                    "{call} did not return within {t:g} s (the process was stopped)",
                    "{call} 在 {t:g} 秒内没有返回（进程已被停止）",
                    call=f"{self.name}.{_short(text)}", t=timeout)) + _stderr_note(self.proc))
                exc.hang = None
                raise exc
            ready, _, _ = select.select([self._resp_r], [], [], min(left, hang.SAMPLE_SECONDS))
            if not ready:
                stall = stall or hang.Stall([self.proc])
                found = stall.check()
                if found is not None:
                    self.proc.kill()
                    exc = StudentTimeout(str(say(
                        "{call} did not return: {why} (the process was stopped after {t:.1f} s)",
                        "{call} 没有返回：{why}（{t:.1f} 秒后进程被停止）",
                        call=f"{self.name}.{_short(text)}", why=found.text,
                        t=time.monotonic() - started)) + _stderr_note(self.proc))
                    exc.hang = found
                    raise exc
                continue
            chunk = os.read(self._resp_r, 65536)
            if not chunk:
                self.proc.wait(2.0)
                raise CheckFailed(say(
                    "{call}: the process running your module ended without answering ({what})",
                    "{call}：运行你的模块的进程没有给出结果就结束了（{what}）",
                    call=f"{self.name}.{_short(text)}", what=self.proc.describe())
                    + _stderr_note(self.proc))
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        self._busy = False
        answer = json.loads(line)
        if not answer.get("ok") and answer.get("phase") == "import":
            raise CheckFailed(say("importing {name}.py failed: {error}",
                                  "导入 {name}.py 失败：{error}", name=self.name,
                                  error=f"{answer.get('type')}: {answer.get('message')}")
                              + f"\n{answer.get('traceback', '')}")
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
    if not tail:
        return ""
    return "\n  " + str(say("its stderr ended with:", "它的 stderr 最后几行是：")) + "\n" + _indent(tail)


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


def _peer_name(sock: socket.socket) -> str:
    try:
        peer = sock.getpeername()
        return f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer) or "a socketpair"
    except OSError:
        return "?"
