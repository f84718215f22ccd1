"""A pipeline run in a child process by the reliability tests (not collected by pytest).

Usage: python proc_pipeline.py MODE ARTIFACT_DIR METADATA_DB [MARKER]
  MODE ``chain``: a 40-step chain with caching off.
  MODE ``hang``: one step that touches MARKER and then sleeps 3 s (to be interrupted).
  MODE ``interrupted``: runs a 40-step chain again and again, each KeyboardInterrupt ending one
  run, until the file MARKER/stop exists; touches MARKER/started after the first run.
  MODE ``timeout``: one thread step over its 0.3 s timeout that would otherwise sleep 600 s.
  MODE ``hang-procs``: two steps in child processes (``use_processes=True``), each writing
  its pid to ``MARKER/pid-<pid>`` and then sleeping 600 s (only an interrupt ends them).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from flowyml import Pipeline, step
from flowyml.pipeline.runner import run_pipeline
from flowyml.runtime.binding import bind_stack
from flowyml.stacks import LocalStack


@step
def start(tag: str) -> list[str]:
    return [tag]


@step
def extend(xs: list[str], i: int) -> list[str]:
    return [*xs, str(i)]


@step
def hang(marker: str) -> str:
    Path(marker).write_text("started")
    time.sleep(3)
    return "done"


@step
def hang_in_child(folder: str, index: int) -> int:
    Path(folder, f"pid-{os.getpid()}").write_text(str(index))
    time.sleep(600)
    return index


@step(timeout=0.3)
def never_returns() -> int:
    time.sleep(600)
    return 0


def main() -> None:
    mode, artifacts, db = sys.argv[1:4]
    stack = bind_stack(LocalStack(name="shared", artifact_path=artifacts, metadata_path=db))
    procs = mode == "hang-procs"
    with Pipeline(mode, enable_cache=False, use_processes=procs, max_workers=2) as p:
        if procs:
            for i in range(2):
                hang_in_child(sys.argv[4], i)
        elif mode == "timeout":
            never_returns()
        elif mode in ("chain", "interrupted"):
            xs = start(str(Path(artifacts).name))
            for i in range(39):
                xs = extend(xs, i)
        else:
            start(hang(sys.argv[4]))
    if mode == "interrupted":
        _run_until_stopped(p, stack, Path(sys.argv[4]))
        return
    result = run_pipeline(p, stack)
    print(result.run_id, result.status)


def _run_until_stopped(p: Pipeline, stack: object, folder: Path) -> None:
    counts = {"runs": 0, "interrupted": 0}

    def loop() -> None:
        while not (folder / "stop").exists():
            run_pipeline(p, stack)  # type: ignore[arg-type]
            counts["runs"] += 1
            (folder / "started").touch()

    done = False
    while not done:
        # An interrupt may land anywhere, not only inside a run: the loop's own bookkeeping
        # sits inside this try too, so only these few lines are outside it.
        try:
            loop()
            done = True
        except KeyboardInterrupt:
            counts["interrupted"] += 1
    print(counts["runs"], counts["interrupted"])


if __name__ == "__main__":
    main()
