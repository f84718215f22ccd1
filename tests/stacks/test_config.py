"""flowyml.yaml / stacks/*.yaml loading, interpolation, errors with file:line, schema."""

from __future__ import annotations

import string
from pathlib import Path

import jsonschema
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from flowyml.stacks.config import config_schema, load_config, load_stack_file, select_stack_name
from flowyml.stacks.errors import StackConfigError
from flowyml.stacks.gcp import GCPStack
from flowyml.stacks.interpolation import UnsetVariableError, interpolate

from .conftest import GUIDE_CONFIG

NAMES = st.text(alphabet=string.ascii_uppercase + "_", min_size=1, max_size=8)
PLAIN = st.text(alphabet=string.ascii_letters + string.digits + " -_/.:", max_size=20)


@given(NAMES, PLAIN, PLAIN, PLAIN)
def test_set_variable_is_substituted(name: str, value: str, before: str, after: str) -> None:
    assert interpolate(f"{before}${{{name}}}{after}", {name: value}) == f"{before}{value}{after}"


@given(NAMES, PLAIN)
def test_default_used_only_when_unset(name: str, default: str) -> None:
    assert interpolate(f"${{{name}:-{default}}}", {}) == default
    assert interpolate(f"${{{name}:-{default}}}", {name: "set"}) == "set"


@given(NAMES)
def test_unset_without_default_names_the_variable(name: str) -> None:
    with pytest.raises(UnsetVariableError) as info:
        interpolate(f"x ${{{name}}}", {}, "f.yaml:3: stacks.p.project_id")
    assert info.value.variable == name
    assert name in str(info.value) and "f.yaml:3" in str(info.value)


@given(PLAIN)
def test_text_without_references_is_unchanged(text: str) -> None:
    assert interpolate(text, {"A": "b"}) == text


# A template is a list of segments: (text written, text expected, variables it sets).
_SEGMENT = st.one_of(
    PLAIN.map(lambda t: (t, t, {})),
    st.tuples(NAMES, PLAIN).map(lambda p: (f"${{S{p[0]}}}", p[1], {f"S{p[0]}": p[1]})),
    st.tuples(NAMES, PLAIN.filter(lambda t: "}" not in t)).map(
        lambda p: (f"${{U{p[0]}:-{p[1]}}}", p[1], {})  # U...: never set, so the default
    ),
    NAMES.map(lambda n: (f"$${{{n}}}", f"${{{n}}}", {})),  # escaped: a literal ${NAME}
)


@given(st.lists(_SEGMENT, max_size=6))
def test_interpolation_is_segment_by_segment(segments: list[tuple[str, str, dict]]) -> None:
    """Against a model: the result is the concatenation of each segment's expected text."""
    env: dict[str, str] = {}
    for _, _, sets in segments:
        env.update(sets)
    segments = [(w, env.get(w[2:-1], e) if w.startswith("${S") else e, v) for w, e, v in segments]
    template = "".join(written for written, _, _ in segments)
    assert interpolate(template, env) == "".join(expected for _, expected, _ in segments)


def test_escape_and_malformed() -> None:
    assert interpolate("$${HOME}", {"HOME": "x"}) == "${HOME}"
    with pytest.raises(StackConfigError, match="malformed variable reference"):
        interpolate("${1BAD}", {})


def test_guide_config_loads(guide_project: Path) -> None:
    config = load_config()
    assert config.names == ["local", "production"]
    production = config.stacks["production"]
    assert isinstance(production, GCPStack)
    assert production.project_id == "my-gcp-project" and production.bucket_name == "my-artifacts"


