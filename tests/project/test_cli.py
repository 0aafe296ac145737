"""The grader CLI as students and instructors use it: exit codes, JSON, bad input, list,
hint, watch. Each test works on a copy of the course, so state files land in tmp."""
import json
import os
import select
import shutil
import subprocess
import sys
import time

import pytest

from conftest import copy_real_course, grader


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return copy_real_course(tmp_path_factory.mktemp("real") / "course")


def test_check_solution_json_has_gradescope_fields(course):
    run = grader("check", "tcp_echo", "--target", "solutions", "--json", "--all", cwd=course)
    assert run.returncode == 0, run.stdout + run.stderr
    data = json.loads(run.stdout)
    assert data["score"] == data["max_score"] == 12
    assert data["hidden_tests"] == 0
    for test in data["tests"]:
        assert set(test) == {"name", "title", "score", "max_score", "status", "visibility", "output"}
        assert test["status"] == "passed" and test["score"] == test["max_score"]
    assert {t["visibility"] for t in data["tests"]} == {"visible", "hidden"}


def test_check_without_all_runs_visible_only_and_counts_hidden(course):
    run = grader("check", "tcp_echo", "--target", "solutions", "--json", cwd=course)
    data = json.loads(run.stdout)
    assert run.returncode == 0
    assert {t["visibility"] for t in data["tests"]} == {"visible"}
    assert data["hidden_tests"] == 4
    text = grader("check", "tcp_echo", "--target", "solutions", cwd=course).stdout
    assert "4 hidden checks will also run" in text
    assert text.rstrip().endswith(f"tcp_echo: {data['score']:g}/{data['max_score']:g} points")


def test_check_stub_fails_readably_and_records_state(course):
    run = grader("check", "tcp_echo", cwd=course)
    assert run.returncode == 1
    assert "NotImplementedError" in run.stdout and "✘" in run.stdout
    assert "tcp_echo: 0/8 points" in run.stdout
    listing = grader("list", cwd=course)
    assert listing.returncode == 0 and "0/8" in listing.stdout


def test_unknown_exercise_exits_2_naming_close_ids(course):
    run = grader("check", "tcp_ecko", cwd=course)
    assert run.returncode == 2
    assert "did you mean tcp_echo" in run.stderr


def test_missing_student_file_is_named_and_scores_zero(course, tmp_path):
    target = tmp_path / "sub"
    shutil.copytree(course / "solutions" / "tcp_echo", target / "tcp_echo")
    (target / "tcp_echo" / "client.py").unlink()
    run = grader("check", "tcp_echo", "--target", str(target), "--json", cwd=course)
    data = json.loads(run.stdout)
    assert run.returncode == 1 and data["score"] == 0
    assert "client.py is missing" in data["precheck"]


def test_syntax_error_is_shown_with_its_line_and_scores_zero(course, tmp_path):
    target = tmp_path / "sub"
    shutil.copytree(course / "solutions" / "tcp_echo", target / "tcp_echo")
    server = target / "tcp_echo" / "server.py"
    server.write_text(server.read_text().replace("def handle(conn", "def handle(conn,,"))
    run = grader("check", "tcp_echo", "--target", str(target), cwd=course)
    assert run.returncode == 1
    assert "server.py line 6: SyntaxError" in run.stdout
    assert "def handle(conn,,: socket.socket)" in run.stdout and "^" in run.stdout
    assert "tcp_echo: 0/8 points" in run.stdout


def test_missing_target_folder_is_a_usage_error(course):
    run = grader("check", "tcp_echo", "--target", "nowhere", cwd=course)
    assert run.returncode == 2 and "does not exist" in run.stderr


def test_bad_course_file_exits_2_naming_the_problem(course, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(course, broken)
    text = (broken / "course.yaml").read_text().replace("points: 12", "points: twelve")
    (broken / "course.yaml").write_text(text)
    run = grader("check", "tcp_echo", cwd=broken)
    assert run.returncode == 2
    assert "exercise 'tcp_echo' (#1): field 'points'" in run.stderr


def test_hint_prints_the_hints(course):
    run = grader("hint", "tcp_echo", cwd=course)
    assert run.returncode == 0 and "sendall()" in run.stdout and "1. " in run.stdout


def test_validate(course):
    assert grader("validate", cwd=course).returncode == 0


def test_watch_rechecks_when_a_file_is_saved(course, tmp_path):
    target = tmp_path / "w"
    shutil.copytree(course / "exercises" / "tcp_echo", target / "tcp_echo")
    proc = subprocess.Popen([sys.executable, "-m", "grader", "watch", "tcp_echo", "--target",
                             str(target), "--max-runs", "2"], cwd=course,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = b""
    deadline = time.monotonic() + 60
    try:
        while b"watching" not in out and time.monotonic() < deadline and proc.poll() is None:
            if select.select([proc.stdout], [], [], 1)[0]:
                out += os.read(proc.stdout.fileno(), 65536)
        assert b"watching" in out, out
        server = target / "tcp_echo" / "server.py"
        shutil.copy(course / "solutions" / "tcp_echo" / "server.py", server)
        rest, _ = proc.communicate(timeout=60)
    finally:
        proc.kill()
        proc.wait()
    out += rest
    assert b"server.py changed" in out
    assert out.count(b"tcp_echo: ") == 2
    assert proc.returncode == 1  # the client is still a stub
