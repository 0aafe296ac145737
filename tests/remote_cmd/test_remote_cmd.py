"""remote_cmd: the graded suite.

server.py is tested as a process: the test is its client, sends framed command lines and reads
the framed replies byte-exactly (4-byte '!I' length, UTF-8 JSON header, stdout, stderr).
client.py is tested against a test server that the test drives: it checks each request the
client sends and answers with replies it makes itself, whole or in pieces.

The commands exist on any Linux (sh, echo, printf, head, tr, sleep). Time is part of this
exercise (--timeout), so the checks that need it leave wide margins: a command that ends by
itself runs under --timeout 5 and takes milliseconds; a command that must be killed sleeps for
30 or 60 s under --timeout 1, and the reply is awaited for 10 s more than --timeout.
"""
from __future__ import annotations

import contextlib
import json
import struct
import time

from grader.harness import (CheckFailed, Peer, Wire, accept, bound_by, check, expect_bytes,
                            listener, say, show_bytes)
from grader.harness.ioview import blocked_sending

MIB = 1 << 20
LENGTH = struct.Struct("!I")
MAX_HEADER = 64 * 1024
TIMEOUT = "5"  # --timeout for the checks whose commands end by themselves (in milliseconds)

# -- hints -----------------------------------------------------------------------------------

HINT_FRAME = say(
    "a request is struct.pack('!I', len(data)) + data, data = command.encode('utf-8'); a reply is "
    "struct.pack('!I', len(header)) + header + stdout + stderr, header = json.dumps({...})"
    ".encode('utf-8')",
    "请求是 struct.pack('!I', len(data)) + data，其中 data = command.encode('utf-8')；回复是 "
    "struct.pack('!I', len(header)) + header + stdout + stderr，其中 header = json.dumps({...})"
    ".encode('utf-8')")
HINT_NATIVE = say(
    "pack every length - the command's, the header's - with struct.pack('!I', ...): '!' is "
    "network byte order (big-endian, the same on every machine); the note's native 'i' is "
    "little-endian here",
    "每个长度——命令的、报头的——都要用 struct.pack('!I', ...) 打包：'!' 是网络字节序（大端，在任何机器上"
    "都一样）；笔记里的原生 'i' 在这台机器上是小端")
HINT_BOTH = say(
    "every reply carries both streams: stdout_len and stderr_len in the header, then all the "
    "stdout bytes, then all the stderr bytes - an empty stream is simply 0 bytes",
    "每个回复都带着两路输出：报头里写 stdout_len 和 stderr_len，然后是全部 stdout 字节，再是全部 "
    "stderr 字节——某一路为空，就是 0 个字节而已")
HINT_EXIT = say(
    "the exit code is proc.returncode once communicate() has returned: 0 means success, any "
    "other value is the command's own verdict - it goes in the header as exit_code",
    "退出码就是 communicate() 返回之后的 proc.returncode：0 表示成功，其他值是命令自己给出的结论——"
    "把它作为 exit_code 放进报头")
HINT_UNKNOWN = say(
    "an unknown command is not the server's error: the shell writes 'not found' to stderr and "
    "exits with 127; reply as for any other command",
    "未知命令不是服务端的错误：shell 会在 stderr 上写出 'not found' 并以 127 退出；像对待其他命令一样回复即可")
HINT_PIPES = say(
    "read stdout and stderr at the same time: proc.communicate(timeout=...) (or subprocess.run). "
    "stdout.read() and then stderr.read() is a deadlock as soon as the command fills the stderr "
    "pipe (64 KiB) while you wait for stdout to end",
    "要同时读取 stdout 和 stderr：用 proc.communicate(timeout=...)（或 subprocess.run）。先 "
    "stdout.read() 再 stderr.read()，只要命令在你等 stdout 结束时写满了 stderr 管道（64 KiB），就会死锁")
HINT_TIMEOUT = say(
    "communicate(timeout=args.timeout) raises subprocess.TimeoutExpired: kill the command, collect "
    "what it wrote with communicate(), and reply with timed_out true and exit_code -9",
    "communicate(timeout=args.timeout) 会抛出 subprocess.TimeoutExpired：这时杀掉命令，再用 "
    "communicate() 收下它已经写出的内容，回复 timed_out 为 true、exit_code 为 -9")
HINT_GROUP = say(
    "shell=True starts a shell, and the shell starts the command's processes: "
    "Popen(..., start_new_session=True) puts them all in one process group and "
    "os.killpg(proc.pid, signal.SIGKILL) kills them all; proc.kill() or run(timeout=...) kills "
    "only the shell",
    "shell=True 启动的是一个 shell，命令的各个进程由这个 shell 再启动：Popen(..., "
    "start_new_session=True) 把它们放进同一个进程组，os.killpg(proc.pid, signal.SIGKILL) 就能把它们"
    "全部杀掉；proc.kill() 或 run(timeout=...) 只杀掉了 shell")
