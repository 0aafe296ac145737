"""The file protocol both programs speak: sticky_json's frame, with the body streamed.

    struct.pack('!I', len(header_bytes))   4 bytes: the header's length, big-endian, unsigned
    header_bytes                           a JSON object in UTF-8 (at most MAX_HEADER bytes)
    body                                   header["size"] bytes, for the frames that carry a file

A header is small and is read whole; a file may be larger than memory, so its bytes go from
the socket to a file (and from a file to the socket) a chunk at a time, never all at once.
"""
import hashlib
import json
import socket
import struct

LENGTH = struct.Struct("!I")  # '!' network byte order (big-endian), 'I' unsigned: always 4 bytes
MAX_HEADER = 64 * 1024        # 64 KiB of JSON is plenty for a file name and a hash
CHUNK = 64 * 1024             # how much of a file is in memory at once


def send_header(sock: socket.socket, header: dict) -> None:
    """Send one header: its length, then the header as UTF-8 JSON (the body, if any, follows)."""
    raw = json.dumps(header, ensure_ascii=False).encode("utf-8")  # the length counts bytes
    if len(raw) > MAX_HEADER:
        raise ValueError(f"the JSON header is {len(raw)} bytes; at most {MAX_HEADER} are allowed")
    sock.sendall(LENGTH.pack(len(raw)) + raw)


def recv_exactly(sock: socket.socket, n: int, *, eof_ok: bool = False) -> bytes | None:
    """Exactly n bytes (for the length and the header: small). If the peer closes first: None
    when `eof_ok` and nothing was read yet (a clean end), else ConnectionError."""
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:  # b'': the peer closed its side; no more bytes will ever come
            if eof_ok and not buf:
                return None
            raise ConnectionError(f"the peer closed the connection after {len(buf)} of {n} bytes")
        buf += chunk
    return bytes(buf)


def recv_header(sock: socket.socket) -> dict | None:
    """The next header as a dict; None if the peer closed cleanly before a new frame.
    ConnectionError if it closed in the middle; ValueError if the header is longer than
    MAX_HEADER, not UTF-8 JSON, or not a JSON object."""
    prefix = recv_exactly(sock, LENGTH.size, eof_ok=True)
    if prefix is None:
        return None
    (header_len,) = LENGTH.unpack(prefix)
    if header_len > MAX_HEADER:
        raise ValueError(f"a {header_len}-byte header was announced; at most {MAX_HEADER} "
                         "are allowed")
    raw = recv_exactly(sock, header_len)
    try:
        header = json.loads(raw.decode("utf-8"))
    except ValueError as exc:  # UnicodeDecodeError and json.JSONDecodeError are ValueErrors
        raise ValueError(f"the header is not UTF-8 JSON: {exc}") from None
    if not isinstance(header, dict):
        raise ValueError(f"the header must be a JSON object, not {type(header).__name__}")
    return header


def send_file(sock: socket.socket, f) -> None:
    """Send what is left of the open binary file f, a chunk at a time, every byte of each."""
    while True:
        chunk = f.read(CHUNK)
        if not chunk:
            break
        sock.sendall(chunk)


def recv_file(sock: socket.socket, f, size: int) -> str:
    """Receive exactly `size` body bytes into the open binary file f (None: read and drop them)
    and return their SHA-256 in hex. ConnectionError if the peer closes before the last byte."""
    digest = hashlib.sha256()
    received = 0
    while received < size:
        chunk = sock.recv(min(size - received, CHUNK))  # never more than is still missing
        if not chunk:
            raise ConnectionError(f"the peer closed the connection after {received} of "
                                  f"{size} bytes of the file")
        if f is not None:
            f.write(chunk)
        digest.update(chunk)
        received += len(chunk)
    return digest.hexdigest()


def file_sha256(f) -> str:
    """The SHA-256 of what is left of the open binary file f, read a chunk at a time."""
    digest = hashlib.sha256()
    while True:
        chunk = f.read(CHUNK)
        if not chunk:
            return digest.hexdigest()
        digest.update(chunk)
