"""Airflow: the generated DAG parses with Airflow's own DagBag and runs with `airflow dags test`
(Airflow 3 in its own virtualenv, as CI installs it), each task running the flowyml entrypoint;
the run Airflow made, which no flowyml client watched, is recorded by flowyml from the tasks'
records."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from flowyml.cli.loader import load_pipeline
from flowyml.core.records import RunStatus, StepStatus
from flowyml.runtime.binding import bind_stack
from flowyml.runtime.orchestrators.airflow_dag import dag_id
from flowyml.runtime.orchestrators.driver import compile_pipeline
from flowyml.runtime.orchestrators.record import sync_stack
from runtime.orchestrators.helpers import airflow_stack

REPO = Path(__file__).resolve().parents[3]
AIRFLOW = Path(
    os.environ.get(
        "FLOWYML_AIRFLOW", Path.home() / ".cache" / "flowyml-ci" / "airflow" / "bin" / "airflow"
    )
)


@pytest.fixture
def airflow(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """The Airflow CLI of its own venv and an environment with AIRFLOW_HOME in a temp dir."""
    if not AIRFLOW.is_file():
        pytest.skip(f"Airflow is not installed at {AIRFLOW} (`bash .ci/run` makes its venv)")
    env = dict(
        os.environ,
        AIRFLOW_HOME=str(tmp_path / "airflow-home"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
    )
    return AIRFLOW, env


def _compile(project: Path, pipeline: str) -> tuple[object, Path]:
    bound = bind_stack(airflow_stack(project))
    compiled = compile_pipeline(
        load_pipeline(f"pipelines.py:{pipeline}"),
        bound,
        project / "dags" / f"{dag_id(pipeline)}.py",
        build=False,
    )
    return bound, compiled.artifact


def _dags_test(airflow: tuple[Path, dict[str, str]], dags: Path, dag: str) -> str:
    binary, env = airflow
    env = env | {"AIRFLOW__CORE__DAGS_FOLDER": str(dags)}
    subprocess.run([str(binary), "db", "migrate"], env=env, check=True, capture_output=True)
    done = subprocess.run(
        [str(binary), "dags", "test", dag], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout + done.stderr


def test_the_dag_parses_with_airflows_dagbag(
    project: Path, airflow: tuple[Path, dict[str, str]]
) -> None:
    _, artifact = _compile(project, "orchestrated")
    binary, env = airflow
    python = binary.parent / "python"
    script = (
        "from airflow.dag_processing.dagbag import DagBag\n"
        f"bag = DagBag({str(artifact.parent)!r})\n"
        "import json\n"
        "dag = bag.dags.get('flowyml_orchestrated')\n"
        "print(json.dumps({'errors': {k: str(v) for k, v in bag.import_errors.items()},\n"
        "  'tasks': {t.task_id: {'up': sorted(t.upstream_task_ids), 'retries': t.retries,\n"
        "   'timeout': t.execution_timeout.total_seconds() if t.execution_timeout else None,\n"
        "   'rule': getattr(t.trigger_rule, 'value', str(t.trigger_rule)), 'cmd': getattr(t, 'bash_command', '')}\n"
        "   for t in dag.tasks} if dag else None}))\n"
    )
    done = subprocess.run(
        [str(python), "-c", script], env=env, capture_output=True, text=True, check=True
    )
    import json

    parsed = json.loads(done.stdout.strip().splitlines()[-1])
    assert parsed["errors"] == {}
    tasks = parsed["tasks"]
    assert set(tasks) == {"load", "total", "scale", "report", "flowyml_finalize"}
    assert tasks["report"]["up"] == ["scale", "total"]
    assert tasks["total"]["retries"] == 2 and tasks["total"]["timeout"] == 30.0
    assert tasks["load"]["retries"] == 0 and tasks["load"]["timeout"] is None
    assert tasks["flowyml_finalize"]["rule"] == "all_done"
    assert tasks["flowyml_finalize"]["up"] == ["load", "report", "scale", "total"]
    assert "-m flowyml.entrypoint --manifest " in tasks["scale"]["cmd"]
    assert "--step scale --engine-run-id '{{ run_id }}'" in tasks["scale"]["cmd"]


def test_airflow_runs_the_dag_and_flowyml_records_the_run_like_a_local_one(
    project: Path, airflow: tuple[Path, dict[str, str]]
) -> None:
    bound, artifact = _compile(project, "orchestrated")
    log = _dags_test(airflow, artifact.parent, "flowyml_orchestrated")
    assert "flowyml.entrypoint --manifest" in log
    runs = sync_stack(bound)  # what `flowyml runs sync` does for a run nobody watched
    assert len(runs) == 1
    record = bound.metadata_store.get_run(runs[0].run_id)
    assert record.status is RunStatus.COMPLETED and record.ended_at is not None
    steps = {s.name: s for s in record.steps}
    assert {s.status for s in steps.values()} == {StepStatus.COMPLETED}
    assert all(s.executor == "airflow" for s in steps.values())
    store = bound.artifact_store
    report = store.load(steps["report"].outputs["output"])
    local = load_pipeline("pipelines.py:orchestrated").run(
        stack=airflow_stack(project).model_copy(update={"orchestrator": None})
    )
    assert report["total"] == local["report"]["total"] == 45
    assert report["scaled_max"] == local["report"]["scaled_max"] == 45
    assert report["pid"] != os.getpid()  # ran in an Airflow task's process
    # Lineage: report consumed exactly what total and scale produced in that run.
    assert steps["report"].inputs["count"] == steps["total"].outputs["output"]
    assert steps["report"].inputs["scaled"] == steps["scale"].outputs["output"]
    assert b"loading ten numbers" in (store.get_bytes(steps["load"].log_uri or "") or b"")
    # Synced again: nothing new, the finished run is left alone.
    assert sync_stack(bound) == []


def test_airflow_retries_a_failed_attempt_and_both_attempts_are_kept(
    project: Path, airflow: tuple[Path, dict[str, str]]
) -> None:
    (project / "flaky_pipeline.py").write_text(
        "from flowyml import Pipeline\n"
        "from pipelines import flaky\n"
        f"with Pipeline('flaky_run', enable_cache=False) as flaky_run:\n"
        f"    flaky({str(project / 'marker.txt')!r})\n",
        encoding="utf-8",
    )
    bound = bind_stack(airflow_stack(project))
    compiled = compile_pipeline(
        load_pipeline("flaky_pipeline.py:flaky_run"),
        bound,
        project / "dags" / "flowyml_flaky_run.py",
        build=False,
    )
    _dags_test(airflow, compiled.artifact.parent, "flowyml_flaky_run")
    (run,) = sync_stack(bound)
    flaky_step = bound.metadata_store.get_run(run.run_id).steps[0]
    assert flaky_step.status is StepStatus.COMPLETED
    assert flaky_step.attempts == 2
    assert bound.artifact_store.load(flaky_step.outputs["output"]) == "second attempt worked"


@pytest.mark.parametrize(
    ("executor", "operator"),
    [("docker", "DockerOperator"), ("kubernetes", "KubernetesPodOperator")],
)
def test_container_operators_parse_with_their_providers(
    project: Path, airflow: tuple[Path, dict[str, str]], executor: str, operator: str
) -> None:
    """A Docker executor gets DockerOperator tasks, a Kubernetes one KubernetesPodOperator tasks
    (the providers `.ci/run` installs beside Airflow), in the stack's image and limits."""
    from flowyml.stacks.components import (
        DockerConfig,
        DockerExecutor,
        GCRContainerRegistry,
        KubernetesExecutor,
    )

    declared = DockerExecutor() if executor == "docker" else KubernetesExecutor(namespace="ml")
    stack = airflow_stack(
        project,
        executor=declared,
        docker=DockerConfig(image="gcr.io/my-project/steps:1"),
        container_registry=GCRContainerRegistry(uri="gcr.io/my-project"),
    )
    compiled = compile_pipeline(
        load_pipeline("pipelines.py:orchestrated"),
        bind_stack(stack),
        project.parent / "dags" / "flowyml_orchestrated.py",
        build=False,
    )
    binary, env = airflow
    script = (
        "import json\n"
        "from airflow.dag_processing.dagbag import DagBag\n"
        f"bag = DagBag({str(compiled.artifact.parent)!r})\n"
        "dag = bag.dags.get('flowyml_orchestrated')\n"
        "def limits(t):\n"
        "    r = getattr(t, 'container_resources', None)\n"
        "    return dict(r.limits) if r is not None and r.limits else None\n"
        "print(json.dumps({'errors': {k: str(v) for k, v in bag.import_errors.items()},\n"
        "  'tasks': {t.task_id: {'type': type(t).__name__, 'image': getattr(t, 'image', None),\n"
        "    'ns': getattr(t, 'namespace', None), 'limits': limits(t)} for t in dag.tasks}\n"
        "  if dag else None}))\n"
    )
    done = subprocess.run(
        [str(binary.parent / "python"), "-c", script], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    import json

    parsed = json.loads(done.stdout.strip().splitlines()[-1])
    assert parsed["errors"] == {}
    tasks = parsed["tasks"]
    assert {t["type"] for t in tasks.values()} == {operator}
    assert {t["image"] for t in tasks.values()} == {"gcr.io/my-project/steps:1"}
    if executor == "kubernetes":
        assert tasks["scale"]["ns"] == "ml"
        assert tasks["scale"]["limits"] == {"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": "1"}