HINT_SEQUENCE = say(
    "serve clients one after another: accept() in a loop; run one client's commands until "
    "recv() returns b'' where a new request would begin, then close and accept the next",
    "一个接一个地服务客户端：循环 accept()；依次执行一个客户端的命令，直到在新请求开始处 recv() "
    "返回 b''，然后关闭连接，accept 下一个")
HINT_BIND = say(
    "bind((args.host, args.port)) exactly: '' or '0.0.0.0' opens the server to every machine that "
    "can reach yours - and it runs their commands",
    "严格按 bind((args.host, args.port)) 绑定：'' 或 '0.0.0.0' 会把服务端开放给所有能访问你这台机器的人"
    "——而它会执行他们发来的命令")
HINT_BINARY = say(
    "a command's output is bytes and need not be text: keep it as bytes (no text=True, no "
    ".decode()) and send it as it is; only the command line is text (.encode('utf-8'))",
    "命令的输出是字节，不一定是文本：保持字节原样（不要 text=True，不要 .decode()），原样发送；"
    "只有命令行本身是文本（用 .encode('utf-8')）")
HINT_SENDALL = say(
    "send() may send only part of a large buffer and returns how much it took; sendall() sends "
    "it all",
    "send() 对大块数据可能只发送一部分，并返回实际发送的字节数；sendall() 才会全部发送")
HINT_RUDE = say(
    "check the length before reading on: over 65536 bytes, or bytes that are not UTF-8, close "
    "that connection without running anything; catch errors per client (OSError, ValueError) "
    "and serve the next",
    "读下去之前先检查长度：超过 65536 字节，或者字节不是合法的 UTF-8，就什么也不执行、直接关闭这个连接；"
    "针对每个客户端捕获异常（OSError、ValueError），然后服务下一个")
HINT_CLIENT = say(
    "for each non-empty line: send its UTF-8 bytes after their length, read the whole reply, "
    "write stdout to sys.stdout.buffer and stderr to sys.stderr.buffer, then the line "
    "'[exit N]' (or '[exit N, timed out]')",
    "对每个非空行：先发它的 UTF-8 字节长度，再发这些字节；读完整个回复，把 stdout 写到 "
    "sys.stdout.buffer、stderr 写到 sys.stderr.buffer，最后一行写 '[exit N]'（或 '[exit N, timed out]'）")
HINT_LEN_BYTES = say(
    "the length counts bytes: len(command.encode('utf-8')), not len(command) - '你好' is 2 "
    "characters but 6 bytes",
    "长度数的是字节：len(command.encode('utf-8'))，不是 len(command)——'你好' 是 2 个字符，却是 6 个字节")
HINT_CLIENT_LOOP = say(
    "read a reply with exact reads: 4 bytes, then header_len bytes, then stdout_len and "
    "stderr_len bytes - each a loop around recv(), which returns whatever has arrived",
    "用“恰好读 n 字节”来读回复：先 4 字节，再 header_len 字节，然后 stdout_len 和 stderr_len 字节——"
    "每一次都要循环 recv()，因为它只返回目前已到达的数据")


# -- the protocol, as the reference speaks it ---------------------------------------------------

def request(command: str | bytes) -> bytes:
    """A request: the command's UTF-8 bytes after their '!I' length."""
    data = command.encode("utf-8") if isinstance(command, str) else command
    return LENGTH.pack(len(data)) + data


def reply_frame(stdout: bytes, stderr: bytes, exit_code: int, timed_out: bool) -> bytes:
    """A reply: '!I' length, UTF-8 JSON header, stdout, stderr."""
    header = json.dumps({"stdout_len": len(stdout), "stderr_len": len(stderr),
                         "exit_code": exit_code, "timed_out": timed_out}).encode("utf-8")
    return LENGTH.pack(len(header)) + header + stdout + stderr


HEADER_SHAPE = '{"stdout_len": <int >= 0>, "stderr_len": <int >= 0>, "exit_code": <int>, ' \
               '"timed_out": <true|false>}'


def header_problem(header):
    """What is wrong with a decoded reply header, or None."""
    if not isinstance(header, dict):
        return say("it is not a JSON object", "它不是一个 JSON 对象")
    for key in ("stdout_len", "stderr_len"):
        value = header.get(key)
        if type(value) is not int or value < 0:
            return say("{key} must be an integer >= 0, got {value}",
                       "{key} 必须是 >= 0 的整数，实际是 {value}", key=key, value=repr(value))
    if type(header.get("exit_code")) is not int:
        return say("exit_code must be an integer, got {value}", "exit_code 必须是整数，实际是 {value}",
                   value=repr(header.get("exit_code")))
    if type(header.get("timed_out")) is not bool:
        return say("timed_out must be true or false, got {value}",
                   "timed_out 必须是 true 或 false，实际是 {value}", value=repr(header.get("timed_out")))
    return None


