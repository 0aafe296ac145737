"""sticky_json: the graded suite.

jsonframe.py is tested directly: its functions run in a child process on one end of a real
loopback connection (`student.module(..., sockets=[theirs])`) while the test drives the other
end as a reference peer (a `Wire`: it can wait until the student's code has *read* what was
written, so a drip of 1-byte writes really arrives as 1-byte recv()s). server.py is tested as
a process.

Frames a peer cannot mean (a 4 GiB header length, JSON that does not parse) are sent on a
connection the test keeps open: code that waits for the bytes it was promised waits until the
deadline, and fails as "did not raise", instead of being rescued by an EOF.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import random
import socket
import struct
import threading

import pytest

from grader.harness import (CheckFailed, StudentRaised, StudentTimeout, Wire, check,
                            connected_pair, expect_bytes, say, show, show_bytes)
from grader.harness.ioview import blocked_sending

MIB = 1 << 20
MAX_HEADER = 64 * 1024
LENGTH = struct.Struct("!I")

# -- hints -----------------------------------------------------------------------------------

HINT_LENGTH = say(
    "the header's length is struct.pack('!I', len(header_bytes)): '!' is network byte order "
    "(big-endian, the same on every machine), 'I' unsigned; the note's native 'i' is "
    "little-endian here",
    "报头长度要用 struct.pack('!I', len(header_bytes))：'!' 是网络字节序（大端，在任何机器上都一样），"
    "'I' 是无符号数；笔记里的原生 'i' 在这台机器上是小端")
HINT_UTF8 = say(
    "the header is JSON encoded as UTF-8 on both sides: json.dumps(h).encode('utf-8') to send, "
    "raw.decode('utf-8') before json.loads to read; its length counts those bytes, not "
    "characters ('笔记' is 2 characters, 6 bytes)",
    "报头两端都用 UTF-8 编码的 JSON：发送用 json.dumps(h).encode('utf-8')，接收先 "
    "raw.decode('utf-8') 再 json.loads；报头长度数的是这些字节，不是字符（'笔记' 是 2 个字符、6 个字节）")
HINT_REFERENCE = say(
    "read 4 bytes, unpack '!I', read exactly that many header bytes, json.loads them, then "
    "read exactly data_len body bytes; return (header, body), and None only when the peer "
    "closed before a new frame",
    "先读 4 字节并按 '!I' 解包，再恰好读那么多字节的报头并 json.loads，然后恰好读 data_len 字节的数据；"
    "返回 (header, body)，只有对方在新的一帧开始之前关闭时才返回 None")
HINT_LOOP = say(
    "one recv() returns whatever has arrived - maybe a single byte: loop until you have exactly "
    "4 bytes, then exactly header_len bytes, then exactly data_len bytes",
    "一次 recv() 只返回目前已到达的数据，可能只有 1 个字节：要循环接收，直到恰好凑够 4 字节，"
    "再恰好凑够 header_len 字节，最后恰好凑够 data_len 字节")
HINT_MERGED = say(
    "each recv_frame() returns exactly one frame: never ask recv() for more than the bytes still "
    "missing, the rest belongs to the next frame; a 0-byte body is b'', while None means the peer "
    "closed",
    "每次 recv_frame() 只返回一帧：向 recv() 要的字节数不能超过还缺的字节数，多出来的属于下一帧；"
    "0 字节的数据是 b''，而 None 表示对方已关闭")
HINT_EOF = say(
    "recv() returning b'' means the peer has closed: before the first byte of a frame that is a "
    "clean end (return None); inside the length, the header or the body raise ConnectionError",
    "recv() 返回 b'' 表示对方已关闭：在一帧的第一个字节之前，这是正常结束（返回 None）；"
    "在长度、报头或数据的中间，要抛出 ConnectionError")
HINT_CAP = say(
    "check header_len > MAX_HEADER (64 KiB) right after unpacking the 4 bytes and raise "
    "ValueError at once: never wait for, nor allocate, what 4 bytes from a stranger promise",
    "解包那 4 个字节之后立刻检查 header_len > MAX_HEADER（64 KiB），超过就马上抛出 ValueError："
    "不要等待、更不要分配陌生人用 4 个字节许诺的数据量")
HINT_MALFORMED = say(
    "raw.decode('utf-8') and json.loads() raise UnicodeDecodeError and json.JSONDecodeError, both "
    "subclasses of ValueError: let them through (or raise your own ValueError)",
    "raw.decode('utf-8') 和 json.loads() 会抛出 UnicodeDecodeError 和 json.JSONDecodeError，"
    "它们都是 ValueError 的子类：让它们抛出去即可（或者抛出你自己的 ValueError）")
HINT_FIELDS = say(
    "valid JSON is not yet a valid header: it must be an object (dict) whose data_len is an "
    "integer >= 0; otherwise raise ValueError before reading any body",
    "合法的 JSON 不等于合法的报头：它必须是一个对象（dict），并且 data_len 是 >= 0 的整数；"
    "否则在读取数据之前就抛出 ValueError")
HINT_SEND_CAP = say(
    "send_frame checks len(header_bytes) > MAX_HEADER before sending anything and raises "
    "ValueError: a header no reader accepts must not go out, not even in part",
    "send_frame 在发送任何东西之前检查 len(header_bytes) > MAX_HEADER，超过就抛出 ValueError："
    "没有接收方会接受的报头不能发出去，一部分也不行")
HINT_SENDALL = say(
    "send() may send only part of a large buffer and returns how much it took; sendall() sends "
    "it all",
    "send() 对大块数据可能只发送一部分，并返回实际发送的字节数；sendall() 才会全部发送")
HINT_SERVER = say(
    "reply with send_frame(conn, metadata, body): the request's header without data_len, plus "
    "\"sha256\": hashlib.sha256(body).hexdigest(); send_frame sets data_len itself",
    "用 send_frame(conn, metadata, body) 回复：元数据是请求报头去掉 data_len，再加上 "
    "\"sha256\": hashlib.sha256(body).hexdigest()；data_len 由 send_frame 自己填写")
HINT_SERVER_BAD = say(
    "recv_frame() raises ValueError for a bad header: catch it per client, send "
    "send_frame(conn, {\"error\": str(exc)}, b\"\"), close that connection and serve the next "
    "client; ConnectionError: just close",
    "报头有问题时 recv_frame() 会抛出 ValueError：要针对每个客户端捕获它，发送 "
    "send_frame(conn, {\"error\": str(exc)}, b\"\")，关闭这个连接，再服务下一个客户端；"
    "遇到 ConnectionError 则直接关闭")


# -- the reference framing ---------------------------------------------------------------------

def header_bytes(header: dict, body: bytes, *, ascii: bool = False) -> bytes:
    return json.dumps({**header, "data_len": len(body)}, ensure_ascii=ascii).encode("utf-8")


def frame(header: dict, body: bytes = b"", *, ascii: bool = False) -> bytes:
    """The reference frame: '!I' length of the UTF-8 JSON header, the header, the body."""
    raw = header_bytes(header, body, ascii=ascii)
    return LENGTH.pack(len(raw)) + raw + body


def raw_frame(raw_header: bytes, body: bytes = b"") -> bytes:
    """A frame whose header bytes are given as they are (possibly not valid at all)."""
    return LENGTH.pack(len(raw_header)) + raw_header + body


def payload(n: int, seed: int = 7) -> bytes:
    return random.Random(seed).randbytes(n)


def with_len(header: dict, body: bytes) -> dict:
    return {**header, "data_len": len(body)}


# -- words for what happened -------------------------------------------------------------------

def ended(peer: Wire):
    """Why the last read stopped, in the judge's language."""
    if hasattr(peer.ended, "text"):  # the harness's own words, when it has them
        return peer.ended.text()
    text = str(peer.ended)
    if text == "the other side closed the connection":
        return say("the other side closed the connection", "对方关闭了连接")
    if text == "the connection was reset":
        return say("the connection was reset", "连接被重置")
    if text.startswith("no more bytes came within"):
        return say("no more bytes came within {t} s", "{t} 秒内没有再收到字节",
                   t=text.split("within ")[1].split(" ")[0])
    return text


