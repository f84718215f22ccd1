"""The compiled pipeline run for real by KFP's own local runner (`kfp.local`): every step runs
through the flowyml entrypoint, and the run ends recorded in flowyml's metadata store with the
same outputs as a local run of the same pipeline; a failure skips what is downstream and the
finalize task still records the run; flowyml's cache serves an unchanged step."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from flowyml.cli.loader import load_pipeline
from flowyml.core.records import RunStatus, StepStatus
from flowyml.runtime.binding import bind_stack
from flowyml.runtime.orchestrators.driver import compile_pipeline
from flowyml.runtime.orchestrators.kfp_spec import compile_spec
from flowyml.runtime.orchestrators.record import sync_stack
from runtime.orchestrators.helpers import kubeflow_stack

kfp_local = pytest.importorskip(
    "kfp.local", reason="kfp is not installed (pip install 'flowyml[kfp]')"
)


def _run_locally(project: Path, pipeline: str) -> tuple[Any, Any]:
    """Compile ``pipeline`` for Kubeflow and run it with kfp.local's SubprocessRunner.

    The SubprocessRunner runs only lightweight Python components, so the same graph is
    compiled as those (``local=True``): each one's body calls the same entrypoint with the
    same arguments the container components pass."""
    from kfp import components

    bound = bind_stack(kubeflow_stack(project))
    compiled = compile_pipeline(
        load_pipeline(f"pipelines.py:{pipeline}"), bound, project.parent / "spec.yaml", build=False
    )
    local = compile_spec(
        compiled.manifest,
        compiled.manifest_uri,
        project.parent / "local.yaml",
        target="kubeflow",
        local=True,
    )
    kfp_local.init(
        runner=kfp_local.SubprocessRunner(use_venv=False),
        pipeline_root=str(project.parent / "kfp-root"),
        raise_on_error=False,
    )
    components.load_component_from_file(str(local))(flowyml_run_id="")
    return bound, compiled


def test_kfp_local_runs_every_step_through_the_entrypoint_and_flowyml_records_it(
    project: Path,
) -> None:
    bound, _ = _run_locally(project, "orchestrated")
    (run,) = sync_stack(bound)
    record = bound.metadata_store.get_run(run.run_id)
    assert record.status is RunStatus.COMPLETED and record.stack == "kfp"
    steps = {s.name: s for s in record.steps}
    assert [s.name for s in record.steps] == ["load", "total", "scale", "report"]
    assert {s.status for s in steps.values()} == {StepStatus.COMPLETED}
    assert all(s.executor == "kubeflow" and s.attempts == 1 for s in steps.values())
    store = bound.artifact_store
    orchestrated = {n: store.load(s.outputs["output"]) for n, s in steps.items()}
    local = load_pipeline("pipelines.py:orchestrated").run(
        stack=kubeflow_stack(project).model_copy(update={"orchestrator": None})
    )
    assert local.status is RunStatus.COMPLETED
    for name in ("load", "total", "scale"):
        assert orchestrated[name] == local[name]
        # Same bytes, so the same content hash: caching and lineage mean the same.
        assert (
            steps[name].outputs["output"].content_hash
            == local.steps[name].outputs["output"].content_hash
        )
    assert orchestrated["report"]["total"] == local["report"]["total"] == 45
    assert orchestrated["report"]["pid"] != os.getpid()  # each task is its own process
    assert steps["report"].inputs == {
        "count": steps["total"].outputs["output"],
        "scaled": steps["scale"].outputs["output"],
    }
    assert steps["total"].resources == local.steps["total"].resources
    assert dict(steps["total"].resources or {})["memory"] == "4Gi"
    assert steps["report"].upstream == ("total", "scale")
    assert b"loading ten numbers" in (store.get_bytes(steps["load"].log_uri or "") or b"")


def test_a_failed_step_skips_downstream_and_the_finalize_task_records_the_run(
    project: Path,
) -> None:
    bound, _ = _run_locally(project, "failing")
    (run,) = sync_stack(bound)
    record = bound.metadata_store.get_run(run.run_id)
    steps = {s.name: s for s in record.steps}
    assert record.status is RunStatus.FAILED and record.ended_at is not None
    assert record.error is not None and "step 'explode' failed" in record.error
    assert steps["explode"].status is StepStatus.FAILED
    assert "ValueError: bad input 10" in (steps["explode"].error or "")
    assert steps["scale"].status is StepStatus.COMPLETED
    assert steps["report"].status is StepStatus.SKIPPED and steps["report"].attempts == 0


def test_flowyml_cache_serves_an_unchanged_step_on_the_next_orchestrated_run(
    project: Path,
) -> None:
    bound, _ = _run_locally(project, "cached")
    _run_locally(project, "cached")
    runs = sorted(sync_stack(bound), key=lambda r: r.started_at)
    assert len(runs) == 2
    first, second = (bound.metadata_store.get_run(r.run_id) for r in runs)
    assert {s.name: s.status for s in first.steps} == {
        "load": StepStatus.COMPLETED,
        "total": StepStatus.COMPLETED,
    }
    assert {s.name: s.status for s in second.steps} == {
        "load": StepStatus.CACHED,
        "total": StepStatus.CACHED,
    }
    cached_total = {s.name: s for s in second.steps}["total"]
    assert cached_total.cached and cached_total.cache_key is not None
    assert cached_total.outputs == {s.name: s for s in first.steps}["total"].outputs


def test_runs_list_and_show_record_a_run_no_client_watched(project: Path) -> None:
    import json

    import yaml
    from click.testing import CliRunner

    from flowyml.cli.main import cli

    stack = kubeflow_stack(project)
    data = {"stacks": {"kfp": {k: v for k, v in stack.to_dict().items() if k != "name"}}}
    (project / "flowyml.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    _run_locally(project, "orchestrated")  # nobody syncs it
    listed = CliRunner().invoke(cli, ["runs", "list", "--stack", "kfp", "--json"])
    assert listed.exit_code == 0, listed.output
    (run,) = json.loads(listed.output)
    assert run["status"] == "completed" and run["pipeline"] == "orchestrated"
    shown = CliRunner().invoke(
        cli, ["runs", "show", run["run_id"][:12], "--stack", "kfp", "--json"]
    )
    assert shown.exit_code == 0, shown.output
    steps = json.loads(shown.output)["steps"]
    assert [s["status"] for s in steps] == ["completed"] * 4


def test_the_step_timeout_is_enforced_inside_the_task(project: Path) -> None:
    """KFP v2 has no per-task timeout: the entrypoint enforces the step's own."""
    import time

    started = time.monotonic()
    bound, _ = _run_locally(project, "timing_out")
    assert time.monotonic() - started < 15  # the 20 s step was stopped after its 1 s
    (run,) = sync_stack(bound)
    (step,) = bound.metadata_store.get_run(run.run_id).steps
    assert step.status is StepStatus.FAILED
    assert "TimeoutError: step 'stuck' ran over its timeout of 1 s" in (step.error or "")
