"""The student's private view of the filesystem (standalone: stdlib only; used by the zygote's
children, by fresh student processes between fork and exec, and by the judge's probe).

`enter(spec)` runs in a new, still single-threaded child before any student code: it makes a
private mount namespace (and, for a non-root grader, a user namespace first), builds a new root
on a tmpfs holding only what the spec lists - the system folders and Python read-only, the
student's working copy read-write, a fresh /tmp and /dev/shm - then pivots into it, so the
course (tests/, solutions/, grader/), other students' copies and the instructor's home are not
there at all. Paths keep their names, so sys.path and file names in feedback stay the same.

spec = {"mode": "root" | "userns", "root": empty dir to build in,
        "ro": [paths], "rw": [paths], "hide": [paths], "proc": bool}
Then the caller drops privileges: root switches to the student's uid (which clears every
capability); in a user namespace `drop_capabilities()` does it. Both set no_new_privs.
"""
import ctypes
import os


CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MS_NOATIME, MS_NODIRATIME, MS_RELATIME = 1024, 2048, 1 << 21
MNT_DETACH = 2
PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS = 4, 38
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "riscv64": 41}.get(os.uname().machine, 155)
# statvfs flag -> mount flag: a bind remounted read-only must keep the flags the kernel locked
_KEEP = ((1, MS_RDONLY), (2, MS_NOSUID), (4, MS_NODEV), (8, MS_NOEXEC), (1024, MS_NOATIME),
         (2048, MS_NODIRATIME), (4096, MS_RELATIME))
DEVICES = ("null", "zero", "full", "random", "urandom")

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _mount(source, target, fstype, flags, data=None) -> None:
    enc = lambda s: None if s is None else s.encode()  # noqa: E731
    _check(_libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)),
           f"mount {source or fstype} on {target}")


def _write(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def _bind(src: str, dst: str, readonly: bool) -> None:
    if os.path.isdir(src):
        os.makedirs(dst, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if not os.path.exists(dst):
            os.close(os.open(dst, os.O_WRONLY | os.O_CREAT, 0o644))
    _mount(src, dst, None, MS_BIND | MS_REC)
    if readonly:
        have = os.statvfs(dst).f_flag
        keep = 0
        for st, ms in _KEEP:
            if have & st:
                keep |= ms
        _mount(None, dst, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | keep)


def _tmpfs(dst: str, mode: str, size: str) -> None:
    os.makedirs(dst, exist_ok=True)
    _mount("tmpfs", dst, "tmpfs", MS_NOSUID | MS_NODEV, f"mode={mode},size={size}")


def _user_namespace(extra: int = 0) -> None:
    """A user namespace in which this process keeps its uid and gid (and gets capabilities)."""
    uid, gid = os.getuid(), os.getgid()
    # /proc/self/uid_map of a non-dumpable process (a judge's fork) belongs to root
    _check(_libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), "prctl(dumpable)")
    _check(_libc.unshare(CLONE_NEWUSER | extra), "unshare(user)")
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/uid_map", f"{uid} {uid} 1")
    _write("/proc/self/gid_map", f"{gid} {gid} 1")


def new_pid_namespace(spec: dict) -> None:
    """Children made after this live in a PID namespace of their own (the first is its pid 1):
    they see and can signal only each other, and die together when that first one ends."""
    if spec["mode"] == "userns":
        _user_namespace(CLONE_NEWPID)
    else:
        _check(_libc.unshare(CLONE_NEWPID), "unshare(pid)")


def enter(spec: dict, in_pid_namespace: bool = False) -> None:
    """Unshare and pivot into the jail the spec describes (see the module docstring).
    `in_pid_namespace`: this is the first process of a new PID namespace (whose user
    namespace, if any, is made already): it gets a /proc of that namespace."""
    if in_pid_namespace:
        _check(_libc.unshare(CLONE_NEWNS), "unshare(mount)")
    elif spec["mode"] == "userns":
        _user_namespace(CLONE_NEWNS)
    else:
        _check(_libc.unshare(CLONE_NEWNS), "unshare(mount)")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    new = spec["root"]
    _mount("tmpfs", new, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m")
    _tmpfs(new + "/tmp", "1777", "256m")  # first: a working copy under /tmp is bound into it
    # parents before children: a hidden folder's tmpfs goes on before what is bound inside it
    steps = [(p, "ro") for p in spec["ro"]] + [(p, "rw") for p in spec["rw"]] + \
            [(p, "hide") for p in spec.get("hide", ())]
    steps.sort(key=lambda s: (s[0].rstrip("/").count("/"), s[1] != "hide"))
    for path, kind in steps:
        dst = new + path
        if kind == "hide":  # an empty folder, read-only once what belongs inside is bound
            _tmpfs(dst, "0755", "1m")
        elif os.path.islink(path) and os.path.dirname(path) == "/":
            os.symlink(os.readlink(path), dst)  # /bin -> usr/bin on a merged-/usr system
        elif os.path.exists(path):
            _bind(path, dst, kind == "ro")
    _tmpfs(new + "/dev", "0755", "64k")
    for name in DEVICES:
        _bind("/dev/" + name, f"{new}/dev/{name}", False)
    _tmpfs(new + "/dev/shm", "1777", "64m")  # multiprocessing's semaphores live here
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
        os.symlink(target, f"{new}/dev/{name}")
    if in_pid_namespace:  # a /proc that shows this namespace's processes only
        os.makedirs(new + "/proc", exist_ok=True)
        _mount("proc", new + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    elif spec.get("proc"):
        os.makedirs(new + "/proc", exist_ok=True)
        _mount("/proc", new + "/proc", None, MS_BIND | MS_REC)
    for path in spec.get("hide", ()):  # what was bound inside is in place: freeze the rest
        if os.path.ismount(new + path):
            _mount(None, new + path, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    os.chdir(new)
    if _libc.syscall(SYS_PIVOT_ROOT, b".", b".") == 0:
        _check(_libc.umount2(b".", MNT_DETACH), "umount the old root")
    else:  # a root pivot_root refuses (initramfs): chroot, with no capability left to escape
        _check(_libc.chroot(b"."), "chroot")
    os.chdir("/")
    _mount(None, "/", None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def drop_capabilities() -> None:
    """In a user namespace the process holds every capability there, even without exec:
    drop them all, so student code cannot remount the jail's read-only binds."""
    header = _CapHeader(0x20080522, 0)
    data = (_CapData * 2)()
    _check(_libc.capset(ctypes.byref(header), ctypes.byref(data)), "capset")


def no_new_privs() -> None:
    """setuid programs (su, mount) give student code nothing."""
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(no_new_privs)")


def confine(jail: dict | None, ids, entered: bool = False) -> None:
    """Everything between fork and student code: the jail (unless `entered` already), then
    the student's uid (or, in a user namespace, no capabilities), then no_new_privs."""
    if jail and not entered:
        enter(jail)
    if jail:
        os.chdir(jail["cwd"])
    if ids:
        os.setgroups([])
        os.setgid(ids[1])
        os.setuid(ids[0])
    elif jail and jail["mode"] == "userns":
        drop_capabilities()
    if jail or ids:
        no_new_privs()
