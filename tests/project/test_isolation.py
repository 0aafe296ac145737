"""Attacks on the trust boundary, run through the real `grader check`, in every isolation mode
this machine offers: as root (own uid + private mount namespace, and own uid only), as an
unprivileged user (user namespace), with the course in an open folder and in a 0700 one, and
with an interpreter that other users cannot reach (as pyenv installs it under /root).

Each attack submission's server.py tries to forge a result (through /proc/<pid>/fd, pidfd_getfd
and ptrace of every process it can see, the judge's results fd first), to write into the
course (tests/, solutions/, grader/, by the path and through /proc/<pid>/cwd and root), and to
kill the judge and the grader. It prints ATTACK-TRIED, and ATTACK-OK:<what> for anything that
worked. A run must score zero, announce exactly the course's checks, leave the course as it
was, and show no ATTACK-OK.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import suite_checks, unusable_by

from grader import course as course_mod
from grader.harness import isolation

MAIN = Path(__file__).resolve().parents[2]
TCP_ECHO = course_mod.load(MAIN, check_folders=False).exercises["tcp_echo"]
NOBODY = 4242  # the unprivileged user the non-root runs use

ATTACK = r'''
import ctypes, json, os, signal, sys
COURSE = __COURSE__
KILL = __KILL__
ok, me = [], os.getpid()
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
print("ATTACK-TRIED uid", os.geteuid(), file=sys.stderr, flush=True)
if os.geteuid() == 0:
    ok.append("runs-as-root")

def cmd(pid):
    try:
        return open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
    except OSError:
        return []

pids = [int(p) for p in os.listdir("/proc") if p.isdigit()] if os.path.isdir("/proc/self") else []
pids += [os.getppid()]
ids = ["tests/tcp_echo/test_tcp_echo.py::" + n for n in (
    "test_echoes_small_payload", "test_empty_client_then_next", "test_closes_when_client_closes")]
forged = [{"event": "collected", "hidden": 0, "tests": [
    {"id": "forged::test_x", "name": "test_x", "title": "forged", "exercise": "tcp_echo",
     "max_score": 100, "visibility": "visible", "hint": None, "time_limit": 10}]}]
forged += [{"event": "result", "id": i, "name": i, "title": i, "exercise": "tcp_echo",
            "visibility": "visible", "max_score": 100, "score": 100, "status": "passed",
            "output": ""} for i in ["forged::test_x", *ids]]
forged.append({"event": "done"})
lines = "".join(json.dumps(e) + "\n" for e in forged).encode()

for pid in set(pids):
    if pid == me:
        continue
    argv = cmd(pid)
    fds = []
    if b"--netlab-results-fd" in argv:
        fds.append(argv[argv.index(b"--netlab-results-fd") + 1].decode())
    try:
        fds += os.listdir(f"/proc/{pid}/fd")
    except OSError:
        pass
    for fd in fds:
        try:
            with open(f"/proc/{pid}/fd/{fd}", "wb") as f:
                f.write(lines)
            ok.append(f"proc-fd:{pid}/{fd}")
        except OSError:
            pass
    pidfd = libc.syscall(434, pid, 0)                         # pidfd_open
    if pidfd >= 0:
        for fd in range(64):
            got = libc.syscall(438, pidfd, fd, 0)             # pidfd_getfd
            if got >= 0:
                ok.append(f"pidfd-getfd:{pid}/{fd}")
                try:
                    os.write(got, lines)
                except OSError:
                    pass
    if libc.ptrace(16, pid, 0, 0) == 0:                       # PTRACE_ATTACH
        ok.append(f"ptrace:{pid}")
        libc.ptrace(17, pid, 0, 0)
    for via in (f"/proc/{pid}/cwd", f"/proc/{pid}/root" + COURSE):
        try:
            open(f"{via}/tests/tcp_echo/test_pwned.py", "w").write("x")
            ok.append(f"write:{via}")
        except OSError:
            pass
for sub in ("tests/tcp_echo", "solutions/tcp_echo", "grader", "."):
    try:
        open(f"{COURSE}/{sub}/pwned.py", "w").write("def test_pwned(): pass\n")
        ok.append(f"write:{sub}")
    except OSError:
        pass
try:
    os.listdir(f"{COURSE}/solutions")
    print("ATTACK-READ:solutions", file=sys.stderr, flush=True)  # only the uid-only mode allows it
except OSError:
    pass
if KILL:
    for pid in set(pids):
        if pid != me and any(w in b" ".join(cmd(pid)) for w in (b"pytest", b"grader", b"_zygote")):
            try:
                os.kill(pid, signal.SIGKILL)
                ok.append(f"kill:{pid}")
            except OSError:
                pass
    try:
        os.kill(os.getppid(), signal.SIGKILL)
        ok.append("kill:parent")
    except OSError:
        pass
for what in ok:
    print("ATTACK-OK:" + what, file=sys.stderr, flush=True)
sys.exit(1)
'''


def _tree_digest(root: Path) -> str:
    h = hashlib.sha256()
    paths = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in (".netlab", "__pycache__")]  # the grader's own
        paths += [Path(folder, name) for name in files]
    for path in sorted(paths):
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def _course_copy(base: Path, owner: int | None = None) -> Path:
    course = base / "course"
    shutil.copytree(MAIN, course, ignore=shutil.ignore_patterns(
        ".git", ".venv", ".netlab", "__pycache__", "*.egg-info", "bench", ".ci"))
    if owner is not None:
        for folder, dirs, files in os.walk(base):
            for name in [folder, *(os.path.join(folder, f) for f in dirs + files)]:
                os.chown(name, owner, owner)
    return course


def _submission(base: Path, course: Path, kill: bool, owner: int | None = None) -> Path:
    target = base / "submission"
    (target / "tcp_echo").mkdir(parents=True)
    script = ATTACK.replace("__COURSE__", repr(str(course))).replace("__KILL__", repr(kill))
    (target / "tcp_echo" / "server.py").write_text(script)
    (target / "tcp_echo" / "client.py").write_text("raise SystemExit(1)\n")
    if owner is not None:
        for path in (target, target / "tcp_echo", *(target / "tcp_echo").iterdir()):
            os.chown(path, owner, owner)
    return target


def _python_in_private_folder(base: Path) -> str:
    """An interpreter only its owner can reach, as pyenv's under /root: a venv with a copied
    binary inside a 0700 folder, seeing this venv's packages through a .pth file."""
    venv = base / "private-python"
    subprocess.run([sys.executable, "-m", "venv", "--copies", "--without-pip", str(venv)], check=True)
    site = next(venv.glob("lib/python3*/site-packages"))
    (site / "netlab-deps.pth").write_text("\n".join(isolation.site_paths()) + "\n")
    return str(venv / "bin" / "python")