# -- talking to the student's server -----------------------------------------------------------

def start(student, timeout: str = TIMEOUT):
    return student.server("server.py", "--timeout", timeout)


def connect(server, name: str = "test client", rcvbuf: int | None = None) -> Peer:
    return Peer.connect(server.addr, name=name, rcvbuf=rcvbuf)


@contextlib.contextmanager
def watching(server):
    """A failure inside says so if the server has died meanwhile (its stderr follows in the
    feedback)."""
    try:
        yield
    except CheckFailed as exc:
        proc = server.proc
        if proc.alive():
            proc.wait(0.2)  # a server that just closed its sockets may be exiting right now
        if not proc.alive():
            text, *rest = exc.args
            first, _, others = str(text).partition("\n")
            first += str(say(" - meanwhile {what}", "——与此同时，{what}", what=proc.describe()))
            exc.args = ("\n".join(filter(None, [first, others])), *rest)
        raise


def read_reply(peer: Peer, what, *, sent: bytes, timeout: float = 5.0, hint=None, server=None,
               stuck=None) -> tuple[dict, bytes, bytes]:
    """Read one reply byte-exactly: (header, stdout, stderr), or a failure that says which part
    was wrong. `stuck` explains a reply that never began; then the server's stacks are taken
    (the feedback shows where it was)."""
    raw = peer.recv_exact(4, timeout)
    if len(raw) < 4:
        if not raw and peer.ended == "timeout":
            if server is not None:
                server.proc.collect_stacks()
            raise CheckFailed(say("{what}: no reply within {t:g} s", "{what}：{t:g} 秒内没有收到回复",
                                  what=what, t=timeout), sent=sent, hint=hint, detail=stuck)
        detail = None
        if not raw and peer.ended.gone:
            detail = say("the server closed the connection without a byte of reply. Either it could "
                         "not read the request - its length {length} read in native byte order "
                         "('i', little-endian here) is {n} bytes, far over the 65536 limit - or an "
                         "exception stopped it while it ran the command or built the reply",
                         "服务端一个字节也没回复就关闭了连接。要么是它没能读懂请求——请求的长度 {length} "
                         "若按原生字节序（'i'，在这里是小端）读，就是 {n} 个字节，远远超过 65536 的上限——"
                         "要么是它在执行命令或组装回复时被异常打断了",
                         length=show_bytes(sent[:4]), n=struct.unpack("<I", sent[:4])[0])
        raise CheckFailed(say("{what}: expected a reply beginning with a 4-byte header length, got "
                              "{n} bytes ({why})",
                              "{what}：回复应当以 4 字节的报头长度开头，实际只收到 {n} 个字节（{why}）",
                              what=what, n=len(raw), why=peer.ended.text()),
                          sent=sent, got=raw, has_got=True, hint=hint, detail=detail)
    (n,) = LENGTH.unpack(raw)
    if n == 0 or n > MAX_HEADER:
        (little,) = struct.unpack("<I", raw)
        native = 0 < little <= MAX_HEADER
        raise CheckFailed(
            say("{what}: the 4-byte header length is wrong", "{what}：4 字节的报头长度不对", what=what),
            sent=sent, got=raw,
            detail=say("read as '!I' (big-endian) it announces a header of {n} bytes; read "
                       "little-endian - the note's native 'i' on this machine - it would be {m}",
                       "按 '!I'（大端）读，它声称报头有 {n} 个字节；按小端读——也就是笔记里原生的 'i' "
                       "在这台机器上的结果——才是 {m}", n=n, m=little) if native else
            say("read as '!I' (big-endian) it announces a header of {n} bytes: no JSON header is "
                "that long", "按 '!I'（大端）读，它声称报头有 {n} 个字节：没有哪个 JSON 报头会这么长", n=n),
            hint=HINT_NATIVE if native else HINT_FRAME)
    raw_header = peer.recv_exact(n, timeout)
    if len(raw_header) < n:
        raise CheckFailed(say("{what}: the header length said {n} bytes, but only {k} came ({why})",
                              "{what}：报头长度说有 {n} 个字节，但只收到 {k} 个（{why}）",
                              what=what, n=n, k=len(raw_header), why=peer.ended.text()),
                          sent=sent, got=raw + raw_header, hint=HINT_FRAME)
    try:
        header = json.loads(raw_header.decode("utf-8"))
    except ValueError:
        raise CheckFailed(say("{what}: the {n} header bytes are not UTF-8 JSON",
                              "{what}：那 {n} 个报头字节不是 UTF-8 编码的 JSON", what=what, n=n),
                          sent=sent, expected=HEADER_SHAPE, got=raw_header, hint=HINT_FRAME) from None
    problem = header_problem(header)
    if problem is not None:
        raise CheckFailed(say("{what}: the header is not what the protocol says",
                              "{what}：报头不符合协议", what=what),
                          sent=sent, expected=HEADER_SHAPE, got=header, detail=problem,
                          hint=HINT_FRAME)
    parts = []
    for key, name in (("stdout_len", "stdout"), ("stderr_len", "stderr")):
        data = peer.recv_exact(header[key], timeout)
        if len(data) < header[key]:
            raise CheckFailed(say("{what}: the header announced {n} bytes of {name}, but only {k} "
                                  "came ({why})",
                                  "{what}：报头声明有 {n} 个字节的 {name}，但只收到 {k} 个（{why}）",
                                  what=what, n=header[key], name=name, k=len(data),
                                  why=peer.ended.text()),
                              sent=sent, got=data, has_got=True, detail=say(
                                  "the header was {header}", "报头是 {header}", header=repr(header)),
                              hint=HINT_SENDALL if len(data) else HINT_BOTH)
        parts.append(data)
    return header, parts[0], parts[1]


