"""Authoring: DAG recording, invocation names, tuple outputs, @pipeline parameters."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from flowyml import Pipeline, pipeline, step
from flowyml.core.errors import FlowymlError
from flowyml.pipeline import (
    ParameterizedPipeline,
    PipelineDefinitionError,
    PipelineError,
    PipelineParameterError,
)
from flowyml.pipeline.dag import OutputHandle

from . import steps


def test_public_api_is_exported_lazily_from_flowyml() -> None:
    import flowyml
    import flowyml.pipeline as pkg

    assert flowyml.Pipeline is pkg.Pipeline
    assert flowyml.step is pkg.step
    # `flowyml.pipeline` names the subpackage too; it forwards calls to the decorator.
    made = flowyml.pipeline(lambda: None)
    assert isinstance(made, ParameterizedPipeline)
    assert isinstance(flowyml.pipeline(name="n")(lambda: None), ParameterizedPipeline)
    assert {"Pipeline", "step", "pipeline"} <= set(pkg.__all__)
    assert issubclass(PipelineError, FlowymlError)


def test_outside_a_pipeline_a_step_is_the_plain_function() -> None:
    assert steps.inc([1, 2], by=2) == [3, 4]
    assert steps.split([1, 2, 3, 4]) == ([1, 2], [3, 4])


def test_data_dependencies_make_the_edges(chain: Callable[..., Pipeline]) -> None:
    p = chain(3)
    assert p.dag.names == ("source", "inc", "inc_2")
    assert p.dag.graph() == {"source": (), "inc": ("source",), "inc_2": ("inc",)}
    assert p.dag.topological_order() == ("source", "inc", "inc_2")


def test_fan_out_fan_in_shape(fan: Callable[..., Pipeline]) -> None:
    dag = fan(3).dag
    assert dag["total"].upstream == ("inc", "inc_2", "inc_3")
    assert dag.downstream("source") == {"inc", "inc_2", "inc_3", "total"}
    assert dag.downstream("inc_2") == {"total"}
    labels = [label for label, _ in dag["total"].inputs]
    assert labels == ["parts[0]", "parts[1]", "parts[2]"]


def test_literals_are_recorded_as_arguments() -> None:
    with Pipeline("lits") as p:
        steps.inc(steps.source(5), by=7)
    inv = p.dag["inc"]
    assert inv.arguments["by"] == 7
    assert isinstance(inv.arguments["xs"], OutputHandle)
    assert p.dag["source"].arguments == {"n": 5}


def test_repeated_calls_get_unique_names() -> None:
    with Pipeline("rep") as p:
        a = steps.source()
        steps.inc(a)
        steps.inc(a)
        steps.inc(a)
    assert p.dag.names == ("source", "inc", "inc_2", "inc_3")


def test_step_name_option_sets_the_invocation_name() -> None:
    @step(name="prepare", retries=2, timeout=5)
    def f(x: int) -> int:
        return x

    with Pipeline("named") as p:
        f(1)
        f(2)
    assert p.dag.names == ("prepare", "prepare_2")
    assert f.retries == 2 and f.timeout == 5


def test_tuple_annotation_yields_two_unpackable_handles() -> None:
    with Pipeline("tuple") as p:
        left, right = steps.split(steps.source())
        steps.total(left, right)
    assert (left.invocation, left.output) == ("split", "output_0")
    assert (right.invocation, right.output) == ("split", "output_1")
    assert p.dag["split"].output_names == ("output_0", "output_1")
    assert p.dag["total"].upstream == ("split",)


def test_string_annotations_are_understood() -> None:
    ns: dict[str, object] = {}
    exec(
        "from __future__ import annotations\ndef f() -> tuple[int, Missing]:\n    return 1, 2\n",
        ns,
    )
    assert step(ns["f"]).output_names == ("output_0", "output_1")  # type: ignore[arg-type]


def test_variadic_tuple_is_one_output() -> None:
    @step
    def f() -> tuple[int, ...]:
        return (1, 2, 3)

    assert f.output_names == ("output",)


def test_wrong_arguments_give_a_one_line_error() -> None:
    with pytest.raises(PipelineDefinitionError) as err, Pipeline("bad"):
        steps.inc()
    assert "cannot call step 'inc'" in str(err.value)
    assert "To fix:" in str(err.value)
    assert "\n" not in str(err.value)


def test_handles_cannot_cross_pipelines() -> None:
    with Pipeline("one"):
        xs = steps.source()
    with pytest.raises(PipelineDefinitionError, match="another pipeline"), Pipeline("two"):
        steps.inc(xs)


def test_handles_cannot_be_used_as_booleans() -> None:
    with pytest.raises(PipelineDefinitionError, match="boolean"), Pipeline("if"):
        if steps.source():
            pass


def test_pipeline_is_frozen_after_its_block() -> None:
    with Pipeline("frozen") as p:
        steps.source()
    with pytest.raises(PipelineDefinitionError, match="already declared"), p:
        pass
    assert len(p.dag) == 1


def test_run_inside_the_block_is_an_error() -> None:
    with pytest.raises(PipelineDefinitionError, match="still being declared"), Pipeline("x") as p:
        steps.source()
        p.run()


def test_plain_pipeline_rejects_parameters() -> None:
    with Pipeline("noparams") as p:
        steps.source()
    with pytest.raises(PipelineParameterError, match="takes no parameters"):
        p.run(epochs=3)


@pipeline
def parameterised(n: int = 3, by: int = 1) -> None:
    steps.inc(steps.source(n), by=by)


def test_pipeline_decorator_builds_with_parameters() -> None:
    assert isinstance(parameterised, ParameterizedPipeline)
    p = parameterised.build(n=5)
    assert p.name == "parameterised"
    assert p.params == {"n": 5, "by": 1}
    assert p.dag["source"].arguments == {"n": 5}
    assert parameterised.parameters == {"n": 3, "by": 1}


def test_unknown_pipeline_parameter_names_the_valid_ones() -> None:
    with pytest.raises(PipelineParameterError) as err:
        parameterised.run(epochs=5)
    text = str(err.value)
    assert "'epochs'" in text and "n, by" in text and "\n" not in text


def test_parse_params_converts_by_annotation() -> None:
    assert parameterised.parse_params({"n": "7", "by": "2"}) == {"n": 7, "by": 2}
    with pytest.raises(PipelineParameterError, match="must be int"):
        parameterised.parse_params({"n": "seven"})
    with pytest.raises(PipelineParameterError, match="no parameter"):
        parameterised.parse_params({"x": "1"})


def test_pipeline_decorator_with_options() -> None:
    @pipeline(name="custom", enable_cache=False, max_workers=2)
    def body() -> None:
        steps.source()

    p = body.build()
    assert (p.name, p.enable_cache, p.max_workers) == ("custom", False, 2)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"retries": -1}, "retries"), ({"timeout": 0}, "timeout")],
)
def test_bad_step_options(kwargs: dict[str, float], match: str) -> None:
    with pytest.raises(PipelineDefinitionError, match=match):
        step(**kwargs)(lambda: 1)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "use",
    [
        lambda h: h + 1,
        lambda h: 2 * h,
        lambda h: h["key"],
        lambda h: h > 3,
        lambda h: list(h),
    ],
    ids=["add", "rmul", "index", "compare", "unpack"],
)
def test_using_a_step_output_as_a_value_in_the_body_is_explained(
    use: Callable[..., object],
) -> None:
    from flowyml.pipeline.errors import StepOutputUsedAsValueError

    @step
    def make() -> int:
        return 1

    with (
        pytest.raises(StepOutputUsedAsValueError, match="inside a step") as caught,
        Pipeline("misuse"),
    ):
        use(make())
    assert isinstance(caught.value, TypeError)  # what the operation would have raised
    assert "the output of step 'make'" in str(caught.value)
