"""udp_echo: the graded suite.

Server checks talk to server.py from the test's own UDP sockets. Client checks run client.py
through a LossyPath whose far end is an ideal echo server (so they do not depend on the
student's server): its rules lose, duplicate, delay or forge chosen datagrams on every run, so
loss is made, not hoped for. One hidden check runs server and clients together.

No check depends on timing for a correct client: where an echo must come back, the client
gets --retries 40, so an echo that is merely slow (a busy machine) costs a spare resend, whose
late echo a correct client ignores anyway.
"""
import random
import select
import socket
import time

from grader.harness import (DOWN, UP, CheckFailed, LossyPath, check, drop, dup, expect_bytes,
                            forge, free_port, hold, judge_host, say, show_bytes)

REPLY_WAIT = 3.0   # s for the student's server to echo one datagram (it takes microseconds)
PATIENCE = 5.0     # s for the student's client to print a line or to exit
TIMEOUT = 0.1      # --timeout for clients that must get their echo (a lost try costs this)
RETRIES = 40       # --retries for those clients: 41 tries x 0.1 s = 4.1 s < PATIENCE
GIVE_UP = ("0.04", "2")  # --timeout/--retries where no echo ever comes: 3 tries, ~0.12 s

HINT_SENDER = say(
    "UDP has no connection: each recvfrom() says who sent that datagram - sendto(data, addr) "
    "with exactly that addr",
    "UDP 没有连接：每次 recvfrom() 都会告诉你这个数据报是谁发来的——用 sendto(data, addr) 回给恰好这个 addr")
HINT_EMPTY = say(
    "an empty datagram is legal UDP and recvfrom() returns b'' for it; in UDP b'' does not mean "
    "'closed' (there is no connection): echo it like any other",
    "空数据报是合法的 UDP，recvfrom() 收到它时返回 b''；在 UDP 里 b'' 并不表示“关闭”"
    "（根本没有连接）：像其他数据报一样回显它")
HINT_TRUNCATE = say(
    "recvfrom(n) returns at most n bytes of a datagram and silently throws the rest away: ask "
    "for 65535 (the largest UDP datagram)",
    "recvfrom(n) 最多返回一个数据报的前 n 个字节，其余部分会被悄悄丢掉：要用 65535（UDP 数据报的最大长度）")
HINT_RETRY = say(
    "sock.settimeout(seconds) before recvfrom(): on socket.timeout, send the line again, at most "
    "--retries more times",
    "在 recvfrom() 之前调用 sock.settimeout(seconds)：捕获到 socket.timeout 就重发这一行，"
    "最多再重发 --retries 次")
HINT_STALE = say(
    "a datagram that is not the echo of what you just sent is stale (a duplicate, or the late "
    "echo of an earlier try): ignore it and keep waiting",
    "不是你刚发出内容的回显的数据报都是过期的（重复的，或是之前某次尝试迟到的回显）：忽略它，继续等")
HINT_GIVE_UP = say(
    "after 1 + --retries unanswered tries, give up: print('error: ...', file=sys.stderr); "
    "sys.exit(1) - never wait forever, never print a fake echo",
    "1 + --retries 次尝试都没有回应，就放弃：print('error: ...', file=sys.stderr); sys.exit(1)"
    "——绝不能永远等下去，也绝不能打印一个假的回显")
HINT_COUNT = say("count the tries and give up after the last one",
                 "数清尝试的次数，最后一次之后就放弃")


def payload(n: int, seed: int = 7) -> bytes:
    return random.Random(seed).randbytes(n)


def text_line(n: int, seed: int = 8) -> bytes:
    rng = random.Random(seed)
    return bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz0123456789 ") for _ in range(n))


# -- the server: the test's own sockets talk to server.py ------------------------------------

class Sender:
    """One of the test's UDP sockets, on this judge's own address; `name` is a say() text."""

    def __init__(self, name):
        self.name = name
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((judge_host(), 0))

    def close(self) -> None:
        self.sock.close()


