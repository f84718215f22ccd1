"""``flowyml info``: where the project, its state and its stores are."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from flowyml.cli import term
from flowyml.cli._common import echo_json


def _how_found(project: Path) -> str:
    from flowyml.core.paths import CONFIG_FILENAME

    if os.environ.get("FLOWYML_PROJECT_DIR"):
        return "$FLOWYML_PROJECT_DIR"
    if (project / CONFIG_FILENAME).is_file():
        return f"{CONFIG_FILENAME} found there"
    return f"no {CONFIG_FILENAME} here or above: the current directory (`flowyml init` makes one)"


def _stores(stack: Any) -> dict[str, str | None]:
    """Where ``stack`` keeps artifacts and metadata, as declared (nothing is opened)."""
    from flowyml.core.errors import FlowymlError

    out: dict[str, str | None] = {"artifact_store": None, "metadata_store": None}
    artifact = getattr(stack, "artifact_store", None)
    if artifact is not None:
        resolved = getattr(artifact, "resolved_path", None)
        out["artifact_store"] = str(resolved) if resolved is not None else artifact.uri
    meta = getattr(stack, "metadata_store", None)
    if meta is not None:
        try:
            out["metadata_store"] = str(meta.sqlalchemy_url(reveal=False))
        except FlowymlError as exc:
            out["metadata_store"] = f"(unresolved: {exc.message})"
    if getattr(stack, "needs_provisioning", False):
        out["note"] = "stores come from `flowyml stack up` outputs (`flowyml stack outputs NAME`)"
    return out


@click.command("info")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def info(as_json: bool) -> None:
    """Say where the project, its state and the stores of the stack runs use are."""
    from flowyml import __version__
    from flowyml.core.errors import FlowymlError
    from flowyml.core.paths import project_dir, state_dir
    from flowyml.stacks.config import config_files
    from flowyml.stacks.registry import StackRegistry, resolve_stack

    term.route_warnings()
    project = project_dir()
    registry = StackRegistry()
    try:
        stack = resolve_stack(None, None)
        chosen: dict[str, Any] = {"name": stack.name, "type": stack.stack_type, **_stores(stack)}
    except FlowymlError as exc:
        chosen = {"name": None, "error": str(exc)}
    data: dict[str, Any] = {
        "version": __version__,
        "project": str(project),
        "found_by": _how_found(project),
        "config_files": [str(f) for f in config_files(project)],
        "state": str(state_dir()),
        "state_exists": state_dir().is_dir(),
        "active_stack": registry.active_name(),
        "stack": chosen,
        "python_stacks": [s.name for s in registry.run_stacks()],
    }
    if as_json:
        echo_json(data)
        return
    files = data["config_files"] or ["(none)"]
    lines = [
        f"flowyml {__version__}",
        f"Project:      {project}  ({data['found_by']})",
        f"Config:       {files[0]}",
        *[f"              {f}" for f in files[1:]],
        f"State:        {data['state']}" + ("" if data["state_exists"] else "  (not created yet)"),
        f"Active stack: {data['active_stack'] or '(none set: `flowyml stack set NAME`)'}",
    ]
    if chosen.get("name"):
        lines += [
            f"Runs use:     {chosen['name']} ({chosen['type']})",
            f"  artifacts:  {chosen.get('artifact_store') or '-'}",
            f"  metadata:   {chosen.get('metadata_store') or '-'}",
        ]
        if chosen.get("note"):
            lines.append(f"  note:       {chosen['note']}")
    else:
        lines.append(f"Runs use:     {chosen['error']}")
    if data["python_stacks"]:
        lines.append(f"Stacks runs were given in Python: {', '.join(data['python_stacks'])}")
    term.echo(lines)
