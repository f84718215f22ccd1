"""bind_stack: declarations and recorded outputs become live, cached adapters."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from emulators import GCSEmulator, S3Emulator

from flowyml.core.outputs import ARTIFACT_URI, METADATA_URL, REGISTRY_URI, StackOutputs
from flowyml.core.records import RunRecord, RunStatus
from flowyml.pipeline.ports import RuntimeStack
from flowyml.runtime.binding import BoundStack, bind_stack, clear_cache
from flowyml.runtime.errors import BindingError, StackNotProvisionedError
from flowyml.runtime.executors.local import ProcessStrategy
from flowyml.stacks import LocalStack, Stack
from flowyml.stacks.aws import AWSStack
from flowyml.stacks.components import (
    LocalExecutor,
    PostgreSQLMetadataStore,
    S3ArtifactStore,
    SQLiteMetadataStore,
)
from flowyml.stacks.gcp import GCPStack


def _exercise(bound: BoundStack, run_id: str = "run-1") -> None:
    """Save an artifact and record a run through the bound adapters."""
    ref = bound.artifact_store.save({"ok": True}, f"demo/{run_id}/step/output")
    assert bound.artifact_store.load(ref) == {"ok": True}
    bound.metadata_store.start_run(
        RunRecord(run_id, "demo", RunStatus.RUNNING, started_at=_now(), stack=bound.name)
    )
    assert bound.metadata_store.get_run(run_id).stack == bound.name


def _now():  # type: ignore[no-untyped-def]
    from datetime import datetime, timezone

    return datetime.now(timezone.utc)


def test_local_stack_binds_under_the_project_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOWYML_PROJECT_DIR", str(tmp_path))
    bound = bind_stack(LocalStack())
    assert isinstance(bound, RuntimeStack)
    assert bound.name == "local"
    assert bound.artifact_store.root_uri == (tmp_path / ".flowyml/artifacts").as_uri()
    assert bound.metadata_store.url == f"sqlite:///{tmp_path / '.flowyml/metadata.db'}"
    _exercise(bound)
    assert (tmp_path / ".flowyml/metadata.db").is_file()


def test_binding_again_reuses_the_adapters(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWYML_PROJECT_DIR", str(tmp_path))
    first, second = bind_stack(LocalStack()), bind_stack(LocalStack())
    assert second.metadata_store is first.metadata_store
    assert second.artifact_store is first.artifact_store


def test_custom_stack_on_s3_and_postgresql(s3_emulator: S3Emulator, fresh_database: object) -> None:
    url = sa.make_url(fresh_database("postgresql"))  # type: ignore[operator]
    bucket = s3_emulator.new_bucket()
    stack = Stack(
        "team",
        executor=LocalExecutor(max_workers=3),
        artifact_store=S3ArtifactStore(bucket=bucket, endpoint_url=s3_emulator.endpoint_url),
        metadata_store=PostgreSQLMetadataStore(
            host=url.host,
            port=url.port,
            database=url.database,
            user=url.username,
            password="hunter2",  # the local server trusts everyone; it must never be shown
        ),
    )
    bound = bind_stack(stack)
    assert bound.artifact_store.root_uri == f"s3://{bucket}"
    assert bound.max_workers == 3
    _exercise(bound)
    listed = s3_emulator.client().list_objects_v2(Bucket=bucket)["Contents"]
    assert [o["Key"] for o in listed] == ["demo/run-1/step/output.json"]
    assert "hunter2" not in repr(bound)


def test_cloud_stack_without_outputs_says_to_provision() -> None:
    stack = GCPStack("prod", project_id="my-project-123", bucket_name="my-bucket-123")
    with pytest.raises(StackNotProvisionedError) as caught:
        bind_stack(stack)
    message = str(caught.value)
    assert "run `flowyml stack up prod`" in message
    assert "\n" not in message


def test_gcp_stack_binds_from_outputs(gcs_emulator: GCSEmulator, fresh_database: object) -> None:
    bucket = gcs_emulator.new_bucket()
    db_url = fresh_database("postgresql")  # type: ignore[operator]
    stack = GCPStack("prod", project_id="my-project-123", bucket_name=bucket)
    outputs = StackOutputs(
        stack="prod",
        values={
            ARTIFACT_URI: f"gs://{bucket}/artifacts",
            METADATA_URL: db_url,
            REGISTRY_URI: "us-central1-docker.pkg.dev/my-project-123/flowyml",
        },
        secrets=frozenset({METADATA_URL}),
        engine="emulated",
    )
    bound = bind_stack(stack, outputs)
    assert bound.registry_uri == "us-central1-docker.pkg.dev/my-project-123/flowyml"
    assert bound.executor_kind == "vertex_ai"
    _exercise(bound)
    import gcsfs

    fs = gcsfs.GCSFileSystem(**gcs_emulator.storage_options, skip_instance_cache=True)
    assert fs.find(f"{bucket}/artifacts") == [f"{bucket}/artifacts/demo/run-1/step/output.json"]


def test_aws_stack_binds_from_outputs(s3_emulator: S3Emulator, tmp_path: Path) -> None:
    bucket = s3_emulator.new_bucket()
    stack = AWSStack("aws-prod", s3_bucket=bucket, database=None)
    outputs = StackOutputs(
        stack="aws-prod",
        values={ARTIFACT_URI: f"s3://{bucket}", METADATA_URL: f"sqlite:///{tmp_path / 'm.db'}"},
        secrets=frozenset({METADATA_URL}),
    )
    bound = bind_stack(stack, outputs)  # the endpoint comes from AWS_ENDPOINT_URL (moto)
    _exercise(bound)
    assert s3_emulator.client().list_objects_v2(Bucket=bucket)["KeyCount"] == 1


def test_outputs_without_a_database_url_for_cloud_sql_is_a_binding_error(tmp_path: Path) -> None:
    stack = GCPStack("prod", project_id="my-project-123", bucket_name="my-bucket-123")
    outputs = StackOutputs(stack="prod", values={ARTIFACT_URI: (tmp_path / "a").as_uri()})
    with pytest.raises(BindingError, match="known only after provisioning"):
        bind_stack(stack, outputs)


def test_local_outputs_take_precedence_over_the_declaration(tmp_path: Path) -> None:
    stack = Stack(
        "dev",
        executor=LocalExecutor(),
        artifact_store=S3ArtifactStore(bucket="declared-bucket"),
        metadata_store=SQLiteMetadataStore(path=str(tmp_path / "declared.db")),
    )
    outputs = StackOutputs(
        stack="dev",
        values={
            ARTIFACT_URI: (tmp_path / "recorded").as_uri(),
            METADATA_URL: f"sqlite:///{tmp_path / 'recorded.db'}",
        },
        engine="local",
    )
    bound = bind_stack(stack, outputs)
    assert bound.artifact_store.root_uri == (tmp_path / "recorded").as_uri()
    _exercise(bound)
    assert (tmp_path / "recorded.db").is_file() and not (tmp_path / "declared.db").exists()


def test_bound_stack_hands_the_loop_a_process_strategy_when_declared(tmp_path: Path) -> None:
    stack = Stack(
        "cpu",
        executor=LocalExecutor(use_processes=True),
        artifact_store={"kind": "local", "path": str(tmp_path / "a")},
        metadata_store=SQLiteMetadataStore(path=str(tmp_path / "m.db")),
    )
    strategy = bind_stack(stack).step_executor(1)
    try:
        assert isinstance(strategy, ProcessStrategy)
    finally:
        strategy.shutdown()


def test_cloud_stack_binds_from_the_outputs_stack_up_recorded(
    s3_emulator: S3Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flowyml.provision.state import save_outputs

    monkeypatch.setenv("FLOWYML_PROJECT_DIR", str(tmp_path))
    monkeypatch.setenv("FLOWYML_PASSPHRASE", "test-passphrase")
    bucket = s3_emulator.new_bucket()
    stack = AWSStack("aws-recorded", s3_bucket=bucket, database=None)
    with pytest.raises(StackNotProvisionedError):
        bind_stack(stack)
    save_outputs(
        StackOutputs(
            stack="aws-recorded",
            values={
                ARTIFACT_URI: f"s3://{bucket}/runs",
                METADATA_URL: f"sqlite:///{tmp_path / 'recorded.db'}",
            },
            secrets=frozenset({METADATA_URL}),
        )
    )
    bound = bind_stack(stack)  # no outputs given: the recorded ones are used
    assert bound.artifact_store.root_uri == f"s3://{bucket}/runs"
    _exercise(bound, "run-recorded")
    assert (tmp_path / "recorded.db").is_file()


def _k8s_outputs(namespace: str = "flowyml") -> StackOutputs:
    """What the Kubernetes program exports (flowyml/infra/k8s.py)."""
    return StackOutputs(
        stack="k8s-cluster",
        values={
            ARTIFACT_URI: f"pvc://{namespace}/flowyml-artifacts",
            "namespace": namespace,
            "executor": "kubernetes",
        },
        engine="pulumi",
    )


def test_pvc_artifacts_bind_to_the_mount_path_inside_a_pod(tmp_path: Path) -> None:
    from flowyml.stacks.k8s import KubernetesStack

    # A pod's view: the claim is mounted at mount_path (here a real directory standing for it).
    mount = tmp_path / "mnt" / "flowyml"
    mount.mkdir(parents=True)
    stack = KubernetesStack(name="k8s-cluster", mount_path=str(mount))

    bound = bind_stack(stack, _k8s_outputs())

    assert bound.artifact_store.root_uri == (mount / "artifacts").as_uri()
    assert bound.metadata_store.url == f"sqlite:///{mount / 'metadata.db'}"
    _exercise(bound)
    assert (mount / "artifacts/demo/run-1/step/output.json").is_file()


def test_pvc_artifacts_outside_a_pod_are_a_one_line_error_saying_where(tmp_path: Path) -> None:
    import socket

    from flowyml.stacks.k8s import KubernetesStack

    missing = tmp_path / "not-mounted"
    stack = KubernetesStack(name="k8s-cluster", mount_path=str(missing))

    with pytest.raises(BindingError) as caught:
        bind_stack(stack, _k8s_outputs("ml"))

    message = str(caught.value)
    assert "\n" not in message
    assert "volume claim flowyml-artifacts (namespace ml)" in message
    assert f"{missing} does not exist here (host {socket.gethostname()}" in message
    assert "To fix: run the pipeline in a pod" in message
    assert not missing.exists()  # binding created nothing in its place


def test_cloudsql_socket_dir_defaults_to_the_proxy_directory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from flowyml.runtime.binding import cloudsql_socket_url

    url = "postgresql+psycopg://flowyml:p%2Fa%40s@/flowyml?host=/cloudsql/proj:us-central1:inst"
    monkeypatch.delenv("FLOWYML_CLOUDSQL_SOCKET_DIR", raising=False)
    assert cloudsql_socket_url(url) == url
    assert cloudsql_socket_url(url, "/cloudsql/") == url
    moved = sa.make_url(cloudsql_socket_url(url, "/run/csql/"))
    assert moved.query["host"] == "/run/csql/proj:us-central1:inst"
    assert moved.password == "p/a@s" and moved.database == "flowyml"
    tcp = "postgresql+psycopg://u:p@db.example:5432/flowyml"
    assert cloudsql_socket_url(tcp, "/run/csql") == tcp  # only Cloud SQL socket URLs move


def test_cloudsql_url_binds_through_the_configured_socket_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_database: object
) -> None:
    # The local PostgreSQL's socket directory stands for the Cloud SQL Auth Proxy's
    # `--unix-socket DIR/<connection name>`: a real server answers on the rewritten path.
    database = sa.make_url(fresh_database("postgresql")).database  # type: ignore[operator]
    server_sockets = Path("/var/run/postgresql")
    if not (server_sockets / ".s.PGSQL.5432").exists():
        pytest.fail("the local PostgreSQL has no Unix socket in /var/run/postgresql")
    socket_dir = Path(tempfile.mkdtemp(prefix="csql", dir="/tmp"))  # socket paths <= 107 bytes
    connection = "my-project-123:us-central1:prod-metadata"
    (socket_dir / connection).symlink_to(server_sockets)
    monkeypatch.setenv("FLOWYML_CLOUDSQL_SOCKET_DIR", str(socket_dir))
    stack = GCPStack("prod", project_id="my-project-123", bucket_name="my-bucket-123")
    outputs = StackOutputs(
        stack="prod",
        values={
            ARTIFACT_URI: (tmp_path / "artifacts").as_uri(),
            METADATA_URL: f"postgresql+psycopg://postgres:x@/{database}?host=/cloudsql/{connection}",
        },
        secrets=frozenset({METADATA_URL}),
    )
    try:
        bound = bind_stack(stack, outputs)
        assert sa.make_url(bound.metadata_store.url).query["host"] == f"{socket_dir}/{connection}"
        _exercise(bound, "run-csql")
    finally:
        clear_cache()
        shutil.rmtree(socket_dir, ignore_errors=True)
