"""`grader similarity OUTDIR`: pairs of submissions ranked by how much code they share, per
exercise, the way MOSS does it (Schleimer, Wilkerson, Aiken: "Winnowing", SIGMOD 2003).

1. Tokens (Python's own tokenize module), normalised so that renaming and re-wording hide
   nothing: every name that is not a keyword becomes `V`, every string `S` (f-strings
   included), every number `0`; comments, blank lines and the encoding marker are dropped;
   the block structure stays (NEWLINE, INDENT, DEDENT).
2. Fingerprints: a hash (blake2b, so the same files give the same ranking in every run) of
   every K consecutive tokens of a file, winnowed: in every window of W consecutive hashes the
   smallest is kept (the rightmost on ties), so any match of K + W - 1 tokens or more is found,
   wherever it sits in either file: moving functions around changes nothing.
3. Discounted: every K-gram of the exercise's stub (exercises/<id>/) and reference solution
   (solutions/<id>/), so what the course gave out and the idioms everybody writes the same way
   as the reference do not count; optionally (--common PCT) also fingerprints present in more
   than PCT % of the class's submissions.
4. A pair's score: the share of A's fingerprints found in B and of B's in A; pairs rank by the
   mean of the two (a small file copied into a large one still ranks high by the first).
5. Matching regions: the shared fingerprints grouped along diagonals (a run of matches at the
   same offset between A and B is one copied region), shown side by side as line ranges.

Why not `copydetect` (PyPI), which implements the same paper: it hashes with Python's
built-in hash(), randomised per process, so the winnowed fingerprints, and with them the
scores, change from run to run (a batch's outputs here are reproducible); it works on
characters of Pygments' token stream with numbers left as they are (a changed port or buffer
size breaks a match); it compares files one by one rather than a student's folder; it brings
numpy, matplotlib, jinja2, pygments and tqdm for ~150 lines of algorithm; and its HTML report
would be a second report beside ours. See README ("Similarity").

Student code is only read here (tokenized), never run or imported.
"""
from __future__ import annotations

import hashlib
import io
import keyword
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

from ..i18n import say, text
from ..textsafe import visible

K = 12          # tokens per fingerprinted k-gram (about one short line of Python)
WINDOW = 6      # winnowing window: every shared run of K + WINDOW - 1 = 17 tokens is found
MAX_BYTES = 512 * 1024   # a source file larger than this is read only up to here


# -- tokens -----------------------------------------------------------------------------------

@dataclass
class Token:
    kind: str        # the normalised token: 'V', 'S', '0', a keyword, an operator, '\n', '{', '}'
    file: int        # index into Source.files
    line: int        # 1-based line in that file


@dataclass
class Source:
    """One submission's code for one exercise: its .py files, in name order."""
    owner: str
    files: list[str] = field(default_factory=list)        # names, relative to the exercise folder
    lines: list[list[str]] = field(default_factory=list)  # each file's lines (for showing)
    tokens: list[list[Token]] = field(default_factory=list)


_SKIP = {tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER}
_STRINGS = {tokenize.STRING, *(getattr(tokenize, n) for n in
                               ("FSTRING_START", "FSTRING_MIDDLE", "FSTRING_END")
                               if hasattr(tokenize, n))}


def normalise(code: str, file: int = 0) -> list[Token]:
    """The normalised tokens of `code`. Code that does not tokenize to the end (a syntax error,
    an unterminated string) gives its tokens up to the error: a broken submission still
    compares on what it has."""
    out: list[Token] = []
    in_fstring = 0
    try:
        for tok in tokenize.generate_tokens(io.StringIO(code).readline):
            t = tok.type
            if t in _SKIP:
                continue
            if t in _STRINGS:
                # an f-string is several tokens (start, middle, {expr}, end): one 'S' for it all
                name = tokenize.tok_name[t]
                if name == "FSTRING_START":
                    in_fstring += 1
                    if in_fstring == 1:
                        out.append(Token("S", file, tok.start[0]))
                elif name == "FSTRING_END":
                    in_fstring = max(0, in_fstring - 1)
                elif not in_fstring:
                    out.append(Token("S", file, tok.start[0]))
                continue
            if in_fstring:
                continue
            if t == tokenize.NAME:
                kind = tok.string if keyword.iskeyword(tok.string) else "V"
            elif t == tokenize.NUMBER:
                kind = "0"
            elif t == tokenize.NEWLINE:
                kind = "\n"
            elif t == tokenize.INDENT:
                kind = "{"
            elif t == tokenize.DEDENT:
                kind = "}"
            else:
                kind = tok.string
            out.append(Token(kind, file, tok.start[0]))
    except (tokenize.TokenError, SyntaxError):
        pass
    return out


