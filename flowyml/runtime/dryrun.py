"""``flowyml run FILE --stack NAME --dry-run``: what a run would submit, and what it would cost.

Builds nothing and submits nothing: for each step it gives the submission the executor would
make (the Kubernetes Job manifest, the Vertex AI CustomJob request, the container, or "this
process"), the image it would build or reuse (its planned content-hash tag), and an estimate
of its cost: the step's hourly price (:mod:`flowyml.cost`, by its executor's price rule) times
the mean duration of its last completed runs in this pipeline's history, or "no history".

The same checks as a real run refuse what cannot run (an executor without runtime, a GPU on the
wrong machine family, a cluster without GPU pool), in one line, before anything is printed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

__all__ = ["DryRun", "StepPlan", "dry_run", "render_dry_run"]

HISTORY_RUNS = 5
"""How many earlier completed runs of the pipeline the duration estimate averages."""
DRY_RUN_ID = "dry-run"


@dataclass(frozen=True)
class StepPlan:
    """One step of a dry run.

    Attributes:
        name: The invocation.
        stack: The stack it runs on.
        executor: The executor kind.
        submission: What would be submitted (a Job manifest, a CustomJob request...).
        hourly: USD per hour on that executor (``None``: not priced).
        seconds: Mean duration of earlier runs (``None``: no history).
        cost: ``hourly x seconds`` (``None`` when either is unknown).
        note: Why it is not priced, or has no history.
    """

    name: str
    stack: str
    executor: str
    submission: Mapping[str, Any]
    hourly: Decimal | None
    seconds: float | None
    cost: Decimal | None
    note: str = ""


@dataclass(frozen=True)
class DryRun:
    """A whole dry run: images per stack, steps, and the estimated total."""

    pipeline: str
    images: Mapping[str, Mapping[str, Any]]
    steps: Sequence[StepPlan]
    notes: Sequence[str] = field(default_factory=tuple)

    @property
    def total(self) -> Decimal:
        """Sum of the steps whose cost is known."""
        return sum((s.cost for s in self.steps if s.cost is not None), Decimal(0))

    @property
    def complete(self) -> bool:
        """Every step's cost is known."""
        return all(s.cost is not None for s in self.steps)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (money as strings, unknown as ``null``)."""
        return {
            "pipeline": self.pipeline,
            "images": {k: dict(v) for k, v in self.images.items()},
            "steps": [
                {
                    "name": s.name,
                    "stack": s.stack,
                    "executor": s.executor,
                    "submission": s.submission,
                    "hourly_usd": None if s.hourly is None else str(s.hourly),
                    "estimated_seconds": s.seconds,
                    "estimated_cost_usd": None if s.cost is None else str(s.cost),
                    "note": s.note,
                }
                for s in self.steps
            ],
            "estimated_total_usd": str(self.total),
            "total_complete": self.complete,
        }


def _history(store: Any, pipeline: str) -> dict[str, list[float]]:
    """Step name -> durations of its completed (not cached) runs, newest first."""
    from flowyml.core.records import RunStatus, StepStatus

    found: dict[str, list[float]] = {}
    taken = 0
    for run in store.list_runs(pipeline=pipeline, limit=50):
        if run.status is not RunStatus.COMPLETED or taken >= HISTORY_RUNS:
            continue
        taken += 1
        for step in store.get_run(run.run_id).steps:
            if step.status is StepStatus.COMPLETED and not step.cached and step.duration:
                found.setdefault(step.name, []).append(step.duration)
    return found


def _planned_submission(bound: Any, steps: Sequence[Any]) -> tuple[Any, dict[str, Any]]:
    """``bound`` with the submission it would get (image planned, code package hashed)."""
    from flowyml.core.paths import project_dir
    from flowyml.runtime import code_package
    from flowyml.runtime.images.for_stack import stack_image
    from flowyml.runtime.submission import Submission, code_root_for, locate_step

    root = code_root_for(steps)
    for step in steps:
        locate_step(step, root)
    package = code_package.pack(root)
    planned = stack_image(bound.declaration, project_dir=project_dir(), build=False)
    assert planned.plan is not None  # remote stacks always plan an image
    submission = Submission(
        image=planned.plan.reference,
        code_uri=bound.artifact_store.uri_of(package.key),
        code_root=root,
        environment=dict(planned.plan.env),
    )
    image = planned.to_dict() | {"code_package": submission.code_uri, "files": package.files}
    return bound.with_submission(submission), image


def _submission(bound: Any, attempt: Any) -> dict[str, Any]:
    kind = bound.executor_kind
    if not bound.remote:
        return {"runs": "in this process (local executor)"}
    from flowyml.runtime.tasks import attempt_key

    task_uri = bound.artifact_store.uri_of(f"{attempt_key(attempt.output_key, 1)}/task.json")
    image = bound.submission.image
    if kind == "kubernetes":
        from flowyml.runtime.executors.kubernetes import job_for

        return {"kubernetes_job": job_for(bound, attempt, task_uri, image=image)}
    if kind == "vertex_ai":
        from flowyml.runtime.executors.vertex import request_for, vertex_target
        from flowyml.runtime.executors.vertex_request import job_dict

        target = vertex_target(bound)
        return {
            "vertex_custom_job": {
                "parent": f"projects/{target.project}/locations/{target.region}",
                "custom_job": job_dict(request_for(bound, attempt, task_uri, image=image)),
            }
        }
    from flowyml.runtime.executors.remote import ENTRYPOINT

    return {"container": {"image": image, "command": [*ENTRYPOINT, task_uri]}}


def _price(bound: Any, resources: Mapping[str, Any] | None) -> tuple[Decimal | None, str]:
    from flowyml.cost import hourly_price
    from flowyml.cost.runcost import node_pools, node_share_hourly, price_rule

    stack = bound.declaration
    region = getattr(stack, "region", None) or getattr(bound.executor, "region", None)
    rule = price_rule(bound.executor_kind)
    if rule == "free":
        return Decimal(0), ""
    if rule == "unpriced":
        return None, f"{bound.executor_kind} has no known price"
    if rule == "kubernetes":
        hourly = node_share_hourly(resources, node_pools(stack), region)
        return hourly, "" if hourly is not None else "its node pool's machine type is not known"
    if rule == "vertex" and not resources:
        from flowyml.runtime.executors.vertex_machines import DEFAULT_MACHINE

        resources = {"machine_type": DEFAULT_MACHINE}  # what the job would run on
    hourly = hourly_price(resources, "vertex_ai", region)
    return hourly, "" if hourly is not None else "its machine or GPU is not in the catalog"


def dry_run(pipeline: Any, stack: Any = None) -> DryRun:
    """What running ``pipeline`` on ``stack`` would submit and cost (module docstring).

    Raises:
        FlowymlError: a stack cannot be resolved or bound, or cannot run these steps.
    """
    from flowyml.pipeline.executors import StepAttempt
    from flowyml.runtime.binding import bind_stack, require_runnable
    from flowyml.runtime.executors.remote import check_steps, step_resources
    from flowyml.stacks.registry import resolve_stack

    declared = resolve_stack(stack, getattr(pipeline, "stack", None))
    orchestrator = str(getattr(getattr(declared, "orchestrator", None), "kind", None) or "none")
    if orchestrator != "none":
        from flowyml.runtime.errors import BindingError

        raise BindingError(
            f"stack {declared.name} hands the whole pipeline to its {orchestrator} orchestrator, "
            "whose submission a dry run does not show",
            hint=f"see what it would submit with `flowyml compile FILE --stack {declared.name}`",
        )
    bound: dict[str, Any] = {declared.name: bind_stack(declared)}
    routes: dict[str, str] = {}
    for inv in pipeline.dag:
        if inv.step.stack is not None:
            step_decl = resolve_stack(inv.step.stack, None)
            bound.setdefault(step_decl.name, bind_stack(step_decl))
            routes[inv.name] = step_decl.name
    images: dict[str, dict[str, Any]] = {}
    for name, runtime in list(bound.items()):
        require_runnable(runtime)
        steps = [inv.step for inv in pipeline.dag if routes.get(inv.name, declared.name) == name]
        if runtime.remote and steps:
            check_steps(runtime, steps)
            bound[name], images[name] = _planned_submission(runtime, steps)
        else:
            images[name] = {"stack": name, "executor": runtime.executor_kind, "reason": "no image"}
    history = _history(bound[declared.name].metadata_store, pipeline.name)
    plans: list[StepPlan] = []
    for inv in pipeline.dag:
        runtime = bound[routes.get(inv.name, declared.name)]
        attempt = StepAttempt(
            run_id=DRY_RUN_ID,
            pipeline=pipeline.name,
            step=inv.name,
            attempt=1,
            func=inv.step.func,
            args=(),
            kwargs={},
            arguments=inv.arguments,
            output_names=inv.output_names,
            output_key=f"{pipeline.name}/{DRY_RUN_ID}/{inv.name}",
            resources=inv.step.resources_dict(),
            timeout=inv.step.timeout,
        )
        resources = step_resources(attempt, getattr(runtime.declaration, "resources", None))
        hourly, why = _price(runtime, resources)
        durations = history.get(inv.name, [])
        seconds = sum(durations) / len(durations) if durations else None
        cost = None
        if hourly is not None and seconds is not None:
            cost = hourly * Decimal(str(seconds)) / 3600
        note = why or ("" if seconds is not None else "no history")
        plans.append(
            StepPlan(
                name=inv.name,
                stack=runtime.name,
                executor=runtime.executor_kind,
                submission=_submission(runtime, attempt),
                hourly=hourly,
                seconds=seconds,
                cost=cost,
                note=note,
            )
        )
    return DryRun(pipeline=pipeline.name, images=images, steps=plans)


def render_dry_run(plan: DryRun) -> list[str]:
    """The dry run as text lines: images, one line per step, the manifests, the total."""
    import yaml

    from flowyml.cost.money import format_usd

    lines = [f"Dry run of pipeline {plan.pipeline}: nothing built, nothing submitted.", ""]
    for stack, image in plan.images.items():
        detail = image.get("plan") or {}
        ref = detail.get("reference") if isinstance(detail, Mapping) else None
        lines.append(
            f"stack {stack} ({image.get('executor')}): " + (f"image {ref}" if ref else "no image")
        )
        if image.get("code_package"):
            lines.append(f"  code package {image['code_package']}")
    lines.append("")
    for step in plan.steps:
        took = f"{step.seconds:.1f}s" if step.seconds is not None else "no history"
        hourly = format_usd(step.hourly) + "/h" if step.hourly is not None else "not priced"
        lines.append(
            f"{step.name:<20} {step.executor:<11} {hourly:<14} {took:<12} "
            f"{format_usd(step.cost) if step.cost is not None else '-'}"
            + (f"  ({step.note})" if step.note and step.note != "no history" else "")
        )
    lines.append("")
    suffix = "" if plan.complete else " (steps without history or price are not counted)"
    lines.append(f"Estimated run cost: {format_usd(plan.total)}{suffix}")
    for step in plan.steps:
        if any(k in step.submission for k in ("kubernetes_job", "vertex_custom_job")):
            lines += ["", f"--- {step.name} ---"]
            lines += yaml.safe_dump(dict(step.submission), sort_keys=False).rstrip().splitlines()
    return lines
