"""Builders of the standard stacks for the infra tests, and helpers reading registrations."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flowyml.provision.mock_eval import Evaluation
from flowyml.stacks.aws import AWSStack, EKSClusterSpec, NodeGroupSpec
from flowyml.stacks.components import ResourceConfig
from flowyml.stacks.gcp import GCPStack, GKEClusterSpec, NodePoolSpec
from flowyml.stacks.k8s import KubernetesStack

Evaluate = Callable[[Any], Evaluation]
"""Evaluate a stack's program under mocks (the ``evaluate`` fixture)."""

# Project-level roles that would let the runner administer the project or all its storage.
FORBIDDEN_PROJECT_ROLES = frozenset(
    {
        "roles/owner",
        "roles/editor",
        "roles/storage.admin",
        "roles/storage.objectAdmin",
        "roles/artifactregistry.admin",
        "roles/artifactregistry.writer",
        "roles/cloudsql.admin",
        "roles/iam.serviceAccountAdmin",
        "roles/iam.securityAdmin",
        "roles/resourcemanager.projectIamAdmin",
        "roles/aiplatform.admin",
        "roles/container.admin",
    }
)


def gcp_stack(**overrides: Any) -> GCPStack:
    """The guide's production stack (a Cloud SQL database by default)."""
    fields: dict[str, Any] = {
        "name": "production",
        "project_id": "my-gcp-project",
        "region": "us-central1",
        "bucket_name": "my-artifacts",
    }
    return GCPStack(**{**fields, **overrides})


def gke_cluster() -> GKEClusterSpec:
    """Three pools covering the ResourceConfig mapping: GPU+spot+autoscaling, fixed CPU, default."""
    return GKEClusterSpec(
        name="flowyml",
        node_pools=[
            NodePoolSpec(
                name="gpu",
                resources=ResourceConfig(
                    cpu="16",
                    memory="64Gi",
                    disk_size="200Gi",
                    gpu="nvidia-tesla-v100",
                    gpu_count=4,
                    machine_type="n1-highmem-16",
                    preemptible=True,
                    autoscaling=True,
                    min_nodes=0,
                    max_nodes=3,
                ),
            ),
            NodePoolSpec(
                name="cpu",
                resources=ResourceConfig(cpu="8", memory="32Gi", machine_type="n2-standard-8"),
                node_count=2,
            ),
        ],
    )


def aws_stack(**overrides: Any) -> AWSStack:
    """The guide's aws-prod stack (an RDS database by default)."""
    fields: dict[str, Any] = {
        "name": "aws-prod",
        "region": "us-east-1",
        "s3_bucket": "my-artifacts",
    }
    return AWSStack(**{**fields, **overrides})


def eks_cluster() -> EKSClusterSpec:
    """Two node groups: GPU instances on spot with autoscaling, and a fixed on-demand group."""
    return EKSClusterSpec(
        name="flowyml",
        node_groups=[
            NodeGroupSpec(
                name="gpu",
                resources=ResourceConfig(
                    machine_type="g5.xlarge",
                    disk_size="100Gi",
                    preemptible=True,
                    autoscaling=True,
                    min_nodes=0,
                    max_nodes=4,
                ),
                desired=1,
            ),
            NodeGroupSpec(
                name="cpu", resources=ResourceConfig(machine_type="m5.xlarge"), desired=2
            ),
        ],
    )


def k8s_stack(**overrides: Any) -> KubernetesStack:
    """The guide's k8s-cluster stack."""
    fields: dict[str, Any] = {
        "name": "k8s-cluster",
        "namespace": "flowyml",
        "storage_class": "standard",
    }
    return KubernetesStack(**{**fields, **overrides})


def policy_document(resource_inputs: dict[str, Any]) -> dict[str, Any]:
    """The parsed JSON policy of an ``aws:iam/rolePolicy`` registration."""
    return json.loads(resource_inputs["policy"])


def explicit_dependencies(stack: Any) -> dict[str, list[str]]:
    """Resource name -> names in its ``depends_on``, read with a stack transformation.

    The registrations recorded by ``evaluate_program`` carry no dependency list, so the program
    is run once more under the same mocks with a (Pulumi SDK side) stack transformation that
    sees each resource's options.
    """
    import pulumi

    from flowyml.infra import program_for
    from flowyml.provision import evaluate_program

    found: dict[str, list[str]] = {}

    def record(args: Any) -> None:
        found[args.name] = [dep._name for dep in (args.opts.depends_on or [])]

    def program() -> None:
        pulumi.runtime.register_stack_transformation(record)
        program_for(stack)()

    evaluate_program(program, project="flowyml", stack=stack.name)
    return found
