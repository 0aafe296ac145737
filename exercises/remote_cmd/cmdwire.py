"""The remote_cmd protocol, shared by server.py and client.py (README.md has it in full).

A request is one command line:    struct.pack('!I', len(data)) + data
                                  (data = the command encoded as UTF-8)
A reply is the command's result:  struct.pack('!I', len(header)) + header + stdout + stderr
                                  (header = UTF-8 JSON: {"stdout_len": int, "stderr_len": int,
                                   "exit_code": int, "timed_out": bool})

The checks run server.py and client.py as programs and never import this file: it is where
we suggest the code both of them need goes. Change it as you like.
"""
import json
import socket
import struct

LENGTH = struct.Struct("!I")
MAX_COMMAND = 64 * 1024   # longest command line, in bytes, a server accepts
MAX_HEADER = 64 * 1024    # longest reply header, in bytes, a client accepts


def recv_exactly(sock: socket.socket, n: int, *, eof_ok: bool = False) -> bytes | None:
    """Exactly n bytes. If the peer closes first: None when `eof_ok` and nothing was read yet
    (a clean end), else ConnectionError."""
    # TODO: loop around sock.recv() - it returns whatever has arrived, maybe 1 byte - and
    #       watch for b'' (the peer closed: it will return b'' forever).
    raise NotImplementedError("recv_exactly() is not written yet")


def send_command(sock: socket.socket, command: str) -> None:
    """One request: the command's UTF-8 bytes after their length in bytes."""
    # TODO: data = command.encode('utf-8'); send LENGTH.pack(len(data)) + data, all of it.
    raise NotImplementedError("send_command() is not written yet")


def recv_command(sock: socket.socket) -> str | None:
    """The next command line; None if the client closed cleanly before a new request.
    ConnectionError if it closed mid-request; ValueError for a length over MAX_COMMAND or
    bytes that are not UTF-8."""
    # TODO: 4 bytes (eof_ok), unpack, check the length BEFORE reading on, read, decode.
    raise NotImplementedError("recv_command() is not written yet")


def send_result(sock: socket.socket, stdout: bytes, stderr: bytes, exit_code: int,
                timed_out: bool) -> None:
    """One reply: the header's length, the JSON header, then the stdout and stderr bytes."""
    # TODO: header = json.dumps({...}).encode('utf-8'); send its length, the header, stdout
    #       and stderr - all of each (sendall).
    raise NotImplementedError("send_result() is not written yet")


def recv_result(sock: socket.socket) -> tuple[dict, bytes, bytes]:
    """The next reply as (header, stdout, stderr)."""
    # TODO: 4 bytes, the header (at most MAX_HEADER bytes), json.loads, then exactly
    #       stdout_len and stderr_len bytes.
    raise NotImplementedError("recv_result() is not written yet")
