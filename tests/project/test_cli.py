"""The grader CLI as students and instructors use it: exit codes, JSON, bad input, list,
hint, watch. Each test works on a copy of the course, so state files land in tmp."""
import io
import json
import os
import select
import shutil
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

import pytest

from conftest import CourseBuilder, copy_real_course, grader

from grader import course as course_mod

REPO = Path(__file__).resolve().parents[2]
TCP_ECHO = course_mod.load(REPO, check_folders=False).exercises["tcp_echo"]


def hidden_checks(ex_id: str, cwd) -> int:
    """How many of an exercise's checks are hidden, counted from a full run's JSON."""
    run = grader("check", ex_id, "--target", "solutions", "--json", "--all", cwd=cwd)
    return sum(t["visibility"] == "hidden" for t in json.loads(run.stdout)["tests"])

LOCALE_VARS = ("NETLAB_LANG", "LC_ALL", "LC_MESSAGES", "LANG")


@pytest.fixture(autouse=True)
def english(monkeypatch):
    """The CLI's words are asserted in English unless a test chooses: whatever the locale of
    the machine running these tests."""
    for var in LOCALE_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NETLAB_LANG", "en")


def run(*args: str, cwd, env: dict | None = None, stdout=subprocess.PIPE):
    """The grader with exactly the language variables in `env` (none else)."""
    environ = {k: v for k, v in os.environ.items() if k not in LOCALE_VARS}
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=cwd, stdout=stdout,
                          stderr=subprocess.PIPE, text=True, timeout=120, env={**environ, **(env or {})})


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return copy_real_course(tmp_path_factory.mktemp("real") / "course")


HELLO_SUITE = """
from grader.harness import CheckFailed, check, say

@check(points=2, title=say("prints the answer", "打印出答案"),
       hint=say("print(42), nothing else", "只打印 42，别的都不要"))
def test_prints_the_answer(student):
    result = student.run("answer.py")
    if result.stdout.strip() != b"42":
        raise CheckFailed(say("the answer printed", "打印出的答案"), expected=b"42\\n", got=result.stdout)

@check(points=3, hidden=True, title=say("prints the answer once", "答案只打印一次"))
def test_prints_once(student):
    result = student.run("answer.py")
    if result.stdout.count(b"42") != 1:
        raise CheckFailed(say("the answer printed", "打印出的答案"), expected=b"42\\n", got=result.stdout)
"""


@pytest.fixture(scope="module")
def hello(tmp_path_factory):
    """A one-exercise course with every text in both languages (the real course's Chinese is
    its authors' business: tests/project/test_i18n.py checks that it exists)."""
    builder = CourseBuilder(tmp_path_factory.mktemp("hello") / "course")
    builder.exercise(
        "hello", stub={"answer.py": "raise NotImplementedError('write me')\n"},
        solution={"answer.py": "print(42)\n"}, suite=HELLO_SUITE, points=5,
        title="The answer", topic="printing one number",
        hints=["print() writes a line to stdout", "the answer is 42"],
        zh={"title": "答案", "topic": "打印一个数字", "hints": ["print() 向 stdout 写一行", "答案是 42"]})
    builder.exercise(
        "second_exercise_with_a_much_longer_name", stub={"a.py": "pass\n"}, solution={"a.py": "pass\n"},
        suite="", requires=["hello"], points=1, title="Second", topic="a long topic in English, words",
        zh={"title": "第二个练习", "topic": "一个很长很长的中文主题：三次握手、四次挥手、粘包和报头",
            "hints": ["读题"]})
    folder = builder.root / "exercises" / "hello"
    (folder / "README.md").write_text("# The answer\n\n## The task\n\nPrint 42.\n")
    (folder / "README.zh.md").write_text("# 答案\n\n## 任务\n\n打印 42。\n")
    return builder.root


