"""Every resource type the programs declare has its replace semantics in replace_on.json."""

from __future__ import annotations

import pytest

from flowyml.provision.replace_gen import TYPES
from flowyml.stacks.k8s import KubernetesStack

from .builders import Evaluate, aws_stack, eks_cluster, gcp_stack, gke_cluster

pytestmark = pytest.mark.filterwarnings("ignore:.*deprecated in favor of:DeprecationWarning")


def test_programs_declare_only_types_the_data_file_covers(evaluate: Evaluate) -> None:
    stacks = [
        gcp_stack(cluster=gke_cluster()),
        aws_stack(cluster=eks_cluster()),
        KubernetesStack(name="k8s-cluster"),
    ]
    declared = {r.type for s in stacks for r in evaluate(s).resources if r.custom}
    declared = {t for t in declared if not t.startswith("pulumi:providers:")}
    assert declared - set(TYPES) == set(), "add them to replace_gen.TYPES and regenerate"