def _write(root: Path, text: str, name: str = "flowyml.yaml") -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "stacks:\n  a: [1\n",
            "flowyml.yaml:3: malformed YAML: expected ',' or ']', but got '<stream end>' (while parsing a flow sequence at line 2)",
        ),
        (
            "stacks:\n  a:\n    type: lokal\n",
            "flowyml.yaml:3: stacks.a.type: unknown stack type 'lokal'; did you mean 'local'?",
        ),
        (
            "stacks:\n  p:\n    type: gcp\n    project_id: my-gcp-project\n",
            "flowyml.yaml:2: stacks.p.bucket_name: required field is missing. To fix: add "
            "`bucket_name:` to stacks.p",
        ),
        (
            "stacks:\n  a:\n    type: local\n    resources:\n      memory: 32GB\n",
            "flowyml.yaml:5: stacks.a.resources.memory: invalid memory quantity '32GB'",
        ),
        (
            GUIDE_CONFIG,
            "flowyml.yaml:9: stacks.production.project_id: environment variable GCP_PROJECT_ID is not set",
        ),
        (
            "stack:\n  a: {type: local}\n",
            "flowyml.yaml:1: stack: unknown key; did you mean 'stacks'? To fix: allowed keys here: "
            "default_stack, environments, stacks",
        ),
        (
            "stacks:\n  a:\n    type: local\n    artefact_path: x\n",
            "flowyml.yaml:4: stacks.a.artefact_path: unknown key; did you mean 'artifact_path'?",
        ),
        (
            "stacks:\n  a:\n    type: local\n    resources:\n      memroy: 1Gi\n",
            "flowyml.yaml:5: stacks.a.resources.memroy: unknown key; did you mean 'memory'?",
        ),
        (
            "stacks:\n  a:\n    type: local\n    executor: {kind: local, max_workerz: 2}\n",
            "stacks.a.executor.max_workerz: unknown key; did you mean 'max_workers'?",
        ),
        ("stacks:\n  a:\n    artifact_path: x\n", "flowyml.yaml:2: stacks.a: missing `type`"),
        (
            "stacks:\n  g:\n    type: gcp\n    project_id: my-gcp-project\n    bucket_name: b-1\n"
            "    cluster:\n      node_pools:\n        - name: a\n          resources:\n"
            "            machine_typ: n1-standard-4\n",
            "flowyml.yaml:10: stacks.g.cluster.node_pools[0].resources.machine_typ: unknown key; "
            "did you mean 'machine_type'?",
        ),
        (
            "stacks:\n  g:\n    type: gcp\n    project_id: my-gcp-project\n    bucket_name: b-1\n"
            "    database:\n      tierr: db-f1-micro\n",
            "flowyml.yaml:7: stacks.g.database.tierr: unknown key; did you mean 'tier'?",
        ),
        (
            "stacks:\n  a:\n    type: local\n    metadata_store: {kind: postgres}\n",
            "flowyml.yaml:4: stacks.a.metadata_store: unknown kind 'postgres'; did you mean "
            "'postgresql'? To fix: use one of: sqlite, postgresql, mysql, cloudsql",
        ),
        (
            "stacks:\n  a:\n    type: local\n    executor: {max_workers: 2}\n",
            "flowyml.yaml:4: stacks.a.executor: missing `kind`. To fix: add `kind:` with one of: "
            "local, docker, remote, kubernetes, vertex_ai",
        ),
        (
            "stacks:\n  a:\n    type: local\n    docker: {image: x, imagee: y}\n",
            "flowyml.yaml:4: stacks.a.docker.imagee: unknown key; did you mean 'image'?",
        ),
        ("stacks:\n  a: {type: local}\n  a: {type: local}\n", "flowyml.yaml:3: duplicate key 'a'"),
        ("- 1\n- 2\n", "the top level must be a mapping"),
    ],
)
def test_errors_name_file_line_and_field(project: Path, text: str, expected: str) -> None:
    path = _write(project, text)
    with pytest.raises(StackConfigError) as info:
        load_config()
    message = str(info.value)
    assert expected in message
    assert str(path) in message
    assert "\n" not in message
    assert not (project / ".flowyml").exists()


def test_lenient_load_keeps_broken_entries_apart(project: Path) -> None:
    _write(project, GUIDE_CONFIG)
    config = load_config(strict=False)
    assert list(config.stacks) == ["local"]
    assert "GCP_PROJECT_ID" in str(config.errors["production"])
    with pytest.raises(StackConfigError, match="GCP_PROJECT_ID"):
        config.get("production")


