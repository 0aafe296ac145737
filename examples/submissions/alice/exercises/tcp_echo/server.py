"""TCP echo server: sends every byte a client sends straight back, one client after another."""
import argparse
import socket


def handle(conn: socket.socket) -> None:
    """Echo until the client closes its side (recv returns b'')."""
    while True:
        data = conn.recv(65536)
        if not data:  # b'' means the client closed: this conversation is over
            return
        conn.sendall(data)  # send() may write only part of data; sendall() loops until done


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
                    pass  # the client vanished mid-stream: not our problem, serve the next one


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    args = parser.parse_args()
    serve(args.host, args.port)


if __name__ == "__main__":
    main()
