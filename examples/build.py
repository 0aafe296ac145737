"""The synthetic class in `submissions/`, ready for `grader batch` (see README.md here), and
the script that keeps its generated entries in step with the course.

    grader batch examples/submissions --out /tmp/netlab-grades --exercises tcp_echo udp_echo
    python examples/build.py            # rewrite the generated entries after solutions/ changed
    python examples/build.py --check    # exit 1 if they are stale (a test runs this)

Hand-written entries (bob, carol, dave, eve) live only in `submissions/`. Three are generated
from the reference solutions, so a fixed solution never leaves a stale copy behind: alice's
folder and the two LMS-style zips, each with the quirks real uploads have.

  alice/                         complete: the reference solutions of tcp_echo and udp_echo
  bob/                           partial: a working tcp_echo server, the client still a stub;
                                 no udp_echo at all
  carol/                         a syntax error in server.py
  dave/                          a server that hangs before it ever listens
  eve/                           misbehaves: escape codes, <script> and Markdown links
  zhangwei_123456_7890123_netlab.zip
                                 a Canvas download: a zip made on Chinese Windows (GBK entry
                                 names, flag bit 11 unset) wrapping everything in one folder,
                                 server.py with a UTF-8 BOM and CRLF, client.py saved in GBK,
                                 macOS __MACOSX/ and .DS_Store entries
  李雷_654321_assignsubmission_file_/netlab-submission.zip
                                 a Moodle "download in folders" entry holding the zip that
                                 `grader pack` makes (tcp_echo and udp_echo solutions)
"""
from __future__ import annotations

import shutil
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SUBMISSIONS = HERE / "submissions"
STUDENTS = ("alice", "bob", "carol", "dave", "eve", "zhangwei", "lilei")
ENTRY = {"zhangwei": "zhangwei_123456_7890123_netlab.zip", "lilei": "李雷_654321_assignsubmission_file_"}
GENERATED = ("alice", "zhangwei", "lilei")


class _GbkInfo(zipfile.ZipInfo):
    """A zip entry whose name is stored in GBK without the UTF-8 flag, as Windows' own
    'compressed folder' and many Chinese tools write them."""

    def _encodeFilenameFlags(self):  # noqa: N802 - zipfile's name
        return self.filename.encode("gbk"), self.flag_bits & ~0x800


def _entry(zf: zipfile.ZipFile, name: str, data: bytes, gbk: bool = False) -> None:
    info = (_GbkInfo if gbk else zipfile.ZipInfo)(name, date_time=(2024, 3, 1, 12, 0, 0))
    info.external_attr = 0o100644 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, data)


def canvas_zip(path: Path, repo: Path = REPO) -> None:
    """zhangwei's upload, as Canvas names it, made on Chinese Windows and touched by a Mac."""
    server = (repo / "solutions/tcp_echo/server.py").read_text(encoding="utf-8")
    client = (repo / "solutions/tcp_echo/client.py").read_text(encoding="utf-8")
    client = client.replace('"""TCP echo client:', '"""TCP 回显客户端（张伟）：逐行发送，打印回显。\n\nTCP echo client:', 1)
    top = "张伟的作业/exercises/tcp_echo/"
    with zipfile.ZipFile(path, "w") as zf:
        _entry(zf, top + "server.py", b"\xef\xbb\xbf" + server.replace("\n", "\r\n").encode("utf-8"), gbk=True)
        _entry(zf, top + "client.py", client.replace("\n", "\r\n").encode("gbk"), gbk=True)
        _entry(zf, top + "笔记.txt", "做完了\r\n".encode("gbk"), gbk=True)
        _entry(zf, "张伟的作业/.DS_Store", b"\x00\x00\x00\x01Bud1", gbk=True)
        _entry(zf, "__MACOSX/张伟的作业/exercises/tcp_echo/._server.py", b"\x00\x05\x16\x07", gbk=True)


def packed_zip(path: Path, repo: Path = REPO) -> None:
    """The layout `grader pack` writes: exercises/<id>/<file>, UTF-8 names."""
    with zipfile.ZipFile(path, "w") as zf:
        for ex_id in ("tcp_echo", "udp_echo"):
            for f in sorted((repo / "solutions" / ex_id).glob("*.py")):
                _entry(zf, f"exercises/{ex_id}/{f.name}", f.read_bytes())


def generate(dest: Path, student: str, repo: Path = REPO) -> None:
    """Write one generated entry (alice, zhangwei or lilei) into `dest`, replacing it."""
    path = dest / ENTRY.get(student, student)
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
    if student == "alice":
        for ex_id in ("tcp_echo", "udp_echo"):
            shutil.copytree(repo / "solutions" / ex_id, path / "exercises" / ex_id,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "README*"))
    elif student == "zhangwei":
        canvas_zip(path, repo)
    else:
        path.mkdir()
        packed_zip(path / "netlab-submission.zip", repo)


def build(dest: Path, only: tuple[str, ...] = STUDENTS, repo: Path = REPO) -> Path:
    """Copy the chosen students of `submissions/` into `dest` (created); returns it."""
    dest.mkdir(parents=True, exist_ok=True)
    for student in only:
        name = ENTRY.get(student, student)
        source = SUBMISSIONS / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, dest / name)
    return dest


def _contents(path: Path) -> dict[str, bytes]:
    """An entry's files by relative name; a zip by its members (their bytes, not the
    compressor's, which differs between zlib versions)."""
    if path.is_file():
        with zipfile.ZipFile(path) as zf:
            return {i.orig_filename: zf.read(i) for i in zf.infolist()}
    return {str(f.relative_to(path)): (_contents(f) if f.suffix == ".zip" else f.read_bytes())
            for f in sorted(path.rglob("*")) if f.is_file() and "__pycache__" not in f.parts}


def stale(repo: Path = REPO) -> list[str]:
    """The generated entries of `submissions/` that differ from what the course makes now."""
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        out = []
        for student in GENERATED:
            generate(Path(tmp), student, repo)
            name = ENTRY.get(student, student)
            if not (SUBMISSIONS / name).exists() or _contents(Path(tmp, name)) != _contents(SUBMISSIONS / name):
                out.append(name)
        return out


if __name__ == "__main__":
    if sys.argv[1:] == ["--check"]:
        old = stale()
        for name in old:
            print(f"stale: examples/submissions/{name} (run: python examples/build.py)")
        sys.exit(1 if old else 0)
    if sys.argv[1:]:
        sys.exit(f"usage: {sys.argv[0]} [--check]")
    for student in GENERATED:
        generate(SUBMISSIONS, student)
        print(SUBMISSIONS / ENTRY.get(student, student))
