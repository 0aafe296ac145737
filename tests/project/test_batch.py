"""`grader batch` and `grader pack` (grader/batch/): intake of real-world uploads (LMS names,
wrapped zips, zip-slip, links, zip bombs, GBK names and sources, BOM, CRLF, __MACOSX), the
Markdown feedback's escaping, and whole batches over examples/submissions/ through the CLI:
scores, the three outputs, resume after an interruption, --regrade, a changed suite.
Only tcp_echo (and udp_echo once) is graded, to keep the file short."""
from __future__ import annotations

import csv
import importlib.util
import io
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import pytest
import yaml

from conftest import REPO, alive, copy_real_course, descendants

from grader import course as course_mod
from grader.batch import feedback, ids, intake as intake_mod, normalise
from grader.batch.extract import Caps
from grader.i18n import say

_spec = importlib.util.spec_from_file_location("batch_examples", REPO / "examples/build.py")
examples = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(examples)

COURSE = course_mod.load(REPO)
TCP = [COURSE.exercises["tcp_echo"]]


@pytest.fixture(autouse=True)
def english(monkeypatch):
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NETLAB_LANG", "en")


def run_intake(subs: Path, tmp: Path, exercises=TCP, **kw):
    return intake_mod.intake(subs, tmp / "graded", exercises, known_ids=set(COURSE.exercises), **kw)


