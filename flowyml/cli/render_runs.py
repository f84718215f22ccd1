"""Text and JSON views of recorded runs, shared by ``flowyml run`` and ``flowyml runs``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from flowyml.core.records import RunRecord, StepRecord, StepStatus


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 1:
        return f"{value * 1000:.0f}ms"
    return f"{value:.2f}s"


def _usd(value: Decimal | None) -> str:
    from flowyml.cost import format_usd

    return format_usd(value)


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [fmt.format(*headers).rstrip()]
    lines += [fmt.format(*row).rstrip() for row in rows]
    return lines


def run_lines(
    run: RunRecord,
    step_costs: Mapping[str, Decimal | None] | None = None,
    *,
    tracebacks: bool = True,
) -> list[str]:
    """The lines of ``runs show``: a header, one row per step, then errors (full tracebacks
    unless ``tracebacks`` is False)."""
    lines = [
        f"Run {run.run_id}  pipeline={run.pipeline}  stack={run.stack or '-'}",
        f"Status: {run.status.value}   started {run.started_at:%Y-%m-%d %H:%M:%S} UTC"
        f"   duration {_seconds(run.duration)}",
    ]
    if run.params:
        lines.append("Params: " + ", ".join(f"{k}={v!r}" for k, v in run.params.items()))
    headers = ["STEP", "STATUS", "DURATION", "CACHED", "ATTEMPTS", "COST", "ERROR", "OUTPUTS"]
    rows = []
    by_name = {step.name: step for step in run.steps}
    for step in run.steps:
        cost = (step_costs or {}).get(step.name)
        outputs = ", ".join(ref.uri for ref in step.outputs.values()) or "-"
        rows.append(
            [
                step.name,
                step.status.value,
                _seconds(step.duration),
                "yes" if step.cached else "no",
                str(step.attempts),
                "-" if step_costs is None else _usd(cost),
                _error_cell(step, by_name),
                outputs,
            ]
        )
    lines.append("")
    lines += _table(headers, rows)
    if step_costs is not None:
        known = [c for c in step_costs.values() if c is not None]
        unknown = len(step_costs) - len(known)
        total = _usd(sum(known, Decimal(0)))
        lines.append("")
        lines.append(
            f"Estimated cost: {total}" + (f" (+{unknown} step(s) not priced)" if unknown else "")
        )
    failed = [s for s in run.steps if s.error]
    for step in failed if tracebacks else []:
        lines.append("")
        lines.append(f"Error in {step.name}:")
        lines += ["  " + line for line in step.error.rstrip().splitlines()] if step.error else []
    if run.error and not failed and tracebacks:
        lines += ["", f"Error: {run.error}"]
    return lines


_ERROR_WIDTH = 60  # characters of an error shown in the table; the full text follows it


def _error_cell(step: StepRecord, by_name: Mapping[str, StepRecord]) -> str:
    """The last line of a step's error, or why it was skipped; ``-`` when neither applies."""
    if step.error and step.error.strip():
        last = step.error.strip().splitlines()[-1]
        return last if len(last) <= _ERROR_WIDTH else last[: _ERROR_WIDTH - 3] + "..."
    if step.status is StepStatus.SKIPPED:
        why = [
            f"{name} {by_name[name].status.value}"
            for name in step.upstream
            if name in by_name and by_name[name].status in (StepStatus.FAILED, StepStatus.SKIPPED)
        ]
        return "upstream " + ", ".join(why) if why else "an upstream step failed"
    return "-"


def failure_line(run: RunRecord) -> str:
    """One line saying why a run did not complete (the last line of the first step error)."""
    for step in run.steps:
        if step.error:
            last = step.error.strip().splitlines()[-1]
            return f"step '{step.name}' failed: {last}"
    return run.error or f"run ended {run.status.value}"


def runs_lines(runs: Sequence[RunRecord], pipeline: str | None = None) -> list[str]:
    """The lines of ``runs list`` (``pipeline``: the filter used, to say what was not found)."""
    if not runs and pipeline:
        return [f"No runs of pipeline {pipeline!r} recorded. `flowyml runs list` shows them all."]
    if not runs:
        return ["No runs recorded yet. Run one with `flowyml run FILE`."]
    rows = [
        [
            r.run_id[:12],
            r.pipeline,
            r.status.value,
            f"{r.started_at:%Y-%m-%d %H:%M:%S}",
            _seconds(r.duration),
            r.stack or "-",
        ]
        for r in runs
    ]
    return _table(["RUN", "PIPELINE", "STATUS", "STARTED (UTC)", "DURATION", "STACK"], rows)


def _step_dict(step: StepRecord, cost: Decimal | None, priced: bool) -> dict[str, Any]:
    return {
        "name": step.name,
        "status": step.status.value,
        "started_at": step.started_at,
        "ended_at": step.ended_at,
        "duration_seconds": step.duration,
        "cached": step.cached,
        "cache_key": step.cache_key,
        "attempts": step.attempts,
        "stack": step.stack,
        "resources": dict(step.resources) if step.resources else None,
        "upstream": list(step.upstream),
        "outputs": {k: _ref_dict(v) for k, v in step.outputs.items()},
        "inputs": {k: _ref_dict(v) for k, v in step.inputs.items()},
        "error": step.error,
        "estimated_cost_usd": None if cost is None else str(cost),
        "priced": priced,
    }


def _ref_dict(ref: Any) -> dict[str, Any]:
    return {
        "uri": ref.uri,
        "type": ref.type_name,
        "materializer": ref.materializer,
        "size": ref.size,
        "hash": ref.content_hash,
    }


def run_dict(
    run: RunRecord, step_costs: Mapping[str, Decimal | None] | None = None
) -> dict[str, Any]:
    """JSON form of one run (``runs show --json``)."""
    costs = step_costs or {}
    known = [c for c in costs.values() if c is not None]
    return {
        **run_summary_dict(run),
        "params": dict(run.params),
        "error": run.error,
        "estimated_cost_usd": str(sum(known, Decimal(0))) if step_costs is not None else None,
        "steps": [
            _step_dict(s, costs.get(s.name), costs.get(s.name) is not None) for s in run.steps
        ],
    }


def run_summary_dict(run: RunRecord) -> dict[str, Any]:
    """JSON form of one row of ``runs list --json``."""
    return {
        "run_id": run.run_id,
        "pipeline": run.pipeline,
        "status": run.status.value,
        "stack": run.stack,
        "started_at": run.started_at,
        "ended_at": run.ended_at,
        "duration_seconds": run.duration,
    }
