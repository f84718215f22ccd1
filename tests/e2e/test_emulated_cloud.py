"""Declaration -> Pulumi program -> outputs -> binding -> a real pipeline run, on an emulated cloud.

The "emulated cloud" harness of DESIGN.md. What is mocked, and why: only the Pulumi engine
(no Pulumi CLI can be installed here), through Pulumi's own mocks, run by
``flowyml.provision.evaluate_program``. Their ``new_resource`` does not fake the resources that
matter, it *creates* them:

- GCS bucket -> a bucket on the GCS emulator; S3 bucket (+ versioning, public access block,
  encryption) -> the same on moto's S3 server;
- Cloud SQL instance / database / user -> the local PostgreSQL plays the instance (no Cloud SQL
  emulator exists), reached through a stand-in for the Cloud SQL Auth Proxy's Unix socket;
  a real database and a real role (member of a group owning the database, as Cloud SQL's
  ``cloudsqlsuperuser``) are created;
- RDS instance -> a real database and its master user on the local PostgreSQL, whose address
  (127.0.0.1:5432) is the instance's;
- the generated password is a real random one.

Resources that have no local counterpart (IAM, registries, APIs) get the plausible outputs of
``flowyml.provision.mock_eval.default_state``. The exported outputs then become
:class:`StackOutputs`, ``bind_stack`` turns them into adapters, and a real pipeline runs: its
artifacts are listed in the bucket and its run is queried from the database.
"""

from __future__ import annotations

import secrets
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import psycopg
import pulumi
import pytest
from psycopg import sql

from flowyml import Pipeline, step
from flowyml.core import outputs as keys
from flowyml.core.outputs import StackOutputs
from flowyml.core.records import RunStatus
from flowyml.infra import program_for
from flowyml.pipeline.runner import run_pipeline
from flowyml.provision import evaluate_program
from flowyml.provision._wire import SECRET_SIG, SIG_KEY
from flowyml.provision.mock_eval import default_state
from flowyml.runtime.binding import bind_stack, clear_cache
from flowyml.stacks.aws import AWSStack
from flowyml.stacks.components import CloudSQLMetadataStore, PostgreSQLMetadataStore
from flowyml.stacks.gcp import GCPStack

from .conftest import POSTGRES_HOST, POSTGRES_PORT, CloudSQLProxy

# The provider SDKs warn about their own deprecated aliases when a module is imported.
pytestmark = pytest.mark.filterwarnings("ignore:.*deprecated in favor of:DeprecationWarning")

Handler = Callable[[str, dict[str, Any]], tuple[str, dict[str, Any]]]


def _plain(value: Any) -> Any:
    """Inputs as plain data: Pulumi secret wrappers removed (the cloud sees clear values)."""
    if isinstance(value, Mapping):
        if value.get(SIG_KEY) == SECRET_SIG:
            return _plain(value.get("value"))
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


