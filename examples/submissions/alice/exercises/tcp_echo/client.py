"""TCP echo client: sends each line of stdin and prints the line the server echoes back."""
import argparse
import socket
import sys


def recv_exactly(sock: socket.socket, n: int) -> bytes:
    """TCP is a byte stream: one recv() may return any part of what was sent, so loop."""
    data = bytearray()
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError(f"server closed after {len(data)} of {n} bytes")
        data += chunk
    return bytes(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    args = parser.parse_args()
    with socket.create_connection((args.host, args.port)) as sock:
        for line in sys.stdin.buffer:
            sock.sendall(line)
            reply = recv_exactly(sock, len(line))
            sys.stdout.buffer.write(reply if reply.endswith(b"\n") else reply + b"\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
