"""Run a Pulumi program under Pulumi's mocks and capture what it declares, with no CLI.

:func:`evaluate_program` is how the offline planner and the program tests see a program: every
registered resource (type token, name, URN, inputs as the engine sees them, parent, secret keys)
and the stack's exported outputs (with secret flags).

Invariants:
- Pulumi's runtime keeps its settings, root resource and config in ``ContextVar`` s and an event
  loop per thread. Each evaluation runs on a fresh thread with a fresh loop, so nothing leaks from
  one evaluation into the next (or into the caller) and it can be called any number of times.
- URNs are built as the real engine builds them: resources whose parent is the root stack get no
  ``pulumi:pulumi:Stack$`` prefix (Pulumi's own mock monitor adds one, which would never match a
  real checkpoint).
- Inputs are read from the wire form the SDK sends to the engine (camelCase keys), so secrets and
  unknowns are visible; values are kept in clear here (in memory only) and secret keys are listed.
- ``pulumi`` is imported lazily, inside the functions that need it.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flowyml.core.plan import SECRET_MASK
from flowyml.provision._wire import SECRET_SIG, SIG_KEY, decode, top_level
from flowyml.provision.errors import ProgramError, PulumiNotInstalledError

if TYPE_CHECKING:
    import pulumi.runtime

ROOT_STACK_TYPE = "pulumi:pulumi:Stack"
MOCK_ACCOUNT_ID = "123456789012"


@dataclass(frozen=True)
class EvaluatedResource:
    """One resource a program registered.

    Attributes:
        urn: ``urn:pulumi:<stack>::<project>::<parent-type$>type::name``.
        type: Type token, e.g. ``gcp:storage/bucket:Bucket``.
        name: Logical name.
        inputs: Inputs as the engine sees them (camelCase), secrets in clear (memory only).
        parent: URN of the parent resource, ``None`` when the parent is the root stack.
        secret_inputs: Top-level input keys whose value is (or holds) a secret.
        unknown_inputs: Top-level input keys whose value is unknown during preview.
        custom: False for component resources (they own no cloud object).
        provider: Provider reference string, when one was given.
        id: The id the mocks returned.
        state: The outputs the mocks returned (secrets in clear).
        delete_before_replace: The program asked for the old one to go before its replacement.
    """

    urn: str
    type: str
    name: str
    inputs: Mapping[str, Any]
    parent: str | None = None
    secret_inputs: tuple[str, ...] = ()
    unknown_inputs: tuple[str, ...] = ()
    custom: bool = True
    provider: str | None = None
    id: str | None = None
    state: Mapping[str, Any] = field(default_factory=dict)
    delete_before_replace: bool = False

    def masked_inputs(self) -> dict[str, Any]:
        """Inputs safe to show: secret keys replaced with ``[secret]``."""
        return {k: (SECRET_MASK if k in self.secret_inputs else v) for k, v in self.inputs.items()}


@dataclass(frozen=True)
class Evaluation:
    """Everything one program evaluation declared.

    Attributes:
        project: Pulumi project name used.
        stack: Pulumi stack name used.
        resources: Registered resources, in registration order (root stack excluded).
        outputs: Exported stack outputs (secrets in clear; ``None`` for unknown values).
        secret_outputs: Names of secret outputs.
        unknown_outputs: Names of outputs whose value is unknown until apply.
        diagnostics: Warnings and errors the program logged.
    """

    project: str
    stack: str
    resources: tuple[EvaluatedResource, ...] = ()
    outputs: Mapping[str, Any] = field(default_factory=dict)
    secret_outputs: frozenset[str] = frozenset()
    unknown_outputs: frozenset[str] = frozenset()
    diagnostics: tuple[str, ...] = ()

    @property
    def stack_urn(self) -> str:
        return f"urn:pulumi:{self.stack}::{self.project}::{ROOT_STACK_TYPE}::{self.project}-{self.stack}"

    def by_type(self, type_token: str) -> list[EvaluatedResource]:
        """Resources of one type token, in registration order."""
        return [r for r in self.resources if r.type == type_token]

    def by_urn(self) -> dict[str, EvaluatedResource]:
        return {r.urn: r for r in self.resources}

    def get(self, name: str, type_token: str | None = None) -> EvaluatedResource:
        """The one resource named ``name`` (optionally of ``type_token``); ``KeyError`` if none."""
        found = [r for r in self.resources if r.name == name and type_token in (None, r.type)]
        if len(found) != 1:
            raise KeyError(f"{len(found)} resources named {name!r} (type {type_token})")
        return found[0]

    def masked_outputs(self) -> dict[str, Any]:
        return {
            k: (SECRET_MASK if k in self.secret_outputs else v) for k, v in self.outputs.items()
        }


def build_urn(stack: str, project: str, type_token: str, name: str, parent_urn: str | None) -> str:
    """Build a URN the way the Pulumi engine does.

    The parent's qualified type is prefixed (``parent$type``) unless the parent is the root stack.
    """
    qualified = type_token
    if parent_urn:
        parent_qualified = parent_urn.split("::")[2]
        if parent_qualified != ROOT_STACK_TYPE:
            qualified = f"{parent_qualified}${type_token}"
    return f"urn:pulumi:{stack}::{project}::{qualified}::{name}"


def _is_secret(value: Any) -> bool:
    return isinstance(value, Mapping) and value.get(SIG_KEY) == SECRET_SIG


def _unwrap(value: Any) -> Any:
    """Strip secret wrappers that the mock layer leaves in inputs (state must be plain)."""
    if isinstance(value, Mapping):
        if value.get(SIG_KEY) == SECRET_SIG:
            return _unwrap(value.get("value"))
        return {k: _unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    return value


def _fake_hex(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:12]


def default_state(
    type_token: str, name: str, inputs: Mapping[str, Any]
) -> tuple[str, dict[str, Any]]:
    """Plausible ``(id, outputs)`` for a resource: its inputs plus the outputs programs read.

    Deterministic (no randomness), so two evaluations of the same program export the same values.
    """
    state: dict[str, Any] = dict(inputs)
    state.setdefault("name", name)
    rid = f"{name}-id"
    pkg = type_token.split(":", 1)[0]
    project = str(inputs.get("project", "mock-project"))
    region = str(inputs.get("region", inputs.get("location", "us-central1"))).lower()
    if pkg == "gcp":
        state.setdefault("selfLink", f"https://www.googleapis.com/mock/{project}/{name}")
        state.setdefault("project", project)
    if pkg == "aws":
        service = type_token.split(":")[1].split("/")[0]
        state.setdefault("arn", f"arn:aws:{service}:us-east-1:{MOCK_ACCOUNT_ID}:{name}")
    if type_token == "gcp:storage/bucket:Bucket":
        state.setdefault("url", f"gs://{state['name']}")
        rid = str(state["name"])
    elif type_token == "gcp:sql/databaseInstance:DatabaseInstance":
        state.setdefault("connectionName", f"{project}:{region}:{state['name']}")
        state.setdefault("publicIpAddress", "203.0.113.5")
        state.setdefault("privateIpAddress", "10.0.0.5")
        state.setdefault("firstIpAddress", "203.0.113.5")
    elif type_token == "gcp:serviceaccount/account:Account":
        account = inputs.get("accountId", name)
        state.setdefault("email", f"{account}@{project}.iam.gserviceaccount.com")
        state.setdefault("member", f"serviceAccount:{state['email']}")
    elif type_token == "gcp:container/cluster:Cluster":
        state.setdefault("endpoint", "203.0.113.10")
        state.setdefault("masterAuth", {"clusterCaCertificate": "bW9jaw=="})
    elif type_token in ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"):
        state.setdefault("bucket", state.get("bucketPrefix") or name)
        state["arn"] = f"arn:aws:s3:::{state['bucket']}"
        rid = str(state["bucket"])
    elif type_token == "aws:rds/instance:Instance":
        host = f"{name}.{_fake_hex(name)}.us-east-1.rds.amazonaws.com"
        state.setdefault("address", host)
        state.setdefault("endpoint", f"{host}:5432")
        state.setdefault("port", 5432)
    elif type_token == "aws:ecr/repository:Repository":
        repo = state["name"]
        state.setdefault(
            "repositoryUrl", f"{MOCK_ACCOUNT_ID}.dkr.ecr.us-east-1.amazonaws.com/{repo}"
        )
    elif type_token == "aws:eks/cluster:Cluster":
        state.setdefault(
            "endpoint", f"https://{_fake_hex(name).upper()}.gr7.us-east-1.eks.amazonaws.com"
        )
        state.setdefault("certificateAuthority", {"data": "bW9jaw=="})
        issuer = f"https://oidc.eks.us-east-1.amazonaws.com/id/{_fake_hex('oidc', name).upper()}"
        state.setdefault("identities", [{"oidcs": [{"issuer": issuer}]}])
        vpc_config = dict(state.get("vpcConfig") or {})
        vpc_config.setdefault("clusterSecurityGroupId", f"sg-{_fake_hex('cluster-sg', name)}")
        state["vpcConfig"] = vpc_config
    elif type_token == "random:index/randomPassword:RandomPassword":
        state.setdefault("result", f"mock-{_fake_hex('password', name)}")
        state.setdefault("bcryptHash", "$2a$10$mock")
    elif type_token == "random:index/randomId:RandomId":
        state.setdefault("hex", _fake_hex("id", name)[:8])
    elif pkg == "kubernetes":
        meta = dict(state.get("metadata") or {})
        meta.setdefault("name", name)
        state["metadata"] = meta
        rid = f"{meta.get('namespace', 'default')}/{meta['name']}"
    return rid, state


_CALL_RESULTS: dict[str, dict[str, Any]] = {
    "aws:index/getCallerIdentity:getCallerIdentity": {
        "accountId": MOCK_ACCOUNT_ID,
        "arn": f"arn:aws:iam::{MOCK_ACCOUNT_ID}:user/mock",
        "userId": "AIDAMOCK",
        "id": MOCK_ACCOUNT_ID,
    },
    "aws:index/getRegion:getRegion": {"name": "us-east-1", "id": "us-east-1"},
    "aws:index/getPartition:getPartition": {"partition": "aws", "dnsSuffix": "amazonaws.com"},
    "gcp:organizations/getProject:getProject": {"number": "123456789012"},
    "aws:index/getAvailabilityZones:getAvailabilityZones": {},
    "gcp:organizations/getClientConfig:getClientConfig": {"accessToken": "mock"},
}


def _default_mocks(*, unknown_outputs: bool = False) -> pulumi.runtime.Mocks:
    import pulumi.runtime

    class DefaultMocks(pulumi.runtime.Mocks):
        """Inputs become state, plus the outputs programs commonly read (see default_state)."""

        def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
            if unknown_outputs:
                # No id and only the inputs: in a dry run the SDK then treats the id and every
                # other output as unknown, as a real preview does for resources to be created.
                return None, dict(_unwrap(args.inputs))
            return default_state(args.typ, args.name, _unwrap(args.inputs))

        def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list]:
            result = dict(_unwrap(args.args))
            result.update(_CALL_RESULTS.get(args.token, {}))
            if args.token == "aws:index/getAvailabilityZones:getAvailabilityZones":
                # Three zones, as most regions have; named from the region asked about.
                region = str(result.get("region") or "us-east-1")
                result["names"] = [f"{region}{z}" for z in "abc"]
            if args.token == "gcp:organizations/getProject:getProject":
                result.setdefault("projectId", result.get("projectId") or "mock-project")
            return result, []

    return DefaultMocks()


def preview_mocks() -> pulumi.runtime.Mocks:
    """Mocks for the offline planner: what only the provider computes stays unknown.

    A created resource's id and computed outputs (an ARN, an address, a generated password)
    are unknown to a real preview too; inventing them would put made-up values into the plan
    and, diffed against a real checkpoint, show changes that are not there (a role id
    ``runner-id`` against the real ``flowyml-runner``). Data-source calls still answer.
    """
    return _default_mocks(unknown_outputs=True)


class _Collected:
    """What the recording monitor saw, filled from the monitor's worker threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.resources: list[EvaluatedResource] = []
        self.outputs: Any = None
        self.diagnostics: list[str] = []


