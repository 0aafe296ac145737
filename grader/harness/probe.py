"""Probes: a suite's own helper module, run beside the student's code in the student's process.

The call driver calls module-level functions with JSON-able arguments. A contract that is a
class (objects that keep state between calls, e.g. tcp_states.Connection) needs a little code
that makes the objects, drives them and reports plain data. That code is the suite's: it ships
in tests/<id>/, `load_probe` copies it into the test's working copy (owned like the student's
files, so a dropped-privilege student process can read it) and loads it through the call
driver. It runs in the student's confined process, never in the judge; the judge only reads
its JSON answers, as with any call.

    mod = load_probe(student, Path(__file__).with_name("probe_tcp_states.py"))
    results = mod.call("run", scripts)
"""
from __future__ import annotations

import os
from pathlib import Path

from .calls import StudentModule


def load_probe(student, source: Path | str, *, timeout: float = 5.0, **spawn) -> StudentModule:
    """Copy the probe module `source` into `student`'s working copy and load it (its imports
    of the student's modules resolve there). Returns the module to `.call()` like any other."""
    source = Path(source)
    workdir = Path(student.workdir)
    dest = workdir / source.name
    dest.write_bytes(source.read_bytes())
    os.chmod(dest, 0o644)
    ids = getattr(student.sandbox, "ids", None)
    if ids:
        os.chown(dest, *ids)
    return student.module(source.stem, timeout=timeout, **spawn)


__all__ = ["load_probe"]
