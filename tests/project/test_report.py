"""`grader report OUTDIR` (grader/batch/report.py): OUTDIR/report.html for the instructor.

The batch's outputs are made here through the batch's own output code (outputs.student_record
and outputs.write_all, from judge-shaped records of tcp_echo's real checks), so the report is
tested on every status a run can end in without grading a class; one small real batch (a
submission whose server replies with `<script>` and `](javascript:...)`) runs it end to end.
The HTML is parsed (html.parser): structure, escaping (no student markup becomes markup, no
link leads anywhere but the page itself), the embedded figures, both languages. Where Debian's
`chromium` is installed, the page is opened headless: no console error, figures drawn."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import REPO

from grader import course as course_mod
from grader import i18n
from grader.batch import outputs, report
from grader.batch.intake import Submission
from grader.i18n import say
from grader.release import collect

COURSE = course_mod.load(REPO)
EX = ["tcp_echo", "udp_echo"]
SCRIPT = '<script>alert("pwned")</script>'
JSLINK = "[click me](javascript:alert(1))"
HOSTILE_ID = "x\"><b onmouseover=alert(1)>eve"   # (an id names files: no slash)
HOSTILE_NAME = "<img src=x onerror=alert(2)>"


@pytest.fixture(scope="module")
def checks():
    return collect(REPO, EX)


def _record(checks, ex_id: str, failed: set[str] = frozenset(), status: str = "ok", output: str = "",
            problem: str | None = None, precheck: str | None = None) -> dict:
    tests = []
    for c in checks[ex_id]:
        ok = status == "ok" and c["name"] not in failed
        tests.append({"name": c["name"], "title": c["title_en"], "visibility": c["visibility"],
                      "max_score": c["points"], "score": c["points"] if ok else 0,
                      "status": "passed" if ok else "failed",
                      "output": "" if ok else (output or f"expected b'x'\n  got: b''")})
    return {"exercise": ex_id, "score": sum(t["score"] for t in tests),
            "max_score": COURSE.exercises[ex_id].points, "hidden_tests": 0, "hidden_points": 0,
            "isolation": "student code runs as uid 12345", "visibility": "all", "precheck": precheck,
            "problem": problem, "tests": tests if status in ("ok", "invalid") else [], "status": status,
            "isolated": True}


def make_outdir(out: Path, checks) -> Path:
    """A batch's OUTDIR, written by the batch's own output code."""
    out.mkdir(parents=True)
    names = {ex: [c["name"] for c in checks[ex]] for ex in EX}
    first, second = names["tcp_echo"][0], names["tcp_echo"][1]
    subs, runs = [], {}

    def student(sid, name="", tcp=None, udp=None, **kw):
        sub = Submission(student=sid, name=name, sources=[sid], **kw)
        for ex_id, rec in (("tcp_echo", tcp), ("udp_echo", udp)):
            if rec is None and ex_id not in sub.missing and sub.error is None:
                sub.missing[ex_id] = say("{ex}/ is not in the submission", "提交里没有 {ex}/", ex=ex_id)
            elif rec is not None:
                runs[(sid, ex_id)] = rec
                sub.exercises[ex_id] = out / "graded" / sid / ex_id
        subs.append(sub)

    student("ann", "Ann", _record(checks, "tcp_echo"), _record(checks, "udp_echo"))
    student("ben", "Ben", _record(checks, "tcp_echo", {first, second}), _record(checks, "udp_echo", {names["udp_echo"][0]}))
    student("cat", "", _record(checks, "tcp_echo", {first}))
    student("dan", "Dan", _record(checks, "tcp_echo", set(names["tcp_echo"])))
    student(HOSTILE_ID, HOSTILE_NAME,
            _record(checks, "tcp_echo", {first, second}, output=f"got: b'{SCRIPT} {JSLINK}'\n  \x1b[2J"),
            ex_notes={"tcp_echo": [say("re-encoded {file} from GBK", "把 {file} 从 GBK 转码", file=f"{JSLINK}.py")]})
    student("tim", "Tim", _record(checks, "tcp_echo", status="timeout",
                                  problem=f"the judge did not finish within its time limit (60 s) {SCRIPT}"))
    student("err", "", _record(checks, "tcp_echo", status="error", problem="the judge crashed: OSError"))
    student("syn", "", _record(checks, "tcp_echo", status="invalid",
                               precheck=f"server.py line 3: SyntaxError: invalid syntax\n    {SCRIPT}"))
    student("zzz", "", error=say("{entry} could not be read as a zip", "{entry} 无法作为 zip 读取", entry="zzz.zip"))
    records = [outputs.student_record(s, COURSE, EX, runs) for s in subs]
    outputs.write_all(out, COURSE, EX, records, "none", "en")
    # the graded copies (similarity): ann's server copied by the hostile student, with a comment
    server = (REPO / "tests/project/test_similarity.py").read_text().split("LOOPS = '''")[1].split("'''")[0]
    for sid, code in (("ann", server), (HOSTILE_ID, f"# {SCRIPT} {JSLINK}\n" + server.replace("chunk", "bit").replace(
                          '"client went away"', repr(f"{SCRIPT} {JSLINK}"))),
                      ("ben", "print('hello')\n")):
        folder = out / "graded" / sid / "tcp_echo"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "server.py").write_text(code)
    return out


class Page(HTMLParser):
    """What a browser would make of the page: elements with their attributes, and the text."""

    def __init__(self, source: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.stack: list[str] = []
        self.svg_text: list[str] = []
        self.feed(source)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        self.stack.append(tag)

    def handle_endtag(self, tag):
        while self.stack and self.stack.pop() != tag:
            pass

    def handle_data(self, data):
        (self.svg_text if "svg" in self.stack else self.text).append(data)

    def tags(self, name: str) -> list[dict]:
        return [a for t, a in self.elements if t == name]

    @property
    def all_text(self) -> str:
        return "".join(self.text)


def build(out: Path, lang: str) -> str:
    with i18n.using(lang):
        return report.build(COURSE, out)


@pytest.fixture(scope="module")
def outdir(tmp_path_factory, checks):
    return make_outdir(tmp_path_factory.mktemp("batch") / "out", checks)


def assert_safe(page: Page) -> None:
    """No student text became markup: no script, no handler, no link or resource leaving the page."""
    assert page.tags("script") == [] and page.tags("img") == [] and page.tags("iframe") == []
    for tag, attrs in page.elements:
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)
            assert "javascript:" not in (value or "").lower(), (tag, name, value)
        if tag == "a":
            assert attrs["href"].startswith("#"), attrs
    hrefs = {a["href"][1:] for a in page.tags("a")}
    ids = {a["id"] for _, a in page.elements if "id" in a}
    assert hrefs <= ids  # every link lands on the page itself


def test_report_structure_escaping_and_figures(outdir):
    source = build(outdir, "en")
    page = Page(source)
    assert_safe(page)
    csp = [m for m in page.tags("meta") if m.get("http-equiv") == "Content-Security-Policy"]
    assert csp and "default-src 'none'" in csp[0]["content"]
    sections = [a["id"] for a in page.tags("section")]
    assert sections == ["summary", "distribution", "failing", "students", "problems", "similarity"]
    text = page.all_text
    # student text is shown as text, exactly
    assert SCRIPT in text and JSLINK in text and HOSTILE_ID in text and HOSTILE_NAME in text
    assert "\x1b" not in source and "\\x1b[2J" in text       # escape codes made visible
    assert "<script" not in source.replace("&lt;script", "")
    # figures: one histogram per exercise and the failure bars, inline SVG, drawn in our colours
    svgs = re.findall(r"<svg\b.*?</svg>", source, re.S)
    assert len(svgs) == 3
    assert all(report.BAR in s for s in svgs[:2]) and report.FAIL in svgs[2]
    plots = page.tags("figure")
    assert [f.get("data-exercise") for f in plots[:2]] == EX
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", source)   # nothing fetched
    # the summary: 9 students; tcp_echo submitted by 8 (zzz unreadable), 1 timeout + 1 error
    assert "9 students, 2 exercises" in text
    rows = [r for r in re.findall(r"<tr>(.*?)</tr>", source, re.S) if "<code>tcp_echo</code>" in r]
    assert "8/9" in rows[0]
    # the most-failed checks: titles and hints from the suite, linked to the students
    failing = source.split('<section id="failing">')[1].split("</section>")[0]
    first_check = next(c for c in collect(REPO, ["tcp_echo"])["tcp_echo"])
    assert first_check["title_en"] in Page(failing).all_text
    assert first_check["hint_en"] in Page(failing).all_text
    # drill-down: one details element per student, anchored from the table
    details = [a for a in page.tags("details") if a.get("class") == "student"]
    assert len(details) == 9
    # errors and timeouts, and why
    problems = Page(source.split('<section id="problems">')[1].split("</section>")[0]).all_text
    for who in ("tim", "err", "syn", "zzz"):
        assert who in problems
    assert "did not finish within its time limit" in problems and "SyntaxError" in problems
    assert "ann" not in problems.split()
    # similarity: the hostile copy of ann's code ranks first, shown side by side, escaped
    similar = source.split('<section id="similarity">')[1]
    assert "ann</a> ~ <a" in similar and "share code" in Page(similar).all_text
    assert "&lt;script&gt;" in similar and "<script>" not in similar


def test_report_speaks_chinese_with_the_suites_own_titles(outdir):
    page = Page(build(outdir, "zh"))
    assert_safe(page)
    text = page.all_text
    assert "全班概况" in text and "分数分布" in text and "失败最多的检查" in text and "相似的提交" in text
    assert "Class summary" not in text
    first_check = collect(REPO, ["tcp_echo"])["tcp_echo"][0]
    assert first_check["title_zh"] in text       # the batch ran in English; the report need not
    assert "得分" in "".join(page.svg_text)       # the plots' axes too
    assert page.elements[0] == ("html", {"lang": "zh-CN"})


def test_the_same_outdir_gives_the_same_bytes(outdir):
    assert build(outdir, "en") == build(outdir, "en")


def grader(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, "NETLAB_LANG": "en"})


def test_cli_writes_report_html(tmp_path, checks):
    out = make_outdir(tmp_path / "out", checks)
    proc = grader("report", str(out), "--lang", "zh")
    assert proc.returncode == 0, proc.stderr
    assert "已写出" in proc.stdout and (out / "report.html").is_file()
    page = Page((out / "report.html").read_text(encoding="utf-8"))
    assert_safe(page)
    assert "全班概况" in page.all_text
    plain = grader("report", str(out), "--no-similarity")
    assert plain.returncode == 0 and 'id="similarity"' not in (out / "report.html").read_text()
    bad = grader("report", str(tmp_path / "nowhere"))
    assert bad.returncode == 2 and "not the output folder of a batch" in bad.stderr


# -- a real batch ------------------------------------------------------------------------------

MALLORY = f'''"""replies with markup instead of an echo"""
import argparse, socket, sys
p = argparse.ArgumentParser()
p.add_argument("--host", default="127.0.0.1")
p.add_argument("--port", type=int, default=9000)
a = p.parse_args()
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((a.host, a.port))
s.listen(5)
while True:
    c, _ = s.accept()
    print({SCRIPT!r} + " " + {JSLINK!r}, file=sys.stderr, flush=True)
    c.sendall(b'{SCRIPT.replace('"', '')} {JSLINK}\\n')
    c.close()
'''


def test_report_of_a_real_batch(tmp_path):
    subs = tmp_path / "subs"
    shutil.copytree(REPO / "solutions/tcp_echo", subs / "alice" / "tcp_echo")
    (subs / "mallory" / "tcp_echo").mkdir(parents=True)
    (subs / "mallory" / "tcp_echo" / "server.py").write_text(MALLORY)
    shutil.copy(REPO / "exercises/tcp_echo/client.py", subs / "mallory" / "tcp_echo" / "client.py")
    out = tmp_path / "out"
    args = ["batch", str(subs), "--out", str(out), "--workers", "2", "--exercises", "tcp_echo"]
    if os.geteuid() != 0:
        args.append("--trust-submission")
    proc = grader(*args)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = grader("report", str(out))
    assert proc.returncode == 0, proc.stderr
    source = (out / "report.html").read_text(encoding="utf-8")
    page = Page(source)
    assert_safe(page)
    assert "2 students, 1 exercises" in page.all_text
    assert SCRIPT.replace('"', "") in page.all_text and JSLINK in page.all_text   # mallory's reply, shown
    assert "<script" not in source.replace("&lt;script", "")
    assert len(re.findall(r"<svg\b", source)) == 2


# -- in a real browser -------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _chromium(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                           "--enable-logging=stderr", "--v=0", *args], capture_output=True, text=True,
                          timeout=180)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (Debian: apt-get install chromium)")
def test_headless_chromium_renders_the_figures_without_console_errors(tmp_path, checks):
    import matplotlib.image
    import numpy
    out = make_outdir(tmp_path / "out", checks)
    report.write(COURSE, out)
    url = (out / "report.html").as_uri()
    dom = _chromium("--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    console = [line for line in dom.stderr.splitlines()
               if "CONSOLE" in line or "Uncaught" in line or "Refused to" in line]
    assert console == [], console
    rendered = Page(dom.stdout)
    assert_safe(rendered)
    assert len(rendered.tags("svg")) == 3
    shot = tmp_path / "report.png"
    proc = _chromium(f"--screenshot={shot}", "--window-size=1200,2200", url)
    assert proc.returncode == 0 and shot.is_file(), proc.stderr[-2000:]
    pixels = (matplotlib.image.imread(shot)[:, :, :3] * 255).round().astype(int)

    def painted(colour: str) -> int:
        rgb = numpy.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])
        return int((numpy.abs(pixels - rgb).sum(axis=2) <= 6).sum())

    assert painted(report.BAR) > 500      # the histograms' bars
    assert painted(report.FAIL) > 500     # the failure-rate bars
