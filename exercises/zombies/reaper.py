"""Zombie and orphan processes: fork children, reap every one of them, and make an orphan.

Read README.md in this folder for the whole task, then `grader check zombies`.
The checks call these functions with a `func` of their own (it tells the checks which process
runs it and waits for their signal to end): call it, never replace it.
"""
import os
import signal

_reaped = {}   # pid -> exit code of every child reaped so far


def install():
    """Reap children as they end, while this process does other things: install a SIGCHLD
    handler that reaps every child that has ended and records its exit code in _reaped."""
    # TODO: signal.signal(signal.SIGCHLD, handler); in the handler, os.waitpid(-1, os.WNOHANG)
    #       in a loop - one SIGCHLD may stand for several children - until it returns pid 0
    #       or raises ChildProcessError; record os.waitstatus_to_exitcode(status)
    raise NotImplementedError("install() is not written yet")


def start(func, *args):
    """Fork a child that runs func(*args) and ends with its return value as exit code
    (1 if it raised). Return the child's pid at once; do not wait for it."""
    # TODO: pid = os.fork(); in the child (pid == 0) run func(*args) and end with
    #       os._exit(code) - never return into the parent's code; in the parent return pid
    raise NotImplementedError("start() is not written yet")


def reaped():
    """{pid: exit code} of the children reaped so far (-N for a child killed by signal N)."""
    return dict(_reaped)


def spawn_orphan(func):
    """Double fork: a grandchild runs func() and outlives its parent (the middle child), which
    ends at once and which this process reaps at once. Return the grandchild's pid."""
    # TODO: a pipe; fork the middle child; the middle child starts the grandchild, writes its
    #       pid into the pipe and os._exit(0); the parent reads the pid and reaps the middle
    #       child with os.waitpid(middle, 0)
    raise NotImplementedError("spawn_orphan() is not written yet")
