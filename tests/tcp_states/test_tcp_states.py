"""tcp_states: the graded suite.

tcp_states.py is a pure module, so nothing here needs a socket. `next_state` is called through
the call driver (`student.module("tcp_states").call("next_state", state, event)`); a
`Connection` keeps state between calls, so the suite's probe (probe_tcp_states.py, copied into
the working copy by grader.harness.probe) makes Connections in the student's process, applies
scripted operations and answers with plain data: what each one returned or raised, and the
state after it.

The expected answers come from the suite's own reference machine (REF below). Conversations
between two endpoints are built by `Talk`: each endpoint is a reference Connection, every
transition sends the segment RFC 793 says it sends, and a segment that arrives becomes the
receiver's event (`rcv_syn`, `rcv_fin`...). Each endpoint's own list of operations is then
replayed on a student Connection and compared step by step; on a mismatch the student sees
the conversation up to that step. The generated conversations and event sequences come from
a seeded random.Random: the same submission always meets the same cases. Model time only:
TIME-WAIT's 2·MSL pass through `elapse(seconds)`, nothing here waits for a clock.
"""
from __future__ import annotations

import random
import unicodedata
from pathlib import Path

import pytest

from grader.harness import CheckFailed, StudentRaised, StudentTimeout, check, say, show
from grader.harness.probe import load_probe

PROBE = Path(__file__).with_name("probe_tcp_states.py")

CLOSED, LISTEN, SYN_SENT, SYN_RECEIVED = "CLOSED", "LISTEN", "SYN-SENT", "SYN-RECEIVED"
ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2 = "ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2"
CLOSE_WAIT, CLOSING, LAST_ACK, TIME_WAIT = "CLOSE-WAIT", "CLOSING", "LAST-ACK", "TIME-WAIT"
STATES = (CLOSED, LISTEN, SYN_SENT, SYN_RECEIVED, ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2,
          CLOSE_WAIT, CLOSING, LAST_ACK, TIME_WAIT)
TIMEOUT = "timeout_2msl"
EVENTS = ("listen", "connect", "send", "close", "rcv_syn", "rcv_syn_ack", "rcv_ack", "rcv_fin",
          "rcv_fin_ack", "rcv_data", TIMEOUT)

# The reference machine: (state, event) -> (next state, the segment this endpoint sends).
REF: dict[tuple[str, str], tuple[str, str | None]] = {
    (CLOSED, "listen"): (LISTEN, None),
    (CLOSED, "connect"): (SYN_SENT, "SYN"),
    (LISTEN, "rcv_syn"): (SYN_RECEIVED, "SYN+ACK"),
    (LISTEN, "close"): (CLOSED, None),
    (SYN_SENT, "rcv_syn_ack"): (ESTABLISHED, "ACK"),
    (SYN_SENT, "rcv_syn"): (SYN_RECEIVED, "SYN+ACK"),
    (SYN_SENT, "close"): (CLOSED, None),
    (SYN_RECEIVED, "rcv_ack"): (ESTABLISHED, None),
    (SYN_RECEIVED, "rcv_syn_ack"): (ESTABLISHED, None),
    (SYN_RECEIVED, "close"): (FIN_WAIT_1, "FIN"),
    (ESTABLISHED, "send"): (ESTABLISHED, "DATA"),
    (ESTABLISHED, "rcv_data"): (ESTABLISHED, None),
    (CLOSE_WAIT, "send"): (CLOSE_WAIT, "DATA"),
    (FIN_WAIT_1, "rcv_data"): (FIN_WAIT_1, None),
    (FIN_WAIT_2, "rcv_data"): (FIN_WAIT_2, None),
    (ESTABLISHED, "close"): (FIN_WAIT_1, "FIN"),
    (FIN_WAIT_1, "rcv_ack"): (FIN_WAIT_2, None),
    (FIN_WAIT_1, "rcv_fin_ack"): (TIME_WAIT, "ACK"),
    (FIN_WAIT_1, "rcv_fin"): (CLOSING, "ACK"),
    (FIN_WAIT_2, "rcv_fin"): (TIME_WAIT, "ACK"),
    (CLOSING, "rcv_ack"): (TIME_WAIT, None),
    (TIME_WAIT, "rcv_fin"): (TIME_WAIT, "ACK"),
    (TIME_WAIT, TIMEOUT): (CLOSED, None),
    (ESTABLISHED, "rcv_fin"): (CLOSE_WAIT, "ACK"),
    (CLOSE_WAIT, "close"): (LAST_ACK, "FIN"),
    (LAST_ACK, "rcv_ack"): (CLOSED, None),
}
SEGMENT_EVENT = {"SYN": "rcv_syn", "SYN+ACK": "rcv_syn_ack", "ACK": "rcv_ack", "FIN": "rcv_fin",
                 "FIN+ACK": "rcv_fin_ack", "DATA": "rcv_data"}

# -- hints ----------------------------------------------------------------------------------

HINT_HANDSHAKE = say(
    "the three-way handshake: the client's connect sends SYN (SYN-SENT); the listening server "
    "answers SYN+ACK (SYN-RECEIVED); the client's ACK makes both ESTABLISHED",
    "三次握手：客户端 connect 发出 SYN（SYN-SENT）；处于 LISTEN 的服务端回 SYN+ACK（SYN-RECEIVED）；"
    "客户端再回一个 ACK，双方都进入 ESTABLISHED")
