"""The program to convert (given, not graded): fetch many paths at once, one OS thread each.

Run it:  python threaded_fetch.py --host 127.0.0.1 --port 9000 /a /b /c
For each path: connect, send b"GET <path>\\n", read the one-line answer, close. Prints the
answers in the order of the paths. fetch.py does the same with one thread and greenlets.
"""
import argparse
import socket
import sys
import threading


def fetch(host: str, port: int, path: str) -> str:
    """The server's one-line answer to GET <path> (without its newline)."""
    with socket.create_connection((host, port)) as sock:
        sock.sendall(f"GET {path}\n".encode())
        reply = b""
        while not reply.endswith(b"\n"):
            chunk = sock.recv(4096)
            if not chunk:
                raise ConnectionError("the server closed before the end of its answer")
            reply += chunk
    return reply[:-1].decode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("paths", nargs="+")
    args = parser.parse_args()
    answers = {}

    def run(path: str) -> None:
        try:
            answers[path] = fetch(args.host, args.port, path)
        except OSError as exc:
            answers[path] = exc

    threads = [threading.Thread(target=run, args=(p,)) for p in args.paths]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    failed = False
    for path in args.paths:
        answer = answers[path]
        if isinstance(answer, Exception):
            print(f"{path} error: {answer}", file=sys.stderr)
            failed = True
        else:
            print(answer)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