def expect_result(reply, what, *, sent: bytes, stdout: bytes | None, stderr: bytes | None,
                  exit_code: int, timed_out: bool = False, hint=None) -> None:
    """Compare a reply with what the command must have given: stdout, stderr (None: not
    compared here), exit_code and timed_out."""
    header, out, err = reply
    if stdout is not None and out != stdout:
        dropped = not out and err and stdout
        expect_bytes(out, stdout, say("{what}: the command's stdout", "{what}：命令的 stdout", what=what),
                     sent=sent, hint=HINT_BOTH if dropped else hint)
    if stderr is not None and err != stderr:
        expect_bytes(err, stderr, say("{what}: the command's stderr", "{what}：命令的 stderr", what=what),
                     sent=sent, hint=HINT_BOTH if not err else hint)
    if header["exit_code"] != exit_code:
        raise CheckFailed(say("{what}: exit_code in the header", "{what}：报头里的 exit_code", what=what),
                          sent=sent, expected=exit_code, got=header["exit_code"],
                          hint=hint if timed_out else HINT_EXIT)
    if header["timed_out"] is not timed_out:
        raise CheckFailed(say("{what}: timed_out in the header", "{what}：报头里的 timed_out", what=what),
                          sent=sent, expected=timed_out, got=header["timed_out"], hint=hint)


def run_command(peer: Peer, command: str, what, *, stdout: bytes | None, stderr: bytes | None = b"",
                exit_code: int = 0, timed_out: bool = False, hint=None, timeout: float = 5.0,
                server=None, stuck=None):
    """Send one command, read its reply, compare it; returns the reply."""
    sent = request(command)
    peer.send(sent)
    reply = read_reply(peer, what, sent=sent, timeout=timeout, hint=hint, server=server, stuck=stuck)
    expect_result(reply, what, sent=sent, stdout=stdout, stderr=stderr, exit_code=exit_code,
                  timed_out=timed_out, hint=hint)
    return reply


def say_command(command: str):
    return say("the reply to `{cmd}`", "对 `{cmd}` 的回复", cmd=command)


def closes_after(peer: Peer, hint=None) -> None:
    peer.shutdown_write()
    peer.expect_eof(say("the client closed after its commands: the server should close the "
                        "connection too", "客户端发完命令后关闭了：服务端也应当关闭这个连接"),
                    hint=hint or HINT_SEQUENCE)


# -- server.py: the visible checks -------------------------------------------------------------

@check(points=1, hint=HINT_FRAME,
       title=say("server runs echo and replies with its output", "服务端执行 echo 并回复它的输出"))
def test_runs_echo(student):
    server = start(student)
    with watching(server), connect(server) as peer:
        for command, out in (("echo hello, world", b"hello, world\n"),
                             ("printf '%s\\n' 粘包", "粘包\n".encode("utf-8"))):
            run_command(peer, command, say_command(command), stdout=out, hint=HINT_FRAME)
        closes_after(peer)


@check(points=1, hint=HINT_BOTH,
       title=say("server replies with stdout and stderr, both", "服务端在回复里同时带上 stdout 和 stderr"))
def test_stdout_and_stderr(student):
    server = start(student)
    with watching(server), connect(server) as peer:
        for command, out, err in (("echo to stdout; echo to stderr >&2", b"to stdout\n", b"to stderr\n"),
                                  ("echo only an error >&2", b"", b"only an error\n")):
            run_command(peer, command, say_command(command), stdout=out, stderr=err, hint=HINT_BOTH)
        closes_after(peer)


@check(points=1, hint=HINT_EXIT,
       title=say("server reports the command's exit code", "服务端报告命令的退出码"))
def test_exit_code(student):
    server = start(student)
    with watching(server), connect(server) as peer:
        for command, out, code in (("echo partial; exit 3", b"partial\n", 3),
                                   ("sh -c 'exit 42'", b"", 42),
                                   ("true", b"", 0)):
            run_command(peer, command, say_command(command), stdout=out, exit_code=code,
                        hint=HINT_EXIT)
        closes_after(peer)


