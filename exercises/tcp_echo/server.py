"""TCP echo server: sends every byte a client sends straight back, one client after another.

Run it:  python server.py --host 127.0.0.1 --port 9000
Read README.md in this folder for the whole task, then `grader check tcp_echo`.
"""
import argparse
import socket


def serve(host: str, port: int) -> None:
    """Listen on (host, port) and echo every client, one after another, until killed."""
    # TODO: create a TCP socket, bind it to (host, port), listen, then loop forever:
    #       accept a client, echo what it sends until recv() returns b'', close it.
    raise NotImplementedError("serve() is not written yet")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    args = parser.parse_args()
    serve(args.host, args.port)


if __name__ == "__main__":
    main()
