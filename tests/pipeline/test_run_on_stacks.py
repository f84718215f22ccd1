"""``Pipeline.run`` end to end: stack resolution, binding, hybrid routing and the example."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest

from flowyml import Pipeline, step
from flowyml.core.records import RunStatus
from flowyml.runtime.binding import bind_stack, clear_cache
from flowyml.stacks import LocalStack

from . import steps

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "quickstart.py"


@pytest.fixture(autouse=True)
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("FLOWYML_PROJECT_DIR", str(tmp_path))
    monkeypatch.delenv("FLOWYML_STACK", raising=False)
    monkeypatch.delenv("ENVIRONMENT", raising=False)
    yield tmp_path
    clear_cache()


def _local(tmp_path: Path, name: str) -> LocalStack:
    return LocalStack(
        name=name,
        artifact_path=str(tmp_path / f"{name}-artifacts"),
        metadata_path=str(tmp_path / f"{name}.db"),
    )


def test_default_is_the_local_stack_in_the_project_dir(project: Path) -> None:
    with Pipeline("default") as p:
        steps.inc(steps.source(2))
    result = p.run()
    assert result.status is RunStatus.COMPLETED
    assert result.stack == "local"
    assert result["inc"] == [1, 2]
    assert (project / ".flowyml" / "metadata.db").is_file()
    uri = result.steps["inc"].outputs["output"].uri
    assert uri.startswith((project / ".flowyml" / "artifacts").as_uri())


def test_run_argument_beats_the_pipeline_stack(project: Path) -> None:
    declared, override = _local(project, "declared"), _local(project, "override")
    with Pipeline("precedence", stack=declared) as p:
        steps.source()
    assert p.run().stack == "declared"
    result = p.run(stack=override)
    assert result.stack == "override"
    assert bind_stack(override).metadata_store.get_run(result.run_id).stack == "override"


def test_step_stack_routes_through_pipeline_run(project: Path) -> None:
    other = _local(project, "gpu")

    @step(stack=other)
    def heavy(xs: list[int]) -> int:
        return sum(xs)

    with Pipeline("routed", stack=_local(project, "main")) as p:
        heavy(steps.source(4))
    result = p.run()
    assert result["heavy"] == 6
    assert result.steps["heavy"].stack == "gpu"
    assert (
        result.steps["heavy"].outputs["output"].uri.startswith((project / "gpu-artifacts").as_uri())
    )


def test_quickstart_example_runs_and_then_hits_the_cache(project: Path) -> None:
    spec = importlib.util.spec_from_file_location("quickstart_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    first = module.quickstart.run(epochs=30)
    assert first.status is RunStatus.COMPLETED
    metrics = first["evaluate"]
    assert 0.8 < metrics["accuracy"] <= 1.0
    again = module.quickstart.run(epochs=30)
    assert again.cached == ("load_data", "split", "train", "evaluate")
    changed = module.quickstart.run(epochs=31)
    assert changed.cached == ("load_data", "split")
