"""Compiles (never runs) the student's files; prints the first syntax error readably.

    python -E -s _compile.py file.py [...]      (cwd: the target folder)
"""
import sys


def main() -> None:
    for name in sys.argv[1:]:
        try:
            with open(name, "rb") as f:
                source = f.read()
            compile(source, name, "exec", dont_inherit=True)
        except SyntaxError as exc:
            line = (exc.text or "").rstrip("\n")
            caret = " " * max((exc.offset or 1) - 1 - (len(line) - len(line.lstrip())), 0) + "^"
            print(f"{name} line {exc.lineno}: {type(exc).__name__}: {exc.msg}")
            if line.strip():
                print(f"    {line.strip()}\n    {caret}")
            sys.exit(1)
        except (ValueError, UnicodeDecodeError) as exc:
            print(f"{name}: cannot be read as Python source: {exc}")
            sys.exit(1)


if __name__ == "__main__":
    main()
