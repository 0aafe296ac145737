"""Fetch many paths at once with gevent: one OS thread, one greenlet per path.

Run it:  python fetch.py --host 127.0.0.1 --port 9000 /a /b /c
Read README.md in this folder for the whole task (中文说明见 README.zh.md), then
`grader check gevent_convert`.
"""
from gevent import monkey

monkey.patch_all()  # first, before anything imports socket, threading, time or select

import argparse  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402

import gevent  # noqa: E402


def fetch(host: str, port: int, path: str) -> str:
    """The server's one-line answer to GET <path> (without its newline)."""
    with socket.create_connection((host, port)) as sock:
        sock.sendall(f"GET {path}\n".encode())
        reply = b""
        while not reply.endswith(b"\n"):
            chunk = sock.recv(4096)
            if not chunk:
                raise ConnectionError("the server closed before the end of its answer")
            reply += chunk
    return reply[:-1].decode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("paths", nargs="+")
    args = parser.parse_args()
    jobs = [gevent.spawn(fetch, args.host, args.port, path) for path in args.paths]
    gevent.joinall(jobs)
    failed = False
    for path, job in zip(args.paths, jobs):
        if job.successful():
            print(job.value)
        else:
            print(f"{path} error: {job.exception}", file=sys.stderr)
            failed = True
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
