"""File client: upload a file to the server, or download one from it.

    python client.py --host 127.0.0.1 --port 9000 upload PATH
    python client.py --host 127.0.0.1 --port 9000 download NAME

Success: one line on stdout, "uploaded NAME SIZE SHA256" or "downloaded NAME SIZE SHA256",
exit code 0. Any failure: "error: ..." on stderr, nothing on stdout, exit code 1.
Read README.md in this folder for the whole task (中文说明见 README.zh.md), then
`grader check file_upload`.
"""
import argparse
import os
import socket
import sys
import tempfile

from protocol import recv_file, recv_header, send_file, send_header


def upload(sock: socket.socket, path: str) -> str:
    """Send the file at `path` under its base name; return the line to print."""
    # TODO: sha256 and size of the file (read it in chunks); send_header() with op, filename,
    #       size, sha256; send_file(); read the reply: {"ok": false} is a failure.
    raise NotImplementedError("upload() is not written yet")


def download(sock: socket.socket, name: str) -> str:
    """Fetch `name` into the current folder; return the line to print."""
    # TODO: send {"op": "download", "filename": name}; read the reply; recv_file() into a
    #       temporary file here; check the sha256; only then os.replace() it to `name`.
    raise NotImplementedError("download() is not written yet")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    ops = parser.add_subparsers(dest="op", required=True)
    ops.add_parser("upload", help="send a file").add_argument("path")
    ops.add_parser("download", help="fetch a file").add_argument("name")
    args = parser.parse_args()
    # TODO: connect; upload() or download(); print the line and exit 0 - or, on any failure,
    #       print("error: ...", file=sys.stderr) and sys.exit(1).
    raise NotImplementedError("the client is not written yet")


if __name__ == "__main__":
    main()
