"""asyncio_echo: the graded suite. server.py runs as a process and the test's clients are line
peers on loopback; client.py runs against a HoldingServer (grader/harness/holding.py), which
holds every request until all of them are in flight at once.

Nothing is timed. A handler that blocks the event loop shows as a second client that gets no
echo while the first one's WAIT runs. Back-pressure is read from the kernel
(grader/harness/ioview.py): a client that reads nothing sends 64 MiB, and the test counts the
bytes the server has read and not yet written back - what sits in its own buffers. With
`await writer.drain()` that stays under a few hundred KiB, and the server then sleeps while the
client's bytes wait unread in its socket; without it, the server swallows everything.
"""
from __future__ import annotations

import contextlib
import random
import signal
import socket
import threading
import time

from grader.harness import CheckFailed, Peer, check, say
from grader.harness.holding import HoldingServer
from grader.harness.ioview import queues, sleeping
from grader.harness.lines import LinePeer

MIB = 1 << 20
GOODBYE = b"* server shutting down\n"
IDLE = b"* idle timeout\n"

# -- hints -----------------------------------------------------------------------------------

HINT_ECHO = say(
    "asyncio.start_server(handle, host, port) calls `async def handle(reader, writer)` in a "
    "task of its own for each client: line = await reader.readline(), writer.write(line), "
    "await writer.drain(), until readline() returns b''",
    "asyncio.start_server(handle, host, port) 为每个客户端在单独的任务里调用 "
    "`async def handle(reader, writer)`：line = await reader.readline()，writer.write(line)，"
    "await writer.drain()，直到 readline() 返回 b''")
HINT_CLOSE = say(
    "when a client is done, close its connection: writer.close() and await writer.wait_closed() "
    "in a finally: - returning from the handler does not close anything",
    "客户端结束后要关闭它的连接：在 finally: 里 writer.close()，再 await writer.wait_closed()——"
    "仅仅从 handler 返回，什么都不会关闭")
HINT_TASKS = say(
    "every connection is a task on the same event loop, in the same thread: await, never block. "
    "A coroutine costs a few KiB, not a thread",
    "每个连接都是同一个事件循环、同一个线程里的一个任务：要 await，绝不能阻塞。一个协程只花几 KiB，"
    "而不是一个线程")
HINT_SLEEP = say(
    "time.sleep() (or any blocking call) inside a coroutine stops the whole event loop - every "
    "client waits. await asyncio.sleep() lets the loop run the others meanwhile",
    "在协程里调用 time.sleep()（或任何阻塞的调用）会让整个事件循环停下——所有客户端都得等着。"
    "await asyncio.sleep() 才能让事件循环在这期间去运行别的任务")
HINT_GATHER = say(
    "asyncio.gather(*(request(line) for line in lines)) starts every request at once and "
    "returns the replies in the order of the lines; `for line in lines: await request(line)` "
    "sends the next one only after the last reply",
    "asyncio.gather(*(request(line) for line in lines)) 让所有请求同时开始，并按行的顺序返回回复；"
    "`for line in lines: await request(line)` 要等上一个回复到了才发下一个")
HINT_DRAIN = say(
    "writer.write() only appends to the transport's buffer and never waits: `await "
    "writer.drain()` after it pauses this handler while the client is slow to read, so the "
    "server stops reading from it too (back-pressure) instead of buffering without end",
    "writer.write() 只是把数据追加到传输层的缓冲区，从不等待：在它之后 `await writer.drain()`，"
    "客户端读得慢时这个 handler 就会暂停，服务器也就不再从它那里读数据（背压），而不是无止境地缓冲下去")
HINT_IDLE = say(
    "line = await asyncio.wait_for(reader.readline(), idle_timeout): on asyncio.TimeoutError "
    "send b'* idle timeout\\n' and close that connection",
    "line = await asyncio.wait_for(reader.readline(), idle_timeout)：捕获到 asyncio.TimeoutError 时"
    "发送 b'* idle timeout\\n'，然后关闭这个连接")
