"""Student processes: started confined, watched from outside, and killed with everything they made.

Every piece of student code runs in a child started here, never in the judge: its own session
and process group, a scrubbed environment, rlimits, a working copy of the target as cwd, and a
wall-clock limit enforced by the judge. `Sandbox.cleanup()` kills the groups, then any process
that escaped them (double forks are re-parented to the judge, which is a child subreaper), and
reaps them all, so no test leaves a process behind.
"""
from __future__ import annotations

import functools
import json
import os
import queue
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..procs import TAG_VAR, _proc_children, _state, kill_strays
from . import isolation

HERE = Path(__file__).resolve().parent
LAUNCHER = HERE / "_launch.py"
DRIVER = HERE / "_driver.py"
# -S: no site module. Processing site-packages' .pth files costs ~50 ms per start; the launcher
# appends the site-packages folders themselves (so gevent etc. import) without running .pth code.
# -E: ignore PYTHON* variables.
PYTHON_FLAGS = ("-S", "-E")


class StudentTimeout(AssertionError):
    """A student process did not finish (or answer) within its wall-clock limit."""


@dataclass(frozen=True)
class Limits:
    """Resource limits for one student process (see course.yaml `limits`)."""
    cpu_seconds: int = 20
    memory_mb: int = 1024
    open_files: int = 1024
    file_size_mb: int = 64
    processes: int = 64
    socket_timeout: float = 60.0  # default socket timeout: makes partial send() real

    @classmethod
    def from_mapping(cls, data: dict | None) -> "Limits":
        return cls(**(data or {}))

    def merged(self, **changes) -> "Limits":
        return Limits(**{**self.__dict__, **changes})


@functools.cache
def _site_paths() -> list[str]:
    return isolation.site_paths()


def _uid_process_count(uid: int | None = None) -> int:
    uid = os.getuid() if uid is None else uid
    count = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    count += 1
            except OSError:
                pass
    return count


_BASE_PROCS: int | None = None


def rlimits(limits: Limits, ids: tuple[int, int] | None = None) -> dict[str, tuple[int, int]]:
    """The rlimits of a student process. RLIMIT_NPROC counts every process of the uid: the
    student uid's current count + N (not set for root, which it would not bind)."""
    global _BASE_PROCS
    if ids is not None:
        nproc = _uid_process_count(ids[0]) + limits.processes
    else:
        if _BASE_PROCS is None and sys.platform.startswith("linux"):
            _BASE_PROCS = _uid_process_count()
        nproc = None if os.getuid() == 0 or _BASE_PROCS is None else _BASE_PROCS + limits.processes
    mb = 1024 * 1024
    out = {
        "RLIMIT_CPU": (limits.cpu_seconds, limits.cpu_seconds + 1),
        "RLIMIT_AS": (limits.memory_mb * mb, limits.memory_mb * mb),
        "RLIMIT_NOFILE": (limits.open_files, limits.open_files),
        "RLIMIT_FSIZE": (limits.file_size_mb * mb, limits.file_size_mb * mb),
        "RLIMIT_CORE": (0, 0),
    }
    if nproc is not None:
        out["RLIMIT_NPROC"] = (nproc, nproc)
    return out


def _preexec(limits: Limits, ids: tuple[int, int] | None = None, jail: dict | None = None):
    """rlimits, then the jail and the switch to the student uid, between fork and exec."""
    values = rlimits(limits, ids)
    from ._jail import confine

    def apply() -> None:
        for name, pair in values.items():
            resource.setrlimit(getattr(resource, name), pair)
        confine(jail, ids)
    return apply


def scrubbed_env(workdir: Path, tag: str, extra: dict | None = None) -> dict:
    """Only what a Python program needs; nothing of the judge's (no tokens, no PYTHONPATH)."""
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "HOME": str(workdir),
        "TMPDIR": str(workdir),
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONIOENCODING": "utf-8",
        TAG_VAR: tag,
    }
    env.update(extra or {})
    return env


