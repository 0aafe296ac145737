"""gevent_convert: the graded suite.

server.py and fetch.py run as processes started fresh (a new interpreter, not a fork of the
judge's zygote), so gevent's monkey patching happens in the student's process and nowhere else;
GEVENT_RESOLVER=block keeps gevent's resolver thread pool out of the thread counts. Each is
started through the check's probe (netlab_probe.py, installed into the working copy): it runs
the student's script as __main__ and, at the script's first TCP bind or connect (an audit hook),
reports to the check's rendezvous service whether gevent had patched socket, threading, time
and select, and whether that socket is gevent's.

Concurrency is observed, never timed:
- the server: 100 clients connect and each sends a line; the echoes are read last client
  first, while every other client is still connected (a server that serves one client at a
  time never answers the last one); /proc counts its OS threads at 10 and at 200 clients.
- the client: a slow server (grader/harness/slow_server.py) holds every request until it holds
  all of them at once, so fetch.py gets its answers only if all its requests are in flight
  together; meanwhile /proc counts its threads, and the server sees whether each connection
  is closed once answered.
"""
from __future__ import annotations

import contextlib
import random

from grader.harness import CheckFailed, Peer, check, say, show
from grader.harness.slow_server import SlowServer

ENV = {"GEVENT_RESOLVER": "block"}  # gevent's default resolver is a pool of OS threads
PATIENCE = 5  # seconds for all requests to be in flight (they take milliseconds when they are)

PROBE = '''
"""The check's probe (installed by the check, not yours): runs your script as __main__ and
tells the check, at your script's first TCP bind or connect, what gevent had patched by then."""
import json
import os
import runpy
import sys

import _socket

SCRIPT = os.environ.pop("NETLAB_PROBE_SCRIPT")
SERVICE = os.path.join(os.path.dirname(os.path.abspath(__file__)), ".netlab_rv.sock")
_told = False


def _tell(name, **data):
    s = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)  # not gevent's: never patched
    try:
        s.settimeout(10)
        s.connect(SERVICE)
        s.sendall(json.dumps({"op": "log", "event": name, "pid": os.getpid(), "tid": 0,
                              "data": data}).encode() + b"\\n")
        s.recv(4096)
    except OSError:
        pass
    finally:
        s.close()


def _hook(event, args):
    global _told
    if _told or event not in ("socket.bind", "socket.connect"):
        return
    if not isinstance(args[1], tuple):  # a Unix socket: not your TCP socket
        return
    _told = True
    monkey = sys.modules.get("gevent.monkey")
    patched = {name: bool(monkey is not None and monkey.is_module_patched(name))
               for name in ("socket", "threading", "time", "select")}
    kind = type(args[0])
    _tell("first_socket", call=event.split(".")[1], patched=patched,
          imported=monkey is not None, cooperative=kind.__module__.startswith("gevent"),
          kind=kind.__module__ + "." + kind.__qualname__)


sys.addaudithook(_hook)
sys.argv = [SCRIPT] + sys.argv[1:]
try:
    runpy.run_path(SCRIPT, run_name="__main__")
except SystemExit:
    raise
except BaseException as exc:  # your traceback, from your script's first frame (not ours)
    import traceback
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != SCRIPT:
        tb = tb.tb_next
    traceback.print_exception(type(exc), exc, tb or exc.__traceback__)
    sys.exit(1)
'''

HINT_ECHO = say(
    "in each client's greenlet: recv() and sendall() until recv() returns b'', then close the "
    "connection (a with block) - the client waits for that close",
    "在每个客户端的 greenlet 里：循环 recv() 和 sendall()，直到 recv() 返回 b''，然后关闭连接（用 with "
    "语句）——客户端在等这次关闭")
HINT_PATCH = say(
    "the first two lines: from gevent import monkey; monkey.patch_all() - with the parentheses, "
    "before anything creates a socket or imports one by name (from socket import socket)",
    "最开始的两行：from gevent import monkey; monkey.patch_all()——要带括号，而且要在创建任何套接字、"
    "按名字导入任何东西（from socket import socket）之前")
HINT_MANY = say(
    "with patched sockets, accept(), recv() and sendall() wait in gevent's hub and another "
    "greenlet runs meanwhile: gevent.spawn(handle, conn) for each client, never a blocking call "
    "of an unpatched socket",
    "打过补丁的套接字上，accept()、recv() 和 sendall() 都在 gevent 的 hub 里等待，其间别的 greenlet "
    "照常运行：每个客户端 gevent.spawn(handle, conn) 一个 greenlet，绝不能调用没打补丁的套接字上会阻塞的方法")
