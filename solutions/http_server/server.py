"""A small HTTP/1.1 file server on raw sockets: GET and HEAD for the files of one folder.

Run it:  python server.py --host 127.0.0.1 --port 8000 --root www
then open http://127.0.0.1:8000/ in a browser, or:  curl -i http://127.0.0.1:8000/
"""
import argparse
import os
import socket
from urllib.parse import unquote

MAX_HEAD = 8192  # bytes of request line + header lines + the blank line, at most

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


class BadRequest(Exception):
    """The request is not one this server can understand, or asks for a path outside the
    folder: the answer is 400 Bad Request."""


def read_head(conn: socket.socket) -> bytes | None:
    """The request's head (request line and header lines, without the blank line that ends
    it), or None if the client closed before a whole head came. The head ends at the first
    b"\\r\\n\\r\\n" - never at the end of a recv(): one recv() may hold a piece of the head."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        if len(buf) > MAX_HEAD:
            raise BadRequest("the request head is longer than %d bytes" % MAX_HEAD)
        chunk = conn.recv(4096)
        if not chunk:  # b'': the client closed before the blank line
            return None
        buf += chunk
    head, _, _ = buf.partition(b"\r\n\r\n")
    if len(head) + 4 > MAX_HEAD:
        raise BadRequest("the request head is longer than %d bytes" % MAX_HEAD)
    return head


def parse_request(head: bytes) -> tuple[str, str, dict]:
    """(method, target, headers) of a request head; BadRequest if it is not HTTP/1.x."""
    lines = head.decode("iso-8859-1").split("\r\n")  # HTTP heads are bytes: latin-1 never fails
    parts = lines[0].split(" ")
    if len(parts) != 3:
        raise BadRequest("the request line is not METHOD TARGET VERSION")
    method, target, version = parts
    if not method or version not in ("HTTP/1.0", "HTTP/1.1") or not target.startswith("/"):
        raise BadRequest("bad request line")
    headers = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():
            raise BadRequest("bad header line")
        headers[name.lower()] = value.strip()
    return method, target, headers


def percent_decode(path: str) -> str:
    try:
        return unquote(path, errors="strict")
    except UnicodeDecodeError:
        raise BadRequest("the path is not UTF-8 once percent-decoded") from None


def resolve(root: str, target: str) -> str:
    """The file a target names inside `root`. BadRequest for a path that tries to leave it."""
    raw = target.split("?", 1)[0].split("#", 1)[0]
    path = percent_decode(raw)  # decode first, then check: %2e%2e is ".."
    if "\0" in path:
        raise BadRequest("a NUL byte in the path")
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise BadRequest("the path leaves the folder")
    full = os.path.join(root, *parts)  # parts only: never a leading "/", never ".."
    if os.path.isdir(full):
        full = os.path.join(full, "index.html")
    return full


def content_type(path: str) -> str:
    ext = os.path.splitext(path)[1]
    return CONTENT_TYPES.get(ext, DEFAULT_TYPE)


def respond(conn: socket.socket, status: int, body: bytes, ctype: str, *,
            head_only: bool = False, extra: tuple = ()) -> None:
    lines = [f"HTTP/1.1 {status} {REASONS[status]}",
             f"Content-Type: {ctype}",
             f"Content-Length: {len(body)}",  # the body's length in bytes, HEAD included
             "Connection: close",
             *(f"{name}: {value}" for name, value in extra)]
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("iso-8859-1")
    conn.sendall(head if head_only else head + body)


def error(conn: socket.socket, status: int, head_only: bool = False, extra: tuple = ()) -> None:
    body = f"{status} {REASONS[status]}\n".encode()
    respond(conn, status, body, "text/plain; charset=utf-8", head_only=head_only, extra=extra)


def handle(conn: socket.socket, root: str) -> None:
    """Answer one request on `conn`; the caller closes it (Connection: close)."""
    head_only = False
    try:
        head = read_head(conn)
        if head is None:
            return  # the client left without a whole request: nothing to answer
        method, target, headers = parse_request(head)
        if method not in ("GET", "HEAD"):
            return error(conn, 405, extra=(("Allow", "GET, HEAD"),))
        head_only = method == "HEAD"
        path = resolve(root, target)
    except BadRequest:
        return error(conn, 400, head_only)
    try:
        with open(path, "rb") as f:
            body = f.read()
    except OSError:  # missing, a folder without index.html, a file used as a folder...
        return error(conn, 404, head_only)
    respond(conn, 200, body, content_type(path), head_only=head_only)


def serve(host: str, port: int, root: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(16)
        while True:
            conn, addr = listener.accept()
            with conn:
                try:
                    handle(conn, root)
                except OSError:
                    pass  # the client vanished (reset, timeout): serve the next one


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--root", default=".", help="the folder to serve")
    args = parser.parse_args()
    serve(args.host, args.port, os.path.abspath(args.root))


if __name__ == "__main__":
    main()
