"""The Stack Architecture Guide typed in as written, block by block, in fresh processes.

``stack_guide.txt`` is a byte-for-byte copy of the guide, checked against the original when the
shared seeds sit beside the repository (``.txt``, not ``.md``: ruff formats the code blocks of
Markdown files, which would silently rewrite the snippets). Each scenario runs blocks verbatim in one real Python
process, as a reader pasting them would, in a fresh project directory. The guide uses a few
names it never defines (``local_stack``, ``gcp_stack``, ``aws_stack``, ``training_pipeline``);
the prelude defines them from the guide's own earlier snippets, nothing more.

Blocks that cannot work as typed say so precisely:
- ``GCPStack(...)`` uses ``...`` for elided arguments: a one-line error names the required fields
  and shows a complete call;
- the Multi-Cloud block (``GCPStack(name="gcp-train", ...)``) is not valid Python (a positional
  argument after a keyword one): Python itself refuses to compile it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

GUIDE = Path(__file__).with_name("stack_guide.txt")
ORIGINAL = Path(__file__).resolve().parents[3] / "shared" / "seeds" / "000_9a346b21afa848b3.txt"
BLOCKS = re.findall(r"```(python|yaml)\n(.*?)```", GUIDE.read_text(), flags=re.S)
PY = [code for lang, code in BLOCKS if lang == "python"]
(YAML,) = [code for lang, code in BLOCKS if lang == "yaml"]

# The python blocks, by what they show (index into PY, in guide order).
LOCAL, GCP, AWS, K8S, RESOURCES, DOCKER, REGISTRY = range(7)
METHOD1, METHOD2, METHOD3, ENVIRONMENT, VALIDATION, COST, MULTI_CLOUD, HYBRID = range(7, 15)

PRELUDE = """\
import json, sys
from flowyml import Pipeline, step
from flowyml.core.errors import FlowymlError
from flowyml.stacks import LocalStack
from flowyml.stacks.gcp import GCPStack
from flowyml.stacks.aws import AWSStack
# Names the guide uses without defining, from its own snippets (the registry block prints
# ['local', 'gcp-prod', 'aws-prod'], so its GCP stack is called gcp-prod).
local_stack = LocalStack(name="local", artifact_path=".flowyml/artifacts",
                         metadata_path=".flowyml/metadata.db")
gcp_stack = GCPStack(name="gcp-prod", project_id="my-gcp-project", region="us-central1",
                     bucket_name="my-artifacts", registry_uri="gcr.io/my-project")
aws_stack = AWSStack(name="aws-prod", region="us-east-1", s3_bucket="my-artifacts",
                     ecr_registry="123456789012.dkr.ecr.us-east-1.amazonaws.com")
RESULTS = {}
def block(label, code):
    try:
        exec(compile(code, label, "exec"), globals())
        RESULTS[label] = "ok"
    except FlowymlError as exc:
        RESULTS[label] = "error: " + str(exc)
    except SyntaxError as exc:
        RESULTS[label] = "syntax error: " + exc.msg