THE_TEST_CLIENT = say("the test client", "测试客户端")


def numbered_clients(count: int) -> list[Sender]:
    return [Sender(say("client {n}", "客户端 {n}", n=n)) for n in range(1, count + 1)]


def next_datagram(server, watch: list[Sender], waiting_for, sent: bytes,
                  hint=None) -> tuple[Sender, bytes, tuple]:
    """The next datagram any socket in `watch` receives; fails after REPLY_WAIT, or at once
    when the server has exited."""
    end = time.monotonic() + REPLY_WAIT
    by_fd = {s.sock.fileno(): s for s in watch}
    while True:
        ready, _, _ = select.select(list(by_fd), [], [], 0.05)
        if ready:
            who = by_fd[ready[0]]
            data, addr = who.sock.recvfrom(65536)
            return who, data, addr
        if not server.alive():
            server.proc.wait(1.0)
            raise CheckFailed(say("{proc} while the test was waiting for {what}; a server should "
                                  "run until it is killed",
                                  "测试在等待{what}时，{proc}；服务器应该一直运行，直到被终止",
                                  proc=server.proc.describe(), what=waiting_for),
                              sent=sent, hint=say("serve in a loop that never ends: one datagram "
                                                  "after another, until the process is killed",
                                                  "用一个永不结束的循环来服务：一个数据报接一个数据报，直到进程被终止"))
        if time.monotonic() >= end:
            raise CheckFailed(say("no echo came back within {t:g} s, while the test waited for "
                                  "{what}", "测试在等待{what}，但 {t:g} 秒内没有收到任何回显",
                                  t=REPLY_WAIT, what=waiting_for),
                              sent=sent, expected=sent, hint=hint)


def exchange(server, sender: Sender, data: bytes, waiting_for, others: list[Sender] = (),
             hint=None) -> None:
    """`sender` sends `data`; its echo must come back to `sender` (and to no one else),
    whole, from the server's address."""
    sender.sock.sendto(data, server.addr)
    who, got, addr = next_datagram(server, [sender, *others], waiting_for, data, hint)
    if who is not sender:
        raise CheckFailed(say("the echo of what {sender} sent arrived at {who}",
                              "{sender} 所发内容的回显被送到了 {who} 那里", sender=sender.name,
                              who=who.name),
                          sent=data, expected=say("the echo at {sender}", "回显送到 {sender}",
                                                  sender=sender.name),
                          got=say("{data} at {who}", "{data} 送到了 {who}", data=show_bytes(got),
                                  who=who.name), hint=HINT_SENDER)
    expect_bytes(got, data, waiting_for, sent=data, hint=hint)
    if addr != server.addr:
        raise CheckFailed(say("the echo came from another address than the one the client sent to",
                              "回显来自另一个地址，而不是客户端发往的那个地址"),
                          expected=say("from {addr}", "来自 {addr}", addr=f"{server.host}:{server.port}"),
                          got=say("from {addr}", "来自 {addr}", addr=f"{addr[0]}:{addr[1]}"),
                          hint=say("answer with the same socket you received on: a client "
                                   "ignores datagrams that do not come from its server",
                                   "用收到数据的那个套接字来回复：客户端会忽略不是来自它的服务器的数据报"))


def expect_silence(watch: list[Sender]) -> None:
    """Nothing more has arrived: every datagram the server sent before its last echo is here."""
    for s in watch:
        s.sock.setblocking(False)
        try:
            data = s.sock.recv(65536)
        except BlockingIOError:
            continue
        raise CheckFailed(say("{who} got a datagram nobody asked for", "{who} 收到了一个没人请求过的数据报",
                              who=s.name),
                          expected=say("one echo per datagram, to its sender only",
                                       "每个数据报一个回显，而且只发给它的发送者"), got=data,
                          hint=HINT_SENDER)