@check(points=1, hint=HINT_UNKNOWN,
       title=say("server answers an unknown command with the shell's 127 and its message",
                 "对未知命令，服务端回复 shell 给出的 127 和错误信息"))
def test_unknown_command(student):
    server = start(student)
    command = "netlab-no-such-command --help"
    what = say_command(command)
    with watching(server), connect(server) as peer:
        header, out, err = run_command(peer, command, what, stdout=b"", stderr=None, exit_code=127,
                                       hint=HINT_UNKNOWN)
        if b"netlab-no-such-command" not in err:
            raise CheckFailed(say("{what}: the command's stderr should hold the shell's message",
                                  "{what}：命令的 stderr 里应当是 shell 的出错信息", what=what),
                              sent=request(command),
                              expected=say("bytes naming netlab-no-such-command, e.g. "
                                           "b'/bin/sh: 1: netlab-no-such-command: not found\\n'",
                                           "提到 netlab-no-such-command 的字节，例如 "
                                           "b'/bin/sh: 1: netlab-no-such-command: not found\\n'"),
                              got=err, has_got=True, hint=HINT_UNKNOWN)
        run_command(peer, "echo still here", say("the reply to the next command, `echo still here`",
                                                 "对下一条命令 `echo still here` 的回复"),
                    stdout=b"still here\n", hint=HINT_UNKNOWN)
        closes_after(peer)


BIG_COMMAND = ("head -c 1048576 /dev/zero | tr '\\0' a; "
               "head -c 1048576 /dev/zero | tr '\\0' b >&2")


@check(points=2, hint=HINT_PIPES, time_limit=15,
       title=say("server survives 1 MiB on stdout and 1 MiB on stderr (no pipe deadlock)",
                 "命令同时向 stdout 和 stderr 各写 1 MiB，服务端不会因管道而死锁"))
def test_big_stdout_and_stderr(student):
    server = start(student)
    what = say("the reply to a command that writes 1 MiB of 'a' to stdout, then 1 MiB of 'b' to "
               "stderr", "对一条先向 stdout 写 1 MiB 的 'a'、再向 stderr 写 1 MiB 的 'b' 的命令的回复")
    stuck = say(
        "the server is stuck, most likely in a deadlock: a pipe holds 64 KiB; the command blocks "
        "writing to a full pipe that nobody reads, while the server waits for the other pipe to "
        "end - which happens only when the command ends",
        "服务端卡住了，多半是死锁：一个管道只能装 64 KiB；命令往一个写满了却没人读的管道里写，被阻塞住；"
        "而服务端在等另一个管道结束——那要等命令结束才会发生")
    with watching(server), connect(server) as peer:
        run_command(peer, BIG_COMMAND, what, stdout=b"a" * MIB, stderr=b"b" * MIB, hint=HINT_PIPES,
                    timeout=8, server=server, stuck=stuck)
        closes_after(peer)


@check(points=2, hint=HINT_TIMEOUT, time_limit=30,
       title=say("server kills a command that runs past --timeout, reports it, and serves on",
                 "命令超过 --timeout 时，服务端杀掉它、报告超时，并继续服务"))
def test_timeout_kills_command(student):
    server = start(student, "1")
    command = "echo before; exec sleep 30"
    what = say("the reply to `{cmd}` (the server runs with --timeout 1)",
               "对 `{cmd}` 的回复（服务端以 --timeout 1 运行）", cmd=command)
    stuck = say("the command sleeps for 30 s; after 1 s the server should have killed it and "
                "replied with what it had written (b'before\\n'), timed_out true and exit_code -9",
                "这条命令要睡 30 秒；1 秒后服务端就应当杀掉它，并回复它已经写出的内容（b'before\\n'）、"
                "timed_out 为 true、exit_code 为 -9")
    with watching(server):
        with connect(server) as peer:
            run_command(peer, command, what, stdout=b"before\n", exit_code=-9, timed_out=True,
                        hint=HINT_TIMEOUT, timeout=11, server=server, stuck=stuck)
            run_command(peer, "echo after", say("the reply to the next command, `echo after`",
                                                "对下一条命令 `echo after` 的回复"),
                        stdout=b"after\n", hint=HINT_TIMEOUT)
            closes_after(peer)
        with connect(server, name="next client") as peer:
            run_command(peer, "echo next client", say("the reply to the next client's `echo next client`",
                                                      "对下一个客户端的 `echo next client` 的回复"),
                        stdout=b"next client\n", hint=HINT_SEQUENCE)
            closes_after(peer)


@check(points=1, hint=HINT_SEQUENCE,
       title=say("server serves several clients one after another, in its own folder",
                 "服务端一个接一个地服务多个客户端，命令在它自己的目录里执行"))
