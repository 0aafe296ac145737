"""io_models: the graded suite. server.py runs as a process; the test's clients are Peers on
real loopback connections.

Nothing is timed. Concurrency is proved by what a one-client-at-a-time server cannot do: 200
clients stay connected while each gets its echo, and a client is served while another one has
megabytes waiting for it. "One thread" is /proc/<pid>/task. A blocked loop is seen from
outside (grader/harness/ioview.py): the server sleeps while the bytes of a client it should be
reading sit unread in its socket, the same count at every look. A busy loop is seen the same
way: runnable at every look, using CPU, with nothing to do. Partial writes are made, not hoped
for: a reader with a tiny window (4 KiB, 536-byte segments) keeps the server's send buffer at a
few dozen KiB, and the test does not read until the server has read all 4 MiB it was sent, so
the server holds megabytes that one send() can never take whole.
"""
from __future__ import annotations

import contextlib
import random
import socket
import threading
import time

from grader.harness import CheckFailed, Peer, check, say
from grader.harness.ioview import busy_looks, queues, sleeping, socket_fds

MIB = 1 << 20
SLOW_MSS = 536
SLOW_RCVBUF = 4096

# -- hints -----------------------------------------------------------------------------------

HINT_ECHO = say(
    "register the listening socket with a selectors.DefaultSelector(); when select() says it "
    "is readable, accept() and register the new socket too; when a client's socket is "
    "readable, recv() once and send back what came",
    "把监听套接字注册到 selectors.DefaultSelector() 上；select() 说它可读时就 accept()，并把新套接字也"
    "注册进去；某个客户端的套接字可读时，recv() 一次，把收到的数据发回去")
HINT_EOF = say(
    "recv() returning b'' means the client has finished sending, not that it stopped reading: "
    "send what is still pending for it, then unregister and close its socket",
    "recv() 返回 b'' 表示客户端发完了，并不表示它不再读取：把还欠它的数据发完，再注销并关闭它的套接字")
HINT_MANY = say(
    "one loop serves every client: sel.select() returns all the sockets that are ready, and "
    "each gets one recv() or one send() per turn - never a loop that stays with one client "
    "until it leaves",
    "一个循环服务所有客户端：sel.select() 返回所有已就绪的套接字，每个套接字每一轮只做一次 recv() 或 "
    "send()——绝不能守着一个客户端直到它离开")
HINT_THREAD = say(
    "IO multiplexing serves every client from one thread: no threading.Thread, no "
    "socketserver.ThreadingTCPServer, no fork() - the selector does the waiting for all of them",
    "IO多路复用在一个线程里服务所有客户端：不要 threading.Thread，不要 "
    "socketserver.ThreadingTCPServer，不要 fork()——等待这件事由选择器替所有客户端来做")
HINT_SLEEP = say(
    "sel.select() with no timeout sleeps until a socket is ready. A loop that polls - "
    "select(timeout=0), or non-blocking accept()/recv() tried over and over - and a selector "
    "that asks for EVENT_WRITE with nothing to send (a socket is writable almost always) "
    "both keep a CPU busy doing nothing",
    "不带超时的 sel.select() 会一直睡到有套接字就绪。轮询的循环——select(timeout=0)，或者一遍又一遍地"
    "尝试非阻塞的 accept()/recv()——以及没有数据要发却登记 EVENT_WRITE 的选择器（套接字几乎总是可写的），"
    "都会让一个 CPU 白白忙个不停")
HINT_NONBLOCK = say(
    "call setblocking(False) on the listening socket AND on every socket accept() returns (it "
    "does not inherit it): then a send() that cannot go on raises BlockingIOError at once "
    "instead of stopping the whole loop until that one client reads",
    "监听套接字和 accept() 返回的每个套接字都要 setblocking(False)（新套接字不会继承这个设置）："
    "这样 send() 发不出去时会立刻抛出 BlockingIOError，而不是让整个循环停下来，等那一个客户端读数据")
HINT_PARTIAL = say(
    "send() returns how many bytes the kernel took, often fewer than you gave it: keep the rest "
    "in that connection's buffer (del out[:sent]), ask the selector for EVENT_WRITE, and send "
    "more when it says writable; catch BlockingIOError. sendall() has no place on a "
    "non-blocking socket",
    "send() 返回内核实际收下的字节数，常常比你给的少：把剩下的留在这个连接自己的缓冲区里（del out[:sent]），"
    "向选择器登记 EVENT_WRITE，等它说可写时再接着发；要捕获 BlockingIOError。非阻塞套接字上不能用 sendall()")