HINT_CLOSE = say(
    "whoever calls close() first is the active closer, client or server: FIN-WAIT-1, FIN-WAIT-2, "
    "TIME-WAIT. The other side is the passive closer: CLOSE-WAIT, LAST-ACK, then CLOSED at once "
    "when its FIN is acknowledged - only the active closer waits in TIME-WAIT",
    "谁先调用 close() 谁就是主动关闭方，客户端、服务端都可以：FIN-WAIT-1、FIN-WAIT-2、TIME-WAIT。"
    "另一方是被动关闭方：CLOSE-WAIT、LAST-ACK，它的 FIN 一被确认就直接 CLOSED——只有主动关闭方要在 "
    "TIME-WAIT 里等待")
HINT_SIM_OPEN = say(
    "simultaneous open: in SYN-SENT a SYN can arrive instead of a SYN+ACK (the peer connected at "
    "the same moment): answer SYN+ACK and go to SYN-RECEIVED; the peer's SYN+ACK then acknowledges "
    "our SYN -> ESTABLISHED",
    "同时打开：在 SYN-SENT 时收到的可能不是 SYN+ACK 而是 SYN（对方恰好同时发起连接）：回 SYN+ACK，进入 "
    "SYN-RECEIVED；随后对方的 SYN+ACK 确认了我们的 SYN，进入 ESTABLISHED")
HINT_SIM_CLOSE = say(
    "simultaneous close: in FIN-WAIT-1 the peer's FIN can arrive before the ACK of ours (both "
    "closed at once): ACK it and go to CLOSING; the ACK of our FIN then leads to TIME-WAIT. Both "
    "sides are active closers, neither passes through CLOSE-WAIT",
    "同时关闭：在 FIN-WAIT-1 时，对方的 FIN 可能先于对我方 FIN 的 ACK 到达（双方同时关闭）：回 ACK，进入 "
    "CLOSING；之后收到对我方 FIN 的 ACK，进入 TIME-WAIT。双方都是主动关闭方，谁也不经过 CLOSE-WAIT")
HINT_FIN_ACK = say(
    "in FIN-WAIT-1 one segment can carry both the peer's FIN and the ACK of ours (rcv_fin_ack): "
    "that is FIN-WAIT-2 and TIME-WAIT in one step - go straight to TIME-WAIT",
    "在 FIN-WAIT-1 时，一个报文段可能同时带着对方的 FIN 和对我方 FIN 的确认（rcv_fin_ack）：相当于一步走完 "
    "FIN-WAIT-2 和 TIME-WAIT 两步——直接进入 TIME-WAIT")
HINT_TIME_WAIT = say(
    "TIME-WAIT lasts 2*MSL of model time from the moment it is entered: elapse() adds to the "
    "connection's clock, and once 2*msl have passed in TIME-WAIT it becomes CLOSED",
    "TIME-WAIT 从进入的那一刻起持续 2*MSL 的模型时间：elapse() 把时间累加到连接自己的时钟上，在 "
    "TIME-WAIT 里累计满 2*msl 就变成 CLOSED")
HINT_TIMER = say(
    "the timer counts from entering TIME-WAIT (not from the connection's start), adds up every "
    "elapse(), and starts again from zero when the peer's FIN arrives again (our last ACK was "
    "lost); the caller cannot fire it with handle('timeout_2msl')",
    "计时从进入 TIME-WAIT 时开始（而不是从连接创建时），把每次 elapse() 都累加起来；对方的 FIN "
    "再次到达（说明我们最后的 ACK 丢了）时要从零重新计时；调用者不能用 handle('timeout_2msl') 触发它")
HINT_NO_EARLY_DATA = say(
    "no data before ESTABLISHED: in SYN-RECEIVED the handshake is not finished (the connection is "
    "still in the half-connection pool, accept() has not returned it), so rcv_data and send are "
    "impossible there, as in SYN-SENT, LISTEN and CLOSED",
    "ESTABLISHED 之前不能收发数据：SYN-RECEIVED 时握手还没完成（连接还在半连接池里，accept() 还拿不到它），"
    "所以那里 rcv_data 和 send 都不可能发生，SYN-SENT、LISTEN、CLOSED 也一样")
HINT_HALF_CLOSE = say(
    "a FIN closes one direction only: after our close() we can still receive (rcv_data in "
    "FIN-WAIT-1/2) but not send; after the peer's FIN we can still send (send in CLOSE-WAIT) but "
    "receive nothing more",
    "一个 FIN 只关闭一个方向：我方 close() 之后还能接收（FIN-WAIT-1/2 里可以 rcv_data），但不能再发送；"
    "收到对方的 FIN 之后还能发送（CLOSE-WAIT 里可以 send），但不会再收到数据")
HINT_REJECT = say(
    "an event that cannot happen in the current state raises InvalidEvent(state, event) - the "
    "class tcp_states.py defines - never returns a state, never raises KeyError or another error",
    "当前状态下不可能发生的事件要抛出 InvalidEvent(state, event)（tcp_states.py 里定义的那个类）——"
    "不能返回某个状态，也不能抛出 KeyError 之类的其他异常")
HINT_UNCHANGED = say(
    "check first, change afterwards: when handle() raises InvalidEvent, state and history must be "
    "exactly as before, and the connection goes on working - a stray segment must not kill it",
    "先检查，再修改：handle() 抛出 InvalidEvent 时，state 和 history 必须和之前完全一样，连接照常工作——"
    "一个不合时宜的报文段不能把连接弄坏")
HINT_TABLE = say(
    "compare your machine with RFC 793's diagram, state by state: 26 (state, event) pairs are "
    "possible, every other one (and any unknown name) raises InvalidEvent",
    "对照 RFC 793 的状态图逐个状态检查：一共 26 个（状态，事件）组合是可能的，其余的组合（以及任何未知的名字）"
    "都要抛出 InvalidEvent")
