"""Guardrails for Kubernetes clusters: public control planes, databases on spot capacity only.

A control plane with a public endpoint and no authorized networks takes requests from anywhere
(credentials are still required, but every API server CVE is then internet-facing). A database
whose pods can only land on spot/preemptible nodes is evicted whenever the cloud wants the
capacity back.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from flowyml.core.plan import ResourceChange
from flowyml.provision.guardrails.model import Hit, PlanView, Rule, Severity, after

GKE = "gcp:container/cluster:Cluster"
GKE_POOL = "gcp:container/nodePool:NodePool"
EKS = "aws:eks/cluster:Cluster"
EKS_GROUP = "aws:eks/nodeGroup:NodeGroup"
WORKLOADS = (
    "kubernetes:apps/v1:StatefulSet",
    "kubernetes:apps/v1:Deployment",
    "kubernetes:core/v1:Pod",
)
OPEN_CIDRS = frozenset({"0.0.0.0/0", "::/0"})
_DATABASE_IMAGE = re.compile(
    r"(^|/)(postgres|postgresql|mysql|mariadb|mongo|mongodb|redis|cockroach|timescaledb)[:@]?",
    re.IGNORECASE,
)


def _public_endpoint(change: ResourceChange, _view: PlanView) -> Iterator[Hit]:
    inputs = after(change)
    if change.type == GKE:
        private = (inputs.get("privateClusterConfig") or {}).get("enablePrivateEndpoint") is True
        blocks = (inputs.get("masterAuthorizedNetworksConfig") or {}).get("cidrBlocks") or []
        cidrs = {str(b.get("cidrBlock")) for b in blocks}
        if not private and (not cidrs or cidrs & OPEN_CIDRS):
            yield Hit(
                f"GKE cluster {inputs.get('name') or change.name} has a public control-plane "
                "endpoint with no authorized networks"
            )
        return
    vpc = inputs.get("vpcConfig") or {}
    if vpc.get("endpointPublicAccess") is False:
        return
    cidrs = set(vpc.get("publicAccessCidrs") or ["0.0.0.0/0"])
    if cidrs & OPEN_CIDRS:
        yield Hit(
            f"EKS cluster {inputs.get('name') or change.name} has a public API endpoint open to "
            "0.0.0.0/0"
        )


def _is_spot(change: ResourceChange) -> bool:
    inputs = after(change)
    if change.type == GKE_POOL:
        config = inputs.get("nodeConfig") or {}
        return config.get("spot") is True or config.get("preemptible") is True
    return str(inputs.get("capacityType") or "ON_DEMAND").upper() == "SPOT"


def _images(change: ResourceChange) -> list[str]:
    spec = after(change).get("spec") or {}
    pod = (spec.get("template") or {}).get("spec") or spec
    return [str(c.get("image") or "") for c in pod.get("containers") or []]


def _database_on_spot(change: ResourceChange, view: PlanView) -> Iterator[Hit]:
    databases = [image for image in _images(change) if _DATABASE_IMAGE.search(image)]
    if not databases:
        return
    pools = view.of_type(GKE_POOL, EKS_GROUP)
    if pools and all(_is_spot(p) for p in pools):
        names = ", ".join(p.name for p in pools)
        yield Hit(
            f"{change.name} runs the database image {databases[0]}, and every node pool of the "
            f"stack ({names}) is spot/preemptible: the database is evicted when capacity is "
            "reclaimed"
        )


RULES: tuple[Rule, ...] = (
    Rule(
        "cluster-public-endpoint",
        Severity.WARNING,
        frozenset({GKE, EKS}),
        "a cluster control plane reachable from any address",
        "restrict it: GKE masterAuthorizedNetworksConfig.cidrBlocks (or a private endpoint), "
        "EKS vpcConfig.publicAccessCidrs (or endpointPublicAccess: false)",
        _public_endpoint,
        production_severity=Severity.ERROR,
    ),
    Rule(
        "database-on-spot-only",
        Severity.ERROR,
        frozenset(WORKLOADS),
        "a database workload with nothing but spot/preemptible nodes to run on",
        "add an on-demand node pool (preemptible: false) and pin the database to it with a "
        "node selector, or use the managed database (Cloud SQL / RDS)",
        _database_on_spot,
    ),
)
