"""Mutants: known-buggy variants of a reference solution, kept as small text edits in
tests/<id>/mutants.yaml, so the suite's power to catch real student bugs is itself tested.

    - name: send_not_sendall
      why: the client uses send(), which may write only part of a 1 MiB line
      file: client.py
      edits: [{old: "sock.sendall(line)", new: "sock.send(line)"}]
      caught_by: [test_client_sends_long_line_whole]

Every `old` must occur exactly once in the file (so a mutant cannot silently stop applying
when the solution changes), and every test in `caught_by` must fail for the mutant (the names
are checked against the checks the suite's judge run collects).

Multi-line edits: `old` and `new` are plain text, replaced as they are (str.replace), so the
indentation inside them is the file's. Written as YAML block scalars (`|`), YAML strips the
block's own indentation, which is set by its FIRST line; so write the first line without its
leading indentation (the match starts where the code starts on that line, and the spaces
before it stay in the file), and every following line with its full indentation in the file,
plus the block's. `|` keeps the final newline. E.g. for

        def handle(conn):
            while True:
                data = conn.recv(1024)
                if not data:
                    return

    - old: |
        if not data:
                    return
      new: "pass\n"

matches "if not data:\n            return\n" (the second line carries the file's 12 spaces)
and leaves `pass` in its place, at the indentation the `if` had.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import yaml

MUTANT_KEYS = {"name", "why", "file", "edits", "caught_by"}


class MutantError(Exception):
    pass


@dataclass(frozen=True)
class Mutant:
    exercise: str
    name: str
    why: str
    file: str
    edits: tuple[tuple[str, str], ...]
    caught_by: tuple[str, ...]

    def apply(self, solution: Path, dest: Path) -> Path:
        """Copy the solution folder to dest and apply the edits there."""
        shutil.copytree(solution, dest, ignore=shutil.ignore_patterns("__pycache__"))
        path = dest / self.file
        text = path.read_text(encoding="utf-8")
        for old, new in self.edits:
            count = text.count(old)
            if count != 1:
                raise MutantError(f"{self.exercise}/{self.name}: the text to replace occurs "
                                  f"{count} times in {self.file} (must be exactly once): {old!r}")
            text = text.replace(old, new)
        if path.suffix == ".py":
            try:  # a mutant that does not compile is killed by anything: it proves nothing
                compile(text, str(path), "exec", dont_inherit=True)
            except SyntaxError as exc:
                raise MutantError(f"{self.exercise}/{self.name}: the mutated {self.file} does not "
                                  f"compile (line {exc.lineno}: {exc.msg}); a mutant must be a "
                                  "working program with a bug") from None
        path.write_text(text, encoding="utf-8")
        return dest


def load(tests_dir: Path, exercise: str) -> list[Mutant]:
    path = tests_dir / exercise / "mutants.yaml"
    if not path.is_file():
        return []
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    if not isinstance(data, list):
        raise MutantError(f"{path}: must be a list of mutants")
    mutants, seen = [], set()
    for n, raw in enumerate(data, 1):
        where = f"{path} mutant #{n}"
        if not isinstance(raw, dict):
            raise MutantError(f"{where}: must be a mapping")
        unknown = set(raw) - MUTANT_KEYS
        missing = {"name", "file", "edits", "caught_by"} - set(raw)
        if unknown or missing:
            raise MutantError(f"{where}: unknown fields {sorted(unknown)}, missing {sorted(missing)}")
        if raw["name"] in seen:
            raise MutantError(f"{where}: duplicate name {raw['name']!r}")
        seen.add(raw["name"])
        edits = tuple((e["old"], e["new"]) for e in raw["edits"])
        if not edits or not raw["caught_by"]:
            raise MutantError(f"{where}: needs at least one edit and one test in caught_by")
        mutants.append(Mutant(exercise, raw["name"], raw.get("why", ""), raw["file"], edits,
                              tuple(raw["caught_by"])))
    return mutants
