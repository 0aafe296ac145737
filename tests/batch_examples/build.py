"""Build a SUBMISSIONS folder of synthetic students for `grader batch` (see README.md here).

    python tests/batch_examples/build.py /tmp/netlab-submissions

No zip is kept in the repository: the two LMS-style entries are made here, from folders and
from the reference solutions, each with the quirks real uploads have.

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
REPO = HERE.parents[1]
STUDENTS = ("alice", "bob", "carol", "dave", "eve", "zhangwei", "lilei")


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


def build(dest: Path, only: tuple[str, ...] = STUDENTS, repo: Path = REPO) -> Path:
    """Write the chosen students into `dest` (created); returns it."""
    dest.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for student in only:
        if student == "alice":
            for ex_id in ("tcp_echo", "udp_echo"):
                shutil.copytree(repo / "solutions" / ex_id, dest / "alice" / "exercises" / ex_id, ignore=ignore)
        elif student == "zhangwei":
            canvas_zip(dest / "zhangwei_123456_7890123_netlab.zip", repo)
        elif student == "lilei":
            folder = dest / "李雷_654321_assignsubmission_file_"
            folder.mkdir()
            packed_zip(folder / "netlab-submission.zip", repo)
        else:
            shutil.copytree(HERE / "students" / student, dest / student, ignore=ignore)
    return dest


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} DEST   (a new folder of submissions)")
    print(build(Path(sys.argv[1])))
