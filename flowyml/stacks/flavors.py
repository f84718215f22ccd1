"""Flavors: one table tying each executor and orchestrator kind to everything that uses it.

A flavor names, for one ``kind`` of component, its declaration class, the module that runs it
(``runtime``: a module exposing ``create(...)``; ``None`` while flowyml has no runtime for it),
the rule that prices a step run on it (``price_rule``), and the providers whose stacks can host
it. Binding, run costs and capability checks all read this table, so a kind is spelled once.
A kind whose ``runtime`` is ``None`` is refused when a stack is bound: flowyml never runs the
steps of such a stack somewhere else instead.

Declarations import nothing from the runtime: ``runtime`` is the module's dotted name, imported
by :mod:`flowyml.runtime` only when a stack of that kind is bound.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from flowyml.stacks.components._base import Component
from flowyml.stacks.components.executors import (
    DockerExecutor,
    KubernetesExecutor,
    LocalExecutor,
    RemoteExecutor,
    VertexAIExecutor,
)
from flowyml.stacks.components.orchestrators import (
    AirflowOrchestrator,
    KubeflowOrchestrator,
    NoOrchestrator,
    VertexAIOrchestrator,
)
from flowyml.stacks.errors import ValidationProblem

PriceRule = Literal["free", "vertex", "kubernetes", "unpriced"]
"""How a step run is priced: ``free`` ($0: this machine), ``vertex`` (machine + accelerators
at the Vertex AI training rate), ``kubernetes`` (share of the node), ``unpriced`` (no price known:
shown as "not priced", never $0)."""


@dataclass(frozen=True)
class Flavor:
    """One component kind and what flowyml does with it.

    Attributes:
        component: ``executor`` or ``orchestrator``.
        kind: The declaration's ``kind`` (as written in YAML).
        declaration: The declaration class.
        runtime: Dotted module name of the runtime (exposes ``create``), or ``None``.
        price_rule: How a step run on it is priced.
        providers: Stack types that can host it (``None``: any).
        label: Human name for messages.
        remote: Steps run away from the driver (need an image and a code package).
    """

    component: Literal["executor", "orchestrator"]
    kind: str
    declaration: type[Component]
    runtime: str | None
    price_rule: PriceRule
    providers: frozenset[str] | None
    label: str
    remote: bool = False


FLAVORS: tuple[Flavor, ...] = (
    Flavor(
        "executor",
        "local",
        LocalExecutor,
        "flowyml.runtime.executors.local",
        "free",
        None,
        "local threads or processes",
    ),
    Flavor(
        "executor",
        "docker",
        DockerExecutor,
        "flowyml.runtime.executors.docker",
        "free",
        None,
        "containers on the local Docker engine",
        remote=True,
    ),
    Flavor(
        "executor",
        "remote",
        RemoteExecutor,
        "flowyml.runtime.executors.docker",
        "unpriced",
        None,
        "containers on a remote Docker engine",
        remote=True,
    ),
    Flavor(
        "executor",
        "kubernetes",
        KubernetesExecutor,
        "flowyml.runtime.executors.kubernetes",
        "kubernetes",
        frozenset({"gcp", "aws", "kubernetes"}),
        "Kubernetes pods",
        remote=True,
    ),
    Flavor(
        "executor",
        "vertex_ai",
        VertexAIExecutor,
        "flowyml.runtime.executors.vertex",
        "vertex",
        frozenset({"gcp"}),
        "Vertex AI custom jobs",
        remote=True,
    ),
    Flavor("orchestrator", "none", NoOrchestrator, None, "free", None, "no orchestrator"),
    Flavor(
        "orchestrator",
        "vertex_ai",
        VertexAIOrchestrator,
        "flowyml.runtime.orchestrators.vertex",
        "vertex",
        frozenset({"gcp"}),
        "Vertex AI Pipelines",
        remote=True,
    ),
    Flavor(
        "orchestrator",
        "kubeflow",
        KubeflowOrchestrator,
        "flowyml.runtime.orchestrators.kubeflow",
        "kubernetes",
        frozenset({"gcp", "aws", "kubernetes"}),
        "Kubeflow Pipelines",
        remote=True,
    ),
    Flavor(
        "orchestrator",
        "airflow",
        AirflowOrchestrator,
        "flowyml.runtime.orchestrators.airflow",
        "unpriced",
        None,
        "Airflow",
        remote=True,
    ),
)
"""Every executor and orchestrator kind flowyml knows."""

_BY_KEY = {(f.component, f.kind): f for f in FLAVORS}


def flavor(component: Literal["executor", "orchestrator"], kind: str) -> Flavor | None:
    """The flavor of ``kind`` (exact, as declared), or ``None`` when there is none."""
    return _BY_KEY.get((component, kind))


def executor_flavor(kind: str | None) -> Flavor | None:
    """The executor flavor of ``kind``; ``None`` or ``""`` is the local executor."""
    return _BY_KEY.get(("executor", kind or "local"))


ORCHESTRATED_EXECUTORS: dict[str, frozenset[str]] = {
    "vertex_ai": frozenset({"local", "vertex_ai"}),
    "kubeflow": frozenset({"local", "kubernetes"}),
    "airflow": frozenset({"local", "docker", "kubernetes"}),
}
"""Executor kinds each orchestrator can run steps with (``local``: none declared). Vertex AI
Pipelines runs every step on its own machines; Kubeflow runs pods in its cluster; Airflow runs a
task per step with the ``BashOperator`` (its workers), ``DockerOperator`` or
``KubernetesPodOperator``. Any other pairing would leave the declared executor unused."""


def orchestrator_problems(stack: object) -> list[ValidationProblem]:
    """Problems of a stack whose orchestrator and executor do not fit (empty when they do).

    Pure: reads only the declaration, so ``stack validate`` and the run path agree.
    """
    orchestrator = getattr(stack, "orchestrator", None)
    kind = str(getattr(orchestrator, "kind", None) or "none")
    allowed = ORCHESTRATED_EXECUTORS.get(kind)
    if allowed is None:
        return []
    executor = str(getattr(getattr(stack, "executor", None), "kind", None) or "local")
    found = flavor("orchestrator", kind)
    label = found.label if found is not None else kind
    problems: list[ValidationProblem] = []
    if executor not in allowed:
        named = executor_flavor(executor)
        problems.append(
            ValidationProblem(
                "executor",
                f"orchestrator {kind!r} ({label}) cannot run steps on executor {executor!r} "
                f"({named.label if named is not None else executor})",
                hint=f"use an executor of kind {' or '.join(sorted(allowed - {'local'}))}, "
                "or remove the orchestrator",
            )
        )
    if (
        kind == "kubeflow"
        and getattr(orchestrator, "host", None) is None
        and executor != "kubernetes"
    ):
        problems.append(
            ValidationProblem(
                "orchestrator.host",
                "Kubeflow Pipelines needs its API: this stack names no host and has no "
                "Kubernetes cluster to find it in",
                hint="declare KubeflowOrchestrator(host='https://...') or use a stack with a "
                "Kubernetes executor",
            )
        )
    return problems