HINT_GENERATED = say(
    "in any conversation, each side's states follow from what it did and what arrived: whoever "
    "closes first ends in TIME-WAIT and then CLOSED, the other side goes CLOSE-WAIT, LAST-ACK, "
    "CLOSED; both may close at once (CLOSING)",
    "在任何一次对话里，每一方的状态都由它自己做了什么、收到了什么决定：先关闭的一方最后经过 TIME-WAIT 再 "
    "CLOSED，另一方经过 CLOSE-WAIT、LAST-ACK 到 CLOSED；双方也可能同时关闭（CLOSING）")

HINT_HISTORY = say(
    "history lists every state the connection has been in, in order, starting with ['CLOSED']; "
    "an entry is added only when the state changes (send, rcv_data and a repeated FIN in TIME-WAIT "
    "add none), and a rejected event adds none",
    "history 按顺序列出连接经历过的每一个状态，从 ['CLOSED'] 开始；只有状态改变时才添加一项（send、"
    "rcv_data 以及 TIME-WAIT 中重复收到的 FIN 都不添加），被拒绝的事件也不添加")

END_NAMES = {"client": say("client", "客户端"), "server": say("server", "服务端"),
             "conn": say("conn", "conn"), "A": say("A", "A"), "B": say("B", "B")}


# -- the reference Connection ----------------------------------------------------------------

class Ref:
    """What a Connection must do: the reference machine plus TIME-WAIT's timer in model time."""

    def __init__(self, msl):
        self.msl = 120 if msl is None else msl
        self.state = CLOSED
        self.history = [CLOSED]
        self.clock = 0
        self.ends = None

    def handle(self, event) -> tuple[bool, str | None]:
        """(legal, segment sent); an impossible event changes nothing."""
        if event == TIMEOUT or (self.state, event) not in REF:
            return False, None
        new, segment = REF[(self.state, event)]
        self._enter(new)
        if new == TIME_WAIT:
            self.ends = self.clock + 2 * self.msl
        return True, segment

    def elapse(self, seconds) -> None:
        self.clock += seconds
        if self.state == TIME_WAIT and self.clock >= self.ends:
            self._enter(CLOSED)

    def _enter(self, new):
        if new != self.state:
            self.state = new
            self.history.append(new)


class Step:
    """One operation on one endpoint and what must come of it."""
    __slots__ = ("end", "op", "arg", "before", "after", "legal", "history", "note")

    def __init__(self, end, op, arg, before, after, legal, history, note):
        self.end, self.op, self.arg = end, op, arg
        self.before, self.after, self.legal = before, after, legal
        self.history, self.note = history, note

    @property
    def call(self) -> str:
        return {"handle": f"handle({self.arg!r})", "elapse": f"elapse({self.arg!r})",
                "history": "history"}[self.op]


class Talk:
    """A scripted (or generated) run of one or two endpoints. Every operation goes to the
    reference at once; `scripts()` is what the probe replays on the student's Connections."""

    def __init__(self, ends=("client", "server"), msl=30):
        self.msl = msl
        self.ends = ends
        self.ref = {e: Ref(msl) for e in ends}
        self.flight = {e: [] for e in ends}  # segments sent by e, not delivered yet (in order)
        self.steps: list[Step] = []           # in the order they happened
        self.per_end = {e: [] for e in ends}  # each end's own steps
        self.lines: list[tuple[int | None, object]] = []  # (step index or None, note)

    def peer(self, end):
        return next(e for e in self.ends if e != end)

    def _add(self, end, op, arg, before, legal, note):
        ref = self.ref[end]
        step = Step(end, op, arg, before, ref.state, legal, list(ref.history), note)
        self.per_end[end].append(step)
        self.steps.append(step)
        self.lines.append((len(self.steps) - 1, None))

    def event(self, end, event, *, why=None, merge=False):
        """Apply `event` to `end` (possible or not); send whatever the transition sends."""
        ref = self.ref[end]
        before = ref.state
        legal, segment = ref.handle(event)
        note = why
        if segment:
            flight = self.flight[end]
            if merge and before == CLOSE_WAIT and flight and flight[-1] == "ACK":
                # the ACK of the peer's FIN has not left yet: the FIN rides on it
                flight[-1] = segment = "FIN+ACK"
            else:
                flight.append(segment)
            sends = say("sends {seg}", "发出 {seg}", seg=segment)
            note = sends if note is None else say("{a}; {b}", "{a}；{b}", a=note, b=sends)
        self._add(end, "handle", event, before, legal, note)

    def app(self, end, call, **kw):
        self.event(end, call, **kw)

    def deliver(self, sender):
        segment = self.flight[sender].pop(0)
        self.event(self.peer(sender), SEGMENT_EVENT[segment],
                   why=say("{who}'s {seg} arrives", "{who}的 {seg} 到达",
                           who=END_NAMES[sender], seg=segment))

    def deliver_all(self):
        """Deliver everything in flight, taking turns, until nothing is left (bounded)."""
        for _ in range(100):
            moved = False
            for end in self.ends:
                if self.flight[end]:
                    self.deliver(end)
                    moved = True
            if not moved:
                return
        raise RuntimeError("deliver_all: segments keep coming")

    def elapse(self, seconds, ends=None):
        for end in ends or self.ends:
            ref = self.ref[end]
            before = ref.state
            ref.elapse(seconds)
            self._add(end, "elapse", seconds, before, True, None)

    def snapshot(self, end):
        ref = self.ref[end]
        self._add(end, "history", None, ref.state, True, None)

    def lose(self, sender):
        segment = self.flight[sender].pop(0)
        self.lines.append((None, say("{who}'s {seg} is lost", "{who}的 {seg} 丢失了",
                                     who=END_NAMES[sender], seg=segment)))

    def resend(self, sender, segment):
        self.flight[sender].append(segment)
        self.lines.append((None, say("{who} retransmits its {seg}", "{who}重传了它的 {seg}",
                                     who=END_NAMES[sender], seg=segment)))

    def scripts(self):
        return [{"msl": self.msl, "ops": [[s.op, s.arg] for s in self.per_end[e]]} for e in self.ends]


