"""course.yaml: loaded, validated, and turned into `Course` / `Exercise` objects.

Every problem is reported at once, each naming the file, the exercise and the field, because
an instructor editing the course wants the whole list, not one error per run.
The same rules are published as JSON Schema in course.schema.json for editors.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

COURSE_FILE = "course.yaml"
ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
LIMIT_KEYS = {"cpu_seconds": int, "memory_mb": int, "open_files": int, "file_size_mb": int,
              "processes": int, "socket_timeout": (int, float)}
TOP_KEYS = {"title", "version", "defaults", "exercises"}
DEFAULT_KEYS = {"time_limit", "points", "limits"}
EXERCISE_KEYS = {"id", "title", "topic", "files", "points", "time_limit", "requires", "hints",
                 "limits", "zh"}
ZH_KEYS = {"title", "topic", "hints"}  # an exercise's texts in Chinese (see grader.i18n)
REQUIRED_EXERCISE_KEYS = ("id", "title", "topic", "files", "points", "hints")


class CourseError(Exception):
    """course.yaml is wrong; `problems` lists every finding."""

    def __init__(self, path: Path, problems: list[str]):
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: " + ("\n  ".join(["invalid course file:", *problems])))


class Record:
    """Equality and repr by `_fields`, as a dataclass has them: plain classes, because the
    dataclasses module (it imports inspect) cost 11 ms of every `grader check`'s start."""
    _fields: tuple[str, ...] = ()
    __hash__ = None  # mutable fields: not hashable, as the dataclasses were not

    def __eq__(self, other):
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, f) == getattr(other, f) for f in self._fields)

    def as_dict(self) -> dict:
        return {f: getattr(self, f) for f in self._fields}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(" + ", ".join(
            f"{f}={getattr(self, f)!r}" for f in self._fields) + ")"


class Exercise(Record):
    _fields = ("id", "title", "topic", "files", "points", "time_limit", "requires", "hints",
               "limits", "index", "zh")

    def __init__(self, id: str, title: str, topic: str, files: tuple[str, ...], points: float,
                 time_limit: float, requires: tuple[str, ...], hints: tuple[str, ...],
                 limits: dict, index: int, zh: dict | None = None):
        self.id, self.title, self.topic, self.files = id, title, topic, files
        self.points, self.time_limit, self.requires, self.hints = points, time_limit, requires, hints
        self.limits, self.index = limits, index
        self.zh = {} if zh is None else zh  # title, topic, hints in Chinese

    def text(self, key: str, lang: str = "en"):
        """title, topic or hints in `lang` (Chinese falls back to English where missing)."""
        if lang == "zh" and key in self.zh:
            value = self.zh[key]
            return tuple(value) if key == "hints" else value
        return getattr(self, key)

    def folder(self, root: Path, kind: str) -> Path:
        return root / kind / self.id


class Course(Record):
    _fields = ("root", "title", "time_limit", "default_points", "limits", "exercises")

    def __init__(self, root: Path, title: str, time_limit: float, default_points: float,
                 limits: dict, exercises: dict[str, Exercise] | None = None):
        self.root, self.title, self.time_limit = root, title, time_limit
        self.default_points, self.limits = default_points, limits
        self.exercises: dict[str, Exercise] = {} if exercises is None else exercises
        self.seen: dict[str, int] = {}  # id -> position, while loading

    def get(self, ex_id: str) -> Exercise:
        try:
            return self.exercises[ex_id]
        except KeyError:
            raise UnknownExercise(ex_id, self.closest(ex_id)) from None

    def closest(self, ex_id: str) -> list[str]:
        ids = list(self.exercises)
        close = close_matches(ex_id, ids, n=3, cutoff=0.5)
        return close or [i for i in ids if ex_id in i or i in ex_id][:3]

    def limits_for(self, ex: Exercise) -> dict:
        return {**self.limits, **ex.limits}


class UnknownExercise(KeyError):
    def __init__(self, ex_id: str, close: list[str]):
        self.ex_id = ex_id
        self.close = close
        msg = f"no exercise called {ex_id!r}"
        if close:
            msg += f"; did you mean {', '.join(close)}?"
        super().__init__(msg)

    def __str__(self) -> str:
        return self.args[0]


def close_matches(word: str, choices, n: int = 3, cutoff: float = 0.6) -> list[str]:
    """difflib's suggestions, imported only when a name is wrong."""
    import difflib
    return difflib.get_close_matches(word, choices, n=n, cutoff=cutoff)


