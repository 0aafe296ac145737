"""An asyncio client: every line of stdin is one request on a connection of its own, all of
them in flight at once (asyncio.gather); the replies are printed in the order of the lines.

Run it:  printf 'one\ntwo\n' | python client.py --host 127.0.0.1 --port 9000
"""
import argparse
import asyncio
import sys


async def request(host: str, port: int, line: bytes) -> bytes:
    """Connect, send `line` + b'\\n', return the reply line, close."""
    # TODO: asyncio.open_connection(host, port), writer.write(), await writer.drain(),
    #       await reader.readline(), then writer.close() and await writer.wait_closed()
    raise NotImplementedError("request() is not written yet")


async def run(host: str, port: int, lines: list[bytes]) -> list[bytes]:
    """Every request at once; the replies in the order of `lines`."""
    raise NotImplementedError("run() is not written yet")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    args = parser.parse_args()
    lines = sys.stdin.buffer.read().splitlines()
    for reply in asyncio.run(run(args.host, args.port, lines)):
        sys.stdout.buffer.write(reply if reply.endswith(b"\n") else reply + b"\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