def test_clients_in_sequence(student):
    (student.workdir / "note.txt").write_text("written by the test\n", encoding="utf-8")
    server = start(student)
    clients = [
        [("cat note.txt", b"written by the test\n")],
        [],  # connects and closes without a command
        [("echo second", b"second\n"), ("echo 第二个客户端", "第二个客户端\n".encode("utf-8"))],
        [("ls note.txt server.py", b"note.txt\nserver.py\n")],
    ]
    with watching(server):
        for n, commands in enumerate(clients, 1):
            with connect(server, name=f"client {n}") as peer:
                for command, out in commands:
                    run_command(peer, command, say("client {n} of {m}: the reply to `{cmd}`",
                                                   "第 {n} 个客户端（共 {m} 个）：对 `{cmd}` 的回复",
                                                   n=n, m=len(clients), cmd=command),
                                stdout=out, hint=HINT_SEQUENCE)
                closes_after(peer)


@check(points=1, hint=HINT_BIND,
       title=say("server listens only on the --host it is given", "服务端只在给定的 --host 上监听"))
def test_binds_where_told(student):
    server = start(student)
    where = bound_by(server.proc.pid, "tcp")
    if where != [server.addr]:
        raise CheckFailed(
            say("the server should listen only where it was told: it runs the commands of anyone "
                "who reaches it", "服务端只应在指定的地址上监听：谁能连上它，它就执行谁的命令"),
            expected=f"{server.host}:{server.port}",
            got=", ".join(f"{h}:{p}" for h, p in where) or say("nothing", "没有任何地址"),
            hint=HINT_BIND)


# -- server.py: the hidden checks ----------------------------------------------------------------

@check(points=1, hidden=True, hint=HINT_BINARY,
       title=say("server passes output that is not text through untouched",
                 "服务端原样传回不是文本的输出"))
def test_binary_output(student):
    server = start(student)
    command = r"printf 'line 1\r\n\377\376\000end'; printf '\351t\351\n' >&2"
    with watching(server), connect(server) as peer:
        run_command(peer, command, say_command(command), stdout=b"line 1\r\n\xff\xfe\x00end",
                    stderr=b"\xe9t\xe9\n", hint=HINT_BINARY)
        closes_after(peer)


def longer_than_send_buffer() -> int:
    """At least 5 MiB, and more than any socket send buffer here can take in one go."""
    try:
        with open("/proc/sys/net/ipv4/tcp_wmem") as f:
            biggest = int(f.read().split()[2])
    except (OSError, ValueError, IndexError):
        biggest = 4 * MIB
    return max(5 * MIB, min(biggest + MIB, 64 * MIB))


@check(points=1, hidden=True, hint=HINT_SENDALL, time_limit=25,
       title=say("server sends a multi-MiB output whole to a slow reader",
                 "服务端把几 MiB 的输出完整地发给一个读得很慢的客户端"))
def test_huge_output_slow_reader(student):
    server = start(student)
    size = longer_than_send_buffer()
    command = f"head -c {size} /dev/zero | tr '\\0' x"
    what = say("the reply to `{cmd}` ({n} MiB), read through a small receive window",
               "对 `{cmd}`（{n} MiB）的回复，测试用很小的接收窗口读取", cmd=command, n=size >> 20)
    # more than any send buffer holds, to a reader with a small window: one send() is then
    # partial on every run. The test shuts its side after the command, so a server that sent
    # only part of the reply closes the connection at once instead of leaving the test waiting.
    with watching(server), connect(server, rcvbuf=65536) as peer:
        sent = request(command)
        peer.send(sent)
        peer.shutdown_write()
        # read nothing until the server's first send() of the output has returned (the
        # command runs first: seconds, on a busy machine)
        blocked_sending(server.proc, peer.sock, seconds=15)
        reply = read_reply(peer, what, sent=sent, timeout=15, hint=HINT_SENDALL, server=server)
        expect_result(reply, what, sent=sent, stdout=b"x" * size, stderr=b"", exit_code=0,
                      hint=HINT_SENDALL)
        peer.expect_eof(say("the client had closed after its command: the server should close "
                            "the connection after the reply", "客户端发完命令就关闭了：服务端回复之后应当关闭连接"),
                        hint=HINT_SEQUENCE)


def sleep_alive(server, reported: int) -> bool:
    """Is the `sleep` the command reported (by its pid, as the student's processes see pids)
    still running? A zombie has ended."""
    pid = server.proc.pid_of(reported)
    if pid is None:
        return False
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return False
    name = data[data.find(b"(") + 1:data.rfind(b")")]
    state = data[data.rfind(b")") + 2:][:1]
    return name == b"sleep" and state not in (b"Z", b"X")


