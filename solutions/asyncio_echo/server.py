"""An asyncio line server: one task per connection on one thread, with back-pressure,
an idle timeout per client and a graceful shutdown.

Each line a client sends comes back as it is, except `WAIT <seconds>`: the server waits that
long (without holding up anyone else) and answers `WAITED <seconds>`.
"""
import argparse
import asyncio
import signal

GOODBYE = b"* server shutting down\n"
IDLE = b"* idle timeout\n"


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, idle: float) -> None:
    try:
        while True:
            try:
                line = await asyncio.wait_for(reader.readline(), idle)
            except asyncio.TimeoutError:
                writer.write(IDLE)  # silent for too long: say so and hang up
                break
            if not line:
                break  # the client closed its side
            if line.startswith(b"WAIT "):
                seconds = line[5:].strip()
                await asyncio.sleep(float(seconds))  # waits for this client only: the loop runs on
                writer.write(b"WAITED " + seconds + b"\n")
            else:
                writer.write(line)
            await writer.drain()  # back-pressure: pause while the client is slow to read
    except asyncio.CancelledError:
        writer.write(GOODBYE)  # the server is shutting down
        raise
    except (ConnectionError, ValueError):
        pass  # the client vanished, or a line over the reader's limit
    finally:
        writer.close()  # every connection is closed, whatever ended it
        try:
            await writer.wait_closed()
        except (ConnectionError, asyncio.CancelledError):
            pass


async def serve(host: str, port: int, idle: float) -> None:
    tasks: set[asyncio.Task] = set()

    async def client(reader, writer):
        task = asyncio.current_task()
        tasks.add(task)
        try:
            await handle(reader, writer, idle)
        finally:
            tasks.discard(task)

    server = await asyncio.start_server(client, host, port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()  # no new clients
    for task in list(tasks):
        task.cancel()  # each handler says goodbye and closes its connection
    await asyncio.gather(*tasks, return_exceptions=True)
    await server.wait_closed()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--idle-timeout", type=float, default=60.0)
    args = parser.parse_args()
    asyncio.run(serve(args.host, args.port, args.idle_timeout))


if __name__ == "__main__":
    main()