def _grade(course: Path, target: Path, python: str = sys.executable, user: int | None = None,
           env: dict | None = None):
    cmd = [python, "-m", "grader", "check", "tcp_echo", "--target", str(target), "--all", "--json"]
    if user is not None:
        cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *cmd]
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("NETLAB_", "PYTEST_"))}
    environ.update(env or {}, HOME=str(course.parent), NETLAB_WARM="0")
    return subprocess.run(cmd, cwd=course, env=environ, capture_output=True, text=True, timeout=120)


def _assert_defeated(proc, course: Path, before: str, *, may_die: bool = False, hidden: bool = True):
    assert _tree_digest(course) == before, "the submission changed the course"
    if may_die and proc.returncode < 0:
        return  # a same-uid student killed its own grader: no output, and nothing forged
    assert proc.stdout.strip(), f"no JSON (exit {proc.returncode}): {proc.stderr[-2000:]}"
    result = json.loads(proc.stdout)
    text = json.dumps(result, ensure_ascii=False)
    assert "ATTACK-TRIED" in text, "the attack did not run: this test proves nothing"
    worked = {w.split('"')[0].split("\\n")[0] for w in text.split("ATTACK-OK:")[1:]}
    if may_die:  # same uid: a student may kill its own judge's processes, nothing more
        worked = {w for w in worked if not w.startswith("kill:")}
    assert not worked, worked
    assert result["score"] == 0
    assert not hidden or "ATTACK-READ" not in text, "the course is visible to student code"
    assert {t["name"] for t in result["tests"]} == suite_checks("tcp_echo")
    assert not any(t["name"] == "test_x" for t in result["tests"])
    assert proc.returncode == 1
    return result


