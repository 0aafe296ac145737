"""`grader pack [--out FILE.zip]`: the zip a student uploads, in the layout `grader batch`
reads: exercises/<id>/<file> for each file course.yaml lists for the exercise, nothing else
(no __pycache__, no editor files, no README). Names are stored as UTF-8 (flag bit 11), with
fixed timestamps and modes: packing the same files twice gives the same zip.
"""
from __future__ import annotations

import sys
import zipfile
from pathlib import Path

from ..course import Course
from ..i18n import say, text

STAMP = (2020, 1, 1, 0, 0, 0)
DEFAULT_NAME = "netlab-submission.zip"


def pack(course: Course, source: Path, out: Path, ids: list[str]) -> tuple[list[str], list[str]]:
    """Write the zip; (the files packed, the listed files that do not exist)."""
    packed, missing = [], []
    tmp = out.with_name(f".{out.name}.tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for ex_id in ids:
            ex = course.exercises[ex_id]
            for name in ex.files:
                path = source / ex_id / name
                arc = f"exercises/{ex_id}/{name}"
                if not path.is_file():
                    missing.append(arc)
                    continue
                info = zipfile.ZipInfo(arc, date_time=STAMP)
                info.external_attr = 0o100644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                info.flag_bits |= 0x800
                zf.writestr(info, path.read_bytes())
                packed.append(arc)
    tmp.replace(out)
    return packed, missing


def cmd_pack(course: Course, args) -> int:
    """The `pack` subcommand (grader.cli)."""
    ids = args.exercises or list(course.exercises)
    for ex_id in ids:
        course.get(ex_id)
    source = (course.root / "exercises") if args.target is None else Path(args.target).resolve()
    out = Path(args.out or DEFAULT_NAME).resolve()
    if out.suffix.lower() != ".zip":
        print(text(say("grader: --out must name a .zip file", "grader：--out 必须是一个 .zip 文件")), file=sys.stderr)
        return 2
    packed, missing = pack(course, source, out, ids)
    print(text(say("wrote {path}: {n} files", "已写出 {path}：共 {n} 个文件", path=str(out), n=len(packed))))
    for arc in packed:
        print(f"  {arc}")
    if missing:
        print(text(say("not found (those exercises will score 0 unless you add them):",
                       "没有找到（除非补上，否则这些练习记 0 分）：")))
        for arc in missing:
            print(f"  {arc}")
    return 0