class _Pump(threading.Thread):
    """Drains one pipe so a flooding student never blocks; keeps the first `keep` bytes
    (the data tests read) and the last `tail` bytes (the feedback)."""

    def __init__(self, stream, keep: int, tail: int):
        super().__init__(daemon=True)
        self.stream = stream
        self.keep = keep
        self.data = bytearray()
        self.tail = bytearray()  # a bytearray, trimmed from the front: a deque of ints cost
        self.tail_size = tail    # 40 ms of the judge's CPU per 5 MiB a student printed
        self.total = 0
        self.eof = False
        self.cond = threading.Condition()

    def run(self) -> None:
        fd = self.stream.fileno()
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b""
            with self.cond:
                if not chunk:
                    self.eof = True
                    self.cond.notify_all()
                    return
                self.total += len(chunk)
                room = self.keep - len(self.data)
                if room > 0:
                    self.data += chunk[:room]
                if self.tail_size:
                    self.tail += chunk[-self.tail_size:]
                    del self.tail[:-self.tail_size]
                self.cond.notify_all()

    def tail_bytes(self) -> bytes:
        with self.cond:
            return bytes(self.tail)


class _Feeder(threading.Thread):
    """Writes queued chunks to a child's stdin; None closes it."""

    def __init__(self, stream):
        super().__init__(daemon=True)

        self.stream = stream
        self.queue: "queue.SimpleQueue[bytes | None]" = queue.SimpleQueue()
        self.start()

    def put(self, data: bytes | None) -> None:
        self.queue.put(data)

    def run(self) -> None:
        broken = False
        while True:
            data = self.queue.get()
            if data is None or broken:
                if data is None:
                    break
                continue
            try:
                self.stream.write(data)
                self.stream.flush()
            except (OSError, ValueError):
                broken = True
        try:
            self.stream.close()
        except (OSError, ValueError):
            pass


@dataclass
class Completed:
    """The outcome of a student script run to completion (or killed at its limit)."""
    argv: list[str]
    returncode: int | None
    stdout: bytes
    stderr: str
    timed_out: bool
    stdout_total: int = 0

    @property
    def lines(self) -> list[bytes]:
        return self.stdout.splitlines()