@check(points=1, title=say("echoes a datagram to its sender", "把数据报回显给它的发送者"),
       hint=say("bind((host, port)), then loop: data, addr = recvfrom(65535); sendto(data, addr)",
                "先 bind((host, port))，然后循环：data, addr = recvfrom(65535); sendto(data, addr)"))
def test_echoes_a_datagram(student):
    server = student.server("server.py", proto="udp")
    client = Sender(THE_TEST_CLIENT)
    try:
        exchange(server, client, b"hello, server", say("the echo of one datagram", "一个数据报的回显"))
    finally:
        client.close()


@check(points=1, title=say("answers three clients, each at its own address",
                           "回复三个客户端，各自回到它自己的地址"), hint=HINT_SENDER)
def test_answers_each_sender(student):
    server = student.server("server.py", proto="udp")
    clients = numbered_clients(3)
    try:
        turns = [(0, b"from client 1"), (1, b"from client 2"), (2, b"from client 3"),
                 (0, b"client 1 again")]
        for n, data in turns:
            me = clients[n]
            exchange(server, me, data, say("the echo to {who}", "给{who}的回显", who=me.name),
                     [c for c in clients if c is not me], hint=HINT_SENDER)
        expect_silence(clients)
    finally:
        for c in clients:
            c.close()


@check(points=1, title=say("echoes an 8 KiB datagram whole", "完整回显一个 8 KiB 的数据报"),
       hint=HINT_TRUNCATE)
def test_echoes_8k_datagram_whole(student):
    server = student.server("server.py", proto="udp")
    client = Sender(THE_TEST_CLIENT)
    try:
        exchange(server, client, payload(8192), say("the echo of an 8192-byte datagram",
                                                    "一个 8192 字节数据报的回显"), hint=HINT_TRUNCATE)
    finally:
        client.close()


@check(points=1, hidden=True, title=say("echoes an empty datagram, then keeps serving",
                                        "回显一个空数据报，然后继续服务"), hint=HINT_EMPTY)
def test_echoes_empty_datagram(student):
    server = student.server("server.py", proto="udp")
    client = Sender(THE_TEST_CLIENT)
    hint = HINT_EMPTY
    after = b"after the empty one"
    try:
        client.sock.sendto(b"", server.addr)
        client.sock.sendto(after, server.addr)
        _, got, _ = next_datagram(server, [client], say("the echo of an empty datagram",
                                                        "空数据报的回显"), b"", hint)
        if got:
            raise CheckFailed(say("the empty datagram got no echo: the first echo back was for the "
                                  "datagram sent after it",
                                  "空数据报没有得到回显：回来的第一个回显属于它后面发送的那个数据报"),
                              sent=b"", expected=b"", got=got, hint=hint)
        what = say("the echo of the datagram after the empty one", "空数据报之后那个数据报的回显")
        _, got, _ = next_datagram(server, [client], what, after, hint)
        expect_bytes(got, after, what, sent=after, hint=hint)
    finally:
        client.close()


# -- the client: client.py through a lossy path whose far end echoes -------------------------

def run_client(student, addr, lines: list[bytes], timeout: str = str(TIMEOUT),
               retries: str = str(RETRIES)):
    """client.py --host/--port addr, with `lines` (and then EOF) on its stdin."""
    proc = student.spawn("client.py", "--host", addr[0], "--port", str(addr[1]),
                         "--timeout", timeout, "--retries", retries)
    proc.write(b"".join(line + b"\n" for line in lines))
    proc.close_stdin()
    return proc


def distinct(datagrams: list[bytes]) -> list[bytes]:
    """Datagrams with repeats in a row merged: a resend is the same line again."""
    return [d for i, d in enumerate(datagrams) if i == 0 or d != datagrams[i - 1]]