HINT_THREADS = say(
    "a greenlet is not an OS thread: gevent.spawn() for each client or request, no "
    "threading.Thread or thread pool, and monkey.patch_all() without thread=False - then the "
    "process keeps one thread however many there are",
    "greenlet 不是操作系统线程：每个客户端、每个请求都用 gevent.spawn()，不要用 threading.Thread 或线程池，"
    "monkey.patch_all() 也不要加 thread=False——这样不管有多少个，进程都只有一个线程")
HINT_FETCH = say(
    "for each path: connect, send b'GET <path>\\n', read up to the b'\\n', close; print the answers "
    "in the order of the paths, one a line",
    "对每个 path：连接、发送 b'GET <path>\\n'、读到 b'\\n' 为止、关闭连接；按 path 的顺序打印回答，每行一个")
HINT_AT_ONCE = say(
    "spawn every request first, then gevent.joinall(jobs): a job.join() (or job.get()) right "
    "after its spawn waits for that request before the next one starts",
    "先把所有请求都 spawn 出去，再 gevent.joinall(jobs)：spawn 之后紧接着 job.join()（或 job.get()），"
    "会等这个请求完成之后才开始下一个")
HINT_CLOSE = say(
    "the server keeps a connection open for more requests: close yours once you have its answer "
    "(with socket.create_connection(...) as sock:)",
    "服务端会把连接留着等更多的请求：拿到回答之后，要由你来关闭自己的连接"
    "（with socket.create_connection(...) as sock:）")


def nclients(n: int):
    return say("{n} client" if n == 1 else "{n} clients", "{n} 个客户端", n=n)


def nthreads(n: int):
    return say("{n} thread" if n == 1 else "{n} threads", "{n} 个线程", n=n)


def probed(student):
    """The check's rendezvous service with the probe installed."""
    rv = student.rendezvous()
    rv.install("netlab_probe.py", PROBE)
    return rv


def start_server(student):
    rv = probed(student)
    server = student.server("netlab_probe.py", name="server.py", fresh=True, ready_timeout=20,
                            env={**ENV, "NETLAB_PROBE_SCRIPT": "server.py"})
    return rv, server


def start_fetch(student, slow: SlowServer, paths: list[str]):
    rv = probed(student)
    proc = student.spawn("netlab_probe.py", "--host", slow.host, "--port", str(slow.port),
                         *paths, name="fetch.py", fresh=True, wall_seconds=40,
                         env={**ENV, "NETLAB_PROBE_SCRIPT": "fetch.py"})
    return rv, proc


def line(i: int, part: int) -> bytes:
    return f"client {i} says {part}: {random.Random(i * 7 + part).randbytes(6).hex()}\n".encode()


def first_socket(rv, what: str):
    """What the probe saw at the script's first TCP bind/connect, or feedback if it saw none."""
    if not rv.wait_for(lambda r: r.log_of("first_socket"), timeout=5):
        raise CheckFailed(say("{what} never made a TCP socket", "{what} 从来没有创建过 TCP 套接字",
                              what=what), hint=HINT_PATCH)
    return rv.log_of("first_socket")[0]["data"]


def judge_patching(seen: dict, what: str, action) -> None:
    """Fail unless gevent had patched socket (and the socket used is gevent's) at that moment."""
    patched = seen.get("patched", {})
    names = ", ".join(f"{name}: {'yes' if on else 'no'}" for name, on in patched.items())
    got = say("patched when {what} {action} its first socket: {names}; the socket is {kind}",
              "{what} {action}第一个套接字时的补丁情况：{names}；套接字的类型是 {kind}",
              what=what, action=action, names=names, kind=seen.get("kind", "?"))
    expected = say("socket patched by gevent, and the socket gevent's own",
                   "socket 模块已被 gevent 打上补丁，套接字是 gevent 的套接字")
    if not seen.get("imported"):
        raise CheckFailed(say("{what} had not imported gevent.monkey when it {action} its first "
                              "socket", "{what} {action}第一个套接字的时候还没有导入 gevent.monkey",
                              what=what, action=action),
                          expected=expected, got=got, hint=HINT_PATCH)
    if not any(patched.values()):
        raise CheckFailed(say("{what} imported gevent.monkey, but nothing was patched yet when "
                              "it {action} its first socket",
                              "{what} 导入了 gevent.monkey，可是{action}第一个套接字时还什么补丁都没打",
                              what=what, action=action),
                          expected=expected, got=got,
                          detail=say("monkey.patch_all without () names the function and does "
                                     "nothing; monkey.patch_all() called after the socket was "
                                     "made is too late for that socket",
                                     "不带括号的 monkey.patch_all 只是提到了这个函数，什么也没做；在套接字"
                                     "创建之后才调用 monkey.patch_all()，对这个套接字来说已经太晚了"),
                          hint=HINT_PATCH)
    if not patched.get("socket") or not seen.get("cooperative"):
        raise CheckFailed(say("{what} {action} its first socket before gevent's patches were in "
                              "place for it: that socket blocks the whole process",
                              "{what} 在 gevent 的补丁对它生效之前就{action}了第一个套接字：这个套接字会"
                              "阻塞整个进程", what=what, action=action),
                          expected=expected, got=got, hint=HINT_PATCH)


