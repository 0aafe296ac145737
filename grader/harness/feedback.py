"""What a student reads when a check fails: bytes shown readably, expected/got, one hint.

Suites raise `CheckFailed` (an AssertionError, so pytest treats it as a plain failure); the
judge's plugin turns its text into the test's `output`.
"""
from __future__ import annotations

from ..i18n import text

SHOW_LIMIT = 80


def _fit(data: bytes, budget: int, from_end: bool = False) -> bytes:
    """The longest head (or tail) of data whose escaped form fits in `budget` characters."""
    used, n = 0, 0
    seq = reversed(data) if from_end else data
    for byte in seq:
        used += len(repr(bytes([byte]))) - 3
        if used > budget:
            break
        n += 1
    return data[len(data) - n:] if from_end else data[:n]


def show_bytes(data: bytes | bytearray | None, limit: int = SHOW_LIMIT) -> str:
    """`b'hello\\n'` style, escaped; past `limit` display characters the middle is cut and
    the length is given, so a 5 MiB payload reads as a line, not a screenful."""
    if data is None:
        return "nothing (None)"
    data = bytes(data)
    text = repr(data)
    if len(text) <= limit + 3:
        return f"{text} ({len(data)} bytes)" if len(data) > 16 else text
    head = _fit(data, limit * 2 // 3)
    tail = _fit(data[len(head):], limit // 3, from_end=True)
    return f"{head!r} … {tail!r} ({len(data)} bytes in all)"


def show(value: object, limit: int = SHOW_LIMIT) -> str:
    """Readable form of any value a check compares (bytes escaped, long text cut)."""
    if isinstance(value, (bytes, bytearray)):
        return show_bytes(value, limit)
    text = repr(value)
    if len(text) > limit * 2:
        text = f"{text[: limit * 4 // 3]} … {text[-(limit * 2 // 3):]} ({len(text)} chars)"
    return text


def first_difference(expected: bytes, got: bytes) -> int | None:
    """Index of the first byte that differs (or where one side ends), None if equal."""
    for i, (a, b) in enumerate(zip(expected, got)):
        if a != b:
            return i
    if len(expected) != len(got):
        return min(len(expected), len(got))
    return None


class CheckFailed(AssertionError):
    """A failed check with the facts a student needs: what was sent, expected, and got."""

    def __init__(self, summary: str, *, sent: object = None, expected: object = None,
                 got: object = None, hint: str | None = None, has_expected: bool = False,
                 has_got: bool = False, detail: str | None = None):
        summary, hint, detail = text(summary), text(hint) or None, text(detail) or None
        self.summary = summary
        self.hint = hint
        lines = [summary]
        if sent is not None:
            lines.append(f"  sent:     {show(sent)}")
        if expected is not None or has_expected:
            lines.append(f"  expected: {show(expected)}")
        if got is not None or has_got:
            lines.append(f"  got:      {show(got)}")
        if detail:
            lines.append(f"  {detail}")
        if hint:
            lines.append(f"  hint: {hint}")
        super().__init__("\n".join(lines))


def expect_bytes(got: bytes | None, expected: bytes, what: str, *, sent: object = None,
                 hint: str | None = None) -> None:
    """Fail with a precise byte-level comparison unless `got == expected`."""
    if got == expected:
        return
    detail = None
    if got is not None:
        at = first_difference(expected, got)
        if at is not None and len(got) != len(expected):
            detail = f"lengths differ: expected {len(expected)} bytes, got {len(got)}"
            if at < min(len(got), len(expected)):
                detail += f"; first difference at byte {at}"
        elif at is not None:
            detail = f"first difference at byte {at}"
    raise CheckFailed(what, sent=sent, expected=expected, got=got, hint=hint,
                      has_got=True, detail=detail)


def expect_equal(got: object, expected: object, what: str, *, sent: object = None,
                 hint: str | None = None) -> None:
    """Fail with expected/got unless `got == expected` (use expect_bytes for bytes)."""
    if isinstance(expected, (bytes, bytearray)) and (got is None or isinstance(got, (bytes, bytearray))):
        return expect_bytes(got, bytes(expected), what, sent=sent, hint=hint)
    if got != expected:
        raise CheckFailed(what, sent=sent, expected=expected, got=got, hint=hint,
                          has_expected=True, has_got=True)
