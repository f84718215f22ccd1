"""The API's views of runs: list rows, one run with its graph, one step in full, two runs compared.

The run and step fields are those of ``flowyml runs show --json``
(:func:`flowyml.cli.render_runs.run_dict`), plus what a page needs: artifact ids for previews and
downloads, where each step ran (stack, executor, details), whether it has a captured log, and
the graph (nodes = steps, edges = data dependencies from ``upstream``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from flowyml.cli.render_runs import run_dict, run_summary_dict
from flowyml.core.records import RunRecord, StepRecord
from flowyml.ui import queries
from flowyml.ui.errors import CompareError
from flowyml.ui.previews import preview, ref_dict
from flowyml.ui.source import Source, total_cost


def _cost_fields(costs: Mapping[str, Decimal | None]) -> dict[str, Any]:
    total, unpriced = total_cost(dict(costs))
    return {"estimated_cost_usd": str(total), "unpriced_steps": unpriced}


def run_rows(source: Source, filters: queries.RunFilter, limit: int, offset: int) -> dict[str, Any]:
    """``GET /api/runs``: a page of runs with their step counts and cost."""
    store = source.metadata
    if store is None:
        return {
            "runs": [],
            "total": 0,
            "limit": limit,
            "offset": offset,
            "choices": {"pipelines": [], "stacks": [], "statuses": []},
        }
    page = queries.runs_page(store.engine, filters, limit=limit, offset=offset)
    steps = queries.steps_of(store.engine, [r.run_id for r in page.runs])
    stack_for = source.stack_resolver()
    rows = []
    for run in page.runs:
        own = steps.get(run.run_id, [])
        rows.append(
            {
                **run_summary_dict(run),
                "params": dict(run.params),
                "steps": dict(Counter(s.status.value for s in own)),
                **_cost_fields(source.step_costs(own, stack_for)),
            }
        )
    return {
        "runs": rows,
        "total": page.total,
        "limit": page.limit,
        "offset": page.offset,
        "choices": queries.filter_choices(store.engine),
    }


def _where(step: StepRecord, stack_for: Callable[[str | None], Any | None]) -> str | None:
    recorded = getattr(step, "executor", None)
    if recorded:
        return str(recorded)
    declared = stack_for(step.stack)
    executor = getattr(declared, "executor", None)
    return None if executor is None else str(getattr(executor, "kind", None))


def graph(run: RunRecord) -> dict[str, Any]:
    """Nodes (steps with status) and edges (``upstream`` -> step) of ``run``'s DAG."""
    names = {s.name for s in run.steps}
    return {
        "nodes": [
            {
                "id": s.name,
                "status": s.status.value,
                "cached": s.cached,
                "duration_seconds": s.duration,
            }
            for s in run.steps
        ],
        "edges": [
            {"source": up, "target": s.name} for s in run.steps for up in s.upstream if up in names
        ],
    }


def run_view(source: Source, run_id: str) -> dict[str, Any]:
    """``GET /api/runs/{id}``: the run, its steps and its graph."""
    store = source.metadata
    if store is None:
        from flowyml.runtime.errors import RunNotFoundError

        raise RunNotFoundError(f"no run with id {run_id!r}: no runs are recorded yet.")
    run = store.get_run(run_id)
    stack_for = source.stack_resolver()
    costs = source.step_costs(run.steps, stack_for)
    data = run_dict(run, costs)
    data.update(_cost_fields(costs))
    by_name = {s.name: s for s in run.steps}
    for step in data["steps"]:
        record = by_name[step["name"]]
        step["outputs"] = {k: ref_dict(v) for k, v in record.outputs.items()}
        step["inputs"] = {k: ref_dict(v) for k, v in record.inputs.items()}
        step["executor"] = _where(record, stack_for)
        step["details"] = dict(getattr(record, "details", None) or {})
        step["has_log"] = bool(getattr(record, "log_uri", None))
    data["graph"] = graph(run)
    return data


