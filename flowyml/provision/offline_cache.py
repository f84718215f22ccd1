"""A cache of offline evaluations, so a repeated ``stack preview --offline`` skips Pulumi.

Evaluating a program under mocks imports the Pulumi SDK and the provider SDKs (most of an offline
preview's time). What it yields depends only on the stack declaration, the provider config, the
infra programs' source and the installed SDKs, so it is cached under
``<project>/.flowyml/cache/offline/<stack>.json`` with a key over exactly those.

Invariants:
- Only masked inputs are cached (secret values become ``[secret]``): the planner compares
  masked inputs anyway, and a cache file must never hold a secret in clear text.
- A cache that cannot be read, or whose key differs, is ignored and rewritten; a value that
  cannot be written as JSON means no cache, never an error.
- ``FLOWYML_NO_CACHE=1`` turns the cache off.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from pathlib import Path
from typing import Any

from flowyml import __version__
from flowyml.core.files import write_atomic
from flowyml.core.paths import state_dir
from flowyml.provision.mock_eval import EvaluatedResource, Evaluation

CACHE_FORMAT = 2
_SDKS = ("pulumi", "pulumi_gcp", "pulumi_aws", "pulumi_kubernetes", "pulumi_random")


def _file_stamp(path: Path) -> list[Any]:
    stat = path.stat()
    return [str(path), stat.st_mtime_ns, stat.st_size]


def _sources_stamp() -> list[Any]:
    """Stamps of the infra programs, of the mock evaluator and of the installed SDKs.

    The mock evaluator's modules count: they make the resource states programs read (an id,
    an address, a security group...), so changing them changes an evaluation.
    """
    import flowyml.infra
    from flowyml.provision import _wire, mock_eval

    stamps = [_file_stamp(p) for p in sorted(Path(flowyml.infra.__file__).parent.glob("*.py"))]
    from flowyml.stacks import physical_names

    # physical_names derives default names the programs declare.
    modules = (mock_eval, _wire, physical_names)
    stamps += [_file_stamp(Path(m.__file__)) for m in modules if m.__file__]
    for name in _SDKS:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin:
            stamps.append(_file_stamp(Path(spec.origin)))
    return stamps


def cache_key(stack_dict: dict[str, Any], config: dict[str, str], pulumi_stack: str) -> str:
    """The key of one evaluation: declaration, config, program sources and SDK versions."""
    material = {
        "format": CACHE_FORMAT,
        "flowyml": __version__,
        "stack": stack_dict,
        "config": config,
        "pulumi_stack": pulumi_stack,
        "sources": _sources_stamp(),
    }
    text = json.dumps(material, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _path(stack_name: str, root: Path | None) -> Path:
    return (root or state_dir()) / "cache" / "offline" / f"{stack_name}.json"


def _enabled() -> bool:
    return os.environ.get("FLOWYML_NO_CACHE", "").strip().lower() not in {"1", "true", "yes"}


def masked(evaluation: Evaluation) -> Evaluation:
    """The evaluation with every secret input and output replaced by ``[secret]``."""
    from dataclasses import replace

    return replace(
        evaluation,
        resources=tuple(
            replace(r, inputs=r.masked_inputs(), state={}) for r in evaluation.resources
        ),
        outputs=evaluation.masked_outputs(),
    )


def _to_json(evaluation: Evaluation) -> dict[str, Any]:
    return {
        "project": evaluation.project,
        "stack": evaluation.stack,
        "resources": [
            {
                "urn": r.urn,
                "type": r.type,
                "name": r.name,
                "inputs": dict(r.inputs),
                "parent": r.parent,
                "secret_inputs": list(r.secret_inputs),
                "unknown_inputs": list(r.unknown_inputs),
                "custom": r.custom,
                "provider": r.provider,
                "id": r.id,
                "delete_before_replace": r.delete_before_replace,
            }
            for r in evaluation.resources
        ],
        "outputs": dict(evaluation.outputs),
        "secret_outputs": sorted(evaluation.secret_outputs),
        "unknown_outputs": sorted(evaluation.unknown_outputs),
        "diagnostics": list(evaluation.diagnostics),
    }


def _from_json(data: dict[str, Any]) -> Evaluation:
    return Evaluation(
        project=data["project"],
        stack=data["stack"],
        resources=tuple(
            EvaluatedResource(
                urn=r["urn"],
                type=r["type"],
                name=r["name"],
                inputs=r["inputs"],
                parent=r["parent"],
                secret_inputs=tuple(r["secret_inputs"]),
                unknown_inputs=tuple(r["unknown_inputs"]),
                custom=r["custom"],
                provider=r["provider"],
                id=r["id"],
                delete_before_replace=bool(r.get("delete_before_replace", False)),
            )
            for r in data["resources"]
        ),
        outputs=data["outputs"],
        secret_outputs=frozenset(data["secret_outputs"]),
        unknown_outputs=frozenset(data["unknown_outputs"]),
        diagnostics=tuple(data["diagnostics"]),
    )


def load(stack_name: str, key: str, root: Path | None = None) -> Evaluation | None:
    """The cached (masked) evaluation of ``stack_name`` when its key is ``key``, else ``None``."""
    if not _enabled():
        return None
    try:
        document = json.loads(_path(stack_name, root).read_text(encoding="utf-8"))
        if document.get("key") != key:
            return None
        return _from_json(document["evaluation"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save(stack_name: str, key: str, evaluation: Evaluation, root: Path | None = None) -> None:
    """Write the masked ``evaluation`` for ``stack_name`` (atomically; silently skipped when the
    values are not JSON or the directory is not writable)."""
    if not _enabled():
        return
    path = _path(stack_name, root)
    try:
        text = json.dumps({"key": key, "evaluation": _to_json(masked(evaluation))})
        write_atomic(path, text.encode("utf-8"), mode=0o600)
    except (OSError, TypeError, ValueError):
        return