def raised(call, exc: StudentRaised, after=""):
    """'recv_frame(sock) raised ValueError: ...' - or, for an untouched stub, that it still
    raises NotImplementedError."""
    if exc.type == "NotImplementedError":
        return say("{call} still raises NotImplementedError: the stub is waiting for you to "
                   "write it", "{call} 仍然抛出 NotImplementedError：这个函数还等着你来实现",
                   call=call)
    return say("{call} raised {exc}{after}", "{call} 抛出了 {exc}{after}",
               call=call, exc=raised_text(exc), after=after)


def raised_text(exc: StudentRaised) -> str:
    """'json.decoder.JSONDecodeError: Expecting ...': the traceback's last line, or type: message."""
    tb = [line for line in exc.traceback.rstrip().splitlines() if line.strip()]
    last = tb[-1].strip() if tb else ""
    if last.startswith(exc.type) or f".{exc.type}:" in last:
        return last
    return f"{exc.type}: {exc.message}"


def traceback_note(exc: StudentRaised, lines: int = 6):
    tb = [line for line in exc.traceback.rstrip().splitlines() if line.strip()]
    if not tb or exc.type == "NotImplementedError":
        return None
    return say("where it raised:", "在哪里抛出的：") + "\n" + "\n".join("    " + l for l in tb[-lines:])


def stack_note(mod, limit: int = 1200):
    """The stack a stopped call was stuck in (the driver dumps it to stderr), if any."""
    tail = mod.proc.stderr_tail(limit).strip()
    if not tail:
        return None
    return (say("where it was waiting when it was stopped:", "被停止时它正在这里等待：") + "\n"
            + "\n".join("    " + line for line in tail.splitlines()[-12:]))


def join_notes(*notes):
    """Several detail notes (None skipped) as one, a line each."""
    notes = [n for n in notes if n]
    if not notes:
        return None
    out = notes[0]
    for n in notes[1:]:
        out = out + "\n  " + n
    return out


def overread_note(exc: StudentRaised):
    """struct.error on unpacking the length: the 4-byte read returned more (or fewer) bytes."""
    if "unpack requires a buffer of 4 bytes" not in exc.message:
        return None
    return say("the bytes it unpacked were not exactly 4: a recv() for the length asked for more "
               "than the 4 bytes still missing (and took the header with them), or returned fewer",
               "它解包的不是恰好 4 个字节：读长度的 recv() 要的比还缺的 4 个字节多（把报头也一起读走了），"
               "或者返回的比 4 个少")


def native_note(sent, exc: StudentRaised):
    """A valid frame refused with a huge length: the 4 bytes read in native (little-endian) order."""
    if not isinstance(sent, (bytes, bytearray)) or len(sent) < 4:
        return None
    big, little = LENGTH.unpack(sent[:4])[0], struct.unpack("<I", sent[:4])[0]
    if big == little or str(little) not in exc.message:
        return None
    return say("the frame began with {b}, the length {big} as '!I'; read in this machine's "
               "native byte order (the note's 'i', little-endian) the same 4 bytes say {little}",
               "这一帧以 {b} 开头，按 '!I' 读是长度 {big}；按这台机器的原生字节序"
               "（笔记里的 'i'，小端）读，同样这 4 个字节就成了 {little}",
               b=show_bytes(bytes(sent[:4])), big=big, little=little)


def describe_proc(proc):
    """'exited with code 1' in the judge's language."""
    rc = proc.returncode
    if rc is None:
        return say("is still running", "仍在运行")
    if rc < 0:
        return say("was killed by signal {sig}", "被信号 {sig} 杀死", sig=-rc)
    return say("exited with code {rc}", "以退出码 {rc} 退出", rc=rc)


# -- calls through the driver --------------------------------------------------------------------

def returned(mod, pending, call: str, *, sent: object = None, hint=None, timeout: float = 3.0,
             after=""):
    """What the pending call returned; a readable failure if it raised or did not return."""
    try:
        return pending.result(timeout)
    except StudentRaised as exc:
        native, overread = native_note(sent, exc), overread_note(exc)
        raise CheckFailed(raised(call, exc, after), sent=sent,
                          detail=join_notes(native, overread, traceback_note(exc)),
                          hint=HINT_LENGTH if native else HINT_MERGED if overread else hint) from None
    except StudentTimeout:
        raise CheckFailed(say("{call} did not return within {t} s{after}; it was stopped",
                              "{call} 在 {t} 秒内没有返回{after}，已被停止",
                              call=call, t=f"{timeout:g}", after=after),
                          sent=sent, detail=stack_note(mod), hint=hint) from None


