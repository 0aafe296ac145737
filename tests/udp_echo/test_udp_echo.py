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
                            forge, free_port, hold, judge_host, show_bytes)

REPLY_WAIT = 3.0   # s for the student's server to echo one datagram (it takes microseconds)
PATIENCE = 5.0     # s for the student's client to print a line or to exit
TIMEOUT = 0.1      # --timeout for clients that must get their echo (a lost try costs this)
RETRIES = 40       # --retries for those clients: 41 tries x 0.1 s = 4.1 s < PATIENCE
GIVE_UP = ("0.04", "2")  # --timeout/--retries where no echo ever comes: 3 tries, ~0.12 s

HINT_SENDER = ("UDP has no connection: each recvfrom() says who sent that datagram - "
               "sendto(data, addr) with exactly that addr")
HINT_EMPTY = ("an empty datagram is legal UDP and recvfrom() returns b'' for it; in UDP b'' "
              "does not mean 'closed' (there is no connection): echo it like any other")
HINT_TRUNCATE = ("recvfrom(n) returns at most n bytes of a datagram and silently throws the "
                 "rest away: ask for 65535 (the largest UDP datagram)")
HINT_RETRY = ("sock.settimeout(seconds) before recvfrom(): on socket.timeout, send the line "
              "again, at most --retries more times")
HINT_STALE = ("a datagram that is not the echo of what you just sent is stale (a duplicate, "
              "or the late echo of an earlier try): ignore it and keep waiting")
HINT_GIVE_UP = ("after 1 + --retries unanswered tries, give up: print('error: ...', "
                "file=sys.stderr); sys.exit(1) - never wait forever, never print a fake echo")


def payload(n: int, seed: int = 7) -> bytes:
    return random.Random(seed).randbytes(n)


def text_line(n: int, seed: int = 8) -> bytes:
    rng = random.Random(seed)
    return bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz0123456789 ") for _ in range(n))


# -- the server: the test's own sockets talk to server.py ------------------------------------

class Sender:
    """One of the test's UDP sockets, on this judge's own address."""

    def __init__(self, name: str):
        self.name = name
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((judge_host(), 0))

    def close(self) -> None:
        self.sock.close()


def senders(*names: str) -> list[Sender]:
    return [Sender(n) for n in names]


def next_datagram(server, watch: list[Sender], waiting_for: str, sent: bytes,
                  hint: str | None = None) -> tuple[Sender, bytes, tuple]:
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
            raise CheckFailed(f"{server.proc.describe()} while the test was waiting for "
                              f"{waiting_for}; a server should run until it is killed",
                              sent=sent, hint=hint)
        if time.monotonic() >= end:
            raise CheckFailed(f"no echo came back within {REPLY_WAIT:g} s, while the test "
                              f"waited for {waiting_for}", sent=sent, expected=sent, hint=hint)


def exchange(server, sender: Sender, data: bytes, waiting_for: str, others: list[Sender] = (),
             hint: str | None = None) -> None:
    """`sender` sends `data`; its echo must come back to `sender` (and to no one else),
    whole, from the server's address."""
    sender.sock.sendto(data, server.addr)
    who, got, addr = next_datagram(server, [sender, *others], waiting_for, data, hint)
    if who is not sender:
        raise CheckFailed(f"the echo of what {sender.name} sent arrived at {who.name}",
                          sent=data, expected=f"the echo at {sender.name}",
                          got=f"{show_bytes(got)} at {who.name}", hint=HINT_SENDER)
    expect_bytes(got, data, waiting_for, sent=data, hint=hint)
    if addr != server.addr:
        raise CheckFailed("the echo came from another address than the one the client sent to",
                          expected=f"from {server.host}:{server.port}",
                          got=f"from {addr[0]}:{addr[1]}",
                          hint="answer with the same socket you received on: a client "
                               "ignores datagrams that do not come from its server")


def expect_silence(watch: list[Sender]) -> None:
    """Nothing more has arrived: every datagram the server sent before its last echo is here."""
    for s in watch:
        s.sock.setblocking(False)
        try:
            data = s.sock.recv(65536)
        except BlockingIOError:
            continue
        raise CheckFailed(f"{s.name} got a datagram nobody asked for",
                          expected="one echo per datagram, to its sender only", got=data,
                          hint=HINT_SENDER)


