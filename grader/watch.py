"""`grader watch <id>`: check once, then again every time a file of the exercise is saved."""
from __future__ import annotations

from pathlib import Path
from typing import Callable


def watch(course, ex, target: Path, max_runs: int | None, check: Callable[[], int]) -> int:
    """Run `check` now and after each change in target/<id> (edits settle for 50 ms first).
    `max_runs` bounds the loop (tests and scripts); Ctrl-C ends it otherwise."""
    from watchfiles import watch as changes

    folder = target / ex.id
    if not folder.is_dir():
        print(f"grader: {folder} does not exist")
        return 2
    runs = 0
    rc = check()
    runs += 1
    if max_runs is not None and runs >= max_runs:
        return rc
    ready = False
    try:
        # yield_on_timeout: the first (empty) yield says the watcher is in place, so a save
        # made right after "watching" is printed is never missed
        for batch in changes(folder, debounce=50, step=20, rust_timeout=250, yield_on_timeout=True,
                             watch_filter=lambda _change, path: path.endswith((".py", ".md", ".json"))
                             and "__pycache__" not in path):
            if not batch:
                if not ready:
                    print(f"\nwatching {folder} - save a file to check again (Ctrl-C to stop)",
                          flush=True)
                    ready = True
                continue
            names = ", ".join(sorted({Path(p).name for _, p in batch}))
            print(f"\n{names} changed - checking {ex.id} again\n", flush=True)
            rc = check()
            runs += 1
            if max_runs is not None and runs >= max_runs:
                break
            print(f"\nwatching {folder} (Ctrl-C to stop)", flush=True)
    except KeyboardInterrupt:
        pass
    return rc