# -- calling the student's code ---------------------------------------------------------------

@pytest.fixture
def machine(student):
    """tcp_states.py loaded through the call driver (for next_state)."""
    return student.module("tcp_states", timeout=10.0)


@pytest.fixture
def probe(student):
    """The suite's probe beside tcp_states.py (for Connection)."""
    return load_probe(student, PROBE, timeout=20.0)


def traceback_tail(tb: str, lines: int = 6) -> str | None:
    rows = [row for row in (tb or "").rstrip().splitlines() if row.strip()]
    if not rows:
        return None
    return str(say("where it raised:", "抛出异常的位置：")) + "\n" + "\n".join(
        "      " + row for row in rows[-lines:])


def ask(machine, state, event, hint):
    """('ok', value) or ('raised', StudentRaised) for next_state(state, event)."""
    try:
        return "ok", machine.call("next_state", state, event)
    except StudentRaised as exc:
        return "raised", exc
    except StudentTimeout:
        raise CheckFailed(say("next_state({state!r}, {event!r}) did not return within 10 s; it "
                              "was stopped", "next_state({state!r}, {event!r}) 在 10 秒内没有返回，已被终止",
                              state=state, event=event), hint=hint) from None


def expect_next(machine, state, event, expected, hint):
    """next_state(state, event) must return `expected`, or raise InvalidEvent when None."""
    call = f"next_state({state!r}, {event!r})"
    kind, value = ask(machine, state, event, hint)
    if expected is None:
        if kind == "ok":
            raise CheckFailed(
                say("{call} returned {got}, but {event!r} cannot happen in {state}: it must raise "
                    "InvalidEvent", "{call} 返回了 {got}，但 {event!r} 在 {state} 状态下不可能发生：应当抛出 "
                    "InvalidEvent", call=call, got=show(value), event=event, state=state),
                expected="InvalidEvent", got=value, has_got=True, hint=hint)
        if not value.is_a("InvalidEvent"):
            raise CheckFailed(
                say("{call} should raise InvalidEvent, but raised {exc}",
                    "{call} 应当抛出 InvalidEvent，实际抛出了 {exc}",
                    call=call, exc=f"{value.type}: {value.message}"),
                expected="InvalidEvent", got=value.type, detail=traceback_tail(value.traceback),
                hint=hint)
        return
    if kind == "raised":
        raise CheckFailed(
            say("{call} should return {exp} ({event!r} is possible in {state}), but raised {exc}",
                "{call} 应当返回 {exp}（{event!r} 在 {state} 状态下是可能发生的），实际抛出了 {exc}",
                call=call, exp=repr(expected), event=event, state=state,
                exc=f"{value.type}: {value.message}"),
            expected=expected, got=value.type, detail=traceback_tail(value.traceback), hint=hint)
    if value != expected:
        raise CheckFailed(say("what {call} returned", "{call} 的返回值", call=call),
                          expected=expected, got=value, has_got=True, hint=hint)


def replay(probe, talks, hint):
    """Replay every talk's scripts on the student's Connections; the results per talk."""
    scripts = [script for talk in talks for script in talk.scripts()]
    try:
        results = probe.call("run", scripts)
    except StudentRaised as exc:
        raise CheckFailed(say("running your Connection failed: {exc}", "运行你的 Connection 时出错：{exc}",
                              exc=f"{exc.type}: {exc.message}"),
                          detail=traceback_tail(exc.traceback), hint=hint) from None
    except StudentTimeout:
        raise CheckFailed(say("your Connection did not answer within 20 s (a loop that never ends?); "
                              "it was stopped", "你的 Connection 在 20 秒内没有响应（是不是有死循环？），已被终止"),
                          hint=hint) from None
    out, i = [], 0
    for talk in talks:
        out.append(results[i:i + len(talk.ends)])
        i += len(talk.ends)
    return out


def shown(value) -> str:
    """A value the probe reported, readably (strings plain, errors as text)."""
    if isinstance(value, dict) and "$error" in value:
        return say("(reading it raised {err})", "（读取时抛出了 {err}）", err=value["$error"]).render()
    if isinstance(value, dict) and "$repr" in value:
        return value["$repr"]
    return value if value in STATES else show(value)


def raw(value):
    """A value the probe reported, for expected/got: plain values as they are."""
    return shown(value) if isinstance(value, dict) else value