HINT_SHUTDOWN = say(
    "loop.add_signal_handler(signal.SIGTERM, stop.set); after `await stop.wait()`: "
    "server.close(), cancel every handler task - each one, on CancelledError, writes "
    "b'* server shutting down\\n' and closes its writer - gather them, and return from main",
    "loop.add_signal_handler(signal.SIGTERM, stop.set)；`await stop.wait()` 之后：server.close()，"
    "取消每个 handler 任务——每个任务在 CancelledError 时写出 b'* server shutting down\\n' 并关闭自己的 "
    "writer——再 gather 它们，然后从 main 返回")


def payload(n: int, seed: int = 7) -> bytes:
    return random.Random(seed).randbytes(n)


def start(student, idle: str = "60"):
    return student.server("server.py", "--idle-timeout", idle)


@contextlib.contextmanager
def watching(server):
    """A failure inside says so if the server has died meanwhile (its stderr follows)."""
    try:
        yield
    except CheckFailed as exc:
        proc = server.proc
        if proc.alive():
            proc.wait(0.2)
        if not proc.alive():
            first, _, rest = str(exc.args[0]).partition("\n")
            first += str(say(" - meanwhile {what}", "——与此同时，{what}", what=proc.describe()))
            exc.args = ("\n".join(filter(None, [first, rest])), *exc.args[1:])
        raise


def line_peer(server, name: str) -> LinePeer:
    peer = Peer.connect(server.addr, name=name)
    return LinePeer(peer.sock, name)


def echo(peer: LinePeer, line: bytes, what, hint=None, timeout: float = 3.0) -> None:
    peer.send(line)
    peer.expect_line(line, what, sent=line, hint=hint, timeout=timeout)


def wait_read(peer: Peer, n: int, server) -> None:
    """Until the server has read the `n` bytes sent on `peer` (the kernel says so)."""
    end = time.monotonic() + 5
    while time.monotonic() < end and server.alive():
        q = queues(peer.sock)
        if q is None or (q.their_read is not None and q.their_read >= n and q.their_unread == 0):
            return
        time.sleep(0.002)  # polling the kernel's socket table, with a deadline


# -- visible checks ----------------------------------------------------------------------------

@check(points=1, title=say("echoes lines, then closes when the client is done",
                           "回显每一行，客户端结束后关闭连接"), hint=HINT_ECHO)
def test_echoes_lines(student):
    server = start(student)
    with watching(server), line_peer(server, "test client") as peer:
        echo(peer, b"hello, asyncio\n", say("the echo of the first line", "第一行的回显"))
        echo(peer, "第二行\n".encode("utf-8"), say("the echo of the second line", "第二行的回显"))
        peer.shutdown_write()
        peer.expect_eof(say("the client shut its side: the server should close the connection",
                            "客户端关闭了自己的发送方向：服务器应当关闭这个连接"), hint=HINT_CLOSE)


@check(points=2, title=say("100 clients at once on one thread", "一个线程同时服务 100 个客户端"),
       hint=HINT_TASKS)
def test_many_clients_one_thread(student):
    server = start(student)
    peers: list[LinePeer] = []
    try:
        with watching(server):
            first = line_peer(server, "client 1")
            peers.append(first)
            echo(first, b"client 1\n", say("the echo to client 1", "给第 1 个客户端的回显"))
            baseline = server.proc.threads()  # asyncio may keep a helper thread (getaddrinfo)
            for i in range(1, 100):
                peer = line_peer(server, f"client {i + 1}")
                peers.append(peer)
                echo(peer, b"client %d\n" % (i + 1),
                     say("the echo to client {n} while clients 1 to {k} are still connected",
                         "客户端 1 到 {k} 都还连着时，给第 {n} 个客户端的回显", n=i + 1, k=i))
            for i in reversed(range(100)):
                echo(peers[i], b"again %d\n" % (i + 1),
                     say("a second echo to client {n} of 100, all still connected",
                         "100 个客户端都还连着时，给第 {n} 个客户端的第二次回显", n=i + 1))
            now = server.proc.threads()
            if now > baseline:
                raise CheckFailed(say("server.py ran {b} OS threads with 1 client and {n} with 100: "
                                      "its connections are not tasks on one event loop",
                                      "server.py 在 1 个客户端时运行 {b} 个操作系统线程，100 个客户端时是 "
                                      "{n} 个：它的连接不是同一个事件循环上的任务", b=baseline, n=now),
                                  expected=baseline, got=now)
    finally:
        for peer in peers:
            peer.close()


