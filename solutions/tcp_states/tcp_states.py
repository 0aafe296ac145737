"""The TCP connection state machine of RFC 793, as one endpoint sees it.

`next_state(state, event)` is the machine itself: a pure function. `Connection` is one
endpoint that walks through it, remembers the states it has been in, and keeps the model time
of TIME-WAIT's 2·MSL timer (time passes only through `elapse()`, never by the clock on the wall).
"""

CLOSED = "CLOSED"
LISTEN = "LISTEN"
SYN_SENT = "SYN-SENT"
SYN_RECEIVED = "SYN-RECEIVED"
ESTABLISHED = "ESTABLISHED"
FIN_WAIT_1 = "FIN-WAIT-1"
FIN_WAIT_2 = "FIN-WAIT-2"
CLOSE_WAIT = "CLOSE-WAIT"
CLOSING = "CLOSING"
LAST_ACK = "LAST-ACK"
TIME_WAIT = "TIME-WAIT"

STATES = (CLOSED, LISTEN, SYN_SENT, SYN_RECEIVED, ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2,
          CLOSE_WAIT, CLOSING, LAST_ACK, TIME_WAIT)

TIMEOUT = "timeout_2msl"  # TIME-WAIT's timer ran out: the connection's own event, not the caller's
EVENTS = ("listen", "connect", "send", "close",
          "rcv_syn", "rcv_syn_ack", "rcv_ack", "rcv_fin", "rcv_fin_ack", "rcv_data", TIMEOUT)


class InvalidEvent(ValueError):
    """An event that cannot happen in the connection's state (or a name the machine does not know)."""

    def __init__(self, state, event):
        super().__init__(f"event {event!r} is impossible in state {state}")
        self.state = state
        self.event = event


TRANSITIONS = {
    # opening: the three-way handshake, and simultaneous open
    (CLOSED, "listen"): LISTEN,                # passive open: wait for a SYN
    (CLOSED, "connect"): SYN_SENT,             # active open: send SYN
    (LISTEN, "rcv_syn"): SYN_RECEIVED,         # send SYN+ACK (a half-open connection)
    (LISTEN, "close"): CLOSED,
    (SYN_SENT, "rcv_syn_ack"): ESTABLISHED,    # send ACK: the third step of the handshake
    (SYN_SENT, "rcv_syn"): SYN_RECEIVED,       # simultaneous open: send SYN+ACK
    (SYN_SENT, "close"): CLOSED,
    (SYN_RECEIVED, "rcv_ack"): ESTABLISHED,    # the ACK of our SYN
    (SYN_RECEIVED, "rcv_syn_ack"): ESTABLISHED,  # simultaneous open: the peer's SYN+ACK acks our SYN
    (SYN_RECEIVED, "close"): FIN_WAIT_1,       # send FIN
    # data: each direction is open until its FIN
    (ESTABLISHED, "send"): ESTABLISHED,
    (ESTABLISHED, "rcv_data"): ESTABLISHED,
    (CLOSE_WAIT, "send"): CLOSE_WAIT,          # the peer has closed its direction, not ours
    (FIN_WAIT_1, "rcv_data"): FIN_WAIT_1,      # we have closed our direction, not the peer's
    (FIN_WAIT_2, "rcv_data"): FIN_WAIT_2,
    # closing first (active close)
    (ESTABLISHED, "close"): FIN_WAIT_1,        # send FIN
    (FIN_WAIT_1, "rcv_ack"): FIN_WAIT_2,       # the ACK of our FIN
    (FIN_WAIT_1, "rcv_fin_ack"): TIME_WAIT,    # the peer's FIN and the ACK of ours in one segment
    (FIN_WAIT_1, "rcv_fin"): CLOSING,          # simultaneous close: send ACK
    (FIN_WAIT_2, "rcv_fin"): TIME_WAIT,        # send ACK
    (CLOSING, "rcv_ack"): TIME_WAIT,
    (TIME_WAIT, "rcv_fin"): TIME_WAIT,         # the peer's FIN again (our last ACK was lost): ACK again
    (TIME_WAIT, TIMEOUT): CLOSED,              # 2·MSL have passed
    # closing second (passive close)
    (ESTABLISHED, "rcv_fin"): CLOSE_WAIT,      # send ACK
    (CLOSE_WAIT, "close"): LAST_ACK,           # send FIN
    (LAST_ACK, "rcv_ack"): CLOSED,             # the ACK of our FIN: done, no TIME-WAIT here
}


def next_state(state, event):
    """The state after `event` in `state`; InvalidEvent if the event cannot happen there."""
    try:
        return TRANSITIONS[(state, event)]
    except (KeyError, TypeError):  # TypeError: an unhashable name is not a state or an event either
        raise InvalidEvent(state, event) from None


class Connection:
    """One endpoint: its state, the states it has been in, and TIME-WAIT's timer in model time."""

    def __init__(self, msl=120):
        self.msl = msl
        self.state = CLOSED
        self.history = [CLOSED]
        self.clock = 0               # model time, advanced only by elapse()
        self.time_wait_ends = None   # when TIME-WAIT's 2·MSL run out, in model time

    def handle(self, event):
        """Apply one event; return the new state. An impossible event raises InvalidEvent and
        changes nothing."""
        if event == TIMEOUT:  # the timer is the connection's own: time passes through elapse()
            raise InvalidEvent(self.state, event)
        old = self.state
        new = next_state(old, event)
        self._enter(new)
        if new == TIME_WAIT:  # just entered, or the peer's FIN came again: (re)start the timer
            self.time_wait_ends = self.clock + 2 * self.msl
        return new

    def elapse(self, seconds):
        """Let `seconds` of model time pass; return the state (CLOSED once TIME-WAIT is over)."""
        if seconds < 0:
            raise ValueError("time does not run backwards")
        self.clock += seconds
        if self.state == TIME_WAIT and self.clock >= self.time_wait_ends:
            self._enter(next_state(self.state, TIMEOUT))
        return self.state

    def _enter(self, new):
        if new != self.state:
            self.state = new
            self.history.append(new)