def judge_step(step: Step, got: dict):
    """None if the student's result for `step` is right, else (kind, summary, expected, got,
    where it raised); kind is 'transition', 'reject', 'unchanged' or 'history'."""
    call, before = step.call, step.before
    raised = "x" in got
    exc = (f"{got['x']}: {got['xm']}" if "xm" in got else got["x"]) if raised else None
    tb = traceback_tail(got.get("xt", "")) if raised else None
    if step.op == "history":
        if got.get("h") != step.history:
            return ("history", say("conn.history at this point", "此时的 conn.history"), step.history,
                    exc if raised else raw(got.get("h")), tb)
        return None
    if raised and (step.legal or step.op == "elapse"):
        return ("transition", say("{call} in {state} should return {exp}, but raised {exc}",
                                  "{call} 在 {state} 状态下应当返回 {exp}，实际抛出了 {exc}",
                                  call=call, state=before, exp=step.after, exc=exc),
                step.after, got.get("x"), tb)
    if not step.legal:
        if not raised:
            return ("transition", say(
                "{call} in {state} returned {got}: this event cannot happen there, it must raise "
                "InvalidEvent", "{call} 在 {state} 状态下返回了 {got}：这个事件在该状态下不可能发生，应当抛出 "
                "InvalidEvent", call=call, state=before, got=shown(got.get("r"))),
                "InvalidEvent", raw(got.get("r")), None)
        if not got.get("xi"):
            return ("reject", say("{call} in {state} should raise InvalidEvent, but raised {exc}",
                                  "{call} 在 {state} 状态下应当抛出 InvalidEvent，实际抛出了 {exc}",
                                  call=call, state=before, exc=exc), "InvalidEvent", got.get("x"), tb)
        if got.get("xs") != before or got.get("xe") != step.arg:
            return ("reject", say(
                "{call} raised InvalidEvent, but it should say which state and event: "
                "InvalidEvent(state, event)", "{call} 抛出了 InvalidEvent，但它应当说明是哪个状态、"
                "哪个事件：InvalidEvent(state, event)", call=call),
                f"InvalidEvent({before!r}, {step.arg!r})",
                f"InvalidEvent({shown(got.get('xs'))}, {shown(got.get('xe'))})", None)
        if got.get("s") != before:
            return ("unchanged", say(
                "{call} raised InvalidEvent as it should, but conn.state changed from {state} to "
                "{got}: a rejected event must change nothing", "{call} 按要求抛出了 InvalidEvent，但 "
                "conn.state 从 {state} 变成了 {got}：被拒绝的事件不能改变任何东西",
                call=call, state=before, got=shown(got.get("s"))), before, raw(got.get("s")), None)
        if got.get("hl") != len(step.history):
            return ("unchanged", say(
                "{call} raised InvalidEvent as it should, but conn.history changed (it now has {n} "
                "entries, it had {m}): a rejected event must change nothing",
                "{call} 按要求抛出了 InvalidEvent，但 conn.history 变了（现在有 {n} 项，原来是 {m} 项）："
                "被拒绝的事件不能改变任何东西", call=call, n=got.get("hl"), m=len(step.history)),
                len(step.history), got.get("hl"), None)
        return None
    if got.get("r") != step.after:
        return ("transition", say("{call} in {state} returned {got}", "{call} 在 {state} 状态下返回了 {got}",
                                  call=call, state=before, got=shown(got.get("r"))),
                step.after, raw(got.get("r")), None)
    if got.get("s") != step.after:
        return ("transition", say("after {call}, conn.state is {got}, but it returned {after}",
                                  "{call} 返回了 {after}，但之后 conn.state 是 {got}",
                                  call=call, got=shown(got.get("s")), after=step.after),
                step.after, raw(got.get("s")), None)
    return None


def topic_hint(step: Step, kind: str):
    """The idea a wrong step is about (for the generated checks, which touch every idea)."""
    if kind == "unchanged":
        return HINT_UNCHANGED
    if kind in ("reject", "history"):
        return HINT_REJECT if kind == "reject" else HINT_HISTORY
    state, event = step.before, step.arg
    if not step.legal and event not in ("send", "rcv_data", TIMEOUT):
        return HINT_REJECT  # it returned a state where it had to raise
    if step.op == "elapse" or event == TIMEOUT or (state == TIME_WAIT and event == "rcv_fin"):
        return HINT_TIMER
    if event in ("send", "rcv_data"):
        return HINT_HALF_CLOSE if state in (ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2, CLOSE_WAIT, CLOSING,
                                            LAST_ACK, TIME_WAIT) else HINT_NO_EARLY_DATA
    if state == SYN_SENT and event == "rcv_syn" or state == SYN_RECEIVED and event == "rcv_syn_ack":
        return HINT_SIM_OPEN
    if state in (FIN_WAIT_1, CLOSING) and event in ("rcv_fin", "rcv_ack") and step.after != FIN_WAIT_2:
        return HINT_SIM_CLOSE
    if event == "rcv_fin_ack":
        return HINT_FIN_ACK
    if state in (FIN_WAIT_1, FIN_WAIT_2, CLOSE_WAIT, LAST_ACK) or event == "close" and state == ESTABLISHED:
        return HINT_CLOSE
    if state in (CLOSED, LISTEN, SYN_SENT, SYN_RECEIVED):
        return HINT_HANDSHAKE
    return HINT_TABLE


