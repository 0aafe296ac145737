"""A submission's zip or folder copied into a staging folder, safely.

- No path escapes the staging folder: absolute names, drive letters and `..` make the zip that
  student's error (a zip-slip attempt is never half extracted); backslashes are separators.
- No links: a symbolic link (in a zip or a folder) is skipped and noted; nothing is followed.
- Caps against zip bombs: entries, files, bytes per file and bytes in all, counted on what is
  really written (a zip's declared sizes may lie).
- Entry names from Chinese Windows (GBK, flag bit 11 unset) are decoded as GBK, names are
  NFC (macOS writes NFD), and `__MACOSX/`, `._*`, `.DS_Store`, `__pycache__` are left out.
Files are written 0644 and folders 0755, whatever modes the zip carried.
"""
from __future__ import annotations

import os
import re
import shutil
import stat
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from ..i18n import Text, say

CHUNK = 1 << 16


@dataclass(frozen=True)
class Caps:
    entries: int = 5000            # entries in one zip, junk included
    files: int = 1000              # files written for one student
    file_bytes: int = 8 << 20      # one file
    total_bytes: int = 32 << 20    # everything of one student
    depth: int = 16                # folder levels


class IntakeError(Exception):
    """A submission that cannot be read: the student's error, said in both languages."""

    def __init__(self, message: Text):
        self.message = message
        super().__init__(message.render("en"))


JUNK_DIRS = {"__MACOSX", "__pycache__", ".git", ".svn", ".hg", ".idea", ".vscode", ".venv",
             "venv", ".mypy_cache", ".pytest_cache"}
JUNK_FILES = {".DS_Store", "Thumbs.db", "desktop.ini"}


def is_junk(parts: list[str]) -> bool:
    name = parts[-1]
    return (any(p in JUNK_DIRS for p in parts) or name in JUNK_FILES or name.startswith("._")
            or name.endswith((".pyc", ".pyo")))


class Budget:
    """What one student's files may still take."""

    def __init__(self, caps: Caps):
        self.caps = caps
        self.files = 0
        self.bytes = 0

    def add_file(self, shown: str) -> None:
        self.files += 1
        if self.files > self.caps.files:
            raise IntakeError(say("more than {n} files: not extracted (a zip bomb?)",
                                  "文件超过 {n} 个：不予解压（是 zip 炸弹吗？）", n=self.caps.files))

    def add_bytes(self, n: int, written: int, shown: str) -> None:
        self.bytes += n
        if written > self.caps.file_bytes:
            raise IntakeError(say("{file} is larger than {mib} MiB: not extracted (a zip bomb?)",
                                  "{file} 超过 {mib} MiB：不予解压（是 zip 炸弹吗？）",
                                  file=shown, mib=self.caps.file_bytes >> 20))
        if self.bytes > self.caps.total_bytes:
            raise IntakeError(say("the submission is larger than {mib} MiB: not extracted "
                                  "(a zip bomb?)", "提交的内容超过 {mib} MiB：不予解压（是 zip 炸弹吗？）",
                                  mib=self.caps.total_bytes >> 20))


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" or "\u3400" <= c <= "\u4dbf" or "\u3000" <= c <= "\u303f"
               or "\uff00" <= c <= "\uffef" for c in text)


def entry_name(info: zipfile.ZipInfo) -> tuple[str, str | None]:
    """The entry's name, and the encoding it was decoded from when not the zip's own.
    Without flag bit 11 a name is cp437 by the standard, but Chinese Windows writes GBK and
    some tools write UTF-8 without saying so: take whichever gives a real name."""
    name = info.orig_filename
    if info.flag_bits & 0x800:
        return name, None
    try:
        raw = name.encode("cp437")
    except UnicodeEncodeError:
        return name, None
    if raw.isascii():
        return name, None
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError:
        pass
    try:
        decoded = raw.decode("gb18030")
    except UnicodeDecodeError:
        return name, None
    return (decoded, "GBK") if _has_cjk(decoded) else (name, None)


_DRIVE = re.compile(r"^[A-Za-z]:")


def safe_parts(name: str) -> list[str]:
    """The path components of an entry name; IntakeError if it would leave the folder."""
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        raise IntakeError(say("the zip holds an entry with an absolute path ({name}): refused "
                              "(it would write outside the extraction folder)",
                              "zip 中有使用绝对路径的条目（{name}）：拒绝解压（它会写到解压目录之外）",
                              name=name))
    parts = [unicodedata.normalize("NFC", p) for p in name.replace("\\", "/").split("/")
             if p not in ("", ".")]
    if ".." in parts:
        raise IntakeError(say("the zip holds an entry that climbs out of its folder ({name}): "
                              "refused (zip-slip)",
                              "zip 中有跳出自身目录的条目（{name}）：拒绝解压（zip-slip 攻击）", name=name))
    if any(len(p.encode()) > 255 for p in parts):
        raise IntakeError(say("the zip holds a file name longer than 255 bytes",
                              "zip 中有超过 255 字节的文件名"))
    return parts


class Notes:
    """What intake did to a student's files, each said once."""

    def __init__(self):
        self.items: list[Text] = []
        self._seen: set[str] = set()

    def add(self, note: Text, key: str | None = None) -> None:
        key = key or note.render("en")
        if key not in self._seen:
            self._seen.add(key)
            self.items.append(note)


JUNK_NOTE = say("left out system files (__MACOSX/, .DS_Store, __pycache__ ...)",
                "略去了系统文件（__MACOSX/、.DS_Store、__pycache__ 等）")


