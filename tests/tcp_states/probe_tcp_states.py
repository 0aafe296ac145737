"""The suite's probe: runs in the student's process, beside tcp_states.py (never in the judge).

The call driver calls module functions with JSON-able arguments; a Connection keeps state
between calls, so this probe makes the Connections, applies scripted operations to them and
answers with plain data: for every operation what it returned or raised, and the state after.
It is the suite's code (copied into the working copy by grader.harness.probe); it only reads
the student's objects.

    run([{"msl": 30, "ops": [["handle", "connect"], ["elapse", 60], ["history", None]]}])
"""
import traceback

import tcp_states


def _plain(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return {"$repr": repr(value)[:200], "$type": type(value).__name__}


def _read(conn, name):
    """conn.<name>, or a description of why it could not be read."""
    try:
        return _plain(getattr(conn, name))
    except Exception as exc:  # a property that raises, a missing attribute
        return {"$error": f"{type(exc).__name__}: {exc}"[:300]}


def _raised(exc):
    out = {"x": type(exc).__name__}
    if any(c.__name__ == "InvalidEvent" for c in type(exc).__mro__):
        # expected often, so kept short: no message, no traceback (formatting one is slow)
        out["xi"] = True
        out["xs"] = _plain(getattr(exc, "state", None))
        out["xe"] = _plain(getattr(exc, "event", None))
    else:  # the student's frames only: the probe's own frame is skipped
        out["xm"] = str(exc)[:300]
        tb = exc.__traceback__.tb_next if exc.__traceback__ else None
        out["xt"] = "".join(traceback.format_exception(type(exc), exc, tb))[-1200:]
    return out


def _history_length(conn):
    try:
        return len(conn.history)
    except Exception:
        return None


def run_one(script):
    msl = script.get("msl")
    try:
        conn = tcp_states.Connection() if msl is None else tcp_states.Connection(msl=msl)
    except Exception as exc:
        return {"init": _raised(exc)}
    steps = []
    for op, arg in script["ops"]:
        step = {}
        try:
            if op == "handle":
                step["r"] = _plain(conn.handle(arg))
            elif op == "elapse":
                step["r"] = _plain(conn.elapse(arg))
            elif op == "history":
                step["h"] = _read(conn, "history")
            else:
                raise RuntimeError(f"probe: unknown operation {op!r}")
        except Exception as exc:
            step.update(_raised(exc))
        step["s"] = _read(conn, "state")
        step["hl"] = _history_length(conn)
        steps.append(step)
    return {"steps": steps, "history": _read(conn, "history")}


def run(scripts):
    return [run_one(script) for script in scripts]
