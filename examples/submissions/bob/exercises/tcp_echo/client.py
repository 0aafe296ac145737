"""TCP echo client: sends each line of stdin and prints the line the server echoes back.

Run it:  printf 'hello\nworld\n' | python client.py --host 127.0.0.1 --port 9000
"""
import argparse
import socket
import sys


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    args = parser.parse_args()
    # TODO: connect to (args.host, args.port); for each line of sys.stdin.buffer (bytes,
    #       newline included) send it all, receive the whole echoed line, write it to stdout.
    raise NotImplementedError("the client is not written yet")


if __name__ == "__main__":
    main()