class _ListHandler(logging.Handler):
    def __init__(self, sink: list[str]) -> None:
        super().__init__(level=logging.WARNING)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        self.sink.append(f"{record.levelname.lower()}: {record.getMessage()}")


def _run(
    program: Callable[[], None],
    project: str,
    stack: str,
    config: Mapping[str, str],
    mocks: pulumi.runtime.Mocks,
    collected: _Collected,
) -> None:
    """Body of the worker thread: configure Pulumi's mock runtime, run the program in a stack."""
    import asyncio

    from google.protobuf import json_format, struct_pb2
    from pulumi.runtime import config as pulumi_config
    from pulumi.runtime import mocks as pulumi_mocks
    from pulumi.runtime import settings as pulumi_settings
    from pulumi.runtime import stack as pulumi_stack
    from pulumi.runtime.proto import resource_pb2
    from pulumi.runtime.sync_await import _sync_await

    class RecordingMonitor(pulumi_mocks.MockMonitor):
        """Pulumi's mock monitor, with engine-shaped URNs and a record of the wire inputs."""

        def make_urn(self, parent: str, type_: str, name: str) -> str:
            return build_urn(stack, project, type_, name, parent or None)

        def RegisterResource(self, request: Any) -> Any:
            response = super().RegisterResource(request)
            if request.type == ROOT_STACK_TYPE:
                return response
            wire = json_format.MessageToDict(request.object, preserving_proto_field_name=True)
            inputs = decode(wire, mask_secrets=False)
            # The real engine marks as secret the outputs named in additionalSecretOutputs and
            # those whose input was secret; the mock monitor does not, so do it here, or a
            # generated password would be exported in clear.
            secret_keys = {*request.additionalSecretOutputs, *top_level(inputs.secret_paths)}
            response = _mark_secret_outputs(response, secret_keys)
            registered = self.resources.get(response.urn)
            parent = request.parent or None
            if parent and parent.split("::")[2] == ROOT_STACK_TYPE:
                parent = None
            resource = EvaluatedResource(
                urn=response.urn,
                type=request.type,
                name=request.name,
                inputs=inputs.value or {},
                parent=parent,
                secret_inputs=top_level(inputs.secret_paths),
                unknown_inputs=top_level(inputs.unknown_paths),
                custom=bool(request.custom),
                provider=request.provider or None,
                id=registered.id if registered else None,
                state=_unwrap(registered.state) if registered else {},
                delete_before_replace=bool(request.deleteBeforeReplace),
            )
            with collected.lock:
                collected.resources.append(resource)
            return response

        def RegisterResourceOutputs(self, request: Any) -> Any:
            if request.urn.split("::")[2] == ROOT_STACK_TYPE:
                wire = json_format.MessageToDict(request.outputs, preserving_proto_field_name=True)
                with collected.lock:
                    collected.outputs = wire
            return super().RegisterResourceOutputs(request)

    def _mark_secret_outputs(response: Any, keys: set[str]) -> Any:
        state = json_format.MessageToDict(response.object, preserving_proto_field_name=True)
        hits = [k for k in keys if k in state and not _is_secret(state[k])]
        if not hits:
            return response
        for key in hits:
            state[key] = {SIG_KEY: SECRET_SIG, "value": state[key]}
        obj = struct_pb2.Struct()
        obj.update(state)
        return resource_pb2.RegisterResourceResponse(urn=response.urn, id=response.id, object=obj)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    logger = logging.Logger(f"flowyml.mock_eval.{project}.{stack}")
    logger.addHandler(_ListHandler(collected.diagnostics))
    try:
        monitor = RecordingMonitor(mocks)
        features = set(monitor.GetDeploymentInfo(None).supportedFeatures)
        # What set_mocks does, minus creating a root Stack: run_in_stack creates the one root,
        # and its _finish() is what registers the exported outputs we record.
        pulumi_settings.configure(
            pulumi_mocks.MockSettings(
                monitor=monitor,
                monitor_features=features,
                engine=pulumi_mocks.MockEngine(logger),
                project=project,
                stack=stack,
                dry_run=True,
                organization="organization",
                callbacks=None,
            )
        )
        pulumi_settings.ROOT.set(None)
        pulumi_config.set_all_config(
            {(k if ":" in k else f"{project}:{k}"): v for k, v in config.items()}
        )
        _sync_await(pulumi_stack.run_in_stack(program))
    finally:
        loop.close()
        asyncio.set_event_loop(None)