def sent_problem(path: LossyPath, lines: list[bytes]) -> CheckFailed | None:
    """What is wrong with the datagrams that reached the server, if anything."""
    for i, got in enumerate(distinct(list(path.received))):
        if i >= len(lines):
            return CheckFailed(say("the client sent a datagram after its {n} lines",
                                   "客户端发完 {n} 行之后又发送了一个数据报", n=len(lines)),
                               got=got, detail=path_detail(path),
                               hint=say("send one datagram per line of stdin (and resend only "
                                        "while its echo has not come)",
                                        "stdin 的每一行发送一个数据报（只有在回显还没来时才重发）"))
        line = lines[i]
        if got == line:
            continue
        why = say("the datagram the client sent for line {n} of stdin",
                  "客户端为 stdin 第 {n} 行发送的数据报", n=i + 1)
        hint = say("send each line as one datagram: its bytes without the newline, nothing else",
                   "每一行作为一个数据报发送：去掉换行符后的字节，其他什么都不加")
        if got == line + b"\n":
            hint = say("send the line without its newline (the newline only separates stdin lines)",
                       "发送时去掉行尾的换行符（换行符只是用来分隔 stdin 的各行）")
        elif line and got == line.strip():
            hint = say("send the line as it is: strip() changed it (remove only the newline)",
                       "原样发送这一行：strip() 改变了它（只去掉换行符）")
        elif not line:
            hint = None  # the check's own hint says it
        return CheckFailed(why, expected=line, got=got, hint=hint, detail=path_detail(path))
    return None


def path_detail(path: LossyPath, last: int = 12) -> str:
    return str(say("what happened on the path (→ is toward the server):",
                   "这条路径上发生了什么（→ 表示发往服务器）：")) + "\n" + path.story(last)


def client_failed(proc, path: LossyPath, lines: list[bytes], what, expected: bytes,
                  got: bytes | None, hint=None, clients: int = 1,
                  last: int = 12) -> CheckFailed:
    """The failure for a printed line that is not the expected one, with its likely cause:
    a wrong datagram sent (one client only), or the path's story."""
    if clients == 1:
        problem = sent_problem(path, lines)
        if problem is not None:
            return problem
    if proc.last_read == "eof":
        proc.wait(1.0)  # its stdout ended: it has exited, or is about to
    if got is None:
        reason = {"eof": say(": nothing, and {proc}", "：什么也没有，而且 {proc}",
                             proc=proc.describe()),
                  "timeout": say(": nothing within {t:g} s", "：{t:g} 秒内什么也没有", t=PATIENCE)
                  }.get(proc.last_read, say(": nothing", "：什么也没有"))
    else:
        reason = say(" (the client exited after it)", "（客户端随后就退出了）") \
            if proc.last_read == "eof" else ""
    detail = path_detail(path, last)
    echoes = sum(d == expected[:-1] for d in path.delivered) if clients == 1 else 0
    if got is None and echoes:
        times = say("once", "1 次") if echoes == 1 else say("{n} times", "{n} 次", n=echoes)
        detail += "\n  " + str(say(
            "note: the echo the client waited for ({echo}) was delivered to it {times}, and it "
            "printed nothing: did recvfrom() get all of it?",
            "注意：客户端等待的回显（{echo}）已经送到了它那里 {times}，它却什么也没打印："
            "recvfrom() 把它完整收下了吗？", echo=show_bytes(expected[:-1], 40), times=times))
    if path.clients > clients:
        detail += "\n  " + str(say(
            "note: the path saw {seen} client addresses where {n} client ran: use one socket for "
            "the whole run, not a new one per try or per line" if clients == 1 else
            "note: the path saw {seen} client addresses where {n} clients ran: use one socket "
            "for the whole run, not a new one per try or per line",
            "注意：只运行了 {n} 个客户端，路径上却出现了 {seen} 个客户端地址：整个运行期间只用一个套接字，"
            "不要每次尝试或每一行都新建一个", seen=path.clients, n=clients))
    return CheckFailed(what + reason, expected=expected, got=got, has_got=got is not None,
                       hint=hint, detail=detail)


