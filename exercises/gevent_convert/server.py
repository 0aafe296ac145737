"""An echo server with gevent: one OS thread, one greenlet per client.

Run it:  python server.py --host 127.0.0.1 --port 9000
Read README.md in this folder for the whole task (中文说明见 README.zh.md), then
`grader check gevent_convert`. Start from threaded_server.py: it already works, with threads.
"""
# TODO: the very first lines: from gevent import monkey, then call monkey.patch_all() -
#       before anything else imports socket, threading, time or select.

import argparse


def handle(conn) -> None:
    """Echo what the client sends until it closes, then close."""
    # TODO: as in threaded_server.py: recv() and sendall() until recv() returns b'', then
    #       close the connection (a with block); a client that vanishes must not end the server.
    raise NotImplementedError("handle() is not written yet")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    args = parser.parse_args()
    # TODO: listen on (args.host, args.port) as threaded_server.py does, and for every
    #       accepted connection gevent.spawn(handle, conn) instead of starting a thread.
    raise NotImplementedError("server.py is not written yet")


if __name__ == "__main__":
    main()
