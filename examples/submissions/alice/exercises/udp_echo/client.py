"""UDP echo client: sends each line of stdin as one datagram and prints the server's echo,
resending when no echo comes back in time (a datagram, like an SMS, may simply be lost)."""
import argparse
import socket
import sys
import time

MAX_DATAGRAM = 65535  # recvfrom(n) silently cuts off everything past n bytes of a datagram


def ask(sock: socket.socket, server: tuple, data: bytes, timeout: float, retries: int) -> bytes | None:
    """Send `data` to `server` and return its echo; resend after `timeout` seconds without
    one, at most `retries` times. None when every try went unanswered."""
    for attempt in range(1 + retries):
        sock.sendto(data, server)
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                reply, addr = sock.recvfrom(MAX_DATAGRAM)
            except socket.timeout:
                break  # this try is lost (the request or its echo): send again
            if addr == server and reply == data:
                return reply
            # Anything else is stale - a duplicate, or the late echo of an earlier try or line -
            # or not from the server at all: ignore it and keep waiting for the real echo.
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--timeout", type=float, default=1.0, help="seconds to wait for each echo")
    parser.add_argument("--retries", type=int, default=3, help="resends before giving up")
    args = parser.parse_args()
    # recvfrom() reports the sender as an IP address: resolve the host once to compare with it.
    server = socket.getaddrinfo(args.host, args.port, socket.AF_INET, socket.SOCK_DGRAM)[0][4]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:  # one socket for the whole run
        for line in sys.stdin.buffer:
            data = line[:-1] if line.endswith(b"\n") else line  # an empty line: an empty datagram
            reply = ask(sock, server, data, args.timeout, args.retries)
            if reply is None:
                print(f"error: no echo from {args.host}:{args.port} for {data[:40]!r} after "
                      f"{1 + args.retries} tries, {args.timeout:g} s each", file=sys.stderr)
                sys.exit(1)
            sys.stdout.buffer.write(reply + b"\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
