"""What the kernel says about a server doing IO, read from outside it: how many bytes wait in
each end of a connection (so a test knows how much the program holds in its own buffers), and
whether the program sleeps (in select()/epoll_wait, as an event loop should) or keeps the CPU
busy, and how many files it holds open (a server that forgets closed clients leaks them).

    from grader.harness.ioview import queues, sleeping, busy_looks, open_fds

    q = queues(peer.sock)                  # both ends' unread/unsent bytes, or None
    q.held(sent=total_sent, read=total_read)   # bytes the far program read but has not written back
    sleeping(server.proc.pid)              # every thread asleep: not running, not runnable
    blocked_sending(server.proc, peer.sock)    # asleep with bytes unsent to us: a send() returned
    looks = busy_looks(server.proc.pid)    # (runnable looks, CPU ticks used, looks) over a window

Nothing here decides by elapsed time: `busy_looks` samples the process at a fixed spacing and
counts the looks at which it was runnable - a loop that never sleeps is runnable at every look,
however busy the machine is (starved of CPU, it is still runnable); an event loop with nothing
to do is asleep at every look. (`blocked_sending`'s half second only ends a wait early, for a
program that sends nothing: what the test then reads decides.)
"""
from __future__ import annotations

import os
import socket
import struct
import time
from dataclasses import dataclass

from .. import procs
from . import hang

NETLINK_SOCK_DIAG, SOCK_DIAG_BY_FAMILY, NLMSG_ERROR = 4, 20, 2


INET_DIAG_INFO = 2              # ask for the socket's tcp_info too
TCPI_BYTES_RECEIVED = 128       # offset of tcpi_bytes_received (u64) in struct tcp_info


def tcp_diag(fam: int, src: tuple, dst: tuple) -> tuple[int, int, int, int | None]:
    """(state, unread, unsent, bytes received in all or None) of the TCP socket bound at `src`
    and connected to `dst` (on this machine): one exact sock_diag lookup by the address pair."""

    def addr(host: str) -> bytes:
        raw = socket.inet_pton(fam, host)
        return raw + bytes(16 - len(raw))

    sockid = (struct.pack("!HH", src[1], dst[1]) + addr(src[0]) + addr(dst[0])
              + struct.pack("=III", 0, 0xFFFFFFFF, 0xFFFFFFFF))
    req = struct.pack("=BBBBI", fam, socket.IPPROTO_TCP, 1 << (INET_DIAG_INFO - 1), 0,
                      0xFFFFFFFF) + sockid
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_SOCK_DIAG) as nl:
        nl.settimeout(1.0)
        nl.send(struct.pack("=IHHII", 16 + len(req), SOCK_DIAG_BY_FAMILY, 1, 1, 0) + req)
        data = nl.recv(65536)
    length, kind = struct.unpack_from("=IH", data, 0)
    if kind == NLMSG_ERROR:
        raise OSError(-struct.unpack_from("=i", data, 16)[0], "sock_diag lookup failed")
    state = data[16 + 1]
    unread, unsent = struct.unpack_from("=II", data, 16 + 56)
    received, off = None, 16 + 72
    while off + 4 <= min(length, len(data)):
        alen, atype = struct.unpack_from("=HH", data, off)
        if alen < 4:
            break
        if atype == INET_DIAG_INFO and alen - 4 >= TCPI_BYTES_RECEIVED + 8:
            received = struct.unpack_from("=Q", data, off + 4 + TCPI_BYTES_RECEIVED)[0]
        off += (alen + 3) & ~3
    return state, unread, unsent, received


@dataclass(frozen=True)
class Queues:
    """Bytes waiting at both ends of one connection, as the kernel counts them: `unread` has
    arrived and its program has not read it yet; `unsent` was written by its program and not
    yet acknowledged by the other end."""
    our_unread: int
    our_unsent: int
    their_unread: int
    their_unsent: int
    their_state: int  # the far socket's TCP state (1 established, 8 close-wait, ...)
    their_received: int | None = None  # bytes the far end has received in all (None: unknown)

    @property
    def their_read(self) -> int | None:
        """Bytes the far program has read from this connection so far."""
        return None if self.their_received is None else self.their_received - self.their_unread

    def held(self, sent: int, read: int) -> int:
        """For an echo: the bytes the far program has read from us and not yet written back -
        what sits in its own buffers. Every byte we sent is in exactly one place: our send
        queue, its receive queue, its program, its send queue, our receive queue, or read by
        us. (Bytes in flight are counted twice for an instant: the result is never too high.)"""
        return (sent - self.our_unsent - self.their_unread - self.their_unsent
                - self.our_unread - read)


