"""socketserver_chat: the graded suite. server.py runs as a process; the test's clients are
`LinePeer`s (grader/harness/lines.py) that read one line at a time.

Concurrency is proved, not timed. Every client waits for its own welcome line before the next
one joins, so the test always knows who is in the room; a server that serves one client at a
time (a plain TCPServer) never welcomes the second client while the first is still connected.

The race on the member list is made, not hoped for: a client that does not read (a tiny
receive window) is sent a line longer than every socket buffer between it and the server, so
the thread broadcasting that line is stuck inside its loop over the members for as long as the
test wants; meanwhile a newcomer joins (its welcome proves it is in the room). A broadcast that
iterates the live dict then raises "dictionary changed size during iteration" the moment the
stuck client reads again, on every run; a broadcast that holds the room's lock while sending
never lets the newcomer in.
"""
from __future__ import annotations

import contextlib
import random
import threading
import time

from grader.harness import CheckFailed, Ended, check, say, show_bytes
from grader.harness.lines import LinePeer

MIB = 1 << 20

# -- hints -----------------------------------------------------------------------------------

HINT_JOIN = say(
    "the first line is the nickname (self.rfile.readline() without its b'\\n'): add the client "
    "to the room, send it b'* welcome <nick>, <n> online\\n', then send b'* <nick> joined\\n' "
    "to everyone else",
    "第一行是昵称（self.rfile.readline() 去掉末尾的 b'\\n'）：把客户端加入聊天室，给它发送 "
    "b'* welcome <nick>, <n> online\\n'，再给其他所有人发送 b'* <nick> joined\\n'")
HINT_BROADCAST = say(
    "each line goes to every member except its sender, as b'<nick>: ' + the line, b'\\n' "
    "included; the sender gets nothing back",
    "每一行都要发给除发送者以外的所有成员，格式是 b'<nick>: ' 加上这一行（包括 b'\\n'）；"
    "发送者自己不会收到回显")
HINT_THREADS = say(
    "socketserver.TCPServer serves one client at a time: the next one waits until handle() "
    "returns. ThreadingTCPServer runs every handle() in a thread of its own",
    "socketserver.TCPServer 一次只服务一个客户端：下一个要等 handle() 返回才轮到。"
    "ThreadingTCPServer 让每个 handle() 在自己的线程里运行")
HINT_LEAVE = say(
    "readline() returns b'' once the client has closed: leave the loop, take the client out of "
    "the room and send b'* <nick> left\\n' to the others - in a finally:, so an error counts too",
    "客户端关闭后 readline() 返回 b''：这时退出循环，把它移出聊天室，并给其他人发送 "
    "b'* <nick> left\\n'——写在 finally: 里，这样出错断开时也会执行")
HINT_OTHERS_STAY = say(
    "when one client leaves, only its own connection ends: self.request is this client's "
    "socket; the others' sockets, and the listening socket, stay open",
    "一个客户端离开时，只结束它自己的连接：self.request 是这个客户端的套接字；"
    "其他客户端的套接字和监听套接字都要保持打开")
HINT_LISTENING = say(
    "self.server.socket is the listening socket every future client needs: a handler closes "
    "(at most) self.request, never the server's socket",
    "self.server.socket 是监听套接字，以后的每个客户端都要靠它连进来：handler 最多关闭 "
    "self.request，绝不能关闭服务器的套接字")
HINT_LINES = say(
    "one recv() is not one line: a line may come one byte at a time, and several lines (the "
    "nickname too) in one piece. Read with self.rfile.readline(), or keep a buffer and cut it at "
    "b'\\n'",
    "一次 recv() 不等于一行：一行可能一个字节一个字节地到达，几行（包括昵称）也可能一起到达。"
    "用 self.rfile.readline() 读，或者自己维护缓冲区、按 b'\\n' 切开")
HINT_VANISH = say(
    "a client may vanish with a reset (readline() raises ConnectionResetError) or close in the "
    "middle of a line (readline() returns the piece without b'\\n', then b''): drop the piece, "
    "announce the leave in a finally:, and let handle() return so its thread ends",
    "客户端可能带着 RST 突然消失（readline() 抛出 ConnectionResetError），也可能在一行的中间关闭"
    "（readline() 先返回不带 b'\\n' 的半行，然后返回 b''）：丢掉半行，在 finally: 里宣布离开，"
    "并让 handle() 返回，它的线程才会结束")