def as_frame(got, call: str, *, sent, hint, after=""):
    """The (header, body) a recv_frame returned, or a failure that says what it was instead."""
    if (isinstance(got, (list, tuple)) and len(got) == 2 and isinstance(got[0], dict)
            and isinstance(got[1], bytes)):
        return got[0], got[1]
    raise CheckFailed(say("{call} should return a tuple (header: dict, body: bytes){after}",
                          "{call} 应当返回元组 (header: dict, body: bytes){after}",
                          call=call, after=after),
                      sent=sent, expected="(dict, bytes)", got=got, has_got=True, hint=hint)


MOJIBAKE_CODECS = ("gbk", "latin-1", "cp1252", "ascii")


def codec_note(got: dict, want: dict):
    """If a text field came back as UTF-8 bytes decoded with another codec, say which."""
    for key, value in want.items():
        if not isinstance(value, str) or got.get(key) == value:
            continue
        for codec in MOJIBAKE_CODECS:
            if value.encode("utf-8").decode(codec, "replace") == got.get(key):
                return say("{key!r} came back as {got!r}: its UTF-8 bytes were decoded as "
                           "{codec}. The header's bytes are UTF-8: decode them with 'utf-8'",
                           "{key!r} 变成了 {got!r}：它的 UTF-8 字节被当成 {codec} 解码了。"
                           "报头的字节是 UTF-8，要用 'utf-8' 解码",
                           key=key, got=got.get(key), codec=codec)
    return None


def expect_frame_returned(mod, pending, call: str, header: dict, body: bytes, *, sent, hint=None,
                          timeout: float = 3.0, after=""):
    """The call must return (header, body) - the header with its data_len."""
    got = returned(mod, pending, call, sent=sent, hint=hint, timeout=timeout, after=after)
    if got is None:
        raise CheckFailed(say("{call} returned None{after}, but a whole frame had been sent",
                              "{call} 返回了 None{after}，可是对方发来了一整帧",
                              call=call, after=after),
                          sent=sent, expected=(header, body), got=None, has_got=True,
                          hint=hint or HINT_REFERENCE)
    got_header, got_body = as_frame(got, call, sent=sent, hint=hint, after=after)
    if got_header != header:
        garbled = codec_note(got_header, header)
        raise CheckFailed(say("the header returned by {call}{after}", "{call} 返回的报头{after}",
                              call=call, after=after),
                          sent=sent, expected=header, got=got_header, detail=garbled,
                          hint=HINT_UTF8 if garbled else hint or HINT_UTF8)
    if got_body != body:
        expect_bytes(got_body, body, say("the body returned by {call}{after}",
                                         "{call} 返回的数据{after}", call=call, after=after),
                     sent=sent, hint=hint or HINT_LOOP)


def expect_none(mod, pending, call: str, *, sent, after):
    got = returned(mod, pending, call, sent=sent, hint=HINT_EOF, after=after)
    if got is not None:
        raise CheckFailed(say("what {call} returned{after}", "{call} 的返回值{after}",
                              call=call, after=after),
                          sent=sent, expected=None, got=got, has_expected=True, has_got=True,
                          hint=HINT_EOF)


def expect_raises(mod, pending, call: str, name: str, *, sent, after, hint, timeout: float = 3.0,
                  waiting=None):
    """The call must raise `name` (or a subclass) within `timeout`; `waiting` says what code
    that is still blocked at the deadline is most likely waiting for."""
    try:
        got = pending.result(timeout)
    except StudentRaised as exc:
        if exc.is_a(name):
            return exc
        if exc.type == "NotImplementedError":
            raise CheckFailed(raised(call, exc, after), sent=sent, hint=hint) from None
        detail = join_notes(overread_note(exc), traceback_note(exc))
        if exc.is_a("MemoryError") or exc.is_a("OverflowError"):
            detail = (say("it tried to allocate what the peer announced: one recv(n) or "
                          "bytearray(n) of a length that came off the wire. Check the length "
                          "against the cap first",
                          "它试图按对方声明的长度分配内存：用从网络上读到的长度直接 recv(n) 或 "
                          "bytearray(n)。应当先拿这个长度和上限比较")
                      + ("\n  " + str(detail) if detail else ""))
        raise CheckFailed(raised(call, exc, after), sent=sent, expected=say("{name} (or a subclass)", "{name}（或其子类）",
                                                  name=name).render(),
                          got=raised_text(exc).split(":")[0], detail=detail, hint=hint) from None
    except StudentTimeout:
        raise CheckFailed(say("{call} did not raise within {t} s{after}; it was stopped",
                              "{call} 在 {t} 秒内没有抛出异常{after}，已被停止",
                              call=call, t=f"{timeout:g}", after=after),
                          sent=sent, expected=say("{name}, raised at once", "立即抛出 {name}",
                                                  name=name).render(),
                          detail=join_notes(waiting, stack_note(mod)), hint=hint) from None
    raise CheckFailed(say("{call} returned instead of raising{after}",
                          "{call} 正常返回了，而不是抛出异常{after}", call=call, after=after),
                      sent=sent, expected=say("{name} raised", "抛出 {name}", name=name).render(),
                      got=got, has_got=True, hint=hint)


def reading(wire: Wire, pending) -> Wire:
    """Tell `wire` to stop waiting for reads once `pending` has answered."""
    wire.stop = pending.done
    return wire


# -- reading what the student sent ---------------------------------------------------------------

def length_note(got: bytes, n: int):
    """A wrong 4-byte length, explained: little-endian ('i') or just another number."""
    if got == struct.pack("<I", n):
        return say("yours has the right 4 bytes in reverse order: little-endian, what "
                   "struct.pack('i', {n}) gives on this machine; read as '!I' it announces "
                   "{m} bytes",
                   "你的 4 个字节内容对了但顺序反了：这是小端，也就是这台机器上 struct.pack('i', {n}) "
                   "的结果；按 '!I' 读，它声明的是 {m} 个字节",
                   n=n, m=LENGTH.unpack(got)[0])
    return say("yours, read as '!I', announces {m}", "按 '!I' 读，你的长度是 {m}",
               m=LENGTH.unpack(got)[0])


