"""`grader export gradescope` and `grader export classroom`: the autograder zip runs against a
fake /autograder tree and writes a results.json that Gradescope's specification (as a JSON
Schema below) accepts; the Classroom workflow has one command-grader step per exercise."""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest
import yaml

from conftest import REPO, grader
from grader import release
from grader.i18n import text

# Gradescope's results.json ("Autograder Specifications": top-level and per-test fields)
VISIBILITY = {"enum": ["hidden", "after_due_date", "after_published", "visible"]}
FORMAT = {"enum": ["text", "html", "simple_format", "md", "ansi"]}
RESULTS_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["score", "execution_time", "output", "tests"],
    "additionalProperties": False,
    "properties": {
        "score": {"type": "number"},
        "execution_time": {"type": "number", "minimum": 0},
        "output": {"type": "string"},
        "output_format": FORMAT,
        "test_output_format": FORMAT,
        "test_name_format": FORMAT,
        "visibility": VISIBILITY,
        "stdout_visibility": VISIBILITY,
        "extra_data": {"type": "object"},
        "leaderboard": {"type": "array"},
        "tests": {"type": "array", "items": {
            "type": "object",
            "required": ["name", "number", "score", "max_score", "status", "output", "visibility", "tags"],
            "additionalProperties": False,
            "properties": {
                "score": {"type": "number"},
                "max_score": {"type": "number"},
                "status": {"enum": ["passed", "failed"]},
                "name": {"type": "string", "minLength": 1},
                "name_format": FORMAT,
                "number": {"type": "string", "minLength": 1},
                "output": {"type": "string"},
                "output_format": FORMAT,
                "tags": {"type": "array", "items": {"type": "string"}},
                "visibility": VISIBILITY,
                "extra_data": {"type": "object"},
            },
        }},
    },
}


