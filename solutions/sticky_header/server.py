"""Reversing server: answers every framed message with the same message reversed byte by byte.

Run it:  python server.py --host 127.0.0.1 --port 9000
"""
import argparse
import socket

from framing import recv_msg, send_msg


def handle(conn: socket.socket) -> None:
    """Answer each message of one client until it closes cleanly (recv_msg returns None)."""
    while True:
        msg = recv_msg(conn)
        if msg is None:  # None, not b'': an empty message is a message too
            return
        send_msg(conn, msg[::-1])


def serve(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(5)
        while True:
            conn, addr = listener.accept()
            with conn:
                try:
                    handle(conn)
                except ConnectionError:
                    pass  # the client vanished or cut a message short: serve the next one


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    args = parser.parse_args()
    serve(args.host, args.port)


if __name__ == "__main__":
    main()