def expect_echoes_printed(proc, path: LossyPath, lines: list[bytes], hint=None) -> None:
    """The client prints each line's echo (and a newline), in order, then exits with 0."""
    for i, line in enumerate(lines):
        got = proc.read_line(PATIENCE)
        if got != line + b"\n":
            raise client_failed(proc, path, lines,
                                say("what the client printed for line {n} of stdin",
                                    "客户端为 stdin 第 {n} 行打印的内容", n=i + 1),
                                line + b"\n", got, hint)
    rc = proc.wait(PATIENCE)
    if rc is None:
        raise CheckFailed(say("client.py was still running {t:g} s after it printed every echo "
                              "and its stdin ended",
                              "client.py 打印完所有回显、stdin 也已经读完，{t:g} 秒后它却仍在运行",
                              t=PATIENCE),
                          hint=say("stop at the end of stdin (the for loop over stdin ends there)",
                                   "stdin 读完就结束（对 stdin 的 for 循环在那里自然结束）"))
    if rc != 0:
        raise CheckFailed(say("client.py should exit with code 0 after printing every echo, but "
                              "it {state}", "client.py 打印完所有回显后应该以退出码 0 结束，但它{state}",
                              state=proc.state()), detail=path_detail(path),
                          hint=say("when every line got its echo, let the program end normally",
                                   "每一行都收到回显之后，让程序正常结束"))
    problem = sent_problem(path, lines)
    if problem is not None:
        raise problem
    extra = proc.read_line(0)
    if extra is not None:
        raise CheckFailed(say("after the {n} echoes the client printed more",
                              "打印完 {n} 个回显之后，客户端还打印了别的内容", n=len(lines)),
                          expected=say("nothing more", "不再有任何输出"), got=extra,
                          hint=say("print exactly one line per echo on stdout, nothing else (no "
                                   "prompts: errors and messages go to stderr)",
                                   "stdout 上每个回显恰好打印一行，别的什么都不打印（不要提示语：错误和其他信息写到 stderr）"))


@check(points=1, title=say("client sends each line as a datagram and prints each echo",
                           "客户端把每一行作为一个数据报发送，并打印每个回显"),
       hint=say("for each stdin line: sendto(the line without its newline), recvfrom() the "
                "echo, print it",
                "对 stdin 的每一行：sendto(去掉换行符的这一行)，recvfrom() 收回显，再打印出来"))
def test_client_prints_each_echo(student):
    lines = [b"hello", b"  spaces stay  ", "\u00e9t\u00e9 \u2192 UTF-8".encode()]
    with LossyPath(None) as path:
        proc = run_client(student, path.addr, lines)
        expect_echoes_printed(proc, path, lines)


@check(points=2, title=say("client resends a line whose datagram was lost",
                           "数据报丢失时，客户端重发这一行"), hint=HINT_RETRY)
def test_client_resends_lost_datagram(student):
    lines = [b"anybody there?", b"the second line"]
    with LossyPath(None, [drop(UP, 0)]) as path:
        proc = run_client(student, path.addr, lines)
        expect_echoes_printed(proc, path, lines, hint=HINT_RETRY)


@check(points=2, title=say("client ignores a duplicate echo and a forged datagram",
                           "客户端忽略重复的回显和伪造的数据报"), hint=HINT_STALE)
def test_client_ignores_duplicate_and_forged(student):
    lines = [b"one", b"two", b"three"]
    rules = [dup(DOWN, 0), forge(DOWN, 2, b"not the echo of your line")]
    with LossyPath(None, rules) as path:
        proc = run_client(student, path.addr, lines)
        expect_echoes_printed(proc, path, lines, hint=HINT_STALE)