def undecodable_note(raw: bytes, more: bytes):
    """Why header bytes do not parse: another codec, or a length that counted characters."""
    try:
        json.loads(raw.decode("gbk"))
        return say("they are GBK (the Chinese Windows code page), not UTF-8",
                   "它们是 GBK 编码（中文 Windows 的代码页），而不是 UTF-8")
    except ValueError:
        pass
    text = (raw + more).decode("utf-8", "surrogateescape")
    try:
        _, end = json.JSONDecoder().raw_decode(text)
    except ValueError:
        return None
    n_bytes = len(text[:end].encode("utf-8", "surrogateescape"))
    if end != len(raw) or n_bytes == len(raw):
        return None  # the length is not the header's character count: no simple story
    return say("the JSON header that followed is {b} bytes long but {c} characters, and your "
               "length says {n}: it counted characters (len of the str), not bytes. Non-ASCII "
               "text takes more bytes than characters in UTF-8",
               "后面的 JSON 报头有 {b} 个字节、{c} 个字符，而你的长度是 {n}：你数的是字符"
               "（str 的 len），不是字节。非 ASCII 文字在 UTF-8 里占的字节比字符多",
               b=n_bytes, c=end, n=len(raw))


def read_frame(peer: Wire, what, *, sent=None, hint=None, timeout: float = 3.0, want=None,
               silent=None, header_hint=None):
    """Read one frame the student wrote, checking each part as it comes: the length (a wrong
    byte order fails at once), the header (UTF-8 JSON object), then data_len bytes of body.
    `want` = (header, body) to compare with; `silent` explains a connection that stayed open
    and silent; `header_hint` replaces `hint` when the metadata itself is wrong.
    Returns (header, body)."""
    got = peer.recv_exact(4, timeout)
    if len(got) < 4:
        raise CheckFailed(say("{what}: expected the 4-byte length of the header, got {n} bytes "
                              "({why})", "{what}：应当先收到报头的 4 字节长度，却只收到 {n} 字节（{why}）",
                              what=what, n=len(got), why=ended(peer)),
                          sent=sent, got=got, has_got=True, hint=hint,
                          detail=silent if not got and (
                              peer.ended == "timeout"
                              or str(peer.ended).startswith("no more bytes")) else None)
    (n,) = LENGTH.unpack(got)
    if n > MAX_HEADER:
        detail = (length_note(got, struct.unpack("<I", got)[0])
                  if struct.unpack("<I", got)[0] <= MAX_HEADER else None)
        raise CheckFailed(say("{what}: the 4-byte length announces a {n}-byte header, more "
                              "than the 64 KiB any reader accepts",
                              "{what}：4 字节长度声明了 {n} 字节的报头，超过了接收方接受的 64 KiB",
                              what=what, n=n),
                          sent=sent, got=got, detail=detail,
                          hint=HINT_LENGTH if detail else hint)
    raw = peer.recv_exact(n, timeout)
    if len(raw) < n:
        raise CheckFailed(say("{what}: the length announced a {n}-byte header, but only {m} "
                              "bytes came ({why})",
                              "{what}：长度声明报头有 {n} 字节，但只收到了 {m} 字节（{why}）",
                              what=what, n=n, m=len(raw), why=ended(peer)),
                          sent=sent, got=raw, has_got=True, hint=hint or HINT_UTF8)
    try:
        header = json.loads(raw.decode("utf-8"))
    except ValueError as exc:
        peer.sock.settimeout(0.2)
        try:
            more = peer.sock.recv(MAX_HEADER, socket.MSG_PEEK)
        except OSError:
            more = b""
        raise CheckFailed(say("{what}: the {n} header bytes are not UTF-8 JSON ({exc})",
                              "{what}：这 {n} 个报头字节不是 UTF-8 编码的 JSON（{exc}）",
                              what=what, n=n, exc=f"{type(exc).__name__}: {exc}"),
                          sent=sent, got=raw, detail=undecodable_note(raw, more),
                          hint=HINT_UTF8) from None
    if not isinstance(header, dict):
        raise CheckFailed(say("{what}: the header must be a JSON object", "{what}：报头必须是 JSON 对象",
                              what=what), sent=sent, got=header, has_got=True, hint=hint)
    if want is not None and header != with_len(*want):
        garbled = codec_note(header, with_len(*want))
        refused = None if "error" not in header or "error" in want[0] else say(
            "that is an error frame: the server's recv_frame refused this valid frame (its "
            "reason is in \"error\")",
            "这是一个错误帧：服务端的 recv_frame 拒绝了这个合法的帧（原因写在 \"error\" 里）")
        meta = lambda h: {k: v for k, v in h.items() if k not in ("data_len", "sha256")}
        raise CheckFailed(say("{what}: the JSON header", "{what}：JSON 报头", what=what),
                          sent=sent, expected=with_len(*want), got=header,
                          detail=join_notes(garbled, refused),
                          hint=HINT_UTF8 if garbled else (hint or HINT_UTF8) if refused or
                          meta(header) == meta(want[0]) else header_hint or hint or HINT_UTF8)
    data_len = header.get("data_len")
    if type(data_len) is not int or data_len < 0:
        raise CheckFailed(say("{what}: the header's data_len must be an integer >= 0",
                              "{what}：报头里的 data_len 必须是 >= 0 的整数", what=what),
                          sent=sent, got=header, hint=hint)
    body = peer.recv_exact(data_len, timeout)
    if want is not None:
        why = "" if peer.ended == "complete" else say(" ({why})", "（{why}）", why=ended(peer))
        expect_bytes(body, want[1], say("{what}: the body after the header{why}",
                                        "{what}：报头后面的数据{why}", what=what, why=why),
                     sent=sent, hint=hint or HINT_LOOP)
    elif len(body) < data_len:
        raise CheckFailed(say("{what}: data_len is {n}, but only {m} body bytes came ({why})",
                              "{what}：data_len 是 {n}，但只收到了 {m} 字节数据（{why}）",
                              what=what, n=data_len, m=len(body), why=ended(peer)),
                          sent=sent, hint=hint or HINT_SENDALL)
    return header, body


# -- jsonframe.py through the call driver ------------------------------------------------------

@pytest.fixture
def jsonframe(student):
    """jsonframe(n) -> (module, wires): jsonframe.py loaded in a child process that holds the far
    ends of n fresh connections (`module.handed[i]`); `wires[i]` is the test's end of each."""
    wires = []

    def load(n: int = 1):
        pairs = [connected_pair() for _ in range(n)]
        mod = student.module("jsonframe", sockets=[theirs for _, theirs in pairs])
        wires.extend(Wire(ours) for ours, _ in pairs)
        return mod, wires[-n:]

    yield load
    for wire in wires:
        wire.close()


def send_call(header: dict, body: bytes) -> str:
    return f"send_frame(sock, {show(header, 60)}, {show_bytes(body, 30)})"


