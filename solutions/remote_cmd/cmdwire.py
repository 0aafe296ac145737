"""The remote_cmd protocol, shared by server.py and client.py.

A request is one command line:    struct.pack('!I', len(data)) + data
                                  (data = the command encoded as UTF-8)
A reply is the command's result:  struct.pack('!I', len(header)) + header + stdout + stderr
                                  (header = UTF-8 JSON: {"stdout_len": int, "stderr_len": int,
                                   "exit_code": int, "timed_out": bool})
'!' = network byte order (big-endian) on every machine, 'I' = unsigned, always 4 bytes.
"""
import json
import socket
import struct

LENGTH = struct.Struct("!I")
MAX_COMMAND = 64 * 1024   # longest command line, in bytes, a server accepts
MAX_HEADER = 64 * 1024    # longest reply header, in bytes, a client accepts
CHUNK = 1 << 20           # ask recv() for at most 1 MiB at a time: it allocates what you ask for


def recv_exactly(sock: socket.socket, n: int, *, eof_ok: bool = False) -> bytes | None:
    """Exactly n bytes: recv() returns whatever has arrived, so loop. If the peer closes first:
    None when `eof_ok` and nothing was read yet (a clean end), else ConnectionError."""
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(min(n - len(buf), CHUNK))
        if not chunk:  # b'': the peer closed its side; no more bytes will ever come
            if eof_ok and not buf:
                return None
            raise ConnectionError(f"the peer closed the connection after {len(buf)} of {n} bytes")
        buf += chunk
    return bytes(buf)


def send_command(sock: socket.socket, command: str) -> None:
    """One request: the command's UTF-8 bytes, after their length in BYTES (not characters)."""
    data = command.encode("utf-8")
    sock.sendall(LENGTH.pack(len(data)) + data)


def recv_command(sock: socket.socket) -> str | None:
    """The next command line; None if the client closed cleanly before a new request.
    ConnectionError if it closed mid-request; ValueError for a length over MAX_COMMAND
    (checked before reading on: 4 bytes from a stranger must not make us wait for 4 GiB)
    or bytes that are not UTF-8 (UnicodeDecodeError is a ValueError)."""
    raw = recv_exactly(sock, LENGTH.size, eof_ok=True)
    if raw is None:
        return None
    (n,) = LENGTH.unpack(raw)
    if n > MAX_COMMAND:
        raise ValueError(f"a command of {n} bytes is longer than {MAX_COMMAND}")
    return recv_exactly(sock, n).decode("utf-8")


def send_result(sock: socket.socket, stdout: bytes, stderr: bytes, exit_code: int,
                timed_out: bool) -> None:
    """One reply: the header's length, the JSON header, then the stdout and stderr bytes as
    they are (they are bytes already: nothing to decode, nothing to encode)."""
    header = json.dumps({"stdout_len": len(stdout), "stderr_len": len(stderr),
                         "exit_code": exit_code, "timed_out": timed_out}).encode("utf-8")
    sock.sendall(LENGTH.pack(len(header)) + header)
    sock.sendall(stdout)  # sendall: one send() may take only part of a big output
    sock.sendall(stderr)


def recv_result(sock: socket.socket) -> tuple[dict, bytes, bytes]:
    """The next reply as (header, stdout, stderr); ConnectionError if the server closed
    before or during it, ValueError if it is not this protocol."""
    raw = recv_exactly(sock, LENGTH.size)
    (n,) = LENGTH.unpack(raw)
    if n > MAX_HEADER:
        raise ValueError(f"a reply header of {n} bytes is longer than {MAX_HEADER}")
    header = json.loads(recv_exactly(sock, n).decode("utf-8"))
    if not isinstance(header, dict):
        raise ValueError("the reply header is not a JSON object")
    for key in ("stdout_len", "stderr_len"):
        if type(header.get(key)) is not int or header[key] < 0:
            raise ValueError(f"the reply header has no valid {key}")
    stdout = recv_exactly(sock, header["stdout_len"])
    stderr = recv_exactly(sock, header["stderr_len"])
    return header, stdout, stderr
