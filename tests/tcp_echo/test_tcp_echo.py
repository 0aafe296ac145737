"""tcp_echo: the graded suite. Server checks talk to server.py over real loopback sockets;
client checks run client.py against a test server that this file drives step by step."""
import random
import socket
import threading

from grader.harness import CheckFailed, Peer, accept, bound_by, check, listener, stderr_note

MIB = 1 << 20
HINT_LOOP = "recv() returns whatever has arrived so far, not a whole message: loop until you have it all"


def payload(n: int, seed: int = 7) -> bytes:
    return random.Random(seed).randbytes(n)


# -- the server ----------------------------------------------------------------------------

@check(points=1, hint="accept(), then recv() and sendall() what you received")
def test_echoes_small_payload(student):
    """echoes a small payload"""
    server = student.server("server.py")
    with Peer.connect(server.addr) as peer:
        peer.send(b"hello\n")
        peer.expect(b"hello\n", "the echo of a 6-byte message", sent=b"hello\n")


@check(points=1, hint="a client may close without sending anything: recv() returns b'' at once")
def test_empty_client_then_next(student):
    """a client that sends nothing, then the next client"""
    server = student.server("server.py")
    with Peer.connect(server.addr) as silent:
        silent.shutdown_write()
        silent.expect_eof("after a client closed without sending, the server should close too",
                          hint="close the connection when recv() returns b''")
    with Peer.connect(server.addr, name="second client") as peer:
        peer.send(b"next\n")
        peer.expect(b"next\n", "the echo to the client after the empty one", sent=b"next\n")


@check(points=1, hint="recv() returning b'' means the client closed: close and serve the next")
def test_closes_when_client_closes(student):
    """closes the connection when the client closes"""
    server = student.server("server.py")
    with Peer.connect(server.addr) as peer:
        peer.send(b"bye\n")
        peer.shutdown_write()
        peer.expect(b"bye\n", "the echo before closing", sent=b"bye\n")
        peer.expect_eof("after the client finished sending, the server should close the connection")


@check(points=2, hint=HINT_LOOP + "; and use sendall(), since send() may write only part")
def test_echoes_one_mib(student):
    """echoes 1 MiB intact"""
    server = student.server("server.py")
    data = payload(MIB)
    with Peer.connect(server.addr, rcvbuf=16384) as peer:
        sender = threading.Thread(target=lambda: (peer.send(data), peer.shutdown_write()), daemon=True)
        sender.start()
        peer.expect(data, "the echo of 1 MiB of random bytes", sent=data, timeout=10)
        sender.join(5)


@check(points=1, hint="accept() in a loop: serve one client, then wait for the next")
def test_serves_clients_one_after_another(student):
    """serves three clients one after another"""
    server = student.server("server.py")
    for n in range(1, 4):
        msg = f"client {n}\n".encode()
        with Peer.connect(server.addr, name=f"client {n}") as peer:
            peer.send(msg)
            peer.expect(msg, f"the echo to client {n} of 3", sent=msg)
            peer.shutdown_write()
            peer.expect_eof(f"client {n} closed; the server should close too")


@check(points=1, hidden=True, hint=HINT_LOOP)
def test_trickled_bytes_are_all_echoed(student):
    """echoes bytes that arrive one at a time"""
    server = student.server("server.py")
    msg = b"one byte at a time\n"
    with Peer.connect(server.addr) as peer:
        peer.trickle(msg)
        peer.shutdown_write()
        peer.expect(msg, "the echo of a message sent in 1-byte pieces", sent=msg)


@check(points=1, hidden=True, hint="catch ConnectionError around one client's conversation, "
                                   "so a client that vanishes cannot stop the server")
