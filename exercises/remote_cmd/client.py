"""Remote command client: sends each line of stdin as one command, then prints the command's
stdout (to stdout), its stderr (to stderr) and a status line "[exit N]" (to stdout).

Run it:  printf 'echo hello\nls\n' | python client.py --host 127.0.0.1 --port 9000
"""
import argparse
import socket
import sys

from cmdwire import recv_result, send_command


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    args = parser.parse_args()
    # TODO: connect; for each line of sys.stdin.buffer: drop the b"\n", decode UTF-8, skip an
    #       empty line; send_command(), recv_result(); write stdout to sys.stdout.buffer,
    #       stderr to sys.stderr.buffer, then b"[exit N]\n" (b"[exit N, timed out]\n") - with
    #       a b"\n" first if stdout was not empty and did not end with one. Flush. At the end of
    #       stdin close the connection and exit 0.
    raise NotImplementedError("the client is not written yet")


if __name__ == "__main__":
    main()
