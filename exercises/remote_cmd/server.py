"""Remote command server: runs each command line a client sends and answers with the
command's stdout, stderr and exit code, framed with a JSON header (README.md, cmdwire.py).

DANGER: whoever can connect to this port runs any command with YOUR rights. Listen only on
the --host you are given (127.0.0.1), never on '' or 0.0.0.0.

Run it:  python server.py --host 127.0.0.1 --port 9000 --timeout 10
"""
import argparse
import os
import signal
import socket
import subprocess

from cmdwire import recv_command, send_result


def run(command: str, timeout: float) -> tuple[bytes, bytes, int, bool]:
    """Run `command` with the shell, in this folder; (stdout, stderr, exit_code, timed_out)."""
    # TODO: subprocess.Popen(command, shell=True, stdin=subprocess.DEVNULL,
    #       stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True);
    #       read BOTH pipes at once with communicate(timeout=timeout). On TimeoutExpired kill
    #       the whole process group (os.killpg(proc.pid, signal.SIGKILL)), then communicate()
    #       again for what it wrote, and report timed_out=True.
    raise NotImplementedError("run() is not written yet")


def serve(host: str, port: int, timeout: float) -> None:
    """Listen on (host, port) and serve clients one after another, until killed."""
    # TODO: bind to (host, port) exactly, listen, then loop: accept a client; for each
    #       command it sends, run() it and send_result(); when it closes, close and accept
    #       the next. A client that misbehaves (OSError, ValueError) must not stop the server.
    raise NotImplementedError("serve() is not written yet")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--timeout", type=float, default=10.0,
                        help="seconds a command may run before it is killed")
    args = parser.parse_args()
    serve(args.host, args.port, args.timeout)


if __name__ == "__main__":
    main()
