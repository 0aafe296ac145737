"""file_upload: the graded suite.

server.py runs as a process with `--dir uploads` (a folder inside its working copy that does
not exist yet); the test is its client, speaking the protocol byte by byte (a `Wire`, which can
drip a header one byte at a time or glue several requests into one write), and then looks at
what the server left in `student.workdir / "uploads"`. client.py runs as a process against a
test server: a listening socket of the judge's that reads the client's request and answers it.

Memory is measured, not guessed: the server's peak resident size (VmHWM) before and after a
64 MiB upload. A client that vanishes mid-upload is followed by one more client: the server
serves clients one after another, so its answer to that one proves it has finished with the
vanished one (and cleaned up), with no waiting on the clock.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import socket
import struct
import time

from grader.harness import CheckFailed, Wire, accept, check, expect_bytes, listener, say

KIB, MIB = 1 << 10, 1 << 20
MAX_HEADER = 64 * KIB
LENGTH = struct.Struct("!I")
UPLOADS = "uploads"

# -- hints -------------------------------------------------------------------------------------

HINT_FRAME = say(
    "every request and every reply is sticky_json's frame: struct.pack('!I', len(header_bytes)), "
    "the header as UTF-8 JSON, then header[\"size\"] bytes of file for an upload or a successful "
    "download",
    "每个请求和每个回复都是 sticky_json 的帧：struct.pack('!I', len(header_bytes))，然后是 UTF-8 "
    "编码的 JSON 报头，上传请求和成功的下载回复后面再跟 header[\"size\"] 字节的文件内容")
HINT_UPLOAD = say(
    "upload: read the header, then exactly size bytes into a temporary file in the upload "
    "folder, check the sha256, os.replace() it to its name, reply {\"ok\": true}; download: "
    "reply {\"ok\": true, \"filename\", \"size\", \"sha256\"}, then the file's bytes",
    "上传：先读报头，再恰好读 size 字节写进上传目录里的临时文件，核对 sha256，用 os.replace() 改成"
    "正式的名字，回复 {\"ok\": true}；下载：回复 {\"ok\": true, \"filename\", \"size\", \"sha256\"}，"
    "再发送文件的字节")
HINT_UTF8 = say(
    "the header is UTF-8 JSON on both sides: json.loads(raw.decode('utf-8')) gives the str "
    "'笔记.txt', and open() with that str creates the file 笔记.txt - never decode with 'gbk' "
    "or latin-1",
    "报头两端都是 UTF-8 编码的 JSON：json.loads(raw.decode('utf-8')) 得到字符串 '笔记.txt'，"
    "用这个字符串 open() 就会创建文件 笔记.txt——不要用 'gbk' 或 latin-1 解码")
HINT_CAPPED = say(
    "read the file with recv(min(size - received, CHUNK)): never ask for more than is still "
    "missing. The note's recv(1024) loop swallows the start of the next request into the file "
    "whenever the client sends them back to back",
    "读文件时用 recv(min(size - received, CHUNK))：要的字节数绝不能超过还缺的数量。笔记里的 "
    "recv(1024) 循环，遇到客户端把请求一个接一个紧挨着发来时，就会把下一个请求的开头也吞进文件里")
HINT_LOOP = say(
    "one recv() returns whatever has arrived - maybe a single byte: loop until you have exactly "
    "4 bytes, then exactly header_len bytes of header, then the file's size bytes",
    "一次 recv() 只返回目前已到达的数据，可能只有 1 个字节：要循环接收，直到恰好凑够 4 字节，"
    "再凑够 header_len 字节的报头，然后是文件的 size 字节")
HINT_NAMES = say(
    "a file name from the network is not a path: refuse '', '.', '..' and any name containing "
    "'/', '\\\\' or NUL with {\"ok\": false, \"error\": ...} - never os.path.join(folder, name) "
    "unchecked, and never 'clean' it with replace('../', '')",
    "从网络上收到的文件名不是路径：''、'.'、'..' 以及含有 '/'、'\\\\' 或 NUL 的名字，一律回复 "
    "{\"ok\": false, \"error\": ...} 拒绝——绝不能不加检查就 os.path.join(folder, name)，"
    "也不要用 replace('../', '') 去“清洗”它")
HINT_DRAIN = say(
    "after refusing an upload, still read (and drop) its size bytes before you reply: the next "
    "request on the connection starts after them",
    "拒绝一个上传之后，仍然要把它的 size 字节读掉（丢弃）再回复：这个连接上的下一个请求从它们后面才开始")
HINT_VERIFY = say(
    "write into a temporary file (tempfile.mkstemp(dir=folder)), compare the sha256 of what "
    "arrived with the header's, and only then os.replace() it to its name; on a mismatch delete "
    "it and reply {\"ok\": false, ...}: the old file of that name stays as it was",
    "先写进临时文件（tempfile.mkstemp(dir=folder)），把收到内容的 sha256 和报头里的比对，一致了"
    "才用 os.replace() 改成正式的名字；不一致就删掉它，回复 {\"ok\": false, ...}：同名的旧文件保持原样")
HINT_MISSING = say(
    "a download of a file that is not there gets {\"ok\": false, \"error\": ...} and no body; "
    "the connection goes on",
    "下载一个不存在的文件，回复 {\"ok\": false, \"error\": ...}，不带数据；连接继续保持")
HINT_STREAM = say(
    "stream the file: recv() a chunk (64 KiB, say), write it, update a hashlib.sha256() object, "
    "repeat. Never collect the whole file in a bytes object or a list first",
    "要流式处理文件：recv() 一块（比如 64 KiB），写入文件，更新 hashlib.sha256() 对象，如此反复。"
    "绝不要先把整个文件攒进一个 bytes 对象或列表里")
HINT_EOF = say(
    "recv() returning b'' means the client is gone: inside a file that is an error (raise "
    "ConnectionError), so delete the temporary file and go on to the next client. A loop "
    "without the b'' check spins forever",
    "recv() 返回 b'' 表示客户端已经走了：在文件的中间这是错误（抛出 ConnectionError），所以要删掉"
    "临时文件，接着服务下一个客户端。没有检查 b'' 的循环会永远空转")
HINT_BAD = say(
    "a header you cannot act on (over 64 KiB, not JSON, an unknown op, a size that is not an "
    "integer >= 0) gets {\"ok\": false, \"error\": ...} and then the connection is closed; the "
    "server serves the next client",
    "无法处理的报头（超过 64 KiB、不是 JSON、未知的 op、size 不是 >= 0 的整数）回复 "
    "{\"ok\": false, \"error\": ...} 后关闭连接；服务端接着服务下一个客户端")
HINT_CLIENT_UPLOAD = say(
    "upload PATH: send {\"op\": \"upload\", \"filename\": os.path.basename(PATH), \"size\", "
    "\"sha256\"} and the file's bytes, read the reply, print 'uploaded NAME SIZE SHA256'",
    "upload PATH：发送 {\"op\": \"upload\", \"filename\": os.path.basename(PATH), \"size\", "
    "\"sha256\"} 和文件的字节，读取回复，打印 'uploaded NAME SIZE SHA256'")
HINT_CLIENT_DOWNLOAD = say(
    "download NAME: send {\"op\": \"download\", \"filename\": NAME}, read the reply header, then "
    "exactly size bytes into a file NAME in the current folder; print 'downloaded NAME SIZE "
    "SHA256'",
    "download NAME：发送 {\"op\": \"download\", \"filename\": NAME}，读回复的报头，再恰好读 size "
    "字节写进当前目录下的文件 NAME；打印 'downloaded NAME SIZE SHA256'")
HINT_CLIENT_ERROR = say(
    "when the reply says {\"ok\": false}: print 'error: ' and its error to stderr, nothing to "
    "stdout, write no file, and sys.exit(1)",
    "回复是 {\"ok\": false} 时：把 'error: ' 加上其中的 error 打印到 stderr，stdout 什么都不打印，"
    "不写任何文件，然后 sys.exit(1)")
HINT_SENDALL = say(
    "a binary file has no lines: `for line in f` cuts it at random b'\\n' bytes (or not at all), "
    "and send() may send only part of what it is given. Read the file in chunks, f.read(65536), "
    "and sendall() each",
    "二进制文件没有“行”：`for line in f` 会在随机出现的 b'\\n' 处把它切开（或者根本切不开），"
    "而 send() 可能只发出一部分。要按块读文件 f.read(65536)，每块都用 sendall() 发送")
HINT_CLIENT_VERIFY = say(
    "a download is checked like an upload: into a temporary file, compare the sha256 (and that "
    "all size bytes came), only then rename it to NAME; otherwise delete it, 'error: ...' on "
    "stderr, exit 1",
    "下载和上传一样要核对：先写进临时文件，比对 sha256（并确认 size 字节全部收到），之后才改名为 "
    "NAME；否则删掉它，在 stderr 打印 'error: ...'，以退出码 1 退出")


# -- the protocol, as the test speaks it -------------------------------------------------------

def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def payload(n: int, seed: int = 7) -> bytes:
    return random.Random(seed).randbytes(n)


def frame(header: dict, body: bytes = b"", *, ascii: bool = False) -> bytes:
    try:
        raw = json.dumps(header, ensure_ascii=ascii).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate travels only as a \ud800 escape
        raw = json.dumps(header, ensure_ascii=True).encode("utf-8")
    return LENGTH.pack(len(raw)) + raw + body


def up(name: str, data: bytes, *, digest: str | None = None, ascii: bool = False) -> bytes:
    """An upload request: header and file."""
    return frame({"op": "upload", "filename": name, "size": len(data),
                  "sha256": digest or sha(data)}, data, ascii=ascii)


def down(name: str) -> bytes:
    return frame({"op": "download", "filename": name})


def upload_call(name: str, data: bytes) -> str:
    return f"upload {name!r} ({len(data)} bytes)"


# -- reading frames ------------------------------------------------------------------------------

def why(peer) -> str:
    return peer.ended.text() if hasattr(peer.ended, "text") else str(peer.ended)


def read_header(peer, what, *, sent=None, hint=None, timeout: float = 5.0, silent=None,
                gone=None) -> dict:
    """One frame's length and JSON header, checked as they come. `silent` explains a
    connection that stayed open with nothing said, `gone` = (detail, hint) one that closed."""
    got = peer.recv_exact(4, timeout)
    if len(got) < 4:
        detail = None
        if not got and peer.ended.open:
            detail = silent
        elif not got and gone:
            detail, hint = gone
        raise CheckFailed(say("{what}: expected the 4-byte length of a header, got {n} bytes ({why})",
                              "{what}：应当先收到报头的 4 字节长度，却只收到 {n} 字节（{why}）",
                              what=what, n=len(got), why=why(peer)),
                          sent=sent, got=got, has_got=True, hint=hint or HINT_FRAME, detail=detail)
    (n,) = LENGTH.unpack(got)
    if n > MAX_HEADER:
        little = struct.unpack("<I", got)[0]
        raise CheckFailed(say("{what}: the 4-byte length announces a {n}-byte header, more than "
                              "the 64 KiB any reader accepts",
                              "{what}：4 字节长度声明了 {n} 字节的报头，超过了接收方接受的 64 KiB",
                              what=what, n=n), sent=sent, got=got,
                          detail=say("read as little-endian (the note's native 'i') the same bytes "
                                     "say {m}: the length must be packed with '!I'",
                                     "按小端（笔记里的原生 'i'）读，这 4 个字节是 {m}：长度必须用 '!I' 打包",
                                     m=little) if little <= MAX_HEADER else None,
                          hint=HINT_FRAME)
    raw = peer.recv_exact(n, timeout)
    if len(raw) < n:
        raise CheckFailed(say("{what}: the length announced a {n}-byte header, but only {m} bytes "
                              "came ({why})", "{what}：长度声明报头有 {n} 字节，但只收到了 {m} 字节（{why}）",
                              what=what, n=n, m=len(raw), why=why(peer)),
                          sent=sent, got=raw, has_got=True, hint=HINT_FRAME)
    try:
        header = json.loads(raw.decode("utf-8"))
    except ValueError as exc:
        raise CheckFailed(say("{what}: the {n} header bytes are not UTF-8 JSON ({exc})",
                              "{what}：这 {n} 个报头字节不是 UTF-8 编码的 JSON（{exc}）",
                              what=what, n=n, exc=f"{type(exc).__name__}: {exc}"),
                          sent=sent, got=raw, hint=HINT_UTF8) from None
    if not isinstance(header, dict):
        raise CheckFailed(say("{what}: the header must be a JSON object", "{what}：报头必须是 JSON 对象",
                              what=what), sent=sent, got=header, has_got=True, hint=HINT_FRAME)
    return header


def read_body(peer, size, what, *, sent=None, hint=None, timeout: float = 5.0) -> bytes:
    if type(size) is not int or size < 0:
        raise CheckFailed(say("{what}: \"size\" must be an integer >= 0", "{what}：\"size\" 必须是 >= 0 的整数",
                              what=what), sent=sent, got=size, has_got=True, hint=hint or HINT_FRAME)
    body = peer.recv_exact(size, timeout)
    if len(body) < size:
        raise CheckFailed(say("{what}: the header said \"size\": {n}, but only {m} bytes of file "
                              "followed ({why})",
                              "{what}：报头说 \"size\": {n}，但后面只收到了 {m} 字节的文件内容（{why}）",
                              what=what, n=size, m=len(body), why=why(peer)),
                          sent=sent, hint=hint or HINT_FRAME)
    return body


def expect_ok(peer, what, *, sent=None, hint=None, timeout: float = 5.0) -> dict:
    """The reply to an upload: {"ok": true}, no file after it."""
    header = read_header(peer, what, sent=sent, hint=hint, timeout=timeout)
    if header.get("ok") is not True:
        raise CheckFailed(what, sent=sent, expected={"ok": True}, got=header,
                          detail=refusal_note(header), hint=hint or HINT_UPLOAD)
    return header


def refusal_note(header: dict):
    error = str(header.get("error", ""))
    if "sha256" in error or "hash" in error:
        return say("your server refused it for its hash: the bytes it stored are not the bytes "
                   "of this file (too few, too many, or other bytes)",
                   "你的服务端因为哈希值不符拒绝了它：它存下的字节不是这个文件的字节（少了、多了或者不一样）")
    return None


def expect_refused(peer, what, *, sent=None, hint=None, timeout: float = 5.0, detail=None,
                   silent=None, gone=None) -> dict:
    """The reply {"ok": false, "error": "..."} (a non-empty error), and no file after it.
    `detail` may be a function, asked only when the reply is wrong."""
    header = read_header(peer, what, sent=sent, hint=hint, timeout=timeout, silent=silent,
                         gone=gone)
    error = header.get("error")
    if header.get("ok") is not False or not isinstance(error, str) or not error:
        raise CheckFailed(what, sent=sent, expected='{"ok": false, "error": "…"}', got=header,
                          detail=detail() if callable(detail) else detail, hint=hint)
    return header


AFTER_REFUSAL = (say("the server closed the connection right after refusing the request before: "
                     "most likely it took that upload's file bytes for this request's header",
                     "服务端在拒绝上一个请求之后马上关闭了连接：它多半把那个上传的文件字节当成了这个请求的报头"),
                 HINT_DRAIN)


def expect_download(peer, name: str, data: bytes, what, *, sent=None, hint=None,
                    timeout: float = 5.0) -> None:
    """The reply to a download: {"ok": true, "filename", "size", "sha256"}, then the file."""
    header = read_header(peer, what, sent=sent, hint=hint, timeout=timeout)
    want = {"ok": True, "filename": name, "size": len(data), "sha256": sha(data)}
    if {k: header.get(k) for k in want} != want:
        raise CheckFailed(say("{what}: the reply's header", "{what}：回复的报头", what=what), sent=sent,
                          expected=want, got=header, hint=hint or HINT_UPLOAD)
    body = read_body(peer, header["size"], what, sent=sent, hint=hint, timeout=timeout)
    expect_bytes(body, data, say("{what}: the file after the header", "{what}：报头后面的文件内容",
                                 what=what), sent=sent, hint=hint or HINT_UPLOAD)


# -- the server's folder ---------------------------------------------------------------------------

def uploads(student):
    return student.workdir / UPLOADS


def listing(folder) -> list[str]:
    """The names in a folder (Python's own __pycache__ left out)."""
    try:
        return sorted(n for n in os.listdir(folder) if n != "__pycache__")
    except OSError:
        return []


def show_listing(folder) -> str:
    names = listing(folder)
    return "[" + ", ".join(repr(n) for n in names) + "]" if names else str(say("(empty)", "（空）"))


def expect_stored(student, name: str, data: bytes, what, *, sent=None, hint=None) -> None:
    """uploads/<name> holds exactly `data`."""
    path = uploads(student) / name
    if not path.is_file():
        raise CheckFailed(say("{what}: there is no file {path} after the server answered "
                              "{{\"ok\": true}}", "{what}：服务端回答了 {{\"ok\": true}}，却没有文件 {path}",
                              what=what, path=f"{UPLOADS}/{name}"),
                          sent=sent, detail=say("{folder}/ holds: {names}", "{folder}/ 里有：{names}",
                                                folder=UPLOADS, names=show_listing(uploads(student))),
                          hint=hint or HINT_UPLOAD)
    expect_bytes(path.read_bytes(), data,
                 say("{what}: the content of {path}", "{what}：{path} 的内容", what=what,
                     path=f"{UPLOADS}/{name}"), sent=sent, hint=hint or HINT_UPLOAD)


def expect_listing(student, names: list[str], what, *, hint=None) -> None:
    got = listing(uploads(student))
    if got != sorted(names):
        extra = [n for n in got if n not in names]
        raise CheckFailed(say("{what}: the files in {folder}/", "{what}：{folder}/ 里的文件",
                              what=what, folder=UPLOADS),
                          expected=sorted(names), got=got,
                          detail=say("left over: {extra}", "多出来的：{extra}",
                                     extra=", ".join(map(repr, extra))) if extra else None,
                          hint=hint)


def describe(proc):
    rc = proc.returncode
    if rc is None:
        return say("is still running", "仍在运行")
    if rc < 0:
        return say("was killed by signal {sig}", "被信号 {sig} 杀死", sig=-rc)
    return say("exited with code {rc}", "以退出码 {rc} 退出", rc=rc)


@contextlib.contextmanager
def watching(proc):
    """A failure inside says so if the student's process has died meanwhile."""
    try:
        yield
    except CheckFailed as exc:
        if getattr(exc, "about_exit", False):
            raise
        if proc.alive():
            proc.wait(0.2)  # a process that just closed its sockets may be exiting right now
        if not proc.alive():
            note = say(" - meanwhile {name} {state}", "——与此同时 {name} {state}", name=proc.name,
                       state=describe(proc)).render()
            lines = exc.args[0].split("\n", 1)
            lines[0] += note
            exc.args = ("\n".join(lines), *exc.args[1:])
        raise


def start_server(student):
    return student.server("server.py", "--dir", UPLOADS)


def connect(server, name: str = "test client") -> Wire:
    wire = Wire.connect(server.addr, name=name)
    wire.stop = lambda: not server.alive()
    return wire


def upload_ok(server, student, name: str, data: bytes, what, *, hint=None) -> None:
    """One upload on a connection of its own, answered {"ok": true} and stored."""
    with connect(server) as peer:
        peer.send(up(name, data))
        expect_ok(peer, what, sent=up(name, data), hint=hint)
    expect_stored(student, name, data, what, sent=up(name, data), hint=hint)


# -- server.py: the basics -----------------------------------------------------------------------

@check(points=2, hint=HINT_UPLOAD,
       title=say("server stores an uploaded file in UPLOAD_DIR and sends it back on download",
                 "服务端把上传的文件存进 UPLOAD_DIR，下载时再原样发回"))
def test_server_upload_then_download(student):
    server = start_server(student)
    files = [("hello.txt", b"hello, file\n"), ("all_bytes.bin", bytes(range(256)) * 1200)]
    with watching(server.proc):
        for name, data in files:
            upload_ok(server, student, name, data,
                      say("the reply to an upload of {name!r} ({n} bytes) on a connection of its "
                          "own", "对单独一个连接上传 {name!r}（{n} 字节）的回复", name=name, n=len(data)))
        for name, data in files:
            with connect(server) as peer:
                peer.send(down(name))
                expect_download(peer, name, data, say("the reply to a download of {name!r}",
                                                      "对下载 {name!r} 的回复", name=name),
                                sent=down(name))


@check(points=1, hint=HINT_UTF8,
       title=say("server keeps a non-ASCII file name (笔记.txt) as it is, on disk and on download",
                 "服务端原样保留非 ASCII 文件名（笔记.txt），磁盘上和下载时都一样"))
def test_server_non_ascii_name(student):
    server = start_server(student)
    files = [("笔记.txt", "第一章：套接字与粘包\n".encode("utf-8"), False),
             ("报头 升级版.md", "升级版报头".encode("utf-8"), True),  # sent as \\u escapes
             ("naïve café ✓.txt", b"ok", False)]
    with watching(server.proc), connect(server) as peer:
        for name, data, ascii in files:
            request = up(name, data, ascii=ascii)
            peer.send(request)
            expect_ok(peer, say("the reply to an upload of {name!r}", "对上传 {name!r} 的回复", name=name),
                      sent=request, hint=HINT_UTF8)
        on_disk = sorted(os.listdir(os.fsencode(uploads(student))))
        want = sorted(name.encode("utf-8") for name, _, _ in files)
        if on_disk != want:
            got = sorted(os.fsdecode(n) for n in on_disk)
            garbled = None
            for codec in ("latin-1", "cp1252", "gbk"):
                if any(n.encode("utf-8").decode(codec, "replace") in got for n, _, _ in files):
                    garbled = say("the UTF-8 bytes of the names were decoded as {codec}: decode the "
                                  "header with 'utf-8'", "文件名的 UTF-8 字节被当成 {codec} 解码了："
                                  "报头要用 'utf-8' 解码", codec=codec)
                    break
            raise CheckFailed(say("the file names in {folder}/ on disk", "磁盘上 {folder}/ 里的文件名",
                                  folder=UPLOADS), expected=sorted(n for n, _, _ in files), got=got,
                              detail=garbled, hint=HINT_UTF8)
        for name, data, _ in files:
            expect_stored(student, name, data, say("after uploading {name!r}", "上传 {name!r} 之后",
                                                   name=name), hint=HINT_UTF8)
            peer.send(down(name))
            expect_download(peer, name, data, say("the reply to a download of {name!r}",
                                                  "对下载 {name!r} 的回复", name=name),
                            sent=down(name), hint=HINT_UTF8)


@check(points=2, hint=HINT_CAPPED,
       title=say("server answers requests on one connection, arriving in pieces or back to back",
                 "服务端能处理同一连接上分段到达或紧挨着到达的多个请求"))
def test_server_requests_in_pieces_and_back_to_back(student):
    server = start_server(student)
    a, b = ("a.txt", b"sent one byte at a time"), ("b.bin", payload(5000, 2))
    c, d, e = ("c.bin", payload(3000, 3)), ("empty.txt", b""), ("e.txt", "粘包".encode("utf-8"))
    with watching(server.proc), connect(server) as peer:
        peer.drip(up(*a))
        expect_ok(peer, say("the reply to an upload of {name!r} sent 1 byte at a time",
                            "对一个字节一个字节发来的上传 {name!r} 的回复", name=a[0]),
                  sent=up(*a), hint=HINT_LOOP)
        whole = up(*b)
        head = len(whole) - len(b[1])
        peer.split(whole, 2, head - 3, head, head + 1000)
        expect_ok(peer, say("the reply to an upload of {name!r} in 5 pieces (its length, header "
                            "and file each cut)", "对分成 5 段发来的上传 {name!r}（长度、报头、文件都被切开）的回复",
                            name=b[0]), sent=whole, hint=HINT_LOOP)
        glued = [up(*c), up(*d), down(c[0]), up(*e)]
        peer.send(b"".join(glued))
        how = say(" (4 requests sent in one write: upload {c}, upload {d}, download {c}, upload {e})",
                  "（4 个请求一次写出：上传 {c}、上传 {d}、下载 {c}、上传 {e}）",
                  c=repr(c[0]), d=repr(d[0]), e=repr(e[0]))
        for n, (name, data) in enumerate([c, d]):
            expect_ok(peer, say("the reply to request {i}{how}", "对第 {i} 个请求的回复{how}",
                                i=n + 1, how=how), sent=glued[n], hint=HINT_CAPPED)
        expect_download(peer, c[0], c[1], say("the reply to request 3{how}", "对第 3 个请求的回复{how}",
                                              how=how), sent=glued[2], hint=HINT_CAPPED)
        expect_ok(peer, say("the reply to request 4{how}", "对第 4 个请求的回复{how}", how=how),
                  sent=glued[3], hint=HINT_CAPPED)
        for name, data in (a, b, c, d, e):
            expect_stored(student, name, data, say("after these uploads", "这些上传完成之后"),
                          hint=HINT_CAPPED)
        peer.shutdown_write()
        peer.expect_eof(say("after the client closed its side, the server should close the "
                            "connection", "客户端关闭自己这一端之后，服务端应当关闭连接"),
                        hint=say("recv() returning b'' before a new header means the client is "
                                 "done: close the connection and accept the next one",
                                 "在新报头开始之前 recv() 返回 b''，说明客户端已经结束：关闭连接，"
                                 "接受下一个客户端"))


WORK = say("<working folder>", "<工作目录>")


def escapes(student) -> list[tuple[str, object, str | None]]:
    """(name a client sends, how feedback shows it, where a careless server writes it,
    relative to the working folder)."""
    absolute = str(student.workdir / "abs_escaped.txt")
    return [("../escaped.txt", "'../escaped.txt'", "escaped.txt"),
            (absolute, WORK + "/abs_escaped.txt", "abs_escaped.txt"),
            ("....//dots_escaped.txt", "'....//dots_escaped.txt'", "dots_escaped.txt"),
            ("..\\backslash.txt", "'..\\\\backslash.txt'", UPLOADS + "/..\\backslash.txt"),
            ("", "''", None),
            ("sub/dir.txt", "'sub/dir.txt'", UPLOADS + "/sub/dir.txt"),
            (".", "'.'", None),
            ("..", "'..'", None)]


def landed_note(student, target: str | None):
    """Where a server that joins the name to its folder writes - and whether this one did."""
    if target is None:
        return None
    renamed = [n for n in listing(uploads(student)) if n not in ("first.txt",)
               and not n.startswith(".upload-")]
    if os.path.lexists(student.workdir / target):
        return say("and it did: {path} now exists in the working folder",
                   "而且真的写了：工作目录里现在有了 {path}", path=target)
    if renamed:
        return say("it was stored as {found} in {folder}/: a name changed in silence is not the "
                   "name the client asked for, and 'cleaning' with replace('../', '') does not "
                   "even work - '....//x' becomes '../x'",
                   "它被存成了 {folder}/ 里的 {found}：悄悄改掉的名字已经不是客户端要的名字；何况用 "
                   "replace('../', '') 来“清洗”根本不管用——'....//x' 清洗后正好变成 '../x'",
                   found=", ".join(map(repr, renamed)), folder=UPLOADS)
    if "\\" in target:
        return say("on Linux this writes {path}; on Windows, where '\\' separates folders, the "
                   "same code writes outside {folder}/", "在 Linux 上它会写出 {path}；在以 '\\' 分隔目录的 "
                   "Windows 上，同样的代码会写到 {folder}/ 之外", path=target, folder=UPLOADS)
    return say("a server that joins this name to its folder writes {path}",
               "把这个名字直接拼到目录上的服务端会写到 {path}", path=target)


@check(points=2, hint=HINT_NAMES,
       title=say("server refuses upload names that are paths (../x, /abs, ..\\x, '', a/b) and "
                 "goes on", "服务端拒绝路径形式的上传文件名（../x、/abs、..\\x、''、a/b），并继续服务"))
def test_server_refuses_escaping_names(student):
    server = start_server(student)
    data = b"this must not be written anywhere"
    before = set(listing(student.workdir))
    with watching(server.proc), connect(server) as peer:
        peer.send(up("first.txt", b"a plain name"))  # the folder exists once this is in
        expect_ok(peer, say("the reply to an upload of 'first.txt'", "对上传 'first.txt' 的回复"),
                  sent=up("first.txt", b"a plain name"))
        for n, (name, shown, target) in enumerate(escapes(student)):
            request = up(name, data)
            peer.send(request)
            expect_refused(peer, say("the reply to an upload named {name}", "对文件名为 {name} 的上传的回复",
                                     name=shown), sent=request, hint=HINT_NAMES,
                           detail=lambda: landed_note(student, target),
                           gone=AFTER_REFUSAL if n else None)
        last = up("last.txt", b"still in step")
        peer.send(last)
        expect_ok(peer, say("the reply to an upload of 'last.txt' on the same connection, after "
                            "the refused ones", "在同一连接上、被拒绝的请求之后上传 'last.txt' 的回复"),
                  sent=last, hint=HINT_DRAIN)
    after = set(listing(student.workdir))
    stray = sorted(after - before - {UPLOADS})
    if stray:
        raise CheckFailed(say("files appeared in the working folder, outside {folder}/",
                              "工作目录里、{folder}/ 之外出现了文件", folder=UPLOADS),
                          expected=[], got=stray, hint=HINT_NAMES)
    expect_listing(student, ["first.txt", "last.txt"], say("after the refused uploads",
                                                           "被拒绝的上传之后"), hint=HINT_NAMES)


@check(points=1, hint=HINT_VERIFY,
       title=say("server refuses a file whose sha256 does not match, and keeps the old one",
                 "服务端拒绝 sha256 不符的文件，并保留原来的旧文件"))
def test_server_refuses_wrong_sha256(student):
    server = start_server(student)
    old, new = b"version 1: checked\n", b"version 2: corrupted on the way\n"
    with watching(server.proc), connect(server) as peer:
        peer.send(up("report.txt", old))
        expect_ok(peer, say("the reply to an upload of 'report.txt'", "对上传 'report.txt' 的回复"),
                  sent=up("report.txt", old))
        cases = [("report.txt", new, say("a new 'report.txt' whose sha256 is that of other bytes",
                                         "一个新的 'report.txt'，它的 sha256 是别的字节的")),
                 ("fresh.txt", b"never stored", say("'fresh.txt' whose sha256 is that of other bytes",
                                                     "'fresh.txt'，它的 sha256 是别的字节的"))]
        for name, data, what in cases:
            request = up(name, data, digest=sha(data + b"!"))
            peer.send(request)
            expect_refused(peer, say("the reply to {what}", "对{what}的回复", what=what),
                           sent=request, hint=HINT_VERIFY)
        expect_stored(student, "report.txt", old,
                      say("after a refused upload of a new 'report.txt'", "新的 'report.txt' 被拒绝之后"),
                      hint=HINT_VERIFY)
        expect_listing(student, ["report.txt"], say("after two uploads refused for their hash",
                                                    "两个上传因哈希不符被拒绝之后"), hint=HINT_VERIFY)
        peer.send(down("report.txt"))
        expect_download(peer, "report.txt", old,
                        say("the reply to a download of 'report.txt' on the same connection",
                            "在同一连接上下载 'report.txt' 的回复"), sent=down("report.txt"),
                        hint=HINT_VERIFY)


@check(points=1, hint=HINT_MISSING,
       title=say("server answers a download of a missing file with an error, and goes on",
                 "服务端对下载不存在的文件回复错误，并继续服务"))
def test_server_download_missing_file(student):
    server = start_server(student)
    with watching(server.proc), connect(server) as peer:
        peer.send(down("missing.txt"))
        expect_refused(peer, say("the reply to a download of 'missing.txt', which nobody uploaded",
                                 "对下载 'missing.txt'（从没有人上传过）的回复"),
                       sent=down("missing.txt"), hint=HINT_MISSING)
        data = b"here now"
        peer.send(up("missing.txt", data) + down("missing.txt"))
        expect_ok(peer, say("the reply to an upload of 'missing.txt' on the same connection",
                            "在同一连接上上传 'missing.txt' 的回复"), sent=up("missing.txt", data),
                  hint=HINT_MISSING)
        expect_download(peer, "missing.txt", data, say("the reply to the next download of it",
                                                       "再次下载它的回复"),
                        sent=down("missing.txt"), hint=HINT_MISSING)


# -- server.py: robustness (hidden) ------------------------------------------------------------------

BIG_UPLOAD = 64 * MIB
RSS_MARGIN_KIB = 40 * 1024


def big_chunks(n: int, seed: int = 64):
    """n MiB of file, 1 MiB at a time, each chunk different (no 64 MiB in the judge's memory)."""
    base = payload(MIB, seed)
    for i in range(n):
        yield i.to_bytes(8, "big") + base[8:]


@check(points=2, hidden=True, hint=HINT_STREAM, time_limit=40,
       title=say("server streams a 64 MiB upload to disk: its memory grows far less than that",
                 "服务端把 64 MiB 的上传流式写入磁盘：内存增长远小于文件大小"))
def test_server_streams_64_mib(student):
    server = start_server(student)
    with watching(server.proc), connect(server) as peer:
        peer.send(up("warm-up.txt", b"warm up"))  # imports, buffers: in place before we measure
        expect_ok(peer, say("the reply to a small upload", "对一个小文件上传的回复"),
                  sent=up("warm-up.txt", b"warm up"))
        before = server.proc.peak_rss_kib()
        digest = hashlib.sha256()
        for chunk in big_chunks(BIG_UPLOAD // MIB):
            digest.update(chunk)
        header = {"op": "upload", "filename": "big.bin", "size": BIG_UPLOAD,
                  "sha256": digest.hexdigest()}
        peer.send(frame(header))
        for chunk in big_chunks(BIG_UPLOAD // MIB):
            peer.send(chunk)
        expect_ok(peer, say("the reply to a 64 MiB upload", "对 64 MiB 上传的回复"),
                  sent=frame(header) + b"<64 MiB>", timeout=30, hint=HINT_STREAM)
        after = server.proc.peak_rss_kib()
    if before is not None and after is not None and after - before > RSS_MARGIN_KIB:
        raise CheckFailed(say("server.py's peak memory grew by {grow} MiB while it received a "
                              "64 MiB file (from {a} MiB to {b} MiB); it may grow by at most "
                              "{m} MiB", "接收一个 64 MiB 文件时，server.py 的内存峰值增长了 {grow} MiB"
                              "（从 {a} MiB 到 {b} MiB）；最多只能增长 {m} MiB",
                              grow=(after - before) // 1024, a=before // 1024, b=after // 1024,
                              m=RSS_MARGIN_KIB // 1024),
                          detail=say("a file held in memory before it is written costs its whole "
                                     "size, often twice (b''.join, bytearray +=, bytes(buf))",
                                     "先把文件留在内存里再写盘，就要花掉整个文件大小的内存，往往还是两倍"
                                     "（b''.join、bytearray +=、bytes(buf)）"), hint=HINT_STREAM)
    path = uploads(student) / "big.bin"
    size = path.stat().st_size if path.is_file() else None
    check_digest = hashlib.sha256()
    if size == BIG_UPLOAD:
        with open(path, "rb") as f:
            while chunk := f.read(MIB):
                check_digest.update(chunk)
    if size != BIG_UPLOAD or check_digest.hexdigest() != digest.hexdigest():
        raise CheckFailed(say("{path} after the 64 MiB upload was answered {{\"ok\": true}}",
                              "64 MiB 的上传得到 {{\"ok\": true}} 之后的 {path}", path=f"{UPLOADS}/big.bin"),
                          expected=say("{n} bytes, sha256 {h}", "{n} 字节，sha256 {h}", n=BIG_UPLOAD,
                                       h=digest.hexdigest()),
                          got=say("no such file", "没有这个文件") if size is None else say(
                              "{n} bytes, sha256 {h}", "{n} 字节，sha256 {h}", n=size,
                              h=check_digest.hexdigest() if size == BIG_UPLOAD else "…"),
                          hint=HINT_STREAM)


@check(points=2, hidden=True, hint=HINT_EOF,
       title=say("a client that vanishes mid-upload leaves no file behind, and the server goes on",
                 "客户端在上传中途消失时不留下任何文件，服务端继续服务"))
def test_server_client_vanishes_mid_upload(student):
    server = start_server(student)
    data = payload(MIB, 5)
    cut = up("cut.bin", data)[:-(MIB - 300 * KIB)]  # the header and 300 KiB of 1 MiB
    with watching(server.proc):
        with connect(server, name="client that hangs up") as peer:
            peer.send(cut)
            peer.shutdown_write()   # a FIN: the server's recv() returns b''
            peer.expect_eof(say("a client sent 300 KiB of a 1 MiB upload and closed its side: "
                                "the server should close that connection",
                                "一个客户端只发送了 1 MiB 上传中的 300 KiB 就关闭了自己这一端："
                                "服务端应当关闭这个连接"), hint=HINT_EOF)
        with connect(server, name="client that vanishes") as peer:
            peer.send(up("reset.bin", data)[:-(MIB - 200 * KIB)])
            peer.wait_read()
            peer.reset()            # an RST: the server's recv() raises ConnectionResetError
        request = up("after.txt", b"the next client")
        with connect(server, name="next client") as peer:
            peer.send(request)
            expect_ok(peer, say("the reply to the next client, after two clients vanished "
                                "mid-upload", "两个客户端在上传中途消失之后，对下一个客户端的回复"),
                      sent=request, hint=HINT_EOF)
    expect_listing(student, ["after.txt"],
                   say("after two uploads cut short (cut.bin, reset.bin) and one whole one",
                       "两个中途断掉的上传（cut.bin、reset.bin）和一个完整的上传之后"),
                   hint=say("write into a temporary file and rename it only once all size bytes "
                            "came and the sha256 matches; when the client is gone, delete the "
                            "temporary file (try/finally)",
                            "先写进临时文件，只有 size 字节全部收到、sha256 也相符时才改名；客户端走了就"
                            "删掉临时文件（try/finally）"))


ODD_NAMES = [
    (say("a NUL byte", "含 NUL 字节"), "bad\0name.txt"),
    (say("300 bytes of UTF-8", "UTF-8 编码后 300 字节"), "长" * 100),
    (say("a lone surrogate, not valid Unicode", "孤立的代理码点，不是合法的 Unicode"), "\ud800.txt"),
]


@check(points=1, hidden=True, hint=HINT_NAMES,
       title=say("server refuses path names on download, and odd names (NUL, too long) anywhere",
                 "服务端在下载时拒绝路径形式的名字，任何时候都拒绝异常的名字（NUL、过长）"))
def test_server_refuses_odd_names(student):
    server = start_server(student)
    work = student.workdir
    source = say("the server's own source", "服务端自己的源代码")
    probes = [("../server.py", "'../server.py'", source),
              (str(work / "server.py"), WORK + "/server.py", source),
              ("..\\server.py", "'..\\\\server.py'", None), ("", "''", None), (".", "'.'", None),
              ("..", "'..'", None)]
    with watching(server.proc), connect(server) as peer:
        peer.send(up("ok.txt", b"fine"))
        expect_ok(peer, say("the reply to an upload of 'ok.txt'", "对上传 'ok.txt' 的回复"),
                  sent=up("ok.txt", b"fine"))
        for name, shown, leak in probes:
            peer.send(down(name))
            expect_refused(peer, say("the reply to a download of {name}", "对下载 {name} 的回复",
                                     name=shown), sent=down(name), hint=HINT_NAMES,
                           detail=say("a server that joins this name to its folder sends {what}",
                                      "把这个名字直接拼到目录上的服务端会把{what}发出去", what=leak)
                           if leak else None)
        for what, name in ODD_NAMES:
            for request, op in ((up(name, b"odd"), say("an upload", "上传")),
                                (down(name), say("a download", "下载"))):
                peer.send(request)
                expect_refused(peer, say("the reply to {op} of a name with {what}",
                                         "对名字{what}的{op}请求的回复", op=op, what=what),
                               sent=request, hint=HINT_NAMES, gone=AFTER_REFUSAL)
        peer.send(down("ok.txt"))
        expect_download(peer, "ok.txt", b"fine", say("the reply to a download of 'ok.txt' after the "
                                                     "refused requests", "在被拒绝的请求之后下载 'ok.txt' 的回复"),
                        sent=down("ok.txt"), hint=HINT_DRAIN)
    expect_listing(student, ["ok.txt"], say("after the refused requests", "被拒绝的请求之后"),
                   hint=HINT_NAMES)


@check(points=1, hidden=True, hint=HINT_BAD,
       title=say("server refuses headers it cannot act on, closes, and serves the next client",
                 "服务端拒绝无法处理的报头，关闭连接，并服务下一个客户端"))
def test_server_survives_bad_headers(student):
    server = start_server(student)
    rude = [(say("a header length of 4294967295", "报头长度 4294967295"), LENGTH.pack(0xFFFFFFFF)),
            (say("a header that is not JSON", "不是 JSON 的报头"),
             LENGTH.pack(10) + b"{not json}"),
            (say("an unknown op", "未知的 op"), frame({"op": "delete", "filename": "a.txt"})),
            (say("a size that is a string", "size 是字符串"),
             frame({"op": "upload", "filename": "a.txt", "size": "5", "sha256": sha(b"hello")}))]
    with watching(server.proc):
        for what, piece in rude:
            with connect(server, name="rude client") as peer:
                peer.send(piece)  # and the connection stays open: the server must decide
                expect_refused(peer, say("the reply to {what}", "对{what}的回复", what=what),
                               sent=piece, hint=HINT_BAD,
                               silent=say("the server said nothing and kept the connection open: "
                                          "most likely it waits for bytes this header promised",
                                          "服务端一言不发，连接也一直开着：它多半在等这个报头许诺的字节"))
                peer.expect_eof(say("after the error reply to {what} the server should close the "
                                    "connection", "回复了对{what}的错误之后，服务端应当关闭连接",
                                    what=what), hint=HINT_BAD)
        upload_ok(server, student, "next.txt", b"anyone there?",
                  say("the reply to the client after four bad ones", "在四个出问题的客户端之后对下一个客户端的回复"),
                  hint=HINT_BAD)


# -- client.py -------------------------------------------------------------------------------------

def put(student, name: str, data: bytes):
    """A file in the student's working copy, readable by the student's processes."""
    path = student.workdir / name
    path.write_bytes(data)
    os.chmod(path, 0o644)
    return path


def start_client(student, *args: str, rcvbuf: int | None = None):
    lst = listener()
    if rcvbuf:
        lst.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    host, port = lst.getsockname()[:2]
    argv = ["--host", host, "--port", str(port), *args]
    proc = student.spawn("client.py", *argv)
    try:
        peer = accept(lst, 5, proc=proc)
    finally:
        lst.close()
    wire = Wire(peer.sock, "test server")
    wire.stop = lambda: not proc.alive()
    return proc, wire, "python client.py " + " ".join(argv)


def exit_failure(*args, **kwargs) -> CheckFailed:
    """A failure about how the client ended: it says so itself (no 'meanwhile' note)."""
    exc = CheckFailed(*args, **kwargs)
    exc.about_exit = True
    return exc


def finished(proc, cmd: str, hint, timeout: float = 5.0) -> int:
    rc = proc.wait(timeout)
    if rc is None:
        proc.kill()
        raise exit_failure(say("`{cmd}` did not exit within {t} s after the server's reply; it was "
                              "stopped", "`{cmd}` 在收到服务端回复后 {t} 秒内没有退出，已被停止",
                              cmd=cmd, t=f"{timeout:g}"), hint=hint)
    return rc


def expect_exit(proc, cmd: str, *, code: int, stdout: bytes | None, hint, why_=None) -> None:
    """The client's exit code and, when `stdout` is given, exactly what it printed."""
    rc = finished(proc, cmd, hint)
    out = proc.output()
    err = proc.stderr_tail(600).strip()
    detail = say("its stderr: {err}", "它的 stderr：{err}", err=err) if err else None
    if rc != code:
        raise exit_failure(say("the exit code of `{cmd}`{why}", "`{cmd}` 的退出码{why}", cmd=cmd,
                              why=why_ or ""), expected=code, got=rc, detail=detail, hint=hint)
    if stdout is not None and out != stdout:
        raise exit_failure(say("what `{cmd}` printed on stdout{why}", "`{cmd}` 在 stdout 上打印的内容{why}",
                              cmd=cmd, why=why_ or ""), expected=stdout, got=out, detail=detail,
                          hint=hint)


def expect_request(peer, what, want: dict, *, hint) -> dict:
    header = read_header(peer, what, hint=hint)
    if {k: header.get(k) for k in want} != want:
        raise CheckFailed(say("{what}: the request's header", "{what}：请求的报头", what=what),
                          expected=want, got=header, hint=hint)
    return header


@check(points=2, hint=HINT_CLIENT_UPLOAD,
       title=say("client uploads a file given on the command line and prints 'uploaded …'",
                 "客户端上传命令行给出的文件，并打印 'uploaded …'"))
def test_client_upload(student):
    for name, data in [("hello.txt", b"hello, server\n"), ("笔记.txt", "第一章 粘包\n".encode("utf-8") * 40)]:
        put(student, name, data)
        proc, peer, cmd = start_client(student, "upload", name)
        with peer, watching(proc):
            what = say("what `{cmd}` sent", "`{cmd}` 发送的内容", cmd=cmd)
            want = {"op": "upload", "filename": name, "size": len(data), "sha256": sha(data)}
            expect_request(peer, what, want, hint=HINT_UTF8 if not name.isascii() else HINT_CLIENT_UPLOAD)
            body = read_body(peer, len(data), what, hint=HINT_CLIENT_UPLOAD)
            expect_bytes(body, data, say("{what}: the file after the header", "{what}：报头后面的文件内容",
                                         what=what), hint=HINT_CLIENT_UPLOAD)
            peer.send(frame({"ok": True}))
            expect_exit(proc, cmd, code=0,
                        stdout=f"uploaded {name} {len(data)} {sha(data)}\n".encode("utf-8"),
                        hint=HINT_CLIENT_UPLOAD,
                        why_=say(" (the server replied {{\"ok\": true}})", "（服务端回复了 {{\"ok\": true}}）"))


@check(points=2, hint=HINT_CLIENT_DOWNLOAD,
       title=say("client downloads a file into its folder and prints 'downloaded …'",
                 "客户端把文件下载到当前目录，并打印 'downloaded …'"))
def test_client_download(student):
    for name, data in [("笔记.txt", "升级版报头：文件名、大小、哈希\n".encode("utf-8")),
                       ("photo.bin", payload(300 * KIB, 9))]:
        proc, peer, cmd = start_client(student, "download", name)
        with peer, watching(proc):
            expect_request(peer, say("what `{cmd}` sent", "`{cmd}` 发送的内容", cmd=cmd),
                           {"op": "download", "filename": name}, hint=HINT_CLIENT_DOWNLOAD)
            head = frame({"ok": True, "filename": name, "size": len(data), "sha256": sha(data)})
            peer.split(head + data, 3, len(head), len(head) + len(data) // 2)
            expect_exit(proc, cmd, code=0,
                        stdout=f"downloaded {name} {len(data)} {sha(data)}\n".encode("utf-8"),
                        hint=HINT_CLIENT_DOWNLOAD,
                        why_=say(" (the reply came in 4 pieces)", "（回复分 4 段到达）"))
        path = student.workdir / name
        if not path.is_file():
            raise CheckFailed(say("after `{cmd}` there is no file {name} in its folder",
                                  "`{cmd}` 结束后它的目录里没有文件 {name}", cmd=cmd, name=name),
                              hint=HINT_CLIENT_DOWNLOAD)
        expect_bytes(path.read_bytes(), data, say("the file {name} that `{cmd}` wrote",
                                                  "`{cmd}` 写出的文件 {name}", cmd=cmd, name=name),
                     hint=HINT_CLIENT_DOWNLOAD)


@check(points=1, hint=HINT_CLIENT_ERROR,
       title=say("client reports the server's error on stderr and exits with code 1",
                 "客户端把服务端的错误打印到 stderr，并以退出码 1 退出"))
def test_client_reports_errors(student):
    put(student, "notes.txt", b"some notes")
    cases = [(("download", "missing.txt"), {"op": "download", "filename": "missing.txt"},
              "no such file: 'missing.txt'"),
             (("upload", "notes.txt"), {"op": "upload", "filename": "notes.txt"},
              "disk full: try again later")]
    for args, want, error in cases:
        before = set(listing(student.workdir))
        proc, peer, cmd = start_client(student, *args)
        with peer, watching(proc):
            header = expect_request(peer, say("what `{cmd}` sent", "`{cmd}` 发送的内容", cmd=cmd),
                                    want, hint=HINT_CLIENT_ERROR)
            if args[0] == "upload":
                read_body(peer, header.get("size"), cmd, hint=HINT_CLIENT_UPLOAD)
            peer.send(frame({"ok": False, "error": error}))
            said = say(" (the server replied {{\"ok\": false, \"error\": {e}}})",
                       "（服务端回复了 {{\"ok\": false, \"error\": {e}}}）", e=json.dumps(error))
            expect_exit(proc, cmd, code=1, stdout=b"", hint=HINT_CLIENT_ERROR, why_=said)
        err = proc.stderr_tail(2000)
        if error not in err:
            raise CheckFailed(say("what `{cmd}` wrote on stderr{why}", "`{cmd}` 在 stderr 上写的内容{why}",
                                  cmd=cmd, why=said), expected=f"error: {error}", got=err.strip(),
                              has_got=True, hint=HINT_CLIENT_ERROR)
        new = sorted(set(listing(student.workdir)) - before)
        if new:
            raise CheckFailed(say("files `{cmd}` left in its folder{why}", "`{cmd}` 在它的目录里留下的文件{why}",
                                  cmd=cmd, why=said), expected=[], got=new, hint=HINT_CLIENT_ERROR)


def longer_than_send_buffer() -> int:
    """At least 5 MiB, and more than any socket send buffer here can take in one go."""
    try:
        with open("/proc/sys/net/ipv4/tcp_wmem") as f:
            biggest = int(f.read().split()[2])
    except (OSError, ValueError, IndexError):
        biggest = 4 * MIB
    return max(5 * MIB, min(biggest + MIB, 32 * MIB))


def sleeping(pid: int) -> bool:
    """Is the process asleep in the kernel (blocked in a call) rather than running?"""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("S", "D")
    except (OSError, IndexError):
        return False


@check(points=2, hidden=True, hint=HINT_SENDALL, time_limit=30,
       title=say("client sends a multi-MiB binary file (no b'\\n' in it) whole to a slow server",
                 "客户端把几 MiB、不含 b'\\n' 的二进制文件完整发给读得慢的服务端"))
def test_client_sends_binary_file_whole(student):
    size = longer_than_send_buffer()
    data = payload(size, 13).replace(b"\n", b"N")  # one 'line', if read line by line
    put(student, "video.bin", data)
    proc, peer, cmd = start_client(student, "upload", "video.bin", rcvbuf=64 * KIB)
    with peer, watching(proc):
        what = say("what `{cmd}` sent", "`{cmd}` 发送的内容", cmd=cmd)
        want = {"op": "upload", "filename": "video.bin", "size": size, "sha256": sha(data)}
        expect_request(peer, what, want, hint=HINT_CLIENT_UPLOAD)
        # The test reads no more until the client blocks: in sendall() (the buffers are full)
        # or, after a send() that took only part, waiting for the reply.
        end = time.monotonic() + 10
        while not sleeping(proc.pid) and proc.alive() and time.monotonic() < end:
            time.sleep(0.005)  # polling /proc with a deadline until the client blocks
        body = bytearray()
        end = time.monotonic() + 25
        while len(body) < size and time.monotonic() < end:
            body += peer.recv_reply(timeout=end - time.monotonic(), quiet=0.5, limit=size - len(body))
            if len(body) >= size or peer.ended.gone:
                break
            if sleeping(proc.pid):  # nothing came for 0.5 s, and the client sits in a blocking
                break               # call with nothing in flight: waiting for the reply
        body = bytes(body)
        if len(body) < size:
            raise CheckFailed(say("{what}: the header said \"size\": {n}, but only {m} bytes of the "
                                  "file came; then the client stopped sending and waited",
                                  "{what}：报头说 \"size\": {n}，但只收到文件的 {m} 字节；之后客户端不再发送，"
                                  "停下来等待",
                                  what=what, n=size, m=len(body)),
                              detail=say("the file has no b'\\n' byte, so `for line in f` gives one "
                                         "{mib} MiB 'line'; one send() of it sent only part, and the "
                                         "client went on as if it had all gone",
                                         "这个文件里没有 b'\\n' 字节，所以 `for line in f` 得到的是足有"
                                         " {mib} MiB 的一整“行”；对它调用一次 send() 只发出了一部分，客户端却当作全部发完了",
                                         mib=size >> 20), hint=HINT_SENDALL)
        expect_bytes(body, data, say("{what}: the file after the header", "{what}：报头后面的文件内容",
                                     what=what), hint=HINT_SENDALL)
        peer.send(frame({"ok": True}))
        expect_exit(proc, cmd, code=0, stdout=f"uploaded video.bin {size} {sha(data)}\n".encode(),
                    hint=HINT_CLIENT_UPLOAD)


@check(points=1, hidden=True, hint=HINT_CLIENT_VERIFY,
       title=say("client keeps no download whose sha256 does not match or that is cut short",
                 "sha256 不符或中途被截断的下载，客户端一律不保留"))
def test_client_download_checks_sha256(student):
    data = payload(100 * KIB, 21)
    cases = [("tampered.bin", sha(data + b"!"), data, say("a file whose sha256 is not the one in the "
                                                          "reply", "sha256 与回复里的不一致的文件")),
             ("cut.bin", sha(data), data[:40 * KIB], say("a reply cut short: 40 KiB of 100, then the "
                                                         "server closed", "中途截断的回复：100 KiB 只发了 40 KiB，"
                                                         "然后服务端关闭了连接"))]
    for name, digest, sent_data, what in cases:
        before = set(listing(student.workdir))
        proc, peer, cmd = start_client(student, "download", name)
        with peer, watching(proc):
            expect_request(peer, say("what `{cmd}` sent", "`{cmd}` 发送的内容", cmd=cmd),
                           {"op": "download", "filename": name}, hint=HINT_CLIENT_DOWNLOAD)
            peer.send(frame({"ok": True, "filename": name, "size": len(data), "sha256": digest})
                      + sent_data)
            peer.shutdown_write()
            expect_exit(proc, cmd, code=1, stdout=b"", hint=HINT_CLIENT_VERIFY,
                        why_=say(" (the server sent {what})", "（服务端发来的是{what}）", what=what))
        new = sorted(set(listing(student.workdir)) - before)
        if new:
            raise CheckFailed(say("files `{cmd}` left in its folder (the server sent {what})",
                                  "`{cmd}` 在它的目录里留下的文件（服务端发来的是{what}）",
                                  cmd=cmd, what=what), expected=[], got=new,
                              hint=HINT_CLIENT_VERIFY)