HINT_LOCK = say(
    "copy the member list while holding a threading.Lock, then send outside the lock: a loop "
    "over the dict itself breaks when another thread adds or removes a member (RuntimeError: "
    "dictionary changed size during iteration), and sending while holding the lock lets one "
    "client that does not read stop everyone from joining",
    "持有 threading.Lock 时复制一份成员列表，然后在锁外发送：直接遍历字典本身，别的线程一加入或"
    "删除成员就会出错（RuntimeError: dictionary changed size during iteration）；而持有锁发送，"
    "一个不读数据的客户端就能让所有人都进不来")
HINT_NICK = say(
    "an empty first line is refused: send b'* error: empty nickname\\n' and close; that client "
    "never joins, so nobody hears of it",
    "第一行为空就拒绝：发送 b'* error: empty nickname\\n' 并关闭连接；这个客户端从未加入，"
    "所以其他人不会收到关于它的任何通知")


# -- the protocol ------------------------------------------------------------------------------

def welcome(nick: bytes, n: int) -> bytes:
    return b"* welcome " + nick + b", " + str(n).encode() + b" online\n"


def joined(nick: bytes) -> bytes:
    return b"* " + nick + b" joined\n"


def left(nick: bytes) -> bytes:
    return b"* " + nick + b" left\n"


def said(nick: bytes, line: bytes) -> bytes:
    return nick + b": " + line


def name(nick: bytes) -> str:
    return nick.decode("utf-8", "replace")


# -- test clients --------------------------------------------------------------------------------

class Room:
    """The test's view of the room: the members it has joined, in joining order."""

    def __init__(self, server):
        self.server = server
        self.members: dict[bytes, LinePeer] = {}
        self.others: list[LinePeer] = []  # connected, not members (silent, rude)
        self.connected = 0  # clients the test has connected so far

    def connect(self, label: str, rcvbuf: int | None = None, after=None) -> LinePeer:
        try:
            peer = LinePeer.connect(self.server.addr, name=f"client {label}", rcvbuf=rcvbuf)
        except CheckFailed as exc:
            if after is None and not self.connected:
                raise
            if after is None:
                after = say("after {n} clients had connected", "在 {n} 个客户端连接过之后",
                            n=self.connected)
            raise CheckFailed(say("{after}, a new client could not connect: {why}",
                                  "{after}，新的客户端却连接不上：{why}",
                                  after=after, why=exc.summary),
                              hint=HINT_LISTENING) from None
        self.connected += 1
        return peer

    def join(self, nick: bytes, *, rcvbuf: int | None = None, waiting=None, after=None,
             how=None) -> LinePeer:
        """Connect, send the nickname, read the welcome; every member already in the room
        must hear of the newcomer. `waiting` explains a welcome that never came."""
        peer = self.connect(name(nick), rcvbuf, after)
        (how or (lambda p, data: p.send(data)))(peer, nick + b"\n")
        n = len(self.members) + 1
        # the notice of a member that joined just before may or may not reach the newcomer
        # too (its broadcast may run after the newcomer is in): allowed, never required
        peer.tolerated = {joined(m) for m in self.members}
        got = peer.read_line(3.0)
        if got != welcome(nick, n):
            hint, detail = HINT_JOIN, None
            there = [name(m) for m in self.members] + [p.name for p in self.others]
            if not got and peer.ended.kind == Ended.TIMEOUT and there:
                hint = HINT_THREADS
                detail = waiting or say(
                    "{who} connected earlier and is still connected: a server that serves one "
                    "client at a time (socketserver.TCPServer) is still in handle() for that "
                    "client, and nobody else is served",
                    "{who} 更早连上来，现在仍然连着：一次只服务一个客户端的服务器"
                    "（socketserver.TCPServer）还在 handle() 里服务它，其他人都得不到服务",
                    who=there[0])
            elif not got and peer.ended.kind == Ended.RESET:
                hint = HINT_LISTENING
                detail = say("the connection was accepted, then reset without a word: that is "
                             "what happens to a client waiting in the listen() queue when the "
                             "listening socket is closed (or to one whose bytes the server "
                             "never read when it closed the connection)",
                             "连接先被接受，随后一言不发地被重置（RST）：监听套接字被关闭时，还在 "
                             "listen() 队列里等待的客户端就会这样（服务器关闭连接时还有字节没读，"
                             "也会这样）")
            elif not got and peer.ended.gone and after is not None:
                detail = say("{after}, the server hung up on a newcomer without a word",
                             "{after}，服务器一言不发就挂断了新来的客户端", after=after)
            raise CheckFailed(say("what {who} received after sending its nickname{why}",
                                  "{who} 发送昵称后收到的内容{why}", who=name(nick),
                                  why=peer.ending()),
                              sent=nick + b"\n", expected=welcome(nick, n), got=got,
                              has_got=True, hint=hint, detail=detail)
        for other_nick, other in self.members.items():
            other.expect_line(joined(nick), say("what {who} received when {new} joined",
                                                "{new} 加入时 {who} 收到的内容",
                                                who=name(other_nick), new=name(nick)),
                              hint=HINT_JOIN)
        self.members[nick] = peer
        return peer

    def leave(self, nick: bytes, how: str = "close") -> None:
        """A member goes (closes, or vanishes with a reset); the others hear of it."""
        peer = self.members.pop(nick)
        if how == "reset":
            peer.reset()
        else:
            peer.close()

    def hear_leave(self, nick: bytes, what, hint=HINT_LEAVE) -> None:
        for other_nick, other in self.members.items():
            other.expect_line(left(nick), say("what {who} received {what}", "{what}，{who} 收到的内容",
                                              who=name(other_nick), what=what), hint=hint)

    def talk(self, nick: bytes, line: bytes, *, hint=HINT_BROADCAST, what=None) -> None:
        """A member says `line`; every other member receives it, labelled with the nick."""
        self.members[nick].send(line)
        for other_nick, other in self.members.items():
            if other_nick != nick:
                other.expect_line(said(nick, line),
                                  what or say("what {who} received after {sender} said {line}",
                                              "{sender} 说了 {line} 之后 {who} 收到的内容",
                                              who=name(other_nick), sender=name(nick),
                                              line=show_bytes(line, 40)),
                                  sent=line, hint=hint)

    def close(self) -> None:
        for peer in [*self.members.values(), *self.others]:
            peer.close()


