"""A fork server for student processes (standalone: imports nothing of grader).

    python -S -E _zygote.py CONTROL_FD SITE_PATHS

Starting a fresh interpreter costs ~50 ms per student process; forking this one, which has
already imported what student scripts use, costs ~2 ms. The judge sends a JSON request with
file descriptors (SCM_RIGHTS) over the control socket; the zygote forks, and the child becomes
exactly what the launcher would make: its own session, the given fds at the given numbers and
no others, cwd, environment, rlimits, the student uid, a default socket timeout, faulthandler
on SIGUSR1, the script run as a fresh __main__. The zygote reports each child's pid and, when
it ends, its exit code. It stays single-threaded (fork safety), is a child subreaper (escaped
daemons come back to it), and kills every child when the judge goes away.
"""
import faulthandler
import json
import os
import select
import signal
import socket
import sys
import traceback

# What student scripts import, loaded once here instead of in every child.
import argparse  # noqa: F401
import io
import locale  # noqa: F401  (argparse imports locale and shutil only once a parser runs:
import queue  # noqa: F401     every student script parses --host/--port, ~5 ms each time)
import random  # noqa: F401  (reseeded in every child by the random module's fork hook)
import resource
import selectors  # noqa: F401
import shutil  # noqa: F401  (with fnmatch, bz2 and lzma: for the terminal's width)
import struct  # noqa: F401
import threading  # noqa: F401
import time  # noqa: F401

from _jail import confine, enter, new_pid_namespace  # found beside this file (sys.path[0])
from _main import run_main


def _subreaper() -> None:
    try:
        import ctypes
        ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass


def _set_dumpable(value: int = 1) -> None:
    try:
        import ctypes
        ctypes.CDLL(None).prctl(4, value, 0, 0, 0)  # PR_SET_DUMPABLE: the judge reads our /proc
    except (OSError, AttributeError):
        pass


def child(req: dict, fds: list[int], ctl: socket.socket, wake: int, paths: list[str],
          report: int | None = None) -> None:
    """In the forked child: become the student's process and run the script. The child
    then ends the way `python script.py` ends (SystemExit leaves main(): threads joined,
    atexit run, unclosed files flushed); only a failure to set up ends it at once.
    With a PID namespace (`report` is the pipe that tells the zygote the student's pid), this
    child stays outside as a relay, the namespace's pid 1 reaps inside, and the student is
    that one's child: see _pid_namespace."""
    entered = False
    try:
        os.setsid()
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        ctl.detach()
        targets = req["fds"]
        import fcntl
        above = max([1000, *targets]) + 1  # above every target number, so none is overwritten
        if report is not None:  # a target number may be the very one it has now
            moved = fcntl.fcntl(report, fcntl.F_DUPFD, above)
            os.close(report)
            report = moved
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD, above) for fd in fds]
        for fd in fds:
            os.close(fd)
        for src, dst in zip(high, targets):
            os.dup2(src, dst, inheritable=dst > 2)
        keep = set(targets) | ({report} if report is not None else set())
        for name in os.listdir("/proc/self/fd"):
            fd = int(name)
            if fd not in keep:
                try:
                    os.close(fd)
                except OSError:
                    pass
        os.chdir(req["cwd"])
        if report is not None:
            _pid_namespace(req, report, targets)  # returns in the student's process only
            entered = True
        else:
            os.environ.clear()
            os.environ.update(req["env"])
        for name, (soft, hard) in req["rlimits"].items():
            resource.setrlimit(getattr(resource, name), (soft, hard))
        confine(req.get("jail"), req.get("ids"), entered)  # private view, student uid
        if entered:
            os.setsid()  # its own group: the judge kills it and what it starts by that
        _set_dumpable()
        sys.stdin = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "r", closefd=False)))
        sys.stdout = io.TextIOWrapper(io.BufferedWriter(io.FileIO(1, "w", closefd=False)),
                                      line_buffering=True)
        sys.stderr = io.TextIOWrapper(io.BufferedWriter(io.FileIO(2, "w", closefd=False)),
                                      line_buffering=True, errors="backslashreplace")
        sys.__stdin__, sys.__stdout__, sys.__stderr__ = sys.stdin, sys.stdout, sys.stderr
        if req.get("socket_timeout"):
            socket.setdefaulttimeout(req["socket_timeout"])
        faulthandler.register(signal.SIGUSR1, all_threads=True, file=sys.stderr)
        script = os.path.abspath(req["argv"][0])
        sys.argv = list(req["argv"])
        sys.path[0] = os.path.dirname(script)
        sys.path[1:] = [p for p in sys.path[1:] if p not in paths] + paths
    except BaseException:
        try:
            traceback.print_exc()
        finally:
            os._exit(1)
    sys.exit(run_main(script))


