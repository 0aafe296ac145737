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
import queue  # noqa: F401
import random  # noqa: F401  (reseeded in every child by the random module's fork hook)
import resource
import selectors  # noqa: F401
import struct  # noqa: F401
import threading  # noqa: F401
import time  # noqa: F401

from _jail import confine  # found beside this file (sys.path[0])
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


def child(req: dict, fds: list[int], ctl: socket.socket, wake: int, paths: list[str]) -> None:
    """In the forked child: become the student's process and run the script. The child
    then ends the way `python script.py` ends (SystemExit leaves main(): threads joined,
    atexit run, unclosed files flushed); only a failure to set up ends it at once."""
    try:
        os.setsid()
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        ctl.detach()
        targets = req["fds"]
        import fcntl
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 1000 + i) for i, fd in enumerate(fds)]
        for fd in fds:
            os.close(fd)
        for src, dst in zip(high, targets):
            os.dup2(src, dst, inheritable=dst > 2)
        keep = set(targets)
        for name in os.listdir("/proc/self/fd"):
            fd = int(name)
            if fd not in keep:
                try:
                    os.close(fd)
                except OSError:
                    pass
        os.chdir(req["cwd"])
        os.environ.clear()
        os.environ.update(req["env"])
        for name, (soft, hard) in req["rlimits"].items():
            resource.setrlimit(getattr(resource, name), (soft, hard))
        confine(req.get("jail"), req.get("ids"))  # private filesystem view, student uid
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


def main() -> None:
    ctl = socket.socket(fileno=int(sys.argv[1]))
    paths = [p for p in sys.argv[2].split(":") if p]
    _subreaper()
    _set_dumpable(0)  # a student of the same uid must not trace us or take our fds
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    children: set[int] = set()

    def send(msg: dict) -> None:
        ctl.send(json.dumps(msg).encode())  # SOCK_SEQPACKET: one message, one JSON object

    while True:
        ready, _, _ = select.select([ctl, wake_r], [], [])
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
                    send({"exit": pid, "code": os.waitstatus_to_exitcode(status)})
        if ctl in ready:
            msg, fds, _, _ = socket.recv_fds(ctl, 1 << 20, 16)
            if not msg:  # the judge is gone: so is everything we started, escaped daemons too
                kill_all_children()
                return
            req = json.loads(msg)
            pid = os.fork()
            if pid == 0:
                child(req, fds, ctl, wake_r, paths)
            for fd in fds:
                os.close(fd)
            children.add(pid)
            send({"spawned": req["id"], "pid": pid})


if __name__ == "__main__":
    main()