@pytest.fixture
def open_dir():
    """A folder every user can reach (pytest's tmp_path sits in a 0700 folder)."""
    import tempfile
    path = Path(tempfile.mkdtemp(prefix="netlab-attack-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _root_only():
    if os.geteuid() != 0:
        pytest.skip("needs root: this mode switches uids")


@pytest.mark.parametrize("private", [False, True], ids=["open-folder", "0700-folder"])
@pytest.mark.parametrize("mode", ["jail+uid", "uid"])
def test_attacks_fail_as_root(open_dir, private, mode):
    _root_only()
    base = open_dir / "base"
    base.mkdir(mode=0o700 if private else 0o755)
    if mode == "uid" and (private or unusable_by(NOBODY)):
        pytest.skip("own-uid-only mode needs the course's Python reachable by other users")
    course = _course_copy(base)
    env = {"NETLAB_ISOLATION": "uid"} if mode == "uid" else {}
    for kill in (False, True):
        target = _submission(base / f"k{kill}", course, kill)
        before = _tree_digest(course)
        proc = _grade(course, target, env=env)
        result = _assert_defeated(proc, course, before, hidden=mode == "jail+uid")
        assert ("without a private filesystem view" in result["isolation"]) == (mode == "uid")


def test_attacks_fail_as_root_with_a_private_interpreter(tmp_path):
    """The Python a new user gets here lives under /root (0700): students still get their own
    uid, inside a mount namespace that makes the interpreter reachable, and nothing else."""
    _root_only()
    base = tmp_path / "base"
    base.mkdir(mode=0o700)
    python = _python_in_private_folder(base)
    course = _course_copy(base)
    target = _submission(base / "sub", course, kill=True)
    before = _tree_digest(course)
    proc = _grade(course, target, python=python)
    result = _assert_defeated(proc, course, before)
    assert "private filesystem view" in result["isolation"], result["isolation"]
    good = _grade(course, course / "solutions", python=python)
    assert json.loads(good.stdout)["score"] == TCP_ECHO.points, good.stdout[-3000:]


def _unprivileged_python_works() -> str | None:
    return unusable_by(NOBODY, "grader, pytest")


@pytest.mark.parametrize("private", [False, True], ids=["open-folder", "0700-folder"])
def test_attacks_fail_as_an_unprivileged_user(open_dir, private):
    why = _unprivileged_python_works()
    if why:
        pytest.skip(why)
    base = open_dir / "base"
    base.mkdir(mode=0o700 if private else 0o755)
    course = _course_copy(base, owner=NOBODY)
    check = _grade(course, course / "solutions", user=NOBODY)
    mode = json.loads(check.stdout)["isolation"]
    if "user namespace" not in mode:
        pytest.skip(f"user namespaces unavailable: {mode}")
    assert json.loads(check.stdout)["score"] == TCP_ECHO.points
    target = _submission(base / "sub", course, kill=False, owner=NOBODY)
    before = _tree_digest(course)
    _assert_defeated(_grade(course, target, user=NOBODY), course, before)
    # a same-uid student may kill its own grader: it then scores nothing and changes nothing
    target = _submission(base / "kill", course, kill=True, owner=NOBODY)
    _assert_defeated(_grade(course, target, user=NOBODY), course, before, may_die=True)


def test_a_submission_is_refused_where_nothing_can_confine_it(tmp_path):
    base = tmp_path / "base"
    base.mkdir()
    course = _course_copy(base)
    target = _submission(base / "sub", course, kill=False)
    env = {"NETLAB_ISOLATION": "none"}
    refused = _grade(course, target, env=env)
    assert refused.returncode == 2
    assert "--trust-submission" in refused.stderr
    assert json.loads(refused.stdout)["score"] == 0
    assert "ATTACK-TRIED" not in refused.stdout  # nothing of the submission ran
    # the course's own code still runs, with the mode said in one line
    own = _grade(course, course / "solutions", env=env)
    assert json.loads(own.stdout)["score"] == TCP_ECHO.points
    assert "NO isolation" in json.loads(own.stdout)["isolation"]


ESCAPES = "\x1b[2J\x1b[H\x1b[32m  \u2714 echoes a small payload  1/1\x1b[8m\r\u202e笔记.txt"


def test_terminal_escapes_in_student_output_are_shown_not_obeyed(tmp_path):
    base = tmp_path / "base"
    base.mkdir()
    course = _course_copy(base)
    target = base / "sub"
    (target / "tcp_echo").mkdir(parents=True)
    (target / "tcp_echo" / "server.py").write_text(
        f"import sys\nsys.stderr.write({ESCAPES!r} + '\\n')\nsys.exit(1)\n")
    (target / "tcp_echo" / "client.py").write_text("raise SystemExit(1)\n")
    for as_json in (True, False):
        cmd = [sys.executable, "-m", "grader", "check", "tcp_echo", "--target", str(target)]
        out = subprocess.run(cmd + (["--json"] if as_json else []), cwd=course, capture_output=True,
                             text=True, timeout=60, env={**os.environ, "NO_COLOR": "1",
                                                         "NETLAB_WARM": "0"}).stdout
        shown = json.loads(out)["tests"][0]["output"] if as_json else out
        assert "\x1b" not in shown and "\r" not in shown and "\u202e" not in shown
        assert "\\x1b[2J" in shown and "\\u202e" in shown
        assert "笔记.txt" in shown  # printable Unicode stays readable


def test_student_code_has_a_loopback_of_its_own_as_root(open_dir):
    """As root each judge has its own network namespace: a submission reaches nothing the
    machine listens on (here: this test's own listener), so it cannot talk to or squat the
    ports of other judges or services."""
    _root_only()
    import socket
    outside = socket.create_server(("127.0.0.1", 0))
    port = outside.getsockname()[1]
    base = open_dir / "base"
    base.mkdir()
    course = _course_copy(base)
    target = base / "sub"
    (target / "tcp_echo").mkdir(parents=True)
    (target / "tcp_echo" / "server.py").write_text(
        "import socket, sys\n"
        "print('NET-TRIED', file=sys.stderr, flush=True)\n"
        f"socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
        "print('NET-REACHED', file=sys.stderr, flush=True)\n")
    (target / "tcp_echo" / "client.py").write_text("raise SystemExit(1)\n")
    try:
        out = json.loads(_grade(course, target).stdout)
    finally:
        outside.close()
    text = json.dumps(out)
    assert "NET-TRIED" in text and "NET-REACHED" not in text
    assert "private loopback network" in out["isolation"]


def test_a_submission_that_fills_the_disk_fills_only_its_scratch_space(open_dir):
    """As root each judge keeps its students' working copies on a size-limited tmpfs of its
    own: writing until the disk is full ends at that size, the machine's disk untouched."""
    _root_only()
    base = open_dir / "base"
    base.mkdir()
    course = _course_copy(base)
    target = base / "sub"
    (target / "tcp_echo").mkdir(parents=True)
    (target / "tcp_echo" / "server.py").write_text(
        "import os, sys\n"
        "block, total, n = b'x' * (8 << 20), 0, 0\n"
        "try:\n"
        "    while total < (4 << 30):\n"
        "        n += 1\n"
        "        with open(f'fill{n}', 'wb') as f:\n"
        "            for _ in range(7):\n"
        "                f.write(block); total += len(block)\n"
        "except OSError as exc:\n"
        "    print('FILLED', total >> 20, 'MiB', exc.errno, file=sys.stderr, flush=True)\n")
    (target / "tcp_echo" / "client.py").write_text("raise SystemExit(1)\n")
    free_before = shutil.disk_usage("/tmp").free
    proc = subprocess.run([sys.executable, "-m", "grader", "check", "tcp_echo", "--target",
                           str(target), "--json"], cwd=course, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "NETLAB_WARM": "0"})
    out = json.loads(proc.stdout)
    filled = [l for l in out["tests"][0]["output"].splitlines() if "FILLED" in l]
    assert filled, out["tests"][0]["output"]
    mib, errno_ = int(filled[0].split()[1]), int(filled[0].split()[3])
    assert mib <= isolation.SCRATCH_MB and errno_ == 28  # ENOSPC of its own tmpfs
    assert shutil.disk_usage("/tmp").free > free_before - (64 << 20)
