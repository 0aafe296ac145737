"""`grader release OUTDIR`: the student bundle.

What ships: course.yaml (the released exercises), exercises/<id>/ (stubs and READMEs), the
visible checks of tests/<id>/, the grader package with a pyproject (so `pip install -e OUTDIR`
works), the dev container, a README for students, and release.json. What never ships:
solutions/, mutants.yaml, hidden checks (visibility other than "visible").

Hidden checks are cut out of each suite at the source level: the functions of hidden checks
are removed (with their decorators and the comment block just above them), then every
module-level helper, class or constant that nothing left refers to, until nothing more goes.
Imports stay. Which checks are hidden is read from pytest's own collection of the suite (the
`check(...)` marks as the judge sees them), in a separate process.

The bundle is built in a temporary folder next to OUTDIR and checked before it replaces
anything: its suites must collect exactly the visible checks of the course (same ids, points,
titles), and no hidden check's name or title (in either language), no solution line that is
not also in the stubs, tests or grader, and no mutants.yaml may appear anywhere in it.
release.json records, per exercise, the visible and hidden checks and points: in the bundle
`grader check` says how many hidden checks (and points) the graded run adds, and `grader
validate` checks that they add up to the exercise's points.
"""
from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from . import course as course_mod
from .i18n import say, text

MANIFEST = "release.json"
FORMAT = 1
KEEP_ON_RERELEASE = (".git", ".github")   # a re-release keeps the bundle's own git history
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".netlab", ".pytest_cache", ".hypothesis")
DEVCONTAINER = ".devcontainer"
# the README's set-up, and the dev container's Dockerfile (tests check they are the same)
INSTALL = "python3 -m venv .venv && .venv/bin/pip install -e ."
SPECIAL_NAMES = {"pytestmark", "pytest_plugins", "__all__"}


class ReleaseError(Exception):
    """The release cannot be made (or would leak): `problems` says every reason."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n  ".join(problems))


# -- what the suites hold, as pytest collects them -------------------------------------------

_COLLECTOR = r"""
import json, sys
from pathlib import Path
import pytest
from grader.i18n import text

root = Path(sys.argv[1]).resolve()
found = []

def _doc(obj):
    lines = (getattr(obj, "__doc__", None) or "").strip().splitlines()
    return lines[0].strip() if lines else None

class Collect:
    def pytest_collection_modifyitems(self, items):
        for item in items:
            mark = item.get_closest_marker("netlab")
            if mark is None:
                continue
            kw = mark.kwargs
            rel = Path(str(item.path)).resolve().relative_to(root)
            title, hint = kw.get("title"), kw.get("hint")
            fallback = _doc(item.obj) or item.name.removeprefix("test_").replace("_", " ")
            found.append({
                "exercise": rel.parts[1], "file": rel.as_posix(), "name": item.name,
                "function": item.originalname, "cls": item.cls.__name__ if item.cls else None,
                "points": kw.get("points") if kw.get("points") is not None else 1,
                "visibility": kw.get("visibility", "visible"),
                "title_en": text(title, "en") if title else fallback,
                "title_zh": text(title, "zh") if title else fallback,
                "hint_en": text(hint, "en") if hint else None,
                "hint_zh": text(hint, "zh") if hint else None,
                "time_limit": kw.get("time_limit"),
            })

args = [str(root / "tests" / ex) for ex in sys.argv[2:]]
rc = pytest.main([*args, "--collect-only", "-q", "--rootdir", str(root), "-p", "no:grader.plugin",
                  "-p", "no:cacheprovider", "-W", "ignore::pytest.PytestUnknownMarkWarning"],
                 plugins=[Collect()])
