"""Generate ``replace_on.json``: which input paths force a replace, read from the provider SDKs.

Run ``python -m flowyml.provision.replace_gen`` after upgrading pulumi-gcp, pulumi-aws,
pulumi-kubernetes or pulumi-random; ``tests/provision/test_replace_on.py`` fails until the data
file matches the installed SDKs.

Why a generated file and not extraction at preview time: the SDK sources are large (the GKE
input types alone are 1.5 MB, Kubernetes core/v1 2.5 MB) and parsing them would cost more than the
whole cold preview's budget (1 s); the data file is a few kilobytes read once.

What is read (the SDKs are parsed with :mod:`ast`, never imported):

- **Property docstrings**, per input, recursing into nested input types with the path kept
  (``settings.edition``, ``vpcConfig.subnetIds``, ``metadata.name``). A property forces a replace
  when its docstring says so: "Changing this forces a new resource to be created", "will force
  recreation", "forces the resource to be recreated" (bridged providers), "This field is
  immutable" / "Cannot be updated" (Kubernetes). Conditional sentences ("Changing from X back to
  Y forces a new resource") are left out: they hold for one transition only.
- **The import identity** in the resource's docstring: AWS lists it ("### Identity Schema /
  #### Required * `bucket`"), GCP gives import formats (``projects/{{project}}/instances/
  {{name}}``). An input that is part of the identity names a different cloud object when it
  changes, so it forces a replace. A GCP resource with no import section falls back to the
  GCP resource-name parts (``name``, ``project``, ``location``, ``region``) it has as inputs.

Each path keeps the sentence it came from, so a plan can say why it replaces.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import sys
from collections.abc import Iterator
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

DATA_FILE = Path(__file__).with_name("replace_on.json")

TYPES: tuple[str, ...] = (
    "gcp:projects/service:Service",
    "gcp:projects/iAMMember:IAMMember",
    "gcp:storage/bucket:Bucket",
    "gcp:storage/bucketIAMMember:BucketIAMMember",
    "gcp:serviceaccount/account:Account",
    "gcp:serviceaccount/iAMMember:IAMMember",
    "gcp:sql/databaseInstance:DatabaseInstance",
    "gcp:sql/database:Database",
    "gcp:sql/user:User",
    "gcp:artifactregistry/repository:Repository",
    "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember",
    "gcp:container/cluster:Cluster",
    "gcp:container/nodePool:NodePool",
    "aws:s3/bucket:Bucket",
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:rds/instance:Instance",
    "aws:rds/subnetGroup:SubnetGroup",
    "aws:ecr/repository:Repository",
    "aws:iam/role:Role",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
    "aws:eks/cluster:Cluster",
    "aws:eks/nodeGroup:NodeGroup",
    "aws:eks/addon:Addon",
    "aws:eks/podIdentityAssociation:PodIdentityAssociation",
    "aws:ec2/vpc:Vpc",
    "aws:ec2/subnet:Subnet",
    "aws:ec2/internetGateway:InternetGateway",
    "aws:ec2/routeTable:RouteTable",
    "aws:ec2/routeTableAssociation:RouteTableAssociation",
    "aws:ec2/securityGroup:SecurityGroup",
    "kubernetes:core/v1:Namespace",
    "kubernetes:core/v1:ServiceAccount",
    "kubernetes:core/v1:PersistentVolumeClaim",
    "kubernetes:rbac.authorization.k8s.io/v1:Role",
    "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
    "random:index/randomPassword:RandomPassword",
    "random:index/randomId:RandomId",
)
"""Every type the infra programs declare (a test checks the programs use no other)."""

SDKS = {"gcp": "pulumi_gcp", "aws": "pulumi_aws", "kubernetes": "pulumi_kubernetes"}
SDKS["random"] = "pulumi_random"

_FORCES = re.compile(
    r"forces? (?:a |the )?new (?:\w+ ){0,2}(?:to be created|resource)"
    r"|forces? (?:a |the )?re-?creation|will force (?:a )?recreation"
    r"|forces? (?:a |the )?recreation of the \w+"
    r"|forces? the resource to be re-?created|to create (?:a )?new resource"
    r"|trigger (?:a destroy and )?recreat"
    r"|(?:field|value) is immutable|\bis immutable\b|\bcannot be updated\b",
    re.IGNORECASE,
)
NOT_IN_SDK_TEXT: dict[str, dict[str, str]] = {
    "aws:rds/instance:Instance": {
        path: "ForceNew in the AWS provider schema; pulumi-aws's docstrings do not say it, and "
        "a database shown as updated in place when it is recreated would hide data loss"
        for path in ("engine", "dbName", "username", "storageEncrypted", "kmsKeyId")
    },
}
"""The one supplement: facts about a data-bearing type that the SDK text leaves out."""

_CONDITIONAL = re.compile(r"\bchanging from\b|\bonly if\b|\bwhen changing from\b", re.IGNORECASE)
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z`*])")
_QUOTED_TYPE = re.compile(r"'([A-Za-z_][\w.]*Args)'")
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
_BACKTICK = re.compile(r"`(\w+)`")
_GCP_NAME_PARTS = ("name", "project", "location", "region")
_MAX_DEPTH = 6
_EVIDENCE_CHARS = 200


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _snake(camel: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", camel).lower()


def _package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"{package} is not installed: install it to generate replace_on.json")
    return Path(next(iter(spec.submodule_search_locations)))


class _Sources:
    """Parsed SDK files, each parsed once."""

    def __init__(self) -> None:
        self._trees: dict[Path, dict[str, ast.ClassDef]] = {}

    def classes(self, path: Path) -> dict[str, ast.ClassDef]:
        if path not in self._trees:
            tree = ast.parse(path.read_text(encoding="utf-8"))
            self._trees[path] = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
        return self._trees[path]


def _module_file(type_token: str) -> tuple[Path, str, Path]:
    """(resource module file, class name, package root) of a type token."""
    pkg, module, name = type_token.split(":")
    root = _package_dir(SDKS[pkg])
    if pkg == "kubernetes":
        group, api_version = module.split("/")
        return root / group.split(".")[0] / api_version / f"{name}.py", name, root
    mod, file = module.split("/")
    base = root if mod == "index" else root / mod
    guess = base / f"{_snake(file)}.py"
    if guess.is_file():
        return guess, name, root
    # Acronyms (``iAMMember`` -> ``iam_member.py``) defeat the naive spelling: find the class.
    marker = f"class {name}(pulumi.CustomResource)"
    for path in sorted(base.glob("*.py")):
        if marker in path.read_text(encoding="utf-8"):
            return path, name, root
    raise SystemExit(f"{type_token}: no module defines {name} under {base}")


def _properties(cls: ast.ClassDef) -> Iterator[tuple[str, str, str]]:
    """(wire name, docstring, return annotation) of each getter of an input class."""
    for node in cls.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        wire = None
        for decorator in node.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            if ast.unparse(target) != "pulumi.getter":
                continue
            wire = node.name
            if isinstance(decorator, ast.Call):
                for keyword in decorator.keywords:
                    if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
                        wire = str(keyword.value.value)
            if wire == node.name:
                wire = _camel(node.name)
        if wire is None or not node.returns:
            continue
        yield wire, ast.get_docstring(node) or "", ast.unparse(node.returns)


def _forcing_sentence(doc: str) -> str | None:
    text = " ".join(doc.split())
    for sentence in _SENTENCE.split(text):
        if _FORCES.search(sentence) and not _CONDITIONAL.search(sentence):
            return sentence[:_EVIDENCE_CHARS]
    return None


def _resolve(annotation: str, here: Path, root: Path, sources: _Sources) -> list[tuple[Path, str]]:
    """Where the input types named in an annotation are defined."""
    found = []
    for ref in _QUOTED_TYPE.findall(annotation):
        parts = ref.split(".")
        if len(parts) == 1:
            candidates = [here.parent / "_inputs.py", here]
        else:
            # Kubernetes: '_meta.v1.ObjectMetaArgs' -> pulumi_kubernetes/meta/v1/_inputs.py
            candidates = [root.joinpath(*(p.lstrip("_") for p in parts[:-1])) / "_inputs.py"]
        for path in candidates:
            if path.is_file() and parts[-1] in sources.classes(path):
                found.append((path, parts[-1]))
                break
    return found


def _walk(
    cls: ast.ClassDef,
    here: Path,
    root: Path,
    sources: _Sources,
    prefix: str,
    depth: int,
    seen: frozenset[str],
) -> Iterator[tuple[str, str]]:
    for wire, doc, annotation in _properties(cls):
        path = f"{prefix}{wire}"
        sentence = _forcing_sentence(doc)
        if sentence:
            yield path, sentence
            continue  # everything below it is replaced with it
        if depth >= _MAX_DEPTH:
            continue
        for file, name in _resolve(annotation, here, root, sources):
            key = f"{file}:{name}"
            if key in seen:
                continue
            nested = sources.classes(file)[name]
            yield from _walk(nested, file, root, sources, f"{path}.", depth + 1, seen | {key})


def _identity(pkg: str, resource_doc: str, inputs: set[str]) -> dict[str, str]:
    """Inputs that are part of the resource's import identity, with the text naming them."""
    found: dict[str, str] = {}
    text = resource_doc
    if pkg == "aws" and "### Identity Schema" in text:
        block = text.split("### Identity Schema", 1)[1]
        required = block.split("#### Required", 1)[-1].split("####", 1)[0]
        for snake in _BACKTICK.findall(required):
            if _camel(snake) in inputs:
                found[_camel(snake)] = f"import identity (required): `{snake}`"
    elif pkg == "gcp" and "## Import" in text:
        section = text.split("## Import", 1)[1].split("```", 1)[0]
        for snake in sorted({*_PLACEHOLDER.findall(section), *_BACKTICK.findall(section)}):
            for candidate in (snake, snake.removesuffix("_id")):
                if _camel(candidate) in inputs:
                    found[_camel(candidate)] = f"import identity: {{{{{snake}}}}}"
                    break
    if pkg == "gcp":
        # A GCP resource never moves between projects or locations; without an import format,
        # its ``name`` is its identity too.
        parts = _GCP_NAME_PARTS if not found else _GCP_NAME_PARTS[1:]
        for name in parts:
            if name in inputs and name not in found:
                found[name] = "GCP resource name part (project, location and name identify it)"
    return found


