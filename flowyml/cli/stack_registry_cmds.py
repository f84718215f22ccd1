"""``flowyml stack list|describe|set|validate|schema|register|delete``: declarations and the
registry. Thin: parse, call :mod:`flowyml.stacks`, render. None of these touch infrastructure.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from flowyml.cli._common import echo_json

__all__ = [
    "delete_cmd",
    "describe_cmd",
    "list_cmd",
    "register_cmd",
    "schema_cmd",
    "set_cmd",
    "validate_cmd",
]

_json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


def _provisioned(root: Path, stack: Any) -> bool:
    """Local and custom stacks need nothing provisioned; others once outputs are recorded."""
    from flowyml.core.paths import STATE_DIRNAME

    if stack is not None and not stack.needs_provisioning:
        return True
    return (root / STATE_DIRNAME / "stacks" / stack.name / "outputs.json").is_file()


@click.command("list")
@_json_option
def list_cmd(as_json: bool) -> None:
    """List known stacks: name, type, active, provisioned, where declared.

    A declared stack that does not load (unset variable, bad field) is listed with its error;
    the command then exits non-zero with that error, so nothing broken goes unnoticed.
    """
    from flowyml.stacks.registry import StackRegistry

    registry = StackRegistry()
    entries = registry.entries()
    active = registry.active_name()
    rows = [
        {
            "name": e.name,
            "type": e.stack_type,
            "active": e.name == active,
            "provisioned": _provisioned(registry.root, e.stack) if e.stack else None,
            "source": e.source,
            "error": str(e.error) if e.error is not None else None,
        }
        for e in entries
    ]
    if as_json:
        echo_json({"stacks": rows, "active": active})
    else:
        _print_table(rows, active)
    broken = [e.error for e in entries if e.error is not None]
    if broken:
        raise broken[0]


def _print_table(rows: list[dict[str, Any]], active: str | None) -> None:
    header = ("", "NAME", "TYPE", "PROVISIONED", "SOURCE")
    table = [header] + [
        (
            "*" if r["active"] else "",
            r["name"],
            r["type"] or "?",
            {True: "yes", False: "no", None: "?"}[r["provisioned"]],
            r["source"] + (" (does not load: see the error below)" if r["error"] else ""),
        )
        for r in rows
    ]
    widths = [max(len(str(row[i])) for row in table) for i in range(len(header))]
    for row in table:
        click.echo("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    if active is None:
        click.echo("\nNo active stack set: runs use the default (see `flowyml stack set NAME`).")


@click.command("describe")
@click.argument("name")
@_json_option
def describe_cmd(name: str, as_json: bool) -> None:
    """Show a stack's components, resources and Docker settings."""
    import yaml

    from flowyml.stacks.registry import StackRegistry

    registry = StackRegistry()
    stack = registry.get_stack(name)
    data = stack.describe()
    data["active"] = registry.active_name() == name
    data["provisioned"] = _provisioned(registry.root, stack)
    if as_json:
        echo_json(data)
        return
    click.echo(yaml.safe_dump(data, sort_keys=False, default_flow_style=False).rstrip())


@click.command("set")
@click.argument("name")
@_json_option
def set_cmd(name: str, as_json: bool) -> None:
    """Make NAME the active stack for new pipelines in this project."""
    from flowyml.stacks.registry import StackRegistry

    stack = StackRegistry().set_active_stack(name)
    if as_json:
        echo_json({"active": stack.name, "type": stack.stack_type})
    else:
        click.echo(f"Active stack: {stack.name} ({stack.stack_type})")


@click.command("validate")
@click.argument("name")
@_json_option
def validate_cmd(name: str, as_json: bool) -> None:
    """Check a stack without credentials: naming rules, regions, URIs, resources."""
    from flowyml.stacks.errors import StackValidationError
    from flowyml.stacks.registry import StackRegistry

    stack = StackRegistry().get_stack(name)
    problems = stack.validate(raise_on_error=False)
    if as_json:
        echo_json(
            {
                "stack": name,
                "valid": not problems,
                "problems": [p.to_dict() for p in problems],
            }
        )
    elif not problems:
        click.echo(f"Stack {name!r} is valid.")
    else:
        for p in problems:
            click.echo(f"- {p}")
    if problems:
        raise StackValidationError(name, problems)


@click.command("schema")
@_json_option
def schema_cmd(as_json: bool) -> None:
    """Print the JSON Schema of flowyml.yaml (for editor completion)."""
    from flowyml.stacks.config import config_schema

    echo_json(config_schema())


@click.command("register")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@_json_option
def register_cmd(file: Path, as_json: bool) -> None:
    """Register the stacks declared in a YAML FILE (validated first)."""
    from flowyml.stacks.config import load_stack_file
    from flowyml.stacks.registry import StackRegistry

    stacks = load_stack_file(file)
    for stack in stacks:
        stack.validate()
    StackRegistry().register_stacks(stacks)  # all or none
    if as_json:
        echo_json({"registered": [{"name": s.name, "type": s.stack_type} for s in stacks]})
        return
    for stack in stacks:
        click.echo(f"Registered stack {stack.name} ({stack.stack_type}) from {file}.")


@click.command("delete")
@click.argument("name")
@_json_option
def delete_cmd(name: str, as_json: bool) -> None:
    """Remove a stack's registration (never its infrastructure)."""
    from flowyml.stacks.registry import StackRegistry

    registry = StackRegistry()
    stack = registry.get_stack(name)
    provisioned = stack.needs_provisioning and _provisioned(registry.root, stack)
    registry.remove_stack(name)
    note = "Infrastructure was not touched (`stack delete` never touches it)."
    if provisioned:
        note += f" It is still provisioned: run `flowyml stack destroy {name}` to tear it down."
    if as_json:
        echo_json(
            {"deleted": name, "infrastructure_touched": False, "still_provisioned": provisioned}
        )
        return
    click.echo(f"Removed the registration of stack {name!r}. {note}")


COMMANDS: tuple[click.Command, ...] = (
    list_cmd,
    describe_cmd,
    set_cmd,
    validate_cmd,
    schema_cmd,
    register_cmd,
    delete_cmd,
)
"""Every command of this module, for the ``stack`` group."""