@check(points=1, hint=HINT_LENGTH,
       title=say("send_frame writes the '!I' header length, the JSON header, then the body",
                 "send_frame 依次写出 '!I' 报头长度、JSON 报头和数据"))
def test_send_frame_layout(jsonframe):
    mod, [peer] = jsonframe()
    cases = [({"name": "a.txt"}, b"hello"), ({}, b""),
             ({"data_len": 999, "kind": "note"}, b"abc")]  # data_len: computed, never taken
    for header, body in cases:
        call = send_call(header, body)
        returned(mod, mod.start("send_frame", mod.sock, header, body), call)
        read_frame(peer, say("what {call} wrote", "{call} 写出的内容", call=call),
                   want=({k: v for k, v in header.items() if k != "data_len"}, body))
    mod.close()  # its socket closes with it: nothing may follow the last frame
    peer.expect_eof(say("send_frame should write the length, the header and the body, nothing more",
                        "send_frame 只应写出长度、报头和数据，不能多写任何东西"),
                    hint=say("write struct.pack('!I', len(raw)) + raw, then the body: no "
                             "newline, no padding",
                             "写出 struct.pack('!I', len(raw)) + raw，再写数据：不要换行，不要填充"))


@check(points=1, hint=HINT_UTF8,
       title=say("send_frame sends non-ASCII metadata (笔记.txt) as UTF-8 JSON",
                 "send_frame 把非 ASCII 元数据（笔记.txt）编码为 UTF-8 JSON 发送"))
def test_send_frame_non_ascii_name(jsonframe):
    mod, [peer] = jsonframe()
    cases = [({"name": "笔记.txt"}, "粘包与报头".encode("utf-8")),
             ({"name": "升级版：报头字典.md", "作者": "学生", "size": 3}, b"abc"),
             ({"name": "naïve café ✓"}, b"")]
    for header, body in cases:
        call = send_call(header, body)
        returned(mod, mod.start("send_frame", mod.sock, header, body), call)
        read_frame(peer, say("what {call} wrote", "{call} 写出的内容", call=call),
                   want=(header, body))


@check(points=1, hint=HINT_REFERENCE,
       title=say("recv_frame reads frames from a reference peer, then None when it closes",
                 "recv_frame 能读出参考对端发来的帧，对端关闭后返回 None"))
def test_recv_frame_reference_peer(jsonframe):
    mod, [peer] = jsonframe()
    frames = [({"name": "a.txt", "mode": "rb"}, b"hello"),
              ({"name": "bytes.bin"}, bytes(range(256)))]
    pending = mod.start("recv_frame", mod.sock)
    reading(peer, pending).send(frame(*frames[0]))
    peer.wait_read()
    peer.send(frame(*frames[1]))
    peer.shutdown_write()
    sent = frame(*frames[0]) + frame(*frames[1])
    after = say(" (the test sent two frames, then closed its side)",
                "（测试发送了两帧，然后关闭了自己这一端）")
    expect_frame_returned(mod, pending, "recv_frame(sock)", with_len(*frames[0]), frames[0][1],
                          sent=sent, after=after)
    expect_frame_returned(mod, mod.start("recv_frame", mod.sock),
                          say("the second recv_frame(sock)", "第二次 recv_frame(sock)"),
                          with_len(*frames[1]), frames[1][1], sent=sent, after=after)
    expect_none(mod, mod.start("recv_frame", mod.sock),
                say("the third recv_frame(sock)", "第三次 recv_frame(sock)"), sent=sent,
                after=say(" (the peer had closed after two whole frames)",
                          "（对方在发完两整帧之后关闭了连接）"))


@check(points=1, hint=HINT_UTF8,
       title=say("recv_frame returns non-ASCII metadata (笔记.txt) intact",
                 "recv_frame 原样返回非 ASCII 元数据（笔记.txt）"))
def test_recv_frame_non_ascii_name(jsonframe):
    frames = [({"name": "笔记.txt"}, "笔记内容".encode("utf-8"), False),
              ({"name": "粘包与报头.md", "备注": "升级版"}, b"", False),
              ({"name": "naïve café ✓"}, b"xyz", False),
              ({"name": "笔记.txt"}, b"\\u escapes", True)]  # ensure_ascii=True: also UTF-8
    mod, [peer] = jsonframe()
    sent = b"".join(frame(h, b, ascii=a) for h, b, a in frames)
    peer.send(sent)
    peer.shutdown_write()
    after = say(" ({n} frames with non-ASCII metadata, the header as UTF-8 JSON)",
                "（{n} 帧，元数据含非 ASCII 字符，报头是 UTF-8 编码的 JSON）", n=len(frames))
    for i, (header, body, ascii) in enumerate(frames, 1):
        expect_frame_returned(mod, mod.start("recv_frame", mod.sock),
                              say("recv_frame(sock) number {i}", "第 {i} 次 recv_frame(sock)", i=i),
                              with_len(header, body), body,
                              sent=frame(header, body, ascii=ascii), after=after, hint=HINT_UTF8)


@check(points=1, hint=HINT_LOOP,
       title=say("recv_frame puts together a frame that arrives 1 byte at a time",
                 "recv_frame 能拼出一个字节一个字节到达的帧"))
def test_recv_frame_one_byte_at_a_time(jsonframe):
    frames = [({"name": "笔记.txt"}, b"sticky packets"),
              ({"name": "empty"}, b""),
              ({"n": 1}, payload(70))]
    mod, wires = jsonframe(len(frames))
    for n, ((header, body), wire) in enumerate(zip(frames, wires)):
        pending = mod.start("recv_frame", mod.handed[n])
        reading(wire, pending).drip(frame(header, body))
        wire.shutdown_write()
        expect_frame_returned(mod, pending, "recv_frame(sock)", with_len(header, body), body,
                              sent=frame(header, body), hint=HINT_LOOP,
                              after=say(" (each byte was sent once the one before had been read)",
                                        "（每个字节都是在前一个字节被读走之后才发送的）"))


@check(points=1, hint=HINT_MERGED,
       title=say("recv_frame takes 60 frames that arrive in one piece, 0-byte bodies too, one "
                 "at a time", "recv_frame 能把一次到达的 60 帧（含 0 字节数据的帧）逐帧取出"))
