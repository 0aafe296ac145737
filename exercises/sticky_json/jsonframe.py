"""Frames with a JSON header over TCP (the course note's "upgraded" header):

    struct.pack('!I', len(header_bytes))   4 bytes: the header's length, big-endian, unsigned
    header_bytes                           a JSON object in UTF-8: {"data_len": N, ...metadata}
    body                                   exactly N bytes

Read README.md in this folder for the whole task (中文说明见 README.zh.md), then
`grader check sticky_json`. server.py imports these two functions.
"""
import json
import socket
import struct

MAX_HEADER = 64 * 1024  # the longest JSON header, in bytes, that either side accepts


def send_frame(sock: socket.socket, header: dict, body: bytes) -> None:
    """Send one frame: the header's length, the header (with data_len = len(body)), the body.
    Raises ValueError, sending nothing, if the encoded header would exceed MAX_HEADER bytes."""
    # TODO: copy `header`, set data_len to len(body); json.dumps() it and encode it as UTF-8;
    #       the 4-byte length is len() of those *bytes* - struct.pack('!I', ...);
    #       then send the length, the header bytes and the body - all of them (sendall).
    raise NotImplementedError("send_frame() is not written yet")


def recv_frame(sock: socket.socket) -> tuple[dict, bytes] | None:
    """The next frame as (header, body); None if the peer closed cleanly before a new frame.

    Raises ConnectionError if the peer closed in the middle of a frame, and ValueError if the
    announced header length is over MAX_HEADER (before reading the header), or the header is
    not UTF-8 JSON, not a JSON object, or has no integer data_len >= 0."""
    # TODO: read exactly 4 bytes (recv() may return fewer: loop; b'' before any byte -> None,
    #       after some -> ConnectionError); header_len = struct.unpack('!I', ...)[0].
    # TODO: header_len > MAX_HEADER -> ValueError at once, without reading any further.
    # TODO: read exactly header_len bytes, decode them as UTF-8, json.loads(); check the dict
    #       and its data_len; then read exactly data_len bytes of body, the same careful way.
    raise NotImplementedError("recv_frame() is not written yet")
