"""How a flowyml stack maps onto Pulumi: project and stack names, config, backend and checkpoint.

One Pulumi stack per flowyml stack, named like it, in the Pulumi project ``flowyml``. Shared by the
offline planner (which must compute the same URNs as the real engine, or nothing would match the
checkpoint) and the Pulumi engine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flowyml.core.paths import state_dir

PULUMI_PROJECT = "flowyml"
PULUMI_DIRNAME = "pulumi"


def pulumi_stack_name(stack: Any) -> str:
    """The Pulumi stack name for a flowyml stack (its own name)."""
    return str(stack.name)


def pulumi_config(stack: Any) -> dict[str, str]:
    """Provider config a program's default providers need (project and region)."""
    config: dict[str, str] = {}
    if stack.stack_type == "gcp":
        config["gcp:project"] = str(stack.project_id)
        config["gcp:region"] = str(stack.region)
    elif stack.stack_type == "aws":
        config["aws:region"] = str(stack.region)
    elif stack.stack_type == "kubernetes":
        if getattr(stack, "kubeconfig", None):
            config["kubernetes:kubeconfig"] = str(stack.kubeconfig)
        if getattr(stack, "context", None):
            config["kubernetes:context"] = str(stack.context)
    return config


def backend_dir(root: Path | None = None) -> Path:
    """The default file backend directory: ``<project>/.flowyml/pulumi``."""
    return (root if root is not None else state_dir()) / PULUMI_DIRNAME


def backend_url(stack: Any, root: Path | None = None) -> str:
    """The stack's ``backend:`` URL, else ``file://<project>/.flowyml/pulumi``."""
    declared = getattr(stack, "backend", None)
    if declared:
        return str(declared)
    return backend_dir(root).resolve().as_uri()


def checkpoint_paths(stack: Any, root: Path | None = None) -> tuple[Path, ...]:
    """Where the file backend keeps the stack's checkpoint (project-scoped, then legacy layout).

    Only meaningful for the default (or a ``file://``) backend; remote backends have no local file.
    """
    declared = getattr(stack, "backend", None)
    if declared and not str(declared).startswith("file://"):
        return ()
    base = Path(str(declared)[len("file://") :]) if declared else backend_dir(root)
    name = pulumi_stack_name(stack)
    stacks = base / ".pulumi" / "stacks"
    return (stacks / PULUMI_PROJECT / f"{name}.json", stacks / f"{name}.json")
