"""``program_for`` and the provider registry, the limitations table, the repo's Pulumi project
(``Pulumi.yaml``, ``infra/__main__.py``, ``stacks/*.yaml``) and the lazy-import rule."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from flowyml.core import outputs as keys
from flowyml.core.errors import FlowymlError
from flowyml.infra import (
    LIMITATIONS,
    PROVIDERS,
    InfraError,
    UnknownProviderError,
    find_unsupported,
    limitations_for,
    program_for,
)
from flowyml.infra.common import OUTPUT_KEYS, export_outputs, postgres_url, resource_prefix
from flowyml.provision import evaluate_program
from flowyml.stacks import LocalStack
from flowyml.stacks.config import load_config

from .builders import aws_stack, gcp_stack, k8s_stack

# The provider SDKs warn about their own deprecated aliases when a module is imported.
pytestmark = pytest.mark.filterwarnings("ignore:.*deprecated in favor of:DeprecationWarning")

REPO = Path(__file__).resolve().parents[2]
GUIDE_STACKS = {
    "local": "local",
    "production": "gcp",
    "aws-prod": "aws",
    "k8s-cluster": "kubernetes",
}


def test_registry_covers_every_cloud_stack_type() -> None:
    assert set(PROVIDERS) == {"gcp", "aws", "kubernetes"}
    for stack in (gcp_stack(), aws_stack(), k8s_stack()):
        assert callable(program_for(stack))


def test_local_stack_has_no_pulumi_program() -> None:
    with pytest.raises(UnknownProviderError) as caught:
        program_for(LocalStack())

    assert isinstance(caught.value, InfraError) and isinstance(caught.value, FlowymlError)
    assert "To fix: local stacks are set up by `flowyml stack up local`" in str(caught.value)


def test_every_limitation_has_a_reason_and_a_hint_and_a_known_provider() -> None:
    assert LIMITATIONS
    for item in LIMITATIONS:
        assert item.provider in PROVIDERS
        assert item.reason and item.hint
    features = [(i.provider, i.feature) for i in LIMITATIONS]
    assert len(features) == len(set(features))
    assert {i.feature for i in limitations_for("aws")} >= {"eks-gpu-accelerator", "vertex-ai"}


def test_the_guides_stacks_need_nothing_a_provider_cannot_do() -> None:
    config = load_config(root=REPO, environ={})
    for name in ("production", "aws-prod", "k8s-cluster"):
        assert find_unsupported(config.get(name)) == [], name


def test_stack_files_declare_the_guides_stacks_without_any_environment() -> None:
    config = load_config(root=REPO, environ={})

    assert {name: s.stack_type for name, s in config.stacks.items()} == GUIDE_STACKS
    for stack in config.stacks.values():
        assert stack.validate(raise_on_error=False) == [], stack.name


def test_stack_files_take_account_values_from_the_environment() -> None:
    env = {
        "GCP_PROJECT_ID": "acme-ml-prod",
        "GCP_BUCKET": "acme-artifacts",
        "AWS_BUCKET": "acme-s3",
    }
    config = load_config(root=REPO, environ=env)

    assert config.get("production").project_id == "acme-ml-prod"
    assert config.get("production").bucket_name == "acme-artifacts"
    assert config.get("aws-prod").s3_bucket == "acme-s3"


def test_pulumi_project_file_points_at_the_entry_program() -> None:
    project = yaml.safe_load((REPO / "Pulumi.yaml").read_text())

    assert project["name"] == "flowyml"
    assert project["runtime"]["name"] == "python"
    assert (REPO / project["main"] / "__main__.py").is_file()


@pytest.mark.parametrize("name", ["production", "aws-prod", "k8s-cluster"])
def test_entry_program_provisions_the_stack_named_like_the_pulumi_stack(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in ("GCP_PROJECT_ID", "GCP_BUCKET", "GCP_REGION", "AWS_BUCKET", "AWS_REGION"):
        monkeypatch.delenv(var, raising=False)
    entry = str(REPO / "infra" / "__main__.py")

    evaluation = evaluate_program(lambda: runpy.run_path(entry), project="flowyml", stack=name)

    expected = {"production": "gs://my-artifacts", "aws-prod": "s3://my-artifacts"}
    assert evaluation.outputs[keys.ARTIFACT_URI] == expected.get(
        name, "pvc://flowyml/flowyml-artifacts"
    )


def test_importing_infra_and_building_programs_imports_no_pulumi_sdk() -> None:
    code = (
        "import sys\n"
        "from flowyml.infra import program_for\n"
        "from flowyml.stacks.config import load_config\n"
        "config = load_config(environ={})\n"
        "for name in ('production', 'aws-prod', 'k8s-cluster'):\n"
        "    program_for(config.get(name))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0].startswith('pulumi')))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "FLOWYML_PROJECT_DIR"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_gcp_program_imports_only_the_submodules_it_needs() -> None:
    code = (
        "import sys\n"
        "from flowyml.infra import program_for\n"
        "from flowyml.provision import evaluate_program\n"
        "from flowyml.stacks.config import load_config\n"
        "stack = load_config(environ={}).get('production')\n"
        "evaluate_program(program_for(stack), project='flowyml', stack='production')\n"
        # pulumi_gcp registers every service package as a lazy module: list the service
        # packages really loaded (not the package's own helper modules).
        "print(sorted(m for m, mod in list(sys.modules.items()) if m.startswith('pulumi_gcp.')\n"
        "      and m.count('.') == 1 and type(mod).__name__ != '_LazyModule'\n"
        "      and hasattr(mod, '__path__')))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "FLOWYML_PROJECT_DIR"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True
    )
    loaded = set(eval(result.stdout.strip()))  # a printed list of module names
    assert loaded <= {
        "pulumi_gcp.config",
        "pulumi_gcp.storage",
        "pulumi_gcp.sql",
        "pulumi_gcp.artifactregistry",
        "pulumi_gcp.serviceaccount",
        "pulumi_gcp.projects",
    }, loaded
    assert "pulumi_gcp.container" not in loaded


@pytest.mark.parametrize(
    ("stack_name", "prefix"),
    [
        ("production", "production"),
        ("AWS Prod", "aws-prod"),
        ("1st", "s-1st"),
        ("a" * 40, "a" * 20),
    ],
)
def test_resource_prefix_is_a_dns_label(stack_name: str, prefix: str) -> None:
    assert resource_prefix(stack_name) == prefix


def test_postgres_url_quotes_credentials_and_socket_paths() -> None:
    url = postgres_url(
        user="flow@yml", password="p/a:s s", database="meta", query={"host": "/cloudsql/p:r:i"}
    )

    assert url == "postgresql+psycopg://flow%40yml:p%2Fa%3As%20s@/meta?host=/cloudsql/p:r:i"
    import sqlalchemy as sa

    parsed = sa.make_url(url)
    assert (parsed.username, parsed.password, parsed.database) == ("flow@yml", "p/a:s s", "meta")
    assert parsed.query["host"] == "/cloudsql/p:r:i"


def test_exports_are_limited_to_the_contract_keys() -> None:
    assert {"artifact_uri", "metadata_url", "registry_uri", "kubeconfig"} <= OUTPUT_KEYS

    with pytest.raises(ValueError, match="bucket_uri"):
        export_outputs({"bucket_uri": "gs://x"})
