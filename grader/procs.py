"""The process tree seen from /proc: child subreaper, non-dumpable, and killing strays.

Kept apart from the harness so the grader CLI can use it without importing the harness (each
import costs every `grader check`).
"""
from __future__ import annotations

import os
import signal
import sys

TAG_VAR = "NETLAB_SANDBOX"
PR_SET_CHILD_SUBREAPER = 36
PR_SET_DUMPABLE = 4
PR_SET_PDEATHSIG = 1


def _prctl(option: int, value: int) -> bool:
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def become_subreaper() -> bool:
    """Orphans of our students are re-parented to us, so double-forked daemons stay findable."""
    return sys.platform.startswith("linux") and _prctl(PR_SET_CHILD_SUBREAPER, 1)


def make_undumpable() -> bool:
    """Keep same-uid (non-root) student processes out of our /proc fds, environ and memory."""
    return sys.platform.startswith("linux") and _prctl(PR_SET_DUMPABLE, 0)


def die_with_parent(parent: int) -> None:
    """SIGKILL when `parent` dies (a `kill -9` of grader or of a batch leaves no judge behind;
    a judge's zygote and students follow it). If it died already, go now."""
    import signal
    if sys.platform.startswith("linux"):
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:
            os._exit(70)


def stat_fields(pid: int, tid: int | None = None) -> list[bytes] | None:
    """The fields of /proc/<pid>/stat (or of one thread's, task/<tid>/stat) after the command
    name, which may itself hold spaces and parentheses: [0] state, [1] ppid, [11] utime,
    [12] stime (clock ticks), [19] starttime. None when the process (or thread) is gone."""
    path = f"/proc/{pid}/stat" if tid is None else f"/proc/{pid}/task/{tid}/stat"
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    return data[data.rfind(b")") + 2:].split()


def task_ids(pid: int) -> list[int]:
    """The OS threads of a process (the ids in /proc/<pid>/task), in order; [] when it is gone."""
    try:
        return sorted(int(t) for t in os.listdir(f"/proc/{pid}/task"))
    except (OSError, ValueError):
        return []


def cpu_ticks(fields: list[bytes] | None) -> int | None:
    """utime + stime (clock ticks) from stat_fields(...); None when unknown."""
    try:
        return int(fields[11]) + int(fields[12]) if fields else None
    except (IndexError, ValueError):
        return None


def threads_runnable(pid: int, limit: int) -> bool:
    """Is any of the first `limit` threads of the process running or waiting for a CPU (R),
    or in an uninterruptible wait (D)?"""
    for tid in task_ids(pid)[:limit]:
        fields = stat_fields(pid, tid)
        if fields and fields[0] in (b"R", b"D"):
            return True
    return False


def _proc_children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return _scan_children(pid)


def _scan_children(pid: int) -> list[int]:
    kids = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        fields = stat_fields(int(entry.name))
        if fields and len(fields) > 1 and int(fields[1]) == pid:
            kids.append(int(entry.name))
    return kids


def _has_tag(pid: int, tag: str | None) -> bool:
    """Does `pid` carry our sandbox tag (`tag`, or any tag when None) in its environment?"""
    want = f"{TAG_VAR}={tag}".encode() if tag else f"{TAG_VAR}=".encode()
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            entries = f.read().split(b"\0")
    except OSError:
        return False
    return any(e == want if tag else e.startswith(want) for e in entries)


def kill_strays(tag: str | None, everything: bool = False, rounds: int = 50,
                zygote_pid: int | None = None) -> list[int]:
    """Kill and reap our children that carry `tag` (any tag when None) - or all of them when
    `everything` (a judge has no children but students) - with their whole subtrees. Orphans
    of students are re-parented to us (we are a subreaper), so they are children here too.
    Bounded rounds: a fork bomb racing us is held by RLIMIT_NPROC and caught by the next round."""
    if not sys.platform.startswith("linux"):
        return []
    killed: list[int] = []
    me = os.getpid()
    for _ in range(rounds):
        pending = False
        kids = [(c, everything) for c in _proc_children(me) if c != zygote_pid]
        if zygote_pid:  # the zygote's children are all students
            kids += [(c, True) for c in _proc_children(zygote_pid)]
        for child, take in kids:
            state = _state(child)
            if state == "Z":
                if child in killed or take or _has_tag(child, tag):
                    _reap(child)
                continue
            if state is None or not (take or _has_tag(child, tag)):
                continue
            stack = [child]
            while stack:
                pid = stack.pop()
                stack.extend(_proc_children(pid))
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    continue
                if pid not in killed:  # a new one: look again for what it may have forked
                    killed.append(pid)
                    pending = True
            _reap(child)
        if not pending:
            break
    return killed


def _state(pid: int) -> str | None:
    fields = stat_fields(pid)
    return fields[0].decode() if fields else None


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, 0)  # SIGKILL has been sent: this returns as soon as the kernel is done
    except ChildProcessError:
        pass  # not our child, or reaped already (by subprocess.Popen.wait)


def reap_orphan(pid: int, timeout: float = 5.0) -> None:
    """A judge that died left its fork server (`pid`) to us: we are a subreaper. On losing the
    judge the zygote kills its students and exits: wait for that (bounded), else kill it."""
    import time
    end = time.monotonic() + timeout
    while True:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return  # not ours (its judge is alive and reaped it) or already gone
        if done:
            return
        if time.monotonic() > end:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            _reap(pid)
            return
        time.sleep(0.002)  # polling for its exit, with a deadline


# -- temp folders named by their owner, so that the next one can remove what a killed one left --

def start_time(pid: int) -> str | None:
    """A process's start time (clock ticks since boot): with the pid it names one process."""
    fields = stat_fields(pid)
    return fields[19].decode() if fields and len(fields) > 19 else None


def owned_prefix(kind: str) -> str:
    """netlab-<kind>-<pid>-<start>-: a temp folder's name that says which process owns it."""
    return f"netlab-{kind}-{os.getpid()}-{start_time(os.getpid()) or 0}-"


def sweep_owned(kinds: tuple[str, ...], folder: str | None = None) -> list[str]:
    """Remove our uid's netlab-<kind>-<pid>-<start>-* folders whose process is gone: one
    killed with SIGKILL (a test, the OOM killer, kill -9 of a batch) ran no cleanup."""
    import re
    import shutil
    import tempfile
    folder = folder or tempfile.gettempdir()
    pattern = re.compile(rf"netlab-(?:{'|'.join(map(re.escape, kinds))})-(\d+)-(\d+)-\w+")
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        m = pattern.fullmatch(entry.name)
        try:
            if not m or not entry.is_dir(follow_symlinks=False) or \
                    entry.stat(follow_symlinks=False).st_uid != os.getuid():
                continue
        except OSError:
            continue
        owner = stat_fields(int(m[1]))
        if not owner or len(owner) < 20 or owner[19].decode() != m[2] or owner[0] in (b"Z", b"X"):
            # its process ended (a zombie nobody reaped yet counts), or the pid is another's now
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(entry.path)
    return removed
