"""How student code is kept from the judge, the course and other students: which mode this
machine allows, what the student's filesystem view holds, and the one line that says so.

Modes, best first (the judge probes once, in a forked child, which one works here):
- "jail+uid"  grader is root: a private mount namespace (only the system folders, Python and
              the student's working copy; see _jail.py) and a uid of the student's own
              (1,000,000 + the judge's pid), so it cannot read, signal or trace the judge, the
              grader, or another judge's students.
- "jail"      grader is not root: a user namespace with the same private view; student code
              keeps the grader's uid (it can still signal the grader's processes: it can hurt
              only its own checks), has no capability and no /proc.
- "uid"       root without mount namespaces (e.g. a container): own uid only; needs Python
              and the harness where every user can read them.
- "none"      student code runs with the grader's own rights.
NETLAB_ISOLATION=uid|none asks for less (tests of the weaker modes); NETLAB_STUDENT_UID sets the
student uid ('keep': mode none for root).
"""
from __future__ import annotations

import functools
import os
import site
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..procs import owned_prefix, sweep_owned

HERE = Path(__file__).resolve().parent
SYSTEM_RO = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
HIDE: set[str] = set()   # folders that must not appear in the student's view (the course)


@dataclass
class Plan:
    mode: str
    ids: tuple[int, int] | None = None
    why: str = ""                       # why not a stronger mode
    jail: dict | None = field(default=None, repr=False)
    network: bool = False               # the judge and its students have a loopback of their own
    scratch: str | None = None          # a size-limited tmpfs holding the working copies

    @property
    def isolated(self) -> bool:
        return self.mode != "none"

    def describe(self) -> str:
        from ..i18n import say
        if self.mode == "jail+uid" and self.network:
            return say("student code runs as uid {uid} in a private filesystem view and a "
                       "private loopback network (mount and network namespaces)",
                       "学生代码以 uid {uid} 运行在私有的文件系统视图和私有的回环网络中（挂载与网络命名空间）",
                       uid=self.ids[0]).render()
        if self.mode == "jail+uid":
            return say("student code runs as uid {uid} in a private filesystem view "
                       "(mount namespace)", "学生代码以 uid {uid} 运行在私有的文件系统视图中（挂载命名空间）",
                       uid=self.ids[0]).render()
        if self.mode == "jail":
            return say("student code runs in a user namespace with a private filesystem view "
                       "(same uid as you)", "学生代码运行在用户命名空间中，只看得到私有的文件系统视图（与你同一个 uid）").render()
        if self.mode == "uid":
            return say("student code runs as uid {uid}, without a private filesystem view ({why})",
                       "学生代码以 uid {uid} 运行，没有私有的文件系统视图（{why}）",
                       uid=self.ids[0], why=self.why).render()
        return say("NO isolation: student code runs with your rights ({why})",
                   "没有任何隔离：学生代码以你的权限运行（{why}）", why=self.why).render()


def site_paths() -> list[str]:
    paths = [*site.getsitepackages(), site.getusersitepackages()] if hasattr(site, "getsitepackages") else []
    return [p for p in paths if os.path.isdir(p)]


def _python_paths() -> list[str]:
    """The interpreter, its standard library and the installed packages (venv and base)."""
    exe = os.path.realpath(sys.executable)
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
             os.path.dirname(exe), os.path.dirname(os.path.abspath(sys.executable)), *site_paths()}
    return sorted(os.path.realpath(p) for p in paths if p and os.path.exists(p))


def jail_spec(mode: str, workdir: str | None = None, extra_ro: tuple = ()) -> dict:
    ro = [*SYSTEM_RO, *_python_paths(), str(HERE), *extra_ro]
    ro = [p for i, p in enumerate(ro) if p not in ro[:i]]
    return {"mode": "root" if mode == "jail+uid" else "userns", "root": _jail_root(),
            "ro": ro, "rw": [workdir] if workdir else [], "hide": sorted(HIDE),
            "proc": mode == "jail+uid", "cwd": workdir or "/"}


@functools.cache
def _jail_root() -> str:
    """An empty folder that each student's jail mounts its tmpfs root on (in its own
    namespace: the folder itself stays empty)."""
    path = tempfile.mkdtemp(prefix=owned_prefix("jail"))
    import atexit
    atexit.register(lambda: os.rmdir(path) if os.path.isdir(path) else None)
    return path


def _open_to_others(path: str, need: int) -> bool:
    """Can a user with no relation to the owner reach `path` (every folder above it o+x) and
    use it with `need` (stat mode bits for 'others')?"""
    path = os.path.realpath(path)
    try:
        if os.stat(path).st_mode & need != need:
            return False
        parent = os.path.dirname(path)
        while True:
            if not os.stat(parent).st_mode & 0o001:
                return False
            if parent == "/":
                return True
            parent = os.path.dirname(parent)
    except OSError:
        return False


def _probe(mode: str, ids) -> str | None:
    """Try the jail in a forked child (a few ms, once per judge): None if it works, else why."""
    if not sys.platform.startswith("linux"):
        return "not Linux"
    from . import _jail
    spec = jail_spec(mode)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child calls nothing but syscalls, then _exit
        os.close(r)
        try:
            _jail.confine(spec, ids)
            os.listdir("/")
            code = 0
        except BaseException as exc:  # noqa: BLE001 - reported to the parent
            os.write(w, str(exc).encode()[:500])
            code = 1
        os._exit(code)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        why = f.read().decode(errors="replace")
    _, status = os.waitpid(pid, 0)
    return None if os.waitstatus_to_exitcode(status) == 0 else (why or "the jail could not be set up")


