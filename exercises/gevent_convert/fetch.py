"""Fetch many paths at once with gevent: one OS thread, one greenlet per path.

Run it:  python fetch.py --host 127.0.0.1 --port 9000 /a /b /c
Read README.md in this folder for the whole task (中文说明见 README.zh.md), then
`grader check gevent_convert`. Start from threaded_fetch.py: it already works, with threads.
"""
# TODO: the very first lines: from gevent import monkey, then call monkey.patch_all().

import argparse


def fetch(host: str, port: int, path: str) -> str:
    """The server's one-line answer to GET <path> (without its newline)."""
    # TODO: as in threaded_fetch.py: connect, send b"GET <path>\n", read up to the b"\n",
    #       close the connection (a with block), return the line.
    raise NotImplementedError("fetch() is not written yet")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("paths", nargs="+")
    args = parser.parse_args()
    # TODO: one gevent.spawn(fetch, ...) per path, gevent.joinall(...) them, then print the
    #       answers in the order of the paths (job.value); a failed one: "<path> error: ..."
    #       on stderr, and exit code 1.
    raise NotImplementedError("fetch.py is not written yet")


if __name__ == "__main__":
    main()
