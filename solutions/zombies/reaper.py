"""Zombie and orphan processes: fork children, reap every one of them, and make an orphan.

Read README.md in this folder for the whole task, then `grader check zombies`.
"""
import os
import signal
import traceback

_reaped = {}   # pid -> exit code of every child reaped so far


def _on_sigchld(signum, frame):
    # One SIGCHLD may stand for many children: signals of one kind do not queue up. So reap
    # until no exited child is left, without blocking (WNOHANG) - never just one.
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:      # no children at all
            return
        if pid == 0:                   # children left, none of them has exited
            return
        _reaped[pid] = os.waitstatus_to_exitcode(status)


def install():
    """Reap children as they end: a SIGCHLD handler."""
    signal.signal(signal.SIGCHLD, _on_sigchld)


def start(func, *args):
    """Fork a child that runs func(*args) and ends with its return value as exit code."""
    pid = os.fork()
    if pid == 0:                       # the child: run, then end here, whatever happens
        try:
            code = func(*args)
        except BaseException:
            traceback.print_exc()
            code = 1
        os._exit(code if isinstance(code, int) else 0)   # never return into the parent's code
    return pid


def reaped():
    """{pid: exit code} of the children reaped so far."""
    return dict(_reaped)


def spawn_orphan(func):
    """Double fork: a grandchild runs func() and outlives its parent, which this process
    reaps at once. Returns the grandchild's pid."""
    r, w = os.pipe()
    middle = os.fork()
    if middle == 0:
        os.close(r)
        try:
            grandchild = start(func)
            os.write(w, f"{grandchild}\n".encode())
        finally:
            os._exit(0)                # the middle child ends: the grandchild is an orphan
    os.close(w)
    with os.fdopen(r) as f:
        grandchild = int(f.readline())
    try:
        os.waitpid(middle, 0)          # reap the middle child: no zombie left behind
    except ChildProcessError:          # a SIGCHLD handler (install()) reaped it already
        pass
    return grandchild