@functools.cache
def probe_mode() -> tuple[str, str]:
    """The strongest mode this machine allows, and why not a stronger one (probed once per
    process tree: a warm judge probes before it forks its judges)."""
    wanted = os.environ.get("NETLAB_ISOLATION", "auto")
    if wanted == "none":
        return "none", "NETLAB_ISOLATION=none"
    if os.geteuid() == 0:
        if os.environ.get("NETLAB_STUDENT_UID", "") == "keep":
            return "none", "NETLAB_STUDENT_UID=keep"
        uid = 1_000_000 + os.getpid()
        why = "NETLAB_ISOLATION=uid" if wanted == "uid" else _probe("jail+uid", (uid, uid))
        if why is None:
            return "jail+uid", ""
        needs = [(sys.executable, 0o005), (str(HERE / "_launch.py"), 0o004),
                 (str(HERE / "_driver.py"), 0o004), (str(HERE / "_main.py"), 0o004),
                 *((p, 0o005) for p in site_paths())]
        blocked = [p for p, need in needs if not _open_to_others(p, need)]
        if blocked:
            return "none", (f"no mount namespace ({why}), and {blocked[0]} is not reachable "
                            "by other users")
        return "uid", f"no mount namespace: {why}"
    if wanted == "uid":
        return "none", "NETLAB_ISOLATION=uid, but only root can switch uids"
    why = _probe("jail", None)
    if why is None:
        return "jail", ""
    return "none", (f"user namespaces are not available here: {why}; allow them "
                    "(sysctl kernel.unprivileged_userns_clone=1) or run the grader as root")


_PLANS: dict[int, Plan] = {}


def plan() -> Plan:
    """The isolation of this judge's student processes. The student uid is 1,000,000 + the
    judge's pid (NETLAB_STUDENT_UID sets one), unique among live judges: students of two
    judges cannot signal or read each other."""
    me = os.getpid()
    if me not in _PLANS:
        mode, why = probe_mode()
        ids = None
        if mode in ("jail+uid", "uid"):
            choice = os.environ.get("NETLAB_STUDENT_UID", "")
            uid = int(choice) if choice else 1_000_000 + me
            ids = (uid, uid)
        jail = jail_spec(mode) if mode in ("jail+uid", "jail") else None
        _PLANS[me] = Plan(mode, ids, why, jail)
    return _PLANS[me]


def private_network() -> str | None:
    """Put this judge (and so every student process it starts later) into a network namespace
    of its own with only a loopback interface: a submission cannot squat another judge's ports
    or reach anything beyond this machine. Root only (NETLAB_NETNS=0 turns it off). Returns
    None when done, else why not. Called before any thread or student process exists."""
    if os.geteuid() != 0 or os.environ.get("NETLAB_NETNS") == "0" or not sys.platform.startswith("linux"):
        return "not root" if os.geteuid() != 0 else "turned off"
    import ctypes
    import fcntl
    import socket
    import struct
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(0x40000000) != 0:  # CLONE_NEWNET
        return os.strerror(ctypes.get_errno())
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:  # bring 'lo' up
        req = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(s, 0x8913, req))[1]   # SIOCGIFFLAGS
        fcntl.ioctl(s, 0x8914, struct.pack("16sH14x", b"lo", flags | 0x1 | 0x40))  # UP|RUNNING
    plan().network = True
    return None


SCRATCH_MB = 512


def private_scratch(size_mb: int = SCRATCH_MB) -> str | None:
    """Give this judge a mount namespace of its own with a size-limited tmpfs for its students'
    working copies (tempfile's folder from now on): a submission that writes until the disk is
    full fills that, not the machine's disk. Root only. Returns the folder, or None."""
    if os.geteuid() != 0 or not sys.platform.startswith("linux"):
        return None
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(0x00020000) != 0:  # CLONE_NEWNS
        return None
    libc.mount(None, b"/", None, ctypes.c_ulong(16384 | (1 << 18)), None)  # MS_REC | MS_PRIVATE
    sweep_owned(("jail", "scratch"))  # what judges killed before us (kill -9, OOM) left behind
    folder = tempfile.mkdtemp(prefix=owned_prefix("scratch"))
    opts = f"mode=0755,size={size_mb}m".encode()
    if libc.mount(b"tmpfs", folder.encode(), b"tmpfs", ctypes.c_ulong(2 | 4), opts) != 0:  # nosuid,nodev
        os.rmdir(folder)
        return None
    tempfile.tempdir = folder
    plan().scratch = folder
    return folder


def release_scratch() -> None:
    """Unmount this judge's scratch tmpfs (its students are gone) and remove the empty folder."""
    folder = plan().scratch if os.getpid() in _PLANS else None
    if folder:
        import ctypes
        ctypes.CDLL(None).umount2(folder.encode(), 2)  # MNT_DETACH
        try:
            os.rmdir(folder)
        except OSError:
            pass
        plan().scratch = None


def for_workdir(workdir: Path) -> dict | None:
    """The jail spec of one sandbox: the plan's, with its working copy bound read-write."""
    p = plan()
    if p.jail is None:
        return None
    return {**p.jail, "rw": [str(workdir)], "cwd": str(workdir), "hide": sorted(HIDE)}
