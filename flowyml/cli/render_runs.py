"""Text and JSON views of recorded runs, shared by ``flowyml run`` and ``flowyml runs``.

Text views fit the terminal (:mod:`flowyml.cli.term`): the flexible columns (errors, outputs,
parameters) are shortened first. Output values come in as ready-made inline texts (see
:mod:`flowyml.cli.previews`); these functions never load anything.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from flowyml.cli import term
from flowyml.core.records import RunRecord, StepRecord, StepStatus

_INTERNAL_ERROR = re.compile(r"^flowyml(?:\.\w+)+\.(\w+): ")


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 1:
        return f"{value * 1000:.0f}ms"
    return f"{value:.2f}s"


def _usd(value: Decimal | None) -> str:
    from flowyml.cost import format_usd

    return format_usd(value)


def clean_error(line: str) -> str:
    """An error line without flowyml's internal class path (``flowyml.x.y.SomeError: msg`` ->
    ``msg``); a user's exception keeps its name (``ValueError: msg``)."""
    return _INTERNAL_ERROR.sub("", line.strip(), count=1)


def output_cell(step: StepRecord, inline: Mapping[str, str] | None) -> str:
    """The OUTPUTS cell: each output's inline text (``name: text`` when there are several)."""
    if not step.outputs:
        return "-"
    texts = dict(inline or {})
    if len(step.outputs) == 1:
        name = next(iter(step.outputs))
        return texts.get(name, name)
    return "; ".join(f"{name}: {texts.get(name, '…')}" for name in step.outputs)


def run_lines(
    run: RunRecord,
    step_costs: Mapping[str, Decimal | None] | None = None,
    *,
    tracebacks: bool = True,
    inline: Mapping[str, Mapping[str, str]] | None = None,
    artifacts: Sequence[tuple[str, str, str]] = (),
    store_root: str | None = None,
    heads: Sequence[tuple[str, Sequence[str]]] = (),
    hints: Sequence[str] = (),
) -> list[str]:
    """The lines of ``runs show``: a header, one row per step, then errors (full tracebacks
    unless ``tracebacks`` is False).

    Args:
        run: The run with its steps.
        step_costs: Step name -> estimated cost (``None``: not priced).
        tracebacks: Print each failed step's traceback after the table.
        inline: Step name -> output name -> inline text of the value.
        artifacts: ``(step.output, what, location)`` rows listed under the table.
        store_root: The artifact store the locations are relative to.
        heads: ``(title, lines)`` of DataFrame heads shown after the artifacts.
        hints: Lines printed last (commands to look further).
    """
    lines = [
        f"Run {run.run_id}  pipeline={run.pipeline}  stack={run.stack or '-'}",
        f"Status: {run.status.value}   started {run.started_at:%Y-%m-%d %H:%M:%S} UTC"
        f"   duration {_seconds(run.duration)}",
    ]
    if run.params:
        lines.append("Params: " + ", ".join(f"{k}={v!r}" for k, v in run.params.items()))
    headers = ["STEP", "STATUS", "DURATION", "CACHED", "ATTEMPTS", "COST", "ERROR", "OUTPUTS"]
    executors = [getattr(step, "executor", None) for step in run.steps]
    where = any(e and e != "local" for e in executors)
    if where:
        headers.insert(5, "WHERE")
    rows = []
    by_name = {step.name: step for step in run.steps}
    for step, executor in zip(run.steps, executors, strict=True):
        cost = (step_costs or {}).get(step.name)
        row = [
            step.name,
            step.status.value,
            _seconds(step.duration),
            "yes" if step.cached else "no",
            str(step.attempts),
            "-" if step_costs is None else _usd(cost),
            _error_cell(step, by_name),
            output_cell(step, (inline or {}).get(step.name)),
        ]
        if where:
            row.insert(5, executor or "-")
        rows.append(row)
    if all(row[-2] == "-" for row in rows):  # no errors: give the width to the outputs
        headers.pop(-2)
        rows = [row[:-2] + row[-1:] for row in rows]
    lines.append("")
    error_col, output_col = len(headers) - 2, len(headers) - 1
    lines += term.table(
        headers,
        rows,
        flexible={error_col: 12, output_col: 16} if "ERROR" in headers else {output_col: 16},
        styles={1: term.status_style},
    )
    if step_costs is not None:
        known = [c for c in step_costs.values() if c is not None]
        unknown = len(step_costs) - len(known)
        total = _usd(sum(known, Decimal(0)))
        lines.append("")
        lines.append(
            f"Estimated cost: {total}" + (f" (+{unknown} step(s) not priced)" if unknown else "")
        )
    if artifacts:
        lines.append("")
        lines.append(f"Artifacts (in {store_root}):" if store_root else "Artifacts:")
        lines += [
            "  " + line
            for line in term.table(
                ["OUTPUT", "TYPE, SIZE", "LOCATION"],
                [list(row) for row in artifacts],
                flexible={2: 20},
                max_width=term.width() - 2,
            )
        ]
    for title, head in heads:
        lines += ["", f"{title}, first rows:", *("  " + line for line in head)]
    failed = [s for s in run.steps if s.error]
    for step in failed if tracebacks else []:
        lines.append("")
        lines.append(f"Error in {step.name}:")
        lines += ["  " + line for line in step.error.rstrip().splitlines()] if step.error else []
    if run.error and not failed and tracebacks:
        lines += ["", f"Error: {clean_error(run.error)}"]
    if hints:
        lines += ["", *hints]
    return lines


