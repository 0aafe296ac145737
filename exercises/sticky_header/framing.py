"""Message framing over TCP: each message travels as a 4-byte length header, then its bytes.

    header = struct.pack('!I', len(data))    # 4 bytes: network byte order, unsigned
    wire   = header + data

Read README.md in this folder for the whole task, then `grader check sticky_header`.
server.py and client.py import these two functions.
"""
import socket
import struct


def send_msg(sock: socket.socket, data: bytes) -> None:
    """Send one message: its length as a 4-byte big-endian unsigned int, then the data."""
    # TODO: build the header with struct.pack('!I', len(data)) and send header + data,
    #       all of it (send() may take only part: use sendall()).
    raise NotImplementedError("send_msg() is not written yet")


def recv_msg(sock: socket.socket) -> bytes | None:
    """The next whole message (b'' for an empty one).

    Returns None if the peer closed cleanly before a new message began; raises
    ConnectionError if it closed in the middle of a header or a body."""
    # TODO: read exactly 4 header bytes - recv() may return fewer than you asked for, so loop;
    #       b'' from recv() means the peer closed (before any header byte: return None;
    #       after some: raise ConnectionError).
    # TODO: length = struct.unpack('!I', header)[0]; then read exactly `length` bytes the same
    #       way (closing in the middle of them: ConnectionError) and return them.
    raise NotImplementedError("recv_msg() is not written yet")
