"""tcp_echo: the graded suite. Server checks talk to server.py over real loopback sockets;
client checks run client.py against a test server that this file drives step by step."""
import hashlib
import socket
import threading
import time

from grader.harness import (CheckFailed, Peer, Wire, accept, bound_by, check, expect_bytes,
                            listener, say, show_bytes, stderr_note)
from grader.harness.ioview import blocked_sending, queues, sleeping

MIB = 1 << 20

HINT_LOOP = say("recv() returns whatever has arrived so far, not a whole message: loop until "
                "you have it all",
                "recv() 返回的是目前已经到达的数据，而不是一条完整的消息：要循环接收，直到收齐为止")
HINT_SENDALL = say("send() may send only part of what you give it and returns how many bytes it "
                   "took: the rest is lost unless you send it too; sendall() loops until "
                   "everything is sent",
                   "send() 可能只发出你交给它的一部分数据，并返回实际发出的字节数：剩下的如果不再发送就丢了；"
                   "sendall() 会循环发送，直到全部发完")
HINT_ECHO_LOOP = say("echo in a loop: answer each recv() with sendall(), until recv() returns b'' "
                     "(only then has the client finished sending), and then close the connection",
                     "循环回显：每次 recv() 收到的数据都用 sendall() 发回，直到 recv() 返回 b''"
                     "（这时客户端才算发送完毕），然后关闭连接")
HINT_CLOSE = say("recv() returning b'' means the client closed: close the connection, then "
                 "accept() the next client",
                 "recv() 返回 b'' 表示客户端已经关闭：关闭这个连接，再 accept() 下一个客户端")


def payload(n: int, seed: int = 7) -> bytes:
    """n pseudo-random bytes, the same on every run (SHAKE-128: twice as fast as
    random.randbytes, 10 ms instead of 21 for the 5 MiB checks)."""
    return hashlib.shake_128(b"netlab tcp_echo %d" % seed).digest(n)


# -- the server ----------------------------------------------------------------------------

@check(points=1, title=say("echoes a small payload", "回显一条短消息"),
       hint=say("accept(), then recv() and sendall() what you received",
                "accept() 之后，recv() 收到什么就用 sendall() 发回什么"))
def test_echoes_small_payload(student):
    server = student.server("server.py")
    with Peer.connect(server.addr) as peer:
        peer.send(b"hello\n")
        peer.expect(b"hello\n", say("the echo of a 6-byte message", "一条 6 字节消息的回显"),
                    sent=b"hello\n")


@check(points=1, title=say("a client that sends nothing, then the next client",
                           "一个什么也不发的客户端，然后是下一个客户端"),
       hint=say("a client may close without sending anything: recv() returns b'' at once",
                "客户端可能一个字节也不发就关闭：这时 recv() 立刻返回 b''"))
def test_empty_client_then_next(student):
    server = student.server("server.py")
    with Peer.connect(server.addr) as silent:
        silent.shutdown_write()
        silent.expect_eof(say("after a client closed without sending, the server should close "
                              "too", "客户端什么也没发就关闭了，服务器也应该关闭这个连接"),
                          hint=say("close the connection when recv() returns b''",
                                   "recv() 返回 b'' 时就关闭这个连接"))
    with Peer.connect(server.addr, name="second client") as peer:
        peer.send(b"next\n")
        peer.expect(b"next\n", say("the echo to the client after the empty one",
                                   "给空客户端之后那个客户端的回显"), sent=b"next\n")


@check(points=1, title=say("closes the connection when the client closes",
                           "客户端关闭时，服务器也关闭连接"),
       hint=say("recv() returning b'' means the client closed: close and serve the next",
                "recv() 返回 b'' 表示客户端已经关闭：关闭连接，再去服务下一个客户端"))
def test_closes_when_client_closes(student):
    server = student.server("server.py")
    with Peer.connect(server.addr) as peer:
        peer.send(b"bye\n")
        peer.shutdown_write()
        peer.expect(b"bye\n", say("the echo before closing", "关闭之前的回显"), sent=b"bye\n")
        peer.expect_eof(say("after the client finished sending, the server should close the "
                            "connection", "客户端发送完毕并关闭了自己这一端，服务器应该关闭连接"))


@check(points=2, title=say("echoes 1 MiB intact", "完整回显 1 MiB 数据"),
       hint=say("recv() returns whatever has arrived so far, not a whole message: loop until "
                "recv() returns b''; and use sendall(), since send() may write only part",
                "recv() 返回的是目前已经到达的数据，而不是一条完整的消息：要一直循环，直到 recv() 返回 b''；"
                "发送要用 sendall()，因为 send() 可能只写出一部分"))
