"""A non-blocking echo server on one thread: IO multiplexing with selectors (epoll on Linux).

Every socket is non-blocking and the loop sleeps in select() until the kernel says that some
socket is ready. Each connection keeps what it still has to send in a buffer of its own, so a
client that reads slowly never stops the others.
"""
import argparse
import selectors
import socket

CHUNK = 65536


class Conn:
    """One client: what it still has to be sent, and whether it has finished sending."""

    def __init__(self) -> None:
        self.out = bytearray()  # echoed bytes the kernel has not taken yet
        self.eof = False        # the client closed its side: send what is left, then close
        self.closed = False
        self.events = selectors.EVENT_READ


def close_conn(sel: selectors.BaseSelector, conn: socket.socket, state: Conn) -> None:
    """Forget a client: out of the selector first, then close the socket."""
    state.closed = True
    sel.unregister(conn)  # a closed socket must not stay registered
    conn.close()


def update(sel: selectors.BaseSelector, conn: socket.socket, state: Conn) -> None:
    """Ask for what this connection needs now: reading until the client's EOF, writing only
    while something is pending (a socket is writable almost always: asking for it with
    nothing to send would wake the loop for nothing, again and again)."""
    if state.eof and not state.out:
        close_conn(sel, conn, state)  # everything echoed and the client is done
        return
    want = 0 if state.eof else selectors.EVENT_READ
    if state.out:
        want |= selectors.EVENT_WRITE
    if want != state.events:
        sel.modify(conn, want, state)
        state.events = want


def flush(sel: selectors.BaseSelector, conn: socket.socket, state: Conn) -> None:
    """Send as much of the pending bytes as the kernel takes now; keep the rest."""
    while state.out:
        try:
            sent = conn.send(state.out)  # may take only part of it: it says how much
        except BlockingIOError:
            break  # the send buffer is full: wait until select() says writable
        except OSError:
            close_conn(sel, conn, state)  # the client is gone (reset, broken pipe)
            return
        del state.out[:sent]
    update(sel, conn, state)


def on_readable(sel: selectors.BaseSelector, conn: socket.socket, state: Conn) -> None:
    try:
        data = conn.recv(CHUNK)
    except BlockingIOError:
        return  # nothing after all
    except OSError:
        close_conn(sel, conn, state)  # reset by the client
        return
    if not data:
        state.eof = True  # the client finished sending; what is pending still goes out
    else:
        state.out += data
    flush(sel, conn, state)


def accept_all(sel: selectors.BaseSelector, listener: socket.socket) -> None:
    """Accept every client that is waiting now."""
    while True:
        try:
            conn, _addr = listener.accept()
        except BlockingIOError:
            return
        except OSError:
            return  # e.g. the client reset before we accepted it, or out of fds for now
        conn.setblocking(False)  # the accepted socket is a new socket: make it non-blocking too
        sel.register(conn, selectors.EVENT_READ, Conn())


def serve(host: str, port: int) -> None:
    sel = selectors.DefaultSelector()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(512)
    listener.setblocking(False)
    sel.register(listener, selectors.EVENT_READ, None)
    while True:
        for key, mask in sel.select():  # no timeout: sleep until some socket is ready
            if key.data is None:
                accept_all(sel, key.fileobj)
                continue
            conn, state = key.fileobj, key.data
            if mask & selectors.EVENT_READ:
                on_readable(sel, conn, state)
            if mask & selectors.EVENT_WRITE and not state.closed:
                flush(sel, conn, state)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    args = parser.parse_args()
    serve(args.host, args.port)


if __name__ == "__main__":
    main()