@check(points=1, hint="bind((host, port)), then loop: data, addr = recvfrom(65535); "
                       "sendto(data, addr)")
def test_echoes_a_datagram(student):
    """echoes a datagram to its sender"""
    server = student.server("server.py", proto="udp")
    client = Sender("the test client")
    try:
        exchange(server, client, b"hello, server", "the echo of one datagram")
    finally:
        client.close()


@check(points=1, hint=HINT_SENDER)
def test_answers_each_sender(student):
    """answers three clients, each at its own address"""
    server = student.server("server.py", proto="udp")
    clients = senders("client 1", "client 2", "client 3")
    try:
        turns = [(0, b"from client 1"), (1, b"from client 2"), (2, b"from client 3"),
                 (0, b"client 1 again")]
        for n, data in turns:
            me = clients[n]
            exchange(server, me, data, f"the echo to {me.name}",
                     [c for c in clients if c is not me], hint=HINT_SENDER)
        expect_silence(clients)
    finally:
        for c in clients:
            c.close()


@check(points=1, hint=HINT_TRUNCATE)
def test_echoes_8k_datagram_whole(student):
    """echoes an 8 KiB datagram whole"""
    server = student.server("server.py", proto="udp")
    client = Sender("the test client")
    try:
        exchange(server, client, payload(8192), "the echo of an 8192-byte datagram",
                 hint=HINT_TRUNCATE)
    finally:
        client.close()


@check(points=1, hidden=True, hint=HINT_EMPTY)
def test_echoes_empty_datagram(student):
    """echoes an empty datagram, then keeps serving"""
    server = student.server("server.py", proto="udp")
    client = Sender("the test client")
    hint = HINT_EMPTY
    try:
        client.sock.sendto(b"", server.addr)
        client.sock.sendto(b"after the empty one", server.addr)
        _, got, _ = next_datagram(server, [client], "the echo of an empty datagram", b"", hint)
        if got:
            raise CheckFailed("the empty datagram got no echo: the first echo back was for the "
                              "datagram sent after it", sent=b"", expected=b"", got=got,
                              hint=hint)
        _, got, _ = next_datagram(server, [client], "the echo of the datagram after the empty one",
                                  b"after the empty one", hint)
        expect_bytes(got, b"after the empty one", "the echo of the datagram after the empty one",
                     sent=b"after the empty one", hint=hint)
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
            return CheckFailed(f"the client sent a datagram after its {len(lines)} lines",
                               got=got, detail=path_detail(path))
        line = lines[i]
        if got == line:
            continue
        why = f"the datagram the client sent for line {i + 1} of stdin"
        hint = "send each line as one datagram: its bytes without the newline, nothing else"
        if got == line + b"\n":
            hint = "send the line without its newline (the newline only separates stdin lines)"
        elif line and got == line.strip():
            hint = "send the line as it is: strip() changed it (remove only the newline)"
        elif not line:
            hint = None  # the check's own hint says it
        return CheckFailed(why, expected=line, got=got, hint=hint, detail=path_detail(path))
    return None


def path_detail(path: LossyPath, last: int = 12) -> str:
    return "what happened on the path (→ is toward the server):\n" + path.story(last)