@check(points=1, title=say("client sends an 8 KiB line as one datagram and prints its whole echo",
                           "客户端把 8 KiB 的一行作为一个数据报发送，并打印完整的回显"),
       hint=HINT_TRUNCATE)
def test_client_sends_8k_line_whole(student):
    lines = [text_line(8192)]
    with LossyPath(None) as path:
        proc = run_client(student, path.addr, lines)
        expect_echoes_printed(proc, path, lines, hint=HINT_TRUNCATE)


def crash_hint(last: str):
    """The hint for a client that ended in a traceback, by the exception it raised."""
    name = last.split(":", 1)[0].strip().rsplit(".", 1)[-1]
    if name in ("TimeoutError", "timeout"):
        return say("your client ended with {name}, raised by your own code or a socket.timeout "
                   "nobody caught: catch it, then print a one-line error to stderr and sys.exit(1)",
                   "你的客户端以 {name} 结束了——要么是你自己的代码抛出的，要么是没人捕获的 socket.timeout："
                   "捕获它，然后向 stderr 打印一行错误信息，再 sys.exit(1)", name=name)
    if name in ("ConnectionRefusedError", "ConnectionResetError"):
        return say("{name} means no one answered at that port (an ICMP 'port unreachable' came "
                   "back, reported on a connect()ed socket, or on Windows on any UDP socket): "
                   "treat it like a lost datagram - try again, and after the last try print an "
                   "error to stderr and sys.exit(1)",
                   "{name} 表示那个端口没有人应答（收到了 ICMP“端口不可达”，在 connect() 过的套接字上会报告出来，"
                   "在 Windows 上任何 UDP 套接字都会）：把它当作数据报丢失——再试一次，最后一次之后向 stderr "
                   "打印错误并 sys.exit(1)", name=name)
    return say("catch the exception, then print a one-line error to stderr and sys.exit(1): a "
               "traceback is not an error message",
               "捕获这个异常，然后向 stderr 打印一行错误信息，再 sys.exit(1)：traceback 不是错误信息")


def expect_error_message(proc) -> None:
    """A client that gave up said why on stderr - in a message, not by crashing."""
    err = proc.stderr_tail()
    if not err.strip():
        raise CheckFailed(say("the client gave up without a word: print an error to stderr",
                              "客户端一声不响地放弃了：要向 stderr 打印一条错误信息"),
                          hint=say("print('error: no echo after N tries', file=sys.stderr), then "
                                   "sys.exit(1)",
                                   "print('error: no echo after N tries', file=sys.stderr)，然后 sys.exit(1)"))
    if "Traceback (most recent call last)" in err:
        last = err.strip().splitlines()[-1]
        raise CheckFailed(say("the client crashed with a traceback instead of giving up with an "
                              "error message", "客户端带着 traceback 崩溃了，而不是打印一条错误信息后放弃"),
                          got=last, hint=crash_hint(last))


def datagrams(n: int):
    return say("1 datagram", "1 个数据报") if n == 1 else say("{n} datagrams", "{n} 个数据报", n=n)


@check(points=1, title=say("client gives up with an error after its retries when no echo ever comes",
                           "始终没有回显时，客户端重试完毕后报错放弃"), hint=HINT_GIVE_UP)