HINT_VANISH = say(
    "a client may vanish at any moment: recv() returns b'' or raises ConnectionResetError, "
    "send() raises BrokenPipeError - catch OSError per client, then sel.unregister(conn) "
    "BEFORE conn.close(), once, and never touch that socket again in the same turn",
    "客户端随时可能消失：recv() 返回 b'' 或抛出 ConnectionResetError，send() 抛出 BrokenPipeError——"
    "针对每个客户端捕获 OSError，然后先 sel.unregister(conn) 再 conn.close()，只做一次，"
    "并且在这一轮里再也不要碰这个套接字")


def payload(n: int, seed: int = 7) -> bytes:
    return random.Random(seed).randbytes(n)


# -- helpers -------------------------------------------------------------------------------------

@contextlib.contextmanager
def watching(server):
    """A failure inside says so if the server has died meanwhile (its stderr follows)."""
    try:
        yield
    except CheckFailed as exc:
        proc = server.proc
        if proc.alive():
            proc.wait(0.2)  # a server that just crashed may be exiting right now
        if not proc.alive():
            first, _, rest = str(exc.args[0]).partition("\n")
            first += str(say(" - meanwhile {what}", "——与此同时，{what}", what=proc.describe()))
            exc.args = ("\n".join(filter(None, [first, rest])), *exc.args[1:])
        raise


def connect(server, name: str) -> Peer:
    return Peer.connect(server.addr, name=name)


def slow_reader(server, name: str = "slow client") -> Peer:
    """A client with a tiny receive window and small segments: the server's kernel keeps its
    send buffer for this connection at a few dozen KiB."""
    sock = socket.socket(socket.AF_INET6 if ":" in server.host else socket.AF_INET)
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, SLOW_MSS)  # before connect
    except OSError:
        pass  # the window alone keeps it slow
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SLOW_RCVBUF)
    sock.settimeout(3.0)
    try:
        sock.connect(server.addr)
    except OSError as exc:
        sock.close()
        raise CheckFailed(say("could not connect to the server: {exc}", "无法连接到服务器：{exc}",
                              exc=exc)) from None
    return Peer(sock, name)


def echo(peer: Peer, msg: bytes, what, hint=None) -> None:
    peer.send(msg)
    peer.expect(msg, what, sent=msg, hint=hint)


class Pushed:
    """A slow client that has sent `size` bytes and read none: `push` returns once the server
    has read every one of them (it must buffer them, since it cannot send them yet)."""

    def __init__(self, peer: Peer, data: bytes, half_close: bool):
        self.peer, self.data, self.half_close = peer, data, half_close
        self.failure: list[Exception] = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._send, daemon=True, name="push")

    def _send(self) -> None:
        try:
            self.peer.send(self.data)
            if self.half_close:
                self.peer.shutdown_write()
        except Exception as exc:  # SendFailed: the server hung up or stopped reading
            self.failure.append(exc)
        finally:
            self.done.set()