@contextlib.contextmanager
def blocking_explained(rv, what: str):
    """A failure of a program whose first socket was not gevent's gets the hint that fits:
    that socket's blocking calls stop every greenlet."""
    try:
        yield
    except CheckFailed as exc:
        seen = (rv.log_of("first_socket") or [{"data": {}}])[0]["data"]
        if not seen or (seen.get("cooperative") and seen.get("patched", {}).get("socket")):
            raise
        lines = exc.args[0].split("\n")
        if exc.hint:
            lines = lines[:-1]
        raise CheckFailed("\n".join(lines) + "\n  " + str(say(
            "{what}'s first socket was not gevent's (nothing was patched yet): its blocking "
            "calls stop the whole process, every greenlet with it",
            "{what} 的第一个套接字不是 gevent 的（那时还什么补丁都没打）：它的阻塞调用会让整个进程、"
            "连同所有 greenlet 一起停下来", what=what)), hint=HINT_PATCH) from None


@contextlib.contextmanager
def threads_explained(proc):
    """A failure while the server runs several OS threads gets the hint that fits: a socket
    made by gevent in one thread cannot be used from another ('Cannot switch to a different
    thread'), and a thread per client is what gevent replaces."""
    try:
        yield
    except CheckFailed as exc:
        threads = proc.threads()
        if threads <= 1:
            raise
        lines = exc.args[0].split("\n")
        if exc.hint:
            lines = lines[:-1]
        raise CheckFailed("\n".join(lines) + "\n  " + str(say(
            "server.py was running {n} then: a greenlet per client needs no thread, and a "
            "gevent socket cannot be used from another OS thread than its own",
            "那时 server.py 正运行着 {n}：每个客户端一个 greenlet 用不着线程，而 gevent 的套接字也不能"
            "在创建它的线程之外的操作系统线程里使用", n=nthreads(threads))),
            hint=HINT_THREADS) from None


# -- server.py ------------------------------------------------------------------------------

@check(points=2, hint=HINT_ECHO,
       title=say("server.py echoes what a client sends and closes when it is done",
                 "server.py 回显客户端发来的数据，客户端说完后关闭连接"))
def test_server_echoes(student):
    rv, server = start_server(student)
    for data in (b"hello gevent\n", bytes(range(256)) * 64):
        with blocking_explained(rv, "server.py"), Peer.connect(server.addr) as peer:
            peer.exchange(data, say("the echo of {n} bytes", "{n} 字节数据的回显", n=len(data)),
                          expected=data, timeout=3)


@check(points=1, hint=HINT_PATCH,
       title=say("server.py patches with monkey.patch_all() before it makes its socket",
                 "server.py 在创建套接字之前先调用 monkey.patch_all() 打补丁"))
def test_server_patches_first(student):
    rv, server = start_server(student)
    judge_patching(first_socket(rv, "server.py"), "server.py",
                   say("bound", "绑定"))


@check(points=3, hint=HINT_MANY, time_limit=40,
       title=say("server.py serves 100 clients at once, in one process",
                 "server.py 在一个进程里同时服务 100 个客户端"))
def test_server_many_clients(student):
    rv, server = start_server(student)
    n = 100
    with blocking_explained(rv, "server.py"), contextlib.ExitStack() as stack:
        peers = [stack.enter_context(Peer.connect(server.addr, timeout=5)) for _ in range(n)]
        for i, peer in enumerate(peers, 1):
            peer.send(line(i, 1))
        for i in range(n, 0, -1):  # the last client first: all the others are still there
            data = line(i, 1)
            got = peers[i - 1].recv_exact(len(data), timeout=3)
            if got != data:
                raise CheckFailed(
                    say("with {n} connected and each having sent a line, client {i} got no "
                        "echo ({why})", "{n}都已连上并各自发了一行之后，客户端 {i} 没有收到回显（{why}）",
                        n=nclients(n), i=i, why=peers[i - 1].ended.text()),
                    sent=data, expected=data, got=got, has_got=True,
                    detail=say("the clients' echoes are read last client first, while every "
                               "other client is still connected: a server that serves one "
                               "client at a time never gets to the last",
                               "回显是从最后一个客户端开始读的，其他客户端都还连着：一次只服务一个客户端的"
                               "服务器永远轮不到最后一个"),
                    hint=HINT_MANY)
        for i, peer in enumerate(peers, 1):
            data = line(i, 2)
            peer.exchange(data, say("client {i}'s second line, then its close",
                                    "客户端 {i} 的第二行，然后关闭", i=i), expected=data, timeout=3)