@contextlib.contextmanager
def room(student):
    server = student.server("server.py")
    r = Room(server)
    try:
        with watching(server.proc):
            yield r
    finally:
        r.close()


@contextlib.contextmanager
def watching(proc):
    """A failure inside says so if the server has died meanwhile (its stderr follows)."""
    try:
        yield
    except CheckFailed as exc:
        if proc.alive():
            proc.wait(0.2)  # a process that just closed its sockets may be exiting right now
        if not proc.alive():
            note = say(" - meanwhile server.py {state}", "——与此同时 server.py {state}",
                       state=proc.state()).render()
            lines = exc.args[0].split("\n", 1)
            lines[0] += note
            exc.args = ("\n".join(lines), *exc.args[1:])
        raise


def thread_count_back(proc, baseline: int, timeout: float = 5.0) -> int:
    """Poll the server's thread count until it is at most `baseline` (or the deadline)."""
    end = time.monotonic() + timeout
    while True:
        now = proc.threads()
        if now <= baseline or time.monotonic() >= end or not proc.alive():
            return now
        time.sleep(0.01)  # polling /proc with a deadline: the wait ends at the event


# -- visible checks ----------------------------------------------------------------------------

@check(points=1, hint=HINT_JOIN,
       title=say("newcomers are welcomed and announced to the others",
                 "新成员收到欢迎语，其他成员收到加入通知"))
def test_welcome_and_join_notice(student):
    with room(student) as r:
        r.join(b"alice")
        r.join(b"bob")
        r.join("小明".encode("utf-8"))  # bytes pass through: the server needs no decoding


@check(points=1, hint=HINT_BROADCAST,
       title=say("a line reaches every other member, labelled with the sender's nickname",
                 "一行消息送达其他所有成员，并标上发送者的昵称"))
def test_line_reaches_others_not_sender(student):
    with room(student) as r:
        for nick in (b"alice", b"bob", b"carol"):
            r.join(nick)
        r.talk(b"alice", b"hello, room\n")
        # alice's next line must be bob's: an echo of her own line would come first
        r.talk(b"bob", b"hi alice\n")
        r.talk(b"carol", b"\n")  # an empty line is a line too
        r.talk(b"alice", "粘包 is Chinese for sticky packets\n".encode("utf-8"))