def test_survives_client_vanishing(student):
    """keeps serving after a client vanishes mid-stream"""
    server = student.server("server.py")
    rude = Peer.connect(server.addr, name="vanishing client")
    rude.send(payload(64 * 1024))
    rude.reset()  # gone without a goodbye: the server sees a connection reset
    with Peer.connect(server.addr, name="next client") as peer:
        peer.send(b"still there?\n")
        peer.expect(b"still there?\n", "the echo to the client after the one that vanished",
                    sent=b"still there?\n")
    if not server.alive():
        raise CheckFailed("the server died after a client vanished" + stderr_note(server.proc))


@check(points=1, hidden=True, hint="bind((host, port)) with the --host you were given, "
                                   "not '' or '0.0.0.0' (that is every interface)")
def test_binds_where_told(student):
    """binds to the --host it was given"""
    server = student.server("server.py")
    where = bound_by(server.proc.pid, "tcp")
    if where != [server.addr]:
        raise CheckFailed("the server should listen only where it was told",
                          expected=f"{server.host}:{server.port}",
                          got=", ".join(f"{h}:{p}" for h, p in where) or "nothing")


# -- the client ----------------------------------------------------------------------------

def start_client(student, lines: bytes):
    lst = listener()
    host, port = lst.getsockname()[:2]
    proc = student.spawn("client.py", "--host", host, "--port", str(port))
    proc.write(lines)
    peer = accept(lst, 5, "client.py", proc)
    lst.close()
    return proc, peer


def expect_printed(proc, line: bytes, what: str) -> None:
    got = proc.read_line(5)
    if got != line:
        reason = {"eof": " (the client exited)", "timeout": " (nothing more within 5 s)"}.get(
            proc.last_read, "")
        raise CheckFailed(what + reason, expected=line, got=got, has_got=True,
                          detail=stderr_note(proc).strip() or None)


@check(points=1, hint="print exactly the line that came back, newline included")
def test_client_prints_each_echo(student):
    """client sends each line and prints each echo"""
    lines = [b"hello\n", b"second line\n", b"\xc3\xa9t\xc3\xa9\n"]
    proc, peer = start_client(student, b"".join(lines))
    proc.close_stdin()
    with peer:
        for line in lines:
            peer.expect(line, "what the client sent for one line of stdin", sent=line)
            peer.send(line)
            expect_printed(proc, line, "what the client printed for the echo")
        peer.expect_eof("the client should close the connection after the last line")
    if proc.wait(5) != 0:
        raise CheckFailed(f"client.py should exit with code 0 at the end of stdin, "
                          f"got {proc.returncode}" + stderr_note(proc))


@check(points=1, hidden=True, hint=HINT_LOOP + ": the echo has as many bytes as the line you sent")
def test_client_waits_for_whole_echo(student):
    """client waits for the whole echo even when it comes in pieces"""
    line = b"a line that comes back in two pieces\n"
    proc, peer = start_client(student, line)
    proc.close_stdin()
    with peer:
        peer.expect(line, "what the client sent", sent=line)
        try:
            peer.send_split(line, 9, pause=0.05)
        except OSError:
            pass  # the client already hung up after the first piece: its output tells
        expect_printed(proc, line, "what the client printed for an echo sent in two pieces")


def longer_than_send_buffer() -> int:
    """A size no socket send buffer on this machine can take in one go (tcp_wmem's maximum
    plus 1 MiB), so one send() of it is always partial while the receiver is not reading."""
    try:
        with open("/proc/sys/net/ipv4/tcp_wmem") as f:
            biggest = int(f.read().split()[2])
    except (OSError, ValueError, IndexError):
        biggest = 4 * MIB
    return min(biggest + MIB, 64 * MIB)


@check(points=1, hint="send() may send only part of a large buffer; sendall() sends it all")
def test_client_sends_long_line_whole(student):
    """client sends a very long line whole"""
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
    with peer:
        peer.expect(line, f"the bytes the client sent for a {size >> 20} MiB line", sent=line,
                    timeout=5)
        peer.send(line)
        expect_printed(proc, line, f"what the client printed for a {size >> 20} MiB echo")
