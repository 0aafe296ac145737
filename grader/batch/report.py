"""`grader report OUTDIR`: OUTDIR/report.html, the instructor's view of a batch.

One self-contained file (it works offline and can be mailed): the class summary, the score
distribution of each exercise, the checks most students fail (the misconceptions to take up in
class, with each check's title and hint), every student's results to drill into, the runs that
errored or timed out and why, and the pairs of submissions that share the most code
(grader.batch.similarity). Plots are drawn by matplotlib and embedded as inline SVG (text kept
as text, so the browser draws Chinese with its own fonts); there is no script and no external
resource, and the page's Content-Security-Policy forbids both.

Read from the batch's own outputs: results/<student>.json (every check, hidden ones included)
and graded/ (the copies that were graded, for similarity). The checks' titles and hints are
taken from the course's suites in the chosen language (`--lang`), whatever language the batch
ran in. The same OUTDIR gives the same bytes (no time, fixed SVG ids).

Student text (ids, names, outputs, reasons, file names, code) is only ever element content or
an attribute value passed through html.escape after its control characters were made visible
(grader.textsafe); no link's target is ever student text.
"""
from __future__ import annotations

import html
import io
import json
import statistics
import sys
from pathlib import Path

from .. import i18n
from ..i18n import say, text
from ..textsafe import visible
from . import similarity as sim
from .feedback import STATUS

PROBLEMS = ("error", "timeout", "refused", "unreadable", "invalid")
NOT_SUBMITTED = ("missing", "unreadable")
BAR = "#2b6cb0"       # the score histograms
FAIL = "#c0392b"      # the failure-rate bars
CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
       "form-action 'none'")


def esc(value) -> str:
    """Any text for HTML: control characters made visible, then &, <, >, " and ' escaped."""
    return html.escape(visible(str(value)), quote=True)


def _t(en: str, zh: str, **fields) -> str:
    """Our own words, in the page's language, escaped (fields may be student text)."""
    return esc(text(say(en, zh, **fields)))


def pts(x) -> str:
    return f"{float(x):g}"


# -- what the batch left ----------------------------------------------------------------------

def load_records(out: Path) -> list[dict]:
    folder = out / "results"
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]


def exercise_ids(course, records: list[dict]) -> list[str]:
    """The exercises of the batch, in course order (then any the course no longer has)."""
    seen = {i for r in records for i in r["exercises"]}
    return [i for i in course.exercises if i in seen] + sorted(seen - set(course.exercises))


def check_texts(course, ex_ids: list[str]) -> dict[tuple[str, str], dict]:
    """(exercise, check name) -> titles and hints in both languages, from the suites (collected,
    never run). A course whose suites cannot be collected here gives {}: the stored titles
    (in the batch's language) are shown instead."""
    from ..release import ReleaseError, collect
    known = [i for i in ex_ids if i in course.exercises]
    try:
        found = collect(course.root, known) if known else {}
    except ReleaseError:
        return {}
    return {(ex, c["name"]): c for ex, checks in found.items() for c in checks}


# -- plots ------------------------------------------------------------------------------------

def _svg(fig, salt: str) -> str:
    """A matplotlib figure as an inline <svg> element: text as text, ids fixed per figure."""
    import matplotlib
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": salt}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    svg = buf.getvalue()
    return svg[svg.index("<svg"):]


def _figure(width: float, height: float):
    from matplotlib.figure import Figure
    fig = Figure(figsize=(width, height), dpi=96)
    fig.patch.set_alpha(0)
    return fig