sys.stdout.write("\n@@netlab-collected@@" + json.dumps({"rc": int(rc), "checks": found}) + "\n")
"""


def collect(root: Path, ids: list[str]) -> dict[str, list[dict]]:
    """Every graded check of these exercises' suites under `root`, as pytest collects them
    (a separate process; the grader's plugin is not loaded, nothing runs)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "NETLAB_"))}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    env.pop("PYTHONPATH", None)
    proc = subprocess.run([sys.executable, "-c", _COLLECTOR, str(root), *ids], cwd=root, env=env,
                          capture_output=True, text=True, timeout=300)
    marker = "@@netlab-collected@@"
    if marker not in proc.stdout:
        raise ReleaseError([f"collecting the suites under {root} failed:\n"
                            + (proc.stdout + proc.stderr)[-3000:]])
    data = json.loads(proc.stdout.rsplit(marker, 1)[1])
    if data["rc"] not in (0, 5):
        raise ReleaseError([f"collecting the suites under {root} failed (pytest exit code "
                            f"{data['rc']}):\n" + proc.stdout.rsplit(marker, 1)[0][-3000:]])
    checks: dict[str, list[dict]] = {ex: [] for ex in ids}
    for c in data["checks"]:
        checks.setdefault(c["exercise"], []).append(c)
    return checks


def is_hidden(check: dict) -> bool:
    return check["visibility"] != "visible"


# -- cutting hidden checks out of a suite's source -------------------------------------------

def _refs(node: ast.AST) -> set[str]:
    """Names a piece of code uses: loaded names, and the parameters of its functions (pytest
    fixtures defined in the module are used by parameter name)."""
    out = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Store):
            out.add(n.id)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
            a = n.args
            out.update(x.arg for x in (*a.posonlyargs, *a.args, *a.kwonlyargs))
        elif isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value.isidentifier():
            out.add(n.value)  # getattr(mod, "name"), request.getfixturevalue("name")
    return out


def _defines(node: ast.stmt) -> set[str] | None:
    """The names a module-level statement defines, when it only defines (a function, a
    class, an assignment to plain names); None for anything else (kept as it is)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    targets = node.targets if isinstance(node, ast.Assign) else \
        [node.target] if isinstance(node, ast.AnnAssign) and node.value is not None else None
    if targets is None:
        return None
    names = set()
    for t in targets:
        elts = t.elts if isinstance(t, (ast.Tuple, ast.List)) else [t]
        if not all(isinstance(e, ast.Name) for e in elts):
            return None
        names.update(e.id for e in elts)
    return names


def _span(node: ast.stmt, lines: list[str]) -> tuple[int, int]:
    """Lines (0-based, inclusive) of a statement with its decorators and the comment block
    directly above it."""
    start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))]) - 1
    while start > 0 and lines[start - 1].strip().startswith("#"):
        start -= 1
    return start, node.end_lineno - 1


def cut_suite(source: str, hidden: set[str], visible: set[str]) -> tuple[str, list[str]]:
    """`source` without the functions named in `hidden` (module level, or methods of a
    module-level class) and without what only they used. Returns (new source, removed names)."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    drop: list[tuple[int, int]] = []
    removed: list[str] = []
    body = list(tree.body)
    for node in list(body):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in hidden:
            drop.append(_span(node, lines))
            removed.append(node.name)
            body.remove(node)
        elif isinstance(node, ast.ClassDef):
            for sub in list(node.body):
                if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)) and sub.name in hidden:
                    drop.append(_span(sub, lines))
                    removed.append(f"{node.name}.{sub.name}")
                    node.body.remove(sub)
            if not node.body:
                node.body.append(ast.Pass())
    while True:  # what nothing left uses goes too, until nothing more goes
        gone = []
        for node in body:
            names = _defines(node)
            if not names or names & (SPECIAL_NAMES | visible) or any(
                    n.startswith(("test", "__")) for n in names):
                continue
            used = set()
            for other in body:
                if other is not node:
                    used |= _refs(other)
            if not names & used:
                gone.append(node)
        if not gone:
            break
        for node in gone:
            drop.append(_span(node, lines))
            removed.extend(sorted(_defines(node)))
            body.remove(node)
    keep = [True] * len(lines)
    for a, b in drop:
        for i in range(a, b + 1):
            keep[i] = False
    out = "".join(line for line, k in zip(lines, keep) if k)
    out = re.sub(r"\n{4,}", "\n\n\n", out).rstrip("\n") + "\n"
    ast.parse(out)  # still Python
    return out, removed