def test_recv_frame_merged_frames(jsonframe):
    frames = [({"seq": i, "name": f"第{i}帧"}, b"" if i % 6 == 0 else f"body {i};".encode() * (i % 5))
              for i in range(60)]
    mod, [peer] = jsonframe()
    peer.merged([frame(h, b) for h, b in frames])
    peer.shutdown_write()
    sent = b"".join(frame(h, b) for h, b in frames)
    after = say(" (60 frames came in one write)", "（60 帧是一次写出的）")
    for i, (header, body) in enumerate(frames, 1):
        expect_frame_returned(mod, mod.start("recv_frame", mod.sock),
                              say("recv_frame(sock) number {i}", "第 {i} 次 recv_frame(sock)", i=i),
                              with_len(header, body), body, sent=sent, after=after,
                              hint=HINT_MERGED)
    expect_none(mod, mod.start("recv_frame", mod.sock),
                say("recv_frame(sock) number 61", "第 61 次 recv_frame(sock)"), sent=sent,
                after=say(" (the peer had closed after 60 frames)", "（对方发完 60 帧后关闭了连接）"))


@check(points=1, hint=HINT_EOF,
       title=say("recv_frame raises ConnectionError when the peer closes in the middle of a frame",
                 "对方在一帧中间关闭时，recv_frame 抛出 ConnectionError"))
def test_recv_frame_peer_closes_mid_frame(jsonframe):
    whole = frame({"name": "a.txt"}, b"hello")
    header_end = len(whole) - 5
    cut = [(say("in the middle of the 4-byte length", "在 4 字节长度的中间"), whole[:2]),
           (say("in the middle of the JSON header", "在 JSON 报头的中间"), whole[:9]),
           (say("in the middle of the body", "在数据的中间"), whole[:header_end + 2])]
    mod, wires = jsonframe(len(cut))
    for n, ((where, piece), wire) in enumerate(zip(cut, wires)):
        pending = mod.start("recv_frame", mod.handed[n])
        reading(wire, pending).send(piece)
        wire.wait_read()
        wire.shutdown_write()
        expect_raises(mod, pending, "recv_frame(sock)", "ConnectionError", sent=piece,
                      hint=HINT_EOF, after=say(" (the peer closed {where})", "（对方{where}关闭了连接）",
                                               where=where))


@check(points=1, hint=HINT_CAP,
       title=say("recv_frame refuses a header length over 64 KiB with ValueError, at once",
                 "报头长度超过 64 KiB 时，recv_frame 立即抛出 ValueError"))
def test_recv_frame_header_too_long(jsonframe):
    lengths = [0xFFFFFFFF, MIB]
    mod, wires = jsonframe(len(lengths))
    for n, (length, wire) in enumerate(zip(lengths, wires)):
        piece = LENGTH.pack(length)
        pending = mod.start("recv_frame", mod.handed[n])
        wire.send(piece)  # and nothing more: the connection stays open
        expect_raises(mod, pending, "recv_frame(sock)", "ValueError", sent=piece, hint=HINT_CAP,
                      after=say(" (a header length of {n} bytes; the connection stayed open)",
                                "（报头长度为 {n} 字节；连接一直保持打开）", n=length),
                      waiting=say("it is most likely waiting for {n} header bytes that will never "
                                  "come: 4 bytes from a peer made it wait for (or allocate) that "
                                  "much", "它多半在等待永远不会到来的 {n} 字节报头：对方的 4 个字节就让它"
                                  "去等待（或分配）这么多数据", n=length))


MALFORMED = [
    (say("JSON cut short", "被截断的 JSON"), b'{"data_len": 5, "name": "a.txt"'),
    (say("not JSON at all", "根本不是 JSON"), b"data_len=5"),
    (say("GBK bytes, not UTF-8", "GBK 字节而不是 UTF-8"),
     b'{"data_len": 0, "name": "' + "笔记".encode("gbk") + b'.txt"}'),
    (say("an empty header", "空报头"), b""),
]


@check(points=1, hint=HINT_MALFORMED,
       title=say("recv_frame raises ValueError for a header that is not UTF-8 JSON",
                 "报头不是 UTF-8 JSON 时，recv_frame 抛出 ValueError"))
def test_recv_frame_malformed_json(jsonframe):
    mod, wires = jsonframe(len(MALFORMED))
    for n, ((what, raw), wire) in enumerate(zip(MALFORMED, wires)):
        piece = raw_frame(raw)
        pending = mod.start("recv_frame", mod.handed[n])
        wire.send(piece)  # the connection stays open
        expect_raises(mod, pending, "recv_frame(sock)", "ValueError", sent=piece,
                      hint=HINT_MALFORMED if n != 2 else HINT_UTF8,
                      after=say(" (the header: {what}; the connection stayed open)",
                                "（报头：{what}；连接一直保持打开）", what=what))


BAD_FIELDS = [
    (say("a list, not an object", "是列表而不是对象"), b"[1, 2]"),
    (say("a string, not an object", "是字符串而不是对象"), b'"data_len"'),
    (say("null", "null"), b"null"),
    (say("no data_len", "没有 data_len"), b'{"name": "a.txt"}'),
    (say("a negative data_len", "data_len 为负数"), b'{"data_len": -1}'),
    (say("data_len as a string", "data_len 是字符串"), b'{"data_len": "5"}'),
    (say("data_len not a whole number", "data_len 不是整数"), b'{"data_len": 2.5}'),
]


@check(points=1, hidden=True, hint=HINT_FIELDS,
       title=say("recv_frame raises ValueError for valid JSON that is not a valid header",
                 "报头是合法 JSON 但不是合法报头时，recv_frame 抛出 ValueError"))
def test_recv_frame_bad_header_fields(jsonframe):
    mod, wires = jsonframe(len(BAD_FIELDS))
    for n, ((what, raw), wire) in enumerate(zip(BAD_FIELDS, wires)):
        piece = raw_frame(raw, b"hello")
        pending = mod.start("recv_frame", mod.handed[n])
        wire.send(piece)  # the connection stays open
        expect_raises(mod, pending, "recv_frame(sock)", "ValueError", sent=piece, hint=HINT_FIELDS,
                      after=say(" (the header: {what}; the connection stayed open)",
                                "（报头：{what}；连接一直保持打开）", what=what))


def padded_header(size: int, body: bytes) -> bytes:
    """UTF-8 JSON header bytes of exactly `size` bytes (padding in a "pad" field)."""
    bare = len(header_bytes({"pad": ""}, body))
    raw = header_bytes({"pad": "x" * (size - bare)}, body)
    assert len(raw) == size
    return raw


