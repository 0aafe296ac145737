"""Frames with a JSON header over TCP - the course note's "upgraded" header:

    struct.pack('!I', len(header_bytes))   4 bytes: the header's length, big-endian, unsigned
    header_bytes                           a JSON object in UTF-8: {"data_len": N, ...metadata}
    body                                   exactly N bytes

The 4-byte length says where the header ends, the header's data_len says where the body ends,
and the metadata (a file name, a command, ...) travels with the data. A header longer than
MAX_HEADER is refused before a single byte of it is read: 4 bytes from a peer must never make
us allocate or wait for gigabytes.
"""
import json
import socket
import struct

LENGTH = struct.Struct("!I")  # '!' network byte order (big-endian), 'I' unsigned: always 4 bytes
MAX_HEADER = 64 * 1024        # 64 KiB of JSON is plenty for metadata
CHUNK = 1 << 20               # ask recv() for at most 1 MiB at a time: it allocates what you ask for


def send_frame(sock: socket.socket, header: dict, body: bytes) -> None:
    """Send one frame: the header's length, the header (with data_len = len(body)), the body."""
    fields = dict(header)            # a copy: the caller's dict stays as it was
    fields["data_len"] = len(body)   # the length is computed here, so it is always true
    text = json.dumps(fields, ensure_ascii=False)
    raw = text.encode("utf-8")       # the length on the wire counts bytes, not characters
    if len(raw) > MAX_HEADER:
        raise ValueError(f"the JSON header is {len(raw)} bytes; at most {MAX_HEADER} are allowed")
    sock.sendall(LENGTH.pack(len(raw)) + raw)
    sock.sendall(body)


def recv_exactly(sock: socket.socket, n: int, *, eof_ok: bool = False) -> bytes | None:
    """Exactly n bytes, however recv() hands them out. If the peer closes first: None when
    `eof_ok` and nothing was read yet (a clean end), else ConnectionError (a cut-off frame)."""
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(min(n - len(buf), CHUNK))
        if not chunk:  # b'': the peer closed its side; no more bytes will ever come
            if eof_ok and not buf:
                return None
            raise ConnectionError(f"the peer closed the connection after {len(buf)} of {n} bytes")
        buf += chunk
    return bytes(buf)


def recv_frame(sock: socket.socket) -> tuple[dict, bytes] | None:
    """The next frame as (header, body); None if the peer closed cleanly before a new frame.
    ConnectionError if it closed in the middle of one; ValueError if the header is too long,
    not UTF-8 JSON, not an object, or has no valid data_len."""
    prefix = recv_exactly(sock, LENGTH.size, eof_ok=True)
    if prefix is None:
        return None
    (header_len,) = LENGTH.unpack(prefix)
    if header_len > MAX_HEADER:
        raise ValueError(f"the peer announced a {header_len}-byte header; at most {MAX_HEADER} "
                         "are allowed")
    raw = recv_exactly(sock, header_len)
    try:
        header = json.loads(raw.decode("utf-8"))
    except ValueError as exc:  # UnicodeDecodeError and json.JSONDecodeError are ValueErrors
        raise ValueError(f"the header is not UTF-8 JSON: {exc}") from None
    if not isinstance(header, dict):
        raise ValueError(f"the header must be a JSON object, not {type(header).__name__}")
    data_len = header.get("data_len")
    if type(data_len) is not int or data_len < 0:
        raise ValueError(f"data_len must be an integer >= 0, not {data_len!r}")
    body = recv_exactly(sock, data_len)
    return header, body
