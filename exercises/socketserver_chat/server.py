"""Chat room server: every line a member sends reaches all the other members, with join and
leave notices. One thread per client (socketserver.ThreadingTCPServer + a handler class).

Run it:  python server.py --host 127.0.0.1 --port 9000
Read README.md in this folder for the whole task (中文说明见 README.zh.md), then
`grader check socketserver_chat`.
"""
import argparse
import socketserver
import threading


class Room:
    """Who is in the room: a dict {handler: nickname} that many threads share. Read or change
    it only while holding `self.lock`, and never send while holding the lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.members = {}

    # TODO: join(member, nick): add it, send it b"* welcome <nick>, <n> online\n" (n counts it),
    #       then tell the others b"* <nick> joined\n".
    # TODO: leave(member): take it out, tell the others b"* <nick> left\n".
    # TODO: broadcast(data, sender): send data to every member but the sender - copy the
    #       members under the lock, send outside it.


class ChatHandler(socketserver.StreamRequestHandler):
    """One client's conversation, in a thread of its own. self.rfile.readline() reads one
    line (b'' once the client has closed); self.wfile.write(data) sends (sendall underneath)."""

    def handle(self) -> None:
        # TODO: the first line is the nickname (without its b"\n"); an empty one is refused
        #       with b"* error: empty nickname\n". Then join the room, and for every later line
        #       broadcast b"<nick>: " + line to the others. When the client goes - b'', a line
        #       cut off, a reset - leave the room (in a finally:) and return.
        raise NotImplementedError("ChatHandler.handle() is not written yet")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    args = parser.parse_args()
    # TODO: a socketserver.ThreadingTCPServer on (args.host, args.port) with ChatHandler,
    #       and a Room the handlers can reach (e.g. server.room), then serve_forever().
    raise NotImplementedError("main() does not start the server yet")


if __name__ == "__main__":
    main()