class StudentProcess:
    """One running piece of student code, with bounded output capture and a deadline."""

    def __init__(self, popen: subprocess.Popen, name: str, argv: list[str], wall_seconds: float,
                 keep_stdout: int, extra_fds: tuple = ()):
        self.popen = popen
        self.name = name
        self.argv = argv
        self.pid = popen.pid
        self.deadline = time.monotonic() + wall_seconds
        self.wall_seconds = wall_seconds
        self.timed_out = False
        self._read_pos = 0
        self._scanned = 0   # stdout before this offset holds no newline after _read_pos
        self.stdout = _Pump(popen.stdout, keep_stdout, 8192)
        self.stderr = _Pump(popen.stderr, 0, 16384)  # room for a stack dump and what came before
        self.stdout.start()
        self.stderr.start()
        self._extra_fds = extra_fds
        self._feeder: _Feeder | None = None
        self.last_read = "nothing read yet"
        self.calling: str | None = None   # the function a call driver is running (calls.py)
        self._dumps: list[tuple[int, int]] = []  # stderr spans that are stack dumps, not output

    # -- input -------------------------------------------------------------------------------
    def write(self, data: bytes) -> None:
        """Feed stdin without blocking the test: a feeder thread writes, so a student that
        does not read its stdin cannot stall the judge. Broken pipes are the student's end."""
        if self._feeder is None:
            self._feeder = _Feeder(self.popen.stdin)
        self._feeder.put(data)

    def close_stdin(self) -> None:
        if self._feeder is None:
            self._feeder = _Feeder(self.popen.stdin)
        self._feeder.put(None)

    # -- output ------------------------------------------------------------------------------
    def read_line(self, timeout: float) -> bytes | None:
        """Next stdout line (with its newline), or what is left at EOF, or None at EOF/timeout.
        `self.last_read` says which."""
        end = min(time.monotonic() + timeout, self.deadline)
        pump = self.stdout
        with pump.cond:
            while True:
                nl = pump.data.find(b"\n", max(self._read_pos, self._scanned))
                if nl >= 0:
                    line = bytes(pump.data[self._read_pos:nl + 1])
                    self._read_pos = nl + 1
                    self.last_read = "line"
                    return line
                if pump.eof:
                    rest = bytes(pump.data[self._read_pos:])
                    self._read_pos = len(pump.data)
                    self.last_read = "eof"
                    return rest or None
                self._scanned = len(pump.data)  # a long line is not searched again
                left = end - time.monotonic()
                if left <= 0:
                    self.last_read = "timeout"
                    return None
                pump.cond.wait(left)

    def output(self) -> bytes:
        with self.stdout.cond:
            return bytes(self.stdout.data)

    def _stderr_parts(self) -> tuple[bytes, bytes]:
        """(what the program wrote to stderr, its last stack dump), from the kept tail."""
        with self.stderr.cond:
            tail, total = bytes(self.stderr.tail), self.stderr.total
        first = total - len(tail)
        out, dump, pos = bytearray(), b"", first
        for start, end in self._dumps:
            a, b = max(start, first), min(end, total)
            if a >= b:
                continue
            out += tail[pos - first:a - first]
            dump = tail[a - first:b - first]
            pos = b
        out += tail[pos - first:]
        return bytes(out), dump

    def stderr_tail(self, limit: int = 1500) -> str:
        """The end of what the program wrote to stderr (stack dumps taken by the judge are
        kept apart: see `stacks`)."""
        text = self._stderr_parts()[0].decode("utf-8", "replace")
        return text[-limit:]

    def stacks(self) -> str:
        """The program's frames from the last stack dump (`collect_stacks`), the harness's
        own frames (driver, zygote, launcher) left out; '' if none was taken."""
        from .stacks import student_frames
        return student_frames(self._stderr_parts()[1].decode("utf-8", "replace"))

    def stacks_label(self) -> str:
        """'your recv_msg was here when it was stopped' / 'your server.py was here ...'."""
        from ..i18n import say
        who = f"{self.calling}" if self.calling else self.name
        return str(say("your {who} was here when it was stopped", "你的 {who} 被停下时正运行到这里",
                       who=who))

    # -- lifetime ----------------------------------------------------------------------------
    def alive(self) -> bool:
        return self.popen.poll() is None

    @property
    def returncode(self) -> int | None:
        return self.popen.poll()

    def wait(self, timeout: float | None = None) -> int | None:
        """Wait for exit until `timeout` (or the process's wall limit); on the wall limit the
        process group is killed and `timed_out` set. Returns the exit code or None."""
        end = self.deadline if timeout is None else min(self.deadline, time.monotonic() + timeout)
        try:
            rc = self.popen.wait(max(0.0, end - time.monotonic()))
        except subprocess.TimeoutExpired:
            if time.monotonic() >= self.deadline:
                self.timed_out = True
                self.kill()
            return None
        self._join_pumps()
        return rc

    def _join_pumps(self) -> None:
        # Output of a dead process is complete once its pipes hit EOF; a grandchild holding
        # the pipe open must not stall the judge, so this wait is bounded.
        self.stdout.join(1.0)
        self.stderr.join(1.0)

    def signal_group(self, sig: int) -> None:
        try:
            os.killpg(self.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def dump_stacks(self, pid: int | None = None) -> None:
        """Ask the launcher's faulthandler to print every thread's stack to stderr. `pid`: a
        process this one forked (it inherited the handler and the stderr), e.g. a worker
        blocked on a lock, instead of this one."""
        if self.alive():
            try:
                os.kill(pid or self.pid, signal.SIGUSR1)
            except ProcessLookupError:
                pass

    def collect_stacks(self, first: float = 0.5, quiet: float = 0.2, pid: int | None = None) -> None:
        """Dump every thread's stack into stderr and wait (bounded) until the dump has arrived
        and stopped growing, so that killing the process next does not lose it (`pid`: as
        for dump_stacks)."""
        if not self.alive():
            return
        pump = self.stderr
        seen = start = pump.total
        self.dump_stacks(pid)
        try:
            with pump.cond:
                if not pump.cond.wait_for(lambda: pump.total > seen or pump.eof, first):
                    return
                for _ in range(50):
                    seen = pump.total
                    if pump.eof or not pump.cond.wait_for(lambda: pump.total > seen or pump.eof, quiet):
                        return
        finally:
            if pump.total > start:
                self._dumps.append((start, pump.total))

    def kill(self) -> None:
        self.signal_kill()
        self.reap()

    def reap(self) -> None:
        """After signal_kill(): wait for the end, the last of the output, and close our ends."""
        try:
            self.popen.wait(5)
        except subprocess.TimeoutExpired:
            pass
        self._join_pumps()
        for f in (self.popen.stdin, self.popen.stdout, self.popen.stderr):
            try:
                if f:
                    f.close()
            except OSError:
                pass
        for fd in self._extra_fds:
            try:
                os.close(fd)
            except OSError:
                pass
        self._extra_fds = ()

    def signal_kill(self) -> None:
        """SIGKILL to the process and its group, without waiting (kill() waits)."""
        self.signal_group(signal.SIGKILL)
        try:
            self.popen.kill()
        except ProcessLookupError:
            pass

    def state(self) -> str:
        """'is still running', 'exited with code 1', 'was killed by signal SIGKILL' (in the
        judge's language)."""
        from ..i18n import say
        rc = self.returncode
        if rc is None:
            return str(say("is still running", "仍在运行"))
        if rc < 0:
            try:
                name = signal.Signals(-rc).name
            except ValueError:
                name = str(-rc)
            return str(say("was killed by signal {sig}", "被信号 {sig} 终止了", sig=name))
        return str(say("exited with code {rc}", "退出了，退出码为 {rc}", rc=rc))

    def describe(self) -> str:
        """'server.py exited with code 1'."""
        return f"{self.name} {self.state()}"

    # -- what /proc says about the running process (for the process/thread/memory checks) ----
    def _status(self) -> dict[str, str]:
        try:
            with open(f"/proc/{self.pid}/status") as f:
                return dict(line.split(":", 1) for line in f if ":" in line)
        except OSError:
            return {}

    def peak_rss_kib(self) -> int | None:
        """Peak resident memory so far (VmHWM), e.g. to prove a server streams an upload."""
        value = self._status().get("VmHWM")
        return int(value.split()[0]) if value else None

    def threads(self) -> int:
        """How many OS threads the process has now (greenlets are not threads)."""
        try:
            return len(os.listdir(f"/proc/{self.pid}/task"))
        except OSError:
            return 0

    def children(self) -> dict[int, str]:
        """The process's direct children and their states ('Z' is a zombie)."""
        return {pid: _state(pid) or "?" for pid in _proc_children(self.pid)}

    def pid_of(self, reported: int) -> int | None:
        """The pid, as the judge sees it, of a process this student reported by its own pid.
        Student processes live in a PID namespace of their own (the student is pid 2 there,
        the pids it prints are that namespace's): /proc's NSpid lines translate. Without a
        namespace, the same pid. None when no such process is alive."""
        mine = _nspid(self.pid)
        if len(mine) < 2:
            return reported
        try:
            ns = os.stat(f"/proc/{self.pid}/ns/pid").st_ino
        except OSError:
            return None
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                chain = _nspid(int(entry.name))
                if len(chain) == len(mine) and chain[-1] == reported:
                    try:
                        if os.stat(f"/proc/{entry.name}/ns/pid").st_ino == ns:
                            return chain[0]
                    except OSError:
                        pass
        return None


def _nspid(pid: int) -> list[int]:
    """A process's pid in each PID namespace it is in, outermost first (/proc's NSpid)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("NSpid:"):
                    return [int(x) for x in line.split()[1:]]
    except OSError:
        pass
    return []


def copy_target(src: Path, dest: Path) -> Path:
    """A working copy of the target folder, so a student can't touch the original."""
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
                    dirs_exist_ok=True)
    return dest


