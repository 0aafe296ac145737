"""What a student reads when a check fails: bytes shown readably, expected/got, one hint.

Suites raise `CheckFailed` (an AssertionError, so pytest treats it as a plain failure); the
judge's plugin turns its text into the test's `output`.
"""
from __future__ import annotations

from ..i18n import say, text

SHOW_LIMIT = 80


def label(name: str) -> str:
    """The feedback's line labels ('  sent:     ' ...), aligned, in the judge's language."""
    return str({
        "sent": say("  sent:     ", "  发送："),
        "expected": say("  expected: ", "  期望："),
        "got": say("  got:      ", "  实际："),
        "hint": say("  hint: ", "  提示："),
    }[name])


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
        return str(say("nothing (None)", "什么都没有 (None)"))
    data = bytes(data)
    shown = repr(data)
    if len(shown) <= limit + 3:
        return f"{shown} {say('({n} bytes)', '({n} 字节)', n=len(data))}" if len(data) > 16 else shown
    head = _fit(data, limit * 2 // 3)
    tail = _fit(data[len(head):], limit // 3, from_end=True)
    return f"{head!r} … {tail!r} {say('({n} bytes in all)', '(共 {n} 字节)', n=len(data))}"


def show(value: object, limit: int = SHOW_LIMIT) -> str:
    """Readable form of any value a check compares (bytes escaped, long text cut)."""
    if isinstance(value, (bytes, bytearray)):
        return show_bytes(value, limit)
    if hasattr(value, "render"):  # a say() text is shown as words, not as a quoted repr
        return value.render()
    shown = repr(value)
    if len(shown) > limit * 2:
        shown = (f"{shown[: limit * 4 // 3]} … {shown[-(limit * 2 // 3):]} "
                 f"{say('({n} chars)', '(共 {n} 个字符)', n=len(shown))}")
    return shown


def first_difference(expected: bytes, got: bytes) -> int | None:
    """Index of the first byte that differs (or where one side ends), None if equal."""
    for i, (a, b) in enumerate(zip(expected, got)):
        if a != b:
            return i
    if len(expected) != len(got):
        return min(len(expected), len(got))
    return None


class CheckFailed(AssertionError):
    """A failed check with the facts a student needs: what was sent, expected, and got.
    Its own `hint` replaces the check's hint in the feedback (one hint, the one that fits).
    `summary`, `hint` and `detail` may be say() texts; they render in the judge's language."""

    def __init__(self, summary: str, *, sent: object = None, expected: object = None,
                 got: object = None, hint: str | None = None, has_expected: bool = False,
                 has_got: bool = False, detail: str | None = None):
        summary, hint, detail = text(summary), text(hint) or None, text(detail) or None
        self.summary = summary
        self.hint = hint
        lines = [summary]
        if sent is not None:
            lines.append(f"{label('sent')}{show(sent)}")
        if expected is not None or has_expected:
            lines.append(f"{label('expected')}{show(expected)}")
        if got is not None or has_got:
            lines.append(f"{label('got')}{show(got)}")
        if detail:
            lines.append(f"  {detail}")
        if hint:
            lines.append(f"{label('hint')}{hint}")
        super().__init__("\n".join(lines))


def expect_bytes(got: bytes | None, expected: bytes, what: str, *, sent: object = None,
                 hint: str | None = None) -> None:
    """Fail with a precise byte-level comparison unless `got == expected`."""
    if got == expected:
        return
    detail = None
    if got is not None:
        detail = difference_note(expected, bytes(got))
    raise CheckFailed(what, sent=sent, expected=expected, got=got, hint=hint,
                      has_got=True, detail=detail)


def difference_note(expected: bytes, got: bytes) -> str | None:
    """'lengths differ: ...; first difference at byte 3 (index 2)', or None if equal.
    Bytes are counted from 1, as a student reads; the index is what data[i] takes."""
    at = first_difference(expected, got)
    if at is None:
        return None
    where = say("first difference at byte {n} (index {i})", "从第 {n} 个字节（下标 {i}）起不同",
                n=at + 1, i=at)
    if len(got) != len(expected):
        note = str(say("lengths differ: expected {a} bytes, got {b}",
                       "长度不同：期望 {a} 字节，实际 {b} 字节", a=len(expected), b=len(got)))
        if at < min(len(got), len(expected)):
            note += str(say("; ", "；")) + str(where)
        return note
    return str(where)


def expect_equal(got: object, expected: object, what: str, *, sent: object = None,
                 hint: str | None = None) -> None:
    """Fail with expected/got unless `got == expected` (use expect_bytes for bytes)."""
    if isinstance(expected, (bytes, bytearray)) and (got is None or isinstance(got, (bytes, bytearray))):
        return expect_bytes(got, bytes(expected), what, sent=sent, hint=hint)
    if got != expected:
        raise CheckFailed(what, sent=sent, expected=expected, got=got, hint=hint,
                          has_expected=True, has_got=True)
