"""course.yaml loading and validation: every problem named by file, exercise and field."""
import json

import jsonschema
import pytest
import yaml

from grader import course as course_mod
from conftest import REPO


def write(root, text):
    root.mkdir(parents=True, exist_ok=True)
    (root / "course.yaml").write_text(text)
    return root


def make_folders(root, *ids):
    for ex_id in ids:
        for kind in ("exercises", "solutions", "tests"):
            (root / kind / ex_id).mkdir(parents=True, exist_ok=True)


GOOD = """
title: T
defaults: {time_limit: 5, limits: {cpu_seconds: 3}}
exercises:
  - {id: one, title: One, topic: t, files: [a.py], points: 2, hints: [h]}
  - {id: two, title: Two, topic: t, files: [b.py], points: 3, hints: [h], requires: [one], time_limit: 7}
"""


def test_loads_a_valid_course_in_order(tmp_path):
    root = write(tmp_path / "c", GOOD)
    make_folders(root, "one", "two")
    course = course_mod.load(root)
    assert list(course.exercises) == ["one", "two"]
    assert course.get("one").time_limit == 5
    assert course.get("two").time_limit == 7
    assert course.get("two").requires == ("one",)
    assert course.limits_for(course.get("one")) == {"cpu_seconds": 3}


def problems_of(root):
    with pytest.raises(course_mod.CourseError) as info:
        course_mod.load(root)
    assert str(root / "course.yaml") in str(info.value)
    return info.value.problems


def test_unknown_field_names_exercise_and_field_with_suggestion(tmp_path):
    root = write(tmp_path / "c", GOOD.replace("hints: [h]}", "hints: [h], requirse: [one]}", 1))
    make_folders(root, "one", "two")
    [problem] = problems_of(root)
    assert "exercise 'one' (#1)" in problem and "'requirse'" in problem and "'requires'" in problem


def test_requires_must_name_an_earlier_exercise(tmp_path):
    root = write(tmp_path / "c", GOOD.replace("requires: [one]", "requires: [onee]"))
    make_folders(root, "one", "two")
    [problem] = problems_of(root)
    assert "exercise 'two' (#2): field 'requires'" in problem and "did you mean 'one'" in problem


def test_duplicate_ids_and_missing_folders_all_reported(tmp_path):
    root = write(tmp_path / "c", GOOD.replace("id: two", "id: one"))
    make_folders(root, "one")
    (root / "tests" / "one").rmdir()
    problems = problems_of(root)
    assert any("duplicate id 'one'" in p for p in problems)
    assert any("folder tests/one/ is missing" in p for p in problems)


def test_missing_and_mistyped_fields(tmp_path):
    root = write(tmp_path / "c", """
title: ""
bogus: 1
exercises:
  - {id: Bad-Id, title: x, topic: t, files: [], points: -1, hints: []}
  - {id: ok, title: x, topic: t, points: 1, hints: [h], time_limit: 0, limits: {cpu: 1}}
""")
    make_folders(root, "ok")
    text = "\n".join(problems_of(root))
    for expected in ["field 'title'", "unknown field 'bogus'", "field 'id': must match",
                     "field 'files'", "field 'points'", "field 'hints'", "missing field 'files'",
                     "field 'time_limit'", "field 'limits.cpu': unknown limit"]:
        assert expected in text


def test_yaml_syntax_error_is_reported_with_the_file(tmp_path):
    root = write(tmp_path / "c", "title: [unclosed\n")
    [problem] = problems_of(root)
    assert "not valid YAML" in problem


def test_unknown_exercise_suggests_close_ids(tmp_path):
    root = write(tmp_path / "c", GOOD)
    make_folders(root, "one", "two")
    course = course_mod.load(root)
    with pytest.raises(course_mod.UnknownExercise) as info:
        course.get("onne")
    assert "did you mean one" in str(info.value)


def test_strict_validation_checks_student_files(tmp_path):
    root = write(tmp_path / "c", GOOD)
    make_folders(root, "one", "two")
    course_mod.load(root)  # folders are enough for everyday use
    problems = problems_of_strict(root)
    assert any("exercises/one/a.py is missing" in p for p in problems)


def problems_of_strict(root):
    with pytest.raises(course_mod.CourseError) as info:
        course_mod.load(root, check_folders="strict")
    return info.value.problems


def test_a_student_bundle_without_solutions_loads(tmp_path):
    root = write(tmp_path / "c", GOOD)
    for ex_id in ("one", "two"):
        (root / "exercises" / ex_id).mkdir(parents=True)
        (root / "tests" / ex_id).mkdir(parents=True)
    assert list(course_mod.load(root).exercises) == ["one", "two"]


def schema():
    return json.loads((REPO / "grader" / "course.schema.json").read_text())


def test_the_real_course_is_valid_by_loader_and_by_schema():
    course_mod.load(REPO, check_folders="strict")
    jsonschema.validate(yaml.safe_load((REPO / "course.yaml").read_text()), schema())


def test_schema_and_loader_know_the_same_fields():
    s = schema()
    assert set(s["properties"]) == course_mod.TOP_KEYS
    assert set(s["properties"]["defaults"]["properties"]) == course_mod.DEFAULT_KEYS
    assert set(s["$defs"]["exercise"]["properties"]) == course_mod.EXERCISE_KEYS
    assert set(s["$defs"]["exercise"]["required"]) == set(course_mod.REQUIRED_EXERCISE_KEYS)
    assert set(s["$defs"]["limits"]["properties"]) == set(course_mod.LIMIT_KEYS)


def test_schema_rejects_what_the_loader_rejects(tmp_path):
    bad = yaml.safe_load(GOOD)
    bad["exercises"][0]["colour"] = "red"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema())