_OPEN: set[str] = set()  # tags of this process's sandboxes that are not cleaned up yet


@dataclass
class Sandbox:
    """All student processes of one test: one working copy, one tag, one cleanup.
    The working copy lives in its own temp folder (owned by the student uid), not under the
    judge's private temp folders, so a dropped-privilege student can use it."""
    target: Path
    workdir: Path | None = None
    limits: Limits = field(default_factory=Limits)
    wall_seconds: float = 10.0
    kill_all_children: bool = False
    procs: list[StudentProcess] = field(default_factory=list)
    tag: str = field(default_factory=lambda: os.urandom(8).hex())
    _copied: bool = False
    closed: bool = False
    ids: tuple[int, int] | None = None

    def _prepare(self) -> Path:
        if not self._copied:
            _OPEN.add(self.tag)
            self.ids = isolation.plan().ids
            if self.workdir is None:
                import tempfile
                self.workdir = Path(tempfile.mkdtemp(prefix="netlab-work-"))
                self._own_workdir = True
            copy_target(self.target, self.workdir)
            if self.ids:
                for folder, dirs, files in os.walk(self.workdir):
                    for name in [folder, *(os.path.join(folder, f) for f in dirs + files)]:
                        os.chown(name, *self.ids)
            self._copied = True
        return self.workdir

    def spawn(self, argv: list[str], *, name: str | None = None, wall_seconds: float | None = None,
              limits: Limits | None = None, pass_fds: tuple = (), keep_stdout: int = 8 * 1024 * 1024,
              env: dict | None = None, fresh: bool = False) -> StudentProcess:
        """Start the student script argv[0] (a file of the target) with argv[1:].
        Forked by the zygote (~2 ms), or with `fresh=True` a new interpreter through the
        launcher (~50 ms; for code that must import things itself first, e.g. gevent)."""
        if self.closed:
            raise RuntimeError("sandbox already cleaned up")
        self._prepare()
        limits = limits or self.limits
        cmd = [sys.executable, *PYTHON_FLAGS, str(LAUNCHER), str(limits.socket_timeout or 0),
               os.pathsep.join(_site_paths()), *argv]
        return self._start(cmd, argv, argv, name or argv[0], wall_seconds, limits, pass_fds,
                           keep_stdout, env, fresh)

    def spawn_driver(self, module: str, *, wall_seconds: float | None = None,
                     limits: Limits | None = None, pass_fds: tuple = (), resp_fd: int,
                     env: dict | None = None) -> StudentProcess:
        """Start the call driver that imports `module` from the working copy."""
        cwd = self._prepare()
        limits = limits or self.limits
        config = {"module": module, "resp_fd": resp_fd, "socket_timeout": limits.socket_timeout,
                  "cwd": str(cwd), "path": _site_paths()}
        cmd = [sys.executable, *PYTHON_FLAGS, str(DRIVER), json.dumps(config)]
        return self._start(cmd, [str(DRIVER), json.dumps(config)], [f"{module}.py"], f"{module}.py",
                           wall_seconds, limits, (*pass_fds, resp_fd), 1024 * 1024, env, False)

    def _start(self, cmd, zargv, argv, name, wall_seconds, limits, pass_fds, keep_stdout, env, fresh):
        from . import zygote
        environ = scrubbed_env(self.workdir, self.tag, env)
        jail = isolation.for_workdir(self.workdir)
        z = None if fresh else zygote.get(_site_paths())
        if z is not None:
            popen = zygote.spawn_child(z, zargv, str(self.workdir), environ, rlimits(limits, self.ids),
                                       self.ids, limits.socket_timeout, pass_fds, jail)
        else:
            popen = subprocess.Popen(
                cmd, cwd=self.workdir, env=environ,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                start_new_session=True, pass_fds=pass_fds, preexec_fn=_preexec(limits, self.ids, jail),
            )
        proc = StudentProcess(popen, name, argv, wall_seconds or self.wall_seconds, keep_stdout)
        self.procs.append(proc)
        return proc

    def cleanup(self) -> list[int]:
        """Kill every process of this test, escaped ones included; return the stray pids killed."""
        self.closed = True
        from . import zygote
        _OPEN.discard(self.tag)
        # Under the zygote a tag cannot be read back (/proc/pid/environ shows the zygote's
        # initial environment), so its children are all taken when no other sandbox is open
        # in this process - always the case in a judge, whose tests run one at a time.
        zpid = None if _OPEN else zygote.current_pid()
        # Everything gets its SIGKILL first, then we wait: the students' ends, and the end of
        # what held them (a PID namespace's relay and init, whose teardown takes a few ms),
        # overlap instead of following each other.
        for proc in self.procs:
            proc.signal_kill()
        killed = kill_strays(self.tag, everything=self.kill_all_children, zygote_pid=zpid)
        for proc in self.procs:
            proc.reap()
        if zpid:  # the zygote reaps what ended under it (relays of PID namespaces included)
            end = time.monotonic() + 5
            while _proc_children(zpid) and time.monotonic() < end:
                time.sleep(0.002)  # polling /proc with a deadline until they are reaped
        if getattr(self, "_own_workdir", False):
            shutil.rmtree(self.workdir, ignore_errors=True)
        return killed


