"""The file protocol both programs speak: sticky_json's frame, with the body streamed.

    struct.pack('!I', len(header_bytes))   4 bytes: the header's length, big-endian, unsigned
    header_bytes                           a JSON object in UTF-8 (at most MAX_HEADER bytes)
    body                                   header["size"] bytes, for the frames that carry a file

server.py and client.py both import these helpers. Only server.py and client.py are tested (as
programs): shape this module as you like, but keep the file in memory a chunk at a time.
Read README.md in this folder for the whole task (中文说明见 README.zh.md), then
`grader check file_upload`.
"""
import hashlib
import json
import socket
import struct

MAX_HEADER = 64 * 1024  # the longest JSON header, in bytes, that either side accepts
CHUNK = 64 * 1024       # how much of a file is in memory at once


def send_header(sock: socket.socket, header: dict) -> None:
    """Send one header: struct.pack('!I', len(raw)), then raw = the header as UTF-8 JSON."""
    # TODO: json.dumps(header).encode('utf-8'); refuse (ValueError) more than MAX_HEADER bytes;
    #       sendall() the 4-byte length and the header bytes.
    raise NotImplementedError("send_header() is not written yet")


def recv_header(sock: socket.socket) -> dict | None:
    """The next header as a dict; None if the peer closed cleanly before a new frame.
    ConnectionError if it closed in the middle; ValueError if the header is over MAX_HEADER
    bytes (checked before reading it), not UTF-8 JSON, or not a JSON object."""
    # TODO: exactly 4 bytes (a loop around recv(); b'' before any byte -> None, after some ->
    #       ConnectionError); the cap; exactly header_len bytes; decode UTF-8; json.loads().
    raise NotImplementedError("recv_header() is not written yet")


def send_file(sock: socket.socket, f) -> None:
    """Send what is left of the open binary file f: f.read(CHUNK), sendall(), until b''."""
    # TODO: a binary file has no lines - not `for line in f`; and send() may send only part.
    raise NotImplementedError("send_file() is not written yet")


def recv_file(sock: socket.socket, f, size: int) -> str:
    """Receive exactly `size` bytes into the open binary file f (None: read and drop them) and
    return their sha256 hexdigest. ConnectionError if the peer closes before the last byte."""
    # TODO: while received < size: recv(min(size - received, CHUNK)) - never more than is
    #       still missing; b'' -> raise ConnectionError; write the chunk, hashlib.sha256().update().
    raise NotImplementedError("recv_file() is not written yet")
