"""File server: clients upload files into UPLOAD_DIR and download them again.

Run it:  python server.py --host 127.0.0.1 --port 9000 --dir uploads

Read README.md in this folder for the whole task (中文说明见 README.zh.md), then
`grader check file_upload`.
"""
import argparse
import os
import socket
import sys
import tempfile

from protocol import recv_file, recv_header, send_file, send_header


def serve(host: str, port: int, root: str) -> None:
    """Create `root` if needed, listen on (host, port), serve clients one after another."""
    # TODO: os.makedirs(root, exist_ok=True); bind, listen; for each client, answer its requests
    #       in turn until recv_header() returns None:
    #   upload:   check the name; tempfile.mkstemp(dir=root); recv_file() into it; compare the
    #             sha256; os.replace() to the real name; reply {"ok": true}. On failure delete
    #             the temporary file. A refused name: recv_file(conn, None, size), then the error.
    #   download: check the name; reply {"ok": true, "filename", "size", "sha256"}, send_file().
    #   errors:   {"ok": false, "error": "..."}; a bad header (ValueError): reply, then close.
    #             A client gone mid-file (ConnectionError): close, serve the next client.
    raise NotImplementedError("serve() is not written yet")


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