@check(points=2, hidden=True, hint=HINT_THREADS, time_limit=40,
       title=say("server.py keeps its OS threads from 10 clients to 200",
                 "从 10 个客户端到 200 个，server.py 的操作系统线程数不变"))
def test_server_threads_stay_flat(student):
    rv, server = start_server(student)
    counts = {}
    with blocking_explained(rv, "server.py"), threads_explained(server.proc), \
            contextlib.ExitStack() as stack:
        peers = []
        for total in (10, 200):
            while len(peers) < total:
                peers.append(stack.enter_context(Peer.connect(server.addr, timeout=5)))
            for i, peer in enumerate(peers, 1):
                data = line(i, total)
                peer.send(data)
                peer.expect(data, say("the echo to client {i} of {n}", "{n}中客户端 {i} 的回显",
                                      i=i, n=nclients(total)), sent=data, timeout=3,
                            hint=HINT_THREADS)
            counts[total] = server.proc.threads()
    if counts[200] > counts[10]:
        raise CheckFailed(
            say("server.py's OS threads grew with its clients", "server.py 的操作系统线程随客户端增加了"),
            expected=say("as many threads at 200 clients as at 10", "200 个客户端时的线程数与 10 个时一样"),
            got=say("{a} with 10 clients, {b} with 200", "10 个客户端时 {a}，200 个时 {b}",
                    a=nthreads(counts[10]), b=nthreads(counts[200])),
            hint=HINT_THREADS)


# -- fetch.py -------------------------------------------------------------------------------

def answers_of(proc, slow: SlowServer, paths: list[str], hint) -> None:
    """fetch.py must exit 0 with the answers, one a line, in the order of the paths."""
    rc = proc.wait(30)
    if rc is None:
        raise CheckFailed(say("fetch.py did not finish within 30 s after its answers were sent",
                              "回答都发出之后，fetch.py 在 30 秒内没有结束"), hint=hint)
    want = [slow.body(p) for p in paths]
    got = proc.output().decode("utf-8", "replace").splitlines()
    if got != want:
        first = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got),
                                                                                  len(want)))
        raise CheckFailed(
            say("fetch.py's output, line {n} of {total} (it {state})",
                "fetch.py 的输出，共 {total} 行中的第 {n} 行（它{state}）", n=first + 1,
                total=len(want), state=proc.state()),
            sent=say("GET requests for {paths}", "对 {paths} 的 GET 请求", paths=show(paths[:4])
                     + (" …" if len(paths) > 4 else "")),
            expected=want[first] if first < len(want) else say("no more lines", "没有更多的行"),
            got=got[first] if first < len(got) else say("no more lines", "没有更多的行"),
            has_got=True, hint=hint)
    if rc != 0:
        raise CheckFailed(say("fetch.py printed every answer but {state}",
                              "fetch.py 打印了所有回答，但是{state}", state=proc.state()),
                          expected=say("exit code 0", "退出码 0"), hint=hint)


def stop(proc) -> None:
    """Stop a failing fetch.py where it is (its stacks go into the feedback), before the slow
    server closes under it and its stderr fills with the aftermath."""
    proc.collect_stacks()
    proc.kill()


def all_in_flight(slow: SlowServer, proc, n: int) -> None:
    """Wait until the slow server holds all n requests at once; feedback if it never does."""
    if slow.wait_for(lambda s: s.max_held >= n or not proc.alive(), timeout=PATIENCE) \
            and slow.max_held >= n:
        return
    state = None if proc.alive() else proc.state()
    most, arrived = slow.max_held, len(slow.requests)
    stop(proc)
    raise CheckFailed(
        say("fetch.py never had its {n} requests in flight together: the server held at most "
            "{most} at once ({arrived} had arrived, fetch.py {state})",
            "fetch.py 的 {n} 个请求从来没有同时在路上：服务端同一时刻最多只收到 {most} 个"
            "（总共到了 {arrived} 个，fetch.py {state}）", n=n, most=most, arrived=arrived,
            state=say("was still running", "仍在运行") if state is None else state),
        expected=say("{n} requests held by the server at once (each answered only then)",
                     "服务端同时收着 {n} 个请求（直到那时才逐个回答）", n=n),
        got=say("at most {most} at once", "同一时刻最多 {most} 个", most=most),
        hint=HINT_AT_ONCE)


