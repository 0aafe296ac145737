"""UDP echo client: sends each line of stdin as one datagram and prints the server's echo,
resending when no echo comes back in time (a datagram, like an SMS, may simply be lost).

Run it:  printf 'hello\nworld\n' | python client.py --host 127.0.0.1 --port 9000 --timeout 1 --retries 3
Read README.md in this folder for the whole task, then `grader check udp_echo`.
"""
import argparse
import socket
import sys


def ask(sock: socket.socket, server: tuple, data: bytes, timeout: float, retries: int) -> bytes | None:
    """Send `data` to `server` and return its echo; resend after `timeout` seconds without
    one, at most `retries` times. None when every try went unanswered."""
    # TODO: up to 1 + retries tries: sendto(data, server), then wait at most `timeout`
    #       seconds for the echo (sock.settimeout(); recvfrom() raises socket.timeout).
    #       A datagram that is not the echo of `data` from `server` is stale (a duplicate,
    #       the late echo of an earlier try) or not for you: ignore it and keep waiting.
    raise NotImplementedError("ask() is not written yet")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--timeout", type=float, default=1.0, help="seconds to wait for each echo")
    parser.add_argument("--retries", type=int, default=3, help="resends before giving up")
    args = parser.parse_args()
    # TODO: one UDP socket for the whole run. For each line of sys.stdin.buffer (bytes):
    #       drop the trailing newline (an empty line becomes an empty datagram), ask() the
    #       server, and write the echo plus b"\n" to sys.stdout.buffer (flush it).
    #       If ask() gets no echo: print an error to sys.stderr and sys.exit(1).
    raise NotImplementedError("the client is not written yet")


if __name__ == "__main__":
    main()