def test_echoes_one_mib(student):
    server = student.server("server.py")
    data = payload(MIB)
    with Peer.connect(server.addr, rcvbuf=16384) as peer:
        peer.exchange(data, say("the echo of 1 MiB of random bytes", "1 MiB 随机字节的回显"),
                      expected=data, timeout=10, hint=HINT_ECHO_LOOP)


@check(points=1, title=say("serves three clients one after another", "依次服务三个客户端"),
       hint=say("accept() in a loop: serve one client, then wait for the next",
                "把 accept() 放在循环里：服务完一个客户端，再等下一个"))
def test_serves_clients_one_after_another(student):
    server = student.server("server.py")
    for n in range(1, 4):
        msg = f"client {n}\n".encode()
        with Peer.connect(server.addr, name=f"client {n}") as peer:
            peer.send(msg)
            peer.expect(msg, say("the echo to client {n} of 3", "给第 {n} 个客户端（共 3 个）的回显",
                                 n=n), sent=msg)
            peer.shutdown_write()
            peer.expect_eof(say("client {n} closed; the server should close too",
                                "第 {n} 个客户端已经关闭，服务器也应该关闭这个连接", n=n),
                            hint=HINT_CLOSE)


@check(points=1, hidden=True, title=say("echoes bytes that arrive one at a time",
                                        "回显一个字节一个字节到达的数据"), hint=HINT_LOOP)
def test_trickled_bytes_are_all_echoed(student):
    server = student.server("server.py")
    msg = b"one byte at a time\n"
    with Peer.connect(server.addr) as peer:
        peer.trickle(msg)
        peer.shutdown_write()
        peer.expect(msg, say("the echo of a message sent in 1-byte pieces",
                             "一条按 1 字节一段发送的消息的回显"), sent=msg)


# A reader with a tiny receive window and small segments: the server's kernel sizes its send
# buffer from the segment size and the congestion window, which a connection limited by the
# reader's window never grows, so that buffer stays a few dozen KiB and is full at once.
# Meanwhile the test writes much faster than it reads, so the bytes pile up on the server's
# side and a big recv() there returns hundreds of KiB in one go: one send() of that is partial
# on every run, and whatever it did not take is lost. (Measured: 50 of 50 runs, with CPU
# burners too; a server using sendall() just waits for the reader.)
SLOW_MSS = 536
SLOW_RCVBUF = 4096
WHOLE_LINE_RCVBUF = 256 * 1024  # < 1 MiB, the margin longer_than_send_buffer() leaves


def longer_than_send_buffer() -> int:
    """A size no socket send buffer on this machine can take in one go (tcp_wmem's maximum
    plus 1 MiB), so one send() of it is always partial while the receiver is not reading."""
    try:
        with open("/proc/sys/net/ipv4/tcp_wmem") as f:
            biggest = int(f.read().split()[2])
    except (OSError, ValueError, IndexError):
        biggest = 4 * MIB
    return min(biggest + MIB, 64 * MIB)


def slow_reader(addr) -> Peer:
    sock = socket.socket(socket.AF_INET6 if ":" in addr[0] else socket.AF_INET)
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, SLOW_MSS)  # before connect
    except OSError:
        pass  # the window alone still makes the reader slow
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SLOW_RCVBUF)
    sock.settimeout(3.0)
    try:
        sock.connect(addr)
    except OSError as exc:
        sock.close()
        raise CheckFailed(say("could not connect to the server: {exc}", "无法连接到服务器：{exc}",
                              exc=exc),
                          hint=say("is the server accepting the next client?",
                                   "服务器在 accept() 下一个客户端吗？")) from None
    return Peer(sock, "slow test client")


@check(points=1, hidden=True, title=say("echoes every byte of 5 MiB to a slow reader",
                                        "把 5 MiB 数据一字节不少地回显给一个读得很慢的客户端"),
       hint=HINT_SENDALL)
def test_echoes_to_slow_reader(student):
    server = student.server("server.py")
    data = payload(longer_than_send_buffer(), seed=5)
    size = f"{len(data) >> 20} MiB"
    with slow_reader(server.addr) as peer:
        reply = peer.exchange(data, say("the echo of {size} to a slow reader",
                                        "发给慢速读者的 {size} 回显", size=size), timeout=10,
                              hint=HINT_ECHO_LOOP)
    if reply == data:
        return
    if data.startswith(reply):
        raise CheckFailed(
            say("the server stopped echoing after {n} of {total} bytes and closed the connection",
                "服务器回显了 {total} 字节中的 {n} 字节就停下并关闭了连接", n=len(reply), total=len(data)),
            hint=HINT_LOOP)
    at = next((i for i, (a, b) in enumerate(zip(data, reply)) if a != b), min(len(data), len(reply)))
    if len(reply) < len(data) and data.find(reply[at:at + 64], at + 1) > at:
        raise CheckFailed(
            say("{lost} bytes of the echo are missing: the first {at} bytes came back right, then "
                "bytes from further on; {n} of {total} bytes came back in all. The server's "
                "send() took only part of a big buffer, and the rest was never sent",
                "回显少了 {lost} 个字节：前 {at} 个字节是对的，之后就跳到了更靠后的数据；总共只回来了 "
                "{total} 字节中的 {n} 字节。服务器的 send() 只发出了一大块数据中的一部分，剩下的再也没有发",
                lost=len(data) - len(reply), at=at, n=len(reply), total=len(data)),
            hint=HINT_SENDALL)
    raise CheckFailed(say("the echo of {size} differs from what was sent, from byte {at} on",
                          "{size} 数据的回显与发送的内容不同，从第 {at} 个字节开始", size=size, at=at),
                      expected=data, got=reply, hint=HINT_SENDALL)


