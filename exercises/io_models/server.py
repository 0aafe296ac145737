"""A non-blocking echo server on one thread: IO multiplexing with selectors (epoll on Linux).

Run it:  python server.py --host 127.0.0.1 --port 9000
Read README.md in this folder for the whole task, then `grader check io_models`.
"""
import argparse
import selectors
import socket

CHUNK = 65536


class Conn:
    """One client's state: what it still has to be sent, and whether it has finished sending."""

    def __init__(self) -> None:
        self.out = bytearray()  # echoed bytes the kernel has not taken yet
        self.eof = False        # the client closed its side: send what is left, then close


def serve(host: str, port: int) -> None:
    """Listen on (host, port) and echo every client, all of them at once, from one thread."""
    sel = selectors.DefaultSelector()
    # TODO: a listening socket, non-blocking, registered for EVENT_READ. Then loop forever:
    #       for key, mask in sel.select(): accept new clients (non-blocking, registered with a
    #       Conn), recv() from readable ones, send() pending bytes to writable ones - keeping
    #       what send() did not take - and unregister + close the clients that are done.
    raise NotImplementedError("serve() is not written yet")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    args = parser.parse_args()
    serve(args.host, args.port)


if __name__ == "__main__":
    main()