@check(points=1, hidden=True, hint=HINT_CAP,
       title=say("the 64 KiB cap: a header of exactly 65536 bytes passes, 65537 is refused, on "
                 "both sides", "64 KiB 上限：恰好 65536 字节的报头可以通过，65537 字节被拒绝，收发两端都是"))
def test_header_cap_boundary(jsonframe):
    mod, [fits, over, out] = jsonframe(3)
    body = b"ok"
    raw = padded_header(MAX_HEADER, body)
    pending = mod.start("recv_frame", mod.handed[0])
    fits.send(raw_frame(raw, body))
    expect_frame_returned(mod, pending, "recv_frame(sock)", json.loads(raw), body,
                          sent=raw_frame(raw, body), hint=HINT_CAP,
                          after=say(" (a header of exactly 65536 bytes: the cap itself is allowed)",
                                    "（报头恰好 65536 字节：等于上限是允许的）"))
    piece = LENGTH.pack(MAX_HEADER + 1)
    pending = mod.start("recv_frame", mod.handed[1])
    over.send(piece)
    expect_raises(mod, pending, "recv_frame(sock)", "ValueError", sent=piece, hint=HINT_CAP,
                  after=say(" (a header length of 65537 bytes; the connection stayed open)",
                            "（报头长度为 65537 字节；连接一直保持打开）"))

    big = {"pad": "x" * (MAX_HEADER + 100)}
    call = f"send_frame(sock, {{'pad': 'xxx…' ({MAX_HEADER + 100} x)}}, b'')"
    expect_raises(mod, mod.start("send_frame", mod.handed[2], big, b""), call, "ValueError",
                  sent=None, hint=HINT_SEND_CAP,
                  after=say(" (its JSON header would be over 64 KiB: no reader would take it)",
                            "（它的 JSON 报头会超过 64 KiB：没有接收方会接受）"))
    header, body = {"name": "after"}, b"next"
    call = send_call(header, body)
    returned(mod, mod.start("send_frame", mod.handed[2], header, body), call)
    read_frame(out, say("the first frame on the wire after the refused one (the refused header "
                        "must not be sent at all)", "被拒绝的那一帧之后线路上的第一帧"
                        "（被拒绝的报头一个字节也不能发出去）"),
               want=(header, body), hint=HINT_SEND_CAP)


def longer_than_send_buffer() -> int:
    """At least 5 MiB, and more than any socket send buffer here can take in one go."""
    try:
        with open("/proc/sys/net/ipv4/tcp_wmem") as f:
            biggest = int(f.read().split()[2])
    except (OSError, ValueError, IndexError):
        biggest = 4 * MIB
    return max(5 * MIB, min(biggest + MIB, 64 * MIB))


@check(points=1, hidden=True, hint=HINT_LOOP,
       title=say("recv_frame returns a 6 MiB body whole", "recv_frame 完整返回 6 MiB 的数据"))
def test_recv_frame_multi_mib(jsonframe):
    header, body = {"name": "大文件.bin"}, payload(6 * MIB)
    whole = frame(header, body)
    header_end = len(whole) - len(body)
    mod, [wire] = jsonframe()
    pending = mod.start("recv_frame", mod.sock)
    reading(wire, pending)

    def send():  # the length and the header, 64 KiB of body, the rest: one recv() gets a piece
        try:
            wire.split(whole, header_end, header_end + 65536)
            wire.shutdown_write()
        except OSError:
            pass  # the other end stopped reading: what it returned says why
    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    expect_frame_returned(mod, pending, "recv_frame(sock)", with_len(header, body), body,
                          sent=whole, hint=HINT_LOOP, timeout=8,
                          after=say(" (the body came in two pieces: 64 KiB, then the rest)",
                                    "（数据分两段到达：先 64 KiB，再是其余部分）"))
    thread.join(5)


@check(points=1, hidden=True, hint=HINT_SENDALL,
       title=say("send_frame sends a multi-MiB body whole to a slow reader",
                 "send_frame 把几 MiB 的数据完整发给读得很慢的接收方"))
def test_send_frame_multi_mib(jsonframe):
    header, body = {"name": "大文件.bin"}, payload(longer_than_send_buffer(), seed=11)
    mod, [peer] = jsonframe()
    peer.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)  # a slow reader
    result: list = []
    failure: list = []
    what = say("what send_frame(sock, {h}, <{n} MiB>) wrote", "send_frame(sock, {h}, <{n} MiB>) 写出的内容",
               h=show(header), n=len(body) >> 20)

    def read():
        try:
            result.append(read_frame(peer, what, timeout=8, hint=HINT_SENDALL))
        except CheckFailed as exc:
            failure.append(exc)
            peer.close()  # stop taking bytes at once: the sender's sendall() fails, not hangs
    reader = threading.Thread(target=read, daemon=True)
    call = f"send_frame(sock, {show(header)}, <{len(body) >> 20} MiB>)"
    pending = mod.start("send_frame", mod.sock, header, body)
    blocked_sending(mod.proc, peer.sock, stop=pending.done)  # its first send() has returned
    reader.start()
    try:
        returned(mod, pending, call, timeout=8)
    except CheckFailed:
        reader.join(0.5)
        if failure:  # the reader stopped at a bad frame, and then nobody read: that is the news
            raise failure[0] from None
        raise
    mod.close()  # whatever it sent is delivered, then its side closes: the reader stops
    reader.join(10)
    if failure:
        raise failure[0]
    if not result:
        raise CheckFailed(say("{what}: the test's reader did not finish", "{what}：测试的读取方没有读完",
                              what=what))
    got_header, got_body = result[0]
    if got_header != with_len(header, body):
        raise CheckFailed(say("{what}: the JSON header", "{what}：JSON 报头", what=what),
                          expected=with_len(header, body), got=got_header, hint=HINT_UTF8)
    expect_bytes(got_body, body, say("{what}: the body", "{what}：数据", what=what),
                 hint=HINT_SENDALL)


# -- server.py -----------------------------------------------------------------------------------

def connect(server, name: str = "test client") -> Wire:
    wire = Wire.connect(server.addr, name=name)
    wire.stop = lambda: not server.alive()
    return wire


@contextlib.contextmanager
def watching(proc):
    """A failure inside says so if the student's server has died meanwhile."""
    try:
        yield
    except CheckFailed as exc:
        if proc.alive():
            proc.wait(0.2)  # a process that just closed its sockets may be exiting right now
        if not proc.alive():  # (its stderr follows in the feedback)
            note = say(" - meanwhile server.py {state}", "——与此同时 server.py {state}",
                       state=describe_proc(proc)).render()
            lines = exc.args[0].split("\n", 1)
            lines[0] += note
            exc.args = ("\n".join(lines), *exc.args[1:])
        raise