def _pid_namespace(req: dict, report: int, targets: list[int]) -> None:
    """Relay (this process, outside) -> init (pid 1 inside: builds the jail with a /proc of
    its own, then reaps) -> student (pid 2, returns from here). The relay tells the zygote the
    student's pid as the zygote sees it, then ends as the student ends (same code or signal),
    so the judge sees an ordinary child. Everything in the namespace dies with its init."""
    jail = req["jail"]
    new_pid_namespace(jail)
    status_r, status_w = os.pipe()
    init = os.fork()
    if init == 0:  # pid 1 of the new namespace
        os.close(status_r)
        os.close(report)
        enter(jail, in_pid_namespace=True)
        student = os.fork()
        if student == 0:
            os.close(status_w)
            os.environ.clear()
            os.environ.update(req["env"])
            return
        _quiet(targets)  # the student's pipes and sockets are the student's alone
        os.write(status_w, b"F")
        status = 0
        while True:  # reap everything; report the student's own end
            try:
                pid, st = os.waitpid(-1, 0)
            except ChildProcessError:
                os._exit(0)
            except InterruptedError:
                continue
            if pid == student:
                status = st
                os.write(status_w, status.to_bytes(4, "little"))
    os.close(status_w)
    _quiet(targets)
    if os.read(status_r, 1) == b"F":
        try:
            with open(f"/proc/{init}/task/{init}/children") as f:
                outer = int(f.read().split()[0])
        except (OSError, IndexError, ValueError):
            outer = init
        os.write(report, f"{outer}\n".encode())
    data = b""
    while len(data) < 4:
        chunk = os.read(status_r, 4 - len(data))
        if not chunk:
            break
        data += chunk
    # the student's end, told at once; this relay stays until the namespace's init has
    # reaped what the student left (so the init is never anyone's orphan)
    code = os.waitstatus_to_exitcode(int.from_bytes(data, "little")) if len(data) == 4 else -9
    os.write(report, f"exit {code}\n".encode())
    os.close(report)
    try:
        os.waitpid(init, 0)
    except ChildProcessError:
        pass
    os._exit(0)


def _quiet(targets: list[int]) -> None:
    """Let go of the student's descriptors: a peer must see them close when the student does."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in targets:
        if fd > 2:
            try:
                os.close(fd)
            except OSError:
                pass
        else:
            os.dup2(null, fd)
    os.close(null)


def kill_all_children(rounds: int = 50) -> None:
    """Kill every child (ours, and orphans re-parented to us) with its group, until none is left."""
    me = os.getpid()
    for _ in range(rounds):
        try:
            with open(f"/proc/{me}/task/{me}/children") as f:
                kids = [int(p) for p in f.read().split()]
        except OSError:
            kids = []
        if not kids:
            return
        for pid in kids:
            for kill in (os.killpg, os.kill):
                try:
                    kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        for pid in kids:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass


class JudgeGone(Exception):
    """An answer to the judge failed: it is gone (killed, or its shard was)."""


def main() -> None:
    """Serve the judge; when it goes (EOF, or an answer that fails), kill everything we
    started, escaped daemons too, whatever ended the serving."""
    import gc
    gc.collect()
    gc.freeze()  # what every child inherits: out of its collector's sight, never copied by it
    ctl = socket.socket(fileno=int(sys.argv[1]))
    paths = [p for p in sys.argv[2].split(":") if p]
    me = os.getpid()
    try:
        serve(ctl, paths)
    except JudgeGone:
        pass
    finally:
        if os.getpid() == me:  # not in a child: a student's SystemExit passes through here
            kill_all_children()


def serve(ctl: socket.socket, paths: list[str]) -> None:
    _subreaper()
    _set_dumpable(0)  # a student of the same uid must not trace us or take our fds
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    children: set[int] = set()
    relays: dict[int, int] = {}   # relay pid -> the student's pid (PID namespaces)
    reports: dict[int, int] = {}  # a relay's report pipe -> the relay's pid
    told: set[int] = set()        # students whose end their relay has told already

    def send(msg: dict) -> None:
        try:
            ctl.send(json.dumps(msg).encode())  # SOCK_SEQPACKET: one message, one JSON object
        except OSError:
            raise JudgeGone from None

    while True:
        ready, _, _ = select.select([ctl, wake_r, *reports], [], [])
        if wake_r in ready:
            os.read(wake_r, 4096)
            while True:
                try:
                    pid, status = os.waitpid(-1, os.WNOHANG)
                except ChildProcessError:
                    break
                if pid == 0:
                    break
                if pid in children:
                    children.discard(pid)
                    student = relays.pop(pid, pid)
                    if student not in told:  # a relay that died before telling
                        send({"exit": student, "code": os.waitstatus_to_exitcode(status)})
                    told.discard(student)
        for fd in [fd for fd in reports if fd in ready]:
            line = os.read(fd, 64)
            relay = reports[fd]
            if line.startswith(b"exit ") and relay in relays:
                told.add(relays[relay])
                send({"exit": relays[relay], "code": int(line.split()[1])})
            if not line or line.startswith(b"exit "):
                os.close(fd)
                del reports[fd]
        if ctl in ready:
            msg, fds, _, _ = socket.recv_fds(ctl, 1 << 20, 16)
            if not msg:  # the judge is gone: so is everything we started (main kills it)
                return
            req = json.loads(msg)
            report_r, report_w = os.pipe() if req.get("pidns") and req.get("jail") else (None, None)
            if report_r is not None:
                os.set_inheritable(report_w, False)
            pid = os.fork()
            if pid == 0:
                if report_r is not None:
                    os.close(report_r)
                child(req, fds, ctl, wake_r, paths, report_w)
            for fd in fds:
                os.close(fd)
            children.add(pid)
            student = pid
            if report_r is not None:  # the relay says the student's pid, or dies trying
                os.close(report_w)
                said = b""
                while not said.endswith(b"\n"):
                    ready, _, _ = select.select([report_r], [], [], 10)
                    chunk = os.read(report_r, 32) if ready else b""
                    if not chunk:
                        break
                    said += chunk
                if said.strip().isdigit():
                    student = int(said)
                    relays[pid] = student
                    reports[report_r] = pid
                else:
                    os.close(report_r)
            send({"spawned": req["id"], "pid": student})


if __name__ == "__main__":
    main()
