"""The student side of a check's rendezvous service (copied into the working copy by the test).

Standalone: the standard library only, nothing of grader. Every call opens a short connection
to the Unix socket beside this file, sends one JSON line and reads one back, so it works the
same from threads, forked processes, spawned processes and gevent greenlets alike.

    import netlab_rv
    with netlab_rv.inside("work"):          # the test sees how many are inside at once
        netlab_rv.barrier("all", 4)         # True once 4 callers have arrived (False: timeout)
    netlab_rv.wait_gate("go")               # until the test opens the gate
    netlab_rv.log("bought", n=1)            # an event the test reads, in arrival order
    netlab_rv.add("items")                  # a shared counter; returns the new value

What arrives here is what student processes say: a test uses it as evidence of *how* the work
ran (concurrently, in which processes, in what order), next to results it checks itself.
"""
import json
import os
import socket
import threading
from contextlib import contextmanager

SOCKET = os.path.join(os.path.dirname(os.path.abspath(__file__)), ".netlab_rv.sock")


class RendezvousError(RuntimeError):
    """The service refused or is gone (the check is over)."""


def _ask(op: str, timeout: float = 60.0, **fields):
    fields.update(op=op, pid=os.getpid(), tid=threading.get_native_id())
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout + 5)
        try:
            s.connect(SOCKET)
            s.sendall(json.dumps(fields).encode() + b"\n")
            data = b""
            while not data.endswith(b"\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        except OSError as exc:
            raise RendezvousError(f"the check's rendezvous service did not answer: {exc}") from None
    if not data:
        raise RendezvousError("the check's rendezvous service closed without an answer")
    answer = json.loads(data)
    if "error" in answer:
        raise RendezvousError(answer["error"])
    return answer.get("value")


def enter(tag: str = "work") -> int:
    """Say this caller is now inside `tag`; returns how many are inside with it."""
    return _ask("enter", tag=tag)


def leave(tag: str = "work") -> int:
    return _ask("leave", tag=tag)


@contextmanager
def inside(tag: str = "work"):
    enter(tag)
    try:
        yield
    finally:
        leave(tag)


def barrier(name: str, parties: int, timeout: float = 10.0) -> bool:
    """Wait until `parties` callers have reached barrier `name`: True, or False at `timeout`."""
    return bool(_ask("barrier", name=name, parties=int(parties), timeout=float(timeout),
                     wait=float(timeout)))


def wait_gate(name: str, timeout: float = 30.0) -> bool:
    """Wait until the test opens gate `name`: True, or False at `timeout`."""
    return bool(_ask("gate", name=name, timeout=float(timeout), wait=float(timeout)))


def log(event: str, **data) -> None:
    _ask("log", event=event, data=data)


def add(name: str, k: int = 1) -> int:
    return _ask("add", name=name, k=int(k))