def pad(text: str, width: int) -> str:
    """`text` padded to `width` terminal columns (a Chinese character takes two)."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(0, width - used)


def transcript(talk: Talk, upto: int | None, failing: int | None, got_text, keep: int = 24,
               expected_text=None) -> str:
    """The conversation so far, one line per step; the failing step marked with what came back."""
    rows = []
    for index, note in talk.lines:
        if index is None:
            rows.append(f"    {'':<9}   {say('({note})', '（{note}）', note=note)}")
            continue
        if upto is not None and index > upto:
            break
        step = talk.steps[index]
        end = str(END_NAMES.get(step.end, step.end))
        mark = "✗" if index == failing else " "
        tail = f"   {say('({note})', '（{note}）', note=step.note)}" if step.note else ""
        if index == failing:
            result = say("expected {exp}, got {got}", "应为 {exp}，实际 {got}", got=got_text,
                         exp=expected_text or (step.after if step.legal else "InvalidEvent"))
        elif step.op == "history":
            result = show(step.history)
        else:
            result = step.after if step.legal else say("InvalidEvent (no change)", "InvalidEvent（状态不变）")
        rows.append(f"  {mark} {pad(end, 9)} {step.call:<26} -> {result}{tail}")
    if len(rows) > keep:
        rows = [str(say("    … {n} earlier steps", "    …… 之前还有 {n} 步", n=len(rows) - keep))] + rows[-keep:]
    msl = "" if talk.msl is None else f"msl={talk.msl}"
    if len(talk.ends) == 1:
        head = say("the steps, on {name} = Connection({msl}):", "各步骤，{name} = Connection({msl})：",
                   name=END_NAMES[talk.ends[0]], msl=msl)
    else:
        head = say("the steps ({a} and {b} are each a Connection({msl})):",
                   "各步骤（{a}和{b}各是一个 Connection({msl})）：",
                   a=END_NAMES[talk.ends[0]], b=END_NAMES[talk.ends[1]], msl=msl)
    return f"{head}\n" + "\n".join(rows)


def verify(talk_results, hint, *, keep: int = 24):
    """Compare every talk with what the student's Connections did; fail at the first wrong step,
    with the hint for that step's idea (`hint` when the Connection fails as a whole)."""
    for talk, results in talk_results:
        for end, result in zip(talk.ends, results):
            if "init" in result:
                x = result["init"]
                msl = "" if talk.msl is None else f"msl={talk.msl}"
                raise CheckFailed(say("Connection({msl}) raised {exc}", "Connection({msl}) 抛出了 {exc}",
                                      msl=msl, exc=f"{x['x']}: {x['xm']}"),
                                  detail=traceback_tail(x.get("xt", "")), hint=hint)
        failures = []
        for end, result in zip(talk.ends, results):
            for step, got in zip(talk.per_end[end], result["steps"]):
                problem = judge_step(step, got)
                if problem:
                    failures.append((talk.steps.index(step), step, problem))
                    break
        if failures:
            index, step, (kind, summary, expected, got, tb) = min(failures, key=lambda f: f[0])
            if kind == "unchanged":
                line_exp = say("InvalidEvent, nothing changed", "InvalidEvent，什么都不变")
                line_got = say("InvalidEvent, but {what} changed", "InvalidEvent，但 {what} 变了",
                               what="state" if expected == step.before else "history")
            else:
                line_exp, line_got = None, got
            detail = transcript(talk, index, index, line_got, keep, line_exp)
            if tb:
                detail += "\n  " + tb
            raise CheckFailed(summary, expected=expected, got=got, has_got=True, detail=detail,
                              hint=topic_hint(step, kind))
        for end, result in zip(talk.ends, results):
            want = talk.ref[end].history
            if result["history"] != want:
                name = END_NAMES.get(end, end)
                raise CheckFailed(say("the {who}'s conn.history at the end", "最后 {who} 的 conn.history",
                                      who=name),
                                  expected=want, got=shown(result["history"]), has_got=True,
                                  detail=transcript(talk, None, None, None, keep), hint=HINT_HISTORY)


def run_talks(probe, talks, hint, **kw):
    verify(zip(talks, replay(probe, talks, hint)), hint, **kw)


# -- scripted conversations ------------------------------------------------------------------

def handshake(talk: Talk) -> Talk:
    talk.app("server", "listen")
    talk.app("client", "connect")
    talk.deliver_all()
    return talk


def close_started_by(first: str, msl: int = 30) -> Talk:
    t = handshake(Talk(msl=msl))
    other = t.peer(first)
    t.app("client", "send")
    t.deliver("client")
    t.app(first, "close")
    t.deliver(first)            # FIN -> the other side: CLOSE-WAIT, sends ACK
    t.deliver(other)            # that ACK -> FIN-WAIT-2
    t.app(other, "send")        # the passive closer may still send...
    t.deliver(other)            # ...and the active closer still receives
    t.app(other, "close")       # LAST-ACK, sends FIN
    t.deliver(other)            # -> TIME-WAIT, sends ACK
    t.deliver(first)            # -> CLOSED
    t.elapse(2 * msl - 1)
    t.elapse(1)
    return t


@check(points=1, title=say("next_state: the three-way handshake, both sides",
                           "next_state：三次握手，双方的状态变化"), hint=HINT_HANDSHAKE)
def test_handshake_next_state(machine):
    for state, event, expected in [(CLOSED, "connect", SYN_SENT), (SYN_SENT, "rcv_syn_ack", ESTABLISHED),
                                   (CLOSED, "listen", LISTEN), (LISTEN, "rcv_syn", SYN_RECEIVED),
                                   (SYN_RECEIVED, "rcv_ack", ESTABLISHED)]:
        expect_next(machine, state, event, expected, HINT_HANDSHAKE)


@check(points=1, title=say("Connection: client and server through the handshake, with history",
                           "Connection：客户端和服务端走完三次握手，并记录 history"), hint=HINT_HANDSHAKE)
def test_handshake_connection(probe):
    t = handshake(Talk(msl=None))
    t.snapshot("client")
    t.snapshot("server")
    run_talks(probe, [t], HINT_HANDSHAKE)


@check(points=1, title=say("four-way close started by the client", "由客户端发起的四次挥手"),
       hint=HINT_CLOSE)
def test_close_started_by_client(probe):
    run_talks(probe, [close_started_by("client")], HINT_CLOSE)


@check(points=1, title=say("four-way close started by the server", "由服务端发起的四次挥手"),
       hint=HINT_CLOSE)
def test_close_started_by_server(probe):
    run_talks(probe, [close_started_by("server")], HINT_CLOSE)


@check(points=1, title=say("the peer's FIN and the ACK of ours in one segment",
                           "对方的 FIN 和对我方 FIN 的 ACK 在同一个报文段里"), hint=HINT_FIN_ACK)