def test_check_solution_json_has_gradescope_fields(course):
    run = grader("check", "tcp_echo", "--target", "solutions", "--json", "--all", cwd=course)
    assert run.returncode == 0, run.stdout + run.stderr
    data = json.loads(run.stdout)
    assert data["score"] == data["max_score"] == TCP_ECHO.points
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
    assert data["hidden_tests"] == hidden_checks("tcp_echo", course) > 0
    text = grader("check", "tcp_echo", "--target", "solutions", cwd=course).stdout
    n, points = data["hidden_tests"], data["hidden_points"]
    assert f"{n} hidden checks, {points:g} more points, run when your work is graded." in text
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
    text = (broken / "course.yaml").read_text().replace(f"points: {TCP_ECHO.points:g}", "points: twelve", 1)
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


# -------------------------------------------------------------- two languages (issue 7)

def test_check_speaks_the_chosen_language_and_tells_the_judge(hello):
    # NETLAB_LANG alone: the judge never sees it (its environment is scrubbed), so Chinese
    # titles prove the grader passed --netlab-lang on
    run_ = run("check", "hello", "--target", "solutions", "--json", "--all", cwd=hello,
               env={"NETLAB_LANG": "zh"})
    data = json.loads(run_.stdout)
    assert run_.returncode == 0 and data["lang"] == "zh"
    assert {t["title"] for t in data["tests"]} == {"打印出答案", "答案只打印一次"}
    assert data["score"] == data["max_score"] == 5
    # --lang beats NETLAB_LANG, before or after the command
    for args in (["--lang", "en", "check", "hello"], ["check", "hello", "--lang", "en"]):
        data = json.loads(run(*args, "--target", "solutions", "--json", cwd=hello,
                              env={"NETLAB_LANG": "zh"}).stdout)
        assert data["lang"] == "en" and [t["title"] for t in data["tests"]] == ["prints the answer"]
    # the locale, when nothing else is said
    data = json.loads(run("check", "hello", "--target", "solutions", "--json", cwd=hello,
                          env={"LANG": "zh_CN.UTF-8"}).stdout)
    assert data["lang"] == "zh" and data["tests"][0]["title"] == "打印出答案"


def test_check_in_chinese_reads_as_chinese(hello):
    text = run("--lang", "zh", "check", "hello", cwd=hello).stdout  # the stub
    assert "hello · 答案" in text and "✘ 打印出答案  0/2" in text
    assert "NotImplementedError" in text and "等着你来写" in text
    assert "另有 1 项隐藏检查（共 3 分），会在正式评分时运行。" in text
    assert text.rstrip().endswith("hello：0/2 分")
    english = run("check", "hello", cwd=hello).stdout
    assert "1 hidden check, 3 more points, run when your work is graded." in english
    assert english.rstrip().endswith("hello: 0/2 points")


def test_list_and_hint_in_chinese(hello):
    text = run("--lang", "zh", "hint", "hello", cwd=hello).stdout
    assert text.splitlines() == ["hello · 答案", "  1. print() 向 stdout 写一行", "  2. 答案是 42",
                                 f"  题目全文：{Path('exercises/hello/README.zh.md')}"]
    english = run("hint", "hello", cwd=hello).stdout
    assert "hello · The answer" in english and "exercises/hello/README.md" in english
    listing = run("list", "--lang", "zh", cwd=hello, env={"COLUMNS": "100"}).stdout
    assert "打印一个数字" in listing and "尚未检查" in listing and "上次结果" in listing
    assert "下一个：hello（答案）——先读 exercises/hello/README.zh.md，再运行 `grader check hello`" in listing


