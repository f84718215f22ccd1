"""The entrypoint's manifest mode: one orchestrator task = one attempt of one step.

``python3 -m flowyml.entrypoint --manifest URI --step NAME --run-id ID --engine-run-id EID``
is what every compiled task runs. It turns the manifest's step into an ordinary
:class:`~flowyml.runtime.tasks.StepTask` (the next attempt number of that step in that run,
inputs resolved from the upstream steps' result records), writes it where executors write theirs
and runs it through :func:`flowyml.runtime.entrypoint.run_task`, so outputs, logs and result
records are the same as on every remote stack. Around that it keeps what an unwatched run needs:
a ``started`` marker (the run is found by ``flowyml runs sync``), the step's cache key and input
refs (``context.json``), the cache index (a later run with the same key reuses the outputs),
and the step timeout (the engine's retries see a failed attempt).

``--finalize`` is the last task of every compiled pipeline (it runs whether steps failed or not):
it writes the run's ``final`` marker. Neither mode touches the metadata store: the recorder
(:mod:`flowyml.runtime.orchestrators.record`) turns these records into runs, wherever it runs.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

from flowyml.core.records import ArtifactRef
from flowyml.runtime.orchestrators.manifest import (
    RunManifest,
    cache_index_key,
    decode_arguments,
    run_id_for,
    run_prefix,
)
from flowyml.runtime.tasks import STORAGE_OPTIONS_ENV, StepResult, StepTask, encode_call

EXIT_COMPLETED, EXIT_FAILED, EXIT_ERROR = 0, 1, 2
CONTEXT_FILE = "context.json"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def _options() -> dict[str, Any]:
    raw = os.environ.get(STORAGE_OPTIONS_ENV)
    return dict(json.loads(raw)) if raw else {}


def read_manifest(uri: str, options: dict[str, Any] | None = None) -> RunManifest:
    """The manifest at ``uri``."""
    import fsspec

    fs, path = fsspec.core.url_to_fs(uri, **(_options() if options is None else options))
    return RunManifest.from_json(fs.cat_file(path))


def children(store: Any, key: str) -> list[str]:
    """Names directly under ``key`` in ``store`` (``[]`` when there is nothing)."""
    fs = store.filesystem
    path = store.uri_of(key)
    try:
        entries = fs.ls(fs._strip_protocol(path), detail=False)
    except (FileNotFoundError, OSError):
        return []
    return sorted(str(entry).rstrip("/").rsplit("/", 1)[-1] for entry in entries)


def attempt_numbers(store: Any, pipeline: str, run_id: str, step: str) -> list[int]:
    """Attempt numbers recorded for ``step`` in ``run_id``, ascending."""
    found = children(store, f"{pipeline}/{run_id}/{step}/_attempts")
    return sorted(int(name) for name in found if name.isdigit())


def read_json(store: Any, key: str) -> dict[str, Any] | None:
    """The JSON object at ``key``, or ``None``."""
    raw = store.get_bytes(store.uri_of(key))
    return None if raw is None else dict(json.loads(raw))


def latest_result(
    store: Any, pipeline: str, run_id: str, step: str
) -> tuple[int, StepResult | None, int]:
    """``(attempts made, result of the newest attempt or None, newest attempt number)``."""
    numbers = attempt_numbers(store, pipeline, run_id, step)
    if not numbers:
        return 0, None, 0
    last = numbers[-1]
    raw = store.get_bytes(store.uri_of(f"{pipeline}/{run_id}/{step}/_attempts/{last}/result.json"))
    return len(numbers), (StepResult.from_json(raw) if raw is not None else None), last


def _upstream_refs(
    store: Any, manifest: RunManifest, run_id: str, step: Any
) -> list[tuple[str, ArtifactRef]]:
    refs = []
    for label, invocation, output in step.inputs:
        _, result, _ = latest_result(store, manifest.pipeline, run_id, invocation)
        if result is None or result.status not in ("completed", "cached"):
            raise RuntimeError(
                f"step '{step.name}' needs output {output!r} of step '{invocation}', which has "
                f"no completed result in run {run_id}"
            )
        refs.append((label, result.outputs[output]))
    return refs


@contextmanager
def _time_limit(seconds: float | None, step: str) -> Iterator[None]:
    """Raise ``TimeoutError`` in the step when it runs over ``seconds`` (main thread only)."""
    if not seconds:
        yield
        return

    def expire(_signum: int, _frame: Any) -> None:
        raise TimeoutError(f"step '{step}' ran over its timeout of {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _mark_started(
    store: Any, manifest: RunManifest, manifest_uri: str, run_id: str, engine: str
) -> None:
    key = f"{run_prefix(manifest.pipeline, run_id)}/started.json"
    if store.has_uri(store.uri_of(key)):
        return
    marker = {
        "run_id": run_id,
        "engine_run_id": engine,
        "manifest": manifest_uri,
        "started_at": _now(),
    }
    store.put_bytes(key, json.dumps(marker, sort_keys=True).encode())


def _cache_key(
    manifest: RunManifest, task: StepTask, step: Any, refs: Sequence[tuple[str, ArtifactRef]]
) -> str | None:
    if not (manifest.enable_cache and step.cache):
        return None
    from flowyml.pipeline.cache import cache_key
    from flowyml.runtime import code_package
    from flowyml.runtime.entrypoint import find_step

    store = _store(manifest)
    code_root = code_package.fetch(task.code_uri, store) if task.code_uri else None
    func = find_step(task, code_root)
    arguments, handles = decode_arguments(step.call)
    hashes = {h: ref.content_hash for h, (_, ref) in zip(handles, refs, strict=True)}
    return str(cache_key(func, arguments, hashes, step.output_names))


def _store(manifest: RunManifest) -> Any:
    from flowyml.runtime.artifacts import FsspecArtifactStore

    return FsspecArtifactStore(manifest.artifact_root, _options())


def _from_cache(store: Any, key: str, output_names: Sequence[str]) -> dict[str, ArtifactRef] | None:
    entry = read_json(store, cache_index_key(key))
    if entry is None or set(entry["outputs"]) != set(output_names):
        return None
    outputs = {name: ArtifactRef(**ref) for name, ref in entry["outputs"].items()}
    return outputs if all(store.exists(ref) for ref in outputs.values()) else None


def run_step(manifest_uri: str, step_name: str, run_id: str, engine_run_id: str) -> int:
    """Run the next attempt of ``step_name`` in the run (module docstring); an exit code."""
    from flowyml.runtime.entrypoint import run_task

    manifest = read_manifest(manifest_uri)
    step = manifest.step(step_name)
    rid = run_id_for(run_id, engine_run_id)
    store = _store(manifest)
    _mark_started(store, manifest, manifest_uri, rid, engine_run_id)
    output_key = f"{manifest.pipeline}/{rid}/{step.name}"
    attempt = (attempt_numbers(store, manifest.pipeline, rid, step.name) or [0])[-1] + 1
    arguments, handles = decode_arguments(step.call)
    try:
        refs = _upstream_refs(store, manifest, rid, step)
    except RuntimeError as exc:
        refused = StepResult(status="failed", error=str(exc), host=socket.gethostname())
        store.put_bytes(f"{output_key}/_attempts/{attempt}/result.json", refused.to_json())
        print(str(exc), file=sys.stderr)
        return EXIT_ERROR
    task = StepTask(
        run_id=rid,
        pipeline=manifest.pipeline,
        step=step.name,
        attempt=attempt,
        artifact_root=manifest.artifact_root,
        code_uri=manifest.code_uri,
        source=step.source,
        module=step.module,
        qualname=step.qualname,
        call=encode_call(
            arguments, tuple((h, ref) for h, (_, ref) in zip(handles, refs, strict=True))
        ),
        output_names=step.output_names,
        output_key=output_key,
    )
    task_uri = store.put_bytes(f"{task.key}/task.json", task.to_json())
    key = _cache_key(manifest, task, step, refs)
    context = {
        "cache_key": key,
        "inputs": {label: ref.__dict__ for label, ref in refs},
        "engine_run_id": engine_run_id,
    }
    store.put_bytes(f"{task.key}/{CONTEXT_FILE}", json.dumps(context, sort_keys=True).encode())
    cached = _from_cache(store, key, step.output_names) if key else None
    if cached is not None:
        hit = StepResult(
            status="cached",
            outputs=cached,
            started_at=_now(),
            ended_at=_now(),
            host=socket.gethostname(),
        )
        store.put_bytes(f"{task.key}/result.json", hit.to_json())
        print(f"step '{step.name}' served from flowyml's cache", file=sys.stderr)
        return EXIT_COMPLETED
    with _time_limit(step.timeout, step.name):
        code = run_task(task_uri)
    raw = store.get_bytes(store.uri_of(f"{task.key}/result.json"))
    done = StepResult.from_json(raw) if raw is not None else None
    if key and done is not None and done.status == "completed":
        entry = {
            "outputs": {n: ref.__dict__ for n, ref in done.outputs.items()},
            "run_id": rid,
            "step": step.name,
        }
        store.put_bytes(cache_index_key(key), json.dumps(entry, sort_keys=True).encode())
    return code


def finalize(manifest_uri: str, run_id: str, engine_run_id: str) -> int:
    """Write the run's ``final`` marker (its steps' records are already in the store)."""
    manifest = read_manifest(manifest_uri)
    rid = run_id_for(run_id, engine_run_id)
    store = _store(manifest)
    _mark_started(store, manifest, manifest_uri, rid, engine_run_id)
    marker = {"run_id": rid, "engine_run_id": engine_run_id, "ended_at": _now()}
    store.put_bytes(
        f"{run_prefix(manifest.pipeline, rid)}/final.json",
        json.dumps(marker, sort_keys=True).encode(),
    )
    return EXIT_COMPLETED


def main(args: Sequence[str]) -> int:
    """Parse the manifest-mode arguments (``--manifest``...) and run; an exit code."""
    import argparse

    parser = argparse.ArgumentParser(prog="python3 -m flowyml.entrypoint")
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--step")
    parser.add_argument("--finalize", action="store_true")
    parser.add_argument("--run-id", default="")
    parser.add_argument("--engine-run-id", default="")
    parsed = parser.parse_args(list(args))
    if not parsed.finalize and not parsed.step:
        parser.error("--step NAME or --finalize is required")
    try:
        if parsed.finalize:
            return finalize(parsed.manifest, parsed.run_id, parsed.engine_run_id)
        return run_step(parsed.manifest, parsed.step, parsed.run_id, parsed.engine_run_id)
    except Exception as exc:
        what = "finalize" if parsed.finalize else f"step {parsed.step}"
        print(
            f"flowyml entrypoint could not run {what} of {parsed.manifest}: "
            f"{type(exc).__name__}: {exc}",
            file=sys.stderr,
        )
        return EXIT_ERROR
