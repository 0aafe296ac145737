"""A small HTTP/1.1 file server on raw sockets: GET and HEAD for the files of one folder.

Run it:  python server.py --host 127.0.0.1 --port 8000 --root www
then open http://127.0.0.1:8000/ in a browser, or:  curl -i http://127.0.0.1:8000/
Read README.md in this folder for the whole task, then `grader check http_server`.
"""
import argparse
import os
import socket

MAX_HEAD = 8192  # bytes of request line + header lines + the empty line, at most

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".png": "image/png",
    ".json": "application/json",
}
DEFAULT_TYPE = "application/octet-stream"
REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"}


def serve(host: str, port: int, root: str) -> None:
    """Listen on (host, port) and answer one request per connection, one client after
    another, with the files under `root`, until killed."""
    # TODO: socket(), bind((host, port)), listen(), then loop forever: accept() a client and
    #   1. read the request head: recv() into a buffer until it holds b"\r\n\r\n" (b'' first:
    #      the client gave up - just close; more than MAX_HEAD bytes and no empty line: 400);
    #   2. check the request line METHOD TARGET VERSION (400 if it is not one; 405 for a
    #      method other than GET and HEAD);
    #   3. turn the target into a file under root: cut at '?', percent-decode
    #      (urllib.parse.unquote), split on '/', refuse '..' (400), a folder -> index.html;
    #   4. answer: status line, Content-Type, Content-Length, Connection: close, each line
    #      ending in \r\n, an empty line, then the body (none for HEAD) - with sendall();
    #   5. close the connection.
    raise NotImplementedError("serve() is not written yet")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--root", default=".", help="the folder to serve")
    args = parser.parse_args()
    serve(args.host, args.port, os.path.abspath(args.root))


if __name__ == "__main__":
    main()
