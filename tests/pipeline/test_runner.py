"""The runner on real stores (tmp_path SQLite + file:// artifacts): order, concurrency,
failures, retries, timeouts, caching, persistence and lineage."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from flowyml import Pipeline, step
from flowyml.core.records import RunStatus, StepStatus
from flowyml.pipeline import PipelineError, StepFailedError
from flowyml.pipeline.runner import run_pipeline
from flowyml.runtime.artifacts import FsspecArtifactStore
from flowyml.runtime.metadata import SqlMetadataStore

from . import steps
from .doubles import LocalRuntimeStack, SpyMetadataStore


def test_chain_runs_in_order_and_persists_every_output(
    chain: Callable[..., Pipeline], runtime_stack: LocalRuntimeStack, tmp_path: Path
) -> None:
    result = run_pipeline(chain(4), runtime_stack)
    assert result.status is RunStatus.COMPLETED
    assert result["inc_3"] == [3, 4, 5]
    run = runtime_stack.metadata_store.get_run(result.run_id)
    assert run.status is RunStatus.COMPLETED
    assert {s.name: s.status for s in run.steps} == dict.fromkeys(
        ("source", "inc", "inc_2", "inc_3"), StepStatus.COMPLETED
    )
    for name in ("source", "inc", "inc_2", "inc_3"):
        ref = result.steps[name].outputs["output"]
        expected = (tmp_path / "artifacts" / "chain" / result.run_id / name / "output").as_uri()
        assert ref.uri.startswith(expected)
        assert runtime_stack.artifact_store.exists(ref)


def test_lineage_and_status_transitions_are_recorded(
    fan: Callable[..., Pipeline], artifact_store: FsspecArtifactStore, spy_store: SpyMetadataStore
) -> None:
    stack = LocalRuntimeStack("spy", artifact_store, spy_store)
    result = run_pipeline(fan(2), stack)
    statuses = [r.status for r in spy_store.history if r.name == "total"]
    # Records are batched: a fast step's `running` record may be superseded before it is
    # written, but the last record written is the final one and nothing follows it.
    assert statuses[-1] is StepStatus.COMPLETED
    assert set(statuses) <= {StepStatus.RUNNING, StepStatus.COMPLETED}
    total = spy_store.get_run(result.run_id)
    rec = {s.name: s for s in total.steps}["total"]
    assert set(rec.inputs) == {"parts[0]", "parts[1]"}
    assert rec.inputs["parts[0]"] == result.steps["inc"].outputs["output"]
    assert set(rec.upstream) == {"inc", "inc_2"}


def test_independent_steps_run_concurrently(runtime_stack: LocalRuntimeStack) -> None:
    # Three steps wait at one barrier: they can only pass if all three run at the same time.
    barrier = threading.Barrier(3, timeout=10)
    with Pipeline("concurrent", max_workers=3) as p:
        for tag in "abc":
            steps.wait_at(barrier, tag)
    result = run_pipeline(p, runtime_stack)
    assert result.status is RunStatus.COMPLETED, result.error
    assert [result["wait_at"], result["wait_at_2"], result["wait_at_3"]] == ["a", "b", "c"]


def test_max_workers_one_serialises(runtime_stack: LocalRuntimeStack) -> None:
    barrier = threading.Barrier(2, timeout=0.5)
    with Pipeline("serial", max_workers=1, enable_cache=False) as p:
        steps.wait_at(barrier, "a")
        steps.wait_at(barrier, "b")
    result = run_pipeline(p, runtime_stack)
    assert result.status is RunStatus.FAILED
    assert "BrokenBarrierError" in (result.steps["wait_at"].error or "")


def test_failure_skips_downstream_keeps_traceback_and_other_branches_finish(
    runtime_stack: LocalRuntimeStack,
) -> None:
    with Pipeline("failing") as p:
        xs = steps.source(4)
        bad = steps.boom(xs)
        steps.add_one(bad)
        steps.inc(xs)
    result = run_pipeline(p, runtime_stack)
    assert result.status is RunStatus.FAILED
    assert result.error is not None and "step 'boom' failed" in result.error
    assert "ValueError: bad input of length 4" in result.error
    error = result.steps["boom"].error or ""
    assert error.startswith("Traceback (most recent call last)")
    assert 'raise ValueError(f"bad input of length {len(xs)}")' in error
    assert result.steps["add_one"].status is StepStatus.SKIPPED
    assert result.steps["inc"].status is StepStatus.COMPLETED
    stored = {s.name: s for s in runtime_stack.metadata_store.get_run(result.run_id).steps}
    assert stored["boom"].error == error
    assert stored["add_one"].status is StepStatus.SKIPPED
    assert runtime_stack.metadata_store.get_run(result.run_id).status is RunStatus.FAILED
    with pytest.raises(PipelineError, match="ended skipped"):
        result["add_one"]
    with pytest.raises(StepFailedError, match="To fix: see `flowyml runs show"):
        result.raise_for_status()


_flaky_calls: list[int] = []


@step(retries=3, retry_delay=0.01, cache=False)
def flaky() -> str:
    _flaky_calls.append(1)
    if len(_flaky_calls) < 3:
        raise ConnectionError(f"attempt {len(_flaky_calls)} failed")
    return "ok"


@step(retries=1, retry_delay=0.01, cache=False)
def always_fails() -> None:
    raise ConnectionError("still down")


def test_retries_count_attempts(runtime_stack: LocalRuntimeStack) -> None:
    _flaky_calls.clear()
    with Pipeline("retry") as p:
        flaky()
        always_fails()
    result = run_pipeline(p, runtime_stack)
    assert result.steps["flaky"].status is StepStatus.COMPLETED
    assert result.steps["flaky"].attempts == 3
    assert result["flaky"] == "ok"
    assert result.steps["always_fails"].status is StepStatus.FAILED
    assert result.steps["always_fails"].attempts == 2
    stored = {s.name: s for s in runtime_stack.metadata_store.get_run(result.run_id).steps}
    assert stored["flaky"].attempts == 3


_release = threading.Event()


@step(timeout=0.2, cache=False)
def hangs() -> str:
    _release.wait(10)
    return "late"


def test_timeout_in_thread_mode_fails_the_step_and_moves_on(
    runtime_stack: LocalRuntimeStack,
) -> None:
    _release.clear()
    with Pipeline("timeout") as p:
        out = hangs()
        steps.add_one(out)
        steps.source()
    try:
        result = run_pipeline(p, runtime_stack)
    finally:
        _release.set()  # let the abandoned thread end
    assert result.status is RunStatus.FAILED
    error = result.steps["hangs"].error or ""
    assert error.startswith("TimeoutError: step 'hangs' exceeded its timeout of 0.2 s")
    assert "cannot be stopped" in error
    assert result.steps["add_one"].status is StepStatus.SKIPPED
    assert result.steps["source"].status is StepStatus.COMPLETED


@step(timeout=0.3, cache=False)
def hangs_in_child(marker: str) -> None:
    import time

    time.sleep(5)
    Path(marker).write_text("finished")


def test_timeout_in_process_mode_terminates_the_process(
    runtime_stack: LocalRuntimeStack, tmp_path: Path
) -> None:
    marker = tmp_path / "finished.txt"
    with Pipeline("ptimeout", use_processes=True) as p:
        hangs_in_child(str(marker))
    result = run_pipeline(p, runtime_stack)
    assert result.status is RunStatus.FAILED
    assert "its process was terminated" in (result.steps["hangs_in_child"].error or "")
    # The run returned long before the child's 5 s sleep could end, and the child was killed,
    # so the line after the sleep never ran.
    assert not marker.exists()


def test_process_mode_runs_steps_in_children(
    fan: Callable[..., Pipeline], runtime_stack: LocalRuntimeStack
) -> None:
    with Pipeline("procs", use_processes=True, max_workers=2) as p:
        steps.pid()
        xs = steps.source(4)
        steps.total(steps.inc(xs), steps.inc(xs, by=2))
    result = run_pipeline(p, runtime_stack)
    assert result.status is RunStatus.COMPLETED, result.error
    assert result["pid"] != os.getpid()
    assert result["total"] == 10 + 14


@step(cache=False)
def unpicklable() -> object:
    return threading.Lock()


def test_process_mode_reports_unpicklable_results(runtime_stack: LocalRuntimeStack) -> None:
    with Pipeline("unpicklable", use_processes=True) as p:
        unpicklable()
    result = run_pipeline(p, runtime_stack)
    assert result.status is RunStatus.FAILED
    assert "not picklable" in (result.steps["unpicklable"].error or "")


def test_tuple_outputs_are_saved_separately(runtime_stack: LocalRuntimeStack) -> None:
    with Pipeline("tuples") as p:
        _left, right = steps.split(steps.source(4))
        steps.total(right)
    result = run_pipeline(p, runtime_stack)
    assert result["split"] == ([0, 1], [2, 3])
    assert result.output("split", "output_1") == [2, 3]
    assert result["total"] == 5
    assert set(result.steps["split"].outputs) == {"output_0", "output_1"}


@step
def wrong_arity() -> tuple[int, int]:
    return 1  # type: ignore[return-value]


def test_wrong_number_of_outputs_fails_the_step(runtime_stack: LocalRuntimeStack) -> None:
    with Pipeline("arity") as p:
        wrong_arity()
    result = run_pipeline(p, runtime_stack)
    assert result.status is RunStatus.FAILED
    assert "declares 2 outputs but returned int" in (result.steps["wrong_arity"].error or "")


def test_second_run_is_served_from_the_cache(
    chain: Callable[..., Pipeline], runtime_stack: LocalRuntimeStack
) -> None:
    first = run_pipeline(chain(3), runtime_stack)
    assert first.cached == ()
    calls = dict(steps.CALLS)
    second = run_pipeline(chain(3), runtime_stack)
    assert second.status is RunStatus.COMPLETED
    assert second.cached == ("source", "inc", "inc_2")
    assert all(r.status is StepStatus.CACHED for r in second.steps.values())
    assert calls == steps.CALLS  # nothing ran again
    assert second["inc_2"] == first["inc_2"]
    stored = runtime_stack.metadata_store.get_run(second.run_id).steps
    assert all(s.cached for s in stored)


def test_changed_parameter_invalidates_only_downstream(runtime_stack: LocalRuntimeStack) -> None:
    def build(by: int) -> Pipeline:
        with Pipeline("param") as p:
            xs = steps.source(3)
            steps.add_one(steps.total(steps.inc(xs, by=by)))
        return p

    run_pipeline(build(1), runtime_stack)
    again = run_pipeline(build(2), runtime_stack)
    assert again.cached == ("source",)
    assert again["add_one"] == 3 + 2 * 3 + 1


def test_cache_disabled_per_pipeline_and_per_step(
    chain: Callable[..., Pipeline], runtime_stack: LocalRuntimeStack
) -> None:
    run_pipeline(chain(2), runtime_stack)
    off = run_pipeline(chain(2, enable_cache=False), runtime_stack)
    assert off.cached == ()
    assert off.steps["inc"].cache_key is None
    with Pipeline("chain") as p:
        xs = steps.source(3)
        step(cache=False, name="inc")(steps.inc.func)(xs)
    partial = run_pipeline(p, runtime_stack)
    assert partial.cached == ("source",)


def test_missing_artifact_is_a_cache_miss(
    chain: Callable[..., Pipeline], runtime_stack: LocalRuntimeStack
) -> None:
    first = run_pipeline(chain(2), runtime_stack)
    Path(first.steps["inc"].outputs["output"].uri.removeprefix("file://")).unlink()
    second = run_pipeline(chain(2), runtime_stack)
    assert second.cached == ("source",)
    assert second["inc"] == [1, 2, 3]


def test_a_cached_record_lacking_an_output_is_a_miss(runtime_stack: LocalRuntimeStack) -> None:
    """A step record under the same cache key whose outputs are not the step's (a record
    written partially, or by an older flowyml) is not reused: the step runs again."""
    import sqlalchemy as sa

    from flowyml.runtime.metadata.schema import OUTPUT, lineage

    def build() -> Pipeline:
        with Pipeline("partial-record") as p:
            steps.split(steps.source(4))
        return p

    first = run_pipeline(build(), runtime_stack)
    store = runtime_stack.metadata_store
    assert isinstance(store, SqlMetadataStore)
    # Edit the real database: the record keeps only its first output.
    with store.engine.begin() as connection:
        gone = connection.execute(
            sa.delete(lineage).where(
                lineage.c.run_id == first.run_id,
                lineage.c.step == "split",
                lineage.c.direction == OUTPUT,
                lineage.c.name == "output_1",
            )
        )
    assert gone.rowcount == 1

    second = run_pipeline(build(), runtime_stack)
    assert second.cached == ("source",)
    assert second["split"] == ([0, 1], [2, 3])
    assert set(second.steps["split"].outputs) == {"output_0", "output_1"}


def test_unknown_step_in_result_is_a_one_line_error(
    chain: Callable[..., Pipeline], runtime_stack: LocalRuntimeStack
) -> None:
    result = run_pipeline(chain(2), runtime_stack)
    with pytest.raises(
        PipelineError, match=r"has no step .nope.\..* To fix: use one of: source, inc"
    ):
        result["nope"]


def test_many_step_chain_records_every_step(
    chain: Callable[..., Pipeline], runtime_stack: LocalRuntimeStack
) -> None:
    result = run_pipeline(chain(60, enable_cache=False), runtime_stack)
    assert result["inc_59"] == [59, 60, 61]
    assert isinstance(runtime_stack.metadata_store, SqlMetadataStore)
    assert len(runtime_stack.metadata_store.get_run(result.run_id).steps) == 60


@step(cache=False)
def returns_a_lock() -> object:
    return threading.Lock()


def test_unserialisable_output_fails_the_step_with_the_store_error(
    runtime_stack: LocalRuntimeStack,
) -> None:
    with Pipeline("unsaveable") as p:
        steps.add_one(returns_a_lock())
    result = run_pipeline(p, runtime_stack)
    assert result.status is RunStatus.FAILED
    error = result.steps["returns_a_lock"].error or ""
    assert "ArtifactError" in error and "lock" in error.lower()
    assert result.steps["add_one"].status is StepStatus.SKIPPED


def test_resources_are_recorded_with_the_step(runtime_stack: LocalRuntimeStack) -> None:
    from flowyml.stacks.components import ResourceConfig

    @step(resources=ResourceConfig(cpu="2", memory="4Gi"))
    def sized() -> int:
        return 1

    with Pipeline("sized") as p:
        sized()
    result = run_pipeline(p, runtime_stack)
    stored = runtime_stack.metadata_store.get_run(result.run_id).steps[0]
    assert stored.resources is not None
    assert (stored.resources["cpu"], stored.resources["memory"]) == ("2", "4Gi")


def test_a_slow_step_is_visible_as_running_while_it_runs(tmp_path: Path) -> None:
    """Batched recording still writes a running step's record before the step ends."""
    from flowyml.runtime.binding import bind_stack
    from flowyml.stacks import LocalStack

    db = tmp_path / "meta.db"
    stack = LocalStack(name="watched", artifact_path=str(tmp_path / "a"), metadata_path=str(db))
    seen: list[str] = []

    @step(cache=False)
    def watch_myself() -> str:
        # Another connection to the same database, as `flowyml runs show` would open.
        observer = SqlMetadataStore(f"sqlite:///{db}")
        try:
            for _ in range(200):  # bounded: up to ~10 s
                runs = observer.list_runs(limit=1)
                if runs:
                    steps = {s.name: s.status for s in observer.get_run(runs[0].run_id).steps}
                    if steps.get("watch_myself") is StepStatus.RUNNING:
                        seen.append("running")
                        return "seen"
                time.sleep(0.05)
            return "never seen"
        finally:
            observer.close()

    with Pipeline("watched", enable_cache=False) as p:
        watch_myself()
    result = run_pipeline(p, bind_stack(stack))
    assert result.ok and result["watch_myself"] == "seen", seen
