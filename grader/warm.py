"""The warm judge: a process with pytest, the plugin and the harness already imported, which
forks one fresh judge per check instead of paying Python's and pytest's start every time.

It never runs student code itself, and never imports a suite: the forked judge collects the
suite (an edited suite is always the one that runs), starts its own fork server and confines
its students exactly as a cold judge does, and reports on the results pipe the grader made and
handed over. The warm process belongs to the user who started it: it listens on a Unix socket
in a private (0700) runtime folder, answers only its own uid (SO_PEERCRED), is non-dumpable,
exits after IDLE_SECONDS without work, and steps aside (telling the client to run cold) once
any of grader's own files changed since it started. Between checks it keeps the next judge
forked and prepared (a `Standby`: private network, scratch folder and fork servers up), so a
check that comes finds them ready.

    python -m grader.warm --root COURSE      (started in the background by the first check)

Protocol (one connection per judge): the client sends one JSON request {"args", "cwd", "env",
"results_fd"} with two descriptors (the results pipe's write end, the log pipe's write end);
the server answers {"pid": N} (or {"cold": reason}) and later {"exit": code}. If the client
goes away first, the judge's process group is killed. {"status": true} is answered with what
the process is doing (see `status`), {"stop": true} ends it.
"""
from __future__ import annotations

import gc
import hashlib
import json
import os
import select
import signal
import socket
import stat
import struct
import subprocess
import sys
import time
from pathlib import Path

IDLE_SECONDS = 15 * 60
PACKAGE = Path(__file__).resolve().parent


def runtime_dir() -> Path | None:
    """$XDG_RUNTIME_DIR/netlab (or /tmp/netlab-<uid>), private to this user; None if it is
    not ours or not private (then nobody gets a warm judge)."""
    base = os.environ.get("XDG_RUNTIME_DIR")
    path = Path(base, "netlab") if base else Path(f"/tmp/netlab-{os.getuid()}")
    try:
        path.mkdir(mode=0o700, exist_ok=True)
        st = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
        return None
    return path


def socket_path(root: Path) -> Path | None:
    folder = runtime_dir()
    if folder is None:
        return None
    key = hashlib.sha256(f"{Path(root).resolve()}\0{sys.executable}".encode()).hexdigest()[:16]
    path = folder / f"warm-{key}.sock"
    return path if len(str(path).encode()) < 100 else None  # AF_UNIX paths hold 107 bytes


def _sources_stamp() -> dict[str, int]:
    """mtimes of grader's own files: a change means the warm process holds old code."""
    stamp = {}
    for path in PACKAGE.rglob("*.py"):
        try:
            stamp[str(path)] = path.stat().st_mtime_ns
        except OSError:
            pass
    return stamp


# -- the client side (in `grader check`, `selftest`, `watch`) ---------------------------------

