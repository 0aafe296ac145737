"""File server: clients upload files into UPLOAD_DIR and download them again.

Run it:  python server.py --host 127.0.0.1 --port 9000 --dir uploads

Each request is a frame (protocol.py): {"op": "upload", "filename", "size", "sha256"} followed
by `size` bytes, or {"op": "download", "filename"}. Each gets one reply frame: {"ok": true}
(a download's reply adds filename, size and sha256, then the file's bytes), or
{"ok": false, "error": "..."}. An upload goes to a temporary file and takes its name only
once its size and hash are checked; a file name is a plain name inside UPLOAD_DIR, never a path.
"""
import argparse
import os
import re
import socket
import sys
import tempfile

from protocol import file_sha256, recv_file, recv_header, send_file, send_header

MAX_NAME = 255                     # bytes of UTF-8: the longest file name Linux allows
SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")


class Refused(Exception):
    """A request we answer with an error and then go on: the stream is still in step."""


class BadRequest(ValueError):
    """A header we cannot act on: we do not know where the next request starts, so we close."""


def safe_path(root: str, name: str) -> str:
    """The path of `name` inside `root`, or Refused when it is not a plain file name."""
    if name in ("", ".", "..") or "/" in name or "\\" in name or "\0" in name:
        raise Refused(f"refused file name {name!r}: a file name, not a path")
    try:
        encoded = name.encode("utf-8")
    except UnicodeEncodeError:
        raise Refused(f"refused file name {name!r}: not valid Unicode") from None
    if len(encoded) > MAX_NAME:
        raise Refused(f"refused file name: {len(encoded)} bytes, at most {MAX_NAME}")
    return os.path.join(root, name)


def checked(header: dict) -> dict:
    """The request's fields, checked before anything is read or written."""
    op, name = header.get("op"), header.get("filename")
    if op not in ("upload", "download"):
        raise BadRequest(f"unknown op {op!r}: 'upload' or 'download'")
    if not isinstance(name, str):
        raise BadRequest(f"filename must be a string, not {name!r}")
    if op == "upload":
        size, sha256 = header.get("size"), header.get("sha256")
        if type(size) is not int or size < 0:
            raise BadRequest(f"size must be an integer >= 0, not {size!r}")
        if not isinstance(sha256, str) or not SHA256_HEX.fullmatch(sha256):
            raise BadRequest(f"sha256 must be 64 hex digits, not {sha256!r}")
    return header


def upload(conn: socket.socket, root: str, name: str, size: int, sha256: str) -> None:
    try:
        path = safe_path(root, name)
    except Refused:
        recv_file(conn, None, size)  # read past the body: the next request starts after it
        raise
    fd, temp = tempfile.mkstemp(dir=root, prefix=".upload-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            digest = recv_file(conn, f, size)  # exactly size bytes, or ConnectionError
        if digest != sha256.lower():
            raise Refused(f"sha256 mismatch: the {size} bytes received have sha256 {digest}, "
                          f"the header said {sha256}")
        os.replace(temp, path)  # only a checked file gets the name, all at once
    except BaseException:       # refused, the client gone mid-file, a full disk: no trace left
        try:
            os.remove(temp)
        except OSError:
            pass
        raise
    send_header(conn, {"ok": True})


def download(conn: socket.socket, root: str, name: str) -> None:
    path = safe_path(root, name)
    try:
        f = open(path, "rb")
    except OSError:
        raise Refused(f"no such file: {name!r}") from None
    with f:
        size = os.fstat(f.fileno()).st_size
        sha256 = file_sha256(f)
        f.seek(0)
        send_header(conn, {"ok": True, "filename": name, "size": size, "sha256": sha256})
        send_file(conn, f)


def handle(conn: socket.socket, root: str) -> None:
    """Answer one client's requests, one reply each, until it closes."""
    while True:
        try:
            header = recv_header(conn)
            if header is None:
                return
            req = checked(header)
        except ValueError as exc:  # a bad header: say why, then hang up - the stream is lost
            send_header(conn, {"ok": False, "error": str(exc)})
            return
        try:
            if req["op"] == "upload":
                upload(conn, root, req["filename"], req["size"], req["sha256"])
            else:
                download(conn, root, req["filename"])
        except Refused as exc:
            send_header(conn, {"ok": False, "error": str(exc)})


def serve(host: str, port: int, root: str) -> None:
    os.makedirs(root, exist_ok=True)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(5)
        while True:
            conn, addr = listener.accept()
            with conn:
                try:
                    handle(conn, root)
                except OSError as exc:  # the client vanished (ConnectionError), a disk error
                    print(f"client {addr[0]}:{addr[1]}: {exc}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--dir", default="uploads", help="the upload folder (created if missing)")
    args = parser.parse_args()
    serve(args.host, args.port, args.dir)


if __name__ == "__main__":
    main()
