"""Chat room server: every line a member sends reaches all the other members, with join and
leave notices. One thread per client (socketserver.ThreadingTCPServer + a handler class).

Run it:  python server.py --host 127.0.0.1 --port 9000
Read README.md in this folder for the whole task (中文说明见 README.zh.md), then
`grader check socketserver_chat`.
"""
import argparse
import socket
import socketserver
import threading


class Room:
    """Who is in the room. Many handler threads join, leave and broadcast at once, so the
    members dict is only ever read or changed while holding `lock` - and the lock is never
    held while sending (a member that does not read would hold up the whole room)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.members: dict["ChatHandler", bytes] = {}  # handler -> nickname, in joining order

    def join(self, member: "ChatHandler", nick: bytes) -> None:
        with member.send_lock:  # nobody else may send to the newcomer before its welcome
            with self.lock:
                self.members[member] = nick
                count = len(self.members)
                others = [m for m in self.members if m is not member]  # who was here before
            member.write(b"* welcome " + nick + b", " + str(count).encode() + b" online\n")
        for other in others:
            other.deliver(b"* " + nick + b" joined\n")

    def leave(self, member: "ChatHandler") -> None:
        with self.lock:
            nick = self.members.pop(member)
            others = list(self.members)
        for other in others:
            other.deliver(b"* " + nick + b" left\n")
        member.hang_up()  # its connection ends with its membership

    def broadcast(self, data: bytes, sender: "ChatHandler") -> None:
        """Send `data` to every member but `sender`."""
        with self.lock:  # a snapshot of the members, taken under the lock...
            targets = [m for m in self.members if m is not sender]
        for member in targets:  # ...and the sending done outside it
            member.deliver(data)


class ChatHandler(socketserver.StreamRequestHandler):
    """One client's conversation, in its own thread: self.rfile / self.wfile are its
    connection as files (StreamRequestHandler makes them)."""

    def setup(self) -> None:
        super().setup()
        self.room: Room = self.server.room
        self.send_lock = threading.Lock()  # several threads send to this client: one at a time

    def handle(self) -> None:
        try:
            first = self.rfile.readline()
        except OSError:
            return  # reset before it finished its nickname: it never joined
        if not first.endswith(b"\n"):
            return  # gone before it finished its nickname: it never joined
        nick = first[:-1]
        if not nick:
            self.deliver(b"* error: empty nickname\n")
            return
        self.room.join(self, nick)
        try:
            while True:
                line = self.rfile.readline()
                if not line:  # b'': the client closed its side: it has left
                    break
                if not line.endswith(b"\n"):
                    continue  # the connection ended in the middle of a line: drop the piece
                self.room.broadcast(nick + b": " + line, sender=self)
        except OSError:
            pass  # reset, or another error on this connection: the client has gone
        finally:
            self.room.leave(self)

    def deliver(self, data: bytes) -> None:
        """Send one whole line to this client (called from any thread)."""
        with self.send_lock:  # two lines sent at once would interleave their bytes
            self.write(data)

    def write(self, data: bytes) -> None:
        try:
            self.wfile.write(data)  # StreamRequestHandler's wfile: sendall underneath
        except OSError:
            pass  # it has gone: its own thread notices and leaves the room

    def hang_up(self) -> None:
        try:
            self.request.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # already reset or closed


class ChatServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True  # a client still connected must not keep the process alive at exit

    def __init__(self, addr, handler) -> None:
        self.room = Room()
        super().__init__(addr, handler)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    args = parser.parse_args()
    with ChatServer((args.host, args.port), ChatHandler) as server:
        server.serve_forever()


if __name__ == "__main__":
    main()