class WarmJudge:
    """A judge forked by the warm process, with the bits of Popen that run_judge uses."""

    def __init__(self, conn: socket.socket, pid: int, log_r: int):
        self.conn = conn
        self.pid = pid
        self.stdout = os.fdopen(log_r, "rb")
        self.returncode: int | None = None

    def _read_exit(self, timeout: float | None) -> None:
        if self.returncode is not None:
            return
        self.conn.settimeout(timeout)
        try:
            data = self.conn.recv(4096)
        except (socket.timeout, BlockingIOError):
            return
        except OSError:
            data = b""
        if data:
            self.returncode = json.loads(data.split(b"\n")[0]).get("exit", -9)
        else:  # the warm process died: its judges were killed with it
            self.returncode = -9
        self.conn.close()

    def poll(self) -> int | None:
        self._read_exit(0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        self._read_exit(timeout)
        if self.returncode is None:
            raise subprocess.TimeoutExpired(f"warm judge {self.pid}", timeout)
        return self.returncode


def enabled() -> bool:
    """NETLAB_WARM=0 (or `grader check --cold`): every judge cold. NETLAB_WARM=require: only a
    warm judge (started and waited for if need be); the tests and the benchmark use it."""
    return os.environ.get("NETLAB_WARM", "1") != "0" and sys.platform.startswith("linux")


def required() -> bool:
    return os.environ.get("NETLAB_WARM") == "require"


def start_judge(root: Path, args: list[str], cwd: Path, env: dict, results_fd: int) -> WarmJudge | None:
    """Hand one judge to this course's warm process; None means: run it cold (and, when no
    warm process answers, one is started in the background for the next check)."""
    path = socket_path(root)
    if path is None:
        return None
    request = {"args": args, "cwd": str(cwd), "env": env, "results_fd": results_fd}
    for attempt in (1, 2):
        got = _request(path, request, results_fd)
        if isinstance(got, WarmJudge):
            return got
        # nobody listens, or the warm process holds old code: start a new one
        if not required() or attempt == 2:
            launch(root)
            return None
        if not launch(root, wait=True):
            return None
    return None


def _request(path: Path, request: dict, results_fd: int) -> "WarmJudge | str":
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(str(path))
    except OSError:
        conn.close()
        return "absent"
    log_r, log_w = os.pipe()
    try:
        socket.send_fds(conn, [json.dumps(request).encode() + b"\n"], [results_fd, log_w])
        conn.settimeout(10)
        reply = json.loads(conn.recv(4096).split(b"\n")[0])
    except (OSError, ValueError):
        reply = {"cold": "no answer"}
    finally:
        os.close(log_w)
    if "pid" not in reply:
        conn.close()
        os.close(log_r)
        return reply.get("cold", "no answer")
    return WarmJudge(conn, reply["pid"], log_r)


def launch(root: Path, wait: bool = False) -> bool:
    """Start the warm process for this course in the background (it outlives this command).
    `wait`: until it listens (it says so on its stdout), at most 30 s."""
    from .judge import judge_env
    try:
        proc = subprocess.Popen([sys.executable, "-m", "grader.warm", "--root", str(root)],
                                cwd=root, env=judge_env(), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE if wait else subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
    except OSError:
        return False
    if not wait:
        return True
    ready, _, _ = select.select([proc.stdout], [], [], 30)
    line = proc.stdout.readline() if ready else b""
    proc.stdout.close()
    return line.strip() in (b"ready", b"already")


def _ask(root: Path, message: bytes) -> bytes | None:
    """One request line to this course's warm process: its answer (b"" if it closed without
    one), or None if nobody answers."""
    path = socket_path(root)
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.connect(str(path))
            conn.sendall(message + b"\n")
            conn.settimeout(5)
            return conn.recv(4096)
    except (OSError, TypeError):
        return None


def status(root: Path) -> dict | None:
    """What this course's warm process is doing: {"judges": N, "standby": None | "preparing" |
    "ready", "standby_pid", "taken": standbys that took a job, "dismissed": those let go of
    for a job of another environment}; None if none answers."""
    answer = _ask(root, b'{"status": true}')
    try:
        return json.loads(answer.split(b"\n")[0]) if answer else None
    except ValueError:
        return None


def stop(root: Path) -> bool:
    """Ask this course's warm process to exit (tests, and `grader warm --stop`)."""
    return _ask(root, b'{"stop": true}') is not None


# -- the server side ---------------------------------------------------------------------------

def _preload() -> None:
    """Import what every judge needs, so a fork starts where a cold judge is after ~0.3 s."""
    import importlib

    import pytest  # noqa: F401
    from _pytest.config import default_plugins
    for name in default_plugins:
        try:
            importlib.import_module(f"_pytest.{name}")
        except ImportError:
            pass
    # what pytest itself imports only once it runs: the debugging plugin's pdb (with cmd and
    # code), argcomplete, the ini file's TOML reader, faulthandler: ~10 ms a judge (readline,
    # which pdb also takes, stays out: it may write to a terminal, and our stdout says "ready")
    for name in ("pdb", "_pytest._argcomplete", "tomllib", "faulthandler"):
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    from . import course, i18n, plugin, procs, shards  # noqa: F401
    from .harness import calls, feedback, isolation, net, sandbox, udp, zygote  # noqa: F401
    isolation.probe_mode()  # the forked judges inherit the answer


def _say(word: str) -> None:
    """Tell a launcher that waits (its stdout is a pipe) that we listen; then let go of it."""
    try:
        os.write(1, word.encode() + b"\n")
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.close(null)
    except OSError:
        pass


def _peer_uid(conn: socket.socket) -> int:
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", creds)[1]


def _leave_server(listener: socket.socket, conns) -> None:
    """In a forked child: a process group of its own, default signals, none of the server's
    sockets (a judge never answers clients)."""
    os.setsid()
    signal.set_wakeup_fd(-1)
    for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_DFL)
    listener.close()
    for c in conns:
        c.close()


def _be_judge(request: dict, fds: list[int]) -> None:
    """In a forked child that left the server: take the job's descriptors, folder and
    environment, and run pytest as the judge; never returns."""
    code = 70
    try:
        results, log = fds
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        target = request["results_fd"]
        if results != target:
            os.dup2(results, target)
            os.close(results)
        for fd in (null, log):
            if fd > 2 and fd != target:
                os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.stdout = os.fdopen(1, "w", buffering=1)
        sys.stderr = os.fdopen(2, "w", buffering=1)
        import pytest
        code = int(pytest.main(request["args"]))
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:  # noqa: BLE001 - the grader sees the log and a non-zero exit
        import traceback
        traceback.print_exc()
    finally:
        os._exit(code)


def _run_judge_child(request: dict, fds: list[int], listener: socket.socket, conns) -> None:
    """In the forked child: become a judge process and run pytest; never returns."""
    try:
        _leave_server(listener, conns)
    except BaseException:  # noqa: BLE001
        os._exit(70)
    _be_judge(request, fds)


class Standby:
    """A judge forked before its job comes: it makes its private network and scratch folder
    and starts its fork servers (plugin.prepare) while nobody waits, then waits for one job
    on a socket only the warm process holds. It takes a job only if the job's environment is
    the one it was prepared in (isolation settings, TMPDIR...); any other job gets a fresh
    fork, and the standby is let go of. Made only while no judge runs, so that preparing
    never takes a core from a check, and a standby never waits beside a running check."""

    def __init__(self, like: dict, listener: socket.socket, conns):
        """Prepared as the job `like` (the last one) was: its environment, its shards."""
        self.env = like["env"]
        args = like["args"]
        jobs = int(args[args.index("--netlab-jobs") + 1]) if "--netlab-jobs" in args[:-1] else 1
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        parent = os.getpid()
        gc.freeze()
        self.pid = os.fork()
        if self.pid == 0:
            ours.close()
            self._wait(theirs, listener, conns, parent, jobs, like["cwd"])  # never returns
        theirs.close()
        self.sock = ours
        self.ready = False   # it said it is prepared

    def _wait(self, sock: socket.socket, listener: socket.socket, conns, parent: int, jobs: int,
              cwd: str) -> None:
        try:
            _leave_server(listener, conns)
            from .procs import die_with_parent
            die_with_parent(parent)
            os.chdir(cwd)
            os.environ.clear()
            os.environ.update(self.env)
            from . import plugin
            try:
                plugin.prepare(jobs)
            except Exception:  # noqa: BLE001 - the judge then does it as any judge does
                plugin._prepared = None
            try:
                sock.send(b"ready")
            except OSError:
                pass  # the job came while we prepared: the server let go of its end already
            msg, fds, _, _ = socket.recv_fds(sock, 1 << 20, 4)
            sock.close()
            if not msg or len(fds) != 2:
                os._exit(0)  # let go of: the fork servers end with us, the namespaces too
            request = json.loads(msg)
        except BaseException:  # noqa: BLE001
            os._exit(70)
        _be_judge(request, fds)

    def take(self, request: dict, fds: list[int]) -> bool:
        """Hand the job over; False if it is not ours to take (then let this standby go)."""
        if request.get("env") != self.env:
            return False
        try:
            socket.send_fds(self.sock, [json.dumps(request).encode()], fds)
        except OSError:
            return False
        self.sock.close()
        return True

    def dismiss(self) -> None:
        try:
            self.sock.close()   # EOF: it exits by itself
        except OSError:
            pass
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except OSError:
            pass


def serve(root: Path, idle: float = IDLE_SECONDS) -> int:
    from .procs import become_subreaper, make_undumpable
    path = socket_path(root)
    if path is None:
        return 1
    make_undumpable()
    become_subreaper()
    _preload()
    # What the judges inherit is there for good: out of the collector's sight, a forked
    # judge's collections (pytest forces two at its end) walk only what that judge made
    gc.collect()
    gc.freeze()
    stamp = _sources_stamp()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        probe.connect(str(path))  # another warm process already serves this course
        probe.close()
        _say("already")
        return 0
    except OSError:
        pass
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    listener.bind(str(path))
    os.chmod(path, 0o600)
    ours = os.stat(path).st_ino
    listener.listen(64)
    _say("ready")
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    judges: dict[int, socket.socket] = {}   # judge pid -> its client's connection
    standby: Standby | None = None          # the next judge, prepared like the last job
    last_job: dict | None = None
    counts = {"taken": 0, "dismissed": 0}   # standbys that took a job, and those let go of
    last = time.monotonic()
    stepping_aside = False
    while True:
        waiting = [listener] if not stepping_aside else []
        spare = [standby.sock] if standby is not None else []
        ready, _, _ = select.select([*waiting, wake_r, *judges.values(), *spare], [], [], 30)
        if spare and spare[0] in ready:
            try:
                standby.ready = standby.sock.recv(16) == b"ready"
            except OSError:
                standby.ready = False
            if not standby.ready:  # it died: no other until the next job (never a fork loop)
                standby.dismiss()
                standby, last_job = None, None
        if wake_r in ready:
            os.read(wake_r, 4096)
            ended = _reap(judges, spare=standby.pid if standby is not None else None)
            if standby is not None and standby.pid in ended:
                standby.dismiss()   # it died before its job came
                standby, last_job = None, None
        for conn in [c for c in ready if c not in (listener, wake_r, *spare)]:
            pid = next((p for p, c in judges.items() if c is conn), None)
            try:
                gone = conn.recv(1, socket.MSG_PEEK) == b""
            except OSError:
                gone = True
            if gone and pid is not None:  # the client left: its judge goes too
                try:
                    os.killpg(pid, signal.SIGKILL)
                except OSError:
                    pass
        if listener in ready:
            last = time.monotonic()
            conn, _ = listener.accept()
            try:
                if _peer_uid(conn) != os.getuid():
                    conn.close()
                    continue
                conn.settimeout(10)
                msg, fds, _, _ = socket.recv_fds(conn, 1 << 20, 4)
                request = json.loads(msg.split(b"\n")[0])
            except (OSError, ValueError):
                conn.close()
                continue
            if request.get("status"):  # for the benchmark and the tests
                for fd in fds:
                    os.close(fd)
                state = None if standby is None else "ready" if standby.ready else "preparing"
                conn.sendall(json.dumps({"judges": len(judges), "standby": state,
                                         "standby_pid": standby and standby.pid,
                                         **counts}).encode() + b"\n")
                conn.close()
                continue
            if request.get("stop") or _sources_stamp() != stamp or len(fds) != 2:
                # step aside first (no new client reaches us), then say so
                stepping_aside = True
                _unlink_if_ours(path, ours)
                listener.close()
                for fd in fds:
                    os.close(fd)
                conn.sendall(b'{"stopped": true}\n' if request.get("stop") else b'{"cold": "stale"}\n')
                conn.close()
            else:
                pid = None
                if standby is not None:
                    if standby.take(request, fds):
                        pid = standby.pid
                        counts["taken"] += 1
                    else:
                        standby.dismiss()
                        counts["dismissed"] += 1
                    standby = None
                if pid is None:
                    gc.freeze()  # the little this loop made since, too
                    pid = os.fork()
                    if pid == 0:
                        _run_judge_child(request, fds, listener, list(judges.values()) + [conn])
                for fd in fds:
                    os.close(fd)
                judges[pid] = conn
                conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")
                last_job = request
        if stepping_aside and standby is not None:
            standby.dismiss()
            standby = None
        if judges:
            last = time.monotonic()
        elif stepping_aside or time.monotonic() - last > idle:
            if standby is not None:
                standby.dismiss()
            if not stepping_aside:
                _unlink_if_ours(path, ours)
            return 0
        elif standby is None and last_job is not None:
            standby = Standby(last_job, listener, [])


def _unlink_if_ours(path: Path, inode: int) -> None:
    """Remove our socket, not one a newer warm process has bound at the same path."""
    try:
        if os.stat(path).st_ino == inode:
            path.unlink()
    except OSError:
        pass


def _reap(judges: dict[int, socket.socket], spare: int | None = None) -> set[int]:
    """Collect ended children: a judge's exit code goes to its client; anything else that
    came to us (we are a subreaper: a dead judge's orphans) is killed and reaped, except the
    `spare` child (the standby). Returns the pids collected."""
    from .procs import _proc_children
    ended = set()
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break
        ended.add(pid)
        conn = judges.pop(pid, None)
        if conn is not None:
            try:
                conn.sendall(json.dumps({"exit": os.waitstatus_to_exitcode(status)}).encode() + b"\n")
            except OSError:
                pass
            conn.close()
    for pid in _proc_children(os.getpid()):
        if pid not in judges and pid != spare:
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    return ended


def main(argv: list[str] | None = None) -> int:
    import argparse
    parser = argparse.ArgumentParser(prog="python -m grader.warm")
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--idle", type=float, default=IDLE_SECONDS)
    args = parser.parse_args(argv)
    return serve(args.root.resolve(), args.idle)


if __name__ == "__main__":
    sys.exit(main())
