"""Receipt server: answers every frame with the same body and the same metadata, plus the
body's SHA-256 in the header; refuses a bad header with an error frame.

Run it:  python server.py --host 127.0.0.1 --port 9000
Read README.md in this folder for the whole task (中文说明见 README.zh.md), then
`grader check sticky_json`.
"""
import argparse
import hashlib
import socket

from jsonframe import recv_frame, send_frame


def serve(host: str, port: int) -> None:
    """Listen on (host, port) and serve clients one after another, until killed."""
    # TODO: bind, listen, then loop forever: accept a client and answer its frames in turn:
    #       frame = recv_frame(conn); None means the client closed: close and serve the next;
    #       otherwise reply with send_frame(conn, metadata + {"sha256": ...}, body), where the
    #       metadata is the request's header without data_len and the hash is
    #       hashlib.sha256(body).hexdigest().
    #       ValueError (a bad header): send_frame(conn, {"error": str(exc)}, b""), then close.
    #       ConnectionError (the client hung up mid-frame): close. Either way, keep serving.
    raise NotImplementedError("serve() is not written yet")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    args = parser.parse_args()
    serve(args.host, args.port)


if __name__ == "__main__":
    main()
