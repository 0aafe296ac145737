"""Texts in two languages: English and Chinese (the course note's language).

A student-facing message is written once, both languages side by side, where it is used:

    from grader.i18n import say
    raise CheckFailed(say("the echo of a {n}-byte message", "{n} 字节消息的回显", n=6))

Why pairs in the code rather than gettext catalogs: the course has exactly two languages, the
pair sits where the message is used (a reviewer sees both, they cannot drift apart), there is
no extraction or compile step for a course author, a hidden check's texts travel with the
hidden check's code, and the placeholders of both are compared when the text is made.

A `Text` renders in the language chosen for the process (`set_lang`), at the moment it is
turned into a string; fields that are themselves `Text` render in the same language.
"""
from __future__ import annotations

import os
import string
import threading
from contextlib import contextmanager

LANGS = ("en", "zh")
_lang = "en"
_local = threading.local()  # a thread's own language (see `using`), over the process's


def set_lang(lang: str) -> None:
    global _lang
    if lang not in LANGS:
        raise ValueError(f"language must be one of {LANGS}, not {lang!r}")
    _lang = lang


def lang() -> str:
    """The language texts render in: this thread's (`using`), else the process's (`set_lang`)."""
    return getattr(_local, "lang", None) or _lang


@contextmanager
def using(language: str):
    """Render in `language` within this block, in this thread only (e.g. `grader selftest`
    judges the same exercise in both languages from parallel threads)."""
    if language not in LANGS:
        raise ValueError(f"language must be one of {LANGS}, not {language!r}")
    before = getattr(_local, "lang", None)
    _local.lang = language
    try:
        yield language
    finally:
        _local.lang = before


def from_environment(explicit: str | None = None, environ=None) -> str:
    """--lang, else NETLAB_LANG, else the locale (LC_ALL, LC_MESSAGES, LANG: zh_* is Chinese),
    else English."""
    environ = os.environ if environ is None else environ
    for value in (explicit, environ.get("NETLAB_LANG")):
        if value:
            value = value.strip().lower()
            if value.startswith("zh"):
                return "zh"
            if value.startswith("en"):
                return "en"
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(var)
        if value:  # the first one set decides, as in POSIX
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def placeholders(template: str) -> set[str]:
    """The named fields of a str.format template ('{n}' -> {'n'}, '{x!r:>4}' -> {'x'})."""
    names = set()
    for _, field, _, _ in string.Formatter().parse(template):
        if field is not None:
            names.add(field.split(".")[0].split("[")[0])
    return names


class Text:
    """One message in English and Chinese, with the values of its placeholders."""
    __slots__ = ("en", "zh", "fields")

    def __init__(self, en: str, zh: str, **fields):
        if placeholders(en) != placeholders(zh):
            raise ValueError(f"the two languages name different placeholders: {en!r} has "
                             f"{sorted(placeholders(en))}, {zh!r} has {sorted(placeholders(zh))}")
        missing = placeholders(en) - set(fields)
        if missing and fields:
            raise ValueError(f"{en!r}: no value for {sorted(missing)}")
        self.en, self.zh, self.fields = en, zh, fields

    def render(self, language: str | None = None) -> str:
        language = language or lang()
        template = self.zh if language == "zh" else self.en
        if not self.fields:
            return template
        values = {k: (v.render(language) if isinstance(v, Text) else v) for k, v in self.fields.items()}
        return template.format(**values)

    def __str__(self) -> str:
        return self.render()

    def __repr__(self) -> str:
        return f"say({self.en!r}, {self.zh!r}{''.join(f', {k}={v!r}' for k, v in self.fields.items())})"

    def __add__(self, other):
        return Joined(self, other)

    def __radd__(self, other):
        return Joined(other, self)


class Joined(Text):
    """Text + str (or Text + Text): rendered piece by piece in the same language."""
    __slots__ = ("parts",)

    def __init__(self, *parts):
        self.parts = parts
        self.en = "".join(p.en if isinstance(p, Text) else str(p) for p in parts)
        self.zh = "".join(p.zh if isinstance(p, Text) else str(p) for p in parts)
        self.fields = {}

    def render(self, language: str | None = None) -> str:
        return "".join(p.render(language) if isinstance(p, Text) else str(p) for p in self.parts)


def say(en: str, zh: str, **fields) -> Text:
    """A message in both languages; `fields` fill its {placeholders} in either."""
    return Text(en, zh, **fields)


def text(value, language: str | None = None) -> str:
    """Any message (str, Text or None) as a string in `language` (default: the current one)."""
    if value is None:
        return ""
    return value.render(language) if isinstance(value, Text) else str(value)
