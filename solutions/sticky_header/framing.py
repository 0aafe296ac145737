"""Message framing over TCP: each message travels as a 4-byte length header, then its bytes.

TCP delivers a stream of bytes, not messages: two send()s may arrive in one recv() and one
send() in several (the "sticky packet" problem). A length header tells the receiver where one
message ends and the next begins:

    struct.pack('!I', len(data)) + data
    '!' = network byte order (big-endian), the same on every machine
    'I' = unsigned 32-bit: always exactly 4 bytes, lengths 0 .. 4 GiB - 1
"""
import socket
import struct

HEADER = struct.Struct("!I")
CHUNK = 1 << 20  # ask recv() for at most 1 MiB at a time: it allocates what you ask for


def send_msg(sock: socket.socket, data: bytes) -> None:
    """Send one message: its length as 4 big-endian bytes, then the data itself."""
    sock.sendall(HEADER.pack(len(data)) + data)  # one write; sendall loops until all is sent


def recv_exactly(sock: socket.socket, n: int, *, eof_ok: bool = False) -> bytes | None:
    """Exactly n bytes. recv() returns whatever has arrived (1 byte, or the end of one message
    and the start of the next), so loop until there are n. If the peer closes first: None when
    `eof_ok` and nothing was read yet (a clean end), else ConnectionError (a cut-off message)."""
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(min(n - len(buf), CHUNK))
        if not chunk:  # b'': the peer closed its side; no more bytes will ever come
            if eof_ok and not buf:
                return None
            raise ConnectionError(f"the peer closed the connection after {len(buf)} of {n} bytes")
        buf += chunk
    return bytes(buf)


def recv_msg(sock: socket.socket) -> bytes | None:
    """The next whole message; None if the peer closed cleanly before a new one began;
    ConnectionError if it closed in the middle of a header or a body."""
    header = recv_exactly(sock, HEADER.size, eof_ok=True)
    if header is None:
        return None
    (length,) = HEADER.unpack(header)
    return recv_exactly(sock, length)
