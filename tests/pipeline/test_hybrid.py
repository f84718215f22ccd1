"""Hybrid execution: a step routed to another stack, with artifacts moved between two local
stacks whose artifact stores differ (real adapters from ``bind_stack``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from flowyml import Pipeline, step
from flowyml.core.records import RunStatus, StepStatus
from flowyml.pipeline.runner import run_pipeline
from flowyml.runtime.binding import BoundStack, bind_stack, clear_cache
from flowyml.stacks import LocalStack


@pytest.fixture
def two_stacks(tmp_path: Path) -> Iterator[tuple[LocalStack, LocalStack]]:
    main = LocalStack(
        name="main",
        artifact_path=str(tmp_path / "main-artifacts"),
        metadata_path=str(tmp_path / "main.db"),
    )
    other = LocalStack(
        name="other",
        artifact_path=str(tmp_path / "other-artifacts"),
        metadata_path=str(tmp_path / "other.db"),
    )
    yield main, other
    clear_cache()


def _steps_on(other: LocalStack) -> Pipeline:
    @step
    def preprocess() -> list[int]:
        return [1, 2, 3]

    @step(stack=other)
    def train(xs: list[int]) -> dict[str, float]:
        return {"weight": sum(xs) / len(xs)}

    @step
    def evaluate(model: dict[str, float], xs: list[int]) -> float:
        return model["weight"] * len(xs)

    with Pipeline("hybrid") as p:
        xs = preprocess()
        evaluate(train(xs), xs)
    return p


def _bind_routes(p: Pipeline) -> dict[str, BoundStack]:
    # What Pipeline.run does once the stack registry resolves names; stacks here are objects.
    return {inv.name: bind_stack(inv.step.stack) for inv in p.dag if inv.step.stack is not None}


def test_step_runs_on_its_own_stack_and_artifacts_move_between_stores(
    two_stacks: tuple[LocalStack, LocalStack], tmp_path: Path
) -> None:
    main, other = two_stacks
    p = _steps_on(other)
    main_bound = bind_stack(main)
    result = run_pipeline(p, main_bound, step_stacks=_bind_routes(p))
    assert result.status is RunStatus.COMPLETED, result.error
    assert result["evaluate"] == 6.0
    assert result["train"] == {"weight": 2.0}

    main_root = (tmp_path / "main-artifacts").as_uri()
    other_root = (tmp_path / "other-artifacts").as_uri()
    steps = result.steps
    assert steps["train"].stack == "other"
    assert steps["preprocess"].stack == steps["evaluate"].stack == "main"
    # train's output lives in the other stack's store; its input was copied there from main.
    assert steps["train"].outputs["output"].uri.startswith(other_root)
    assert steps["train"].inputs["xs"].uri.startswith(other_root)
    assert steps["preprocess"].outputs["output"].uri.startswith(main_root)
    # evaluate (main) consumed a copy of train's model saved back into main's store.
    assert steps["evaluate"].inputs["model"].uri.startswith(main_root)
    assert steps["evaluate"].inputs["xs"] == steps["preprocess"].outputs["output"]
    assert (
        steps["evaluate"].inputs["model"].content_hash
        == steps["train"].outputs["output"].content_hash
    )
    for ref in (steps["train"].inputs["xs"], steps["evaluate"].inputs["model"]):
        assert Path(ref.uri.removeprefix("file://")).is_file()

    # Every record of the run went to the pipeline's stack metadata store, none to the other.
    run = main_bound.metadata_store.get_run(result.run_id)
    assert {s.name: s.stack for s in run.steps} == {
        "preprocess": "main",
        "train": "other",
        "evaluate": "main",
    }
    assert bind_stack(other).metadata_store.list_runs() == []


def test_hybrid_rerun_is_cached_per_stack(two_stacks: tuple[LocalStack, LocalStack]) -> None:
    main, other = two_stacks
    p = _steps_on(other)
    run_pipeline(p, bind_stack(main), step_stacks=_bind_routes(p))
    again = run_pipeline(p, bind_stack(main), step_stacks=_bind_routes(p))
    assert again.cached == ("preprocess", "train", "evaluate")
    assert again.steps["train"].status is StepStatus.CACHED
    assert again["evaluate"] == 6.0