def extract(type_token: str, sources: _Sources | None = None) -> dict[str, str]:
    """Replace-forcing input paths of one type -> the SDK sentence that says so."""
    sources = sources or _Sources()
    file, name, root = _module_file(type_token)
    classes = sources.classes(file)
    args = classes.get(f"{name}Args") or classes.get(f"{name}InitArgs")
    resource = classes.get(name)
    if args is None or resource is None:
        raise SystemExit(f"{type_token}: no {name}Args/{name} class in {file}")
    paths = dict(_walk(args, file, root, sources, "", 0, frozenset()))
    top = {wire for wire, _doc, _ann in _properties(args)}
    docs = [ast.get_docstring(resource) or ""]
    docs += [ast.get_docstring(n) or "" for n in resource.body if isinstance(n, ast.FunctionDef)]
    for path, why in _identity(type_token.split(":")[0], "\n".join(docs), top).items():
        paths.setdefault(path, why)
    for path, why in NOT_IN_SDK_TEXT.get(type_token, {}).items():
        paths.setdefault(path, why)
    return dict(sorted(paths.items()))


def generate() -> dict[str, Any]:
    """The whole data file's content for the installed SDKs."""
    sources = _Sources()
    versions = {}
    for package in sorted(set(SDKS.values())):
        try:
            versions[package] = version(package.replace("_", "-"))
        except PackageNotFoundError:
            versions[package] = "not installed"
    return {
        "generated_by": "python -m flowyml.provision.replace_gen",
        "sdks": versions,
        "types": {token: extract(token, sources) for token in TYPES},
    }


def render(data: dict[str, Any]) -> str:
    """The file's text (stable: sorted keys, one path per line)."""
    return json.dumps(data, indent=1, sort_keys=True) + "\n"


def main() -> None:
    """Write the data file next to this module."""
    DATA_FILE.write_text(render(generate()), encoding="utf-8")
    print(f"wrote {DATA_FILE}", file=sys.stderr)


if __name__ == "__main__":
    main()