@check(points=1, hint=HINT_LEAVE,
       title=say("a member that closes is announced as gone, and the others stay",
                 "成员关闭连接后，其他人收到离开通知，并且留在聊天室里"))
def test_leave_notice(student):
    with room(student) as r:
        for nick in (b"alice", b"bob", b"carol"):
            r.join(nick)
        alice = r.members[b"alice"]
        alice.shutdown_write()
        alice.expect_eof(say("alice closed her side: the server should close her connection",
                             "alice 关闭了自己的发送方向：服务器应当关闭她的连接"))
        r.leave(b"alice")
        r.hear_leave(b"alice", say("after alice closed her connection", "alice 关闭连接之后"))
        r.talk(b"carol", b"still here\n", hint=HINT_OTHERS_STAY,
              what=say("what bob received after alice left and carol said b'still here\\n'",
                       "alice 离开、carol 说了 b'still here\\n' 之后 bob 收到的内容"))
        r.talk(b"bob", b"me too\n", hint=HINT_OTHERS_STAY,
              what=say("what carol received after alice left and bob said b'me too\\n'",
                       "alice 离开、bob 说了 b'me too\\n' 之后 carol 收到的内容"))


SILENT_NOTE = say(
    "a client that connected earlier and has sent nothing is still connected: a server that "
    "serves one client at a time is still waiting for it in handle(), and nobody else is served",
    "之前连上来的一个客户端一直没有发送任何东西，仍然连着：一次只服务一个客户端的服务器还在 "
    "handle() 里等它，其他人都得不到服务")


@check(points=2, hint=HINT_THREADS,
       title=say("a client that stays silent does not block the others",
                 "一直沉默的客户端不会挡住其他人"))
def test_silent_client_does_not_block(student):
    with room(student) as r:
        r.others.append(r.connect("mute"))  # connects, never even says its nickname
        r.join(b"quiet", waiting=SILENT_NOTE)  # joins, then says nothing (and reads nothing)
        r.join(b"alice", waiting=SILENT_NOTE)
        r.join(b"bob", waiting=SILENT_NOTE)
        quiet = r.members.pop(b"quiet")  # stays connected, out of the test's bookkeeping
        r.others.append(quiet)
        r.talk(b"alice", b"can anyone hear me?\n")
        r.talk(b"bob", b"yes, loud and clear\n")
        r.talk(b"alice", b"good\n")


@check(points=2, hint=HINT_BROADCAST,
       title=say("five clients all receive each other's lines",
                 "五个客户端都能收到彼此的消息"))
def test_five_clients_hear_each_other(student):
    nicks = [b"ann", b"ben", b"cat", b"dan", b"eve"]
    with room(student) as r:
        for nick in nicks:
            r.join(nick)
        lines = {nick: [b"hello from " + nick + b"\n", nick + b" says bye\n"] for nick in nicks}
        for nick in nicks:  # everyone talks before anyone reads
            r.members[nick].send(b"".join(lines[nick]))
        for nick in nicks:
            others = [n for n in nicks if n != nick]
            expected = [said(n, line) for n in others for line in lines[n]]
            came = r.members[nick].expect_lines(
                expected, say("what {who} received while the others talked ({n} lines from 4 "
                              "clients, in any order)",
                              "其他人说话时 {who} 收到的内容（来自 4 个客户端的 {n} 行，顺序不限）",
                              who=name(nick), n=len(expected)), hint=HINT_BROADCAST)
            for n in others:
                mine = [line for line in came if line.startswith(n + b": ")]
                if mine != [said(n, line) for line in lines[n]]:
                    raise CheckFailed(say("{who} received {sender}'s two lines out of order",
                                          "{who} 收到 {sender} 的两行消息顺序颠倒了",
                                          who=name(nick), sender=name(n)),
                                      expected=[said(n, line) for line in lines[n]], got=mine,
                                      hint=HINT_BROADCAST)


@check(points=1, hint=HINT_LISTENING,
       title=say("after a member leaves, a newcomer can still join and talk",
                 "有成员离开之后，新来的人仍然可以加入并聊天"))