def queues(sock: socket.socket) -> Queues | None:
    """Both ends' queues of the connection `sock` (ours) has with a program on this machine;
    None where the kernel does not say (no sock_diag) or the connection is gone."""
    try:
        fam = sock.family
        ours, theirs = sock.getsockname()[:2], sock.getpeername()[:2]
        _s, our_unread, our_unsent, _r = tcp_diag(fam, ours, theirs)
        state, their_unread, their_unsent, received = tcp_diag(fam, theirs, ours)
    except (OSError, struct.error, ValueError, IndexError):
        return None
    return Queues(our_unread, our_unsent, their_unread, their_unsent, state, received)


# -- the process -----------------------------------------------------------------------------------

def cpu_ticks(pid: int) -> int:
    """CPU time the process has used so far (user + system, in clock ticks), all threads."""
    return procs.cpu_ticks(procs.stat_fields(pid)) or 0


def runnable(pid: int) -> bool:
    """Is any thread of the process running or waiting for a CPU (R), or in an
    uninterruptible wait (D)?"""
    return procs.threads_runnable(pid, 256)


def sleeping(pid: int) -> bool:
    """Is every thread of the (living) process asleep - waiting for an event, not for a CPU?"""
    fields = procs.stat_fields(pid)
    if not fields or fields[0] in (b"Z", b"X"):
        return False
    return not runnable(pid)


def blocked_sending(proc, sock: socket.socket, seconds: float = 5.0, *, quiet: float = 0.5,
                    stop=None) -> bool:
    """Wait until the program `proc` (every process of its tree), at the far end of our
    connection `sock`, sleeps with bytes of its own still unsent to us: blocked in sendall()
    (its buffer is full), or back from a send() that took only part of them. A check of whole
    sends reads nothing before this: reading while the program is still inside its one send()
    (preempted there on a busy machine) could let the kernel take everything in that call, and
    send-instead-of-sendall would pass by the machine's timing. True once seen. False, and the
    check judges what comes, when the program is not going to send: it ended, `stop()` says so
    (a call that returned), or it has slept for `quiet` seconds with nothing unsent and nothing
    of ours unread (it waits for something else); also at the deadline, or where the kernel
    does not say."""
    end = time.monotonic() + seconds
    idle_since = None
    while time.monotonic() < end and proc.alive() and not (stop is not None and stop()):
        q = queues(sock)
        if q is None:
            return False
        asleep = not hang._Look(hang.tree(proc.pid), sockets=False).runnable
        if q.their_unsent > 0 and asleep:
            return True
        if asleep and q.their_unsent == 0 and q.their_unread == 0 and q.our_unsent == 0:
            idle_since = idle_since if idle_since is not None else time.monotonic()
            if time.monotonic() - idle_since >= quiet:
                return False
        else:
            idle_since = None
        time.sleep(0.002)  # polling the kernel's view, with a deadline
    return False


@dataclass(frozen=True)
class Looks:
    """What `busy_looks` saw: at how many of its looks the process was runnable, and the CPU
    ticks it used meanwhile."""
    runnable: int
    ticks: int
    looks: int

    @property
    def busy(self) -> bool:
        """Runnable at most looks and using the CPU: a loop that never waits for an event."""
        return self.runnable * 2 > self.looks and self.ticks > 0


def busy_looks(pid: int, looks: int = 30, gap: float = 0.02) -> Looks:
    """Look at the process `looks` times, `gap` seconds apart (a sampling rate, not a deadline:
    the verdict counts looks, not time)."""
    start = cpu_ticks(pid)
    seen = 0
    for i in range(looks):
        if runnable(pid):
            seen += 1
        if i + 1 < looks:
            time.sleep(gap)  # spacing the looks: nothing waits on it
    return Looks(seen, cpu_ticks(pid) - start, looks)


def open_fds(pid: int) -> int | None:
    """How many file descriptors the process holds open; None if /proc does not say."""
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


def socket_fds(pid: int) -> int | None:
    """How many of them are sockets."""
    try:
        names = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return None
    count = 0
    for name in names:
        try:
            if os.readlink(f"/proc/{pid}/fd/{name}").startswith("socket:"):
                count += 1
        except OSError:
            pass
    return count


__all__ = ["Queues", "queues", "cpu_ticks", "runnable", "sleeping", "Looks", "busy_looks",
           "open_fds", "socket_fds"]
