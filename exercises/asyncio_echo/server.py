"""An asyncio line server: one task per connection on one thread, with back-pressure,
an idle timeout per client and a graceful shutdown.

Run it:  python server.py --host 127.0.0.1 --port 9000 --idle-timeout 60
Read README.md in this folder for the whole task, then `grader check asyncio_echo`.
"""
import argparse
import asyncio
import signal

GOODBYE = b"* server shutting down\n"
IDLE = b"* idle timeout\n"


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, idle: float) -> None:
    """Serve one client: echo each line, answer `WAIT <seconds>` with `WAITED <seconds>` after
    waiting that long, say IDLE and close after `idle` seconds of silence, say GOODBYE when
    cancelled, and close the connection whatever ends it."""
    # TODO: a loop around reader.readline() with a timeout, writer.write(), await writer.drain()
    raise NotImplementedError("handle() is not written yet")


async def serve(host: str, port: int, idle: float) -> None:
    """Start the server, run until SIGTERM or SIGINT, then shut down gracefully."""
    # TODO: asyncio.start_server(...), loop.add_signal_handler(...), an asyncio.Event to wait
    #       on; then close the server, cancel the handler tasks and gather them
    raise NotImplementedError("serve() is not written yet")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--idle-timeout", type=float, default=60.0)
    args = parser.parse_args()
    asyncio.run(serve(args.host, args.port, args.idle_timeout))


if __name__ == "__main__":
    main()
