"""A check's rendezvous service: barriers, gates, counters and an "inside now" gauge that
student threads and processes reach over a Unix socket the test owns.

Concurrency is proved by observation, never by elapsed time: a barrier of 4 that is reached
shows 4 workers were alive and waiting together (a serial implementation can never reach it);
`max_inside("work") == 3` shows a bound held; a gate the test opens shows nobody ran before it.

    rv = student.rendezvous()                       # socket + netlab_rv.py in the working copy
    rv.install("jobs.py", JOBS_SOURCE)              # test-owned helpers that use netlab_rv
    mod = student.module("pool")
    mod.call("run_all", student.callable("jobs:square"), [1, 2, 3])
    assert rv.max_inside("work") == 3 and len(rv.pids("work")) == 3

The student side is `netlab_rv.py` (standard library only). Its records are what student
processes say, so checks use them as evidence of *how* work ran, beside results they verify
themselves. The service is bounded (connections, events, waits) and ends with the check.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
from collections import Counter
from pathlib import Path

CLIENT = Path(__file__).with_name("netlab_rv.py")
SOCKET_NAME = ".netlab_rv.sock"
MAX_CLIENTS = 512       # connections open at once (each waiting barrier holds one)
MAX_EVENTS = 50_000     # log lines and entries kept; past that, callers get an error
MAX_WAIT = 120.0        # longest barrier or gate wait a student can ask for
RECHECK = 0.05          # wait_for looks again at least this often (see there)


class Rendezvous:
    def __init__(self, workdir: Path, owner: tuple[int, int] | None = None):
        self.dir = Path(workdir)
        self.path = self.dir / SOCKET_NAME
        self._owner = owner
        self.install("netlab_rv.py", CLIENT.read_text(encoding="utf-8"))
        if self.path.exists() or self.path.is_symlink():
            self.path.unlink()
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.bind(str(self.path))
        os.chmod(self.path, 0o666)  # student uids connect; the socket is all they can do here
        self._sock.listen(128)
        self._cond = threading.Condition()
        self._clients = 0
        self._closed = False
        self.inside: Counter = Counter()          # tag -> how many are inside now
        self._max: Counter = Counter()            # tag -> most inside at once
        self.entries: dict[str, list[tuple[int, int]]] = {}   # tag -> (pid, tid) per enter
        self.arrived: Counter = Counter()         # barrier name -> arrivals
        self.counters: Counter = Counter()
        self.events: list[dict] = []              # {"event", "pid", "tid", "data", "seq"}
        self.gates: set[str] = set()
        self.errors: list[str] = []               # malformed requests, refusals
        self._thread = threading.Thread(target=self._serve, name="netlab-rendezvous", daemon=True)
        self._thread.start()

    # -- the test's side ----------------------------------------------------------------------

    def install(self, name: str, source: str) -> Path:
        """Write a test-owned module into the working copy (replacing any file of that name)."""
        target = self.dir / name
        if target.is_symlink() or target.is_dir():
            shutil.rmtree(target) if target.is_dir() else target.unlink()
        target.write_text(source, encoding="utf-8")
        os.chmod(target, 0o644)
        return target

    def open_gate(self, name: str) -> None:
        with self._cond:
            self.gates.add(name)
            self._cond.notify_all()

    def close_gate(self, name: str) -> None:
        with self._cond:
            self.gates.discard(name)

    def max_inside(self, tag: str = "work") -> int:
        with self._cond:
            return self._max[tag]

    def now_inside(self, tag: str = "work") -> int:
        with self._cond:
            return self.inside[tag]

    def pids(self, tag: str = "work") -> set[int]:
        """The processes that entered `tag` (pids as the student's processes see them)."""
        with self._cond:
            return {pid for pid, _ in self.entries.get(tag, [])}

    def threads(self, tag: str = "work") -> set[tuple[int, int]]:
        with self._cond:
            return set(self.entries.get(tag, []))

    def log_of(self, event: str | None = None) -> list[dict]:
        with self._cond:
            return [e for e in self.events if event is None or e["event"] == event]

    def wait_for(self, predicate, timeout: float) -> bool:
        """Wait until predicate(self) holds, at most `timeout` seconds. It is looked at again on
        each of the service's notifications, and every RECHECK seconds besides: a predicate may
        also ask what the service never hears of (`or not proc.alive()`, `or pending.done()`),
        and a check must not sit out its whole timeout after the student's program ended."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(self):
                left = deadline - time.monotonic()
                if left <= 0 or self._closed:
                    return bool(predicate(self))
                self._cond.wait(min(left, RECHECK))
            return True

    def close(self) -> None:
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cond.notify_all()
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()
        self._thread.join(5)
        try:
            self.path.unlink()
        except OSError:
            pass

    # -- the service -----------------------------------------------------------------------------

    def _serve(self) -> None:
        while not self._closed:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with self._cond:
                if self._clients >= MAX_CLIENTS or self._closed:
                    conn.close()
                    continue
                self._clients += 1
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(10)
            data = b""
            while not data.endswith(b"\n") and len(data) < 65536:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                data += chunk
            try:
                request = json.loads(data)
                value = self._handle(request)
                answer = {"value": value}
            except (ValueError, KeyError, TypeError) as exc:
                answer = {"error": f"bad request: {exc}"}
                with self._cond:
                    if len(self.errors) < 100:
                        self.errors.append(answer["error"])
            conn.settimeout(10)
            conn.sendall(json.dumps(answer).encode() + b"\n")
        except OSError:
            pass
        finally:
            conn.close()
            with self._cond:
                self._clients -= 1

    def _handle(self, r: dict):
        op, pid, tid = r["op"], int(r.get("pid", 0)), int(r.get("tid", 0))
        with self._cond:
            if len(self.events) + sum(map(len, self.entries.values())) > MAX_EVENTS:
                raise ValueError("too many requests for one check")
            if op == "enter":
                tag = str(r["tag"])
                self.inside[tag] += 1
                self._max[tag] = max(self._max[tag], self.inside[tag])
                self.entries.setdefault(tag, []).append((pid, tid))
                self._cond.notify_all()
                return self.inside[tag]
            if op == "leave":
                tag = str(r["tag"])
                self.inside[tag] -= 1
                self._cond.notify_all()
                return self.inside[tag]
            if op == "log":
                self.events.append({"event": str(r["event"]), "pid": pid, "tid": tid,
                                    "data": r.get("data") or {}, "seq": len(self.events)})
                self._cond.notify_all()
                return None
            if op == "add":
                name = str(r["name"])
                self.counters[name] += int(r.get("k", 1))
                self._cond.notify_all()
                return self.counters[name]
            wait = min(max(float(r.get("wait", 10.0)), 0.0), MAX_WAIT)
            if op == "barrier":
                name, parties = str(r["name"]), int(r["parties"])
                self.arrived[name] += 1
                self._cond.notify_all()
                return self._wait(lambda: self.arrived[name] >= parties, wait)
            if op == "gate":
                name = str(r["name"])
                return self._wait(lambda: name in self.gates, wait)
            raise ValueError(f"unknown op {op!r}")

    def _wait(self, ready, wait: float) -> bool:
        deadline = time.monotonic() + wait
        while not ready():
            left = deadline - time.monotonic()
            if left <= 0 or self._closed:
                return bool(ready())
            self._cond.wait(left)
        return True
