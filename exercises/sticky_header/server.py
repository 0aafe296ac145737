"""Reversing server: answers every framed message with the same message reversed byte by byte.

Run it:  python server.py --host 127.0.0.1 --port 9000
Read README.md in this folder for the whole task, then `grader check sticky_header`.
"""
import argparse
import socket

from framing import recv_msg, send_msg


def serve(host: str, port: int) -> None:
    """Listen on (host, port) and serve clients one after another, until killed."""
    # TODO: create a TCP socket, bind it to (host, port), listen, then loop forever:
    #       accept a client; msg = recv_msg(conn) again and again, answering each with
    #       send_msg(conn, msg[::-1]), until recv_msg returns None (the client closed);
    #       close the connection. A client that closes mid-message makes recv_msg raise
    #       ConnectionError: catch it for that client and serve the next one.
    raise NotImplementedError("serve() is not written yet")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    args = parser.parse_args()
    serve(args.host, args.port)


if __name__ == "__main__":
    main()
