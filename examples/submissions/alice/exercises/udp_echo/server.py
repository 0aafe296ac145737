"""UDP echo server: answers every datagram with the same bytes, sent back to its sender."""
import argparse
import socket

MAX_DATAGRAM = 65535  # no UDP datagram is longer: ask for this much, or the rest is cut off


def serve(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, port))
        while True:
            # One recvfrom() is one whole datagram (never half of one, never two glued
            # together) plus the address of whoever sent it. b'' is an empty datagram,
            # not "closed": UDP has no connection that could close.
            data, addr = sock.recvfrom(MAX_DATAGRAM)
            try:
                sock.sendto(data, addr)  # answer exactly the sender of this datagram
            except OSError:
                pass  # a sender we cannot answer must not stop the server for everyone else


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    args = parser.parse_args()
    serve(args.host, args.port)


if __name__ == "__main__":
    main()