def push(server, peer: Peer, data: bytes, *, half_close: bool, what) -> Pushed:
    """Send `data` from a thread and read nothing, until the server has read all of it.
    Fails when the server stops reading instead (it sleeps while our bytes sit unread in its
    socket, the same count at three looks in a row): its loop is blocked elsewhere."""
    job = Pushed(peer, data, half_close)
    job.thread.start()
    end = time.monotonic() + 20
    same, last = 0, None
    while True:
        if job.done.is_set() and job.failure:
            exc = job.failure[0]
            raise exc if isinstance(exc, CheckFailed) else CheckFailed(str(exc))
        q = queues(peer.sock)
        if q is None:  # the connection is gone
            server.proc.wait(0.5)  # a server that crashed may be exiting right now
            if not server.alive():  # watching() adds how it ended; its stderr follows
                raise CheckFailed(say("{what}: the connection ended before the server had read "
                                      "everything the client sent",
                                      "{what}：服务器还没读完客户端发来的数据，连接就断了", what=what))
            raise CheckFailed(say("{what}: the server closed the connection before reading "
                                  "everything the client sent",
                                  "{what}：服务器还没读完客户端发来的数据就关闭了连接", what=what),
                              hint=HINT_EOF)
        if job.done.is_set() and q.their_unread == 0 and q.our_unsent == 0:
            return job  # the server has read every byte
        stuck = q.their_unread > 0 and sleeping(server.proc.pid)
        same = same + 1 if stuck and q.their_unread == last else 0
        last = q.their_unread if stuck else None
        if same >= 3 or time.monotonic() > end:
            got = q.their_read if q.their_read is not None else "?"
            server.proc.collect_stacks()  # where its loop is stuck, for the feedback
            raise CheckFailed(
                say("{what}: the server stopped reading from this client after {got} of {total} "
                    "bytes - {unread} bytes sit unread in its socket while it sleeps. The client "
                    "is not reading its echo: a loop that waits in send() until it does serves "
                    "nobody else meanwhile",
                    "{what}：服务器从这个客户端读了 {total} 字节中的 {got} 字节就不再读了——它在睡眠，"
                    "而 {unread} 字节还没读的数据就躺在它的套接字里。这个客户端没有在读回显：一个在 "
                    "send() 里一直等到它读的循环，在这期间谁也服务不了",
                    what=what, got=got, total=len(data), unread=q.their_unread),
                hint=HINT_NONBLOCK)
        time.sleep(0.005)  # polling the kernel's socket table (a look costs ~0.1 ms), with a deadline


def read_all(peer: Peer, n: int, timeout: float = 20.0) -> bytes:
    return peer.recv_exact(n, timeout)


def compare_echo(data: bytes, reply: bytes, what) -> None:
    if reply == data:
        return
    at = next((i for i, (a, b) in enumerate(zip(data, reply)) if a != b), min(len(data), len(reply)))
    if len(reply) < len(data) and at == len(reply):
        raise CheckFailed(say("{what}: only {n} of {total} bytes came back",
                              "{what}：{total} 字节只回来了 {n} 字节", what=what, n=len(reply),
                              total=len(data)),
                          hint=HINT_PARTIAL)
    if len(reply) < len(data):
        raise CheckFailed(
            say("{what}: {lost} bytes are missing - the first {at} bytes came back right, then "
                "bytes from further on; {n} of {total} bytes in all. A send() took only part of "
                "its buffer and the rest was thrown away",
                "{what}：少了 {lost} 个字节——前 {at} 个字节是对的，之后就跳到了更靠后的数据；总共只回来了 "
                "{total} 字节中的 {n} 字节。某次 send() 只收下了缓冲区的一部分，剩下的被扔掉了",
                what=what, lost=len(data) - len(reply), at=at, n=len(reply), total=len(data)),
            hint=HINT_PARTIAL)
    raise CheckFailed(say("{what}: the echo differs from what was sent, from byte {pos} on",
                          "{what}：回显与发送的内容不同，从第 {pos} 个字节开始", what=what, pos=at + 1),
                      expected=data, got=reply, hint=HINT_PARTIAL)


# -- visible checks ----------------------------------------------------------------------------

@check(points=1, title=say("echoes a client, then closes after its last byte",
                           "回显一个客户端，发完最后一个字节后关闭连接"), hint=HINT_ECHO)
def test_echoes_one_client(student):
    server = student.server("server.py")
    msg = b"hello, selectors\n"
    with watching(server), connect(server, "test client") as peer:
        echo(peer, msg, say("the echo of a 17-byte message", "一条 17 字节消息的回显"))
        peer.shutdown_write()
        peer.expect_eof(say("the client shut its side: the server should close the connection "
                            "(nothing was left to send)",
                            "客户端关闭了自己的发送方向：服务器应当关闭这个连接（已经没有要发的数据了）"),
                        hint=HINT_EOF)
    with watching(server), connect(server, "second client") as peer:
        data = payload(256 * 1024, seed=1)
        peer.exchange(data, say("the echo of 256 KiB sent before the client shut its side",
                                "客户端关闭发送方向之前发出的 256 KiB 的回显"),
                      expected=data, timeout=10, hint=HINT_EOF)


@check(points=2, title=say("200 clients connected at once, each echoed while all stay connected",
                           "200 个客户端同时在线，全部保持连接的同时每个都得到回显"),
       hint=HINT_MANY)