@check(points=2, hint=HINT_FETCH,
       title=say("fetch.py prints the answers in the order of the paths",
                 "fetch.py 按 path 的顺序打印回答"))
def test_fetch_prints_answers(student):
    paths = ["/index.html", "/a/b", "/news?id=7", "/%E4%B8%AD", "/last"]
    with SlowServer() as slow:
        slow.release()
        rv, proc = start_fetch(student, slow, paths)
        answers_of(proc, slow, paths, HINT_FETCH)
        if sorted(slow.requests) != sorted(paths):
            raise CheckFailed(say("the requests the server received", "服务端收到的请求"),
                              expected=sorted(paths), got=sorted(slow.requests), hint=HINT_FETCH)


@check(points=3, hint=HINT_AT_ONCE, time_limit=40,
       title=say("fetch.py has all of its 100 requests in flight at once",
                 "fetch.py 的 100 个请求同时在路上"))
def test_fetch_all_at_once(student):
    paths = [f"/page/{i}" for i in range(100)]
    with SlowServer(release_at=len(paths)) as slow:
        rv, proc = start_fetch(student, slow, paths)
        with blocking_explained(rv, "fetch.py"):
            all_in_flight(slow, proc, len(paths))
        answers_of(proc, slow, paths, HINT_FETCH)


@check(points=2, hidden=True, hint=HINT_THREADS, time_limit=40,
       title=say("fetch.py waits for its 50 requests in one OS thread",
                 "fetch.py 在一个操作系统线程里等待它的 50 个请求"))
def test_fetch_one_thread(student):
    paths = [f"/t/{i}" for i in range(50)]
    with SlowServer() as slow:
        rv, proc = start_fetch(student, slow, paths)
        all_in_flight(slow, proc, len(paths))
        threads = proc.threads()
        if threads > 1:
            stop(proc)
            raise CheckFailed(
                say("while its 50 requests were waiting, fetch.py had {got}",
                    "50 个请求都在等待回答时，fetch.py 有 {got}", got=nthreads(threads)),
                expected=nthreads(1), got=nthreads(threads), hint=HINT_THREADS)
        slow.release()
        answers_of(proc, slow, paths, HINT_FETCH)


@check(points=1, hidden=True, hint=HINT_PATCH,
       title=say("fetch.py patches with monkey.patch_all() before it connects",
                 "fetch.py 在连接之前先调用 monkey.patch_all() 打补丁"))
def test_fetch_patches_first(student):
    paths = ["/p/1", "/p/2"]
    with SlowServer() as slow:
        slow.release()
        rv, proc = start_fetch(student, slow, paths)
        seen = first_socket(rv, "fetch.py")
        proc.wait(20)
        judge_patching(seen, "fetch.py", say("connected", "连接"))


@check(points=1, hidden=True, hint=HINT_CLOSE, time_limit=30,
       title=say("fetch.py closes each connection once it has the answer",
                 "fetch.py 拿到回答后就关闭那个连接"))
def test_fetch_closes_connections(student):
    paths = [f"/c/{i}" for i in range(20)] + ["/held"]
    with SlowServer() as slow:
        rv, proc = start_fetch(student, slow, paths)
        all_in_flight(slow, proc, len(paths))
        for p in paths[:-1]:  # "/held" keeps fetch.py running: what it closes now, it closed
            slow.release(p)
        answered = len(paths) - 1
        if not slow.wait_for(lambda s: s.closed >= answered or not proc.alive(), timeout=5) \
                or slow.closed < answered:
            still = answered - slow.closed
            stop(proc)
            raise CheckFailed(
                say("fetch.py had its answers to {answered} requests but left {still} of those "
                    "connections open", "fetch.py 已经拿到 {answered} 个请求的回答，却还开着其中 {still} 个连接",
                    answered=answered, still=still),
                expected=say("each connection closed by fetch.py once answered",
                             "每个连接拿到回答后都由 fetch.py 关闭"),
                got=say("{still} still open (the server keeps them for more requests)",
                        "{still} 个仍然开着（服务端留着它们等更多的请求）", still=still),
                hint=HINT_CLOSE)
        slow.release()
        answers_of(proc, slow, paths, HINT_FETCH)