def test_newcomer_after_leave(student):
    with room(student) as r:
        r.join(b"alice")
        r.join(b"bob")
        both = r.server.proc.threads()
        r.leave(b"alice")
        r.hear_leave(b"alice", say("after alice closed her connection", "alice 关闭连接之后"))
        # the server is done with alice once her thread has ended (polled, with a deadline):
        # whatever her handler does on its way out has been done before the newcomer knocks
        thread_count_back(r.server.proc, both - 1)
        after = say("after alice left", "alice 离开之后")
        r.join(b"carol", after=after)  # "2 online": alice is no longer counted
        r.talk(b"carol", b"hi bob\n")
        r.talk(b"bob", b"welcome, carol\n")


# -- hidden checks -----------------------------------------------------------------------------

@check(points=1, hidden=True, hint=HINT_LINES,
       title=say("lines that arrive in pieces or glued together",
                 "分段到达或粘在一起到达的行"))
def test_lines_in_pieces(student):
    with room(student) as r:
        r.join(b"bob")
        # the nickname and two lines in one write
        alice = r.connect("alice")
        glued = b"alice\nfirst line\nsecond line\n"
        alice.send(glued)
        alice.expect_line(welcome(b"alice", 2), say("alice's welcome (her nickname and two lines "
                                                    "came in one write)",
                                                    "alice 收到的欢迎语（她的昵称和两行消息是一次写出的）"),
                          sent=glued)
        r.members[b"bob"].expect_lines(
            [joined(b"alice"), said(b"alice", b"first line\n"), said(b"alice", b"second line\n")],
            say("what bob received when alice sent her nickname and two lines in one write",
                "alice 把昵称和两行消息一次写出时 bob 收到的内容"), sent=glued)
        r.members[b"alice"] = alice
        # a line one byte at a time
        dripped = b"one byte at a time\n"
        alice.trickle(dripped)
        r.members[b"bob"].expect_line(said(b"alice", dripped),
                                      say("what bob received after alice sent a line in 1-byte "
                                          "pieces", "alice 把一行拆成 1 字节的小段发出后 bob 收到的内容"),
                                      sent=dripped)
        # a nickname one byte at a time
        r.join(b"carol", how=lambda p, data: p.trickle(data))


@check(points=2, hidden=True, hint=HINT_VANISH,
       title=say("clients that vanish mid-line: announced as gone, no half lines, no thread left "
                 "behind", "在一行中间消失的客户端：宣布离开、不转发半行、不留下线程"))
def test_vanishing_clients(student):
    with room(student) as r:
        r.join(b"alice")
        r.join(b"bob")
        proc = r.server.proc
        baseline = proc.threads()
        nameless = r.connect("nameless")
        nameless.send(b"nob")  # half a nickname, then gone: it never joined
        nameless.reset()
        r.join(b"valerie")
        r.members[b"valerie"].send(b"half a li")
        r.leave(b"valerie", how="reset")
        r.hear_leave(b"valerie", say("after valerie sent b'half a li' and vanished (a reset)",
                                     "valerie 发出 b'half a li' 后突然消失（RST）之后"))
        r.join(b"walter")
        r.members[b"walter"].send(b"half")
        r.leave(b"walter")
        r.hear_leave(b"walter", say("after walter sent b'half' and closed his connection",
                                    "walter 发出 b'half' 后关闭连接之后"))
        now = thread_count_back(proc, baseline)
        if now > baseline:
            raise CheckFailed(say("server.py had {a} threads with alice and bob in the room; after "
                                  "three more clients came and went it still has {b}",
                                  "alice 和 bob 在聊天室里时 server.py 有 {a} 个线程；又有三个客户端"
                                  "来了又走之后，它仍然有 {b} 个线程",
                                  a=baseline, b=now),
                              detail=say("a thread that outlives its client is a leak: one more "
                                         "for every client that ever vanished",
                                         "线程比它的客户端活得还长就是泄漏：每消失一个客户端就多留下一个"))
        r.talk(b"alice", b"still alive?\n")
        r.talk(b"bob", b"yes\n")


RACE_NOTE = say("a broadcast that loops over the member dict itself, while jay is added "
                "to it, raises RuntimeError: dictionary changed size during iteration - "
                "and the members after sam never get the line (see the server's stderr)",
                "广播直接遍历成员字典时 jay 被加了进去，就会抛出 RuntimeError: dictionary "
                "changed size during iteration——排在 sam 后面的成员就永远收不到这一行"
                "（看服务器的 stderr）")