def read_source(owner: str, folder: Path) -> Source:
    """Every .py file under `folder` (sorted by relative path; no links followed)."""
    src = Source(owner)
    if not folder.is_dir():
        return src
    paths = sorted(p for p in folder.rglob("*.py")
                   if p.is_file() and not p.is_symlink() and "__pycache__" not in p.parts)
    for path in paths:
        with open(path, "rb") as f:
            raw = f.read(MAX_BYTES)
        code = raw.decode("utf-8", errors="replace").replace("\r\n", "\n")
        index = len(src.files)
        src.files.append(path.relative_to(folder).as_posix())
        src.lines.append(code.split("\n"))
        src.tokens.append(normalise(code, index))
    return src


# -- fingerprints -----------------------------------------------------------------------------

def _hash(kinds: list[str]) -> int:
    return int.from_bytes(hashlib.blake2b("\x1f".join(kinds).encode(), digest_size=8).digest(), "big")


def kgram_hashes(tokens: list[Token], k: int = K) -> list[int]:
    kinds = [t.kind for t in tokens]
    return [_hash(kinds[i:i + k]) for i in range(len(kinds) - k + 1)]


def winnow(hashes: list[int], window: int = WINDOW) -> list[tuple[int, int]]:
    """(position, hash) chosen by robust winnowing: the minimum of each window, the rightmost
    on ties, recorded once while it stays the minimum."""
    if len(hashes) <= window:
        return [(hashes.index(min(hashes)), min(hashes))] if hashes else []
    chosen: list[tuple[int, int]] = []
    last = -1
    for start in range(len(hashes) - window + 1):
        best = start
        for i in range(start, start + window):
            if hashes[i] <= hashes[best]:
                best = i
        if best != last:
            chosen.append((best, hashes[best]))
            last = best
    return chosen


@dataclass
class Prints:
    """A source's winnowed fingerprints: hash -> where (file index, token index) it starts."""
    source: Source
    where: dict[int, list[tuple[int, int]]] = field(default_factory=dict)


def fingerprints(src: Source, ignore: set[int] = frozenset(), k: int = K, window: int = WINDOW) -> Prints:
    prints = Prints(src)
    for f, tokens in enumerate(src.tokens):
        for pos, h in winnow(kgram_hashes(tokens, k), window):
            if h not in ignore:
                prints.where.setdefault(h, []).append((f, pos))
    return prints


def all_kgrams(src: Source, k: int = K) -> set[int]:
    return {h for tokens in src.tokens for h in kgram_hashes(tokens, k)}


# -- pairs and their matching regions ---------------------------------------------------------

@dataclass
class Region:
    """One copied passage: lines [a_start, a_end] of A's file a_file and the same of B."""
    a_file: str
    a_start: int
    a_end: int
    b_file: str
    b_start: int
    b_end: int
    tokens: int      # how many of A's tokens the passage covers


@dataclass
class Pair:
    exercise: str
    a: str
    b: str
    shared: int      # fingerprints in both
    a_share: float   # of A's fingerprints, the fraction found in B
    b_share: float
    regions: list[Region] = field(default_factory=list)

    @property
    def score(self) -> float:
        return (self.a_share + self.b_share) / 2


def _regions(pa: Prints, pb: Prints, shared: set[int], k: int, window: int) -> list[Region]:
    """The shared fingerprints grouped into passages: matches in the same pair of files whose
    offsets line up (the same diagonal, give or take a few tokens) and follow each other
    closely are one passage."""
    a, b = pa.source, pb.source
    hits = sorted((fa, fb, ia, ib) for h in shared for fa, ia in pa.where[h][:4] for fb, ib in pb.where[h][:4])
    groups: list[list[tuple[int, int, int, int]]] = []
    open_: dict[tuple[int, int], list[list]] = {}
    for fa, fb, ia, ib in hits:                    # sorted by file pair, then A's position
        best = None
        for g in open_.get((fa, fb), []):
            _, _, la, lb = g[-1]
            if 0 < ia - la <= k + window and abs((ib - lb) - (ia - la)) <= 3:
                best = g
                break
        if best is None:
            best = []
            groups.append(best)
            open_.setdefault((fa, fb), []).append(best)
        best.append((fa, fb, ia, ib))
    out = []
    for g in groups:
        fa, fb = g[0][0], g[0][1]
        a_lo, a_hi = min(x[2] for x in g), max(x[2] for x in g) + k - 1
        b_lo, b_hi = min(x[3] for x in g), max(x[3] for x in g) + k - 1
        ta, tb = a.tokens[fa], b.tokens[fb]
        a_hi, b_hi = min(a_hi, len(ta) - 1), min(b_hi, len(tb) - 1)
        out.append(Region(a.files[fa], ta[a_lo].line, ta[a_hi].line,
                          b.files[fb], tb[b_lo].line, tb[b_hi].line, a_hi - a_lo + 1))
    # the longest passages first; a shorter one that overlaps a longer one on either side is a
    # chance alignment of normalised tokens (`V = V.V()` is many lines), dropped
    out.sort(key=lambda r: (-r.tokens, r.a_file, r.a_start, r.b_file, r.b_start))
    kept: list[Region] = []
    for r in out:
        if not any((r.a_file == q.a_file and r.a_start <= q.a_end and q.a_start <= r.a_end)
                   or (r.b_file == q.b_file and r.b_start <= q.b_end and q.b_start <= r.b_end)
                   for q in kept):
            kept.append(r)
    return kept


