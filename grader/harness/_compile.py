"""Compiles (never runs) the student's files; prints the first syntax error readably.

    python -E -s _compile.py [--lang zh] file.py [...]      (cwd: the target folder)

It imports nothing of the grader, so its two sentences carry their own translation.
"""
import sys

WORDS = {
    "en": ("{name} line {line}: ", "{name}: cannot be read as Python source: {exc}"),
    "zh": ("{name} 第 {line} 行：", "{name}：无法作为 Python 源代码读取：{exc}"),
}


def main() -> None:
    args = sys.argv[1:]
    lang = "en"
    if args[:1] == ["--lang"]:
        lang, args = (args[1] if args[1] in WORDS else "en"), args[2:]
    at_line, unreadable = WORDS[lang]
    for name in args:
        try:
            with open(name, "rb") as f:
                source = f.read()
            compile(source, name, "exec", dont_inherit=True)
        except SyntaxError as exc:
            line = (exc.text or "").rstrip("\n")
            caret = " " * max((exc.offset or 1) - 1 - (len(line) - len(line.lstrip())), 0) + "^"
            print(at_line.format(name=name, line=exc.lineno) + f"{type(exc).__name__}: {exc.msg}")
            if line.strip():
                print(f"    {line.strip()}\n    {caret}")
            sys.exit(1)
        except (ValueError, UnicodeDecodeError) as exc:
            print(unreadable.format(name=name, exc=exc))
            sys.exit(1)


if __name__ == "__main__":
    main()
