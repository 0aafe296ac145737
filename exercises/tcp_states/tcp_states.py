"""The TCP connection state machine of RFC 793, as one endpoint sees it (see README.md).

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
    """An event that cannot happen in the connection's state (or a name the machine does not
    know). Raise it as InvalidEvent(state, event); keep this class as it is."""

    def __init__(self, state, event):
        super().__init__(f"event {event!r} is impossible in state {state}")
        self.state = state
        self.event = event


def next_state(state, event):
    """The state after `event` in `state`; raise InvalidEvent if the event cannot happen there."""
    raise NotImplementedError("next_state: write the state machine")


class Connection:
    """One endpoint: its state, the states it has been in, and TIME-WAIT's timer in model time."""

    def __init__(self, msl=120):
        # self.state: the current state (starts CLOSED)
        # self.history: every state it has been in, in order (starts ["CLOSED"])
        raise NotImplementedError("Connection: keep the state, the history and the model time")

    def handle(self, event):
        """Apply one event; return the new state. An impossible event raises InvalidEvent and
        changes nothing."""
        raise NotImplementedError

    def elapse(self, seconds):
        """Let `seconds` of model time pass; return the state (CLOSED once TIME-WAIT is over)."""
        raise NotImplementedError