class EmulatedCloud(pulumi.runtime.Mocks):
    """Pulumi mocks that create buckets on the emulators and databases on the local PostgreSQL.

    Args:
        postgres: Autocommit admin connection to the local server.
        s3_client: boto3 client of moto's server, or ``None``.
        gcs: gcsfs filesystem of the GCS emulator, or ``None``.
        proxy: The Cloud SQL proxy stand-in, or ``None``.
    """

    def __init__(
        self,
        postgres: psycopg.Connection,
        *,
        s3_client: Any = None,
        gcs: Any = None,
        proxy: CloudSQLProxy | None = None,
    ) -> None:
        self.postgres = postgres
        self.s3 = s3_client
        self.gcs = gcs
        self.proxy = proxy
        self.group = f"cloudsqlsuperuser_{uuid.uuid4().hex[:8]}"
        self.databases: list[str] = []
        self.roles: list[str] = []
        self.created: list[str] = []
        self._lock = threading.Lock()  # the engine registers resources from several threads
        self.handlers: dict[str, Handler] = {
            "gcp:storage/bucket:Bucket": self._gcs_bucket,
            "gcp:sql/databaseInstance:DatabaseInstance": self._cloudsql_instance,
            "gcp:sql/database:Database": self._cloudsql_database,
            "gcp:sql/user:User": self._cloudsql_user,
            "aws:s3/bucket:Bucket": self._s3_bucket,
            "aws:s3/bucketVersioning:BucketVersioning": self._s3_versioning,
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": self._s3_public_block,
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": self._s3_encryption,
            "aws:rds/instance:Instance": self._rds_instance,
            "random:index/randomPassword:RandomPassword": self._password,
        }

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        rid, state = default_state(args.typ, args.name, _plain(args.inputs))
        handler = self.handlers.get(args.typ)
        if handler is not None:
            with self._lock:
                rid, state = handler(rid, state)
                self.created.append(args.typ)
        return rid, state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list | None]:
        return {}, None

    # -- storage ------------------------------------------------------------------------------

    def _gcs_bucket(self, rid: str, state: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        self.gcs.mkdir(state["name"])
        return state["name"], {**state, "url": f"gs://{state['name']}"}

    def _s3_bucket(self, rid: str, state: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        self.s3.create_bucket(Bucket=state["bucket"])
        return state["bucket"], state

    def _s3_versioning(self, rid: str, state: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        status = state["versioningConfiguration"]["status"]
        self.s3.put_bucket_versioning(
            Bucket=state["bucket"], VersioningConfiguration={"Status": status}
        )
        return state["bucket"], state

    def _s3_public_block(self, rid: str, state: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        self.s3.put_public_access_block(
            Bucket=state["bucket"],
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": state["blockPublicAcls"],
                "IgnorePublicAcls": state["ignorePublicAcls"],
                "BlockPublicPolicy": state["blockPublicPolicy"],
                "RestrictPublicBuckets": state["restrictPublicBuckets"],
            },
        )
        return state["bucket"], state

    def _s3_encryption(self, rid: str, state: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        algorithm = state["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"]
        self.s3.put_bucket_encryption(
            Bucket=state["bucket"],
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": algorithm}}]
            },
        )
        return state["bucket"], state

    # -- databases ----------------------------------------------------------------------------

    def _password(self, rid: str, state: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        return rid, {**state, "result": secrets.token_urlsafe(24)}

    def _cloudsql_instance(self, rid: str, state: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        self.proxy.serve(state["connectionName"])
        self.postgres.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(self.group)))
        self.roles.append(self.group)
        return rid, {**state, "publicIpAddress": POSTGRES_HOST}

    def _cloudsql_database(self, rid: str, state: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        self.postgres.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(state["name"]), sql.Identifier(self.group)
            )
        )
        self.databases.append(state["name"])
        return rid, state

    def _cloudsql_user(self, rid: str, state: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        self.postgres.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} IN ROLE {}").format(
                sql.Identifier(state["name"]),
                sql.Literal(state["password"]),
                sql.Identifier(self.group),
            )
        )
        self.roles.insert(0, state["name"])
        return rid, state

    def _rds_instance(self, rid: str, state: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        user, database = state["username"], state["dbName"]
        self.postgres.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(user), sql.Literal(state["password"])
            )
        )
        self.roles.insert(0, user)
        self.postgres.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(database), sql.Identifier(user)
            )
        )
        self.databases.append(database)
        host = POSTGRES_HOST
        return rid, {
            **state,
            "address": host,
            "port": POSTGRES_PORT,
            "endpoint": f"{host}:{POSTGRES_PORT}",
        }

    def teardown(self) -> None:
        """Drop what was created on the PostgreSQL server (buckets vanish with the emulators)."""
        clear_cache()  # close the metadata store's pool first, or DROP DATABASE waits
        for database in self.databases:
            self.postgres.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
            )
        for role in self.roles:
            self.postgres.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture
def emulated_cloud(postgres_admin: psycopg.Connection) -> Iterator[Callable[..., EmulatedCloud]]:
    made: list[EmulatedCloud] = []

    def make(**kwargs: Any) -> EmulatedCloud:
        cloud = EmulatedCloud(postgres_admin, **kwargs)
        made.append(cloud)
        return cloud

    yield make
    for cloud in made:
        cloud.teardown()


@step
def load(n: int = 5) -> list[int]:
    return list(range(n))


@step
def square(xs: list[int]) -> list[int]:
    return [x * x for x in xs]


@step
def total(xs: list[int]) -> int:
    return sum(xs)


def _pipeline(name: str) -> Pipeline:
    with Pipeline(name) as pipeline:
        total(square(load()))
    return pipeline


def _outputs(stack_name: str, evaluation: Any, **replace: str) -> StackOutputs:
    values = dict(evaluation.outputs)
    for key, (old, new) in {k: tuple(v.split("|")) for k, v in replace.items()}.items():
        values[key] = values[key].replace(old, new)
    return StackOutputs(
        stack=stack_name, values=values, secrets=evaluation.secret_outputs, engine="emulated"
    )