def histogram(scores: list[float], max_score: float, salt: str) -> str:
    """How many students got each score (one bar per point when the exercise has 40 or fewer)."""
    import warnings
    fig = _figure(5.2, 2.6)
    ax = fig.add_subplot()
    step = 1.0 if max_score <= 40 else max_score / 20
    edges = [-step / 2 + step * i for i in range(int(max_score / step) + 2)]
    ax.hist(scores, bins=edges, color=BAR, edgecolor="white", linewidth=0.6)
    ax.set_xlim(edges[0], edges[-1])
    ax.set_xlabel(text(say("points", "得分")))
    ax.set_ylabel(text(say("students", "学生人数")))
    ax.yaxis.get_major_locator().set_params(integer=True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    with warnings.catch_warnings():   # Chinese labels: measured without the glyphs, drawn by the browser
        warnings.simplefilter("ignore")
        fig.tight_layout()
        return _svg(fig, salt)


def failure_bars(rows: list[dict], salt: str) -> str:
    """The failure rate of the most-failed checks, labelled #1, #2 ... as in the table below it."""
    fig = _figure(6.4, 0.35 * len(rows) + 0.9)
    ax = fig.add_subplot()
    labels = [f"#{n}" for n in range(1, len(rows) + 1)]
    rates = [100 * r["failed"] / r["ran"] for r in rows]
    ax.barh(labels[::-1], rates[::-1], color=FAIL)
    ax.set_xlim(0, 100)
    ax.set_xlabel(text(say("% of the students who ran the check", "运行了该检查的学生中失败的比例（%）")))
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fig.tight_layout()
        return _svg(fig, salt)


# -- the numbers ------------------------------------------------------------------------------

def exercise_summary(records: list[dict], ex_id: str) -> dict:
    runs = [r["exercises"][ex_id] for r in records if ex_id in r["exercises"]]
    submitted = [e for e in runs if e["status"] not in NOT_SUBMITTED]
    scores = [e["score"] for e in submitted]
    top = runs[0]["max_score"] if runs else 0
    return {"students": len(runs), "submitted": len(submitted), "scores": scores, "max": top,
            "mean": statistics.fmean(scores) if scores else None,
            "median": statistics.median(scores) if scores else None,
            "full": sum(1 for s in scores if s >= top), "zero": sum(1 for s in scores if s == 0),
            "problems": sum(1 for e in runs if e["status"] in PROBLEMS)}


def most_failed(records: list[dict], ex_ids: list[str], limit: int = 12) -> list[dict]:
    """Checks ranked by how many of the students whose run reached them failed them."""
    table: dict[tuple[str, str], dict] = {}
    for r in records:
        for ex_id in ex_ids:
            e = r["exercises"].get(ex_id)
            if not e or e["status"] != "ok":
                continue
            for t in e["tests"]:
                row = table.setdefault((ex_id, t["name"]), {
                    "exercise": ex_id, "name": t["name"], "title": t["title"], "ran": 0, "failed": 0,
                    "points": t["max_score"], "visibility": t["visibility"], "students": []})
                row["ran"] += 1
                if t["status"] != "passed":
                    row["failed"] += 1
                    row["students"].append(r["student"])
    rows = [r for r in table.values() if r["failed"]]
    rows.sort(key=lambda r: (-r["failed"] / r["ran"], -r["failed"], ex_ids.index(r["exercise"]), r["name"]))
    return rows[:limit]


# -- HTML -------------------------------------------------------------------------------------

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC","Microsoft YaHei",sans-serif;
 margin:0 auto;max-width:1100px;padding:1em 1.5em;color:#1a202c;line-height:1.45}
h1{font-size:1.6em}h2{border-bottom:2px solid #e2e8f0;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.6em 0}th,td{border:1px solid #e2e8f0;padding:.25em .6em;
 text-align:left;vertical-align:top}th{background:#f7fafc}td.n{text-align:right;font-variant-numeric:tabular-nums}
nav a{margin-right:1em}figure{display:inline-block;margin:.5em 1em .5em 0;vertical-align:top}
figcaption{font-size:.9em;color:#4a5568}pre{background:#f7fafc;border:1px solid #e2e8f0;padding:.5em;
 white-space:pre-wrap;word-break:break-all;font-size:.85em;margin:.3em 0}
details{margin:.3em 0;border-left:3px solid #e2e8f0;padding-left:.6em}summary{cursor:pointer}
.pass{color:#276749}.fail{color:#c53030}.muted{color:#718096}.bad{background:#fff5f5}
.side{display:grid;grid-template-columns:1fr 1fr;gap:.5em}.side pre{margin:0}
.hint{font-size:.9em;color:#4a5568}
"""


class Page:
    def __init__(self, lang: str):
        self.lang = lang
        self.parts: list[str] = []

    def add(self, *html_parts: str) -> None:
        self.parts.extend(html_parts)



def _score_cell(e: dict) -> str:
    cls = " bad" if e["status"] in PROBLEMS else ""
    mark = "" if e["status"] in ("ok",) else f" <span class=\"muted\">({esc(e['status'])})</span>"
    return f"<td class=\"n{cls}\">{pts(e['score'])}{mark}</td>"


def build(course, out: Path, *, with_similarity: bool = True) -> str:
    """The report's HTML, in the current language (grader.i18n)."""
    lang = i18n.lang()
    records = load_records(out)
    ex_ids = exercise_ids(course, records)
    texts = check_texts(course, ex_ids)
    title_of = {i: (course.exercises[i].text("title", lang) if i in course.exercises else i) for i in ex_ids}

    def check_title(ex_id: str, t: dict) -> str:
        c = texts.get((ex_id, t["name"]))
        return c[f"title_{lang}"] if c else t["title"]

    def check_hint(ex_id: str, name: str) -> str | None:
        c = texts.get((ex_id, name))
        return c.get(f"hint_{lang}") if c else None

    p = Page(lang)
    anchors = {r["student"]: f"student-{n}" for n, r in enumerate(records, 1)}
    heading = _t("{course}: class report", "{course}：班级评分报告", course=course.title)
    p.add("<!DOCTYPE html>", f"<html lang=\"{'zh-CN' if lang == 'zh' else 'en'}\"><head><meta charset=\"utf-8\">",
          f"<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">",
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
          f"<title>{heading}</title><style>{STYLE}</style></head><body>", f"<h1>{heading}</h1>")
    sections = [("summary", _t("Class summary", "全班概况")),
                ("distribution", _t("Score distribution", "分数分布")),
                ("failing", _t("Checks most students fail", "失败最多的检查")),
                ("students", _t("Students", "学生")),
                ("problems", _t("Errors and timeouts", "出错与超时"))]
    if with_similarity:
        sections.append(("similarity", _t("Similar submissions", "相似的提交")))
    p.add("<nav>" + "".join(f"<a href=\"#{key}\">{label}</a>" for key, label in sections) + "</nav>")

    # -- summary
    totals = [r["total"] for r in records]
    p.add("<section id=\"summary\">", f"<h2>{sections[0][1]}</h2>",
          "<p>" + _t("{n} students, {m} exercises; total: mean {mean}, median {median} of {max} points.",
                      "共 {n} 名学生、{m} 个练习；总分：平均 {mean}，中位数 {median}，满分 {max}。",
                      n=len(records), m=len(ex_ids),
                      mean=f"{statistics.fmean(totals):.2f}" if totals else "-",
                      median=pts(statistics.median(totals)) if totals else "-",
                      max=pts(records[0]["max_score"]) if records else "0") + "</p>")
    heads = [_t("exercise", "练习"), _t("title", "标题"), _t("submitted", "提交人数"),
             _t("mean", "平均分"), _t("median", "中位数"), _t("full marks", "满分人数"),
             _t("zero", "零分人数"), _t("errors, timeouts", "出错/超时"), _t("points", "满分")]
    p.add("<table><thead><tr>" + "".join(f"<th>{h}</th>" for h in heads) + "</tr></thead><tbody>")
    summaries = {i: exercise_summary(records, i) for i in ex_ids}
    for ex_id in ex_ids:
        s = summaries[ex_id]
        mean = "-" if s["mean"] is None else f"{s['mean']:.2f}"
        p.add(f"<tr><td><code>{esc(ex_id)}</code></td><td>{esc(title_of[ex_id])}</td>"
              f"<td class=\"n\">{s['submitted']}/{s['students']}</td>"
              f"<td class=\"n\">{mean}</td>"
              f"<td class=\"n\">{'-' if s['median'] is None else pts(s['median'])}</td>"
              f"<td class=\"n\">{s['full']}</td><td class=\"n\">{s['zero']}</td>"
              f"<td class=\"n\">{s['problems']}</td><td class=\"n\">{pts(s['max'])}</td></tr>")
    p.add("</tbody></table></section>")

    # -- distributions
    p.add("<section id=\"distribution\">", f"<h2>{sections[1][1]}</h2>")
    for n, ex_id in enumerate(ex_ids):
        s = summaries[ex_id]
        figure = histogram(s["scores"], s["max"], f"netlab-hist-{n}") if s["scores"] else ""
        caption = _t("{ex} · {title}: {n} submissions (not submitted: {missing})",
                      "{ex} · {title}：{n} 份提交（未提交：{missing}）", ex=ex_id, title=title_of[ex_id],
                      n=s["submitted"], missing=s["students"] - s["submitted"])
        p.add(f"<figure class=\"plot\" data-exercise=\"{esc(ex_id)}\">{figure}<figcaption>{caption}</figcaption></figure>")
    p.add("</section>")

    # -- most failed checks
    rows = most_failed(records, ex_ids)
    p.add("<section id=\"failing\">", f"<h2>{sections[2][1]}</h2>")
    if not rows:
        p.add("<p>" + _t("No check failed in a run that was graded.", "在已评分的运行中，没有检查失败。") + "</p>")
    else:
        p.add("<p>" + _t("Among the runs that were graded, the checks failed by the largest share of the "
                          "students: the ideas to take up again in class.",
                          "在已评分的运行中，失败比例最高的检查：这些就是值得在课上再讲一遍的知识点。") + "</p>")
        p.add(f"<figure class=\"plot\" data-figure=\"failing\">{failure_bars(rows, 'netlab-fail')}</figure>")
        heads = ["#", _t("exercise", "练习"), _t("check", "检查"), _t("failed", "失败"),
                 _t("points", "分值"), _t("students", "学生")]
        p.add("<table><thead><tr>" + "".join(f"<th>{h}</th>" for h in heads) + "</tr></thead><tbody>")
        for n, r in enumerate(rows, 1):
            hint = check_hint(r["exercise"], r["name"])
            vis = "" if r["visibility"] == "visible" else \
                f" <span class=\"muted\">[{esc(text(_visibility(r['visibility'])))}]</span>"
            who = ", ".join(f"<a href=\"#{anchors[s]}\">{esc(s)}</a>" for s in r["students"][:12])
            if len(r["students"]) > 12:
                who += " " + _t("and {n} more", "等另外 {n} 人", n=len(r["students"]) - 12)
            p.add(f"<tr><td class=\"n\">{n}</td><td><code>{esc(r['exercise'])}</code></td>"
                  f"<td>{esc(check_title(r['exercise'], r))}{vis}<br><code class=\"muted\">{esc(r['name'])}</code>"
                  + (f"<div class=\"hint\">{_t('hint: {hint}', '提示：{hint}', hint=hint)}</div>" if hint else "")
                  + f"</td><td class=\"n\">{r['failed']}/{r['ran']} ({100 * r['failed'] / r['ran']:.0f}%)</td>"
                  f"<td class=\"n\">{pts(r['points'])}</td><td>{who}</td></tr>")
        p.add("</tbody></table>")
    p.add("</section>")

    # -- students
    p.add("<section id=\"students\">", f"<h2>{sections[3][1]}</h2>")
    heads = [_t("student", "学生"), _t("name", "姓名"), *(f"<code>{esc(i)}</code>" for i in ex_ids),
             _t("total", "总分"), _t("status", "状态")]
    p.add("<table><thead><tr>" + "".join(f"<th>{h}</th>" for h in heads) + "</tr></thead><tbody>")
    for r in records:
        cells = "".join(_score_cell(r["exercises"][i]) if i in r["exercises"] else "<td></td>" for i in ex_ids)
        p.add(f"<tr><td><a href=\"#{anchors[r['student']]}\">{esc(r['student'])}</a></td>"
              f"<td>{esc(r.get('name') or '')}</td>{cells}"
              f"<td class=\"n\">{pts(r['total'])}/{pts(r['max_score'])}</td><td>{esc(r['status'])}</td></tr>")
    p.add("</tbody></table>")
    for r in records:
        p.add(f"<details class=\"student\" id=\"{anchors[r['student']]}\"><summary><strong>{esc(r['student'])}</strong>"
              + (f" · {esc(r['name'])}" if r.get("name") else "")
              + f" — {pts(r['total'])}/{pts(r['max_score'])}</summary>")
        if r.get("error"):
            p.add(f"<pre>{esc(r['error'])}</pre>")
        if r.get("notes"):
            p.add("<p>" + _t("Changed before grading:", "评分前做的处理：") + "</p><ul>"
                  + "".join(f"<li>{esc(n)}</li>" for n in r["notes"]) + "</ul>")
        for ex_id, e in r["exercises"].items():
            p.add(f"<h4><code>{esc(ex_id)}</code> · {esc(title_of.get(ex_id, ex_id))} — "
                  f"{pts(e['score'])}/{pts(e['max_score'])} <span class=\"muted\">"
                  f"({esc(text(STATUS.get(e['status'], e['status'])))})</span></h4>")
            if e.get("notes"):
                p.add("<ul>" + "".join(f"<li>{esc(n)}</li>" for n in e["notes"]) + "</ul>")
            for key in ("reason", "precheck", "problem"):
                if e.get(key):
                    p.add(f"<pre>{esc(e[key])}</pre>")
            if e["tests"]:
                p.add("<ul>")
                for t in e["tests"]:
                    ok = t["status"] == "passed"
                    vis = "" if t["visibility"] == "visible" else \
                        f" <span class=\"muted\">[{esc(text(_visibility(t['visibility'])))}]</span>"
                    p.add(f"<li><span class=\"{'pass' if ok else 'fail'}\">{'✔' if ok else '✘'}</span> "
                          f"{esc(check_title(ex_id, t))}{vis} — {pts(t['score'])}/{pts(t['max_score'])}")
                    if not ok and t.get("output"):
                        p.add(f"<pre>{esc(t['output'])}</pre>")
                    p.add("</li>")
                p.add("</ul>")
        p.add("</details>")
    p.add("</section>")

    # -- errors and timeouts
    bad = [(r, i, e) for r in records for i, e in r["exercises"].items() if e["status"] in PROBLEMS]
    p.add("<section id=\"problems\">", f"<h2>{sections[4][1]}</h2>")
    if not bad:
        p.add("<p>" + _t("Every run gave a result.", "每一次评测都得出了结果。") + "</p>")
    else:
        p.add("<p>" + _t("{n} runs that errored, timed out, or whose files could not be read or checked:",
                          "{n} 次评测出错、超时，或者文件无法读取、无法检查：", n=len(bad)) + "</p>")
        heads = [_t("student", "学生"), _t("exercise", "练习"), _t("status", "状态"), _t("why", "原因")]
        p.add("<table><thead><tr>" + "".join(f"<th>{h}</th>" for h in heads) + "</tr></thead><tbody>")
        for r, ex_id, e in bad:
            why = e.get("reason") or e.get("precheck") or e.get("problem") or ""
            p.add(f"<tr class=\"bad\"><td><a href=\"#{anchors[r['student']]}\">{esc(r['student'])}</a></td>"
                  f"<td><code>{esc(ex_id)}</code></td><td>{esc(text(STATUS.get(e['status'], e['status'])))}</td>"
                  f"<td><pre>{esc(why)}</pre></td></tr>")
        p.add("</tbody></table>")
    p.add("</section>")

    if with_similarity:
        p.add("<section id=\"similarity\">", f"<h2>{sections[5][1]}</h2>")
        similarity_section(p, course, out, [i for i in ex_ids if i in course.exercises], anchors)
        p.add("</section>")
    p.add("</body></html>")
    return "\n".join(p.parts) + "\n"


def _visibility(v: str):
    from ..report import VISIBILITY
    return VISIBILITY.get(v, v)


def similarity_section(p: Page, course, out: Path, ex_ids: list[str], anchors: dict[str, str],
                       top: int = 10, show: int = 3) -> None:
    p.add("<p>" + _t(
        "Pairs of submissions ranked by the code they share, MOSS-style: names, strings and numbers "
        "normalised, so renaming or moving code hides nothing; the stub's and the reference "
        "solution's code never count. A high rank is a reason to look, not a verdict.",
        "按共有代码的多少给提交两两排序（MOSS 的方法）：变量名、字符串和数字都先统一替换，改名或调换函数顺序都藏不住；"
        "桩代码和参考答案里的代码不计入。排名靠前只说明值得看一看，并不是结论。") + "</p>")
    for res in sim.analyse(course, out, ex_ids):
        sources = {s.owner: s for s in sim.exercise_sources(out, res.exercise)}
        p.add(f"<h3><code>{esc(res.exercise)}</code></h3>")
        p.add("<p>" + _t("{n} submissions compared; {pairs} pairs share code.",
                          "比较了 {n} 份提交；{pairs} 对有共同代码。", n=res.submissions, pairs=len(res.pairs)) + "</p>")
        if res.pairs:
            heads = ["#", _t("pair", "两份提交"), _t("similarity", "相似度"),
                     _t("share of each found in the other", "各自在对方中出现的比例"), _t("passages", "相同段落")]
            p.add("<table class=\"pairs\"><thead><tr>" + "".join(f"<th>{h}</th>" for h in heads) + "</tr></thead><tbody>")
            for n, pair in enumerate(res.pairs[:top], 1):
                p.add(f"<tr><td class=\"n\">{n}</td><td><a href=\"#{anchors.get(pair.a, 'students')}\">{esc(pair.a)}</a>"
                      f" ~ <a href=\"#{anchors.get(pair.b, 'students')}\">{esc(pair.b)}</a></td>"
                      f"<td class=\"n\">{sim.pct(pair.score)}</td>"
                      f"<td class=\"n\">{sim.pct(pair.a_share)} / {sim.pct(pair.b_share)}</td>"
                      f"<td class=\"n\">{len(pair.regions)}</td></tr>")
            p.add("</tbody></table>")
            for n, pair in enumerate(res.pairs[:show], 1):
                p.add(f"<details class=\"pair\"><summary>#{n} {esc(pair.a)} ~ {esc(pair.b)}: "
                      + _t("matching code side by side", "并排显示相同的代码") + "</summary>")
                a, b = sources[pair.a], sources[pair.b]
                for region in pair.regions[:6]:
                    left = "\n".join(f"{region.a_start + k:>4}  {line}" for k, line in enumerate(
                        sim._lines(a.lines[a.files.index(region.a_file)], region.a_start, region.a_end)))
                    right = "\n".join(f"{region.b_start + k:>4}  {line}" for k, line in enumerate(
                        sim._lines(b.lines[b.files.index(region.b_file)], region.b_start, region.b_end)))
                    p.add("<div class=\"side\">"
                          f"<div><code>{esc(pair.a)}/{esc(region.a_file)}:{region.a_start}-{region.a_end}</code>"
                          f"<pre>{esc(left)}</pre></div>"
                          f"<div><code>{esc(pair.b)}/{esc(region.b_file)}:{region.b_start}-{region.b_end}</code>"
                          f"<pre>{esc(right)}</pre></div></div>")
                p.add("</details>")
        close = sorted(((s, w) for w, s in res.reference.items() if s >= 0.8), reverse=True)
        if close:
            p.add("<p>" + _t("Mostly the reference solution (80% or more of their code):",
                              "大部分（80% 以上）就是参考答案：") + " "
                  + ", ".join(f"<a href=\"#{anchors.get(w, 'students')}\">{esc(w)}</a> ({sim.pct(s)})" for s, w in close)
                  + "</p>")


def write(course, out: Path, *, with_similarity: bool = True) -> Path:
    from .outputs import atomic_write
    page = build(course, out, with_similarity=with_similarity)
    target = out / "report.html"
    atomic_write(target, page.encode("utf-8"))
    return target


def cmd_report(course, args) -> int:
    """The `report` subcommand (grader.cli)."""
    out = Path(args.outdir)
    if not (out / "results").is_dir():
        print(text(say("grader: {path} is not the output folder of a batch (no results/ in it)",
                       "grader：{path} 不是批量评分的输出文件夹（里面没有 results/）", path=str(out))),
              file=sys.stderr)
        return 2
    target = write(course, out, with_similarity=not args.no_similarity)
    print(text(say("wrote {path}", "已写出 {path}", path=str(target))))
    return 0