def _step(source: Source, run_id: str, name: str) -> StepRecord:
    run = run_view_record(source, run_id)
    for step in run.steps:
        if step.name == name:
            return step
    from flowyml.runtime.errors import RunNotFoundError

    raise RunNotFoundError(
        f"run {run.run_id} has no step {name!r}.",
        hint="the run page lists its steps",
    )


def run_view_record(source: Source, run_id: str) -> RunRecord:
    """The run record (``RunNotFoundError`` when there is none)."""
    store = source.metadata
    if store is None:
        from flowyml.runtime.errors import RunNotFoundError

        raise RunNotFoundError(f"no run with id {run_id!r}: no runs are recorded yet.")
    run: RunRecord = store.get_run(run_id)
    return run


def step_view(source: Source, run_id: str, name: str) -> dict[str, Any]:
    """``GET /api/runs/{id}/steps/{name}``: one step with previews of its inputs and outputs."""
    step = _step(source, run_id, name)
    artifacts = source.artifacts
    out: dict[str, Any] = {"run_id": step.run_id, "name": step.name}
    for side, refs in (("outputs", step.outputs), ("inputs", step.inputs)):
        out[side] = {k: {**ref_dict(v), "preview": preview(artifacts, v)} for k, v in refs.items()}
    return out


def step_log(source: Source, run_id: str, name: str) -> dict[str, Any]:
    """``GET /api/runs/{id}/steps/{name}/logs``: the tail of the step's captured output."""
    from flowyml.ui.previews import log_tail

    step = _step(source, run_id, name)
    uri = getattr(step, "log_uri", None)
    if not uri:
        return {"uri": None, "text": None, "note": "no output was captured for this step"}
    return log_tail(source.artifacts, str(uri))


def compare(source: Source, first: str, second: str) -> dict[str, Any]:
    """``GET /api/compare?a=&b=``: two runs of one pipeline side by side."""
    a, b = run_view(source, first), run_view(source, second)
    if a["pipeline"] != b["pipeline"]:
        raise CompareError(
            f"runs {a['run_id'][:12]} ({a['pipeline']}) and {b['run_id'][:12]} ({b['pipeline']}) "
            "are of different pipelines.",
            hint="pick two runs of the same pipeline",
        )
    keys = sorted({*a["params"], *b["params"]})
    params = [
        {
            "name": k,
            "a": a["params"].get(k),
            "b": b["params"].get(k),
            "same": a["params"].get(k) == b["params"].get(k),
        }
        for k in keys
    ]
    a_steps = {s["name"]: s for s in a["steps"]}
    b_steps = {s["name"]: s for s in b["steps"]}
    steps = []
    for name in [*a_steps, *(n for n in b_steps if n not in a_steps)]:
        sa_, sb = a_steps.get(name), b_steps.get(name)
        outputs = sorted({*(sa_ or {}).get("outputs", {}), *(sb or {}).get("outputs", {})})
        steps.append(
            {
                "name": name,
                "a": _side(sa_),
                "b": _side(sb),
                "outputs": [
                    {
                        "name": o,
                        "a": (sa_ or {}).get("outputs", {}).get(o),
                        "b": (sb or {}).get("outputs", {}).get(o),
                        "same": _hash(sa_, o) is not None and _hash(sa_, o) == _hash(sb, o),
                    }
                    for o in outputs
                ],
            }
        )
    return {
        "pipeline": a["pipeline"],
        "a": _summary(a),
        "b": _summary(b),
        "params": params,
        "steps": steps,
    }


def _hash(step: Mapping[str, Any] | None, output: str) -> str | None:
    ref = (step or {}).get("outputs", {}).get(output)
    return None if ref is None else str(ref["hash"])


def _side(step: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if step is None:
        return None
    keys = ("status", "duration_seconds", "cached", "estimated_cost_usd", "attempts")
    return {k: step.get(k) for k in keys}


def _summary(run: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("run_id", "status", "stack", "started_at", "duration_seconds", "estimated_cost_usd")
    return {k: run.get(k) for k in keys}


__all__ = ["compare", "graph", "run_rows", "run_view", "step_log", "step_view"]