# -- solution content, for the leak audit ---------------------------------------------------

def _lines_of(paths) -> set[str]:
    out = set()
    for p in paths:
        try:
            out.update(l.strip() for l in p.read_text(encoding="utf-8", errors="replace").splitlines())
        except OSError:
            pass
    return out


def distinctive_solution_lines(root: Path, ids: list[str], min_len: int = 24) -> dict[str, str]:
    """Lines of the reference solutions that appear nowhere a student may legitimately see
    (the stubs and READMEs, the suites, the grader): line -> the solution file it is from."""
    def files(folder: Path):
        return [p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts] \
            if folder.is_dir() else []
    public = _lines_of([*files(root / "exercises"), *files(root / "tests"), *files(root / "grader")])
    out: dict[str, str] = {}
    for ex_id in ids:
        for p in files(root / "solutions" / ex_id):
            for line in p.read_text(encoding="utf-8", errors="replace").splitlines():
                s = line.strip()
                if len(s) >= min_len and s not in public and not s.startswith(("#", '"""', "'''")):
                    out.setdefault(s, f"solutions/{ex_id}/{p.name}")
    return out


def _bundle_files(bundle: Path):
    for p in sorted(bundle.rglob("*")):
        if p.is_file() and not any(part in KEEP_ON_RERELEASE for part in p.relative_to(bundle).parts):
            yield p


def audit(bundle: Path, root: Path, ids: list[str], hidden: list[dict],
          visible_names: set[str] = frozenset()) -> tuple[list[str], list[str]]:
    """What in `bundle` must not be there (problems) and what should be looked at (notes).

    Problems: a solutions/ folder, mutants.yaml, a file equal to a solution file, a
    distinctive line of a reference solution, a hidden check's name (unless a visible check
    of the release has the same name, as checks of two exercises may) or title (English or
    Chinese) anywhere in the course's files. Notes: a hidden check's title in the exercise's
    own README (the task may say what the graded run checks), a hidden check's name in the
    grader package (course-independent code: its comments may mention a check as an example).
    """
    problems, notes = [], []
    if (bundle / "solutions").exists():
        problems.append("the bundle has a solutions/ folder")
    names: dict[str, str] = {}
    titles: dict[str, str] = {}
    for c in hidden:
        where = f"hidden check {c['exercise']}::{c['function']}"
        if c["function"] not in visible_names:
            names[c["function"]] = f"{where} (its name)"
        for key in ("title_en", "title_zh"):
            if c.get(key) and len(c[key]) >= 6:
                titles[c[key]] = (f"{where} ({key.replace('_', ' ')})", c["exercise"])
    solution_lines = distinctive_solution_lines(root, ids)
    # (a file the course hands out as given - the same bytes in exercises/<id>/ - is no leak)
    given = {hashlib.sha256(p.read_bytes()).hexdigest()
             for ex in ids if (root / "exercises" / ex).is_dir()
             for p in (root / "exercises" / ex).iterdir() if p.is_file()}
    solution_files = {d: f"solutions/{ex}/{p.name}"
                      for ex in ids if (root / "solutions" / ex).is_dir()
                      for p in (root / "solutions" / ex).iterdir() if p.is_file()
                      if (d := hashlib.sha256(p.read_bytes()).hexdigest()) not in given}
    for path in _bundle_files(bundle):
        rel = path.relative_to(bundle).as_posix()
        in_package = rel.startswith("grader/")
        if path.name == "mutants.yaml":
            problems.append(f"{rel}: mutants are not for students")
            continue
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest in solution_files:
            problems.append(f"{rel}: the same file as {solution_files[digest]}")
        body = data.decode("utf-8", errors="replace")
        for needle, what in names.items():
            if needle in body:
                (notes if in_package else problems).append(f"{rel}: holds the {what}: {needle!r}")
        for needle, (what, ex_id) in titles.items():
            if needle in body:
                readme = re.fullmatch(rf"exercises/{re.escape(ex_id)}/README(\.zh)?\.md", rel)
                (notes if readme else problems).append(f"{rel}: holds the {what}: {needle!r}")
        stripped = {l.strip() for l in body.splitlines()}
        for line in sorted(stripped & solution_lines.keys()):
            problems.append(f"{rel}: holds a line of {solution_lines[line]}: {line!r}")
    return problems, notes


