"""Who an entry of SUBMISSIONS belongs to, from its name.

Recognised, in this order:
- `--id-pattern REGEX` (searched in the entry's name; the group `id`, else the first group, else
  the whole match is the id; a group `name` is the student's name),
- Moodle: `Full Name_participantid_assignsubmission_file_<file>` (a folder when <file> is empty),
- Canvas: `name_[late_]userid_submissionid_<file>`,
- a plain id: a folder `<id>/` or a zip `<id>.zip`.
The id names files in OUTDIR (feedback/<id>.md), so it must be a safe file name.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MOODLE = re.compile(r"^(?P<name>.+?)_(?P<id>\d+)_assignsubmission_(?:file|onlinetext)_(?P<file>.*)$")
CANVAS = re.compile(r"^(?P<name>[^_]+)_(?:late_)?(?P<id>\d+)_(?P<sub>\d+)_(?P<file>.+)$",
                    re.IGNORECASE)
SAFE_ID = re.compile(r"^\w[\w.@+-]{0,99}$")


@dataclass(frozen=True)
class Owner:
    student: str          # the id: names the outputs
    name: str = ""        # the student's name when the LMS gives one
    file: str = ""        # the uploaded file's own name (LMS downloads); "" for a plain entry
    form: str = "plain"   # plain, canvas, moodle, pattern


def safe_id(value: str) -> bool:
    return bool(SAFE_ID.match(value)) and ".." not in value


def identify(entry: str, *, is_dir: bool, pattern: re.Pattern | None = None) -> Owner | None:
    """The owner of the SUBMISSIONS entry named `entry`, or None when its name says nobody."""
    entry = unicodedata.normalize("NFC", entry)   # macOS writes names decomposed (NFD)
    if pattern is not None:
        m = pattern.search(entry)
        if m:
            groups = m.groupdict()
            student = groups.get("id") or (m.group(1) if m.re.groups else m.group(0))
            if student and safe_id(student):
                return Owner(student, (groups.get("name") or "").strip(),
                             "" if is_dir else entry, "pattern")
    m = MOODLE.match(entry)
    if m:
        return Owner(m["id"], m["name"].strip(), m["file"], "moodle")
    m = CANVAS.match(entry)
    if m:
        return Owner(m["id"], m["name"], m["file"], "canvas")
    stem = entry[:-4] if not is_dir and entry.lower().endswith(".zip") else entry
    if (is_dir or stem != entry) and safe_id(stem):
        return Owner(stem, "", "", "plain")
    return None

