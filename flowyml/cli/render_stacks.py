"""Text view of one stack for ``stack describe``: what is set, nothing that is not.

Components come first, one line each (their kind in words, then the fields that are set);
then the stack's other settings. ``None`` and empty values are left out; secrets show as their
``${VAR}`` reference or ``[secret]``, never in clear (``Stack.describe`` never holds them).
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from typing import Any

COMPONENTS = ("executor", "artifact_store", "metadata_store", "orchestrator", "container_registry")
_KIND_LABELS = {
    ("executor", "local"): "local threads/processes",
    ("executor", "docker"): "Docker containers",
    ("executor", "remote"): "remote executor",
    ("executor", "kubernetes"): "Kubernetes Jobs",
    ("executor", "vertex_ai"): "Vertex AI custom jobs",
    ("orchestrator", "vertex_ai"): "Vertex AI Pipelines",
    ("orchestrator", "kubeflow"): "Kubeflow Pipelines",
    ("orchestrator", "airflow"): "Airflow",
    ("artifact_store", "local"): "local directory",
    ("artifact_store", "gcs"): "Cloud Storage",
    ("artifact_store", "s3"): "S3",
    ("artifact_store", "azure"): "Azure Blob",
    ("metadata_store", "sqlite"): "SQLite",
    ("metadata_store", "cloudsql"): "Cloud SQL (PostgreSQL)",
    ("metadata_store", "postgresql"): "PostgreSQL",
    ("metadata_store", "mysql"): "MySQL",
    ("container_registry", "ecr"): "Amazon ECR",
}
_SKIP = frozenset({"type", "name", "needs_provisioning", *COMPONENTS})


def registry_label(kind: str, uri: str | None) -> str:
    """A container registry's kind in words: Artifact Registry is not Container Registry."""
    if uri and ".pkg.dev" in uri:
        return "Artifact Registry"
    if kind == "gcr":
        return "Container Registry (gcr.io)"
    return _KIND_LABELS.get(("container_registry", kind), kind)


def _value(value: Any) -> str | None:
    if value is None or value == "" or value == [] or value == {}:
        return None
    if isinstance(value, Mapping):
        if "secret_ref" in value:
            return str(value.get("value", "[secret]"))
        parts = [f"{k} {v}" for k, v in ((k, _value(v)) for k, v in value.items()) if v]
        return ", ".join(parts) or None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        items = [v for v in (_value(item) for item in value) if v]
        return "; ".join(items) or None
    return str(value)


def component_line(field: str, data: Mapping[str, Any]) -> str:
    """``artifact store   Cloud Storage: bucket my-artifacts`` for one component."""
    kind = str(data.get("kind", "?"))
    if field == "container_registry":
        label = registry_label(kind, data.get("uri"))
    else:
        label = _KIND_LABELS.get((field, kind), kind)
    rest = _value({k: v for k, v in data.items() if k != "kind"})
    return f"  {field.replace('_', ' '):<19}{label}" + (f": {rest}" if rest else "")


def _wrap(line: str, indent: int, width: int) -> list[str]:
    return textwrap.wrap(
        line,
        width=width,
        subsequent_indent=" " * indent,
        break_on_hyphens=False,
        break_long_words=False,
    ) or [line]


def _shown_path(source: str) -> str:
    """A declaration's place, relative to the project when it is inside it."""
    from flowyml.core.paths import project_dir

    root = str(project_dir()) + "/"
    return source[len(root) :] if source.startswith(root) else source


def _wrapped(line: str, width: int) -> list[str]:
    """``line``, broken at ``; `` when it does not fit ``width``."""
    if len(line) <= width or "; " not in line:
        return [line]
    head, tail = line.split("; ", 1)
    return [head + ";", "  " + tail]


def describe_lines(data: Mapping[str, Any], source: str | None, width: int = 100) -> list[str]:
    """The lines of ``stack describe`` for ``Stack.describe()`` plus ``active``/``provisioned``
    (long lines wrapped to ``width`` under their value)."""
    name, kind = data.get("name"), data.get("type")
    if data.get("needs_provisioning"):
        state = (
            "provisioned"
            if data.get("provisioned")
            else f"not provisioned (`flowyml stack up {name}`)"
        )
    else:
        state = "nothing to provision (a run creates its stores)"
    lines = [
        f"Stack {name} ({kind})" + ("  [active]" if data.get("active") else ""),
        *_wrapped(f"  {state}" + (f"; declared at {_shown_path(source)}" if source else ""), width),
        "",
        "Components:",
    ]
    for field in COMPONENTS:
        component = data.get(field)
        if isinstance(component, Mapping):
            lines += _wrap(component_line(field, component), 23, width)
    settings = [
        (key, text)
        for key, value in data.items()
        if key not in _SKIP and key not in ("active", "provisioned")
        for text in [_value(value)]
        if text
    ]
    if settings:
        lines += ["", "Settings:"]
        pad = max(len(key) for key, _ in settings) + 2
        for key, text in settings:
            lines += _wrap(f"  {key:<{pad}}{text}", pad + 2, width)
    return lines