def test_secret_fields_keep_references(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_PASSWORD", "hunter2")
    _write(
        project,
        "stacks:\n  pg:\n    type: custom\n    executor: {kind: local}\n"
        "    artifact_store: {kind: local, path: a}\n"
        "    metadata_store: {kind: postgresql, host: h, database: d, user: u, password: '${DB_PASSWORD}'}\n",
    )
    stack = load_config().stacks["pg"]
    assert stack.to_dict()["metadata_store"]["password"] == "${DB_PASSWORD}"
    assert stack.metadata_store.sqlalchemy_url(reveal=True).endswith("u:hunter2@h:5432/d")


def test_stacks_dir_files(project: Path) -> None:
    _write(project, "stacks:\n  local: {type: local}\n")
    _write(project, "name: k8s\ntype: kubernetes\nnamespace: ml\n", "stacks/k8s.yaml")
    _write(
        project, "stacks:\n  aws-prod: {type: aws, s3_bucket: my-artifacts}\n", "stacks/aws.yaml"
    )
    config = load_config()
    assert config.names == ["aws-prod", "k8s", "local"]
    assert config.sources["k8s"].endswith("stacks/k8s.yaml:1")
    assert load_stack_file(project / "stacks" / "aws.yaml")[0].name == "aws-prod"


def test_stack_declared_twice(project: Path) -> None:
    _write(project, "stacks:\n  local: {type: local}\n")
    _write(project, "stacks:\n  local: {type: local}\n", "stacks/dup.yaml")
    with pytest.raises(StackConfigError, match="declared twice"):
        load_config()


def test_environment_selection() -> None:
    config = load_config.__globals__["ProjectConfig"](default_stack="dev")
    assert select_stack_name(config, {"FLOWYML_STACK": "x", "ENVIRONMENT": "production"}) == "x"
    assert select_stack_name(config, {"ENVIRONMENT": "production"}) == "production"
    assert select_stack_name(config, {"ENVIRONMENT": "staging"}) == "staging"
    assert select_stack_name(config, {"ENVIRONMENT": "dev-laptop"}) == "dev"
    assert select_stack_name(config, {}) == "dev"
    config.environments["qa"] = "staging"
    assert select_stack_name(config, {"ENVIRONMENT": "qa"}) == "staging"


FULL_CONFIG = """\
default_stack: local
environments: {prod: production}
stacks:
  local: {type: local, resources: {cpu: 8, memory: 32Gi}}
  production:
    type: gcp
    project_id: ${GCP_PROJECT_ID:-my-gcp-project}
    bucket_name: ${GCP_BUCKET:-my-artifacts}
    budget: ${BUDGET:-200}
    resources: {cpu: "4", memory: 15Gi, machine_type: n1-standard-4, preemptible: true}
    docker: {base_image: "python:3.11-slim", requirements: [pandas]}
    database: {tier: db-g1-small, disk_size_gb: 20}
    cluster:
      name: ml
      node_pools:
        - name: gpu
          node_count: ${GPU_NODES:-2}
          resources: {machine_type: n1-standard-8, gpu: nvidia-tesla-t4, gpu_count: 1}
  pg:
    type: custom
    executor: {kind: local}
    artifact_store: {kind: local, path: .flowyml/pg}
    metadata_store: {kind: postgresql, host: 127.0.0.1, database: test, password: "${DB_PW}"}
  eks:
    type: aws
    s3_bucket: my-aws-bucket
    database: null
    cluster: {name: e, node_groups: [{name: n, desired: 2, resources: {machine_type: t3.large}}]}
  k8s: {type: kubernetes, volume_size: 20Gi}
"""


def _schema_errors(data: object) -> list[tuple[str, str]]:
    validator = jsonschema.Draft202012Validator(config_schema())
    return [("/".join(map(str, e.absolute_path)), e.message) for e in validator.iter_errors(data)]


def test_schema_is_a_valid_json_schema_accepting_what_the_loader_accepts(project: Path) -> None:
    jsonschema.Draft202012Validator.check_schema(config_schema())
    assert _schema_errors(yaml.safe_load(GUIDE_CONFIG)) == []
    assert _schema_errors(yaml.safe_load(FULL_CONFIG)) == []
    _write(project, FULL_CONFIG)
    assert sorted(load_config().stacks) == ["eks", "k8s", "local", "pg", "production"]


def test_schema_accepts_the_repositorys_stack_files() -> None:
    files = sorted((Path(__file__).resolve().parents[2] / "stacks").glob("*.yaml"))
    assert [f.name for f in files] == ["aws.yaml", "k8s.yaml", "local.yaml", "production.yaml"]
    for file in files:
        assert _schema_errors(yaml.safe_load(file.read_text())) == [], file.name


@pytest.mark.parametrize(
    ("data", "path", "fragment"),
    [
        ({"stack": {}}, "", "'stack' was unexpected"),
        ({"stacks": {"a": {"type": "local", "artefact_path": "x"}}}, "stacks/a", "artefact_path"),
        ({"stacks": {"a": {"type": "gpc"}}}, "stacks/a/type", "'gpc' is not one of"),
        ({"stacks": {"a": {"type": "gcp", "project_id": "p"}}}, "stacks/a", "'bucket_name'"),
        ({"stacks": {"a": {"type": "local", "budget": "lots"}}}, "stacks/a/budget", "lots"),
        ({"name": "a", "type": "local", "artifact_pth": "x"}, "", "artifact_pth"),
        (
            {"stacks": {"a": {"type": "k8s" + "x"}}},
            "stacks/a/type",
            "is not one of",
        ),
    ],
)
def test_schema_reports_mistakes_at_their_path(data: object, path: str, fragment: str) -> None:
    errors = _schema_errors(data)
    assert any(p == path and fragment in m for p, m in errors), errors
