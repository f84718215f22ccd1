"""An orchestrator and an executor that do not fit are refused by `stack validate` and at run
time, in one line with a fix, before anything runs; Airflow (which starts its own runs) gets its
DAG deployed and says how to trigger it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from flowyml.cli.loader import load_pipeline
from flowyml.runtime.binding import bind_stack
from flowyml.runtime.orchestrators.errors import OrchestratorError
from flowyml.stacks import Stack
from flowyml.stacks.components import (
    AirflowOrchestrator,
    DockerExecutor,
    KubeflowOrchestrator,
    VertexAIExecutor,
    VertexAIOrchestrator,
)
from runtime.orchestrators.helpers import airflow_stack, stores

MISFITS = {
    "airflow-on-vertex-executor": (
        {
            "orchestrator": AirflowOrchestrator(dag_folder="/tmp/dags"),
            "executor": VertexAIExecutor(project_id="my-project"),
        },
        "orchestrator 'airflow' (Airflow) cannot run steps on executor 'vertex_ai'",
    ),
    "vertex-on-docker-executor": (
        {
            "orchestrator": VertexAIOrchestrator(project_id="my-project"),
            "executor": DockerExecutor(),
        },
        "orchestrator 'vertex_ai' (Vertex AI Pipelines) cannot run steps on executor 'docker'",
    ),
    "kubeflow-without-api-or-cluster": (
        {"orchestrator": KubeflowOrchestrator()},
        "Kubeflow Pipelines needs its API",
    ),
}


def _stack(project: Path, components: dict[str, object]) -> Stack:
    return Stack("misfit", **(stores(project) | components))  # type: ignore[arg-type]


@pytest.mark.parametrize("case", sorted(MISFITS))
def test_stack_validate_names_the_misfit_with_a_fix(project: Path, case: str) -> None:
    components, said = MISFITS[case]
    problems = _stack(project, components).validate(raise_on_error=False)
    assert [p.message for p in problems if said in p.message], problems
    assert all(p.hint for p in problems)


@pytest.mark.parametrize("case", sorted(MISFITS))
def test_a_misfit_is_refused_at_run_time_before_anything_runs(project: Path, case: str) -> None:
    components, said = MISFITS[case]
    stack = _stack(project, components)
    with pytest.raises(OrchestratorError) as caught:
        load_pipeline("pipelines.py:orchestrated").run(stack=stack)
    message = str(caught.value)
    assert said in message and "nothing was run" in message and "\n" not in message
    assert bind_stack(stack).metadata_store.list_runs() == []
    assert not (project / ".flowyml" / "artifacts" / "_code").exists()  # nothing shipped


def test_flowyml_stack_validate_fails_in_one_line(project: Path) -> None:
    components, said = MISFITS["airflow-on-vertex-executor"]
    stack = _stack(project, components)
    data = {"stacks": {"misfit": {k: v for k, v in stack.to_dict().items() if k != "name"}}}
    (project / "flowyml.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "flowyml.cli", "stack", "validate", "misfit"],
        capture_output=True,
        text=True,
        cwd=project,
    )
    assert done.returncode != 0
    assert said in done.stdout + done.stderr


def test_airflow_deploys_the_dag_and_says_how_to_trigger_it(project: Path) -> None:
    stack = airflow_stack(project)
    with pytest.raises(OrchestratorError) as caught:
        load_pipeline("pipelines.py:orchestrated").run(stack=stack)
    message = str(caught.value)
    dag = project / "dags" / "flowyml_orchestrated.py"
    assert f"was deployed to {dag}" in message
    assert "airflow dags trigger flowyml_orchestrated" in message and "To fix:" in message
    assert "BashOperator(" in dag.read_text()
    assert bind_stack(stack).metadata_store.list_runs() == []  # Airflow has not run it


def test_steps_on_their_own_stacks_cannot_be_orchestrated(project: Path) -> None:
    (project / "routed.py").write_text(
        "from flowyml import Pipeline, step\n"
        "from flowyml.stacks import LocalStack\n"
        "other = LocalStack(name='other', artifact_path='a', metadata_path='m.db')\n"
        "@step(stack=other)\n"
        "def elsewhere() -> int:\n"
        "    return 1\n"
        "with Pipeline('routed') as routed:\n"
        "    elsewhere()\n",
        encoding="utf-8",
    )
    with pytest.raises(OrchestratorError, match=r"step\(s\) elsewhere declare their own stack"):
        load_pipeline("routed.py:routed").run(stack=airflow_stack(project))