# -- the bundle ------------------------------------------------------------------------------

def _course_yaml(root: Path, ids: list[str]) -> str:
    """course.yaml for the bundle: the course's own text (comments kept) when every exercise
    is released, else the released entries only (prerequisites among them)."""
    source = (root / course_mod.COURSE_FILE).read_text(encoding="utf-8")
    import yaml
    data = yaml.safe_load(source)
    if [e["id"] for e in data["exercises"]] == ids:
        return source
    data["exercises"] = [e for e in data["exercises"] if e["id"] in ids]
    for e in data["exercises"]:
        if e.get("requires"):
            e["requires"] = [r for r in e["requires"] if r in ids]
    head = "# yaml-language-server: $schema=grader/course.schema.json\n" \
           "# netlab: the course (a release of some of its exercises). One entry per exercise.\n"
    return head + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def _toml_value(v) -> str:
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(v)


def _toml_key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else json.dumps(k)


def pyproject(root: Path) -> str:
    """The bundle's pyproject.toml: the course's package metadata and dependencies, its
    packages and package data, no test extra, no project test paths."""
    import tomllib
    data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    project = {k: v for k, v in data["project"].items() if k != "optional-dependencies"}
    project["readme"] = "README.md"
    setup = data.get("tool", {}).get("setuptools", {})
    out = ["# netlab student bundle: `pip install -e .` installs the grader (made by `grader release`)",
           "[build-system]"]
    out += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in data["build-system"].items()]
    out += ["", "[project]"]
    out += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in project.items()
            if not isinstance(v, dict) or k == "license"]
    for k, v in project.items():
        if isinstance(v, dict) and k != "license":
            out += ["", f"[project.{_toml_key(k)}]"] + [f"{_toml_key(a)} = {_toml_value(b)}" for a, b in v.items()]
    out += ["", "[tool.setuptools]"]
    out += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in setup.items() if not isinstance(v, dict)]
    for k, v in setup.items():
        if isinstance(v, dict):
            out += ["", f"[tool.setuptools.{_toml_key(k)}]"] + [f"{_toml_key(a)} = {_toml_value(b)}" for a, b in v.items()]
    out += ["", "[tool.pytest.ini_options]", 'addopts = "-p no:cacheprovider"', ""]
    return "\n".join(out)


def copy_package(root: Path, dest: Path) -> None:
    """The grader package and its pyproject (what `pip install` of the course needs)."""
    shutil.copytree(root / "grader", dest / "grader", ignore=SKIP)
    (dest / "pyproject.toml").write_text(pyproject(root), encoding="utf-8")


def _readme(course, ids: list[str], manifest: dict, lang: str) -> str:
    from .i18n import using
    rows = []
    with using(lang):
        for n, ex_id in enumerate(ids, 1):
            ex = course.exercises[ex_id]
            rows.append(f"| {n} | `{ex_id}` | {ex.text('title', lang)} | {ex.points:g} |")
    first = ids[0]
    if lang == "zh":
        return README_ZH.format(title=course.title, install=INSTALL, first=first,
                                rows="\n".join(rows), release=manifest["release"])
    return README_EN.format(title=course.title, install=INSTALL, first=first,
                            rows="\n".join(rows), release=manifest["release"])