def test_client_gives_up(student):
    timeout, retries = GIVE_UP
    tries = 1 + int(retries)
    line = b"anyone there?"
    silent = Sender(say("a server that never answers", "一个从不应答的服务器"))  # as if all were lost
    got: list[bytes] = []
    try:
        proc = run_client(student, silent.sock.getsockname(), [line], timeout, retries)
        end = time.monotonic() + PATIENCE
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise CheckFailed(
                    say("client.py was still running {t:g} s after it started, while no echo ever "
                        "came: with --timeout {timeout} --retries {retries} it should give up "
                        "after {tries} tries (~{secs:g} s)",
                        "始终没有回显，client.py 启动 {t:g} 秒后却仍在运行：在 --timeout {timeout} "
                        "--retries {retries} 下，它应该在 {tries} 次尝试（约 {secs:g} 秒）后放弃",
                        t=PATIENCE, timeout=timeout, retries=retries, tries=tries,
                        secs=tries * float(timeout)),
                    expected=say("{d}, then exit", "{d}，然后退出", d=datagrams(tries)),
                    got=say("{d} so far", "到目前为止 {d}", d=datagrams(len(got))),
                    hint=HINT_RETRY if len(got) <= 1 else HINT_COUNT)
            silent.sock.settimeout(min(left, 0.01))  # short: notice the exit soon
            try:
                got.append(silent.sock.recv(65536))
            except socket.timeout:
                if not proc.alive():
                    break
                continue
            if len(got) > tries:
                raise CheckFailed(say("the client sent the line {n} times: --retries {retries} "
                                      "means 1 try plus at most {retries} resends",
                                      "客户端把这一行发送了 {n} 次：--retries {retries} 的意思是 1 次尝试"
                                      "加上最多 {retries} 次重发", n=len(got), retries=retries),
                                  expected=datagrams(tries),
                                  got=say("{d} and counting", "{d}，而且还在继续", d=datagrams(len(got))),
                                  hint=HINT_COUNT)
        silent.sock.setblocking(False)
        while True:  # the client has exited: everything it sent is already here
            try:
                got.append(silent.sock.recv(65536))
            except BlockingIOError:
                break
    finally:
        silent.close()
    rc = proc.wait(1.0)
    if len(got) != tries or any(d != line for d in got):
        raise CheckFailed(say("with --retries {retries} and no echo ever, the client should send "
                              "the line {tries} times (1 try + {retries} resends), then give up",
                              "在 --retries {retries} 下、始终没有回显时，客户端应该把这一行发送 {tries} 次"
                              "（1 次尝试 + {retries} 次重发），然后放弃",
                              retries=retries, tries=tries),
                          sent=line, expected=[line] * tries, got=got,
                          hint=HINT_RETRY if len(got) < tries else HINT_COUNT)
    out = proc.output()
    if rc == 0 or out:
        what = say("exited with code 0", "以退出码 0 结束了") if rc == 0 else \
            say("printed something on stdout", "在 stdout 上打印了内容")
        raise CheckFailed(say("after its last try went unanswered, the client {what}: it should "
                              "print an error to stderr (not stdout) and exit with a non-zero code",
                              "最后一次尝试也没有回应之后，客户端{what}：它应该向 stderr（不是 stdout）"
                              "打印错误信息，并以非 0 的退出码结束", what=what),
                          expected=say("stdout empty, exit code not 0", "stdout 为空，退出码不为 0"),
                          got=say("stdout {out}, {state}", "stdout 为 {out}，{state}",
                                  out=show_bytes(out), state=proc.state()),
                          hint=HINT_GIVE_UP)
    expect_error_message(proc)


@check(points=1, hidden=True, title=say("client gives up with an error when no server is running",
                                        "没有服务器在运行时，客户端报错放弃"), hint=HINT_GIVE_UP)
def test_client_gives_up_without_server(student):
    timeout, retries = GIVE_UP
    host = judge_host()
    port = free_port(host, socket.SOCK_DGRAM)  # on this judge's own address: nobody binds it
    proc = run_client(student, (host, port), [b"hello?"], timeout, retries)
    rc = proc.wait(PATIENCE)
    if rc is None:
        raise CheckFailed(say("client.py was still running {t:g} s after it started, with no "
                              "server at {addr}: it should give up after its retries",
                              "{addr} 上没有服务器，client.py 启动 {t:g} 秒后却仍在运行：它应该在重试完之后放弃",
                              t=PATIENCE, addr=f"{host}:{port}"),
                          hint=HINT_RETRY + say(" - a missing server looks exactly like loss",
                                                "——服务器不存在，看起来和数据报丢失完全一样"))
    if rc == 0 or proc.output():
        raise CheckFailed(say("with no server, the client should print an error to stderr (not "
                              "stdout) and exit with a non-zero code",
                              "没有服务器时，客户端应该向 stderr（不是 stdout）打印错误信息，并以非 0 的退出码结束"),
                          expected=say("stdout empty, exit code not 0", "stdout 为空，退出码不为 0"),
                          got=say("stdout {out}, {state}", "stdout 为 {out}，{state}",
                                  out=show_bytes(proc.output()), state=proc.state()))
    expect_error_message(proc)