@check(points=2, title=say("one client's WAIT does not stall another client",
                           "一个客户端的 WAIT 不会卡住另一个客户端"), hint=HINT_SLEEP)
def test_wait_does_not_stall_others(student):
    server = start(student)
    with watching(server), line_peer(server, "waiting client") as waiting:
        waiting.send(b"WAIT 30\n")
        wait_read(waiting, 8, server)
        with line_peer(server, "second client") as other:
            try:
                echo(other, b"hello?\n", say(
                    "the echo to a second client while the first one's `WAIT 30` runs",
                    "第一个客户端的 `WAIT 30` 还在进行时，给第二个客户端的回显"))
            except CheckFailed:
                server.proc.collect_stacks()  # where the event loop is stuck, for the feedback
                raise
        with line_peer(server, "third client") as short:
            short.send(b"WAIT 0.05\n")
            short.expect_line(b"WAITED 0.05\n", say("the answer to `WAIT 0.05`", "对 `WAIT 0.05` 的回答"),
                              sent=b"WAIT 0.05\n", timeout=10)


@check(points=2, title=say("client.py has all its requests in flight at once, replies in order",
                           "client.py 让所有请求同时在途，并按顺序打印回复"), hint=HINT_GATHER)
def test_client_gathers(student):
    lines = [b"request %d" % i for i in range(1, 9)]
    with HoldingServer(parties=len(lines)) as hs:
        run = student.run("client.py", "--host", hs.host, "--port", str(hs.port),
                          input=b"\n".join(lines) + b"\n", timeout=20)
        peak, came = hs.peak, len(hs.requests)
    if peak < len(lines):
        raise CheckFailed(say("at most {peak} of the {n} requests were in flight at once: the "
                              "test server held each one until all {n} had arrived, but the next "
                              "came only after a reply",
                              "{n} 个请求中最多只有 {peak} 个同时在途：测试服务器把每个请求都压住，"
                              "要等 {n} 个全部到达，而下一个请求却总是等到有回复之后才来",
                              peak=peak, n=len(lines)),
                          expected=len(lines), got=peak)
    if run.returncode != 0:
        raise CheckFailed(say("client.py exited with code {rc}", "client.py 退出了，退出码为 {rc}",
                              rc=run.returncode), got=run.stderr[-600:] or None)
    expected = b"".join(line + b"\n" for line in lines)
    if run.stdout != expected:
        detail = None
        if sorted(run.stdout.splitlines()) == sorted(lines):
            detail = say("the right replies in the wrong order: the test server answered in the "
                         "reverse of the order the requests came; print in the order of the lines",
                         "回复都对，顺序不对：测试服务器是按请求到达的相反顺序回答的；要按行的顺序打印")
        raise CheckFailed(say("client.py's output for {n} lines ({came} requests came)",
                              "client.py 对 {n} 行输入的输出（收到了 {came} 个请求）",
                              n=len(lines), came=came),
                          expected=expected, got=run.stdout, detail=detail)


# -- hidden checks -----------------------------------------------------------------------------

FLOOD = 64 * MIB
HELD_LIMIT = 16 * MIB


@check(points=2, hidden=True, title=say("back-pressure: stops reading from a client that does not "
                                        "read (await writer.drain())",
                                        "背压：客户端不读数据时就不再从它那里读（await writer.drain()）"),
       hint=HINT_DRAIN)