def make_zip(path: Path, entries: dict, links: dict | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o120777 << 16
            zf.writestr(info, target)
    return path


SERVER = b"print('server')\n"
CLIENT = b"print('client')\n"


# -- who a submission belongs to ------------------------------------------------------------

def test_student_ids_from_lms_download_names():
    canvas = ids.identify("zhangwei_123456_7890123_netlab.zip", is_dir=False)
    assert (canvas.student, canvas.name, canvas.file, canvas.form) == ("123456", "zhangwei", "netlab.zip", "canvas")
    late = ids.identify("smithjohn_late_42_99_server.py", is_dir=False)
    assert (late.student, late.file) == ("42", "server.py")
    moodle = ids.identify("李雷_654321_assignsubmission_file_", is_dir=True)
    assert (moodle.student, moodle.name, moodle.file, moodle.form) == ("654321", "李雷", "", "moodle")
    moodle_file = ids.identify("Jane Doe_77_assignsubmission_file_work.zip", is_dir=False)
    assert (moodle_file.student, moodle_file.name, moodle_file.file) == ("77", "Jane Doe", "work.zip")
    assert ids.identify("s2023001.zip", is_dir=False).student == "s2023001"
    assert ids.identify("alice", is_dir=True).student == "alice"
    assert ids.identify("notes.txt", is_dir=False) is None       # a loose file of nobody
    assert ids.identify("../x", is_dir=True) is None              # never a path as an id
    pattern = re.compile(r"^HW1-(?P<id>\d{8})-(?P<name>\w+)")
    mine = ids.identify("HW1-20230001-wang.zip", is_dir=False, pattern=pattern)
    assert (mine.student, mine.name, mine.form) == ("20230001", "wang", "pattern")


# -- intake: layouts ------------------------------------------------------------------------

def test_layouts_wrapped_zip_exercise_folders_and_missing_exercises(tmp_path):
    subs = tmp_path / "subs"
    make_zip(subs / "ann.zip", {"ann-hw/exercises/tcp_echo/server.py": SERVER,
                                "ann-hw/exercises/tcp_echo/client.py": CLIENT,
                                "ann-hw/exercises/tcp_echo/notes.md": b"extra files are kept but not graded\n"})
    (subs / "ben" / "tcp_echo").mkdir(parents=True)                       # exercise folder directly
    (subs / "ben" / "tcp_echo" / "server.py").write_bytes(SERVER)
    (subs / "cat" / "homework").mkdir(parents=True)                       # nothing recognisable
    (subs / "cat" / "homework" / "main.py").write_bytes(SERVER)
    make_zip(subs / "dan.zip", {"exercises/udp_echo/server.py": SERVER})  # another exercise only
    (subs / "notes.txt").write_text("not a submission")
    both = [COURSE.exercises["tcp_echo"], COURSE.exercises["udp_echo"]]
    subs_, skipped = run_intake(subs, tmp_path, both)
    by = {s.student: s for s in subs_}
    assert sorted(by) == ["ann", "ben", "cat", "dan"]
    assert [s.entry for s in skipped] == ["notes.txt"]
    ann = by["ann"]
    assert ann.error is None and set(ann.exercises) == {"tcp_echo"}
    assert (ann.exercises["tcp_echo"] / "server.py").read_bytes() == SERVER
    assert "udp_echo/ is not in the submission" in ann.missing["udp_echo"].render("en")
    assert (by["ben"].folder / "tcp_echo" / "server.py").is_file()
    assert "no exercise folder" in by["cat"].missing["tcp_echo"].render("en")
    assert "homework" in by["cat"].missing["tcp_echo"].render("en")
    # a folder named after another exercise is never taken for a wrapping folder
    assert set(by["dan"].exercises) == {"udp_echo"} and "tcp_echo" in by["dan"].missing


def test_one_exercise_graded_takes_files_at_the_top_and_moodle_folders_holding_a_zip(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "smithjohn_42_99_server.py").write_bytes(SERVER)    # Canvas: one file per upload
    (subs / "smithjohn_42_100_client.py").write_bytes(CLIENT)
    make_zip(subs / "Jane Doe_77_assignsubmission_file_" / "hw.zip",
             {"exercises/tcp_echo/server.py": SERVER, "exercises/tcp_echo/client.py": CLIENT})
    by = {s.student: s for s in run_intake(subs, tmp_path)[0]}
    assert sorted(p.name for p in by["42"].exercises["tcp_echo"].iterdir()) == ["client.py", "server.py"]
    assert by["42"].name == "smithjohn"
    assert (by["77"].exercises["tcp_echo"] / "client.py").read_bytes() == CLIENT
    assert by["77"].name == "Jane Doe"


# -- intake: hostile and broken zips --------------------------------------------------------

def test_zip_slip_and_absolute_paths_are_that_students_error(tmp_path):
    subs = tmp_path / "subs"
    make_zip(subs / "evil.zip", {"exercises/tcp_echo/server.py": SERVER, "../../escaped.py": b"x"})
    make_zip(subs / "evil2.zip", {"/tmp/absolute.py": b"x", "exercises/tcp_echo/server.py": SERVER})
    make_zip(subs / "evil3.zip", {"exercises\\..\\..\\winslip.py": b"x"})
    (subs / "good" / "tcp_echo").mkdir(parents=True)
    (subs / "good" / "tcp_echo" / "server.py").write_bytes(SERVER)
    by = {s.student: s for s in run_intake(subs, tmp_path)[0]}
    for name in ("evil", "evil2", "evil3"):
        assert by[name].error is not None, name
        assert not by[name].exercises and not by[name].folder.exists()
    assert "zip-slip" in by["evil"].error.render("en")
    assert "absolute path" in by["evil2"].error.render("en")
    assert "zip-slip" in by["evil3"].error.render("en")  # backslashes are separators too
    assert not list(tmp_path.rglob("escaped.py")) and not list(tmp_path.rglob("winslip.py"))
    assert not Path("/tmp/absolute.py").exists()
    assert by["good"].error is None and "tcp_echo" in by["good"].exercises  # the batch goes on


def test_symbolic_links_are_never_extracted_nor_followed(tmp_path):
    subs = tmp_path / "subs"
    make_zip(subs / "linky.zip", {"exercises/tcp_echo/server.py": SERVER},
             links={"exercises/tcp_echo/client.py": "/etc/shadow"})
    folder = subs / "folder" / "tcp_echo"
    folder.mkdir(parents=True)
    (folder / "server.py").write_bytes(SERVER)
    (folder / "client.py").symlink_to("/etc/passwd")
    by = {s.student: s for s in run_intake(subs, tmp_path)[0]}
    for name in ("linky", "folder"):
        copy = by[name].exercises["tcp_echo"]
        assert not (copy / "client.py").exists() and not (copy / "client.py").is_symlink(), name
        assert any("symbolic link" in n.render("en") for n in by[name].notes), name
        assert (copy / "server.py").read_bytes() == SERVER


def test_zip_bombs_are_capped_on_what_is_really_written(tmp_path):
    subs = tmp_path / "subs"
    make_zip(subs / "big.zip", {"exercises/tcp_echo/server.py": b"\0" * (3 << 20)})  # 3 MiB of zeros
    make_zip(subs / "many.zip", {f"exercises/tcp_echo/f{i}.py": b"x" for i in range(40)})
    make_zip(subs / "fine.zip", {"exercises/tcp_echo/server.py": SERVER})
    caps = Caps(files=20, file_bytes=1 << 20, total_bytes=2 << 20)
    by = {s.student: s for s in run_intake(subs, tmp_path, caps=caps)[0]}
    assert "larger than 1 MiB" in by["big"].error.render("en")
    assert "more than 20 files" in by["many"].error.render("en")
    assert by["fine"].error is None
    assert (tmp_path / "subs" / "big.zip").stat().st_size < 64 * 1024  # it really was a bomb


def test_a_file_that_is_not_a_zip_is_reported_not_fatal(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "broken.zip").write_bytes(b"PK\x03\x04 this is not really a zip")
    by = {s.student: s for s in run_intake(subs, tmp_path)[0]}
    assert "could not be read as a zip" in by["broken"].error.render("en")
    assert "could not be read as a zip" in by["broken"].missing["tcp_echo"].render("en")


# -- intake: what Chinese Windows and macOS make --------------------------------------------

def test_gbk_names_bom_crlf_gbk_sources_and_macosx(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    examples.canvas_zip(subs / "zhangwei_123456_7890123_netlab.zip")
    (sub,), _ = run_intake(subs, tmp_path)
    assert (sub.student, sub.name, sub.error) == ("123456", "zhangwei", None)
    copy = sub.exercises["tcp_echo"]
    server = (copy / "server.py").read_bytes()
    client = (copy / "client.py").read_bytes()
    assert not server.startswith(b"\xef\xbb\xbf") and b"\r\n" not in server
    assert server == (REPO / "solutions/tcp_echo/server.py").read_bytes()
    assert "TCP 回显客户端（张伟）" in client.decode("utf-8") and b"\r\n" not in client
    assert (copy / "笔记.txt").read_bytes() == "做完了\r\n".encode("gbk")  # data files untouched
    assert not list(tmp_path.rglob("__MACOSX")) and not list(tmp_path.rglob(".DS_Store"))
    assert not list(tmp_path.rglob("._server.py"))
    said = [n.render("en") for n in sub.notes + sub.ex_notes["tcp_echo"]]
    assert any("decoded as GBK" in n for n in said)
    assert any("__MACOSX" in n for n in said)
    assert "tcp_echo/server.py: removed the UTF-8 BOM, CRLF line endings changed to LF" in said
    assert "tcp_echo/client.py: re-encoded from GBK to UTF-8, CRLF line endings changed to LF" in said
    zh = [n.render("zh") for n in sub.ex_notes["tcp_echo"]]
    assert "tcp_echo/client.py：从 GBK 编码转换成了 UTF-8，CRLF 换行符改成了 LF" in zh


def test_sources_that_declare_their_encoding_and_sources_that_cannot_be_read():
    gbk_declared = "# -*- coding: gbk -*-\nprint('你好')\n".encode("gbk")
    assert normalise.normalise_source(gbk_declared) == (gbk_declared, [], None)  # Python reads it
    wrong_cookie = "# coding: utf-8\nprint('你好')\r\n".encode("gbk")
    data, changes, warning = normalise.normalise_source(wrong_cookie)
    assert data.decode("utf-8") == "# coding: utf-8\nprint('你好')\n" and warning is None
    compile(data, "x.py", "exec")
    data, changes, warning = normalise.normalise_source(b"print('\xff\xfe\xff')\n")
    assert data == b"print('\xff\xfe\xff')\n" and "neither UTF-8 nor GBK" in warning.render("en")
    plain = b"print('hello')\n"
    assert normalise.normalise_source(plain) == (plain, [], None)


# -- the student side: grader pack ----------------------------------------------------------

def test_pack_writes_only_the_listed_files_and_intake_reads_it(tmp_path):
    work = tmp_path / "work"
    (work / "tcp_echo").mkdir(parents=True)
    (work / "tcp_echo" / "server.py").write_bytes(SERVER)
    (work / "tcp_echo" / "client.py").write_bytes(CLIENT)
    (work / "tcp_echo" / "scratch.txt").write_text("mine")
    (work / "tcp_echo" / "__pycache__").mkdir()
    out = tmp_path / "subs" / "s1.zip"
    out.parent.mkdir()
    proc = subprocess.run([sys.executable, "-m", "grader", "pack", "--out", str(out), "--target",
                           str(work), "--exercises", "tcp_echo", "udp_echo"], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "exercises/udp_echo/server.py" in proc.stdout.split("not found")[1]
    with zipfile.ZipFile(out) as zf:
        assert sorted(zf.namelist()) == ["exercises/tcp_echo/client.py", "exercises/tcp_echo/server.py"]
    first = out.read_bytes()
    subprocess.run([sys.executable, "-m", "grader", "pack", "--out", str(out), "--target",
                    str(work), "--exercises", "tcp_echo", "udp_echo"], cwd=REPO, capture_output=True, timeout=60)
    assert out.read_bytes() == first  # the same files, the same zip
    (sub,), _ = run_intake(out.parent, tmp_path)
    assert (sub.exercises["tcp_echo"] / "client.py").read_bytes() == CLIENT


# -- feedback: student text never becomes Markdown ------------------------------------------

def _outside_code(md: str) -> str:
    """The Markdown with fenced blocks and code spans removed: what a renderer parses."""
    md = re.sub(r"^( *)(`{3,})text\n.*?\n\1\2$", "", md, flags=re.S | re.M)
    return re.sub(r"(`+).*?\1", "", md)


def test_feedback_markdown_escapes_student_text():
    hostile = "<script>alert(1)</script> [win](http://evil.example) ``` **bold**"
    record = {
        "student": "eve", "name": "[Eve](http://evil.example) <b>", "total": 0, "max_score": 2,
        "notes_md": [feedback.md_text(say("{file}: a symbolic link, not copied", "{file}：是符号链接",
                                          file="[x](http://e.example)<img src=x>.py"))],
        "exercises": {"tcp_echo": {
            "status": "ok", "score": 0, "max_score": 2, "notes_md": [], "precheck": None,
            "tests": [
                {"name": "t1", "title": "echoes *this* <b>", "score": 0, "max_score": 1,
                 "status": "failed", "visibility": "visible", "output": hostile + "\n````\n" + hostile},
                {"name": "t2", "title": "a hidden one", "score": 0, "max_score": 1,
                 "status": "failed", "visibility": "hidden", "output": "SECRET hidden output"}]}}}
    md = feedback.render(record, {"tcp_echo": "TCP echo"})
    parsed = _outside_code(md)
    assert "<" not in parsed.replace("\\<", "") and "](" not in parsed, parsed
    assert "**bold**" not in parsed
    assert md.count(hostile) == 2                          # shown, inside a code block
    assert "`````text" in md                               # a fence longer than the student's ````
    assert "SECRET" not in md and "a hidden one — 0/1" in md
    assert "echoes \\*this\\* \\<b\\>" in md


# -- whole batches, through the CLI ---------------------------------------------------------

def grader(*args, env=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})


def batch(subs: Path, out: Path, *extra: str, root: Path | None = None, env=None):
    args = (["--root", str(root)] if root else []) + ["batch", str(subs), "--out", str(out),
                                                      "--workers", "2", *extra]
    if os.geteuid() != 0:  # batches want root (own uids); elsewhere the user namespace confines
        args.append("--trust-submission")
    return grader(*args, env=env)


def grades(out: Path) -> dict[str, dict]:
    raw = (out / "grades.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 only with the BOM
    return {r["student"]: r for r in csv.DictReader(io.StringIO(raw.decode("utf-8-sig")))}


def outputs(out: Path) -> dict[str, bytes]:
    files = [out / "grades.csv", *sorted((out / "feedback").iterdir()), *sorted((out / "results").iterdir())]
    return {str(p.relative_to(out)): p.read_bytes() for p in files}


def verdicts(out: Path) -> dict:
    """Every check's status and score per (student, exercise): what decides a grade. (A
    feedback text may quote how far a transfer got before a faulty server broke it off, which
    depends on timing; the verdict never does.)"""
    got = {}
    for path in (out / "results").iterdir():
        record = json.loads(path.read_text())
        for ex_id, ex in record["exercises"].items():
            got[(record["student"], ex_id)] = (ex.get("status"), ex.get("score"), sorted(
                (t["name"], t["status"], t["score"]) for t in ex.get("tests", [])))
    return got


def finished(out: Path) -> dict:
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        return {(s, e): f for s, e, f in db.execute("SELECT student, exercise, finished FROM runs")}


def test_examples_are_current():
    """alice and the two LMS zips in examples/submissions/ are made from solutions/: a fixed
    solution must be carried over (python examples/build.py), or the examples grade stale code."""
    assert examples.stale() == [], "run: python examples/build.py"


def test_batch_over_the_examples(tmp_path):
    subs = examples.build(tmp_path / "subs")
    (subs / "mallory.zip").write_bytes(b"not a zip at all")
    (subs / "readme.txt").write_text("the TA's notes")
    out = tmp_path / "out"
    proc = batch(subs, out, "--exercises", "tcp_echo")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    g = grades(out)
    assert {s: float(r["tcp_echo"]) for s, r in g.items()} == {
        "123456": 13, "654321": 13, "alice": 13, "bob": 10, "carol": 0, "dave": 0, "eve": 1,
        "mallory": 0}
    assert g["654321"]["name"] == "李雷" and g["123456"]["name"] == "zhangwei"
    assert g["carol"]["status"] == "tcp_echo: invalid"
    assert g["mallory"]["status"] == "tcp_echo: unreadable"
    assert g["alice"]["status"] == "ok" and g["alice"]["max"] == "13"
    assert "mallory tcp_echo: unreadable" in proc.stdout and "readme.txt" in proc.stdout
    assert "tcp_echo: mean" in proc.stdout and "graded 8 students" in proc.stdout

    alice = json.loads((out / "results" / "alice.json").read_text())
    checks = {t["name"]: t for t in alice["exercises"]["tcp_echo"]["tests"]}
    assert checks["test_trickled_bytes_are_all_echoed"]["visibility"] == "hidden"  # everything, by id
    assert alice["total"] == 13 and alice["exercises"]["tcp_echo"]["status"] == "ok"
    dave = json.loads((out / "results" / "dave.json").read_text())
    assert "not listening" in dave["exercises"]["tcp_echo"]["tests"][0]["output"]
    carol_md = (out / "feedback" / "carol.md").read_text()
    assert "SyntaxError" in carol_md
    zhang_md = (out / "feedback" / "123456.md").read_text()
    assert "re-encoded from GBK to UTF-8" in zhang_md and "removed the UTF-8 BOM" in zhang_md
    assert "## `tcp_echo` · TCP echo server and client — 13/13" in zhang_md

    eve_md = (out / "feedback" / "eve.md").read_text()
    assert "<script>alert(1)</script>" in eve_md         # shown ...
    parsed = _outside_code(eve_md)
    assert "<script" not in parsed and "](" not in parsed and "\x1b" not in eve_md  # ... never run
    bob_md = (out / "feedback" / "bob.md").read_text()
    assert "NotImplementedError" in bob_md                       # visible: full feedback
    hidden_titles = [t["title"] for t in json.loads((out / "results" / "bob.json").read_text())
                     ["exercises"]["tcp_echo"]["tests"] if t["visibility"] == "hidden"]
    for title in hidden_titles:                                  # hidden: title and points
        assert f"- {feedback.md_escape(title)} — " in bob_md

    before, when = outputs(out), finished(out)
    again = batch(subs, out, "--exercises", "tcp_echo")          # nothing changed: all reused
    assert again.returncode == 0 and "0 runs now, 7 from the gradebook" in again.stdout
    assert outputs(out) == before and finished(out) == when


RESUMED = ("alice", "carol", "dave", "zhangwei", "lilei")


@pytest.mark.parametrize("how", ["ctrl-c", "kill -9"])
def test_an_interrupted_batch_resumes_to_identical_outputs(tmp_path, how, request):
    subs = examples.build(tmp_path / "subs", RESUMED)
    whole = tmp_path / "whole"
    assert batch(subs, whole, "--exercises", "tcp_echo").returncode == 0
    out = tmp_path / "out"
    # a temp folder of its own: a judge of another test starting meanwhile would sweep the
    # killed batch's folders from /tmp before this test could see them left behind
    temp = Path(tempfile.mkdtemp(prefix="batch-temp-", dir="/tmp"))
    temp.chmod(0o755)
    request.addfinalizer(lambda: shutil.rmtree(temp, ignore_errors=True))
    env = {**os.environ, "TMPDIR": str(temp)}
    proc = subprocess.Popen([sys.executable, "-m", "grader", "batch", str(subs), "--out", str(out),
                             "--workers", "2", "--exercises", "tcp_echo"], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    first = proc.stdout.readline()          # printed once the first run is committed
    below = descendants(proc.pid)          # judges, zygotes, students (dave's keeps running)
    proc.send_signal(signal.SIGINT if how == "ctrl-c" else signal.SIGKILL)
    rest, err = proc.communicate(timeout=120)
    assert first.startswith("[1/5]"), first + rest + err
    if how == "ctrl-c":
        assert proc.returncode == 130 and "run the same command again to resume" in err, rest + err
    else:  # no handler ran: the judges die with the batch (PR_SET_PDEATHSIG), students with them
        assert proc.returncode == -9 and below
        deadline = time.monotonic() + 30
        while any(map(alive, below)) and time.monotonic() < deadline:
            time.sleep(0.05)  # waiting, with a deadline, for the kernel to finish the kills
        assert not [p for p in below if alive(p)], "processes of the killed batch survive"
        assert left_by({proc.pid, *below}, temp), "the killed batch's folders were expected in the temp folder"
    kept = finished(out)
    assert 1 <= len(kept) < 5
    assert not (out / "grades.csv").exists()
    resumed = batch(subs, out, "--exercises", "tcp_echo", env={"TMPDIR": str(temp)})
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert f"{5 - len(kept)} runs now, {len(kept)} from the gradebook" in resumed.stdout
    assert all(finished(out)[k] == v for k, v in kept.items())   # finished runs were kept
    assert outputs(out) == outputs(whole)
    assert not left_by({proc.pid, *below}, temp), "the next judges sweep what a killed batch left in the temp folder"


def left_by(pids, folder: Path) -> list[Path]:
    """The jail and scratch folders in `folder` named by one of these processes."""
    pids = set(pids)
    return [p for p in folder.iterdir()
            if (m := re.fullmatch(r"netlab-(?:jail|scratch)-(\d+)-\d+-\w+", p.name)) and int(m[1]) in pids]


def test_a_folder_whose_owner_is_a_zombie_is_swept(tmp_path):
    """A judge killed with its batch is re-parented to the nearest subreaper, which may not reap
    it at once (an xdist worker that ran a judge in-process is one): a zombie owns nothing."""
    from grader import procs
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the owner: makes its folder, says so, ends without being reaped
        os.close(r)
        os.write(w, tempfile.mkdtemp(prefix=procs.owned_prefix("scratch"), dir=tmp_path).encode())
        os._exit(0)
    os.close(w)
    with os.fdopen(r) as f:
        folder = Path(f.read())
    try:
        deadline = time.monotonic() + 10
        while procs._state(pid) != "Z" and time.monotonic() < deadline:
            time.sleep(0.01)  # polling /proc with a deadline until it has ended
        assert procs._state(pid) == "Z" and folder.is_dir()
        mine = Path(tempfile.mkdtemp(prefix=procs.owned_prefix("scratch"), dir=tmp_path))
        assert procs.sweep_owned(("scratch",), str(tmp_path)) == [str(folder)]
        assert not folder.exists() and mine.is_dir()  # ours stays: this process lives
    finally:
        os.waitpid(pid, 0)


def test_regrade_redoes_every_run_and_the_same_folder_gets_the_same_grades(tmp_path):
    subs = examples.build(tmp_path / "subs", ("alice", "carol", "zhangwei"))
    out = tmp_path / "out"
    assert batch(subs, out, "--exercises", "tcp_echo").returncode == 0
    before, when = outputs(out), finished(out)
    again = batch(subs, out, "--exercises", "tcp_echo", "--regrade")
    assert again.returncode == 0 and "3 runs now, 0 from the gradebook" in again.stdout
    assert all(finished(out)[k] > v for k, v in when.items())
    assert outputs(out) == before


def test_batches_graded_side_by_side_give_identical_outputs(tmp_path):
    """Same submissions, same grades, also under load: two batches of the same class at once
    (with the rest of the project's tests running beside them under xdist)."""
    subs = examples.build(tmp_path / "subs", ("alice", "bob", "dave", "eve", "zhangwei"))
    args = ["--workers", "2", "--exercises", "tcp_echo", "udp_echo"]
    if os.geteuid() != 0:
        args.append("--trust-submission")
    procs = [subprocess.Popen([sys.executable, "-m", "grader", "batch", str(subs), "--out",
                               str(tmp_path / f"out{i}"), *args], cwd=REPO, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for i in range(2)]
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, out + err
    first, second = verdicts(tmp_path / "out0"), verdicts(tmp_path / "out1")
    assert first == second and len(first) == 5 * 2
    assert (tmp_path / "out0" / "grades.csv").read_bytes() == (tmp_path / "out1" / "grades.csv").read_bytes()
    assert {s: float(r["total"]) for s, r in grades(tmp_path / "out0").items()}["alice"] == \
        sum(e.points for i, e in COURSE.exercises.items() if i in ("tcp_echo", "udp_echo"))


def test_a_changed_suite_regrades_what_it_affects(tmp_path):
    course = copy_real_course(tmp_path / "course", ids=("tcp_echo", "udp_echo"))
    subs = examples.build(tmp_path / "subs", ("alice",))
    out = tmp_path / "out"
    assert batch(subs, out, root=course).returncode == 0
    when = finished(out)
    assert set(when) == {("alice", "tcp_echo"), ("alice", "udp_echo")}
    suite = course / "tests" / "tcp_echo" / "test_tcp_echo.py"
    suite.write_text(suite.read_text() + "\n# fixed mid-term\n")
    proc = batch(subs, out, root=course)
    assert "1 runs now, 1 from the gradebook" in proc.stdout, proc.stdout + proc.stderr
    now = finished(out)
    assert now[("alice", "tcp_echo")] > when[("alice", "tcp_echo")]
    assert now[("alice", "udp_echo")] == when[("alice", "udp_echo")]
    data = yaml.safe_load((course / "course.yaml").read_text())   # its course.yaml entry counts too
    next(e for e in data["exercises"] if e["id"] == "udp_echo")["time_limit"] = 12
    (course / "course.yaml").write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    proc = batch(subs, out, root=course)
    assert "1 runs now, 1 from the gradebook" in proc.stdout, proc.stdout + proc.stderr
    assert finished(out)[("alice", "udp_echo")] > now[("alice", "udp_echo")]
    points = course_mod.load(course, check_folders=False).exercises
    assert float(grades(out)["alice"]["total"]) == points["tcp_echo"].points + points["udp_echo"].points


def test_a_batch_refuses_to_start_where_student_code_cannot_be_confined(tmp_path):
    subs = examples.build(tmp_path / "subs", ("carol",))
    out = tmp_path / "out"
    proc = grader("batch", str(subs), "--out", str(out), "--exercises", "tcp_echo",
                  env={"NETLAB_ISOLATION": "uid" if os.geteuid() == 0 else "none"})
    assert proc.returncode == 2
    assert "refused" in proc.stderr and "--trust-submission" in proc.stderr
    assert not out.exists()


def test_every_exercise_grades_right_in_a_batch(tmp_path):
    """The whole course through one batch: the reference solutions earn full marks on every
    exercise and the stubs earn nothing, as `grader selftest` finds one judge at a time."""
    subs = tmp_path / "subs"
    for student, source in (("full", "solutions"), ("stub", "exercises")):
        for ex_id in COURSE.exercises:
            shutil.copytree(REPO / source / ex_id, subs / student / "exercises" / ex_id,
                            ignore=shutil.ignore_patterns("__pycache__", "README*"))
    out = tmp_path / "out"
    proc = batch(subs, out)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    rows = grades(out)
    for ex_id, ex in COURSE.exercises.items():
        assert float(rows["full"][ex_id]) == ex.points, (ex_id, rows["full"])
        assert float(rows["stub"][ex_id]) == 0, (ex_id, rows["stub"])