def receipt(header: dict, body: bytes) -> tuple[dict, bytes]:
    """What the server answers: the metadata, plus the body's sha256, and the body."""
    meta = {k: v for k, v in header.items() if k != "data_len"}
    return {**meta, "sha256": hashlib.sha256(body).hexdigest()}, body


def expect_receipt(peer: Wire, header: dict, body: bytes, what, *, sent, hint=HINT_SERVER):
    read_frame(peer, what, sent=sent, hint=hint, want=receipt(header, body),
               header_hint=HINT_SERVER)


@check(points=1, hint=HINT_SERVER,
       title=say("server answers a frame with its metadata, the body's sha256 and the body",
                 "服务端用原来的元数据、数据的 sha256 和数据本身回复一帧"))
def test_server_echoes_with_receipt(student):
    server = student.server("server.py")
    header, body = {"name": "笔记.txt", "kind": "note"}, "粘包：发送方要先说明长度".encode("utf-8")
    with watching(server.proc), connect(server) as peer:
        peer.send(frame(header, body))
        expect_receipt(peer, header, body, say("the server's reply", "服务端的回复"),
                       sent=frame(header, body))
        peer.shutdown_write()
        peer.expect_eof(say("the client closed after one frame: the server should answer it, "
                            "then close the connection",
                            "客户端发完一帧就关闭了：服务端应当回复它，然后关闭连接"),
                        hint=say("recv_frame() returns None when the client has closed: then close",
                                 "客户端关闭后 recv_frame() 返回 None：这时关闭连接"))


@check(points=1, hint=HINT_LOOP,
       title=say("server answers frames that arrive in pieces and glued together",
                 "服务端能回复分段到达和粘在一起到达的帧"))
def test_server_frames_in_pieces(student):
    server = student.server("server.py")
    one = ({"name": "一.txt"}, b"first")
    two = ({"name": "two"}, b"sent one byte at a time")
    three = ({"name": "三"}, b"split")
    empty = ({"name": "empty.txt"}, b"")
    glued = [({"seq": i}, f"<{i}>".encode() * (i % 4)) for i in range(20)]
    whole3 = frame(*three)
    steps = [(say("sent whole", "一次发出"), [one], lambda w, f: w.send(f)),
             (say("sent 1 byte at a time", "一个字节一个字节地发出"), [two], lambda w, f: w.drip(f)),
             (say("its length, header and body each cut in two", "长度、报头、数据各被切成两段"), [three],
              lambda w, f: w.split(f, 2, 4, 9, len(whole3) - 3)),
             (say("a 0-byte body", "0 字节的数据"), [empty], lambda w, f: w.send(f)),
             (say("20 frames glued into one write", "20 帧粘在一起一次写出"), glued,
              lambda w, f: w.send(f))]
    with watching(server.proc), connect(server) as peer:
        for how, frames, send in steps:
            data = b"".join(frame(*f) for f in frames)
            send(peer, data)
            for i, (header, body) in enumerate(frames, 1):
                what = (say("the reply to the frame {how}", "对{how}的帧的回复", how=how)
                        if len(frames) == 1 else
                        say("the reply to frame {i} of {how}", "对{how}中第 {i} 帧的回复", i=i, how=how))
                expect_receipt(peer, header, body, what, sent=frame(header, body),
                               hint=HINT_MERGED if len(frames) > 1 else HINT_LOOP)
        peer.shutdown_write()
        peer.expect_eof(say("after the client closed, the server should close the connection",
                            "客户端关闭后，服务端应当关闭连接"), hint=HINT_EOF)


@check(points=1, hidden=True, hint=HINT_SERVER_BAD,
       title=say("server refuses bad headers with an error frame and serves the next client",
                 "服务端用错误帧拒绝有问题的报头，并继续服务下一个客户端"))
def test_server_survives_bad_headers(student):
    server = student.server("server.py")
    rude = [(say("a header length of 4294967295", "报头长度 4294967295"), LENGTH.pack(0xFFFFFFFF)),
            (say("a header that is not JSON", "不是 JSON 的报头"), raw_frame(b"{not json}"))]
    with watching(server.proc):
        for what, piece in rude:
            with connect(server, name="rude client") as peer:
                peer.send(piece)  # and the connection stays open: the server must decide
                header, _ = read_frame(peer, say("the server's answer to {what}",
                                                 "服务端对这个客户端（{what}）的回答", what=what), sent=piece, hint=HINT_SERVER_BAD,
                                       silent=say("the server said nothing and kept the connection "
                                                  "open: most likely it is waiting for the bytes "
                                                  "this header promised, which will never come",
                                                  "服务端一言不发，连接也一直开着：它多半在等待这个报头"
                                                  "许诺的那些字节，而它们永远不会到来"))
                if (not isinstance(header.get("error"), str) or not header["error"]
                        or header.get("data_len") != 0):
                    raise CheckFailed(say("the server's answer to {what}",
                                          "服务端对这个客户端（{what}）的回答", what=what), sent=piece,
                                      expected='{"error": "…", "data_len": 0}', got=header,
                                      hint=HINT_SERVER_BAD)
                peer.expect_eof(say("after the error frame the server should close the connection: "
                                    "the stream can no longer be trusted",
                                    "发出错误帧之后服务端应当关闭连接：这条字节流已经不可信了"),
                                hint=HINT_SERVER_BAD)
        cut = frame({"name": "cut.txt"}, b"never finished")[:-5]
        with connect(server, name="client that hangs up") as peer:
            peer.send(cut)
            peer.shutdown_write()
            peer.expect_eof(say("a client sent a frame without its last 5 bytes and closed: the "
                                "server should close that connection",
                                "一个客户端发送的帧少了最后 5 个字节就关闭了：服务端应当关闭这个连接"),
                            hint=HINT_EOF)
        header, body = {"name": "下一个.txt"}, b"anyone there?"
        with connect(server, name="next client") as peer:
            peer.send(frame(header, body))
            expect_receipt(peer, header, body,
                           say("the reply to the client after three bad ones",
                               "对前三个出问题的客户端之后那个客户端的回复"),
                           sent=frame(header, body), hint=HINT_SERVER_BAD)