@check(points=2, hidden=True, hint=HINT_GROUP, time_limit=30,
       title=say("server kills a timed-out command with everything it started",
                 "超时的命令连同它启动的所有进程都被服务端杀掉"))
def test_timeout_kills_whole_group(student):
    server = start(student, "1")
    command = "sleep 60 & echo $!; wait"
    what = say("the reply to `{cmd}` (the server runs with --timeout 1)",
               "对 `{cmd}` 的回复（服务端以 --timeout 1 运行）", cmd=command)
    stuck = say(
        "the shell started sleep 60 in the background and waits for it. If only the shell is "
        "killed, sleep lives on and keeps the stdout and stderr pipes open, so communicate() "
        "after the kill waits for their end - 60 s",
        "shell 在后台启动了 sleep 60 并等待它。如果只杀掉 shell，sleep 还活着，仍然占着 stdout 和 stderr "
        "管道，于是杀掉之后的 communicate() 要一直等到管道结束——60 秒")
    with watching(server), connect(server) as peer:
        header, out, err = run_command(peer, command, what, stdout=None, stderr=None, exit_code=-9,
                                       timed_out=True, hint=HINT_GROUP, timeout=11, server=server,
                                       stuck=stuck)
        try:
            reported = int(out.split()[0])
        except (ValueError, IndexError):
            raise CheckFailed(say("{what}: stdout should hold the pid of sleep that the command "
                                  "printed before it was killed",
                                  "{what}：stdout 里应当有命令被杀之前打印的 sleep 的进程号", what=what),
                              sent=request(command), expected=b"<pid>\n", got=out,
                              hint=HINT_TIMEOUT) from None
        end = time.monotonic() + 5
        while sleep_alive(server, reported):
            if time.monotonic() >= end:
                raise CheckFailed(
                    say("the command timed out and was reported so, but the sleep it had started "
                        "(pid {pid} as your server sees it) was still running 5 s later: the "
                        "server killed the shell, not the command",
                        "命令超时了，回复里也说了超时，但它启动的 sleep（在你的服务端看来进程号是 {pid}）"
                        "5 秒后仍在运行：服务端杀掉的是 shell，而不是命令", pid=reported),
                    sent=request(command), hint=HINT_GROUP)
            time.sleep(0.01)  # polling /proc with a deadline until the killed sleep is gone
        run_command(peer, "echo still serving", say("the reply to the next command, `echo still serving`",
                                                    "对下一条命令 `echo still serving` 的回复"),
                    stdout=b"still serving\n", hint=HINT_GROUP)
        closes_after(peer)


@check(points=1, hidden=True, hint=HINT_RUDE,
       title=say("server closes on bad requests without running them and serves the next client",
                 "服务端遇到不合格的请求时不执行、直接关闭，并继续服务下一个客户端"))
def test_server_refuses_bad_requests(student):
    server = start(student)
    rude = [
        (say("a command length of 4294967295 bytes (the connection stays open)",
             "命令长度为 4294967295 字节（连接一直开着）"), LENGTH.pack(0xFFFFFFFF), False),
        (say("a command that is not UTF-8", "不是 UTF-8 的命令"), request(b"echo \xff\xfe"), False),
        (say("a request cut off in the middle, then a close", "请求发到一半就关闭了连接"),
         request("echo never finished")[:9], True),
    ]
    with watching(server):
        for what, piece, shut in rude:
            with connect(server, name="rude client") as peer:
                peer.send(piece)
                if shut:
                    peer.shutdown_write()
                peer.expect_eof(say("a client sent {what}: the server should close that connection "
                                    "without running anything or replying",
                                    "一个客户端发来{what}：服务端应当不执行任何东西、不回复，直接关闭这个连接",
                                    what=what), hint=HINT_RUDE)
        # a client that asks for 1 MiB and vanishes without reading it: the server's send fails
        with connect(server, name="client that vanishes") as peer:
            peer.send(request("head -c 1048576 /dev/zero"))
            peer.shutdown_write()
            peer.recv_exact(1, 5)  # the reply has begun: the server is sending
            peer.reset()
        with connect(server, name="next client") as peer:
            run_command(peer, "echo anyone there?",
                        say("the reply to the client after four that misbehaved",
                            "对前面四个出问题的客户端之后那个客户端的回复"),
                        stdout=b"anyone there?\n", hint=HINT_RUDE)
            closes_after(peer)


# -- client.py ---------------------------------------------------------------------------------

def start_client(student, lines: list[str]):
    """client.py with `lines` on stdin, connected to a listening socket the test holds."""
    lst = listener()
    host, port = lst.getsockname()[:2]
    proc = student.spawn("client.py", "--host", host, "--port", str(port))
    proc.write("".join(line + "\n" for line in lines).encode("utf-8"))
    proc.close_stdin()
    peer = accept(lst, 5, proc=proc)
    lst.close()
    wire = Wire(peer.sock, "test server")
    wire.stop = lambda: not proc.alive()
    return proc, wire