def _target(dest: Path, parts: list[str], budget: Budget) -> Path:
    if len(parts) > budget.caps.depth:
        raise IntakeError(say("folders nested deeper than {n} levels: not extracted",
                              "目录嵌套超过 {n} 层：不予解压", n=budget.caps.depth))
    path = dest.joinpath(*parts)
    # belt and braces: nothing we create is a link, but check the real path anyway
    if not str(path.resolve()).startswith(str(dest.resolve()) + os.sep):
        raise IntakeError(say("the entry {name} would be written outside the extraction folder: "
                              "refused", "条目 {name} 会写到解压目录之外：拒绝解压", name="/".join(parts)))
    return path


def _write(path: Path, chunks, budget: Budget, shown: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_dir():
        raise IntakeError(say("{name} is both a file and a folder in the submission",
                              "{name} 在提交中既是文件又是目录", name=shown))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
    written = 0
    with os.fdopen(fd, "wb") as out:
        for chunk in chunks:
            written += len(chunk)
            budget.add_bytes(len(chunk), written, shown)
            out.write(chunk)
    os.chmod(path, 0o644)


def extract_zip(archive: Path, dest: Path, budget: Budget, notes: Notes, shown: str) -> None:
    """Extract `archive` into the (existing, empty) folder `dest`."""
    try:
        with zipfile.ZipFile(archive) as zf:
            infos = zf.infolist()
            if len(infos) > budget.caps.entries:
                raise IntakeError(say("{zip} holds {n} entries (at most {cap}): not extracted "
                                      "(a zip bomb?)", "{zip} 含有 {n} 个条目（最多 {cap} 个）：不予解压"
                                      "（是 zip 炸弹吗？）", zip=shown, n=len(infos), cap=budget.caps.entries))
            names = []
            for info in infos:  # every name is checked before anything is written
                name, decoded = entry_name(info)
                names.append((info, safe_parts(name), decoded))
            for info, parts, decoded in names:
                if not parts:
                    continue
                if is_junk(parts):
                    notes.add(JUNK_NOTE)
                    continue
                if decoded:
                    notes.add(say("file names in {zip} were decoded as {encoding} (the zip does not "
                                  "say UTF-8: made on Chinese Windows?)",
                                  "{zip} 中的文件名按 {encoding} 解码（zip 没有标明 UTF-8：是在中文 Windows "
                                  "上打包的吧？）", zip=shown, encoding=decoded))
                kind = (info.external_attr >> 16) & 0o170000
                if kind == stat.S_IFLNK:
                    notes.add(say("{name}: a symbolic link, not extracted",
                                  "{name}：是符号链接，没有解压", name="/".join(parts)))
                    continue
                if info.is_dir() or kind == stat.S_IFDIR:
                    _target(dest, parts, budget).mkdir(parents=True, exist_ok=True)
                    continue
                if kind not in (0, stat.S_IFREG):
                    notes.add(say("{name}: not a regular file, not extracted",
                                  "{name}：不是普通文件，没有解压", name="/".join(parts)))
                    continue
                if info.flag_bits & 0x1:
                    raise IntakeError(say("{zip} is encrypted: upload it without a password",
                                          "{zip} 是加密的：请上传不带密码的 zip", zip=shown))
                path = _target(dest, parts, budget)
                budget.add_file("/".join(parts))
                with zf.open(info) as src:
                    _write(path, iter(lambda: src.read(CHUNK), b""), budget, "/".join(parts))
    except IntakeError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError,
            ValueError, OSError) as exc:
        raise IntakeError(say("{zip} could not be read as a zip ({why}): upload it again",
                              "{zip} 无法作为 zip 读取（{why}）：请重新上传",
                              zip=shown, why=f"{type(exc).__name__}: {exc}"[:200])) from None


def copy_folder(src: Path, dest: Path, budget: Budget, notes: Notes) -> None:
    """Copy a submission folder: regular files and folders only, links skipped, same caps."""
    def walk(folder: Path, parts: list[str]) -> None:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            raise IntakeError(say("{name} could not be read ({why})", "无法读取 {name}（{why}）",
                                  name="/".join(parts) or ".", why=exc.strerror or str(exc))) from None
        for e in entries:
            here = [*parts, unicodedata.normalize("NFC", e.name)]
            shown = "/".join(here)
            if is_junk(here):
                notes.add(JUNK_NOTE)
                continue
            if e.is_symlink():
                notes.add(say("{name}: a symbolic link, not copied", "{name}：是符号链接，没有复制",
                              name=shown))
                continue
            if e.is_dir(follow_symlinks=False):
                _target(dest, here, budget).mkdir(parents=True, exist_ok=True)
                walk(Path(e.path), here)
            elif e.is_file(follow_symlinks=False):
                path = _target(dest, here, budget)
                budget.add_file(shown)
                fd = os.open(e.path, os.O_RDONLY | os.O_NOFOLLOW)
                with os.fdopen(fd, "rb") as f:
                    _write(path, iter(lambda: f.read(CHUNK), b""), budget, shown)
    walk(src, [])


def copy_file(src: Path, dest: Path, name: str, budget: Budget) -> None:
    """A loose uploaded file (an LMS download of server.py) placed at the top of `dest`."""
    parts = safe_parts(name)
    if not parts:
        return
    budget.add_file(name)
    fd = os.open(src, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as f:
        _write(_target(dest, parts[-1:], budget), iter(lambda: f.read(CHUNK), b""), budget, name)


def clear(folder: Path) -> None:
    if folder.is_symlink():
        folder.unlink()
    elif folder.exists():
        shutil.rmtree(folder)