README_EN = """\
# {title}

The student bundle of netlab (release `{release}`, see `release.json`). Chinese:
[README.zh.md](README.zh.md).

Each exercise is a folder `exercises/<id>/`: `README.md` (`README.zh.md` in Chinese) is the
task, the `.py` files are the stubs you complete. `grader check <id>` runs the exercise's
visible checks against your files and says what was sent, what was expected and what came
back; it also says how many hidden checks (and points) run when your work is graded.

## Set-up (Linux, Python 3.11+)

```sh
{install} && .venv/bin/grader check {first}
```

Then `source .venv/bin/activate` (or use `.venv/bin/grader`). On Debian and Ubuntu,
`python3 -m venv` needs the `python3-venv` package.

## Windows and macOS

The grader runs only on Linux: it confines your programs with Linux namespaces. Two ways:

- **Windows: WSL 2.** In PowerShell as administrator: `wsl --install`, restart, open
  "Ubuntu" from the Start menu, then copy this folder into your Linux home (`cp -r
  /mnt/c/Users/<you>/netlab ~/`: the Linux file system is much faster than `/mnt/c`) and run
  the set-up above there. VS Code's WSL extension edits the files in place.
- **Any system: the dev container.** Open this folder in VS Code with the *Dev Containers*
  extension (Docker Desktop installed) and choose "Reopen in Container", or open it in GitHub
  Codespaces. It builds `.devcontainer/` (Python, this bundle installed with the set-up above,
  `grader` on the PATH) and gives you a Linux terminal where `grader check {first}` works.

## Commands

```sh
grader list                 # the exercises in order, with your last result
grader hint {first}       # the hints for one exercise
grader check {first}      # check your files (add --lang zh for Chinese)
grader watch {first}      # check again on every save
grader pack                 # netlab-submission.zip: your exercise files, to upload
```

| # | exercise | title | points |
|---|---|---|---|
{rows}

## Taking an update

Your work lives only in the `.py` files of `exercises/<id>/` (the ones course.yaml lists);
an update replaces everything else. Never unpack an update over your folder by hand.

- **With git** (you cloned the course): commit your work (`git add exercises && git commit -m
  work`), then `git pull`. If a stub you changed was also fixed in the update, git asks you to
  merge that one file: keep your code.
- **From a zip**: in your current folder run `grader pack --out ~/my-work.zip` (your exercise
  files only), unpack the new release into a new folder, and inside it run `python3 -m zipfile
  -e ~/my-work.zip .` - your files go back over the new stubs; exercises that are new in the
  update keep their stubs. Run the set-up again in the new folder. In the dev container,
  choose "Rebuild Container" after an update.
"""