"""


def _run(project: Path, body: str, env: dict[str, str] | None = None) -> dict[str, str]:
    script = PRELUDE + body + "\nprint('RESULTS=' + json.dumps(RESULTS))\n"
    environ = {
        k: v
        for k, v in os.environ.items()
        if k not in {"FLOWYML_STACK", "ENVIRONMENT", "GCP_PROJECT_ID", "GCP_BUCKET"}
    }
    environ.update({"FLOWYML_PROJECT_DIR": str(project), **(env or {})})
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=project, env=environ, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    (line,) = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULTS=")]
    out = json.loads(line.removeprefix("RESULTS="))
    out["stdout"] = done.stdout
    return out


def _blocks(*indexes: int) -> str:
    return "".join(f"block({f'guide block {i}'!r}, {PY[i]!r})\n" for i in indexes)


@pytest.fixture
def fresh(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    return root


def test_copy_is_the_guide_verbatim() -> None:
    if not ORIGINAL.is_file():
        pytest.skip(f"the original guide is not beside the repository ({ORIGINAL})")
    assert GUIDE.read_text() == ORIGINAL.read_text()


def test_guide_has_the_blocks_this_module_names() -> None:
    assert len(PY) == 15
    assert "LocalStack(" in PY[LOCAL] and "registry.list_stacks()" in PY[REGISTRY]
    assert 'set_active_stack("production")' in PY[METHOD2]
    assert "@step(stack=gcp_stack, resources=gpu_config)" in PY[HYBRID]


def test_declaration_blocks_in_order(fresh: Path) -> None:
    order = (LOCAL, GCP, AWS, K8S, RESOURCES, DOCKER, REGISTRY, ENVIRONMENT, VALIDATION)
    body = _blocks(*order) + _blocks(COST, HYBRID)
    results = _run(fresh, body)
    for i in (*order, COST, HYBRID):
        assert results[f"guide block {i}"] == "ok", (i, results[f"guide block {i}"])
    # list_stacks() prints what the guide's comment shows, exactly.
    assert "['local', 'gcp-prod', 'aws-prod']" in results["stdout"].splitlines()
    # `print(stack.to_dict())` printed the environment block's stack (ENVIRONMENT unset: local).
    assert "{'type': 'local', 'name': 'local'" in results["stdout"]
    registry = json.loads((fresh / ".flowyml" / "registry.json").read_text())
    assert registry["active"] == "gcp-prod"  # the registry block's last switch
    assert list(registry["stacks"]) == ["local", "gcp-prod", "aws-prod"]


def test_each_stack_type_block_validates_and_prints(fresh: Path) -> None:
    checks = "block('check', 'stack.validate()\\nprint(stack.to_dict())')\n"
    for index in (LOCAL, GCP, K8S):
        results = _run(fresh, _blocks(index) + checks)
        assert results["check"] == "ok", (index, results["check"])
    # The AWS block's account id "123456789" is the guide's placeholder: validate() says so.
    results = _run(fresh, _blocks(AWS) + checks)
    assert results["check"].startswith(
        "error: stack 'aws-prod' has 1 problem: ecr_registry: ECR registry "
        "'123456789.dkr.ecr.us-east-1.amazonaws.com' has a 9-digit account id '123456789' "
        "(it looks like a placeholder); AWS account ids have exactly 12 digits"
    )


def test_placeholder_blocks_fail_with_one_clear_line(fresh: Path) -> None:
    results = _run(fresh, _blocks(METHOD1, MULTI_CLOUD))
    method1 = results[f"guide block {METHOD1}"]
    assert method1.startswith("error: GCPStack(...) was given `...`")
    assert "it needs name, project_id, bucket_name" in method1
    assert 'e.g. GCPStack(name="production", project_id="my-gcp-project"' in method1
    assert "\n" not in method1
    assert results[f"guide block {MULTI_CLOUD}"].startswith("syntax error: positional argument")
    for env in ("production", "staging"):
        results = _run(fresh, _blocks(ENVIRONMENT), {"ENVIRONMENT": env})
        assert results[f"guide block {ENVIRONMENT}"].startswith("error: GCPStack(...) was given")


def test_method2_uses_the_stack_declared_in_the_guides_flowyml_yaml(fresh: Path) -> None:
    (fresh / "flowyml.yaml").write_text(YAML)
    check = textwrap.dedent(
        """\
        from flowyml.stacks.registry import resolve_stack
        print("RESOLVED", resolve_stack(None, pipeline.stack).to_dict())
        """
    )
    env = {"GCP_PROJECT_ID": "my-gcp-project", "GCP_BUCKET": "my-artifacts"}
    results = _run(fresh, _blocks(METHOD2) + f"block('check', {check!r})\n", env)
    assert results[f"guide block {METHOD2}"] == "ok"
    assert results["check"] == "ok"
    resolved = [ln for ln in results["stdout"].splitlines() if ln.startswith("RESOLVED")]
    assert "'name': 'production'" in resolved[0] and "'type': 'gcp'" in resolved[0]
    # A new process sees the same active stack (persisted in .flowyml/registry.json).
    again = _run(fresh, f"block('check', {check!r})\n".replace("pipeline.stack", "None"), env)
    assert "'name': 'production'" in again["stdout"]


def test_method2_in_a_project_that_does_not_declare_production(fresh: Path) -> None:
    results = _run(fresh, _blocks(REGISTRY) + _blocks(METHOD2))
    text = results[f"guide block {METHOD2}"]
    assert text.startswith(
        "error: unknown stack 'production'. Known stacks: local (local), gcp-prod (gcp), "
        "aws-prod (aws)."
    )
    assert "declare it under `stacks:` in flowyml.yaml" in text


def test_method3_runs_on_the_local_stack_and_says_to_provision_gcp(fresh: Path) -> None:
    """The guide's per-run override on a pipeline with no steps yet: the local run completes
    (recorded, with a warning that it has no steps); the GCP run needs `stack up` first."""
    body = (
        "import warnings\n"
        "warnings.simplefilter('always')\n"
        + _blocks(METHOD3)
        + "RESULTS['runs'] = [r.status.value for r in __import__('flowyml.runtime.binding',"
        " fromlist=['x']).bind_stack(local_stack).metadata_store.list_runs()]\n"
    )
    results = _run(fresh, body)
    assert results["runs"] == ["completed"]
    assert results[f"guide block {METHOD3}"] == (
        "error: stack gcp-prod has not been provisioned. To fix: run `flowyml stack up gcp-prod`"
    )