def test_two_hundred_clients_at_once(student):
    server = student.server("server.py")
    peers: list[Peer] = []
    try:
        with watching(server):
            for i in range(200):
                peer = connect(server, f"client {i + 1}")
                peers.append(peer)
                msg = b"client %d says hello\n" % (i + 1)
                echo(peer, msg, say("the echo to client {n} while clients 1 to {k} are still "
                                    "connected", "客户端 1 到 {k} 都还连着时，给第 {n} 个客户端的回显",
                                    n=i + 1, k=i))
            for i in reversed(range(200)):
                msg = b"client %d again\n" % (i + 1)
                echo(peers[i], msg, say("a second echo to client {n} of 200, all of them still "
                                        "connected", "200 个客户端都还连着时，给第 {n} 个客户端的第二次回显",
                                        n=i + 1))
    finally:
        for peer in peers:
            peer.close()


@check(points=1, title=say("one OS thread and no child process for 50 clients",
                           "50 个客户端，只用一个操作系统线程、不创建子进程"), hint=HINT_THREAD)
def test_one_thread_no_children(student):
    server = student.server("server.py")
    peers: list[Peer] = []
    try:
        with watching(server):
            for i in range(50):
                peer = connect(server, f"client {i + 1}")
                peers.append(peer)
                echo(peer, b"%d\n" % i, say("the echo to client {n} of 50", "给第 {n} 个客户端（共 50 个）的回显",
                                            n=i + 1))
        threads = server.proc.threads()
        kids = server.proc.children()
        if kids:
            raise CheckFailed(say("with 50 clients connected, server.py has {n} child processes: "
                                  "this exercise serves them all from one process",
                                  "50 个客户端连着时，server.py 有 {n} 个子进程：这个练习要在一个进程里服务所有客户端",
                                  n=len(kids)), expected=0, got=len(kids))
        if threads != 1:
            raise CheckFailed(say("with 50 clients connected, server.py runs {n} OS threads",
                                  "50 个客户端连着时，server.py 运行着 {n} 个操作系统线程", n=threads),
                              expected=1, got=threads)
    finally:
        for peer in peers:
            peer.close()


@check(points=2, title=say("sleeps while nothing happens (no busy loop)",
                           "无事可做时睡眠（没有忙循环）"), hint=HINT_SLEEP)
def test_idle_server_sleeps(student):
    server = student.server("server.py")
    with watching(server), connect(server, "idle client") as peer:
        echo(peer, b"then silence\n", say("the echo to the client that then stays silent",
                                          "给之后一直沉默的那个客户端的回显"))
        looks = busy_looks(server.proc.pid, looks=20, gap=0.015)
        if looks.busy:
            ticks = looks.ticks
            raise CheckFailed(say(
                "with one silent client connected and nothing to do, server.py was running or "
                "waiting for a CPU at {r} of {n} looks and used {t} CPU ticks meanwhile: it polls "
                "instead of sleeping until a socket is ready",
                "只有一个沉默的客户端连着、无事可做时，server.py 在 {n} 次观察中有 {r} 次正在运行或等着 CPU，"
                "期间用掉了 {t} 个 CPU 时钟滴答：它在轮询，而不是睡到有套接字就绪为止",
                r=looks.runnable, n=looks.looks, t=ticks))
        if not server.alive():
            raise CheckFailed(say("{what} while a client was connected",
                                  "{what}，当时还有一个客户端连着", what=server.proc.describe()))


# -- hidden checks -----------------------------------------------------------------------------

SLOW_SIZE = 4 * MIB


@check(points=2, hidden=True, title=say("serves another client while a slow reader's 4 MiB waits",
                                        "慢速读者的 4 MiB 还在等着发送时，照样服务另一个客户端"),
       hint=HINT_NONBLOCK)
def test_slow_reader_does_not_block_others(student):
    server = student.server("server.py")
    data = payload(SLOW_SIZE, seed=4)
    with watching(server), slow_reader(server) as slow:
        push(server, slow, data, half_close=False,
             what=say("a slow client sent 4 MiB and read nothing yet",
                      "一个慢速客户端发了 4 MiB，还一个字节都没读"))
        q = queues(slow.sock)
        held = q.held(len(data), 0) if q else None
        with connect(server, "second client") as other:
            msg = b"anyone there?\n"
            other.send(msg)
            other.expect(msg, say(
                "the echo to a second client while the server still holds {held} bytes of echo "
                "for the slow client, which is not reading",
                "服务器手里还压着给慢速客户端的 {held} 字节回显（那个客户端没在读）时，给第二个客户端的回显",
                held=held if held is not None else "?"), sent=msg, hint=HINT_NONBLOCK)