README_ZH = """\
# {title}

netlab 的学生版课程包（版本 `{release}`，见 `release.json`）。English:
[README.md](README.md)。

每个练习是一个文件夹 `exercises/<id>/`：`README.zh.md`（英文版是 `README.md`）是题目，`.py`
文件是要你补全的代码框架。`grader check <id>` 用这个练习的公开检查来测试你的文件，告诉你发送了什么、
期望得到什么、实际收到了什么；它还会说明正式评分时另有多少项隐藏检查（以及多少分）。

## 安装（Linux，Python 3.11 及以上）

```sh
{install} && .venv/bin/grader check {first}
```

之后执行 `source .venv/bin/activate`（或者直接用 `.venv/bin/grader`）。在 Debian 和 Ubuntu 上，
`python3 -m venv` 需要先安装 `python3-venv` 软件包。

## Windows 和 macOS

评分程序只能在 Linux 上运行：它要用 Linux 的命名空间把你的程序隔离起来。有两种办法：

- **Windows：WSL 2。** 以管理员身份打开 PowerShell，运行 `wsl --install`，重启，从开始菜单打开
  “Ubuntu”，把这个文件夹复制到 Linux 的主目录里（`cp -r /mnt/c/Users/<你的用户名>/netlab ~/`：
  Linux 自己的文件系统比 `/mnt/c` 快得多），然后在那里按上面的步骤安装。VS Code 的 WSL 扩展可以直接编辑这些文件。
- **任何系统：开发容器（dev container）。** 装好 Docker Desktop，在 VS Code 里装上 *Dev Containers*
  扩展，打开这个文件夹，选择“Reopen in Container”；或者在 GitHub Codespaces 里打开它。它会按
  `.devcontainer/` 构建环境（Python，按上面的安装步骤装好本课程包，`grader` 已在 PATH 上），给你一个
  Linux 终端，在里面 `grader check {first}` 就能用。

## 常用命令

```sh
grader list                 # 按顺序列出练习，以及你上次的结果
grader hint {first}       # 一个练习的提示
grader check {first}      # 检查你的文件（加 --lang zh 显示中文）
grader watch {first}      # 每次保存后自动重新检查
grader pack                 # 生成 netlab-submission.zip：只含你的练习文件，用来提交
```

| # | 练习 | 标题 | 分值 |
|---|---|---|---|
{rows}

## 更新课程包

你的成果只在 `exercises/<id>/` 里那些 `.py` 文件中（course.yaml 列出的文件）；更新会替换其余的一切。
千万不要手工把新版本直接解压覆盖到你的文件夹上。

- **用 git**（你是 clone 的课程）：先提交你的代码（`git add exercises && git commit -m work`），
  再 `git pull`。如果你改过的某个框架文件在更新里也被修正了，git 会请你合并那一个文件：保留你的代码。
- **用 zip**：在现在的文件夹里运行 `grader pack --out ~/my-work.zip`（只打包你的练习文件），把新版本
  解压到一个新文件夹，在新文件夹里运行 `python3 -m zipfile -e ~/my-work.zip .`——你的文件会覆盖新的
  框架文件；更新中新增的练习保持原样。然后在新文件夹里重新执行安装步骤。如果用开发容器，更新后选择
  “Rebuild Container”。
"""

GITIGNORE = ".venv/\n__pycache__/\n*.pyc\n*.egg-info/\n.netlab/\n.pytest_cache/\nnetlab-submission.zip\n"
DOCKERIGNORE = ".venv\n**/__pycache__\n**/*.pyc\n*.egg-info\n.netlab\n.git\nnetlab-submission.zip\n"


