"""Calls functions of a student module on the judge's behalf (standalone: imports nothing of grader).

    python -S -E _driver.py CONFIG_JSON

Requests arrive as JSON lines on stdin: {"func": name, "args": [...], "kwargs": {...}}.
Values are JSON with three tags: {"$bytes": base64}, {"$socket": fd} (a socket the judge
handed over with pass_fds) and {"$call": "module:name"} (a function of the working copy, e.g.
a test-owned job that reports to the check's rendezvous service). Each answer is one JSON line on the private fd `resp_fd` (not
stdout, which the student may print to): {"ok": true, "value": ...} or
{"ok": false, "type": ..., "mro": [...], "message": ..., "traceback": ...}.
The judge only json-decodes answers; it never unpickles or evaluates them.
"""
import base64
import faulthandler
import importlib
import json
import os
import signal
import socket
import sys
import traceback

_sockets = {}


def decode(value):
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        if "$bytes" in value:
            return base64.b64decode(value["$bytes"])
        if "$socket" in value:
            fd = value["$socket"]
            if fd not in _sockets:
                _sockets[fd] = socket.socket(fileno=fd)
            return _sockets[fd]
        if "$call" in value:
            module, _, name = value["$call"].partition(":")
            return getattr(importlib.import_module(module), name)
        return {k: decode(v) for k, v in value.items()}
    return value


def encode(value):
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$bytes": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return {"$repr": repr(value)[:500], "$type": type(value).__name__}


def failure(exc, script):
    tb = exc.__traceback__
    while tb is not None and not tb.tb_frame.f_code.co_filename.startswith(script):
        tb = tb.tb_next
    return {"ok": False, "type": type(exc).__name__,
            "mro": [c.__name__ for c in type(exc).__mro__],
            "message": str(exc)[:2000],
            "traceback": "".join(traceback.format_exception(type(exc), exc, tb))[-3000:]}


def requests(fd):
    """Request lines from `fd`. The wait for the next one also watches a signal wake-up fd:
    the student's Python signal handlers run in this (the main) thread between bytecodes, so a
    signal that does not interrupt the wait - it went to another thread, or came just before
    the wait began - would otherwise run its handler only when the next request comes (a
    SIGCHLD reaper would leave a zombie). A wake-up fd the student's code set (asyncio's)
    stays theirs."""
    import select
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    buf = b""
    while True:
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            yield line
        current = signal.set_wakeup_fd(wake_w, warn_on_full_buffer=False)
        if current not in (-1, wake_w):
            signal.set_wakeup_fd(current)
        ready, _, _ = select.select([fd, wake_r], [], [])
        if wake_r in ready:
            try:
                os.read(wake_r, 4096)  # the handler itself runs as this loop goes on
            except BlockingIOError:
                pass
        if fd in ready:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                if buf:
                    yield buf
                return
            buf += chunk


def main():
    config = json.loads(sys.argv[1])
    out = os.fdopen(config["resp_fd"], "w", buffering=1)
    if config.get("socket_timeout"):
        socket.setdefaulttimeout(config["socket_timeout"])
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    sys.path[0] = config["cwd"]
    sys.path.extend(config.get("path", []))  # site-packages, without running .pth files
    sys.argv = [config["module"] + ".py"]
    stdin = sys.stdin.fileno()
    sys.stdin = open(os.devnull)
    try:
        module = importlib.import_module(config["module"])
    except BaseException as exc:
        answer = failure(exc, config["cwd"])
        answer["phase"] = "import"
        out.write(json.dumps(answer) + "\n")
        return
    for line in requests(stdin):
        request = json.loads(line)
        try:
            func = getattr(module, request["func"])
            value = func(*decode(request.get("args", [])), **decode(request.get("kwargs", {})))
            answer = {"ok": True, "value": encode(value)}
        except BaseException as exc:
            answer = failure(exc, config["cwd"])
        out.write(json.dumps(answer) + "\n")


if __name__ == "__main__":
    main()