@check(points=2, hidden=True, title=say("a slow reader gets every byte of its 4 MiB echo",
                                        "慢速读者一个字节不少地收到 4 MiB 的回显"), hint=HINT_PARTIAL)
def test_slow_reader_gets_every_byte(student):
    server = student.server("server.py")
    data = payload(SLOW_SIZE, seed=5)
    what = say("the echo of 4 MiB to a slow reader", "发给慢速读者的 4 MiB 回显")
    with watching(server), slow_reader(server) as slow:
        push(server, slow, data, half_close=True,
             what=say("a slow client sent 4 MiB, shut its side and read nothing yet",
                      "一个慢速客户端发了 4 MiB、关闭了发送方向，还一个字节都没读"))
        reply = slow.recv_until_eof(timeout=20, limit=len(data) + MIB)
        compare_echo(data, reply, what)
        if not slow.ended.gone:
            raise CheckFailed(say("{what}: every byte came back, but then the server did not close "
                                  "the connection ({why})",
                                  "{what}：每个字节都回来了，但之后服务器没有关闭连接（{why}）",
                                  what=what, why=slow.ended.text()), hint=HINT_EOF)


@check(points=2, hidden=True, title=say("clients that vanish - closed, reset, reset with echo "
                                        "pending - leave nothing behind",
                                        "客户端以各种方式消失（关闭、重置、回显未发完时重置）后不留任何残余"),
       hint=HINT_VANISH)
def test_clients_vanishing(student):
    server = student.server("server.py")
    pid = server.proc.pid
    with watching(server):
        with connect(server, "first client") as peer:
            echo(peer, b"first\n", say("the echo to the first client", "给第一个客户端的回显"))
        baseline = socket_fds(pid)
        story = []
        for i in range(5):  # closed without a word
            peer = connect(server, f"silent client {i + 1}")
            peer.close()
        story.append(say("5 clients connected and closed without sending",
                         "5 个客户端连上后什么也没发就关闭了"))
        for i in range(5):  # sent something, reset without reading the echo
            peer = connect(server, f"rude client {i + 1}")
            peer.send(payload(8192, seed=i))
            peer.reset()
        story.append(say("5 clients sent 8 KiB each and reset the connection without reading",
                         "5 个客户端各发了 8 KiB，没读回显就重置了连接"))
        for i in range(3):  # reset while the server holds most of their echo
            slow = slow_reader(server, f"vanishing slow client {i + 1}")
            push(server, slow, payload(MIB, seed=9 + i), half_close=False,
                 what=say("slow client {n} sent 1 MiB and read nothing",
                          "第 {n} 个慢速客户端发了 1 MiB，一个字节都没读", n=i + 1))
            slow.reset()
        story.append(say("3 slow clients sent 1 MiB each, read none of the echo and reset the "
                         "connection while the server still had most of it to send",
                         "3 个慢速客户端各发了 1 MiB，一个字节回显都没读，就在服务器还有大部分回显没发完时重置了连接"))
        said = "; ".join(str(s) for s in story)
        for i in range(10):
            with connect(server, f"next client {i + 1}") as peer:
                msg = b"next client %d\n" % (i + 1)
                peer.send(msg)
                peer.expect(msg, say("the echo to new client {n} after this: {story}",
                                     "在这之后给第 {n} 个新客户端的回显：{story}", n=i + 1, story=said),
                            sent=msg)
                peer.shutdown_write()
                peer.expect_eof(say("new client {n} shut its side: the server should close too",
                                    "第 {n} 个新客户端关闭了发送方向：服务器也应当关闭连接", n=i + 1),
                                hint=HINT_EOF)
    if baseline is None:
        return  # /proc does not say here
    end = time.monotonic() + 5
    now = socket_fds(pid)
    while now is not None and now > baseline and time.monotonic() < end:
        time.sleep(0.01)  # polling /proc with a deadline: a closed socket leaves within ms
        now = socket_fds(pid)
    if now is not None and now > baseline:
        raise CheckFailed(say("after every client left, server.py still holds {n} more sockets than "
                              "before they came: sockets of clients that are gone were never closed",
                              "所有客户端都走了之后，server.py 手里的套接字比它们来之前还多 {n} 个："
                              "已经离开的客户端的套接字从来没有关闭",
                              n=now - baseline), expected=baseline, got=now)
