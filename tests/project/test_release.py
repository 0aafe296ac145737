"""`grader release`: the student bundle leaks no solution, no hidden check, no mutant; it
installs into a fresh virtualenv where `grader check` and `grader validate` work and still say
how many hidden checks there are. Also: the dev container, and the message on a system the
grader cannot run on."""
from __future__ import annotations

import importlib.util
import json
import re
import shutil
import site
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from conftest import REPO, grader, suite_checks
from grader import cli, release
from grader import course as course_mod
from grader.i18n import text

IDS = ("tcp_echo", "udp_echo", "tcp_states")  # two network exercises, one with a README of its own


def checks_of(ex_id: str, root: Path = REPO) -> list[dict]:
    """The graded checks of a suite, read by importing it (not as the release reads them):
    name, points, visibility, title in both languages."""
    out = []
    for path in sorted((root / "tests" / ex_id).glob("test_*.py")):
        spec = importlib.util.spec_from_file_location(f"_netlab_release_{ex_id}_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        sys.path.insert(0, str(path.parent))
        try:
            spec.loader.exec_module(module)
        finally:
            sys.path.remove(str(path.parent))
        for name, obj in vars(module).items():
            marks = [m for m in getattr(obj, "pytestmark", []) if m.name == "netlab"]
            if name.startswith("test_") and marks:
                kw = marks[0].kwargs
                out.append({"name": name, "points": kw["points"], "visibility": kw["visibility"],
                            "en": text(kw["title"], "en") if kw.get("title") else None,
                            "zh": text(kw["title"], "zh") if kw.get("title") else None})
    return out


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("release") / "bundle"
    proc = grader("release", str(out), "--exercises", *IDS, timeout=240)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def _files(folder: Path):
    return [p for p in sorted(folder.rglob("*")) if p.is_file() and "__pycache__" not in p.parts]


def test_no_solution_hidden_check_or_mutant_in_the_bundle(bundle):
    assert not (bundle / "solutions").exists()
    assert not [p for p in _files(bundle) if p.name == "mutants.yaml"]
    assert (bundle / "exercises" / "tcp_echo" / "server.py").read_text() == \
        (REPO / "exercises" / "tcp_echo" / "server.py").read_text()
    # what students may see anyway: the stubs, the suites, the grader
    public = set()
    for folder in ("exercises", "tests", "grader"):
        for p in _files(REPO / folder):
            public.update(l.strip() for l in p.read_text(errors="replace").splitlines())
    solution_lines, solution_bytes = {}, set()
    for ex_id in IDS:
        for p in _files(REPO / "solutions" / ex_id):
            solution_bytes.add(p.read_bytes())
            for line in p.read_text().splitlines():
                if len(line.strip()) >= 24 and line.strip() not in public:
                    solution_lines[line.strip()] = p
    assert len(solution_lines) > 20  # the search has something to find
    checks = {ex_id: checks_of(ex_id) for ex_id in IDS}
    visible_names = {c["name"] for cs in checks.values() for c in cs if c["visibility"] == "visible"}
    hidden = [(ex_id, c) for ex_id, cs in checks.items() for c in cs if c["visibility"] != "visible"]
    assert len(hidden) >= 10 and all(c["en"] and c["zh"] for _, c in hidden)
    leaks = []
    for p in _files(bundle):
        rel = p.relative_to(bundle).as_posix()
        body = p.read_text(errors="replace")
        assert p.read_bytes() not in solution_bytes, rel
        leaks += [f"{rel}: solution line {line!r}" for line in solution_lines if line in body]
        for ex_id, c in hidden:
            # the grader package is course-independent code (its comments may name a check);
            # an exercise's README may say what the graded run checks, in the check's words
            if c["name"] in body and c["name"] not in visible_names and not rel.startswith("grader/"):
                leaks.append(f"{rel}: hidden check name {c['name']}")
            for title in (c["en"], c["zh"]):
                if title in body and not re.fullmatch(rf"exercises/{ex_id}/README(\.zh)?\.md", rel):
                    leaks.append(f"{rel}: hidden check title {title!r}")
    assert not leaks, "\n".join(leaks)


def test_bundle_keeps_every_visible_check_and_counts_the_hidden(bundle):
    manifest = json.loads((bundle / "release.json").read_text())
    course = __import__("yaml").safe_load((REPO / "course.yaml").read_text())
    points = {e["id"]: e["points"] for e in course["exercises"]}
    assert list(manifest["exercises"]) == list(IDS)
    for ex_id in IDS:
        checks = checks_of(ex_id)
        visible = [c for c in checks if c["visibility"] == "visible"]
        hidden = [c for c in checks if c["visibility"] != "visible"]
        assert suite_checks(ex_id, bundle) == {c["name"] for c in visible}
        assert checks_of(ex_id, bundle) == visible  # same points and titles, both languages
        entry = manifest["exercises"][ex_id]
        assert (entry["hidden_checks"], entry["hidden_points"]) == \
            (len(hidden), sum(c["points"] for c in hidden))
        assert entry["visible_points"] + entry["hidden_points"] == points[ex_id]
        assert not (bundle / "tests" / ex_id / "mutants.yaml").exists()
    released = __import__("yaml").safe_load((bundle / "course.yaml").read_text())
    assert [e["id"] for e in released["exercises"]] == list(IDS)


def test_grader_works_in_a_fresh_virtualenv(bundle, tmp_path):
    work = tmp_path / "course"
    shutil.copytree(bundle, work)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", str(venv)],
                   check=True, timeout=120)
    # the project's dependencies (pytest, pyyaml, rich, ...) without a network install (the
    # system's pip, setuptools and wheel build the bundle); the project's own editable grader
    # is not among them (.pth files in a folder named by a .pth file are not processed)
    purelib = Path(subprocess.run([str(venv / "bin" / "python"), "-c",
                                   "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                  capture_output=True, text=True, check=True).stdout.strip())
    (purelib / "_project_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    py = str(venv / "bin" / "python")
    pip = subprocess.run([py, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                          "-e", str(work)], capture_output=True, text=True, timeout=240)
    assert pip.returncode == 0, pip.stdout + pip.stderr
    where = subprocess.run([py, "-c", "import grader; print(grader.__file__)"], cwd=tmp_path,
                           capture_output=True, text=True, timeout=60)
    assert Path(where.stdout.strip()).resolve().is_relative_to(work.resolve()), where
    exe = str(venv / "bin" / "grader")

    valid = subprocess.run([exe, "validate"], cwd=work, capture_output=True, text=True, timeout=120)
    assert valid.returncode == 0, valid.stdout + valid.stderr
    entry = json.loads((work / "release.json").read_text())["exercises"]["tcp_echo"]

    stub = subprocess.run([exe, "check", "tcp_echo"], cwd=work, capture_output=True, text=True,
                          timeout=180)
    assert stub.returncode == 1, stub.stdout + stub.stderr
    assert f"{entry['hidden_checks']} hidden checks, {entry['hidden_points']:g} more points" in stub.stdout

    for f in ("server.py", "client.py"):  # a student who solved it
        shutil.copy(REPO / "solutions" / "tcp_echo" / f, work / "exercises" / "tcp_echo" / f)
    solved = subprocess.run([exe, "--lang", "zh", "check", "tcp_echo", "--json"], cwd=work,
                            capture_output=True, text=True, timeout=180)
    result = json.loads(solved.stdout)
    assert solved.returncode == 0, solved.stdout + solved.stderr
    assert result["score"] == result["max_score"] == entry["visible_points"]
    assert (result["hidden_tests"], result["hidden_points"]) == (entry["hidden_checks"], entry["hidden_points"])
    assert len(result["tests"]) == entry["visible_checks"]

    # a bundle whose points no longer add up fails its own validation
    data = json.loads((work / "release.json").read_text())
    data["exercises"]["tcp_echo"]["hidden_points"] += 1
    (work / "release.json").write_text(json.dumps(data))
    broken = subprocess.run([exe, "validate"], cwd=work, capture_output=True, text=True, timeout=120)
    assert broken.returncode == 2 and "tcp_echo" in broken.stderr and "add up" in broken.stderr


def test_cut_suite_drops_hidden_checks_and_only_what_they_use():
    source = '''\
import socket
from grader.harness import check, say

LIMIT = 5          # used by the visible check
SECRET = b"x" * 9  # used only by the hidden one


def helper():
    return LIMIT


# how the hidden check works
def hidden_helper():
    return SECRET


def fixture_like():
    return 1


@check(points=1)
def test_visible(student, fixture_like):
    assert helper() == 5


@check(points=2, hidden=True, title=say("secret title", "秘密标题"))
def test_hidden(student):
    assert hidden_helper()
'''
    out, removed = release.cut_suite(source, {"test_hidden"}, {"test_visible"})
    compile(out, "suite", "exec")
    assert set(removed) == {"test_hidden", "hidden_helper", "SECRET"}
    for gone in ("secret title", "SECRET", "how the hidden check works", "hidden_helper"):
        assert gone not in out
    for kept in ("LIMIT = 5", "def helper", "def fixture_like", "def test_visible", "import socket"):
        assert kept in out


def test_audit_finds_leaks(tmp_path):
    bundle = tmp_path / "b"
    (bundle / "tests" / "tcp_echo").mkdir(parents=True)
    hidden = [{"exercise": "tcp_echo", "function": "test_secret_check", "title_en": "a secret title",
               "title_zh": "一个秘密的检查标题"}]
    (bundle / "tests" / "tcp_echo" / "test_tcp_echo.py").write_text('"""see test_secret_check"""\n')
    (bundle / "tests" / "tcp_echo" / "mutants.yaml").write_text("[]\n")
    (bundle / "notes.md").write_text("一个秘密的检查标题\n")
    solution_line = next(l.strip() for l in (REPO / "solutions" / "tcp_echo" / "server.py").read_text().splitlines()
                         if len(l.strip()) >= 24 and l.strip() in release.distinctive_solution_lines(REPO, ["tcp_echo"]))
    (bundle / "copy.py").write_text(f"    {solution_line}\n")
    problems, notes = release.audit(bundle, REPO, ["tcp_echo"], hidden)
    joined = "\n".join(problems)
    assert "test_secret_check" in joined and "一个秘密的检查标题" in joined and "mutants" in joined
    assert "solutions/tcp_echo/server.py" in joined
    assert not notes


def test_release_goes_only_to_a_new_folder_or_an_earlier_release(tmp_path, monkeypatch):
    from grader import course as course_mod
    course = course_mod.load(REPO)
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "mine.txt").write_text("someone's files")
    with pytest.raises(release.ReleaseError, match="not an earlier release"):
        release.release(course, taken, ["tcp_echo"])
    assert (taken / "mine.txt").exists()

    def fake_build(course, out, ids):  # the replacing, without building a real bundle
        out.mkdir(parents=True)
        (out / "release.json").write_text("{}")
        (out / "course.yaml").write_text("new")
        return {"release": "x", "exercises": {}}, []
    monkeypatch.setattr(release, "build", fake_build)
    earlier = tmp_path / "earlier"
    (earlier / ".git").mkdir(parents=True)
    (earlier / ".git" / "HEAD").write_text("ref")
    (earlier / "release.json").write_text("{}")
    (earlier / "stale.txt").write_text("old")
    release.release(course, earlier, ["tcp_echo"])
    assert sorted(p.name for p in earlier.iterdir()) == [".git", "course.yaml", "release.json"]
    assert (earlier / ".git" / "HEAD").read_text() == "ref"
    with pytest.raises(release.ReleaseError, match="outside the course"):
        release.release(course, REPO / "exercises" / "bundle", ["tcp_echo"])


# -- systems the grader cannot run on, and the dev container ---------------------------------

@pytest.mark.parametrize("platform, proc", [("win32", "/proc/self"), ("darwin", "/proc/self"),
                                            ("linux", "/nonexistent/proc/self")])
def test_unsupported_platform_says_how_to_get_linux(monkeypatch, capsys, platform, proc):
    monkeypatch.setattr(sys, "platform", platform)
    monkeypatch.setattr(cli, "PROC", Path(proc))
    assert cli.main(["--root", str(REPO), "--lang", "en", "check", "tcp_echo"]) == 2
    out, err = capsys.readouterr()
    assert "Traceback" not in err and err.count("grader:") == 1
    assert "only on Linux" in err and "WSL 2" in err and "wsl --install" in err
    assert "Dev Containers" in err and ".devcontainer/" in err and "Codespaces" in err
    assert cli.main(["--root", str(REPO), "--lang", "zh", "check", "tcp_echo", "--json"]) == 2
    out, err = capsys.readouterr()
    data = json.loads(out)
    assert data["error"] == "unsupported_platform" and data["score"] == 0
    assert "只能在 Linux 上运行" in err and "WSL 2" in err and "开发容器" in err
    assert cli.main(["--root", str(REPO), "hint", "tcp_echo"]) == 0  # reading needs no Linux
    capsys.readouterr()


def _jsonc(path: Path) -> dict:
    return json.loads(re.sub(r"^\s*//.*$", "", path.read_text(), flags=re.M))


def test_dev_container_installs_as_the_readme_says(bundle):
    for root in (REPO, bundle):
        folder = root / ".devcontainer"
        config = _jsonc(folder / "devcontainer.json")
        assert config["build"] == {"dockerfile": "Dockerfile", "context": ".."}
        docker = (folder / "Dockerfile").read_text()
        base = re.search(r"^FROM python:(\d+)\.(\d+)", docker, re.M)
        assert base and (int(base[1]), int(base[2])) >= (3, 11)
        run = re.search(r"^RUN (.+?)(?<!\\)$", docker, re.M | re.S)[1]
        steps = [s.strip().rstrip("\\").strip() for s in run.split("&&")]
        assert " && ".join(steps[:2]) == release.INSTALL
        workdir = re.search(r"^WORKDIR (\S+)", docker, re.M)[1]
        assert f'ENV PATH="{workdir}/.venv/bin:' in docker  # grader on the PATH
        assert re.search(rf"^COPY \. {workdir}$", docker, re.M)
    assert release.INSTALL in (REPO / "README.md").read_text()
    for readme in ("README.md", "README.zh.md"):
        text_ = (bundle / readme).read_text()
        assert f"{release.INSTALL} && .venv/bin/grader check" in text_
        assert "WSL 2" in text_ and "wsl --install" in text_ and "grader pack --out" in text_
    assert ".venv" in (bundle / ".dockerignore").read_text().split()
    for name in ("devcontainer.json", "Dockerfile"):
        assert (bundle / ".devcontainer" / name).read_bytes() == (REPO / ".devcontainer" / name).read_bytes()


def test_the_whole_course_releases_with_nothing_leaking(tmp_path):
    """Every exercise at once: the release's own audit (solutions' lines, hidden checks' names
    and titles in both languages, mutants) finds nothing, and the counts add up."""
    out = tmp_path / "bundle"
    proc = grader("release", str(out), timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    manifest = json.loads((out / "release.json").read_text())
    course = course_mod.load(REPO, check_folders=False)
    assert set(manifest["exercises"]) == set(course.exercises)
    assert not (out / "solutions").exists()
    assert not list(out.rglob("mutants.yaml"))