def client_failed(proc, path: LossyPath, lines: list[bytes], what: str, expected: bytes,
                  got: bytes | None, hint: str | None = None, clients: int = 1,
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
        reason = {"eof": f": nothing, and {proc.describe()}",
                  "timeout": f": nothing within {PATIENCE:g} s"}.get(proc.last_read, ": nothing")
    else:
        reason = " (the client exited after it)" if proc.last_read == "eof" else ""
    detail = path_detail(path, last)
    echoes = sum(d == expected[:-1] for d in path.delivered) if clients == 1 else 0
    if got is None and echoes:
        detail += (f"\n  note: the echo the client waited for ({show_bytes(expected[:-1], 40)}) "
                   f"was delivered to it {echoes} time{'s' if echoes > 1 else ''}, and it "
                   "printed nothing: did recvfrom() get all of it?")
    if path.clients > clients:
        detail += (f"\n  note: the path saw {path.clients} client addresses where {clients} "
                   f"client{'s' if clients > 1 else ''} ran: use one socket for the whole run, "
                   "not a new one per try or per line")
    return CheckFailed(what + reason, expected=expected, got=got, has_got=got is not None,
                       hint=hint, detail=detail)


def expect_echoes_printed(proc, path: LossyPath, lines: list[bytes],
                          hint: str | None = None) -> None:
    """The client prints each line's echo (and a newline), in order, then exits with 0."""
    for i, line in enumerate(lines):
        got = proc.read_line(PATIENCE)
        if got != line + b"\n":
            raise client_failed(proc, path, lines,
                                f"what the client printed for line {i + 1} of stdin",
                                line + b"\n", got, hint)
    rc = proc.wait(PATIENCE)
    if rc is None:
        raise CheckFailed(f"client.py was still running {PATIENCE:g} s after it printed every "
                          "echo and its stdin ended",
                          hint="stop at the end of stdin (the for loop over stdin ends there)")
    if rc != 0:
        raise CheckFailed(f"client.py should exit with code 0 after printing every echo, "
                          f"but it {proc.state()}", detail=path_detail(path))
    problem = sent_problem(path, lines)
    if problem is not None:
        raise problem
    extra = proc.read_line(0)
    if extra is not None:
        raise CheckFailed(f"after the {len(lines)} echoes the client printed more",
                          expected="nothing more", got=extra,
                          hint="print exactly one line per echo on stdout, nothing else "
                               "(no prompts: errors and messages go to stderr)")


@check(points=1, hint="for each stdin line: sendto(the line without its newline), recvfrom() "
                       "the echo, print it")
def test_client_prints_each_echo(student):
    """client sends each line as a datagram and prints each echo"""
    lines = [b"hello", b"  spaces stay  ", "\u00e9t\u00e9 \u2192 UTF-8".encode()]
    with LossyPath(None) as path:
        proc = run_client(student, path.addr, lines)
        expect_echoes_printed(proc, path, lines)


@check(points=2, hint=HINT_RETRY)
def test_client_resends_lost_datagram(student):
    """client resends a line whose datagram was lost"""
    lines = [b"anybody there?", b"the second line"]
    with LossyPath(None, [drop(UP, 0)]) as path:
        proc = run_client(student, path.addr, lines)
        expect_echoes_printed(proc, path, lines, hint=HINT_RETRY)


@check(points=2, hint=HINT_STALE)
def test_client_ignores_duplicate_and_forged(student):
    """client ignores a duplicate echo and a forged datagram"""
    lines = [b"one", b"two", b"three"]
    rules = [dup(DOWN, 0), forge(DOWN, 2, b"not the echo of your line")]
    with LossyPath(None, rules) as path:
        proc = run_client(student, path.addr, lines)
        expect_echoes_printed(proc, path, lines, hint=HINT_STALE)


@check(points=1, hint=HINT_TRUNCATE)
def test_client_sends_8k_line_whole(student):
    """client sends an 8 KiB line as one datagram and prints its whole echo"""
    lines = [text_line(8192)]
    with LossyPath(None) as path:
        proc = run_client(student, path.addr, lines)
        expect_echoes_printed(proc, path, lines, hint=HINT_TRUNCATE)


def expect_error_message(proc) -> None:
    """A client that gave up said why on stderr - in a message, not by crashing."""
    err = proc.stderr_tail()
    if not err.strip():
        raise CheckFailed("the client gave up without a word: print an error to stderr")
    if "Traceback (most recent call last)" in err:
        last = err.strip().splitlines()[-1]
        raise CheckFailed("the client crashed with a traceback instead of giving up with an "
                          "error message", got=last,
                          hint="catch the exception and print a one-line error to stderr, "
                               "then sys.exit(1); with no server, recvfrom() on a connect()ed "
                               "socket may raise ConnectionRefusedError (on Windows even an "
                               "unconnected one raises ConnectionResetError): treat it like a "
                               "lost datagram")


@check(points=1, hint=HINT_GIVE_UP)
def test_client_gives_up(student):
    """client gives up with an error after its retries when no echo ever comes"""
    timeout, retries = GIVE_UP
    tries = 1 + int(retries)
    line = b"anyone there?"
    silent = Sender("a server that never answers")  # as if every datagram were lost
    got: list[bytes] = []
    try:
        proc = run_client(student, silent.sock.getsockname(), [line], timeout, retries)
        end = time.monotonic() + PATIENCE
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise CheckFailed(
                    f"client.py was still running {PATIENCE:g} s after it started, while no echo "
                    f"ever came: with --timeout {timeout} --retries {retries} it should give up "
                    f"after {tries} tries (~{tries * float(timeout):g} s)",
                    expected=f"{tries} datagrams, then exit", got=f"{len(got)} datagrams so far",
                    hint=HINT_RETRY if len(got) <= 1 else "count the tries and stop after the last")
            silent.sock.settimeout(min(left, 0.01))  # short: notice the exit soon
            try:
                got.append(silent.sock.recv(65536))
            except socket.timeout:
                if not proc.alive():
                    break
                continue
            if len(got) > tries:
                raise CheckFailed(f"the client sent the line a {len(got)}th time: --retries "
                                  f"{retries} means 1 try plus at most {retries} resends",
                                  expected=f"{tries} datagrams", got=f"{len(got)} and counting",
                                  hint="count the tries and give up after the last one")
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
        raise CheckFailed(f"with --retries {retries} and no echo ever, the client should send "
                          f"the line {tries} times (1 try + {retries} resends), then give up",
                          sent=line, expected=[line] * tries, got=got,
                          hint=HINT_RETRY if 0 < len(got) < tries else None)
    out = proc.output()
    if rc == 0 or out:
        what = "exited with code 0" if rc == 0 else "printed something on stdout"
        raise CheckFailed(f"after its last try went unanswered, the client {what}: it should "
                          "print an error to stderr (not stdout) and exit with a non-zero code",
                          expected="stdout empty, exit code not 0",
                          got=f"stdout {show_bytes(out)}, {proc.state()}")
    expect_error_message(proc)


@check(points=1, hidden=True, hint=HINT_GIVE_UP)
def test_client_gives_up_without_server(student):
    """client gives up with an error when no server is running"""
    timeout, retries = GIVE_UP
    host = judge_host()
    port = free_port(host, socket.SOCK_DGRAM)  # on this judge's own address: nobody binds it
    proc = run_client(student, (host, port), [b"hello?"], timeout, retries)
    rc = proc.wait(PATIENCE)
    if rc is None:
        raise CheckFailed(f"client.py was still running {PATIENCE:g} s after it started, with no "
                          f"server at {host}:{port}: it should give up after its retries",
                          hint=HINT_RETRY + " - a missing server looks exactly like loss")
    if rc == 0 or proc.output():
        raise CheckFailed("with no server, the client should print an error to stderr (not "
                          "stdout) and exit with a non-zero code",
                          expected="stdout empty, exit code not 0",
                          got=f"stdout {show_bytes(proc.output())}, {proc.state()}")
    expect_error_message(proc)


@check(points=1, hidden=True, hint=HINT_STALE)
def test_client_ignores_late_echo(student):
    """client ignores the late echo of an earlier try"""
    lines = [b"first", b"second"]
    # The first echo is held back: the client resends, gets the second echo, and then the
    # first one arrives late - while the client waits for the echo of its next line.
    with LossyPath(None, [hold(DOWN, 0)]) as path:
        proc = run_client(student, path.addr, lines)
        expect_echoes_printed(proc, path, lines, hint=HINT_STALE)


@check(points=1, hidden=True, hint="an empty line is sent as an empty (0-byte) datagram, "
                                   "which is legal UDP, and its echo printed as an empty line "
                                   "(README.md)")
def test_client_sends_empty_line(student):
    """client sends an empty line as an empty datagram"""
    lines = [b"before", b"", b"after"]
    with LossyPath(None) as path:
        proc = run_client(student, path.addr, lines)
        expect_echoes_printed(proc, path, lines)


# -- both together ---------------------------------------------------------------------------

def client_name(first: bytes) -> str | None:
    """'client 2' for a client whose first datagram is b'client 2 says hello'."""
    head, says, _ = first.partition(b" says ")
    return head.decode("ascii", "replace") if says and head.startswith(b"client ") else None


@check(points=1, hidden=True, hint="server: answer each datagram at the address recvfrom() "
                                   "gave; client: resend on timeout, ignore what is not your echo")
def test_clients_and_server_through_lossy_path(student):
    """three clients use the server at once through a lossy path"""
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
                        f"what client {k} of 3 printed for its line {i + 1} (each client's first "
                        "datagram is lost and its second echo duplicated)",
                        line + b"\n", got, clients=3, last=16)
            if proc.wait(PATIENCE) != 0:
                raise CheckFailed(f"client {k} of 3 should exit with code 0, but it "
                                  f"{proc.state()}", detail=path_detail(path, 16))