@check(points=1, hidden=True, title=say("client ignores the late echo of an earlier try",
                                        "客户端忽略之前某次尝试迟到的回显"), hint=HINT_STALE)
def test_client_ignores_late_echo(student):
    lines = [b"first", b"second"]
    # The first echo is held back: the client resends, gets the second echo, and then the
    # first one arrives late - while the client waits for the echo of its next line.
    with LossyPath(None, [hold(DOWN, 0)]) as path:
        proc = run_client(student, path.addr, lines)
        expect_echoes_printed(proc, path, lines, hint=HINT_STALE)


@check(points=1, hidden=True, title=say("client sends an empty line as an empty datagram",
                                        "客户端把空行作为空数据报发送"),
       hint=say("an empty line is sent as an empty (0-byte) datagram, which is legal UDP, and its "
                "echo printed as an empty line (README.md)",
                "空行要作为空的（0 字节的）数据报发送，这是合法的 UDP；它的回显打印为一个空行（见 README.zh.md）"))
def test_client_sends_empty_line(student):
    lines = [b"before", b"", b"after"]
    with LossyPath(None) as path:
        proc = run_client(student, path.addr, lines)
        expect_echoes_printed(proc, path, lines)


# -- both together ---------------------------------------------------------------------------

def client_name(first: bytes) -> str | None:
    """'client 2' for a client whose first datagram is b'client 2 says hello'."""
    head, says, _ = first.partition(b" says ")
    return head.decode("ascii", "replace") if says and head.startswith(b"client ") else None


@check(points=1, hidden=True, title=say("three clients use the server at once through a lossy path",
                                        "三个客户端同时通过一条有损路径使用服务器"),
       hint=say("server: answer each datagram at the address recvfrom() gave; client: resend on "
                "timeout, ignore what is not your echo",
                "服务器：把每个数据报回复到 recvfrom() 给出的地址；客户端：超时就重发，不是自己回显的一律忽略"))
def test_clients_and_server_through_lossy_path(student):
    server = student.server("server.py", proto="udp")
    words = (b"hello", b"again", b"bye")
    with LossyPath(server.addr, [drop(UP, 0), dup(DOWN, 1)], name_client=client_name) as path:
        runs = []
        for k in (1, 2, 3):
            lines = [b"client %d says %s" % (k, w) for w in words]
            runs.append((k, lines, run_client(student, path.addr, lines)))
        for k, lines, proc in runs:
            for i, line in enumerate(lines):
                got = proc.read_line(PATIENCE)
                if got != line + b"\n":
                    raise client_failed(
                        proc, path, lines,
                        say("what client {k} of 3 printed for its line {n} (each client's first "
                            "datagram is lost and its second echo duplicated)",
                            "第 {k} 个客户端（共 3 个）为它的第 {n} 行打印的内容（每个客户端的第 1 个数据报"
                            "都会丢失，第 2 个回显都会重复）", k=k, n=i + 1),
                        line + b"\n", got, clients=3, last=16)
            if proc.wait(PATIENCE) != 0:
                raise CheckFailed(say("client {k} of 3 should exit with code 0, but it {state}",
                                      "第 {k} 个客户端（共 3 个）应该以退出码 0 结束，但它{state}",
                                      k=k, state=proc.state()), detail=path_detail(path, 16))
