"""The step entrypoint: ``python -m flowyml.entrypoint TASK_URI``, run wherever a step runs.

It reads the :class:`~flowyml.runtime.tasks.StepTask` at ``TASK_URI``, fetches the code
package, imports the step (module-level ``pipeline.run()`` calls are suppressed), loads the
step's inputs from the artifact store by reference, calls it while capturing what it prints
(passed through to this process's stdout/stderr, which the executor streams), saves its outputs
and log, and writes the :class:`~flowyml.runtime.tasks.StepResult` next to the task. It needs
artifact-store access only, never database credentials, and imports no database driver.

An orchestrator's tasks call it as ``python -m flowyml.entrypoint --manifest URI --step NAME
--run-id ID --engine-run-id EID`` (or ``--finalize``): see :mod:`flowyml.runtime.orchestrators.tasks`.

Exit codes: 0 the step completed; 1 the step failed (its traceback is in the result); 2 the
entrypoint could not run the step at all (bad task, store unreachable): its reason is on stderr
and, when the store is reachable, in a result record too.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import inspect
import json
import os
import socket
import sys
import time
import traceback
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType
from typing import Any

from flowyml.runtime.tasks import STORAGE_OPTIONS_ENV, StepResult, StepTask

_T0 = time.monotonic()
EXIT_COMPLETED, EXIT_FAILED, EXIT_ERROR = 0, 1, 2


def _process_age() -> float:
    """Seconds since this process started (Linux: from /proc; else since this module loaded)."""
    try:
        with open("/proc/self/stat", encoding="ascii") as handle:
            start_ticks = int(handle.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime", encoding="ascii") as handle:
            uptime = float(handle.read().split()[0])
        return max(0.0, uptime - start_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return time.monotonic() - _T0


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def _options() -> dict[str, Any]:
    raw = os.environ.get(STORAGE_OPTIONS_ENV)
    return dict(json.loads(raw)) if raw else {}


def _store(root: str) -> Any:
    from flowyml.runtime.artifacts import FsspecArtifactStore

    return FsspecArtifactStore(root, _options())


def _read_task(uri: str) -> StepTask:
    import fsspec

    fs, path = fsspec.core.url_to_fs(uri, **_options())
    return StepTask.from_json(fs.cat_file(path))


def _load_source(root: Path, task: StepTask) -> ModuleType:
    from flowyml.core.launcher import RunSuppressed, runs_suppressed

    path = root / task.source
    folder = str(path.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    if str(root) not in sys.path:
        sys.path.insert(1, str(root))
    # Registered under the driver's module name, so pickles naming its classes resolve here.
    spec = importlib.util.spec_from_file_location(task.module, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {task.source} from the code package")
    module = importlib.util.module_from_spec(spec)
    sys.modules[task.module] = module
    # A module-level pipeline.run() stops the import there: everything above it is defined.
    with runs_suppressed(), contextlib.suppress(RunSuppressed):
        spec.loader.exec_module(module)
    return module


def _find_step(task: StepTask, code_root: Path | None) -> Any:
    from flowyml.core.launcher import RunSuppressed, runs_suppressed

    if task.source and code_root is not None:
        module = _load_source(code_root, task)
    else:
        if code_root is not None and str(code_root) not in sys.path:
            sys.path.insert(0, str(code_root))
        with runs_suppressed():
            try:
                module = importlib.import_module(task.module)
            except RunSuppressed:
                module = sys.modules[task.module]
    obj: Any = module
    for part in task.qualname.split("."):
        obj = getattr(obj, part)
    return getattr(obj, "func", obj)  # a Step wraps the function


def find_step(task: StepTask, code_root: Path | None) -> Any:
    """The step function ``task`` names, imported from ``code_root`` (or by module name)."""
    return _find_step(task, code_root)


def run_task(task_uri: str) -> int:
    """Run the task at ``task_uri``; returns the process exit code (module docstring)."""
    from flowyml.pipeline.dag import substitute
    from flowyml.pipeline.executors import format_step_error
    from flowyml.pipeline.outputs import split_outputs
    from flowyml.runtime import code_package
    from flowyml.runtime.executors.capture import captured
    from flowyml.runtime.tasks import decode_call

    task = _read_task(task_uri)
    store = _store(task.artifact_root)
    code_root = code_package.fetch(task.code_uri, store) if task.code_uri else None
    func = _find_step(task, code_root)
    arguments, inputs = decode_call(task.call)
    resolved = {handle: store.load(ref) for handle, ref in inputs}
    values = {name: substitute(v, resolved) for name, v in arguments.items()}
    bound = inspect.BoundArguments(inspect.signature(func), values)  # type: ignore[arg-type]
    startup = _process_age()
    started = _now()
    error: str | None = None
    refs: dict[str, Any] = {}
    with captured() as chunks:
        try:
            value = func(*bound.args, **bound.kwargs)
        except Exception as exc:
            error = format_step_error(exc)
            traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
            value = None
    ended = _now()
    if error is None:
        try:
            parts = split_outputs(task.step, task.output_names, value)
            for name, part in zip(task.output_names, parts, strict=True):
                refs[name] = store.save(part, f"{task.output_key}/{name}")
        except Exception:
            error = traceback.format_exc()
            print(error, file=sys.stderr)
    log_uri = store.put_bytes(f"{task.key}/log.txt", "".join(chunks).encode("utf-8"))
    result = StepResult(
        status="failed" if error else "completed",
        outputs=refs if error is None else {},
        error=error,
        started_at=started,
        ended_at=ended,
        log_uri=log_uri,
        host=socket.gethostname(),
        startup_s=round(startup, 4),
    )
    store.put_bytes(f"{task.key}/result.json", result.to_json())
    return EXIT_FAILED if error else EXIT_COMPLETED


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m flowyml.entrypoint TASK_URI``, or ``--manifest URI ...`` (an orchestrator's task)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "--manifest":  # an orchestrator's task (see orchestrators.tasks)
        from flowyml.runtime.orchestrators.tasks import main as manifest_main

        return manifest_main(args)
    if len(args) != 1 or args[0].startswith("-"):
        print("usage: python -m flowyml.entrypoint TASK_URI", file=sys.stderr)
        return EXIT_ERROR
    try:
        return run_task(args[0])
    except Exception as exc:
        reason = f"flowyml entrypoint could not run task {args[0]}: {type(exc).__name__}: {exc}"
        print(reason, file=sys.stderr)
        _record_crash(args[0], reason + "\n" + traceback.format_exc())
        return EXIT_ERROR


def _record_crash(task_uri: str, reason: str) -> None:
    """Best effort: a result saying why the step never ran, next to the task."""
    try:
        import fsspec

        fs, path = fsspec.core.url_to_fs(task_uri, **_options())
        result = StepResult(status="failed", error=reason, host=socket.gethostname())
        fs.pipe_file(path.rsplit("/", 1)[0] + "/result.json", result.to_json())
    except Exception:
        pass  # the reason is on stderr, which the executor keeps
