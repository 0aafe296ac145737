"""http_server: the graded suite.

server.py runs as a process serving a folder the test writes into the student's working copy
(`www/` in `student.workdir`, with `secret.txt` beside it, outside the folder). It is graded
only with clients every Python has - urllib.request, http.client, and raw sockets
(grader/harness/web.py: `urlopen`, `fetch`, `HttpPeer`) - so a grade never depends on what is
installed on the machine. The project's own tests also fetch from the reference solution with
curl (tests/project/test_http_curl.py).

Requests in pieces are made, not hoped for: an `HttpPeer` is a `Wire`, which waits until the
server has *read* each piece before it writes the next, so a recv() there gets exactly that
piece. A request the server must wait for (it never ends) is sent on a connection the test
keeps open, as a browser does: a server that waits for the client's close never gets it, and
the harness says so as soon as the server sits idle with the whole request read.
"""
from __future__ import annotations

import contextlib
import json
import random
import re
import struct
import zlib
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

import pytest

from grader.harness import CheckFailed, check, expect_bytes, say, show_bytes
from grader.harness.ioview import blocked_sending
from grader.harness.web import HttpPeer, fetch, head_lines, urlopen

MIB = 1 << 20
MAX_HEAD = 8192
REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"}
TYPES = {".html": "text/html; charset=utf-8", ".txt": "text/plain; charset=utf-8",
         ".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".png": "image/png", ".json": "application/json"}
OCTET = "application/octet-stream"

# -- hints -----------------------------------------------------------------------------------

HINT_BASIC = say(
    "read the request up to the empty line b'\\r\\n\\r\\n', then answer b'HTTP/1.1 200 OK\\r\\n', "
    "the header lines, b'\\r\\n' and the file's bytes; then close the connection",
    "把请求读到空行 b'\\r\\n\\r\\n' 为止，然后回复 b'HTTP/1.1 200 OK\\r\\n'、各个首部行、b'\\r\\n' 和"
    "文件的字节；最后关闭连接")
HINT_HEAD_END = say(
    "a request ends at the empty line b'\\r\\n\\r\\n', not when recv() returns b'': a browser "
    "keeps its side open until it has the answer. Loop on recv() until the buffer holds "
    "b'\\r\\n\\r\\n'",
    "请求在空行 b'\\r\\n\\r\\n' 处结束，而不是等到 recv() 返回 b''：浏览器在拿到应答之前一直开着"
    "自己这一端。循环调用 recv()，直到缓冲区里出现 b'\\r\\n\\r\\n'")
HINT_PIECES = say(
    "one recv() returns what has arrived so far - a piece of the request line, maybe one byte: "
    "keep adding to a buffer until it holds b'\\r\\n\\r\\n', and look for it in the whole buffer, "
    "not in the last chunk",
    "一次 recv() 只返回目前已到达的数据——可能是请求行的一截，甚至只有 1 个字节：要不断追加到缓冲区，"
    "直到其中出现 b'\\r\\n\\r\\n'；而且要在整个缓冲区里找，不能只在最后收到的那一块里找")
HINT_CRLF = say(
    "every line of the answer's head ends with b'\\r\\n' (not b'\\n'), and an empty line "
    "b'\\r\\n' ends the head: b'HTTP/1.1 200 OK\\r\\nContent-Length: 5\\r\\n...\\r\\n\\r\\nhello'",
    "响应头部的每一行都以 b'\\r\\n' 结尾（不是 b'\\n'），最后用一个空行 b'\\r\\n' 结束头部："
    "b'HTTP/1.1 200 OK\\r\\nContent-Length: 5\\r\\n...\\r\\n\\r\\nhello'")
HINT_LENGTH = say(
    "send Content-Length: len(body), the body's length in bytes, so the client knows where the "
    "body ends; a HEAD answer says what a GET would send",
    "要发送 Content-Length: len(body)，也就是正文的字节数，客户端才知道正文在哪里结束；HEAD 的应答"
    "写的是 GET 会发送的长度")
HINT_CLOSE = say(
    "one request per connection: after the answer, close the connection (and say "
    "Connection: close)",
    "一个连接只处理一个请求：应答发完就关闭连接（并且写上 Connection: close）")
HINT_TYPES = say(
    "choose Content-Type by the file's extension, exactly as the README's table says: .html is "
    "text/html; charset=utf-8, .png is image/png, ..., any other application/octet-stream",
    "按文件扩展名选择 Content-Type，严格按照 README 里的表格：.html 是 text/html; charset=utf-8，"
    ".png 是 image/png……其他一律是 application/octet-stream")
HINT_BINARY = say(
    "open the file in binary mode ('rb') and send its bytes as they are: text mode decodes (a "
    "PNG is not UTF-8) and may change line endings",
    "用二进制模式（'rb'）打开文件，原样发送它的字节：文本模式要解码（PNG 不是 UTF-8），还可能改动换行符")
HINT_PATHS = say(
    "cut the target at '?', percent-decode the path (urllib.parse.unquote: %20 is a space, "
    "%E7%AC%94 is 笔), and a folder serves its index.html",
    "在 '?' 处截断请求目标，再对路径做百分号解码（urllib.parse.unquote：%20 是空格，%E7%AC%94 是“笔”）；"
    "请求的是文件夹时，返回其中的 index.html")
HINT_404 = say(
    "a missing file, a folder without index.html, or a file used as a folder: answer "
    "404 Not Found, with a small body and its Content-Length",
    "文件不存在、文件夹里没有 index.html、把文件当成文件夹来访问：都回复 404 Not Found，附上一小段"
    "正文和它的 Content-Length")
HINT_405 = say(
    "only GET and HEAD are served: any other method gets 405 Method Not Allowed, with the header "
    "Allow: GET, HEAD",
    "只处理 GET 和 HEAD：其他任何方法都回复 405 Method Not Allowed，并带上首部 Allow: GET, HEAD")
HINT_HEAD = say(
    "HEAD gets the same status line and headers as GET - Content-Length included - and no body "
    "at all",
    "HEAD 得到的状态行和首部与 GET 完全相同——包括 Content-Length——但是没有任何正文")
HINT_400 = say(
    "check the request line before you use it: exactly three parts METHOD TARGET VERSION, the "
    "version HTTP/1.0 or HTTP/1.1, a target that starts with /, header lines with a ':'. "
    "Anything else: 400 Bad Request - and keep serving",
    "使用请求行之前先检查它：恰好三部分 METHOD TARGET VERSION，版本是 HTTP/1.0 或 HTTP/1.1，"
    "目标以 / 开头，首部行里有 ':'。否则一律回复 400 Bad Request——然后继续服务")
HINT_TRAVERSAL = say(
    "split the decoded path on '/' and answer 400 if a segment is '..': a path from the wire "
    "must never be joined onto the folder unchecked",
    "把解码后的路径按 '/' 切开，只要有一段是 '..' 就回复 400：从网络上收到的路径绝不能不加检查就"
    "拼接到文件夹后面")
HINT_ENCODED = say(
    "percent-decode first, then check: once decoded, %2e%2e is '..' and %2f is '/'",
    "先做百分号解码，再检查：解码之后，%2e%2e 就是 '..'，%2f 就是 '/'")
HINT_ABSOLUTE = say(
    "os.path.join(root, '/etc/passwd') is '/etc/passwd': an absolute part throws away everything "
    "before it. Join only the path's non-empty segments, never the path as it came",
    "os.path.join(root, '/etc/passwd') 的结果是 '/etc/passwd'：绝对路径会丢掉它前面的一切。只拼接"
    "路径中非空的各段，绝不拼接收到的原始路径")
HINT_NUL = say(
    "a NUL byte (%00) in a path makes open() raise ValueError: refuse it with 400 before you "
    "open anything",
    "路径里的 NUL 字节（%00）会让 open() 抛出 ValueError：在打开任何东西之前，就用 400 拒绝它")
HINT_SENDALL = say(
    "send() may send only part of a large buffer and returns how much it took; sendall() sends "
    "it all",
    "send() 对大块数据可能只发送一部分，并返回实际发送的字节数；sendall() 才会全部发送")
HINT_EOF = say(
    "recv() returning b'' before the empty line means the client gave up: close that connection "
    "and serve the next; a loop that ignores b'' spins forever",
    "在空行之前 recv() 就返回 b''，说明客户端放弃了：关闭这个连接，接着服务下一个；不检查 b'' 的循环"
    "会永远空转")
HINT_CAP = say(
    "a head that has grown past 8192 bytes without an empty line will not become a request: "
    "answer 400 and close. Never read without limit what a stranger sends",
    "头部已经超过 8192 字节还没有出现空行，它就不会成为一个请求了：回复 400 并关闭连接。陌生人发来的"
    "东西，绝不能没有上限地一直读下去")


# -- the folder the server serves ----------------------------------------------------------------

INDEX_HTML = """<!DOCTYPE html>
<html lang="zh">
<head><meta charset="utf-8"><title>B/S：浏览器就是客户端</title>
<link rel="stylesheet" href="style.css"></head>
<body>
<h1>Browser / Server</h1>
<p>服务端:24小时不间断提供服务</p>
<p>客户端:访问不同的服务端只需要在浏览器输入不同的网址</p>
<script src="app.js"></script>
</body>
</html>
""".encode("utf-8")


def png(width: int = 16, height: int = 16) -> bytes:
    """A real PNG image (an RGB gradient): the bytes begin 89 50 4e 47 - not UTF-8."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack("!I", len(data)) + kind + data + struct.pack(
            "!I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    rows = b"".join(b"\x00" + bytes(v for x in range(width) for v in (x * 16, y * 16, 200))
                    for y in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack("!IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


SITE = {
    "index.html": INDEX_HTML,
    "hello.txt": b"hello, browser\r\nfrom a server on raw sockets\n",
    "style.css": b"body { font-family: sans-serif; }\nh1 { color: #336; }\n",
    "app.js": "console.log('浏览器就是客户端');\n".encode("utf-8"),
    "data.json": json.dumps({"model": "B/S", "客户端": "浏览器"}, ensure_ascii=False).encode("utf-8"),
    "logo.png": png(),
    "blob.bin": random.Random(5).randbytes(4096),
    "LICENSE": b"Free to read and to serve.\n",
    "notes.md": b"# notes\n\nMarkdown is not in the table.\n",
    "笔记.txt": "粘包与报头\n".encode("utf-8"),
    "my notes.txt": b"a name with a space\n",
    "docs/index.html": b"<!DOCTYPE html>\n<title>docs</title>\n<p>the index.html of docs/</p>\n",
    "docs/guide.html": b"<!DOCTYPE html>\n<title>guide</title>\n<p>a page in a sub-folder</p>\n",
    "empty/.keep": b"",
}
SECRET = b"secret.txt: outside the served folder - a server must never send this (netlab-7c41)\n"
PASSWD = re.compile(rb"root:[^:\n]*:0:0:")


@pytest.fixture
def site(student):
    """www/ in the student's working copy (the folder to serve), and secret.txt beside it."""
    work = Path(student.workdir)
    root = work / "www"
    for name, data in SITE.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (work / "secret.txt").write_bytes(SECRET)
    return SimpleNamespace(root=root, secret=work / "secret.txt", files=SITE)


def start(student, site, *extra: str):
    return student.server("server.py", "--root", str(site.root), *extra)


def request(method: str, target: str, server, *headers: str) -> bytes:
    """A request as a browser sends it: CRLF line endings, Host, then an empty line."""
    lines = [f"{method} {target} HTTP/1.1", f"Host: {server.host}:{server.port}",
             "User-Agent: netlab-test", "Accept: */*", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


# -- judging answers -----------------------------------------------------------------------------

def status_line(code: int) -> str:
    return f"HTTP/1.1 {code} {REASONS[code]}"


def expect_status(resp, code: int, what, *, sent=None, hint=None, exact: bool = True,
                  detail=None) -> None:
    """The status code (and, for raw answers, the whole status line)."""
    want = status_line(code)
    if resp.status == code and (not exact or resp.status_line == want):
        return
    raise CheckFailed(say("{what}: the status line", "{what}：状态行", what=what), sent=sent,
                      expected=want, got=resp.status_line,
                      detail=detail or (head_lines(resp.head) if resp.head else None), hint=hint)


def norm_type(value: str | None) -> str | None:
    return None if value is None else re.sub(r"\s*;\s*", "; ", value.strip()).lower()


def expect_type(resp, ctype: str, what, *, sent=None, hint=HINT_TYPES) -> None:
    got = resp.header_all("Content-Type")
    if len(got) == 1 and norm_type(got[0]) == ctype:
        return
    raise CheckFailed(say("{what}: the Content-Type header", "{what}：Content-Type 首部", what=what),
                      sent=sent, expected=f"Content-Type: {ctype}",
                      got=(f"Content-Type: {got[0]}" if len(got) == 1 else got or
                           say("no Content-Type header", "没有 Content-Type 首部")),
                      hint=hint)


def expect_body(resp, body: bytes, what, *, sent=None, hint=None) -> None:
    if resp.body == body:
        return
    if b"\r\n" in body and resp.body == body.replace(b"\r\n", b"\n"):
        raise CheckFailed(say("{what}: the body", "{what}：正文", what=what), sent=sent,
                          expected=body, got=resp.body,
                          detail=say("every b'\\r\\n' of the file became b'\\n': it was read in "
                                     "text mode, which translates line endings",
                                     "文件里的每个 b'\\r\\n' 都变成了 b'\\n'：文件是用文本模式读的，"
                                     "文本模式会转换换行符"), hint=HINT_BINARY)
    expect_bytes(resp.body, body, say("{what}: the body", "{what}：正文", what=what), sent=sent,
                 hint=hint)


def expect_length(resp, n: int, what, *, sent=None) -> None:
    got = resp.header_all("Content-Length")
    if got == [str(n)]:
        return
    raise CheckFailed(say("{what}: the Content-Length header", "{what}：Content-Length 首部",
                          what=what), sent=sent, expected=f"Content-Length: {n}",
                      got=(f"Content-Length: {got[0]}" if len(got) == 1 else got or
                           say("no Content-Length header", "没有 Content-Length 首部")),
                      detail=head_lines(resp.head) if resp.head else None, hint=HINT_LENGTH)


def expect_no_leak(resp, what, *, sent=None, hint=HINT_TRAVERSAL) -> None:
    """The secret (or /etc/passwd) must not be in the answer, whatever its status."""
    if SECRET in resp.raw or PASSWD.search(resp.raw):
        name = "secret.txt" if SECRET in resp.raw else "/etc/passwd"
        raise CheckFailed(say("{what}: the server sent {name}, a file outside the folder it "
                              "serves (--root). Anyone who can reach the port can now read "
                              "every file the server can",
                              "{what}：服务器把 {name} 发了出去，而它在所服务的文件夹（--root）之外。"
                              "任何能连上这个端口的人，都能读到服务器能读的每一个文件",
                              what=what, name=name),
                          sent=sent, expected=say("a refusal, without a byte of the file",
                                                  "拒绝，而且不含这个文件的任何字节"),
                          got=resp.raw, hint=hint)


@contextlib.contextmanager
def watching(server):
    """A failure inside says so if the server has died meanwhile (its stderr follows in the
    feedback)."""
    try:
        yield
    except CheckFailed as exc:
        proc = server.proc
        if proc.alive():
            proc.wait(0.2)  # a process that just closed its sockets may be exiting right now
        if not proc.alive():
            first, *rest = exc.args
            lines = first.split("\n", 1)
            lines[0] += str(say(" - meanwhile {what}", "——与此同时，{what}", what=proc.describe()))
            exc.args = ("\n".join(lines), *rest)
        raise


def raw_get(server, data: bytes, what, *, head_only: bool = False, hint=None, timeout=5.0,
            silent=None, rcvbuf=None, send=None, hint_wait=HINT_HEAD_END, hint_short=None,
            status: int | None = None, status_detail=None):
    """Send `data` on a new connection (with `send(peer, data)`, default one write) and read
    the answer strictly; with `status`, a different status line fails before anything else."""
    with HttpPeer.open(server, rcvbuf=rcvbuf) as peer:
        (send or HttpPeer.send)(peer, data)
        return peer.read_response(
            what, sent=data, head_only=head_only, timeout=timeout, hint=hint,
            hint_crlf=HINT_CRLF, hint_length=HINT_LENGTH, hint_close=HINT_CLOSE,
            hint_wait=hint_wait, hint_short=hint_short, silent=silent or WAITED,
            status_line=None if status is None else status_line(status),
            status_detail=status_detail)


WAITED = say("the test sent a whole request, ending with the empty line, and kept its side of "
             "the connection open, as a browser does",
             "测试发送了一个以空行结束的完整请求，并且像浏览器那样一直开着自己这一端的连接")


# -- GET with the clients that ship with Python -----------------------------------------------------

@check(points=2, hint=HINT_HEAD_END,
       title=say("serves index.html for / to urllib.request, as to a browser",
                 "用 urllib.request 请求 / 时返回 index.html，就像对浏览器一样"))
def test_serves_index_to_urllib(student, site):
    server = start(student, site)
    with watching(server):
        for target in ("/", "/index.html"):
            what = say("urlopen('http://…{t}')", "urlopen('http://…{t}')", t=target)
            resp = urlopen(server, target, what=what, hint=HINT_BASIC, hint_wait=HINT_HEAD_END)
            expect_status(resp, 200, what, exact=False, hint=HINT_BASIC)
            expect_body(resp, site.files["index.html"], what, hint=HINT_BASIC)
            expect_type(resp, TYPES[".html"], what)


PATHS = [
    ("/hello.txt", "hello.txt", None),
    ("/docs/guide.html", "docs/guide.html", None),
    ("/docs/", "docs/index.html", say("a folder: its index.html", "文件夹：返回其中的 index.html")),
    ("/docs", "docs/index.html", say("a folder without the final /: its index.html too",
                                     "结尾没有 / 的文件夹：同样返回其中的 index.html")),
    ("/" + quote("笔记.txt"), "笔记.txt", say("a file named 笔记.txt, percent-encoded as UTF-8",
                                             "文件名 笔记.txt，按 UTF-8 做了百分号编码")),
    ("/my%20notes.txt", "my notes.txt", say("a file named 'my notes.txt' (%20 is a space)",
                                            "文件名 'my notes.txt'（%20 是空格）")),
    ("/hello.txt?v=2", "hello.txt", say("a query string after '?'", "'?' 后面带查询字符串")),
]


@check(points=1, hint=HINT_PATHS,
       title=say("serves files, folders and percent-encoded names to http.client",
                 "向 http.client 提供文件、文件夹和百分号编码的文件名"))
def test_serves_files_to_http_client(student, site):
    server = start(student, site)
    with watching(server):
        for target, name, note in PATHS:
            what = say("GET {t}", "GET {t}", t=target) if note is None else say(
                "GET {t} ({note})", "GET {t}（{note}）", t=target, note=note)
            resp = fetch(server, "GET", target, what=what, hint=HINT_BASIC, hint_wait=HINT_HEAD_END)
            hint = HINT_BASIC if note is None else HINT_PATHS
            expect_status(resp, 200, what, exact=False, hint=hint)
            expect_body(resp, site.files[name], what, hint=hint)


@check(points=1, hint=HINT_TYPES,
       title=say("Content-Type follows the README's table of extensions",
                 "Content-Type 按照 README 中的扩展名表格给出"))
def test_content_types(student, site):
    server = start(student, site)
    cases = [(f"/{name}", TYPES.get(Path(name).suffix, OCTET))
             for name in ("index.html", "hello.txt", "style.css", "app.js", "data.json",
                          "logo.png", "blob.bin", "LICENSE", "notes.md")]
    with watching(server):
        for target, ctype in cases:
            what = say("GET {t}", "GET {t}", t=target)
            resp = fetch(server, "GET", target, what=what, hint=HINT_BASIC, hint_wait=HINT_HEAD_END)
            expect_status(resp, 200, what, exact=False, hint=HINT_BASIC)
            expect_type(resp, ctype, what)


@check(points=1, hint=HINT_BINARY,
       title=say("a PNG image and random bytes arrive byte for byte",
                 "PNG 图片和随机字节逐字节原样送达"))
def test_binary_files_intact(student, site):
    server = start(student, site)
    with watching(server):
        for name in ("logo.png", "blob.bin"):
            what = say("urlopen('http://…/{n}')", "urlopen('http://…/{n}')", n=name)
            resp = urlopen(server, f"/{name}", what=what, hint=HINT_BINARY, hint_wait=HINT_HEAD_END)
            expect_status(resp, 200, what, exact=False, hint=HINT_BINARY)
            expect_body(resp, site.files[name], what, hint=HINT_BINARY)
            expect_type(resp, TYPES.get(Path(name).suffix, OCTET), what)


# -- the answer, byte by byte ---------------------------------------------------------------------

@check(points=2, hint=HINT_CRLF,
       title=say("the answer is exact: CRLF lines, Content-Length, Connection: close, then the close",
                 "应答逐字节正确：CRLF 行尾、Content-Length、Connection: close，然后关闭连接"))
def test_response_head_is_exact(student, site):
    server = start(student, site)
    body = site.files["hello.txt"]
    with watching(server):
        for extra in ((), ("Connection: keep-alive",)):
            data = request("GET", "/hello.txt", server, *extra)
            what = (say("the answer to GET /hello.txt", "GET /hello.txt 的应答") if not extra else
                    say("the answer to GET /hello.txt with Connection: keep-alive",
                        "带 Connection: keep-alive 的 GET /hello.txt 的应答"))
            resp = raw_get(server, data, what, status=200, hint=HINT_CRLF)
            expect_status(resp, 200, what, sent=data, hint=HINT_CRLF)
            expect_length(resp, len(body), what, sent=data)
            expect_type(resp, TYPES[".txt"], what, sent=data)
            conn = [v.strip().lower() for v in resp.header_all("Connection")]
            if conn != ["close"]:
                raise CheckFailed(say("{what}: the Connection header", "{what}：Connection 首部",
                                      what=what), sent=data, expected="Connection: close",
                                  got=resp.header_all("Connection") or
                                  say("no Connection header", "没有 Connection 首部"),
                                  detail=head_lines(resp.head), hint=HINT_CLOSE)
            expect_body(resp, body, what, sent=data)


@check(points=1, hint=HINT_HEAD,
       title=say("HEAD gets GET's status line and headers, and no body",
                 "HEAD 得到与 GET 相同的状态行和首部，但没有正文"))
def test_head_request(student, site):
    server = start(student, site)
    with watching(server):
        for name in ("index.html", "logo.png"):
            data = request("HEAD", f"/{name}", server)
            what = say("the answer to HEAD /{n}", "HEAD /{n} 的应答", n=name)
            resp = raw_get(server, data, what, head_only=True, hint=HINT_HEAD, status=200)
            expect_status(resp, 200, what, sent=data, hint=HINT_HEAD)
            expect_length(resp, len(site.files[name]), what, sent=data)
            expect_type(resp, TYPES[Path(name).suffix], what, sent=data)


@check(points=1, hint=HINT_404,
       title=say("404 Not Found for what is not there", "不存在的东西回复 404 Not Found"))
def test_not_found(student, site):
    server = start(student, site)
    cases = [("/missing.html", say("no such file", "没有这个文件")),
             ("/docs/missing.txt", say("no such file in a folder", "文件夹里没有这个文件")),
             ("/empty/", say("a folder without index.html", "没有 index.html 的文件夹")),
             ("/hello.txt/more", say("a file used as a folder", "把文件当成文件夹"))]
    with watching(server):
        for target, note in cases:
            data = request("GET", target, server)
            what = say("the answer to GET {t} ({note})", "GET {t} 的应答（{note}）", t=target, note=note)
            resp = raw_get(server, data, what, hint=HINT_404, status=404)
            expect_status(resp, 404, what, sent=data, hint=HINT_404)


@check(points=1, hint=HINT_405,
       title=say("405 Method Not Allowed, with Allow: GET, HEAD, for other methods",
                 "其他方法回复 405 Method Not Allowed，并带 Allow: GET, HEAD"))
def test_method_not_allowed(student, site):
    server = start(student, site)
    cases = [("POST", "/index.html", ("Content-Length: 0",)), ("PUT", "/new.txt", ("Content-Length: 0",)),
             ("DELETE", "/hello.txt", ())]
    with watching(server):
        for method, target, extra in cases:
            data = request(method, target, server, *extra)
            what = say("the answer to {m} {t}", "{m} {t} 的应答", m=method, t=target)
            resp = raw_get(server, data, what, hint=HINT_405, status=405)
            expect_status(resp, 405, what, sent=data, hint=HINT_405)
            allow = {t.strip().upper() for v in resp.header_all("Allow") for t in v.split(",")}
            if allow != {"GET", "HEAD"}:
                raise CheckFailed(say("{what}: the Allow header", "{what}：Allow 首部", what=what),
                                  sent=data, expected="Allow: GET, HEAD",
                                  got=resp.header_all("Allow") or say("no Allow header", "没有 Allow 首部"),
                                  detail=head_lines(resp.head), hint=HINT_405)


BAD = [
    (say("not HTTP at all", "根本不是 HTTP"), b"HELLO\r\n\r\n"),
    (say("no version (HTTP/0.9 style)", "没有版本号（HTTP/0.9 的写法）"), b"GET /\r\n\r\n"),
    (say("four parts in the request line", "请求行有四部分"), b"GET / HTTP/1.1 extra\r\nHost: x\r\n\r\n"),
    (say("another protocol", "别的协议"), b"GET / SPDY/3\r\nHost: x\r\n\r\n"),
    (say("a target that does not start with /", "目标不以 / 开头"),
     b"GET index.html HTTP/1.1\r\nHost: x\r\n\r\n"),
    (say("a header line without a colon", "首部行没有冒号"), b"GET / HTTP/1.1\r\nHost x\r\n\r\n"),
]


@check(points=1, hint=HINT_400,
       title=say("400 Bad Request for what is not an HTTP/1.x request, and the server lives on",
                 "不是 HTTP/1.x 请求时回复 400 Bad Request，并且服务器继续运行"))
def test_bad_request(student, site):
    server = start(student, site)
    with watching(server):
        for note, data in BAD:
            what = say("the answer to {b} ({note})", "{b} 的应答（{note}）", b=show_bytes(data, 60),
                       note=note)
            resp = raw_get(server, data, what, hint=HINT_400, status=400)
            expect_status(resp, 400, what, sent=data, hint=HINT_400)
        data = request("GET", "/hello.txt", server)
        what = say("the answer to GET /hello.txt after six bad requests",
                   "六个错误请求之后 GET /hello.txt 的应答")
        resp = raw_get(server, data, what, hint=HINT_400, status=200)
        expect_status(resp, 200, what, sent=data, hint=HINT_400)
        expect_body(resp, site.files["hello.txt"], what, sent=data)


# -- requests that arrive in pieces ----------------------------------------------------------------

def line_cuts(data: bytes) -> list[int]:
    """Cuts inside the request line and at and inside every header line - but none inside the
    final b'\\r\\n\\r\\n' (a hidden check sends a request one byte at a time)."""
    cuts = [2, 8]                             # b'GE' | b'T /hel' | b'lo.txt HTTP/1.1\r\n...'
    end = data.index(b"\r\n\r\n")
    pos = data.index(b"\r\n") + 2             # the start of each header line
    while pos < end:
        nxt = data.index(b"\r\n", pos)
        cuts += [pos, pos + 3, nxt]           # its start, inside its name, before its CRLF
        pos = nxt + 2
    return sorted(c for c in set(cuts) if 0 < c < end)


@check(points=2, hint=HINT_PIECES,
       title=say("answers a request that arrives in pieces: the request line cut, the headers "
                 "in many segments", "能应答分段到达的请求：请求行被切断、首部分成许多段"))
def test_request_in_pieces(student, site):
    server = start(student, site)
    body = site.files["hello.txt"]
    with watching(server):
        data = request("GET", "/hello.txt", server)
        cut = len(b"GET /hel")
        what = say("the answer to GET /hello.txt, its request line cut after {b}",
                   "GET /hello.txt 的应答（请求行在 {b} 之后被切断）", b=show_bytes(data[:cut]))
        resp = raw_get(server, data, what, hint=HINT_PIECES, status=200,
                       send=lambda peer, d: peer.split(d, cut),
                       status_detail=say("each piece was sent once the server had read the one "
                                         "before: its first recv() got only {b}",
                                         "每一段都等服务器读走前一段之后才发送：它的第一次 recv() "
                                         "只拿到了 {b}", b=show_bytes(data[:cut])))
        expect_body(resp, body, what, sent=data)

        data = request("GET", "/hello.txt", server, "Accept-Language: zh-CN, en",
                       "X-Test: headers in pieces")
        cuts = line_cuts(data)
        what = say("the answer to GET /hello.txt sent in {n} pieces",
                   "GET /hello.txt 分 {n} 段发送时的应答", n=len(cuts) + 1)
        resp = raw_get(server, data, what, hint=HINT_PIECES, status=200,
                       send=lambda peer, d: peer.split(d, *cuts),
                       status_detail=say("the pieces: {p}", "各段：{p}",
                                         p=" | ".join(show_bytes(data[a:b], 24) for a, b in
                                                      zip([0, *cuts], [*cuts, len(data)]))))
        expect_body(resp, body, what, sent=data)


@check(points=1, hidden=True, hint=HINT_PIECES,
       title=say("answers a request that arrives one byte at a time, its empty line split too",
                 "能应答一个字节一个字节到达的请求，结尾的空行也被拆开"))
def test_request_one_byte_at_a_time(student, site):
    server = start(student, site)
    data = request("GET", "/data.json", server, "Accept: application/json", "X-Test: drip")
    what = say("the answer to GET /data.json sent one byte at a time",
               "一个字节一个字节发送的 GET /data.json 的应答")
    with watching(server):
        resp = raw_get(server, data, what, hint=HINT_PIECES, send=HttpPeer.drip, hint_wait=HINT_PIECES,
                       status=200,
                       silent=say("each byte was sent once the server had read the one before, "
                                  "so the empty line b'\\r\\n\\r\\n' came in four recv()s",
                                  "每个字节都等服务器读走前一个之后才发送，所以空行 b'\\r\\n\\r\\n' "
                                  "分成了四次 recv() 到达"))
        expect_status(resp, 200, what, sent=data, hint=HINT_PIECES)
        expect_body(resp, site.files["data.json"], what, sent=data)
        expect_type(resp, TYPES[".json"], what, sent=data)


# -- paths that try to leave the folder -------------------------------------------------------------

def refused(server, targets, hint, *, allowed=(400,), note=None):
    """Each target - or (target, words for it[, its own hint]) - gets a status in `allowed`,
    and no secret."""
    for target in targets:
        target, label, *own = target if isinstance(target, tuple) else (target, target)
        hint = own[0] if own else hint
        data = request("GET", target, server)
        what = say("the answer to GET {t}", "GET {t} 的应答", t=label)
        resp = raw_get(server, data, what, hint=hint)
        expect_no_leak(resp, what, sent=data, hint=hint)
        if resp.status not in allowed:
            expect_status(resp, allowed[0], what, sent=data, hint=hint, detail=note)
        expect_status(resp, resp.status, what, sent=data, hint=hint)  # the exact status line


@check(points=2, hint=HINT_TRAVERSAL,
       title=say("400 for a path with '..': nothing outside the folder is ever sent",
                 "路径里有 '..' 时回复 400：文件夹之外的东西一概不发送"))
def test_path_traversal(student, site):
    server = start(student, site)
    with watching(server):
        refused(server, ["/../secret.txt", "/docs/../../secret.txt", "/./../secret.txt",
                         "/../../../../../../../../etc/passwd"], HINT_TRAVERSAL)


@check(points=2, hidden=True, hint=HINT_ENCODED,
       title=say("400 for '..' hidden by percent-encoding (%2e%2e, %2f)",
                 "用百分号编码藏起来的 '..'（%2e%2e、%2f）也回复 400"))
def test_encoded_traversal(student, site):
    server = start(student, site)
    with watching(server):
        refused(server, ["/%2e%2e/secret.txt", "/%2E%2E/secret.txt", "/..%2fsecret.txt",
                         "/%2e%2e%2fsecret.txt", "/docs/%2e%2e/%2e%2e/secret.txt",
                         "/.%2e/secret.txt"], HINT_ENCODED)


@check(points=1, hidden=True, hint=HINT_ABSOLUTE,
       title=say("paths that look absolute, or hold a NUL byte, stay inside the folder",
                 "看起来像绝对路径、或者含有 NUL 字节的路径，也出不了文件夹"))
def test_absolute_paths(student, site):
    server = start(student, site)
    secret = site.secret.as_posix()
    with watching(server):
        refused(server, [("/" + quote(secret), say("/ + the absolute path of secret.txt",
                                                   "/ + secret.txt 的绝对路径")),
                         ("/" + quote(secret, safe=""),
                          say("/ + the absolute path of secret.txt, every / as %2F",
                              "/ + secret.txt 的绝对路径，其中每个 / 都写成 %2F")), "//etc/passwd",
                         "/%2Fetc%2Fpasswd", ("/hello.txt%00.png", "/hello.txt%00.png", HINT_NUL)],
                HINT_ABSOLUTE,
                allowed=(404, 400),
                note=say("//etc/passwd is etc/passwd inside the folder: 404 (400 is fine too); "
                         "a NUL byte: 400", "//etc/passwd 就是文件夹里的 etc/passwd：回复 404（400 也可以）；"
                         "含 NUL 字节：回复 400"))


# -- robustness ------------------------------------------------------------------------------------

def longer_than_send_buffer() -> int:
    """At least 6 MiB, and more than any socket send buffer here can take in one go."""
    try:
        with open("/proc/sys/net/ipv4/tcp_wmem") as f:
            biggest = int(f.read().split()[2])
    except (OSError, ValueError, IndexError):
        biggest = 4 * MIB
    return max(6 * MIB, min(biggest + MIB, 64 * MIB))


@check(points=1, hidden=True, hint=HINT_SENDALL, time_limit=30,
       title=say("sends a file larger than any socket buffer whole, to a slow reader",
                 "把比任何套接字缓冲区都大的文件完整地发给一个读得很慢的客户端"))
def test_big_file_whole(student, site):
    data = random.Random(3).randbytes(longer_than_send_buffer())
    (site.root / "big.bin").write_bytes(data)
    server = start(student, site)
    req = request("GET", "/big.bin", server)
    what = say("the answer to GET /big.bin ({n} MiB, read through a 64 KiB window)",
               "GET /big.bin 的应答（{n} MiB，通过 64 KiB 的接收窗口读取）", n=len(data) >> 20)
    def send_then_wait(peer, data: bytes) -> None:
        HttpPeer.send(peer, data)
        # read nothing until the server's first send() of the answer has returned
        blocked_sending(server.proc, peer.sock, seconds=10)

    with watching(server):
        resp = raw_get(server, req, what, hint=HINT_SENDALL, rcvbuf=65536, timeout=20, status=200,
                       hint_short=HINT_SENDALL, send=send_then_wait)
        expect_status(resp, 200, what, sent=req, hint=HINT_SENDALL)
        expect_body(resp, data, what, sent=req, hint=HINT_SENDALL)


@check(points=1, hidden=True, hint=HINT_EOF,
       title=say("serves the next client after others hang up mid-request",
                 "有客户端在请求中途挂断之后，仍能服务下一个客户端"))
def test_client_hangs_up_mid_request(student, site):
    server = start(student, site)
    whole = request("GET", "/hello.txt", server)
    rude = [(say("sent nothing", "什么也没发送"), b""),
            (say("sent half a request line", "只发送了半个请求行"), whole[:13]),
            (say("sent the request without its empty line", "发送了请求，但没有结尾的空行"),
             whole[:-2])]
    with watching(server):
        for how, piece in rude:
            with HttpPeer.open(server, name="client that hangs up") as peer:
                if piece:
                    peer.send(piece)
                    peer.wait_read()
                peer.shutdown_write()
                peer.recv_until_eof(timeout=3)
                if not peer.ended.gone:
                    raise CheckFailed(say("a client {how} and closed its side: the server should "
                                          "close that connection ({why})",
                                          "一个客户端{how}，然后关闭了自己这一端：服务器应当关闭这个连接（{why}）",
                                          how=how, why=peer.ended.text()),
                                      sent=piece, expected=say("the connection closed", "连接被关闭"),
                                      got=say("still open", "连接仍然开着"), hint=HINT_EOF)
        with HttpPeer.open(server, name="client that resets") as peer:
            peer.send(whole[:20])
            peer.wait_read()
            peer.reset()
        what = say("the answer to GET /hello.txt after four clients hung up mid-request",
                   "四个客户端在请求中途挂断之后，GET /hello.txt 的应答")
        resp = raw_get(server, whole, what, hint=HINT_EOF, status=200)
        expect_status(resp, 200, what, sent=whole, hint=HINT_EOF)
        expect_body(resp, site.files["hello.txt"], what, sent=whole)


@check(points=1, hidden=True, hint=HINT_CAP,
       title=say("400 for a request head of more than 8192 bytes, at once",
                 "请求头部超过 8192 字节时立即回复 400"))
def test_head_too_long(student, site):
    server = start(student, site)
    data = bytearray(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n")
    n = 0
    while len(data) <= MAX_HEAD:
        data += b"X-Filler-%04d: %s\r\n" % (n, b"a" * 60)
        n += 1
    data = bytes(data[:MAX_HEAD + 1])  # 8193 bytes, no empty line anywhere
    what = say("the answer to {n} bytes of request head with no empty line",
               "对 {n} 字节、没有空行的请求头部的应答", n=len(data))
    with watching(server):
        resp = raw_get(server, data, what, hint=HINT_CAP, hint_wait=HINT_CAP, status=400,
                       silent=say("the test sent {n} bytes of head and kept the connection open: "
                                  "past 8192 bytes without an empty line, the answer is 400",
                                  "测试发送了 {n} 字节的头部，并一直开着连接：超过 8192 字节还没有空行，"
                                  "就应当回复 400", n=len(data)))
        expect_status(resp, 400, what, sent=data, hint=HINT_CAP)
