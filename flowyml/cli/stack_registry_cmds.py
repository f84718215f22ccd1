"""``flowyml stack list|describe|set|validate|schema|register|delete``: declarations and the
registry. Thin: parse, call :mod:`flowyml.stacks`, render. None of these touch infrastructure.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from flowyml.cli import term
from flowyml.cli._common import echo_json
from flowyml.cli.completion import complete_stack_names

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
    """Whether the stack was brought up: its outputs are recorded (``stack up``).

    A stack that needs nothing provisioned (local, custom) also counts once its metadata store
    exists (a run created it); a local stack never run nor brought up is not provisioned.
    """
    from flowyml.core.paths import STATE_DIRNAME

    if (root / STATE_DIRNAME / "stacks" / stack.name / "outputs.json").is_file():
        return True
    if stack.needs_provisioning:
        return False
    from flowyml.cli.run_sources import sqlite_file

    path = sqlite_file(stack)
    return path is not None and path.exists()


@click.command("list")
@_json_option
def list_cmd(as_json: bool) -> None:
    """List known stacks: name, type, active, provisioned, where declared.

    A declared stack that does not load (unset variable, bad field) is listed with its error;
    the command then exits non-zero with that error, so nothing broken goes unnoticed.
    """
    from flowyml.stacks.registry import StackRegistry

    term.route_warnings()
    registry = StackRegistry()
    entries = registry.entries()
    active = registry.active_name()
    rows = [
        {
            "name": e.name,
            "type": e.stack_type,
            "active": e.name == active,
            "provisioned": _provisioned(registry.root, e.stack) if e.stack else None,
            "needs_provisioning": e.stack.needs_provisioning if e.stack else None,
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


def _provisioned_cell(row: dict[str, Any]) -> str:
    if row["provisioned"] is None:
        return "?"
    if row["provisioned"]:
        return "yes"
    return "no" if row["needs_provisioning"] else "no (not needed)"


def _print_table(rows: list[dict[str, Any]], active: str | None) -> None:
    from flowyml.core.paths import project_dir

    root = str(project_dir()) + "/"
    table = [
        [
            "*" if r["active"] else "",
            r["name"],
            r["type"] or "?",
            _provisioned_cell(r),
            r["source"].removeprefix(root)
            + (" (does not load: see the error below)" if r["error"] else ""),
        ]
        for r in rows
    ]
    term.echo(term.table(["", "NAME", "TYPE", "PROVISIONED", "SOURCE"], table, flexible={4: 20}))
    if active is None:
        click.echo("\nNo active stack set: runs use the default (see `flowyml stack set NAME`).")


_name_argument = click.argument("name", shell_complete=complete_stack_names)


@click.command("describe")
@_name_argument
@_json_option
def describe_cmd(name: str, as_json: bool) -> None:
    """Show what a stack sets: its components, resources and Docker settings."""
    from flowyml.cli.render_stacks import describe_lines
    from flowyml.stacks.registry import StackRegistry

    term.route_warnings()
    registry = StackRegistry()
    stack = registry.get_stack(name)
    data = stack.describe()
    data["active"] = registry.active_name() == name
    data["provisioned"] = _provisioned(registry.root, stack)
    if as_json:
        echo_json(data)
        return
    source = next((e.source for e in registry.entries() if e.name == name), None)
    term.echo(describe_lines(data, source, term.width()))


@click.command("set")
@_name_argument
@_json_option
def set_cmd(name: str, as_json: bool) -> None:
    """Make NAME the active stack for new pipelines in this project."""
    from flowyml.stacks.registry import StackRegistry

    term.route_warnings()
    registry = StackRegistry()
    stack = registry.set_active_stack(name)
    ready = not stack.needs_provisioning or _provisioned(registry.root, stack)
    if as_json:
        echo_json({"active": stack.name, "type": stack.stack_type, "provisioned": ready})
        return
    click.echo(f"Active stack: {stack.name} ({stack.stack_type})")
    if not ready:
        click.echo(
            f"It is not provisioned yet: runs on it fail until `flowyml stack up {name}` "
            f"(`flowyml stack preview {name}` shows what that creates and costs)."
        )


@click.command("validate")
@_name_argument
@_json_option
def validate_cmd(name: str, as_json: bool) -> None:
    """Check a stack without credentials: naming rules, regions, URIs, resources.

    Literal credentials in a config file, and ${VAR} secrets set to an empty value, are
    warnings (the stack stays valid).
    """
    from flowyml.provision.preflight import preflight_problems
    from flowyml.stacks.errors import StackError
    from flowyml.stacks.registry import StackRegistry

    term.route_warnings()
    stack = StackRegistry().get_stack(name)
    # The same checks `stack preview` / `stack up` run first: validation + provider capabilities.
    problems = preflight_problems(stack)
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
        noun = "problem" if len(problems) == 1 else "problems"
        where = "in the JSON above" if as_json else "above"
        raise StackError(
            f"stack {name!r} has {len(problems)} {noun} (listed {where})",
            hint=f"correct those fields, then run `flowyml stack validate {name}`",
        )


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
    registry = StackRegistry()
    recorded = registry.register_stacks(stacks)  # all or none
    sources = registry.config().sources
    if as_json:
        echo_json(
            {
                "registered": [
                    {"name": s.name, "type": s.stack_type} for s in stacks if s.name in recorded
                ],
                "already_declared": [
                    {"name": s.name, "source": sources.get(s.name)}
                    for s in stacks
                    if s.name not in recorded
                ],
            }
        )
        return
    for stack in stacks:
        if stack.name in recorded:
            click.echo(f"Registered stack {stack.name} ({stack.stack_type}) from {file}.")
        else:
            click.echo(
                f"Stack {stack.name} is already declared, as is, in {sources.get(stack.name)}: "
                "nothing to register (the project reads it from there)."
            )


@click.command("delete")
@_name_argument
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
