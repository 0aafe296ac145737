"""A student's Python sources made runnable here, and what was changed said in their feedback.

Submissions come from Chinese Windows and macOS: a source saved in GBK (Python 3 reads UTF-8
unless the file declares otherwise: a SyntaxError before a single line runs), with a UTF-8 BOM,
with CRLF line endings (a `#!...python3\\r` line that no longer names a program). Only `.py`
files change, and only in ways that keep the program's meaning: Python itself reads CRLF as
LF and ignores a BOM; a GBK source becomes the same text in UTF-8. A file that declares its
encoding (`# -*- coding: gbk -*-`) and is valid in it is left in that encoding. Data files
stay byte for byte as submitted (a CRLF in one may be the point).
"""
from __future__ import annotations

import codecs
import re
from pathlib import Path

from ..i18n import Joined, Text, say

BOM = codecs.BOM_UTF8
_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")

REMOVED_BOM = say("removed the UTF-8 BOM", "去掉了 UTF-8 BOM")
FROM_GBK = say("re-encoded from GBK to UTF-8", "从 GBK 编码转换成了 UTF-8")
CRLF = say("CRLF line endings changed to LF", "CRLF 换行符改成了 LF")
SEP = say(", ", "，")


def _declared(data: bytes) -> str | None:
    """The encoding a source declares in its first two lines (PEP 263), if any."""
    for line in data.split(b"\n", 2)[:2]:
        m = _COOKIE.match(line)
        if m:
            try:
                return codecs.lookup(m.group(1).decode("ascii")).name
            except (LookupError, UnicodeDecodeError):
                return None
    return None


def normalise_source(data: bytes) -> tuple[bytes, list[Text], Text | None]:
    """(new bytes, what changed, a warning when the file could not be made UTF-8)."""
    changes: list[Text] = []
    if data.startswith(BOM):
        data = data[len(BOM):]
        changes.append(REMOVED_BOM)
    warning = None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        declared = _declared(data)
        if declared and declared != "utf-8" and _decodes(data, declared):
            pass  # Python reads it in the encoding it declares
        else:
            try:
                data = data.decode("gb18030").encode("utf-8")
                changes.append(FROM_GBK)
                if declared and declared != "utf-8":  # it declared an encoding it is not in
                    data = _COOKIE.sub(lambda m: m.group(0).replace(m.group(1), b"utf-8"), data, 1)
            except UnicodeDecodeError:
                warning = say("neither UTF-8 nor GBK: left as submitted (Python may refuse it)",
                              "既不是 UTF-8 也不是 GBK：保持原样（Python 可能无法读取它）")
    if b"\r\n" in data:
        data = data.replace(b"\r\n", b"\n")
        changes.append(CRLF)
    return data, changes, warning


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
        return True
    except (UnicodeDecodeError, LookupError):
        return False


def normalise_tree(folder: Path, shown_prefix: str = "") -> list[Text]:
    """Normalise every .py file under `folder` in place; one note per file changed."""
    notes: list[Text] = []
    for path in sorted(folder.rglob("*.py")):
        if not path.is_file() or path.is_symlink():
            continue
        data = path.read_bytes()
        new, changes, warning = normalise_source(data)
        shown = shown_prefix + path.relative_to(folder).as_posix()
        if new != data:
            path.write_bytes(new)
        if changes:
            what = Joined(*[part for i, c in enumerate(changes) for part in ((SEP if i else ""), c)])
            notes.append(say("{file}: {what}", "{file}：{what}", file=shown, what=what))
        if warning:
            notes.append(say("{file}: {what}", "{file}：{what}", file=shown, what=warning))
    return notes