def expect_request(wire: Wire, proc, line: str, n: int) -> None:
    """The request the client sent for line n of stdin must be request(line), byte-exactly."""
    want = request(line)
    what = say("what the client sent for line {n} of stdin, {line}",
               "客户端为标准输入第 {n} 行 {line} 发送的内容", n=n, line=repr(line))
    got = wire.recv_exact(4, 5)
    if got != want[:4]:
        detail, hint = None, HINT_CLIENT
        if len(got) == 4:
            (announced,) = LENGTH.unpack(got)
            if announced == len(line) != len(line.encode("utf-8")):
                detail = say("the length says {n}: that is len() of the str, in characters; the "
                             "UTF-8 bytes that follow are {b}",
                             "长度写的是 {n}：这是 str 的 len()，按字符数的；后面跟着的 UTF-8 字节却有 {b} 个",
                             n=announced, b=len(line.encode("utf-8")))
                hint = HINT_LEN_BYTES
            elif struct.unpack("<I", got)[0] == len(want) - 4:
                detail = say("the right length in little-endian: the note's native 'i'",
                             "长度对，但用的是小端：笔记里原生的 'i'")
                hint = HINT_NATIVE
        if not got:
            detail = say("{why}", "{why}", why=wire.ended.text())
        more = wire.recv_reply(timeout=1.0) if len(got) == 4 else b""
        raise CheckFailed(what, expected=want, got=got + more, has_got=True, detail=detail,
                          hint=hint)
    body = wire.recv_exact(len(want) - 4, 5)
    expect_bytes(want[:4] + body, want, what, hint=HINT_CLIENT)


def finish_client(proc, wire: Wire, stdout: bytes, stderr: bytes, hint) -> None:
    """At the end of stdin the client closes and exits 0, having printed `stdout`/`stderr`."""
    wire.expect_eof(say("at the end of stdin the client should close the connection",
                        "标准输入读完之后，客户端应当关闭连接"), hint=HINT_CLIENT)
    rc = proc.wait(5)
    expect_bytes(proc.output(), stdout, say("what client.py printed on its stdout",
                                            "client.py 在它的 stdout 上打印的内容"), hint=hint)
    if rc != 0:
        raise CheckFailed(say("client.py should exit with code 0 at the end of stdin; it {state}",
                              "标准输入读完后 client.py 应当以退出码 0 结束；它{state}",
                              state=proc.state()), hint=HINT_CLIENT)
    got = proc.stderr_tail(4000)
    want = stderr.decode("utf-8")
    if got != want:
        raise CheckFailed(say("what client.py printed on its stderr", "client.py 在它的 stderr 上打印的内容"),
                          expected=want, got=got, has_got=True, hint=hint)


@check(points=2, hint=HINT_CLIENT,
       title=say("client sends each line and prints stdout, stderr and the exit code",
                 "客户端发送每一行命令，并打印 stdout、stderr 和退出码"))
def test_client_prints_results(student):
    lines = ["echo hello", "", "printf 'no newline'; echo 你好 >&2; exit 3", "sleep 30"]
    replies = {0: reply_frame(b"hello\n", b"", 0, False),
               2: reply_frame(b"no newline", "你好\n".encode("utf-8"), 3, False),
               3: reply_frame(b"", b"", -9, True)}
    proc, wire = start_client(student, lines)
    with wire:
        for i, line in enumerate(lines):
            if not line:
                continue  # an empty line is no command: the client sends nothing for it
            expect_request(wire, proc, line, i + 1)
            wire.send(replies[i])
        finish_client(proc, wire, b"hello\n[exit 0]\nno newline\n[exit 3]\n[exit -9, timed out]\n",
                      "你好\n".encode("utf-8"), HINT_CLIENT)


@check(points=1, hidden=True, hint=HINT_CLIENT_LOOP,
       title=say("client puts together replies that arrive in pieces", "客户端能拼好分段到达的回复"))
def test_client_reply_in_pieces(student):
    lines = ["head -c 1048576 /dev/zero | tr '\\0' a", "echo dripped; echo warning >&2; exit 1"]
    big = reply_frame(b"a" * MIB, b"", 0, False)
    head = 4 + LENGTH.unpack(big[:4])[0]
    small = reply_frame(b"dripped\n", b"warning\n", 1, False)
    proc, wire = start_client(student, lines)
    with wire:
        expect_request(wire, proc, lines[0], 1)
        # the length cut in two, the header cut in two, 64 KiB of stdout, then the rest
        wire.split(big, 2, 4, head - 5, head, head + 65536)
        expect_request(wire, proc, lines[1], 2)
        wire.drip(small)
        finish_client(proc, wire, b"a" * MIB + b"\n[exit 0]\ndripped\n[exit 1]\n", b"warning\n",
                      HINT_CLIENT_LOOP)
