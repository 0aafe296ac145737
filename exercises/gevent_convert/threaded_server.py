"""The program to convert (given, not graded): an echo server with one OS thread per client.

Run it:  python threaded_server.py --host 127.0.0.1 --port 9000
Every client costs a thread (its stack, a kernel task): a few thousand idle clients are a few
thousand threads. server.py does the same with one thread and a greenlet per client.
"""
import argparse
import socket
import threading


def handle(conn: socket.socket) -> None:
    """Echo what the client sends until it closes, then close."""
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
        threading.Thread(target=handle, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
