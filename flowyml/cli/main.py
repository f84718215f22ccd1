"""Entry point of the ``flowyml`` command.

Subcommands live in their own modules and are imported only when invoked, so that
``flowyml --help`` imports nothing heavy (no pydantic, SQLAlchemy, pulumi or cloud SDKs).
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from flowyml import __version__

# name -> (module, attribute, one-line help shown by `flowyml --help`)
_COMMANDS: dict[str, tuple[str, str, str]] = {
    "run": ("flowyml.cli.run_cmd", "run", "Run a pipeline from a Python file on a stack."),
    "build": (
        "flowyml.cli.build_cmd",
        "build",
        "Build and push the images a pipeline's stacks need (for CI).",
    ),
    "compile": (
        "flowyml.cli.compile_cmd",
        "compile_",
        "Compile a pipeline for the stack's orchestrator (KFP spec, Airflow DAG).",
    ),
    "schedule": (
        "flowyml.cli.schedule_cmd",
        "schedule",
        "Run a pipeline on a cron schedule of the stack's orchestrator.",
    ),
    "runs": ("flowyml.cli.runs_cmd", "runs", "List and inspect recorded pipeline runs."),
    "stack": ("flowyml.cli.stack_cmd", "stack", "Declare, preview, provision and destroy stacks."),
    "cost": ("flowyml.cli.cost_cmd", "cost", "Show the price catalog used for cost estimates."),
    "artifacts": ("flowyml.cli.artifacts_cmd", "artifacts", "Print or save a step's output."),
    "init": ("flowyml.cli.init_cmd", "init", "Create a flowyml project you can run at once."),
    "info": ("flowyml.cli.info_cmd", "info", "Say where the project, its state and stores are."),
    "ui": ("flowyml.ui.command", "ui", "Open the dashboard: runs, graphs, logs, costs, stacks."),
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def __init__(self, *args: Any, lazy: dict[str, tuple[str, str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self._lazy:
            module, attr, _ = self._lazy[cmd_name]
            command: click.Command = getattr(importlib.import_module(module), attr)
            return command
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, self._lazy[name][2]) for name in sorted(self._lazy)]
        rows += [
            (name, cmd.get_short_help_str())
            for name, cmd in sorted(self.commands.items())
            if name not in self._lazy and not cmd.hidden
        ]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(
    cls=LazyGroup, lazy=_COMMANDS, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.version_option(__version__, "--version", prog_name="flowyml")
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """flowyml: declare an ML stack, preview its cost, provision it, run pipelines on it."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; flowyml errors become one line on stderr and a non-zero exit."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        cli.main(args=args, prog_name="flowyml", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except Exception as exc:
        from flowyml.core.errors import FlowymlError

        if debug:
            raise
        if isinstance(exc, FlowymlError):
            click.echo(f"Error: {exc}", err=True)
            sys.exit(exc.exit_code)
        click.echo(
            f"Error: unexpected {type(exc).__name__}: {exc} (run with --debug for the traceback)",
            err=True,
        )
        sys.exit(1)
