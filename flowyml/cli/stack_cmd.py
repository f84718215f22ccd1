"""The ``flowyml stack`` group: registry commands, plus lifecycle commands when present."""

from __future__ import annotations

import importlib

import click

from flowyml.cli.completion import complete_stack_names
from flowyml.cli.stack_registry_cmds import COMMANDS


def _complete_names(command: click.Command) -> None:
    """Complete the NAME argument of a command defined elsewhere with the project's stacks.

    Click keeps a parameter's completion function in ``_custom_shell_complete`` (set by the
    ``shell_complete=`` argument); the lifecycle module does not pass one.
    """
    for param in command.params:
        if (
            isinstance(param, click.Argument)
            and param.name == "name"
            and getattr(param, "_custom_shell_complete", None) is None
        ):
            param._custom_shell_complete = complete_stack_names


@click.group("stack")
def stack() -> None:
    """Declare, preview, provision and destroy stacks."""


for _command in COMMANDS:
    stack.add_command(_command)

try:
    _lifecycle = importlib.import_module("flowyml.cli.stack_lifecycle_cmds")
except ModuleNotFoundError as _exc:
    if _exc.name != "flowyml.cli.stack_lifecycle_cmds":
        raise
else:
    for _name in ("preview", "up", "destroy", "refresh", "outputs", "check"):
        _found = getattr(_lifecycle, _name, None) or getattr(_lifecycle, f"{_name}_cmd", None)
        if isinstance(_found, click.Command):
            stack.add_command(_found, _name)
            _complete_names(_found)
