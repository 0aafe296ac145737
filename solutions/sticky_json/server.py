"""Receipt server: answers every frame with the same body and the same metadata, plus the
body's SHA-256 in the header; refuses a bad header with an error frame.

Run it:  python server.py --host 127.0.0.1 --port 9000
"""
import argparse
import hashlib
import socket

from jsonframe import recv_frame, send_frame


def answer(conn: socket.socket) -> bool:
    """Read one frame and answer it; False when the client has closed cleanly."""
    frame = recv_frame(conn)
    if frame is None:
        return False
    header, body = frame
    reply = {key: value for key, value in header.items() if key != "data_len"}
    reply["sha256"] = hashlib.sha256(body).hexdigest()
    send_frame(conn, reply, body)
    return True


def handle(conn: socket.socket) -> None:
    """Answer each frame of one client until it closes cleanly."""
    while True:
        try:
            if not answer(conn):
                return
        except ValueError as exc:  # a bad header: say why, then hang up - the stream is lost
            send_frame(conn, {"error": str(exc)}, b"")
            return


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
                    pass  # the client vanished or cut a frame short: serve the next one


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    args = parser.parse_args()
    serve(args.host, args.port)


if __name__ == "__main__":
    main()
