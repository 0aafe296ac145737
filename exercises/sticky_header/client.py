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
    # TODO: connect to (args.host, args.port); for each line of sys.stdin.buffer (bytes):
    #       send_msg() it without its trailing b"\n", then recv_msg() the reply and write
    #       reply + b"\n" to sys.stdout.buffer (flush it). At the end of stdin, close.
    raise NotImplementedError("the client is not written yet")


if __name__ == "__main__":
    main()