def test_fin_and_ack_in_one_segment(probe):
    talks = []
    for first in ("client", "server"):
        t = handshake(Talk(msl=30))
        other = t.peer(first)
        t.app(first, "close")
        t.deliver(first)                        # other: CLOSE-WAIT, its ACK waits...
        t.app(other, "close", merge=True)       # ...and leaves with its FIN: FIN+ACK
        t.deliver(other)                        # first: FIN-WAIT-1 -> TIME-WAIT
        t.deliver(first)
        t.elapse(60)
        talks.append(t)
    run_talks(probe, talks, HINT_FIN_ACK)


@check(points=1, title=say("simultaneous open: both sides connect at once", "同时打开：双方同时发起连接"),
       hint=HINT_SIM_OPEN)
def test_simultaneous_open(probe):
    t = Talk(ends=("A", "B"), msl=30)
    t.app("A", "connect")
    t.app("B", "connect")
    t.deliver_all()
    t.app("A", "send")
    t.app("B", "send")
    t.deliver_all()
    run_talks(probe, [t], HINT_SIM_OPEN)


@check(points=1, title=say("simultaneous close: both FINs cross (CLOSING)", "同时关闭：双方的 FIN 交错而过（CLOSING）"),
       hint=HINT_SIM_CLOSE)
def test_simultaneous_close(probe):
    t = handshake(Talk(msl=30))
    t.app("client", "close")
    t.app("server", "close")
    t.deliver_all()
    t.elapse(59)
    t.elapse(1)
    run_talks(probe, [t], HINT_SIM_CLOSE)


def to_time_wait(t: Talk, end="conn"):
    for event in ("connect", "rcv_syn_ack", "close", "rcv_ack", "rcv_fin"):
        t.event(end, event)


@check(points=1, title=say("TIME-WAIT lasts 2·MSL of model time, then CLOSED",
                           "TIME-WAIT 持续 2·MSL 的模型时间，然后 CLOSED"), hint=HINT_TIME_WAIT)
def test_time_wait_lasts_2msl(probe):
    t = Talk(ends=("conn",), msl=30)
    to_time_wait(t)
    for seconds in (30, 29, 1):
        t.elapse(seconds)
    default = Talk(ends=("conn",), msl=None)  # Connection(): MSL is 120 s, as in RFC 793
    to_time_wait(default)
    default.elapse(239)
    default.elapse(1)
    run_talks(probe, [t, default], HINT_TIME_WAIT)


@check(points=1, title=say("no data before ESTABLISHED", "ESTABLISHED 之前不能收发数据"),
       hint=HINT_NO_EARLY_DATA)
def test_no_data_before_established(machine, probe):
    for state in (SYN_RECEIVED, SYN_SENT, LISTEN, CLOSED):
        expect_next(machine, state, "rcv_data", None, HINT_NO_EARLY_DATA)
        expect_next(machine, state, "send", None, HINT_NO_EARLY_DATA)
    expect_next(machine, ESTABLISHED, "rcv_data", ESTABLISHED, HINT_NO_EARLY_DATA)
    expect_next(machine, ESTABLISHED, "send", ESTABLISHED, HINT_NO_EARLY_DATA)
    t = Talk(ends=("server",), msl=30)
    for event in ("listen", "rcv_syn", "rcv_data", "rcv_ack", "rcv_data"):
        t.event("server", event)
    run_talks(probe, [t], HINT_NO_EARLY_DATA)


@check(points=1, title=say("half-close: each FIN closes one direction", "半关闭：每个 FIN 只关闭一个方向"),
       hint=HINT_HALF_CLOSE)
def test_half_close(machine, probe):
    for state, event, expected in [
            (FIN_WAIT_1, "rcv_data", FIN_WAIT_1), (FIN_WAIT_2, "rcv_data", FIN_WAIT_2),
            (CLOSE_WAIT, "send", CLOSE_WAIT), (FIN_WAIT_1, "send", None), (FIN_WAIT_2, "send", None),
            (CLOSE_WAIT, "rcv_data", None), (LAST_ACK, "rcv_data", None), (TIME_WAIT, "send", None)]:
        expect_next(machine, state, event, expected, HINT_HALF_CLOSE)
    t = handshake(Talk(msl=30))
    t.app("client", "close")
    t.deliver_all()
    for _ in range(3):
        t.app("server", "send")
    t.deliver_all()
    t.app("server", "close")
    t.deliver_all()
    run_talks(probe, [t], HINT_HALF_CLOSE)


@check(points=1, title=say("impossible events raise InvalidEvent", "不可能的事件抛出 InvalidEvent"),
       hint=HINT_REJECT)
def test_rejects_impossible_events(machine, probe):
    for state, event in [(CLOSED, "close"), (CLOSED, "rcv_fin"), (ESTABLISHED, "connect"),
                         (LISTEN, "rcv_fin"), (TIME_WAIT, "close"), (LAST_ACK, "send"),
                         (CLOSED, "rcv_rst"), ("CLOSE_WAIT", "close")]:
        expect_next(machine, state, event, None, HINT_REJECT)
    t = Talk(ends=("conn",), msl=30)
    for event in ("close", "rcv_syn_ack", "connect", "listen"):
        t.event("conn", event)
    run_talks(probe, [t], HINT_REJECT)


@check(points=1, title=say("a rejected event changes nothing", "被拒绝的事件不改变任何东西"),
       hint=HINT_UNCHANGED)
def test_rejected_event_changes_nothing(probe):
    t = Talk(ends=("conn",), msl=30)
    for event in ("connect", "rcv_fin", "rcv_ack", "rcv_syn_ack", "listen", "close"):
        t.event("conn", event)
        t.snapshot("conn")
    run_talks(probe, [t], HINT_UNCHANGED)


# -- hidden: the whole machine and generated paths ------------------------------------------------

