"""File client: upload a file to the server, or download one from it.

    python client.py --host 127.0.0.1 --port 9000 upload PATH
    python client.py --host 127.0.0.1 --port 9000 download NAME

upload sends the file at PATH under its base name; download saves NAME in the current folder,
only once its size and SHA-256 match the server's reply. On success one line on stdout:
"uploaded NAME SIZE SHA256" or "downloaded NAME SIZE SHA256", exit code 0. On any failure:
"error: ..." on stderr, nothing on stdout, exit code 1.
"""
import argparse
import os
import socket
import sys
import tempfile

from protocol import file_sha256, recv_file, recv_header, send_file, send_header


class Failed(Exception):
    """What went wrong, in a sentence for stderr."""


def reply(sock: socket.socket) -> dict:
    header = recv_header(sock)
    if header is None:
        raise Failed("the server closed the connection without a reply")
    if header.get("ok") is not True:
        raise Failed(str(header.get("error", header)))
    return header


def upload(sock: socket.socket, path: str) -> str:
    name = os.path.basename(path)
    with open(path, "rb") as f:
        sha256 = file_sha256(f)
        size = f.tell()
        f.seek(0)
        send_header(sock, {"op": "upload", "filename": name, "size": size, "sha256": sha256})
        send_file(sock, f)
    reply(sock)
    return f"uploaded {name} {size} {sha256}"


def download(sock: socket.socket, name: str) -> str:
    send_header(sock, {"op": "download", "filename": name})
    header = reply(sock)
    size, sha256 = header.get("size"), header.get("sha256")
    if type(size) is not int or size < 0 or not isinstance(sha256, str):
        raise Failed(f"the server's reply has no valid size and sha256: {header}")
    fd, temp = tempfile.mkstemp(dir=".", prefix=".download-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            digest = recv_file(sock, f, size)
        if digest != sha256.lower():
            raise Failed(f"sha256 mismatch: received {digest}, the server said {sha256}")
        os.replace(temp, name)  # the name only for a checked file
    except BaseException:
        try:
            os.remove(temp)
        except OSError:
            pass
        raise
    return f"downloaded {name} {size} {sha256}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    ops = parser.add_subparsers(dest="op", required=True)
    ops.add_parser("upload", help="send a file").add_argument("path")
    ops.add_parser("download", help="fetch a file").add_argument("name")
    args = parser.parse_args()
    try:
        with socket.create_connection((args.host, args.port)) as sock:
            if args.op == "upload":
                line = upload(sock, args.path)
            else:
                line = download(sock, args.name)
    except (Failed, OSError, ValueError) as exc:  # ConnectionError is an OSError
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
    print(line)


if __name__ == "__main__":
    main()
