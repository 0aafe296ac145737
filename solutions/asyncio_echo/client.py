"""An asyncio client: every line of stdin is one request on a connection of its own, all of
them in flight at once (asyncio.gather); the replies are printed in the order of the lines."""
import argparse
import asyncio
import sys


async def request(host: str, port: int, line: bytes) -> bytes:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(line + b"\n")
        await writer.drain()
        return await reader.readline()
    finally:
        writer.close()
        await writer.wait_closed()


async def run(host: str, port: int, lines: list[bytes]) -> list[bytes]:
    # gather starts every request at once and returns the results in the order given
    return await asyncio.gather(*(request(host, port, line) for line in lines))


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