def checks_of(ex_id: str) -> list[dict]:
    """The suite's checks, read by importing it: name, points, visibility, titles."""
    path = REPO / "tests" / ex_id / f"test_{ex_id}.py"
    spec = importlib.util.spec_from_file_location(f"_netlab_export_{ex_id}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = []
    for name, obj in vars(module).items():
        marks = [m for m in getattr(obj, "pytestmark", []) if m.name == "netlab"]
        if name.startswith("test_") and marks:
            kw = marks[0].kwargs
            out.append({"name": name, "points": kw["points"], "visibility": kw["visibility"],
                        "en": text(kw["title"], "en"), "zh": text(kw["title"], "zh")})
    return out


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gradescope") / "tcp_echo.zip"
    proc = grader("--lang", "en", "export", "gradescope", str(out), "--exercises", "tcp_echo")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def fake_autograder(tmp_path: Path, zip_path: Path) -> Path:
    root = tmp_path / "autograder"
    (root / "source").mkdir(parents=True)
    (root / "submission").mkdir()
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(root / "source")
        for info in zf.infolist():  # extractall drops the modes
            os.chmod(root / "source" / info.filename, (info.external_attr >> 16) & 0o777)
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")  # as Gradescope does
    return root


def run_autograder(root: Path) -> dict:
    env = {**os.environ, "NETLAB_AUTOGRADER_ROOT": str(root), "NETLAB_AUTOGRADER_PYTHON": sys.executable}
    proc = subprocess.run([str(root / "run_autograder")], env=env, capture_output=True, text=True,
                          timeout=240, cwd=root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    jsonschema.validate(data, RESULTS_SCHEMA)
    return data


def test_zip_holds_the_autograder_and_no_solution(autograder_zip):
    with zipfile.ZipFile(autograder_zip) as zf:
        names = zf.namelist()
        modes = {i.filename: (i.external_attr >> 16) for i in zf.infolist()}
        setup = zf.read("setup.sh").decode()
        config = json.loads(zf.read("netlab-autograder.json"))
    for script in ("setup.sh", "run_autograder"):
        assert script in names and modes[script] & stat.S_IXUSR
    assert config == {"exercises": ["tcp_echo"], "lang": "en"}
    assert "course/tests/tcp_echo/test_tcp_echo.py" in names  # hidden checks included
    assert "netlab/pyproject.toml" in names and "netlab/grader/cli.py" in names
    assert not [n for n in names if n.startswith("course/solutions") or n.endswith("mutants.yaml")
                or "__pycache__" in n]
    assert not [n for n in names if n.startswith("course/exercises/") and not n.startswith("course/exercises/tcp_echo/")]
    assert subprocess.run(["bash", "-n"], input=setup, text=True).returncode == 0
    assert '"$ROOT/netlab-venv/bin/pip" install -q "$ROOT/source/netlab"' in setup
    assert 'chmod 0700 "$ROOT/source"' in setup  # student code, under its own uid, cannot read the suites


def test_run_autograder_grades_a_submission(autograder_zip, tmp_path):
    root = fake_autograder(tmp_path, autograder_zip)
    for f in ("server.py", "client.py"):  # uploaded as they are: the one exercise's files
        shutil.copy(REPO / "solutions" / "tcp_echo" / f, root / "submission" / f)
    data = run_autograder(root)
    checks = checks_of("tcp_echo")
    points = yaml.safe_load((REPO / "course.yaml").read_text())["exercises"][0]
    assert points["id"] == "tcp_echo"
    assert data["score"] == points["points"] == sum(c["points"] for c in checks)
    assert len(data["tests"]) == len(checks)
    by_id = {t["tags"][1]: t for t in data["tests"]}
    for c in checks:
        t = by_id[c["name"]]
        assert t["tags"][0] == "tcp_echo" and t["status"] == "passed"
        assert t["name"] == f"tcp_echo: {c['en']}"
        assert (t["score"], t["max_score"]) == (c["points"], c["points"])
        assert t["visibility"] == c["visibility"]  # hidden checks stay hidden
    assert any(t["visibility"] == "hidden" for t in data["tests"])
    assert len({t["number"] for t in data["tests"]}) == len(data["tests"])
    assert "tcp_echo: 13/13 points" in data["output"]


def test_run_autograder_in_chinese_with_nothing_submitted(tmp_path):
    out = tmp_path / "zh.zip"
    proc = grader("--lang", "zh", "export", "gradescope", str(out), "--exercises", "tcp_echo")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    root = fake_autograder(tmp_path, out)
    data = run_autograder(root)
    checks = checks_of("tcp_echo")
    assert data["score"] == 0 and len(data["tests"]) == len(checks)
    assert {t["name"] for t in data["tests"]} == {f"tcp_echo: {c['zh']}" for c in checks}
    assert all(t["status"] == "failed" and "server.py" in t["output"] for t in data["tests"])
    assert "tcp_echo：0/13 分" in data["output"]


def test_classroom_workflow_has_a_step_per_exercise(tmp_path):
    ids = ["tcp_echo", "udp_echo"]
    proc = grader("export", "classroom", str(tmp_path), "--exercises", *ids)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    wf = yaml.safe_load((tmp_path / ".github" / "workflows" / "classroom.yml").read_text())
    assert "push" in wf["on"]
    assert wf["permissions"]["checks"] == "write"
    steps = wf["jobs"]["run-autograding-tests"]["steps"]
    assert steps[0]["uses"].startswith("actions/checkout@")
    assert steps[1]["uses"].startswith("actions/setup-python@")
    assert steps[2]["run"] == release.INSTALL  # the README's set-up
    graders = [s for s in steps if s.get("uses", "").startswith("classroom-resources/autograding-command-grader@")]
    assert [s["id"] for s in graders] == ids
    for s in graders:
        ex_id = s["id"]
        visible = [c for c in checks_of(ex_id) if c["visibility"] == "visible"]
        w = s["with"]
        assert w["test-name"] == ex_id
        assert w["command"].split()[-2:] == ["check", ex_id] and "--all" not in w["command"]
        assert w["max-score"] == sum(c["points"] for c in visible)
        assert isinstance(w["timeout"], int) and 1 <= w["timeout"] <= 360
    reporter = steps[-1]
    assert reporter["uses"].startswith("classroom-resources/autograding-grading-reporter@")
    assert reporter["with"]["runners"] == ",".join(ids)
    assert reporter["env"] == {f"{i.upper()}_RESULTS": f"${{{{steps.{i}.outputs.result}}}}" for i in ids}