def longer_than_buffers() -> int:
    """More than the server's send buffer can ever hold (tcp_wmem's maximum) plus 1 MiB."""
    try:
        with open("/proc/sys/net/ipv4/tcp_wmem") as f:
            biggest = int(f.read().split()[2])
    except (OSError, ValueError, IndexError):
        biggest = 4 * MIB
    return min(biggest + MIB, 64 * MIB)


@check(points=2, hidden=True, hint=HINT_LOCK, time_limit=40,
       title=say("a member joins while a line is still being sent to a client that does not read",
                 "一行消息还在发给一个不读数据的客户端时，有新成员加入"))
def test_join_while_broadcast_in_flight(student):
    size = longer_than_buffers()
    big = random.Random(5).randbytes(size - 1).replace(b"\n", b".") + b"\n"
    line = said(b"tom", big)
    with room(student) as r:
        sam = r.join(b"sam", rcvbuf=4096)  # a small window: sam stops reading from here on
        r.join(b"rita")
        r.join(b"tom")
        sender = threading.Thread(target=lambda: r.members[b"tom"].send(big), daemon=True)
        sender.start()
        if not sam.peek(10.0):
            raise CheckFailed(say("tom sent a line of {mib} MiB; sam received nothing of it within "
                                  "10 s", "tom 发出了一行 {mib} MiB 的消息；10 秒内 sam 一点也没有收到",
                                  mib=size >> 20), hint=HINT_BROADCAST)
        # tom's line is now being sent to sam, and cannot all fit until sam reads: the thread
        # sending it is stuck inside its loop over the members. Now the room changes:
        situation = say("while tom's {mib} MiB line was still being sent to sam, who was not "
                        "reading", "tom 那行 {mib} MiB 的消息还在发给不读数据的 sam 时", mib=size >> 20)
        jay = r.connect("jay")
        jay.send(b"jay\n")
        got = jay.read_line(10.0)
        if got != welcome(b"jay", 4):
            raise CheckFailed(say("jay sent his nickname {situation}; what he received{why}",
                                  "{situation}，jay 发送了昵称；他收到的内容{why}",
                                  situation=situation, why=jay.ending()),
                              sent=b"jay\n", expected=welcome(b"jay", 4), got=got, has_got=True,
                              hint=HINT_LOCK,
                              detail=None if got else say(
                                  "most likely the room's lock is held while sending: the "
                                  "broadcast to sam keeps it, and jay cannot be added",
                                  "多半是发送时还持有聊天室的锁：发给 sam 的广播一直占着锁，jay 加不进来"))
        r.others.append(jay)
        sam.expect_line(line, say("what sam received when he read again", "sam 重新开始读取后收到的内容"),
                        timeout=30.0, hint=HINT_LOCK)
        sam.expect_line(joined(b"jay"), say("what sam received after tom's line",
                                            "在 tom 那行消息之后 sam 收到的内容"), hint=HINT_LOCK,
                        detail=RACE_NOTE)
        sender.join(10.0)
        r.members[b"rita"].expect_lines(
            [line, joined(b"jay")],
            say("what rita received: tom's line (sent {situation}) and jay's arrival",
                "rita 收到的内容：tom 的那行消息（{situation}发出）和 jay 加入的通知",
                situation=situation),
            timeout=30.0, hint=HINT_LOCK,
            detail=RACE_NOTE)
        r.members[b"tom"].expect_line(joined(b"jay"), say("what tom received after his long line",
                                                          "tom 发出长消息之后收到的内容"),
                                      hint=HINT_LOCK)


@check(points=1, hidden=True, hint=HINT_NICK,
       title=say("an empty nickname is refused, and nobody hears of it",
                 "空昵称被拒绝，其他人也不会收到任何通知"))
def test_empty_nickname_refused(student):
    with room(student) as r:
        r.join(b"alice")
        nobody = r.connect("nobody")
        r.others.append(nobody)
        nobody.send(b"\n")
        nobody.expect_line(b"* error: empty nickname\n",
                           say("the answer to an empty nickname", "对空昵称的回答"), sent=b"\n")
        nobody.expect_eof(say("after refusing the empty nickname the server should close the "
                              "connection", "拒绝空昵称之后，服务器应当关闭连接"))
        r.join(b"bob")  # alice's next line is bob's arrival, and bob is the second one online
