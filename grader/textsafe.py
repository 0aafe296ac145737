"""Student text made safe to show: control characters become visible escapes.

A student process's stderr or a reply it sent ends up in feedback that a terminal, a JSON
consumer, a Markdown file or an HTML report shows. Escape sequences (`\\x1b[2J` clears the
screen, `\\x1b[8m` hides what follows, the score line included), carriage returns that
overwrite a line, and invisible or direction-changing Unicode (U+202E) are shown as Python
escapes instead. Newlines and tabs stay; printable Unicode (Chinese file names) stays readable.
"""
from __future__ import annotations

import re
import unicodedata

_KEEP = {"\n", "\t"}
# fast path: nothing outside printable ASCII, newline and tab
_PLAIN = re.compile(r"[\x20-\x7e\n\t]*\Z")


def _escape(ch: str) -> str:
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def visible(text: str | None) -> str:
    """`text` with every control, format, surrogate, private-use, unassigned or line/paragraph
    separator character replaced by its escape (Cc, Cf, Cs, Co, Cn, Zl, Zp); '\\n' and '\\t' kept."""
    if not text:
        return text or ""
    if _PLAIN.match(text):
        return text
    out = []
    for ch in text:
        if ch in _KEEP:
            out.append(ch)
        elif unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            out.append(_escape(ch))
        else:
            out.append(ch)
    return "".join(out)
