"""The course tests itself (grader selftest), one exercise per test so xdist spreads them;
and the selftest itself is shown to catch a weak suite."""
import pytest

from conftest import REPO
from grader import course as course_mod
from grader.selftest import run_selftest

COURSE = course_mod.load(REPO)


@pytest.mark.parametrize("ex_id", list(COURSE.exercises))
def test_exercise_selftest(ex_id, capsys):
    rc = run_selftest(COURSE, [ex_id], jobs=2)
    out = capsys.readouterr().out
    assert rc == 0, out


WEAK_SUITE = """
from grader.harness import CheckFailed, check

@check(points=1)
def test_reads_the_file(student):
    \"\"\"the answer file says 42\"\"\"
    result = student.run("answer.py")
    if result.stdout.strip() != b"42":
        raise CheckFailed("wrong answer", expected=b"42", got=result.stdout)

@check(points=1)
def test_weak(student):
    \"\"\"a check that asserts nothing\"\"\"
    student.run("answer.py")
"""

MUTANTS = """
- name: prints_41
  why: off by one
  file: answer.py
  edits: [{old: "print(42)", new: "print(41)"}]
  caught_by: [test_reads_the_file]
- name: prints_43
  why: caught only by a check that asserts nothing
  file: answer.py
  edits: [{old: "print(42)", new: "print(43)"}]
  caught_by: [test_weak]
- name: stale
  why: the edit no longer applies
  file: answer.py
  edits: [{old: "print(4242)", new: "print(0)"}]
  caught_by: [test_reads_the_file]
- name: broken
  why: a mutant that does not even compile proves nothing
  file: answer.py
  edits: [{old: "print(42)", new: "print(42"}]
  caught_by: [test_reads_the_file]
"""


def test_selftest_reports_a_weak_suite(course_dir, capsys):
    course_dir.exercise("weak", stub={"answer.py": "print(42)\n"}, solution={"answer.py": "print(42)\n"},
                        suite=WEAK_SUITE, mutants=MUTANTS, points=3)
    course = course_mod.load(course_dir.root)
    rc = run_selftest(course, ["weak"], jobs=2)
    out = capsys.readouterr().out
    assert rc == 1
    assert "add up to 2 points, course.yaml says 3" in out
    assert "stub passes test_reads_the_file, test_weak" in out
    assert "prints_43" in out and "not caught by test_weak" in out
    assert "occurs 0 times" in out
    assert "does not compile" in out
    assert "1/4" in out  # only prints_41 killed