@check(points=2, hidden=True, title=say("next_state: every state with every event",
                                        "next_state：每个状态与每个事件的全部组合"), hint=HINT_TABLE)
def test_transition_table(machine):
    pairs = [(s, e) for s in STATES for e in EVENTS]
    pairs += [(ESTABLISHED, "rcv_rst"), (ESTABLISHED, "ESTABLISHED"), ("established", "close"),
              ("SYN_SENT", "rcv_syn_ack"), ("", "")]
    for state, event in pairs:
        expected = REF.get((state, event), (None,))[0]
        expect_next(machine, state, event, expected, HINT_TABLE)


def generated_conversation(rng: random.Random) -> Talk:
    """Two endpoints, A and B, in one random but legal conversation; both end CLOSED."""
    msl = rng.choice([10, 30, 60])
    t = Talk(ends=("A", "B"), msl=msl)
    if rng.random() < 0.75:
        server = rng.choice("AB")
        t.app(server, "listen")
        t.app(t.peer(server), "connect")
    else:
        t.app("A", "connect")
        t.app("B", "connect")
    sent = {"A": 0, "B": 0}
    closed = {"A": False, "B": False}
    lost = 0
    for _ in range(500):
        choices = []
        for end in t.ends:
            state = t.ref[end].state
            if state in (ESTABLISHED, CLOSE_WAIT):
                if sent[end] < 3:
                    choices.append((2, "send", end))
                if not closed[end]:
                    choices.append((1, "close", end))
            if t.flight[end]:
                choices.append((4, "deliver", end))
            peer = t.peer(end)
            if (state == TIME_WAIT and t.ref[peer].state == LAST_ACK and t.flight[end] == ["ACK"]
                    and lost < 2):
                choices.append((1, "lose", end))
        if not t.flight["A"] and not t.flight["B"]:
            if all(t.ref[e].state == CLOSED for e in t.ends):
                assert all(step.legal for step in t.steps), "a generated conversation must be legal"
                return t
            waiting = any(t.ref[e].state == TIME_WAIT for e in t.ends)
            choices.append((3 if waiting else 0.3, "elapse", None))
        weights = [w for w, _, _ in choices]
        _, action, end = rng.choices(choices, weights)[0]
        if action == "send":
            sent[end] += 1
            t.app(end, "send")
        elif action == "close":
            closed[end] = True
            t.app(end, "close", merge=rng.random() < 0.5)
        elif action == "deliver":
            t.deliver(end)
        elif action == "lose":
            lost += 1
            t.lose(end)
            t.elapse(rng.choice([1, msl // 2, msl]))  # the peer's retransmission timer runs out
            t.resend(t.peer(end), "FIN")
        else:
            t.elapse(rng.choice([1, msl // 2, msl, 2 * msl - 1, 2 * msl, 3 * msl]))
    raise RuntimeError("generated_conversation: no end after 500 steps")


@check(points=2, hidden=True, title=say("150 generated conversations: every state of both sides",
                                        "150 次生成的对话：双方的每一个状态"), hint=HINT_GENERATED)
def test_generated_conversations(probe):
    rng = random.Random(793)
    talks = [generated_conversation(rng) for _ in range(150)]
    run_talks(probe, talks, HINT_GENERATED, keep=30)


def generated_sequence(rng: random.Random) -> Talk:
    """One endpoint fed a random mix of possible and impossible events and time."""
    t = Talk(ends=("conn",), msl=rng.choice([5, 30, 120]))
    for _ in range(rng.randint(20, 40)):
        state = t.ref["conn"].state
        roll = rng.random()
        if state == TIME_WAIT and roll < 0.5:
            t.elapse(rng.choice([1, t.msl, 2 * t.msl]))
        elif roll < 0.55:
            possible = [e for (s, e) in REF if s == state and e != TIMEOUT]
            if possible:
                t.event("conn", rng.choice(possible))
            else:
                t.elapse(t.msl)
        elif roll < 0.85:
            t.event("conn", rng.choice(EVENTS + ("rcv_rst",)))
        elif roll < 0.95:
            t.elapse(rng.choice([1, t.msl, 2 * t.msl]))
        else:
            t.snapshot("conn")
    return t


@check(points=1, hidden=True, title=say("200 generated event sequences, impossible events mixed in",
                                        "200 个生成的事件序列，其中夹杂着不可能的事件"), hint=HINT_UNCHANGED)
def test_generated_event_sequences(probe):
    rng = random.Random(9293)
    talks = [generated_sequence(rng) for _ in range(200)]
    run_talks(probe, talks, HINT_TABLE)


@check(points=1, hidden=True, title=say("TIME-WAIT's timer: starts on entry, adds up, restarts on a repeated FIN",
                                        "TIME-WAIT 的计时器：进入时开始、累加计时、重复的 FIN 使其重新计时"),
       hint=HINT_TIMER)
def test_time_wait_timer_details(probe):
    late = Talk(ends=("conn",), msl=30)      # time before TIME-WAIT does not count
    late.elapse(1000)
    to_time_wait(late)
    late.elapse(1)
    late.elapse(58)
    late.elapse(1)
    small = Talk(ends=("conn",), msl=30)     # twelve steps of 5 s make 60 s
    to_time_wait(small)
    for _ in range(12):
        small.elapse(5)
    small.elapse(0)
    again = Talk(ends=("conn",), msl=30)     # the peer's FIN again: 2·MSL from that moment
    to_time_wait(again)
    again.elapse(50)
    again.event("conn", "rcv_fin")
    again.elapse(50)
    again.event("conn", TIMEOUT)             # not the caller's to fire
    again.elapse(10)
    again.event("conn", "connect")           # a closed Connection can be used again
    run_talks(probe, [late, small, again], HINT_TIMER)
