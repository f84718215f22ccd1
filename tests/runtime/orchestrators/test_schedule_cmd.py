"""`flowyml schedule create|list|delete|sync` on an Airflow stack (the DAG's own schedule), with
the DAG folder on the local disk and on gs:// (Cloud Composer's) through fsspec."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner

from flowyml.cli.main import cli
from flowyml.stacks.components import AirflowOrchestrator
from runtime.orchestrators.helpers import airflow_stack


def _declare(project: Path, stack: Any) -> None:
    data = {"stacks": {stack.name: {k: v for k, v in stack.to_dict().items() if k != "name"}}}
    (project / "flowyml.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")


def _schedule_of(text: str) -> Any:
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "DAG":
            return next(ast.literal_eval(k.value) for k in node.keywords if k.arg == "schedule")
    return None


def test_create_list_delete_an_airflow_schedule(project: Path) -> None:
    _declare(project, airflow_stack(project))
    runner = CliRunner()
    made = runner.invoke(
        cli,
        [
            "schedule",
            "create",
            "pipelines.py:orchestrated",
            "--stack",
            "air",
            "--cron",
            "0 3 * * *",
        ],
    )
    assert made.exit_code == 0, made.output
    dag = project / "dags" / "flowyml_orchestrated.py"
    assert _schedule_of(dag.read_text()) == "0 3 * * *"
    listed = runner.invoke(cli, ["schedule", "list", "--stack", "air"])
    assert listed.exit_code == 0, listed.output
    assert "orchestrated" in listed.output and "0 3 * * *" in listed.output
    gone = runner.invoke(cli, ["schedule", "delete", "flowyml_orchestrated", "--stack", "air"])
    assert gone.exit_code == 0, gone.output
    assert not dag.exists()
    assert "no schedules" in runner.invoke(cli, ["schedule", "list", "--stack", "air"]).output
    synced = runner.invoke(cli, ["schedule", "sync", "--stack", "air"])
    assert synced.exit_code == 0 and "0 run(s) brought up to date" in synced.output


def test_a_bad_cron_is_refused_in_one_line(project: Path) -> None:
    _declare(project, airflow_stack(project))
    done = CliRunner().invoke(
        cli,
        ["schedule", "create", "pipelines.py:orchestrated", "--stack", "air", "--cron", "daily"],
    )
    assert done.exit_code != 0
    assert "not a five-field cron expression" in str(done.exception)
    assert not (project / "dags").exists()


def test_the_dag_folder_can_be_a_gcs_bucket(project: Path, gcs_emulator: Any) -> None:
    import gcsfs

    bucket = gcs_emulator.new_bucket()
    stack = airflow_stack(project).model_copy(
        update={"orchestrator": AirflowOrchestrator(dag_folder=f"gs://{bucket}/dags")}
    )
    _declare(project, stack)
    runner = CliRunner()
    made = runner.invoke(
        cli,
        [
            "schedule",
            "create",
            "pipelines.py:orchestrated",
            "--stack",
            "air",
            "--cron",
            "30 1 * * 1",
        ],
    )
    assert made.exit_code == 0, made.output
    fs = gcsfs.GCSFileSystem(**gcs_emulator.storage_options, skip_instance_cache=True)
    text = fs.cat_file(f"{bucket}/dags/flowyml_orchestrated.py").decode()
    assert _schedule_of(text) == "30 1 * * 1"
    assert "30 1 * * 1" in runner.invoke(cli, ["schedule", "list", "--stack", "air"]).output
