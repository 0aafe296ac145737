"""Remote command server: runs each command line a client sends and answers with the
command's stdout, stderr and exit code, framed with a JSON header (see cmdwire.py).

DANGER: whoever can connect to this port runs any command with YOUR rights. It listens only
on the --host it is given; give it 127.0.0.1, never 0.0.0.0.

Run it:  python server.py --host 127.0.0.1 --port 9000 --timeout 10
"""
import argparse
import os
import signal
import socket
import subprocess

from cmdwire import recv_command, send_result


def run(command: str, timeout: float) -> tuple[bytes, bytes, int, bool]:
    """Run `command` with the shell; (stdout, stderr, exit_code, timed_out)."""
    proc = subprocess.Popen(command, shell=True, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)  # its own process group: killed as one
    try:
        # communicate() reads stdout AND stderr at the same time until both end: a command
        # that fills one pipe while we wait on the other cannot deadlock us
        out, err = proc.communicate(timeout=timeout)
        return out, err, proc.returncode, False
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the shell AND everything it started
        except ProcessLookupError:
            pass  # it ended just now
        out, err = proc.communicate()  # what it wrote before it was killed; reaps it
        return out, err, proc.returncode, True


def handle(conn: socket.socket, timeout: float) -> None:
    """Run one client's commands, one after another, until it closes."""
    while True:
        command = recv_command(conn)
        if command is None:  # the client closed cleanly
            return
        out, err, code, timed_out = run(command, timeout)
        send_result(conn, out, err, code, timed_out)


def serve(host: str, port: int, timeout: float) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))  # only where told: anyone who reaches it runs commands
        listener.listen(5)
        while True:
            conn, _ = listener.accept()
            with conn:
                try:
                    handle(conn, timeout)
                except (OSError, ValueError):
                    pass  # a client gone, cut off, or not speaking the protocol: the next one


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