_ERROR_WIDTH = 60  # characters of an error shown in the table; the full text follows it


def _error_cell(step: StepRecord, by_name: Mapping[str, StepRecord]) -> str:
    """The last line of a step's error, or why it was skipped; ``-`` when neither applies."""
    if step.error and step.error.strip():
        return term.shorten(clean_error(step.error.strip().splitlines()[-1]), _ERROR_WIDTH)
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
            last = clean_error(step.error.strip().splitlines()[-1])
            return f"step '{step.name}' failed: {last}"
    return clean_error(run.error) if run.error else f"run ended {run.status.value}"


def runs_lines(runs: Sequence[RunRecord], pipeline: str | None = None) -> list[str]:
    """The lines of ``runs list`` (``pipeline``: the filter used, to say what was not found)."""
    if not runs and pipeline:
        return [f"No runs of pipeline {pipeline!r} recorded. `flowyml runs list` shows them all."]
    if not runs:
        return ["No runs recorded yet. Run one with `flowyml run FILE`."]
    narrow = term.width() < 100
    rows = [
        [
            r.run_id[:12],
            r.pipeline,
            r.status.value,
            f"{r.started_at:%m-%d %H:%M}" if narrow else f"{r.started_at:%Y-%m-%d %H:%M:%S}",
            _seconds(r.duration),
            r.stack or "-",
            params_text(r.params),
        ]
        for r in runs
    ]
    headers = ["RUN", "PIPELINE", "STATUS", "STARTED (UTC)", "DURATION", "STACK", "PARAMS"]
    return term.table(headers, rows, flexible={1: 10, 5: 8, 6: 10}, styles={2: term.status_style})


def params_text(params: Mapping[str, Any]) -> str:
    """``epochs=5 lr=0.1`` (``-`` when there are none)."""
    from flowyml.cli.previews import scalar

    return " ".join(f"{k}={scalar(v)}" for k, v in params.items()) or "-"


def compare_lines(
    runs: Sequence[RunRecord],
    costs: Sequence[Mapping[str, Decimal | None]],
    metrics: Sequence[Mapping[str, Any]],
) -> list[str]:
    """``runs compare``: one column per run; parameters, metrics, durations and cost as rows.

    Rows whose values differ between the runs are marked with ``*``.
    """
    from flowyml.cli.previews import scalar

    def row(label: str, values: Sequence[str]) -> list[str]:
        mark = "*" if len(set(values)) > 1 else " "
        return [f"{mark} {label}", *values]

    rows = [
        row("pipeline", [r.pipeline for r in runs]),
        row("status", [r.status.value for r in runs]),
        row("stack", [r.stack or "-" for r in runs]),
        row("started (UTC)", [f"{r.started_at:%m-%d %H:%M:%S}" for r in runs]),
        row("duration", [_seconds(r.duration) for r in runs]),
        row("cost", [_usd(_total(c)) for c in costs]),
    ]
    names = list(dict.fromkeys(k for r in runs for k in r.params))
    rows += [
        row(f"param {k}", [scalar(r.params[k]) if k in r.params else "-" for r in runs])
        for k in names
    ]
    metric_names = list(dict.fromkeys(k for m in metrics for k in m))
    rows += [
        row(f"metric {k}", [scalar(m[k]) if k in m else "-" for m in metrics]) for k in metric_names
    ]
    steps = list(dict.fromkeys(s.name for r in runs for s in r.steps))
    for name in steps:
        found = [next((s for s in r.steps if s.name == name), None) for r in runs]
        rows.append(
            row(
                f"step {name}",
                [
                    "-"
                    if s is None
                    else ("cached" if s.cached else f"{_seconds(s.duration)} {s.status.value}")
                    for s in found
                ],
            )
        )
    headers = ["", *[r.run_id[:12] for r in runs]]
    lines = term.table(headers, rows, flexible={0: 14, **{i + 1: 8 for i in range(len(runs))}})
    lines += ["", "* differs between the runs"]
    return lines


def _total(costs: Mapping[str, Decimal | None]) -> Decimal | None:
    known = [c for c in costs.values() if c is not None]
    return sum(known, Decimal(0)) if known or not costs else None


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
        "executor": getattr(step, "executor", None),
        "log_uri": getattr(step, "log_uri", None),
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
        "params": dict(run.params),
    }
