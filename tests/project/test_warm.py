"""The warm judge: same results as a cold one, private to its user, out of student code's reach,
replaced when it dies or when grader's own files change."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from conftest import alive, descendants, own_children, suite_checks

from grader import course as course_mod, shards, state

MAIN = Path(__file__).resolve().parents[2]
TCP_ECHO = course_mod.load(MAIN, check_folders=False).exercises["tcp_echo"]
TCP_ECHO_CHECKS = len(suite_checks("tcp_echo"))


@pytest.fixture
def course(tmp_path):
    """A copy of the course in a folder every user can reach, with its own runtime folder;
    its warm process is stopped at the end."""
    base = Path(tempfile.mkdtemp(prefix="netlab-warm-", dir="/tmp"))
    base.chmod(0o755)
    root = base / "course"
    shutil.copytree(MAIN, root, ignore=shutil.ignore_patterns(
        ".git", ".venv", ".netlab", "__pycache__", "*.egg-info", "bench", ".ci"))
    runtime = base / "run"  # short: a Unix socket's path holds at most 107 bytes
    runtime.mkdir(mode=0o700)
    yield root, runtime
    stop(root, runtime)
    shutil.rmtree(base, ignore_errors=True)


def stop(root: Path, runtime: Path) -> None:
    """Stop the course's warm process and wait until it is gone (it may be our child: this
    test process is a subreaper, as the judge plugin makes it)."""
    if not list(runtime.glob("netlab/warm-*.sock")):
        return
    pid = warm_pid(runtime)
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime)}
    subprocess.run([sys.executable, "-c", f"from grader import warm; warm.stop({str(root)!r})"],
                   cwd=root, env=env, timeout=30)
    import select
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    select.select([fd], [], [], 30)
    os.close(fd)
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def grade(root: Path, runtime: Path, target, warm: str, *args: str, jobs: int | None = None,
          env_extra: dict | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NETLAB_", "PYTEST_"))}
    env.update(XDG_RUNTIME_DIR=str(runtime), NETLAB_WARM=warm, **(env_extra or {}))
    if jobs is not None:
        env["NETLAB_JOBS"] = str(jobs)
    proc = subprocess.run([sys.executable, "-m", "grader", "check", "tcp_echo", "--target",
                           str(target), "--all", "--json", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip(), proc.stderr[-3000:]
    return json.loads(proc.stdout)


def comparable(result: dict) -> dict:
    """Everything but timings and what differs between any two runs, warm or cold: the
    per-judge student uid and loopback address, ports, how far a send got before a close."""
    def same(text: str) -> str:
        text = re.sub(r"uid \d+", "uid N", text)
        text = re.sub(r"(127\.\d+\.\d+\.\d+|0\.0\.0\.0):\d+", "ADDR", text)
        return re.sub(r"after \d+ of (\d+) bytes", r"after N of \1 bytes", text)
    out = {k: v for k, v in result.items() if k != "execution_time"}
    out["isolation"] = same(out.get("isolation") or "")
    out["tests"] = [{**t, "output": same(t["output"])} for t in out["tests"]]
    return out


def mutant_targets(root: Path, names=("serves_one_client", "server_one_recv")) -> list[Path]:
    from grader import mutants
    out = []
    for m in mutants.load(root / "tests", "tcp_echo"):
        if m.name in names:
            target = root.parent / f"mutant-{m.name}"
            m.apply(root / "solutions" / "tcp_echo", target / "tcp_echo")
            out.append(target)
    assert len(out) == len(names)
    return out


def warm_pid(runtime: Path) -> int:
    [sock] = list(runtime.glob("netlab/warm-*.sock"))
    import socket
    import struct
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(sock))
        creds = s.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", creds)[0]


def test_warm_and_cold_judges_give_the_same_results(course):
    root, runtime = course
    # feedback that is the same on every run: compared whole
    for target in [root / "solutions", root / "exercises", *mutant_targets(root, ("binds_everywhere",))]:
        w = comparable(grade(root, runtime, target, "require"))
        c = comparable(grade(root, runtime, target, "0"))
        for a, b in zip(w.pop("tests"), c.pop("tests")):
            assert a == b, (target, a["output"], b["output"])
        assert w == c, target
    # a server that dies mid-conversation is told apart by a race (refused, reset, or cut
    # short): the same verdicts, whatever words the race chose on either run
    for target in mutant_targets(root, ("serves_one_client", "server_one_recv")):
        w, c = grade(root, runtime, target, "require"), grade(root, runtime, target, "0")
        verdicts = lambda r: [(t["name"], t["status"], t["score"]) for t in r["tests"]]  # noqa: E731
        assert verdicts(w) == verdicts(c), target
        assert w["score"] < w["max_score"]


def test_shards_and_one_judge_give_the_same_results(course):
    """`grader check` runs its checks in two forked shards (grader/shards.py): the report is
    the one a judge running them one after another gives, warm or cold."""
    root, runtime = course
    for target in [root / "solutions", root / "exercises", *mutant_targets(root, ("binds_everywhere",))]:
        one = comparable(grade(root, runtime, target, "0", jobs=1))
        one_tests = one.pop("tests")
        for warm in ("0", "require"):
            two = comparable(grade(root, runtime, target, warm, jobs=2))
            two_tests = two.pop("tests")
            assert len(one_tests) == len(two_tests) == TCP_ECHO_CHECKS
            for a, b in zip(one_tests, two_tests):
                assert a == b, (target, warm, a["output"], b["output"])
            assert one == two, (target, warm)


def test_shards_take_the_checks_the_last_run_found_longest_first(course):
    """Each check's seconds are kept in .netlab/seconds.json; the next check's shards take the
    longest first (so a long one does not start last), and the report keeps the suite's order,
    whatever order the checks ran in."""
    root, runtime = course
    first = grade(root, runtime, root / "solutions", "0", jobs=2)
    took = json.loads((root / ".netlab" / "seconds.json").read_text())["tcp_echo"]
    assert sorted(took) == sorted(t["name"] for t in first["tests"])
    assert all(isinstance(s, float) and s > 0 for s in took.values())
    assert state.check_order(root, "tcp_echo") == sorted(took, key=lambda n: -took[n])
    # the most unlikely order of all: the shortest first; same report
    took = {name: float(i + 1) for i, name in enumerate(t["name"] for t in first["tests"])}
    (root / ".netlab" / "seconds.json").write_text(json.dumps({"tcp_echo": took}))
    again = grade(root, runtime, root / "solutions", "require", jobs=2)
    assert [t["name"] for t in again["tests"]] == [t["name"] for t in first["tests"]]
    assert comparable(again) == comparable(first)


def test_queue_order_puts_unknown_checks_first_then_the_longest():
    names = ["a", "b", "c", "d", "e"]
    assert shards.queue_order(names, []) == [0, 1, 2, 3, 4]
    assert shards.queue_order(names, ["c", "a", "e"]) == [1, 3, 2, 0, 4]
    assert shards.queue_order(names, ["gone", "e", "d", "c", "b", "a"]) == [4, 3, 2, 1, 0]


def test_a_broken_seconds_file_gives_no_order(tmp_path):
    (tmp_path / ".netlab").mkdir()
    for text in ("", "[1, 2]", '{"tcp_echo": {"x": "slow"}}', '{"tcp_echo": 3}'):
        (tmp_path / ".netlab" / "seconds.json").write_text(text)
        assert state.check_order(tmp_path, "tcp_echo") == []
    state.record_seconds(tmp_path, "tcp_echo", [{"name": "x", "seconds": 0.5}, {"name": "y", "seconds": 2.0},
                                                {"name": "z", "seconds": None}])
    assert state.check_order(tmp_path, "tcp_echo") == ["y", "x"]


HANGS = """import socket, sys, time
sys.stdout.write("started\\n"); sys.stdout.flush()
while True:
    time.sleep(60)
