"""Helpers for the project's own tests: small throwaway courses built in tmp_path, and a
check that no test leaves a process behind."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
# Judges of the project's tests run cold: a warm process per throwaway course would outlive
# its test. tests/project/test_warm.py starts (and stops) the warm ones it tests.
os.environ["NETLAB_WARM"] = "0"


def suite_checks(ex_id: str, root: Path = REPO) -> set[str]:
    """The names of an exercise's graded checks, read from its suite's source (never run)."""
    import ast

    names = set()
    for path in (root / "tests" / ex_id).glob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_") and any(
                    getattr(getattr(d, "func", d), "id", None) == "check" for d in node.decorator_list):
                names.add(node.name)
    return names


def unusable_by(uid: int, imports: str = "") -> str | None:
    """Why this venv's Python cannot serve another uid (None: it can), as student code and an
    unprivileged grader need: start, import `imports`, and start itself again, as the grader
    does with its judges. A venv made from a Python under /root (0700), as pyenv installs it
    for root, cannot: that uid may not even reach the interpreter."""
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        return "needs root and setpriv to become another user"
    code = (f"import subprocess, sys{', ' + imports if imports else ''}; "
            "subprocess.run([sys.executable, '-c', 'pass'], check=True)")
    probe = subprocess.run(["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                            sys.executable, "-c", code], capture_output=True, timeout=60)
    if probe.returncode != 0:
        return f"this venv's Python ({sys.executable}) is not usable by uid {uid}: " \
               f"{probe.stderr.decode(errors='replace')[-300:]}"
    return None


def descendants(pid: int) -> set[int]:
    """Every process below `pid` now (from /proc's parent links)."""
    parents = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as f:
                    parents[int(name)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                pass
    found, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, pp in parents.items() if pp in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    """Running (a zombie has ended: only its parent's wait is missing)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def processes_of(uids: set[int]) -> list[int]:
    """Processes still alive that run as one of these uids."""
    left = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid in uids:
                    left.append(int(entry.name))
            except OSError:
                pass
    return left


def own_children() -> set[int]:
    """This process's children now (orphans of our students come to us: we are a subreaper)."""
    try:
        with open(f"/proc/{os.getpid()}/task/{os.getpid()}/children") as f:
            return {int(p) for p in f.read().split()}
    except OSError:
        return set()


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")[:200]
    except OSError:
        return "?"


@pytest.fixture(autouse=True)
def no_leftover_processes():
    """Every project test must end with no child process of ours still running."""
    before = own_children()
    yield
    from grader.harness import zygote
    left = []
    for pid in own_children() - before - {zygote.current_pid()}:  # the fork server lives on
        try:
            with open(f"/proc/{pid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            left.append(pid)
    assert not left, f"processes left behind: {[(pid, _cmdline(pid)) for pid in left]}"
    z = zygote.current_pid()
    if z:  # and nothing of a test lives on under it
        with open(f"/proc/{z}/task/{z}/children") as f:
            assert not f.read().split(), "student processes left behind under the zygote"


def grader(*args: str, cwd: Path = REPO, timeout: float = 120, input: str | None = None):
    """Run the grader CLI as a student would; returns CompletedProcess (text)."""
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, input=input)


class CourseBuilder:
    """A minimal course on disk: course.yaml, exercises/, solutions/, tests/ (+ conftest)."""

    def __init__(self, root: Path):
        self.root = root
        self.entries: list[dict] = []
        (root / "tests").mkdir(parents=True)
        shutil.copy(REPO / "tests" / "conftest.py", root / "tests" / "conftest.py")
        (root / "pyproject.toml").write_text("[tool.pytest.ini_options]\n")

    def exercise(self, ex_id: str, *, stub: dict, solution: dict, suite: str,
                 mutants: str | None = None, **entry) -> "CourseBuilder":
        for kind, files in (("exercises", stub), ("solutions", solution)):
            folder = self.root / kind / ex_id
            folder.mkdir(parents=True)
            for name, text in files.items():
                (folder / name).write_text(textwrap.dedent(text))
        tests = self.root / "tests" / ex_id
        tests.mkdir()
        (tests / f"test_{ex_id}.py").write_text(textwrap.dedent(suite))
        if mutants:
            (tests / "mutants.yaml").write_text(textwrap.dedent(mutants))
        self.entries.append({"id": ex_id, "title": ex_id.replace("_", " "), "topic": "testing",
                             "files": sorted(stub), "hints": ["read the task"], **entry})
        self.write()
        return self

    def write(self, **top) -> None:
        data = {"title": "test course", **top, "exercises": self.entries}
        (self.root / "course.yaml").write_text(yaml.safe_dump(data, sort_keys=False))


@pytest.fixture
def course_dir(tmp_path) -> CourseBuilder:
    return CourseBuilder(tmp_path / "course")


def copy_real_course(dest: Path, ids=("tcp_echo",)) -> Path:
    """A copy of the real course restricted to `ids` (so state files land in tmp)."""
    data = yaml.safe_load((REPO / "course.yaml").read_text())
    data["exercises"] = [e for e in data["exercises"] if e["id"] in ids]
    for e in data["exercises"]:
        e["requires"] = [r for r in e.get("requires", []) if r in ids]
    dest.mkdir(parents=True)
    (dest / "course.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    (dest / "pyproject.toml").write_text("[tool.pytest.ini_options]\n")
    (dest / "tests").mkdir()
    shutil.copy(REPO / "tests" / "conftest.py", dest / "tests" / "conftest.py")
    for kind in ("exercises", "solutions", "tests"):
        for ex_id in ids:
            shutil.copytree(REPO / kind / ex_id, dest / kind / ex_id,
                            ignore=shutil.ignore_patterns("__pycache__"))
    return dest
