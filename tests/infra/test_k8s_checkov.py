"""checkov (a security-posture scanner no one here wrote) on the Kubernetes program's manifests.

The manifests are the inputs the program registers under Pulumi mocks (what the provider would
apply), written as YAML files and scanned with checkov's Kubernetes framework. No check is
skipped: the namespace, service account, Role, RoleBinding and claim pass all that apply.

checkov cannot share the project's environment: 3.3.x pins ``boto3==1.35.49`` (so botocore
1.35), while s3fs needs aiobotocore, which needs botocore >= 1.43. It runs from its own
environment (``pipx install checkov==3.3.30``, or a venv), found through ``$FLOWYML_CHECKOV``
(the executable) or ``checkov`` on PATH; without it these tests skip, saying so.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from flowyml.infra import program_for
from flowyml.provision import evaluate_program

from .builders import k8s_stack
from .test_k8s import KINDS, manifests

pytestmark = pytest.mark.filterwarnings("ignore:.*deprecated in favor of:DeprecationWarning")

CHECKOV = os.environ.get("FLOWYML_CHECKOV") or shutil.which("checkov")
SCAN_OPTIONS = ("--skip-download", "--output", "json")

# Checks that must have run on our manifests (a scan that parses nothing passes vacuously).
EXPECTED_CHECKS = {
    "CKV_K8S_21",  # not the default namespace
    "CKV_K8S_41",  # the default service account is not used
    "CKV_K8S_42",  # ... nor bound
    "CKV_K8S_49",  # no wildcards in Roles
    "CKV_K8S_157",  # no bind permission
    "CKV_K8S_158",  # no escalate permission
    "CKV2_K8S_1",  # the RoleBinding allows no privilege escalation
    "CKV2_K8S_2",  # no create on pods/exec or nodes/proxy
    "CKV2_K8S_3",  # no impersonate
    "CKV2_K8S_5",  # cannot read all secrets
}


def _scan(directory: Path) -> dict[str, Any]:
    if CHECKOV is None:
        pytest.skip(
            "checkov is not installed: it cannot share this environment (it pins boto3 1.35, "
            "s3fs needs botocore >= 1.43); `pipx install checkov==3.3.30` or set FLOWYML_CHECKOV"
        )
    completed = subprocess.run(
        [CHECKOV, "-d", str(directory), "--framework", "kubernetes", *SCAN_OPTIONS],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},  # no network here: no guideline fetch
    )
    assert completed.stdout.strip(), completed.stderr[-2000:]
    report = json.loads(completed.stdout)
    return report[0] if isinstance(report, list) else report


def _write(objects: dict[str, dict[str, Any]], directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for kind, manifest in objects.items():
        (directory / f"{kind}.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    return directory


def _failed(report: dict[str, Any]) -> list[tuple[str, str]]:
    failed = report.get("results", {}).get("failed_checks", [])
    return [(check["check_id"], check["resource"]) for check in failed]


def test_program_manifests_pass_checkov(tmp_path: Path) -> None:
    stack = k8s_stack(namespace="ml-team", service_account="runner")
    evaluation = evaluate_program(program_for(stack), project="flowyml", stack=stack.name)
    objects = manifests(evaluation)
    assert set(objects) == set(KINDS)

    report = _scan(_write(objects, tmp_path / "manifests"))

    assert _failed(report) == []
    assert report["summary"]["parsing_errors"] == 0
    assert report["summary"]["resource_count"] == len(KINDS)
    ran = {check["check_id"] for check in report["results"]["passed_checks"]}
    assert ran >= EXPECTED_CHECKS, EXPECTED_CHECKS - ran


def test_checkov_flags_a_wildcard_role_in_the_default_namespace(tmp_path: Path) -> None:
    """The scan can fail: the program's Role, widened to ``*`` in ``default``, is flagged."""
    stack = k8s_stack()
    evaluation = evaluate_program(program_for(stack), project="flowyml", stack=stack.name)
    role = manifests(evaluation)["Role"]
    role["metadata"]["namespace"] = "default"
    role["rules"] = [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]

    report = _scan(_write({"Role": role}, tmp_path / "broken"))

    flagged = {check for check, _resource in _failed(report)}
    assert {"CKV_K8S_49", "CKV_K8S_21"} <= flagged, flagged