@dataclass
class ExerciseResult:
    exercise: str
    pairs: list[Pair]                 # ranked, best first (only pairs sharing something)
    submissions: int                  # submissions compared
    discounted: int                   # fingerprints of the stub and the solution
    common: int                       # fingerprints dropped as shared by too much of the class
    reference: dict[str, float]       # student -> share of their k-grams in the reference solution


def compare(exercise: str, sources: list[Source], given: list[Source], *, common: float | None = None,
            k: int = K, window: int = WINDOW) -> ExerciseResult:
    """Every pair of `sources` (one per student), ranked; `given`: the stub and the reference
    solution, whose k-grams never count. `common`: a fraction of the class (0-1); fingerprints
    present in more submissions than that are dropped too."""
    ignore: set[int] = set()
    for g in given:
        ignore |= all_kgrams(g, k)
    reference_kgrams = all_kgrams(given[-1], k) if given else set()
    reference = {}
    for s in sources:
        mine = all_kgrams(s, k)
        if mine:
            reference[s.owner] = len(mine & reference_kgrams) / len(mine)
    prints = [fingerprints(s, ignore, k, window) for s in sources]
    prints = [p for p in prints if p.where]
    dropped = 0
    if common is not None and len(prints) >= 2:
        count: dict[int, int] = {}
        for p in prints:
            for h in p.where:
                count[h] = count.get(h, 0) + 1
        too_common = {h for h, n in count.items() if n > common * len(prints)}
        dropped = len(too_common)
        for p in prints:
            for h in too_common:
                p.where.pop(h, None)
        prints = [p for p in prints if p.where]
    holders: dict[int, list[int]] = {}
    for n, p in enumerate(prints):
        for h in p.where:
            holders.setdefault(h, []).append(n)
    together: dict[tuple[int, int], set[int]] = {}
    for h, who in holders.items():
        for i in range(len(who)):
            for j in range(i + 1, len(who)):
                together.setdefault((who[i], who[j]), set()).add(h)
    pairs = []
    for (i, j), shared in together.items():
        pa, pb = prints[i], prints[j]
        if pa.source.owner > pb.source.owner:
            pa, pb = pb, pa
        pairs.append(Pair(exercise, pa.source.owner, pb.source.owner, len(shared),
                          len(shared) / len(pa.where), len(shared) / len(pb.where),
                          _regions(pa, pb, shared, k, window)))
    pairs.sort(key=lambda p: (-p.score, -p.shared, p.a, p.b))
    return ExerciseResult(exercise, pairs, len(sources), len(ignore), dropped, reference)


def exercise_sources(out: Path, ex_id: str) -> list[Source]:
    """The graded copies a batch left in OUTDIR/graded/<student>/<exercise>/."""
    graded = out / "graded"
    if not graded.is_dir():
        return []
    return [read_source(d.name, d / ex_id) for d in sorted(graded.iterdir())
            if d.is_dir() and (d / ex_id).is_dir()]


def given_sources(course, ex_id: str) -> list[Source]:
    """The stub, then the reference solution (when the course has them: a student bundle has
    no solutions/)."""
    return [read_source(f"<{kind}>", course.root / kind / ex_id) for kind in ("exercises", "solutions")
            if (course.root / kind / ex_id).is_dir()]


def analyse(course, out: Path, ex_ids: list[str], *, common: float | None = None) -> list[ExerciseResult]:
    return [compare(ex_id, exercise_sources(out, ex_id), given_sources(course, ex_id), common=common)
            for ex_id in ex_ids]