@check(points=1, hidden=True, title=say("keeps serving after a client vanishes mid-stream",
                                        "客户端中途消失后继续服务"),
       hint=say("catch ConnectionError around one client's conversation, so a client that "
                "vanishes cannot stop the server",
                "把与一个客户端的整个对话包在 try/except ConnectionError 里，这样某个客户端突然消失也不会让服务器停下"))
def test_survives_client_vanishing(student):
    server = student.server("server.py")
    rude = Peer.connect(server.addr, name="vanishing client")
    try:
        rude.send(payload(64 * 1024))
    except OSError:
        pass  # the server hung up first: the next client tells whether it lives on
    rude.reset()  # gone without a goodbye: the server sees a connection reset
    with Peer.connect(server.addr, name="next client") as peer:
        peer.send(b"still there?\n")
        peer.expect(b"still there?\n", say("the echo to the client after the one that vanished",
                                           "给突然消失的那个客户端之后的客户端的回显"),
                    sent=b"still there?\n")
    if not server.alive():
        raise CheckFailed(say("the server died after a client vanished",
                              "一个客户端突然消失之后，服务器就退出了") + stderr_note(server.proc))


@check(points=1, hidden=True, title=say("binds to the --host it was given", "绑定到给定的 --host 上"),
       hint=say("bind((host, port)) with the --host you were given, not '' or '0.0.0.0' (that "
                "is every interface)",
                "bind((host, port)) 要用给你的 --host，不要用 '' 或 '0.0.0.0'（那是所有网络接口）"))
def test_binds_where_told(student):
    server = student.server("server.py")
    where = bound_by(server.proc.pid, "tcp")
    if where != [server.addr]:
        raise CheckFailed(say("the server should listen only where it was told",
                              "服务器应该只在指定的地址上监听"),
                          expected=f"{server.host}:{server.port}",
                          got=", ".join(f"{h}:{p}" for h, p in where) or say("nothing", "没有"))


# -- the client ----------------------------------------------------------------------------

def start_client(student, lines: bytes):
    lst = listener()
    host, port = lst.getsockname()[:2]
    proc = student.spawn("client.py", "--host", host, "--port", str(port))
    proc.write(lines)
    peer = accept(lst, 5, "client.py", proc)
    lst.close()
    return proc, peer


def expect_printed(proc, line: bytes, what, hint=None) -> None:
    got = proc.read_line(5)
    if got != line:
        reason = {"eof": say(" (the client exited)", "（客户端已经退出）"),
                  "timeout": say(" (nothing more within 5 s)", "（5 秒内没有更多输出）")}.get(
            proc.last_read, "")
        raise CheckFailed(what + reason, expected=line, got=got, has_got=True, hint=hint,
                          detail=stderr_note(proc).strip() or None)


HINT_EXIT = say("at the end of stdin the for loop ends: close the socket (a with-statement does "
                "it) and let the program end normally, exit code 0",
                "stdin 读完时 for 循环就结束了：关闭套接字（用 with 语句会自动关闭），让程序正常结束，退出码为 0")


@check(points=1, title=say("client sends each line and prints each echo",
                           "客户端逐行发送，并打印每一行的回显"),
       hint=say("print exactly the line that came back, newline included",
                "原样打印收到的那一行，包括换行符"))
def test_client_prints_each_echo(student):
    lines = [b"hello\n", b"second line\n", b"\xc3\xa9t\xc3\xa9\n"]
    proc, peer = start_client(student, b"".join(lines))
    proc.close_stdin()
    with peer:
        for n, line in enumerate(lines, 1):
            peer.expect(line, say("what the client sent for line {n} of stdin",
                                  "客户端为 stdin 第 {n} 行发送的内容", n=n), sent=line,
                        hint=say("send each line as it is, newline included: sendall(line)",
                                 "每一行原样发送，包括换行符：sendall(line)"))
            peer.send(line)
            expect_printed(proc, line, say("what the client printed for the echo of line {n}",
                                           "客户端为第 {n} 行的回显打印的内容", n=n))
        peer.expect_eof(say("the client should close the connection after the last line",
                            "发完最后一行之后，客户端应该关闭连接"), hint=HINT_EXIT)
    if proc.wait(5) != 0:
        raise CheckFailed(say("client.py should exit with code 0 at the end of stdin; it {state}",
                              "stdin 读完时 client.py 应该以退出码 0 结束；但它{state}",
                              state=proc.state()) + stderr_note(proc), hint=HINT_EXIT)