def _sha(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(q for q in folder.rglob("*") if q.is_file()):
        h.update(p.relative_to(folder).as_posix().encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def build(course, out: Path, ids: list[str]) -> tuple[dict, list[str]]:
    """Write the bundle into the empty folder `out`: its manifest (release.json's data) and
    the audit's notes (for the instructor's eyes only: they quote hidden checks)."""
    root = course.root
    source_checks = collect(root, ids)
    problems, manifest_ex, hidden_all = [], {}, []
    (out / "exercises").mkdir(parents=True)
    (out / "tests").mkdir()
    shutil.copy(root / "tests" / "conftest.py", out / "tests" / "conftest.py")
    for ex_id in ids:
        ex = course.exercises[ex_id]
        checks = source_checks.get(ex_id, [])
        hidden = [c for c in checks if is_hidden(c)]
        visible = [c for c in checks if not is_hidden(c)]
        hidden_all += hidden
        shutil.copytree(root / "exercises" / ex_id, out / "exercises" / ex_id, ignore=SKIP)
        suite, dest = root / "tests" / ex_id, out / "tests" / ex_id
        dest.mkdir()
        kept_text = ""
        for path in sorted(suite.glob("test_*.py")):
            rel = path.relative_to(root).as_posix()
            h = {c["function"] for c in hidden if c["file"] == rel}
            v = {c["function"] for c in visible if c["file"] == rel}
            for name in sorted(h & v):
                problems.append(f"{rel}::{name}: one function holds hidden and visible checks "
                                "(parametrized with both?): split it")
            try:
                cut, _ = cut_suite(path.read_text(encoding="utf-8"), h, v)
            except SyntaxError as exc:
                problems.append(f"{rel}: cannot be cut: {exc}")
                continue
            if v:  # a suite file with no visible check does not ship
                (dest / path.name).write_text(cut, encoding="utf-8")
                kept_text += cut
        for path in sorted(suite.iterdir()):  # helpers beside the suite, if what ships uses them
            if path.name.startswith("test_") and path.suffix == ".py" or path.name == "mutants.yaml" \
                    or path.name in ("__pycache__",) or path.name.startswith("."):
                continue
            if path.stem in kept_text or path.name in kept_text:
                (shutil.copytree(path, dest / path.name, ignore=SKIP) if path.is_dir()
                 else shutil.copy2(path, dest / path.name))
        v_points = sum(c["points"] for c in visible)
        h_points = sum(c["points"] for c in hidden)
        if abs(v_points + h_points - ex.points) > 1e-9:
            problems.append(f"{ex_id}: its checks add up to {v_points + h_points:g} points, "
                            f"course.yaml says {ex.points:g}")
        manifest_ex[ex_id] = {"points": ex.points, "visible_checks": len(visible),
                              "visible_points": v_points, "hidden_checks": len(hidden),
                              "hidden_points": h_points, "suite": ""}
    (out / course_mod.COURSE_FILE).write_text(_course_yaml(root, ids), encoding="utf-8")
    copy_package(root, out)
    if (root / DEVCONTAINER).is_dir():
        shutil.copytree(root / DEVCONTAINER, out / DEVCONTAINER, ignore=SKIP)
    else:
        problems.append(f"{DEVCONTAINER}/ is missing from the course: students on Windows and "
                        "macOS need it")
    (out / ".gitignore").write_text(GITIGNORE)
    (out / ".dockerignore").write_text(DOCKERIGNORE)
    if problems:
        raise ReleaseError(problems)
    # what students get must collect as exactly the visible checks, titles and points included
    shipped = collect(out, ids)
    keyed = lambda cs: {(c["exercise"], c["name"], c["points"], c["title_en"], c["title_zh"])  # noqa: E731
                        for c in cs}
    for ex_id in ids:
        want = keyed(c for c in source_checks.get(ex_id, []) if not is_hidden(c))
        got = keyed(shipped.get(ex_id, []))
        for c in sorted(want - got):
            problems.append(f"{ex_id}: visible check {c[1]} does not collect in the bundle as it does in the course")
        for c in sorted(got - want):
            problems.append(f"{ex_id}: the bundle collects {c[1]}, which is not a visible check of the course")
        manifest_ex[ex_id]["suite"] = _sha_clean(out / "tests" / ex_id)
    for cache in [p for p in out.rglob("__pycache__") if p.is_dir()]:  # left by the collection
        shutil.rmtree(cache)
    visible_names = {c["function"] for cs in source_checks.values() for c in cs if not is_hidden(c)}
    leaks, notes = audit(out, root, ids, hidden_all, visible_names)
    if problems or leaks:
        raise ReleaseError(problems + leaks)
    manifest = {"format": FORMAT, "course": course.title, "exercises": manifest_ex}
    manifest["release"] = hashlib.sha256(json.dumps(manifest, sort_keys=True).encode()
                                         + _sha(out / "exercises").encode()).hexdigest()[:12]
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out / "README.md").write_text(_readme(course, ids, manifest, "en"), encoding="utf-8")
    (out / "README.zh.md").write_text(_readme(course, ids, manifest, "zh"), encoding="utf-8")
    return manifest, notes


def release(course, out: Path, ids: list[str] | None = None) -> tuple[dict, list[str]]:
    """Build and check the bundle beside `out`, then put it in `out` (an empty or missing
    folder, or an earlier release, whose .git/ and .github/ are kept)."""
    ids = ids or list(course.exercises)
    out = Path(out).resolve()
    root = course.root.resolve()
    if out == root or root in out.parents or out in root.parents:
        raise ReleaseError([f"{out}: the bundle must go outside the course folder ({root})"])
    if out.exists() and (not out.is_dir() or (any(p.name not in KEEP_ON_RERELEASE for p in out.iterdir())
                                             and not (out / MANIFEST).is_file())):
        raise ReleaseError([f"{out} exists and is not an earlier release (no {MANIFEST}): "
                            "name a new folder"])
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        manifest, notes = build(course, staging / "bundle", ids)
        out.mkdir(exist_ok=True)
        for p in out.iterdir():
            if p.name not in KEEP_ON_RERELEASE:
                shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink()
        for p in (staging / "bundle").iterdir():
            p.rename(out / p.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return manifest, notes


# -- in the bundle ---------------------------------------------------------------------------

def manifest_of(root: Path) -> dict | None:
    try:
        return json.loads((Path(root) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def hidden_counts(root: Path, ex_id: str) -> tuple[int, float] | None:
    """In a student bundle: (hidden checks, their points) of an exercise, from release.json."""
    data = manifest_of(root)
    entry = (data or {}).get("exercises", {}).get(ex_id)
    if not entry:
        return None
    return int(entry.get("hidden_checks", 0)), float(entry.get("hidden_points", 0))


def check_bundle(course) -> list[str]:
    """`grader validate` in a student bundle: release.json covers every exercise, its visible
    and hidden points add up to course.yaml's, and the suites are the ones released."""
    data = manifest_of(course.root)
    if data is None:
        return []
    problems = []
    entries = data.get("exercises", {})
    for ex_id, ex in course.exercises.items():
        e = entries.get(ex_id)
        if e is None:
            problems.append(f"{MANIFEST}: no entry for exercise {ex_id!r}")
            continue
        total = e.get("visible_points", 0) + e.get("hidden_points", 0)
        if abs(total - ex.points) > 1e-9:
            problems.append(f"exercise {ex_id!r}: visible ({e.get('visible_points', 0):g}) and hidden "
                            f"({e.get('hidden_points', 0):g}) points add up to {total:g}, "
                            f"course.yaml says {ex.points:g}")
        suite = course.root / "tests" / ex_id
        if e.get("suite") and suite.is_dir() and _sha_clean(suite) != e["suite"]:
            problems.append(f"tests/{ex_id}/ differs from the released suite: take the update "
                            "again (README: Taking an update)")
    return problems


def _sha_clean(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(q for q in folder.rglob("*") if q.is_file() and "__pycache__" not in q.parts
                    and q.suffix != ".pyc"):
        h.update(p.relative_to(folder).as_posix().encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def cmd_release(course, args) -> int:
    """The `release` subcommand (grader.cli)."""
    ids = args.exercises or list(course.exercises)
    for ex_id in ids:
        course.get(ex_id)
    ids = [i for i in course.exercises if i in ids]  # course order
    try:
        manifest, notes = release(course, Path(args.outdir), ids)
    except ReleaseError as exc:
        print(text(say("grader: no release made:", "grader：没有生成课程包：")), file=sys.stderr)
        for p in exc.problems:
            print(f"  {p}", file=sys.stderr)
        return 2
    print(text(say("wrote the student bundle {path} (release {release}): {n} exercises, visible "
                   "checks only", "已生成学生版课程包 {path}（版本 {release}）：共 {n} 个练习，只含公开检查",
                   path=str(Path(args.outdir).resolve()), release=manifest["release"], n=len(ids))))
    for ex_id, e in manifest["exercises"].items():
        print(text(say("  {id}: {v} visible checks ({vp} points), {h} hidden ({hp} points) left out",
                       "  {id}：公开检查 {v} 项（{vp} 分），隐藏检查 {h} 项（{hp} 分）未放入",
                       id=ex_id, v=e["visible_checks"], vp=f"{e['visible_points']:g}",
                       h=e["hidden_checks"], hp=f"{e['hidden_points']:g}")))
    if notes:
        print(text(say("to look at (allowed, but they name hidden checks):",
                       "请留意（允许，但提到了隐藏检查）：")))
        for note in notes:
            print(f"  {note}")
    return 0
