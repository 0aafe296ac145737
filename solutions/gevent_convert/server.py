"""An echo server with gevent: one OS thread, one greenlet per client.

Run it:  python server.py --host 127.0.0.1 --port 9000
Read README.md in this folder for the whole task (中文说明见 README.zh.md), then
`grader check gevent_convert`.
"""
from gevent import monkey

monkey.patch_all()  # first, before anything imports socket, threading, time or select

import argparse  # noqa: E402
import socket  # noqa: E402

import gevent  # noqa: E402


def handle(conn: socket.socket) -> None:
    """Echo what the client sends until it closes, then close. recv() and sendall() on a
    patched socket wait in the hub, so the other greenlets run meanwhile."""
    with conn:
        try:
            while True:
                data = conn.recv(65536)
                if not data:
                    break
                conn.sendall(data)
        except OSError:
            pass  # the client vanished: this conversation is over, the server goes on


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    args = parser.parse_args()
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((args.host, args.port))
    server.listen(1024)
    while True:
        conn, _ = server.accept()
        gevent.spawn(handle, conn)


if __name__ == "__main__":
    main()