def find_root(start: Path | None = None) -> Path:
    """The nearest folder, from `start` upwards, that holds course.yaml."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / COURSE_FILE).is_file():
            return folder
    raise FileNotFoundError(f"no {COURSE_FILE} in {here} or any folder above it")


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _check_limits(where: str, limits, problems: list[str]) -> dict:
    if limits is None:
        return {}
    if not isinstance(limits, dict):
        problems.append(f"{where}: field 'limits': must be a mapping")
        return {}
    for key, value in limits.items():
        if key not in LIMIT_KEYS:
            problems.append(f"{where}: field 'limits.{key}': unknown limit "
                            f"(known: {', '.join(sorted(LIMIT_KEYS))})")
        elif not _is_number(value) or not isinstance(value, LIMIT_KEYS[key]) or value <= 0:
            problems.append(f"{where}: field 'limits.{key}': must be a positive number")
    return {k: v for k, v in limits.items() if k in LIMIT_KEYS}


CACHE = Path(".netlab") / "course-cache.json"


def _read(path: Path):
    """course.yaml's data. A JSON copy keyed by the file's mtime and size is kept in
    .netlab/ (git-ignored): every `grader check` starts two Pythons that read the course,
    and importing a YAML parser costs each of them more than reading JSON."""
    try:
        st = path.stat()
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CourseError(path, [f"cannot read it: {exc.strerror}"]) from None
    key = [st.st_mtime_ns, st.st_size]
    cache = path.parent / CACHE
    try:
        cached = json.loads(cache.read_text())
        if cached["key"] == key:
            return cached["data"]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    import yaml
    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise CourseError(path, [f"not valid YAML: {exc}"]) from None
    try:
        cache.parent.mkdir(exist_ok=True)
        if not (cache.parent / ".gitignore").exists():
            (cache.parent / ".gitignore").write_text("*\n")
        tmp = cache.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"key": key, "data": data}))
        tmp.replace(cache)
    except (OSError, TypeError, ValueError):
        pass  # a read-only course folder, or data JSON cannot hold: just no cache
    return data


def load(root: Path | None = None, *, check_folders: bool | str = True) -> Course:
    """Read and validate ROOT/course.yaml; raise CourseError listing every problem.

    check_folders: True checks each exercise's folders exist; "strict" (grader validate)
    also checks every student file in exercises/ and solutions/. A student who deleted a file
    must still be able to check the other exercises, so only validate is that strict."""
    root = find_root() if root is None else Path(root).resolve()
    path = root / COURSE_FILE
    data = _read(path)
    problems: list[str] = []
    if not isinstance(data, dict):
        raise CourseError(path, ["the top level must be a mapping with 'title' and 'exercises'"])
    for key in sorted(set(data) - TOP_KEYS):
        problems.append(f"top level: unknown field {key!r} (known: {', '.join(sorted(TOP_KEYS))})")
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        problems.append("top level: field 'title': must be a non-empty string")
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict):
        problems.append("defaults: must be a mapping")
        defaults = {}
    for key in sorted(set(defaults) - DEFAULT_KEYS):
        problems.append(f"defaults: unknown field {key!r} (known: {', '.join(sorted(DEFAULT_KEYS))})")
    time_limit = defaults.get("time_limit", 10)
    if not _is_number(time_limit) or time_limit <= 0:
        problems.append("defaults: field 'time_limit': must be a positive number of seconds")
        time_limit = 10
    default_points = defaults.get("points", 1)
    if not _is_number(default_points) or default_points < 0:
        problems.append("defaults: field 'points': must be a number >= 0")
        default_points = 1
    limits = _check_limits("defaults", defaults.get("limits"), problems)
    course = Course(root, title if isinstance(title, str) else "", time_limit, default_points, limits)

    exercises = data.get("exercises")
    if not isinstance(exercises, list) or not exercises:
        problems.append("top level: field 'exercises': must be a non-empty list")
        exercises = []
    for n, raw in enumerate(exercises, 1):
        ex = _load_exercise(course, n, raw, problems, check_folders)
        if ex is not None:
            course.exercises[ex.id] = ex
    if problems:
        raise CourseError(path, problems)
    return course


def _load_exercise(course: Course, n: int, raw, problems: list[str], check_folders: bool):
    if not isinstance(raw, dict):
        problems.append(f"exercise #{n}: must be a mapping with at least "
                        f"{', '.join(REQUIRED_EXERCISE_KEYS)}")
        return None
    ex_id = raw.get("id")
    where = f"exercise {ex_id!r} (#{n})" if isinstance(ex_id, str) else f"exercise #{n}"
    bad = len(problems)
    for key in sorted(set(raw) - EXERCISE_KEYS):
        close = close_matches(key, EXERCISE_KEYS, n=1)
        problems.append(f"{where}: unknown field {key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    for key in REQUIRED_EXERCISE_KEYS:
        if key not in raw:
            problems.append(f"{where}: missing field {key!r}")
    if "id" in raw and (not isinstance(ex_id, str) or not ID_RE.match(ex_id)):
        problems.append(f"{where}: field 'id': must match {ID_RE.pattern} (a folder name)")
    elif isinstance(ex_id, str) and ex_id in course.seen:
        problems.append(f"{where}: field 'id': duplicate id {ex_id!r} "
                        f"(also exercise #{course.seen[ex_id]})")
    if isinstance(ex_id, str):
        course.seen.setdefault(ex_id, n)
    for key in ("title", "topic"):
        if key in raw and (not isinstance(raw[key], str) or not raw[key].strip()):
            problems.append(f"{where}: field {key!r}: must be a non-empty string")
    files = raw.get("files")
    if "files" in raw and (not isinstance(files, list) or not files or not all(
            isinstance(f, str) and f and "/" not in f and not f.startswith(".") for f in files)):
        problems.append(f"{where}: field 'files': must be a non-empty list of file names "
                        "(no folders)")
        files = None
    points = raw.get("points")
    if "points" in raw and (not _is_number(points) or points <= 0):
        problems.append(f"{where}: field 'points': must be a number > 0")
    tl = raw.get("time_limit", course.time_limit)
    if not _is_number(tl) or tl <= 0:
        problems.append(f"{where}: field 'time_limit': must be a positive number of seconds")
    requires = raw.get("requires") or []
    if not isinstance(requires, list) or not all(isinstance(r, str) for r in requires):
        problems.append(f"{where}: field 'requires': must be a list of exercise ids")
        requires = []
    for req in requires:
        if req not in course.seen or req == ex_id:
            close = close_matches(req, list(course.seen), n=1)
            problems.append(f"{where}: field 'requires': {req!r} names no earlier exercise"
                            + (f" (did you mean {close[0]!r}?)" if close else ""))
    hints = raw.get("hints")
    if "hints" in raw and (not isinstance(hints, list) or not hints or not all(
            isinstance(h, str) and h.strip() for h in hints)):
        problems.append(f"{where}: field 'hints': must be a non-empty list of strings")
    limits = _check_limits(where, raw.get("limits"), problems)
    zh = raw.get("zh") or {}
    if not isinstance(zh, dict):
        problems.append(f"{where}: field 'zh': must be a mapping with title, topic, hints")
        zh = {}
    for key in sorted(set(zh) - ZH_KEYS):
        problems.append(f"{where}: field 'zh.{key}': unknown (known: {', '.join(sorted(ZH_KEYS))})")
    for key in ("title", "topic"):
        if key in zh and (not isinstance(zh[key], str) or not zh[key].strip()):
            problems.append(f"{where}: field 'zh.{key}': must be a non-empty string")
    if "hints" in zh and (not isinstance(zh["hints"], list) or not all(
            isinstance(h, str) and h.strip() for h in zh["hints"])):
        problems.append(f"{where}: field 'zh.hints': must be a list of strings")
    elif "hints" in zh and isinstance(hints, list) and len(zh["hints"]) != len(hints):
        problems.append(f"{where}: field 'zh.hints': {len(zh['hints'])} hints, but 'hints' has "
                        f"{len(hints)}: each hint needs its translation")
    if check_folders and isinstance(ex_id, str) and ID_RE.match(ex_id):
        for kind in ("exercises", "solutions", "tests"):
            folder = course.root / kind / ex_id
            if kind != "exercises" and not folder.parent.is_dir():
                continue  # a student bundle ships without solutions/ (and maybe tests/)
            if not folder.is_dir():
                problems.append(f"{where}: folder {kind}/{ex_id}/ is missing")
            elif check_folders == "strict" and kind != "tests" and isinstance(files, list):
                for f in files:
                    if not (folder / f).is_file():
                        problems.append(f"{where}: field 'files': {kind}/{ex_id}/{f} is missing")
    if len(problems) > bad:
        return None
    return Exercise(ex_id, raw["title"], raw["topic"], tuple(files), points, tl, tuple(requires),
                    tuple(hints), limits, n, zh)
