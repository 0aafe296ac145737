"""Framing client: sends each line of stdin (without its newline) as one message and prints
each reply on a line of its own.

Run it:  printf 'hello\nworld\n' | python client.py --host 127.0.0.1 --port 9000
"""
import argparse
import socket
import sys

from framing import recv_msg, send_msg


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    args = parser.parse_args()
    with socket.create_connection((args.host, args.port)) as sock:
        for line in sys.stdin.buffer:
            send_msg(sock, line.removesuffix(b"\n"))
            reply = recv_msg(sock)
            if reply is None:
                sys.exit("client.py: the server closed the connection before replying")
            sys.stdout.buffer.write(reply + b"\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