def batch_exercises(course, out: Path) -> list[str]:
    """The exercises a batch graded, in course order (those with a graded copy)."""
    graded = out / "graded"
    present = {e.name for d in graded.iterdir() if d.is_dir() for e in d.iterdir() if e.is_dir()} \
        if graded.is_dir() else set()
    return [i for i in course.exercises if i in present]


# -- text output ------------------------------------------------------------------------------

def _lines(src_lines: list[str], start: int, end: int) -> list[str]:
    return [visible(src_lines[n - 1]).replace("\t", "    ") if 0 < n <= len(src_lines) else ""
            for n in range(start, end + 1)]


def region_text(sources: dict[str, Source], pair: Pair, region: Region, width: int = 58) -> list[str]:
    """A passage side by side: A's lines on the left, B's on the right, each with its number."""
    a, b = sources[pair.a], sources[pair.b]
    left = _lines(a.lines[a.files.index(region.a_file)], region.a_start, region.a_end)
    right = _lines(b.lines[b.files.index(region.b_file)], region.b_start, region.b_end)
    out = [f"    {pair.a}/{region.a_file}:{region.a_start}-{region.a_end}".ljust(width + 12)
           + f"  {pair.b}/{region.b_file}:{region.b_start}-{region.b_end}"]
    for n in range(max(len(left), len(right))):
        la = f"{region.a_start + n:>4} {left[n]}" if n < len(left) else ""
        lb = f"{region.b_start + n:>4} {right[n]}" if n < len(right) else ""
        if len(la) > width + 5:
            la = la[:width + 4] + "…"
        out.append(f"    {la:<{width + 6}}  | {lb}")
    return out


def pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def text_report(results: list[ExerciseResult], sources: dict[str, dict[str, Source]], *, top: int,
                show: int) -> list[str]:
    """What `grader similarity` prints: per exercise, the top pairs, and the matching passages of
    the first `show` of them side by side."""
    lines = []
    for res in results:
        lines.append(text(say("{ex}: {n} submissions compared, {pairs} pairs share code not in the "
                              "stub or the reference solution",
                              "{ex}：比较了 {n} 份提交，其中 {pairs} 对有共同代码（桩代码和参考答案里的不算）",
                              ex=res.exercise, n=res.submissions, pairs=len(res.pairs))))
        if res.common:
            lines.append(text(say("  ({n} fingerprints shared by too much of the class were ignored)",
                                  "  （全班太多人共有的 {n} 个指纹没有计入）", n=res.common)))
        for rank, p in enumerate(res.pairs[:top], 1):
            lines.append(text(say(
                "  {rank}. {a} ~ {b}: {score} ({a}: {a_share} of its code found in {b}; {b}: {b_share}); "
                "{n} passages",
                "  {rank}. {a} ~ {b}：{score}（{a} 的代码有 {a_share} 出现在 {b} 中；{b} 的有 {b_share}）；"
                "{n} 段相同",
                rank=rank, a=visible(p.a), b=visible(p.b), score=pct(p.score), a_share=pct(p.a_share),
                b_share=pct(p.b_share), n=len(p.regions))))
            if rank <= show:
                for region in p.regions[:5]:
                    lines += region_text(sources[res.exercise], p, region)
                    lines.append("")
        close = sorted(((share, who) for who, share in res.reference.items() if share >= 0.8), reverse=True)
        if close:
            lines.append(text(say("  submissions that are mostly the reference solution (80% or more "
                                  "of their code): {who}",
                                  "  大部分（80% 以上）就是参考答案的提交：{who}",
                                  who=", ".join(f"{visible(w)} ({pct(s)})" for s, w in close))))
        lines.append("")
    return lines


def cmd_similarity(course, args) -> int:
    """The `similarity` subcommand (grader.cli)."""
    import sys
    out = Path(args.outdir)
    if not (out / "graded").is_dir():
        print(text(say("grader: {path} is not the output folder of a batch (no graded/ in it)",
                       "grader：{path} 不是批量评分的输出文件夹（里面没有 graded/）", path=str(out))),
              file=sys.stderr)
        return 2
    ex_ids = args.exercises or batch_exercises(course, out)
    for ex_id in ex_ids:
        course.get(ex_id)
    common = args.common / 100 if args.common is not None else None
    results = analyse(course, out, ex_ids, common=common)
    sources = {ex_id: {s.owner: s for s in exercise_sources(out, ex_id)} for ex_id in ex_ids}
    for line in text_report(results, sources, top=args.top, show=args.show):
        print(line)
    return 0