def _cells(line: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


@pytest.mark.parametrize("columns", ["100", "60"])
def test_list_table_columns_stay_straight_with_chinese(hello, columns):
    """rich measures wide characters: every row of the table is as wide as the table, and
    its column rules sit at the same display columns (measured here independently of rich)."""
    from grader import state
    state.record(hello, "hello", 2, 5, False)  # a 'last result' cell with a date
    listing = run("--lang", "zh", "list", cwd=hello, env={"COLUMNS": columns}).stdout
    rows = [line for line in listing.splitlines() if line[:1] in "┏┃┡│└"]
    assert len(rows) >= 6, listing
    widths = {_cells(row) for row in rows}
    assert widths == {_cells(rows[0])} and _cells(rows[0]) <= int(columns), listing

    def rules(line: str) -> list[int]:
        at, col = [], 0
        for c in line:
            if c in "┏┳┓┃┡╇┩│└┴┘":
                at.append(col)
            col += _cells(c)
        return at
    assert len({tuple(rules(row)) for row in rows}) == 1, listing
    assert "…" not in listing, listing  # wrapped, never cut
    column = lambda n: "".join(row.split("│")[n].strip() for row in rows if row.startswith("│"))  # noqa: E731
    assert "second_exercise_with_a_much_longer_name" in column(2)
    topic = column(3)
    assert "一个很长很长的中文主题：三次握手、四次挥手、粘包和报头" in topic, listing


def test_usage_errors_in_chinese(hello):
    bad = run("--lang", "zh", "chek", cwd=hello)
    assert bad.returncode == 2 and "grader：命令行有误：" in bad.stderr and "grader --help" in bad.stderr
    unknown = run("check", "nope", cwd=hello, env={"NETLAB_LANG": "zh"})
    assert unknown.returncode == 2
    assert "没有叫 'nope' 的练习" in unknown.stderr
    assert "全部练习（按课程顺序）：hello, second_exercise_with_a_much_longer_name" in unknown.stderr
    missing = run("--lang", "zh", "check", "hello", "--target", "nowhere", cwd=hello)
    assert missing.returncode == 2 and "目标文件夹" in missing.stderr and "不存在" in missing.stderr


# -------------------------------------------------------------- issue 6, section 2

def test_unknown_exercise_lists_every_exercise(hello):
    run_ = run("check", "nope", cwd=hello)
    assert run_.returncode == 2
    assert "no exercise called 'nope'" in run_.stderr
    assert "the exercises, in order: hello, second_exercise_with_a_much_longer_name" in run_.stderr


def _one_json_object(text: str) -> dict:
    data = json.loads(text)  # exactly one object: anything else on stdout fails here
    assert isinstance(data, dict)
    return data


def test_check_json_always_prints_one_object(hello, tmp_path):
    cases = {
        "target_missing": (["check", "hello", "--target", "nowhere", "--all"], 5),
        "unknown_exercise": (["check", "nope"], None),
    }
    for error, (args, max_score) in cases.items():
        run_ = run(*args, "--json", cwd=hello, env={"NETLAB_LANG": "zh"})
        assert run_.returncode == 2, run_.stderr
        data = _one_json_object(run_.stdout)
        assert data["error"] == error and data["score"] == 0 and data["max_score"] == max_score
        assert data["tests"] == [] and data["lang"] == "zh"
        assert data["problem"] == data["output"] and "不存在" in data["output"] or "没有叫" in data["output"]
    # a judge that fails: a suite that cannot even be imported
    broken = tmp_path / "broken"
    shutil.copytree(hello, broken)
    (broken / "tests" / "hello" / "test_hello.py").write_text("import no_such_module_here\n")
    run_ = run("check", "hello", "--json", cwd=broken)
    assert run_.returncode == 2
    data = _one_json_object(run_.stdout)
    assert data["error"] == "judge_failed" and data["score"] == 0 and data["max_score"] is None
    assert "no_such_module_here" in data["problem"] and data["exercise"] == "hello"
    # a course file that does not load
    (broken / "course.yaml").write_text("title: [\n")
    run_ = run("check", "hello", "--json", "--all", cwd=broken)
    assert run_.returncode == 2
    data = _one_json_object(run_.stdout)
    assert data["error"] == "invalid_course" and data["score"] == 0 and "course.yaml" in data["problem"]


@pytest.mark.parametrize("args", [["hint", "hello"], ["list"], ["check", "hello", "--target", "solutions"],
                                  ["--help"]])
def test_a_reader_that_goes_away_ends_it_quietly(hello, args):
    """`grader hint udp_echo | head -3`: the pipe's reader is gone before the first write."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        run_ = run(*args, cwd=hello, stdout=write_end)
    finally:
        os.close(write_end)
    assert run_.stderr == "" and run_.returncode == 141


def test_hidden_line_says_what_the_hidden_checks_are_worth():
    from grader.i18n import using
    from grader.judge import JudgeResult
    from grader.report import hidden_line, print_result
    assert str(hidden_line(5, 5)) == "5 hidden checks, 5 more points, run when your work is graded."
    assert str(hidden_line(1, 1)) == "1 hidden check, 1 more point, run when your work is graded."
    assert str(hidden_line(2, 2.5)) == "2 hidden checks, 2.5 more points, run when your work is graded."
    assert str(hidden_line(3, None)) == "3 hidden checks will also run when your work is graded."
    with using("zh"):
        assert str(hidden_line(5, 5)) == "另有 5 项隐藏检查（共 5 分），会在正式评分时运行。"
    result = JudgeResult("x", "/t/x", hidden=2)
    result.tests.append({"name": "test_a", "title": "a", "score": 1, "max_score": 1, "status": "passed",
                         "visibility": "visible", "output": ""})
    out = io.StringIO()
    result.hidden_points = 0  # an older judge that does not report the points: the count alone
    print_result(result, "X", file=out)
    assert "2 hidden checks will also run when your work is graded." in out.getvalue()


def test_identical_stderr_is_shown_once_in_either_language():
    from grader.i18n import using
    from grader.judge import JudgeResult
    from grader.report import print_result
    for lang, label, same in (
            ("en", "stderr of server.py (last lines):", "stderr of server.py (last lines): the same as above"),
            ("zh", "server.py 的 stderr（最后几行）：", "server.py 的 stderr（最后几行）：同上")):
        result = JudgeResult("x", "/t/x")
        for name in ("test_a", "test_b"):
            output = f"it failed\n  hint: loop\n  {label}\n    Traceback\n    NotImplementedError: x"
            result.tests.append({"name": name, "title": name, "score": 0, "max_score": 1,
                                 "status": "failed", "visibility": "visible", "output": output})
        out = io.StringIO()
        with using(lang):
            print_result(result, "X", file=out)
        text = out.getvalue()
        assert text.count("Traceback") == 1 and same in text, text


@pytest.mark.parametrize("argv", [
    ["check", "tcp_echo"], ["--lang", "zh", "check", "tcp_echo", "--all", "--json"],
    ["--root", "/tmp", "check", "x", "--target", "solutions", "--cold"], ["list", "--lang", "en"],
    ["hint", "udp_echo"], ["selftest", "-j", "2", "tcp_echo", "--mutant", "a", "--show"],
    ["batch", "subs", "--out", "o", "--workers", "2"], ["export", "gradescope", "z.zip"],
    ["export", "classroom", "out", "--exercises", "a", "b"], ["similarity", "o", "--top", "3"],
    ["watch", "tcp_echo", "--max-runs", "1"], ["validate"], ["pack"], ["report", "o"],
])
def test_a_parser_built_for_one_command_reads_it_as_the_whole_one(argv):
    """Each check builds the parser for its command alone (cli._command_word): the same
    namespace as the whole parser gives, for every command."""
    from grader import cli
    word = cli._command_word(argv)
    assert word == next(a for a in argv if a in cli.COMMANDS)
    assert vars(cli._parser(word).parse_args(argv)) == vars(cli._parser().parse_args(argv))
    assert cli._command_word(["--help"]) is None and cli._command_word(["chek", "x"]) is None
