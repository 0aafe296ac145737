"""OUTDIR/gradebook.sqlite: every finished (student, exercise) run, committed the moment it
exists, so a batch killed at any point (Ctrl-C, kill -9, a power cut) loses only the runs
that were still going. SQLite in WAL mode with synchronous=FULL: a committed row survives.

A row is reused by the next batch only while the digests it was made under (the submission's
files, the exercise's suite) are the ones of now, and it is not a run the grader itself
failed (status "error" or "refused": those are tried again).
"""
from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

SCHEMA = 1
REDO = ("error", "refused")   # runs that say nothing about the submission: redone next time


class Gradebook:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("PRAGMA busy_timeout=30000")
        with self.db:
            self.db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
            self.db.execute("""CREATE TABLE IF NOT EXISTS runs (
                student TEXT NOT NULL, exercise TEXT NOT NULL,
                submission TEXT NOT NULL,   -- digest of the student's files for the exercise
                suite TEXT NOT NULL,        -- digest of the exercise's suite (see digest.py)
                status TEXT NOT NULL, score REAL NOT NULL, max_score REAL NOT NULL,
                result TEXT NOT NULL,       -- the judge's result, as JSON
                seconds REAL NOT NULL, finished REAL NOT NULL,
                PRIMARY KEY (student, exercise))""")
            row = self.db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            if row is None:
                self.db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA),))
            elif int(row[0]) != SCHEMA:
                raise RuntimeError(f"{self.path} was written by another version of netlab "
                                   f"(schema {row[0]}, this one reads {SCHEMA}): use a new --out")

    def reusable(self, student: str, exercise: str, submission: str, suite: str) -> dict | None:
        """The stored result of this run, if it still holds for these digests."""
        row = self.db.execute(
            "SELECT status, result FROM runs WHERE student=? AND exercise=? AND submission=? "
            "AND suite=?", (student, exercise, submission, suite)).fetchone()
        if row is None or row[0] in REDO:
            return None
        return json.loads(row[1])

    def put(self, student: str, exercise: str, submission: str, suite: str, record: dict,
            seconds: float) -> None:
        """Store one finished run (replacing an older one), committed before returning."""
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (student, exercise, submission, suite, record["status"], record["score"],
                 record["max_score"], json.dumps(record, sort_keys=True), seconds, time.time()))

    def finished(self) -> dict[tuple[str, str], float]:
        """When each stored run finished (the tests tell reused from redone runs by it)."""
        return {(s, e): f for s, e, f in self.db.execute("SELECT student, exercise, finished FROM runs")}

    def close(self) -> None:
        self.db.close()
