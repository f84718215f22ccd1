"""The executor seam: the bound stack hands the loop its strategy; kinds without a runtime are
refused before any step runs; a step's own stack decides its process mode; what local steps
print is kept as their log. Everything here runs real pipelines on real stores."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from flowyml import Pipeline, step
from flowyml.core.records import StepStatus
from flowyml.runtime.binding import bind_stack, clear_cache
from flowyml.runtime.errors import BindingError
from flowyml.stacks import LocalStack, Stack
from flowyml.stacks.components import (
    KubeflowOrchestrator,
    LocalExecutor,
    SQLiteMetadataStore,
    VertexAIExecutor,
)
from flowyml.stacks.flavors import FLAVORS, executor_flavor

RAN: list[str] = []


@step
def mark() -> int:
    RAN.append("mark")
    return 1


@step(timeout=1)
def slow_in_process() -> int:
    time.sleep(4)
    return os.getpid()


@step
def chatty(x: int) -> int:
    print(f"hello from chatty with {x}")
    return x + 1


def _stack(tmp_path: Path, name: str, **components: object) -> Stack:
    components.setdefault("executor", LocalExecutor())
    return Stack(
        name,
        artifact_store={"kind": "local", "path": str(tmp_path / name / "artifacts")},
        metadata_store=SQLiteMetadataStore(path=str(tmp_path / "metadata.db")),
        **components,  # type: ignore[arg-type]
    )


@pytest.fixture(autouse=True)
def _fresh() -> object:
    RAN.clear()
    yield
    clear_cache()


@pytest.mark.parametrize(
    ("components", "said"),
    [
        # Kubeflow has a runtime now; one that cannot run steps on the declared executor is
        # refused the same way, before anything runs.
        (
            {
                "orchestrator": KubeflowOrchestrator(host="http://kfp"),
                "executor": VertexAIExecutor(project_id="my-project"),
            },
            "'kubeflow' (Kubeflow Pipelines) cannot run steps on executor 'vertex_ai'",
        ),
    ],
    ids=["kubeflow-on-vertex-executor"],
)
def test_a_kind_without_runtime_is_refused_in_one_line_and_no_step_runs(
    tmp_path: Path, components: dict[str, object], said: str
) -> None:
    stack = _stack(tmp_path, "cloudy", **components)
    with Pipeline("refused") as p:
        mark()
    with pytest.raises(BindingError) as caught:
        p.run(stack=stack)
    message = str(caught.value)
    assert said in message and "nothing was run" in message
    assert "\n" not in message
    assert RAN == []
    # Nothing was recorded either: the store never saw a run.
    assert bind_stack(stack).metadata_store.list_runs() == []


def test_binding_alone_does_not_refuse_so_runs_stay_readable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every executor kind has a runtime in this release: one is taken away to see the refusal.
    from dataclasses import replace

    from flowyml.stacks import flavors

    vertex = flavors._BY_KEY[("executor", "vertex_ai")]
    monkeypatch.setitem(flavors._BY_KEY, ("executor", "vertex_ai"), replace(vertex, runtime=None))
    bound = bind_stack(_stack(tmp_path, "v", executor=VertexAIExecutor(project_id="my-project")))
    assert bound.executor_kind == "vertex_ai"
    assert bound.metadata_store.list_runs() == []
    with pytest.raises(BindingError, match="no runtime"):
        bound.step_executor(1)


def test_every_declared_executor_kind_has_one_flavor() -> None:
    from typing import get_args

    from flowyml.stacks.components.executors import Executor

    union = get_args(get_args(Executor)[0])
    kinds = {cls.model_fields["kind"].default for cls in union}
    assert kinds == {f.kind for f in FLAVORS if f.component == "executor"}
    local = executor_flavor("local")
    assert local is not None and local.price_rule == "free"


def test_a_steps_own_process_stack_runs_it_in_a_process_and_enforces_its_timeout(
    tmp_path: Path,
) -> None:
    """A step whose own stack says use_processes ran through a process pool that could not
    pickle it (PicklingError out of the loop) and its timeout was ignored."""
    procs = _stack(tmp_path, "procs", executor=LocalExecutor(use_processes=True))
    main = _stack(tmp_path, "main")
    slow = step(timeout=1, stack=procs)(slow_in_process.func)
    with Pipeline("per_step_processes") as p:
        slow()
    started = time.monotonic()
    result = p.run(stack=main)
    took = time.monotonic() - started
    record = result.steps["slow_in_process"]
    assert record.status is StepStatus.FAILED
    assert "exceeded its timeout of 1 s" in (record.error or "")
    assert "its process was terminated" in (record.error or "")
    assert took < 3.5  # the 4 s step was stopped, not waited for
    assert record.executor == "local" and record.stack == "procs"


def test_what_a_local_step_prints_is_kept_as_its_log(tmp_path: Path) -> None:
    stack = LocalStack(
        name="logs", artifact_path=str(tmp_path / "a"), metadata_path=str(tmp_path / "m.db")
    )
    with Pipeline("printing") as p:
        chatty(mark())
    result = p.run(stack=stack)
    record = result.steps["chatty"]
    assert record.executor == "local"
    assert record.log_uri is not None
    store = bind_stack(stack).artifact_store
    assert store.get_bytes(record.log_uri) == b"hello from chatty with 1\n"
    # A step that printed nothing keeps no empty log file.
    assert result.steps["mark"].log_uri is None
    # The stored record says the same.
    stored = bind_stack(stack).metadata_store.get_run(result.run_id)
    assert {s.name: s.log_uri for s in stored.steps}["chatty"] == record.log_uri


def test_vertex_on_another_provider_is_a_capability_problem_read_from_the_flavors() -> None:
    from flowyml.infra.capabilities import find_unsupported
    from flowyml.stacks.aws import AWSStack

    stack = AWSStack(
        "aws-vertex", s3_bucket="bkt-1", executor=VertexAIExecutor(project_id="my-project")
    )
    found = [(item.feature, path) for item, path in find_unsupported(stack)]
    assert ("vertex-ai", "executor") in found
    plain = AWSStack("aws-plain", s3_bucket="bkt-1")
    assert ("vertex-ai", "executor") not in [(i.feature, p) for i, p in find_unsupported(plain)]


def test_a_gpu_step_on_the_local_executor_is_warned_about_and_still_runs(tmp_path: Path) -> None:
    gpu_step = step(resources={"gpu": "nvidia-l4", "gpu_count": 1})(mark.func)
    with Pipeline("gpu_here") as p:
        gpu_step()
    with pytest.warns(UserWarning, match=r"asks for 1 GPU\(s\) \(nvidia-l4\).*allocates no GPU"):
        result = p.run(stack=_stack(tmp_path, "here"))
    assert result.steps["mark"].status is StepStatus.COMPLETED