def _runs_in(database: str, user: str) -> list[tuple[str, str, str]]:
    dsn = f"host={POSTGRES_HOST} port={POSTGRES_PORT} user={user} dbname={database}"
    with psycopg.connect(dsn) as connection:
        rows = connection.execute("SELECT run_id, pipeline, status FROM runs").fetchall()
    return [tuple(row) for row in rows]


def test_gcp_stack_end_to_end(
    gcs_emulator: Any,
    cloudsql_proxy: CloudSQLProxy,
    emulated_cloud: Callable[..., EmulatedCloud],
    unique: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import gcsfs

    gcs = gcsfs.GCSFileSystem(**gcs_emulator.storage_options, skip_instance_cache=True)
    cloud = emulated_cloud(gcs=gcs, proxy=cloudsql_proxy)
    db_name = f"flowyml_e2e_{unique}"
    # Steps run on this machine (use_vertex=False: a LocalExecutor) against the cloud's
    # stores; a Vertex executor would be refused (tests/runtime/test_executor_seam.py).
    stack = GCPStack(
        name="production",
        project_id="my-gcp-project",
        bucket_name=f"flowyml-e2e-{unique}",
        database={"deletion_protection": False},
        metadata_store=CloudSQLMetadataStore(database=db_name, user=db_name),
        use_vertex=False,
    )

    evaluation = evaluate_program(
        program_for(stack), project="flowyml", stack=stack.name, mocks=cloud
    )

    assert gcs.exists(stack.bucket_name)
    assert evaluation.outputs[keys.ARTIFACT_URI] == f"gs://{stack.bucket_name}"
    assert keys.METADATA_URL in evaluation.secret_outputs
    # The exported URL names the proxy socket directory of Cloud Run / GKE (/cloudsql); this
    # machine's proxy stand-in serves it from its own directory, as `--unix-socket DIR` does,
    # and FLOWYML_CLOUDSQL_SOCKET_DIR tells the binding so.
    assert f"host=/cloudsql/{stack.project_id}:" in evaluation.outputs[keys.METADATA_URL]
    monkeypatch.setenv("FLOWYML_CLOUDSQL_SOCKET_DIR", str(cloudsql_proxy.socket_dir))
    outputs = _outputs(stack.name, evaluation)
    assert "[secret]" in repr(outputs) and outputs.reveal(keys.METADATA_URL) not in repr(outputs)

    result = run_pipeline(_pipeline("e2e_gcp"), bind_stack(stack, outputs))

    assert result.status is RunStatus.COMPLETED, result.error
    assert result["total"] == 30
    stored = gcs.find(stack.bucket_name)
    assert any(f"/e2e_gcp/{result.run_id}/total/" in path for path in stored), stored
    assert len([p for p in stored if result.run_id in p]) >= 3
    assert _runs_in(db_name, db_name) == [(result.run_id, "e2e_gcp", "completed")]


def test_aws_stack_end_to_end(
    s3_emulator: Any, emulated_cloud: Callable[..., EmulatedCloud], unique: str
) -> None:
    client = s3_emulator.client()
    cloud = emulated_cloud(s3_client=client)
    db_name = f"flowyml_e2e_{unique}"
    stack = AWSStack(
        name="aws-prod",
        s3_bucket=f"flowyml-e2e-{unique}",
        database={"deletion_protection": False},
        metadata_store=PostgreSQLMetadataStore(
            provisioned_by="rds", database=db_name, user=db_name
        ),
    )

    evaluation = evaluate_program(
        program_for(stack), project="flowyml", stack=stack.name, mocks=cloud
    )

    bucket = stack.s3_bucket
    assert client.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    block = client.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4
    outputs = _outputs(stack.name, evaluation)
    assert outputs.get(keys.METADATA_URL).startswith(f"postgresql+psycopg://{db_name}:")

    result = run_pipeline(_pipeline("e2e_aws"), bind_stack(stack, outputs))

    assert result.status is RunStatus.COMPLETED, result.error
    assert result["total"] == 30
    listed = client.list_objects_v2(Bucket=bucket).get("Contents", [])
    keys_in_bucket = [item["Key"] for item in listed]
    assert any(f"e2e_aws/{result.run_id}/total/" in key for key in keys_in_bucket), keys_in_bucket
    assert _runs_in(db_name, db_name) == [(result.run_id, "e2e_aws", "completed")]