"""


def test_a_killed_check_leaves_no_shard_behind(course):
    """kill -9 of `grader check` while two shards run hanging students: the judge, its shards,
    their fork servers and the students all end (death signals and EOFs, no sweeping)."""
    root, runtime = course
    target = root.parent / "hangs"
    (target / "tcp_echo").mkdir(parents=True)
    for name in ("server.py", "client.py"):
        (target / "tcp_echo" / name).write_text(HANGS)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NETLAB_", "PYTEST_"))}
    env.update(XDG_RUNTIME_DIR=str(runtime), NETLAB_WARM="0", NETLAB_JOBS="2")
    ours = own_children()
    proc = subprocess.Popen([sys.executable, "-m", "grader", "check", "tcp_echo", "--target",
                             str(target), "--all", "--json", "--trust-submission"], cwd=root, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import time
    deadline = time.monotonic() + 60
    below: set[int] = set()
    while time.monotonic() < deadline:  # polling /proc, with a deadline, for two shards at work
        below = descendants(proc.pid)
        zygotes = [p for p in below if "_zygote.py" in _cmdline(p)]
        if len(zygotes) >= 2 and len(below) >= 6:
            break
        time.sleep(0.02)
    else:
        proc.kill()
        proc.wait()
        pytest.fail(f"two shards never ran: {[(p, _cmdline(p)) for p in below]}")
    proc.kill()
    proc.wait()
    # what was running then, and what a shard started after that look: orphans come to us
    # (this process is a subreaper), as a student a shard forked between the look and the kill
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        left = [p for p in below | (own_children() - ours) if alive(p)]
        if not left:
            break
        time.sleep(0.02)  # polling for their end, with a deadline
    assert not [(p, _cmdline(p)) for p in left], "processes of the killed check survive"


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def test_the_warm_process_is_private_to_its_user(course):
    root, runtime = course
    grade(root, runtime, root / "solutions", "require")
    [sock] = list(runtime.glob("netlab/warm-*.sock"))
    assert (sock.parent.stat().st_mode & 0o777) == 0o700
    assert (sock.stat().st_mode & 0o077) == 0
    with open(f"/proc/{warm_pid(runtime)}/status") as f:
        assert "\nUid:" in f.read()


STUDENT_VS_WARM = r'''
import os, signal, socket, sys, glob
hits = []
for path in glob.glob("/tmp/**/*.sock", recursive=True) + glob.glob("/run/**/*.sock", recursive=True):
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(path)
        s.sendall(b'{"stop": true}\n')
        hits.append("connect:" + path)
    except OSError:
        pass
for pid in [p for p in os.listdir("/proc") if p.isdigit()] if os.path.isdir("/proc/self") else []:
    try:
        if b"grader.warm" in open(f"/proc/{pid}/cmdline", "rb").read():
            os.kill(int(pid), signal.SIGKILL)
            hits.append("kill:" + pid)
    except OSError:
        pass
print("TRIED", *["HIT-" + h for h in hits], file=sys.stderr, flush=True)
sys.exit(1)
'''


def test_student_code_cannot_reach_or_kill_the_warm_process(course):
    if os.geteuid() != 0:
        pytest.skip("as a non-root user, student code shares your uid and may kill it (then "
                    "the next check starts a new one)")
    root, runtime = course
    grade(root, runtime, root / "solutions", "require")
    before = warm_pid(runtime)
    target = root.parent / "attack"
    (target / "tcp_echo").mkdir(parents=True)
    (target / "tcp_echo" / "server.py").write_text(STUDENT_VS_WARM)
    (target / "tcp_echo" / "client.py").write_text("raise SystemExit(1)\n")
    attacked = grade(root, runtime, target, "require")
    text = json.dumps(attacked)
    assert "TRIED" in text and "HIT-" not in text
    assert warm_pid(runtime) == before
    assert grade(root, runtime, root / "solutions", "require")["score"] == TCP_ECHO.points


def test_a_dead_warm_process_is_replaced(course):
    root, runtime = course
    grade(root, runtime, root / "solutions", "require")
    first = warm_pid(runtime)
    os.kill(first, signal.SIGKILL)
    # the next check finds nobody listening: it runs cold and starts a new warm process
    assert grade(root, runtime, root / "solutions", "1")["score"] == TCP_ECHO.points
    assert grade(root, runtime, root / "solutions", "require")["score"] == TCP_ECHO.points
    assert warm_pid(runtime) != first


def test_a_changed_grader_file_retires_the_warm_process(course):
    root, runtime = course
    grade(root, runtime, root / "solutions", "require")
    first = warm_pid(runtime)
    report = root / "grader" / "report.py"
    report.write_text(report.read_text() + "\n# changed\n")
    assert grade(root, runtime, root / "solutions", "require")["score"] == TCP_ECHO.points
    assert warm_pid(runtime) != first


# -- the standby: the next judge, prepared between checks -------------------------------------

def warm_status(root: Path, runtime: Path) -> dict | None:
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime)}
    out = subprocess.run([sys.executable, "-c", "import json; from grader import warm; "
                          f"print(json.dumps(warm.status({str(root)!r})))"],
                         cwd=root, env=env, capture_output=True, text=True, timeout=30)
    return json.loads(out.stdout)


def standby_ready(root: Path, runtime: Path) -> dict:
    import time
    deadline = time.monotonic() + 30
    while True:  # polling the warm process, with a deadline, until its standby is prepared
        now = warm_status(root, runtime)
        if now and now["standby"] == "ready":
            return now
        assert time.monotonic() < deadline, f"no standby got ready: {now}"
        time.sleep(0.02)


def ended(pids, seconds: float = 20) -> bool:
    import time
    deadline = time.monotonic() + seconds
    while any(map(alive, pids)) and time.monotonic() < deadline:
        time.sleep(0.02)  # polling for their end, with a deadline
    return not any(map(alive, pids))


def test_the_next_check_finds_its_judge_prepared(course):
    """Between checks the warm process keeps a standby: a judge forked and prepared (private
    network, scratch folder, fork servers up) before the check comes. The next check is
    judged by it, as confined (its students run as the uid of that judge) and with the same
    report; then it ends with everything it started, and a new standby is made."""
    root, runtime = course
    first = grade(root, runtime, root / "solutions", "require")
    ready = standby_ready(root, runtime)
    standby = ready["standby_pid"]
    servers = [p for p in descendants(standby) if "_zygote.py" in _cmdline(p)]
    assert servers, "the standby started no fork server"
    second = grade(root, runtime, root / "solutions", "require")
    now = warm_status(root, runtime)
    assert (now["taken"], now["dismissed"]) == (ready["taken"] + 1, ready["dismissed"])
    assert comparable(second) == comparable(first)
    if os.geteuid() == 0 and "uid " in (second["isolation"] or ""):
        assert f"uid {1_000_000 + standby} " in second["isolation"]
    assert ended([standby, *servers]), "the standby's judge or fork servers outlived its check"
    assert standby_ready(root, runtime)["standby_pid"] not in (None, standby)
    for target in mutant_targets(root, ("binds_everywhere",)):  # a failing report, too
        cold = comparable(grade(root, runtime, target, "0"))
        standby_ready(root, runtime)
        assert comparable(grade(root, runtime, target, "require")) == cold


def test_a_check_that_comes_while_the_standby_prepares_is_judged(course, monkeypatch):
    """A check handed to a standby still preparing is judged once it is prepared. Failed
    under load before: the standby found the server's end closed when it said it was ready,
    and ended without judging (exit 70, "the judge reported no checks"). Here each check is
    asked for in this process the moment the one before ends, while its successor prepares."""
    from grader import judge, warm
    root, runtime = course
    for key in [k for k in os.environ if k.startswith(("NETLAB_", "PYTEST_"))]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    monkeypatch.setenv("NETLAB_WARM", "require")
    here = course_mod.load(root, check_folders=False)
    ex = here.exercises["tcp_echo"]
    seen = []
    for _ in range(6):
        result = judge.run_judge(here, ex, root / "solutions", visibility="all", jobs=2)
        assert not result.problem and result.score == TCP_ECHO.points, result.problem
        seen.append(warm.status(root)["standby"])
    assert "preparing" in seen, seen
    assert warm.status(root)["taken"] >= 5


def test_a_check_in_another_environment_gets_a_fresh_judge(course):
    """A standby takes only a check of the environment it was prepared in (isolation
    settings, TMPDIR...); another gets a fresh fork, and the next standby is prepared like
    that check."""
    root, runtime = course
    grade(root, runtime, root / "solutions", "require")
    ready = standby_ready(root, runtime)
    elsewhere = root.parent / "tmp-elsewhere"
    elsewhere.mkdir(mode=0o777)
    other = {"TMPDIR": str(elsewhere)}
    assert grade(root, runtime, root / "solutions", "require", env_extra=other)["score"] == TCP_ECHO.points
    now = warm_status(root, runtime)
    assert (now["taken"], now["dismissed"]) == (ready["taken"], ready["dismissed"] + 1)
    assert ended([ready["standby_pid"]])
    standby_ready(root, runtime)
    assert grade(root, runtime, root / "solutions", "require", env_extra=other)["score"] == TCP_ECHO.points
    assert warm_status(root, runtime)["taken"] == ready["taken"] + 1


def test_a_standby_ends_with_its_warm_process(course):
    """kill -9 of the warm process: its standby and the standby's fork servers end too."""
    root, runtime = course
    grade(root, runtime, root / "solutions", "require")
    standby = standby_ready(root, runtime)["standby_pid"]
    below = [standby, *descendants(standby)]
    os.kill(warm_pid(runtime), signal.SIGKILL)
    for sock in runtime.glob("netlab/warm-*.sock"):
        sock.unlink()  # what the killed process could not remove (the next check would)
    assert ended(below), [(p, _cmdline(p)) for p in below if alive(p)]
