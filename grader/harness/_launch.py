"""Runs one student script inside its sandboxed process (standalone: imports nothing of grader).

    python -S -E _launch.py TIMEOUT SITE_PATHS script.py [args...]

TIMEOUT is the default socket timeout in seconds ('0': none): with it, `send()` can write only
part of a buffer, as on any real network, so a forgotten `sendall` shows. SITE_PATHS
(os.pathsep-separated) are appended to sys.path: the interpreter starts without `site`, which
saves ~50 ms per process. SIGUSR1 prints every thread's stack (faulthandler), so a deadlock
watchdog can put the stacks into the feedback. stdout is line-buffered, as on a terminal. The script runs as a fresh __main__ module;
tracebacks start at the student's own first frame. Imports are kept few: each costs every test.
"""
import faulthandler
import os
import signal
import sys

from _main import run_main  # found beside this file: sys.path[0] is still our folder here


def main() -> None:
    timeout, paths, script = sys.argv[1], sys.argv[2], os.path.abspath(sys.argv[3])
    if float(timeout) > 0:
        import socket
        socket.setdefaulttimeout(float(timeout))
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    sys.stdout.reconfigure(line_buffering=True)  # as on a terminal: a line printed is a line seen
    script_dir = os.path.dirname(script)
    sys.argv = sys.argv[3:]
    sys.path[0] = script_dir
    sys.path.extend(p for p in paths.split(":") if p)
    sys.exit(run_main(script))


if __name__ == "__main__":
    main()