def test_drain_backpressure(student):
    server = start(student)
    sock = socket.socket(socket.AF_INET6 if ":" in server.host else socket.AF_INET)
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 536)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(3)
    sock.connect(server.addr)
    peer = Peer(sock, "slow client")
    line = b"x" * 1023 + b"\n"
    chunk = line * 64
    sent = [0]
    stop = threading.Event()

    def flood() -> None:
        sock.settimeout(None)
        try:
            while sent[0] < FLOOD and not stop.is_set():
                sock.sendall(chunk)
                sent[0] += len(chunk)
        except OSError:
            pass

    sender = threading.Thread(target=flood, daemon=True)
    sender.start()
    try:
        with watching(server):
            end = time.monotonic() + 20
            same, last = 0, None
            while True:
                q = queues(sock)
                if q is None:
                    raise CheckFailed(say("the server closed the connection of a client that was "
                                          "sending lines and not reading",
                                          "一个只发不读的客户端，它的连接被服务器关闭了"))
                held = q.held(sent[0], 0)
                if held > HELD_LIMIT:
                    raise CheckFailed(say(
                        "a client sent line after line and read none of the echo: the server read "
                        "{read} MiB and holds {held} MiB of echo in its own memory, and keeps "
                        "reading. Nothing stops it: it would swallow any amount",
                        "一个客户端不停地发送一行又一行，却一个字节回显都不读：服务器读进了 {read} MiB，"
                        "自己的内存里压着 {held} MiB 回显，而且还在继续读。没有任何东西让它停下：多少数据它都会吞下去",
                        read=(q.their_read or 0) >> 20, held=held >> 20))
                asleep = q.their_unread > 0 and sleeping(server.proc.pid)
                same = same + 1 if asleep and q.their_unread == last else 0
                last = q.their_unread if asleep else None
                if same >= 3:
                    break  # it stopped reading: back-pressure, with only `held` in its hands
                if time.monotonic() > end:
                    raise CheckFailed(say("after 20 s of a client sending and not reading, the "
                                          "server neither stopped reading nor ran out of room",
                                          "客户端只发不读 20 秒之后，服务器既没有停止读取，也没有耗尽空间"))
                time.sleep(0.005)  # polling the kernel's socket table, with a deadline
            got = peer.recv_exact(256 * 1024, timeout=10)
            if got != (line * 256)[:len(got)] or len(got) < 256 * 1024:
                raise CheckFailed(say("once the client read again, the first 256 KiB of echo",
                                      "客户端重新开始读取之后，回显的前 256 KiB"),
                                  expected=(line * 256), got=got, hint=HINT_ECHO)
    finally:
        stop.set()
        peer.reset()


@check(points=1, hidden=True, title=say("closes a client silent for --idle-timeout seconds",
                                        "关闭沉默超过 --idle-timeout 秒的客户端"), hint=HINT_IDLE)
def test_idle_timeout(student):
    server = start(student, idle="1")
    with watching(server), line_peer(server, "silent client") as silent:
        echo(silent, b"then silence\n", say("the echo before the silence", "沉默之前的回显"))
        with line_peer(server, "busy client") as busy:
            echo(busy, b"still here\n", say("the echo to another client", "给另一个客户端的回显"))
        silent.expect_line(IDLE, say("what a client silent for over --idle-timeout 1 s gets",
                                     "沉默超过 --idle-timeout 1 秒的客户端收到的内容"), timeout=10)
        silent.expect_eof(say("after the idle notice the server should close the connection",
                              "发出空闲超时通知之后，服务器应当关闭连接"), hint=HINT_CLOSE)


@check(points=2, hidden=True, title=say("SIGTERM: every client told and disconnected, exit code 0",
                                        "SIGTERM：通知每个客户端并断开连接，退出码为 0"), hint=HINT_SHUTDOWN)
def test_shutdown_closes_everything(student):
    server = start(student)
    peers: list[LinePeer] = []
    try:
        with watching(server):
            for i in range(5):
                peer = line_peer(server, f"client {i + 1}")
                peers.append(peer)
                echo(peer, b"client %d\n" % (i + 1), say("the echo to client {n}", "给第 {n} 个客户端的回显",
                                                         n=i + 1))
            waiting = line_peer(server, "waiting client")
            peers.append(waiting)
            waiting.send(b"WAIT 30\n")
            wait_read(waiting, 8, server)
        server.proc.signal_group(signal.SIGTERM)
        with watching(server):  # killed by SIGTERM itself: the feedback says so
            for peer in peers:
                who = peer.name
                peer.expect_line(GOODBYE, say("what {who} gets when the server is sent SIGTERM",
                                              "服务器收到 SIGTERM 时 {who} 收到的内容", who=who),
                                 timeout=5)
                peer.expect_eof(say("after the goodbye the server should close {who}'s connection",
                                    "告别之后，服务器应当关闭 {who} 的连接", who=who))
        rc = server.proc.wait(5)
        if rc != 0:
            raise CheckFailed(say("after SIGTERM, server.py {state}", "收到 SIGTERM 之后，server.py {state}",
                                  state=server.proc.state()), expected=0, got=rc)
    finally:
        for peer in peers:
            peer.close()
