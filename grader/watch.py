"""`grader watch <id>`: check once, then again every time a file of the exercise is saved."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from .i18n import say


def watch(course, ex, target: Path, max_runs: int | None, check: Callable[[], int]) -> int:
    """Run `check` now and after each change in target/<id> (edits settle for 50 ms first).
    `max_runs` bounds the loop (tests and scripts); Ctrl-C ends it otherwise."""
    from watchfiles import watch as changes

    folder = target / ex.id
    if not folder.is_dir():
        print(say("grader: {folder} does not exist", "grader：{folder} 不存在", folder=str(folder)))
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
                    print("\n" + str(say("watching {folder} - save a file to check again (Ctrl-C to stop)",
                                          "正在监视 {folder}：保存文件后会再次检查（按 Ctrl-C 停止）",
                                          folder=str(folder))), flush=True)
                    ready = True
                continue
            names = ", ".join(sorted({Path(p).name for _, p in batch}))
            print("\n" + str(say("{names} changed - checking {id} again",
                                  "{names} 有改动：再次检查 {id}", names=names, id=ex.id)) + "\n", flush=True)
            rc = check()
            runs += 1
            if max_runs is not None and runs >= max_runs:
                break
            print("\n" + str(say("watching {folder} (Ctrl-C to stop)", "正在监视 {folder}（按 Ctrl-C 停止）",
                                  folder=str(folder))), flush=True)
    except KeyboardInterrupt:
        pass
    return rc