@check(points=1, hidden=True, title=say("client waits for the whole echo even when it comes in "
                                        "pieces", "回显分几段到达时，客户端也要等到完整的回显"),
       hint=say("recv() returns whatever has arrived so far: loop until you have as many bytes "
                "as the line you sent",
                "recv() 返回的是目前已经到达的数据：要循环接收，直到收到的字节数和你发出的那一行一样多"))
def test_client_waits_for_whole_echo(student):
    line = b"a line that comes back in two pieces\n"
    proc, peer = start_client(student, line)
    proc.close_stdin()
    with peer:
        peer.expect(line, say("what the client sent", "客户端发送的内容"), sent=line)
        # the second piece only once the client's program has read the first (the kernel
        # says so), so one recv() gets a piece on every run; a client that hung up after
        # the first piece gets nothing more, and its output tells
        Wire(peer.sock, "test server").split(line, 9)
        expect_printed(proc, line, say("what the client printed for an echo sent in two pieces",
                                       "回显分两段发回时客户端打印的内容"))


def read_until_client_stops(proc, peer, n: int, seconds: float = 5.0) -> tuple[bytes, bool]:
    """Up to n bytes from the client, until all are in, the connection ends, the deadline, or
    the client has stopped sending (then True): asleep with nothing on its way to us, at every
    look for half a second with no byte between them. (An ACK that empties a sendall()'s queue
    wakes it a moment later, never a look later; the half second spares a client that pauses
    between the pieces it sends.)"""
    got = bytearray()
    end = time.monotonic() + seconds
    idle_looks = 0
    while len(got) < n and time.monotonic() < end:
        chunk = peer.recv_reply(timeout=end - time.monotonic(), quiet=0.1, limit=n - len(got))
        got += chunk
        if len(got) >= n or peer.ended.gone:
            break
        q = queues(peer.sock)
        idle = q is not None and q.their_unsent == 0 and q.our_unread == 0 and sleeping(proc.pid)
        idle_looks = idle_looks + 1 if idle and not chunk else int(idle)
        if idle_looks >= 5:
            return bytes(got), True
    return bytes(got), False


@check(points=1, title=say("client sends a very long line whole", "客户端完整发送一行很长的数据"),
       hint=HINT_SENDALL)
def test_client_sends_long_line_whole(student):
    size = longer_than_send_buffer()
    line = payload(size - 1).replace(b"\n", b"-") + b"\n"
    lst = listener()
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # accepted socket inherits it
    host, port = lst.getsockname()[:2]
    proc = student.spawn("client.py", "--host", host, "--port", str(port), keep_stdout=size + MIB)
    proc.write(line)
    proc.close_stdin()
    peer = accept(lst, 5, "client.py", proc)
    lst.close()
    # The window was fixed small at the handshake (no scaling), so the client can never have
    # more than its send buffer plus 64 KiB on its way: one send() stays partial, while a
    # roomier buffer lets us read the whole line in 64 KiB steps instead of 4 KiB ones.
    peer.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, WHOLE_LINE_RCVBUF)
    mib = size >> 20
    with peer:
        blocked_sending(proc, peer.sock)  # its first send() has returned: now read
        got, stopped = read_until_client_stops(proc, peer, len(line))
        if got != line and stopped and line.startswith(got):
            raise CheckFailed(
                say("the client sent {n} of the {total} bytes of a {mib} MiB line, then stopped "
                    "sending and waited: the rest of the line was never sent",
                    "一行 {mib} MiB 的数据共 {total} 字节，客户端只发送了其中 {n} 字节，就停止发送、"
                    "开始等待：这一行剩下的部分从未发出", n=len(got), total=len(line), mib=mib),
                hint=HINT_SENDALL)
        what = say("the bytes the client sent for a {mib} MiB line",
                   "客户端为一行 {mib} MiB 的数据发送的字节", mib=mib)
        expect_bytes(got, line, what if got == line or peer.ended.open else f"{what} ({peer.ended})",
                     sent=line, hint=HINT_SENDALL)
        peer.send(line)
        expect_printed(proc, line, say("what the client printed for a {mib} MiB echo",
                                       "客户端为 {mib} MiB 的回显打印的内容", mib=mib))
