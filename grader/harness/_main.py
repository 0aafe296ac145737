"""Runs a student script as __main__, as `python script.py` would (standalone; shared by
_launch.py and _zygote.py so a forked student and a fresh one run their script alike)."""
import sys


def run_main(script: str) -> int:
    """Execute `script` (an absolute path) as a fresh __main__ module. Returns 0, or 1 after
    printing the traceback from the student's own first frame; SystemExit passes through,
    so the interpreter ends the process exactly as it would end `python script.py`."""
    module = type(sys)("__main__")
    module.__file__ = script
    module.__builtins__ = __builtins__
    sys.modules["__main__"] = module
    try:
        with open(script, "rb") as f:
            source = f.read()
        exec(compile(source, script, "exec"), module.__dict__)
    except SystemExit:
        raise
    except BaseException as exc:  # show the student's traceback, not ours
        import traceback
        tb = exc.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename != script:
            tb = tb.tb_next
        traceback.print_exception(type(exc), exc, tb or exc.__traceback__)
        return 1
    return 0