def evaluate_program(
    program: Callable[[], None],
    *,
    project: str,
    stack: str,
    config: Mapping[str, str] | None = None,
    mocks: pulumi.runtime.Mocks | None = None,
) -> Evaluation:
    """Run a Pulumi program under mocks (preview mode) and return what it declared.

    Args:
        program: A Pulumi inline program (registers resources, calls ``pulumi.export``).
        project: Pulumi project name (part of every URN).
        stack: Pulumi stack name (part of every URN).
        config: Pulumi config, ``"ns:key" -> value``; keys without a namespace get ``project:``.
        mocks: Custom mocks; by default inputs become state plus plausible ids and outputs.

    Returns:
        The registered resources and exported outputs.

    Raises:
        PulumiNotInstalledError: The ``pulumi`` SDK is not importable.
        ProgramError: The program raised (the original error is chained).
    """
    try:
        import pulumi.runtime  # noqa: F401  (import here: keep callers that never evaluate fast)
    except ImportError as exc:
        raise PulumiNotInstalledError("the pulumi Python SDK") from exc

    collected = _Collected()
    failure: list[BaseException] = []

    def target() -> None:
        try:
            _run(program, project, stack, config or {}, mocks or _default_mocks(), collected)
        except BaseException as exc:  # re-raised in the caller's thread below
            failure.append(exc)

    worker = threading.Thread(target=target, name=f"flowyml-mock-eval-{stack}", daemon=True)
    worker.start()
    worker.join()
    if failure:
        error = failure[0]
        raise ProgramError(
            f"the program for stack {stack} failed under mocks: {type(error).__name__}: {error}"
        ) from error

    outputs = decode(collected.outputs or {}, mask_secrets=False)
    return Evaluation(
        project=project,
        stack=stack,
        resources=tuple(collected.resources),
        outputs=outputs.value or {},
        secret_outputs=frozenset(top_level(outputs.secret_paths)),
        unknown_outputs=frozenset(top_level(outputs.unknown_paths)),
        diagnostics=tuple(collected.diagnostics),
    )
