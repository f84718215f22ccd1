"""``flowyml stack preview | up | destroy | refresh | outputs | check``: thin commands over
provision + cost.

Each command parses its options, asks :mod:`flowyml.provision` for a plan or an operation, prices
it with :mod:`flowyml.cost` and renders it. Plans and outputs go to stdout; notes, progress and
prompts go to stderr, so ``--json`` output stays machine-readable. Heavy packages (pulumi, cost,
rich) are imported inside the commands.

Order of work, for ``preview`` and ``up``: the declaration and the provider's capabilities are
checked first (:mod:`flowyml.provision.preflight`: a bad stack is refused before any plan), then
the plan is made and priced, then the gates run: budget (exit 3, fails closed on unpriced
resources), guardrails with ``--check`` (exit 4).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from flowyml.core.plan import Plan
    from flowyml.provision.events import Progress
    from flowyml.provision.guardrails import Report
    from flowyml.stacks.base import Stack

LOCK_TIMEOUT_ENV = "FLOWYML_LOCK_TIMEOUT"


def _stack(name: str) -> Stack:
    from flowyml.stacks.registry import StackRegistry

    return StackRegistry().get_stack(name)


def _checked_stack(name: str) -> Stack:
    """The stack, refused with every problem listed when its declaration or its provider's
    capabilities say it cannot be built (before any engine or plan)."""
    from flowyml.provision.preflight import preflight

    stack = _stack(name)
    preflight(stack)
    return stack


def _lock_timeout() -> float:
    from flowyml.provision.state import DEFAULT_LOCK_TIMEOUT

    raw = os.environ.get(LOCK_TIMEOUT_ENV)
    try:
        return float(raw) if raw else DEFAULT_LOCK_TIMEOUT
    except ValueError:
        raise click.BadParameter(f"{LOCK_TIMEOUT_ENV}={raw!r} is not a number of seconds") from None


def _money(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        amount = Decimal(value.lstrip("$"))
    except InvalidOperation:
        raise click.BadParameter(f"{value!r} is not an amount in USD") from None
    if amount < 0:
        raise click.BadParameter("must not be negative")
    return amount


def _note(message: str) -> None:
    click.echo(message, err=True)


@contextmanager
def _working(message: str) -> Iterator[None]:
    """A spinner on stderr while long work runs (only on a terminal, so logs stay clean)."""
    if not sys.stderr.isatty():
        yield
        return
    from rich.console import Console

    with Console(stderr=True).status(message):
        yield


def _progress(event: Progress) -> None:
    marker = {"start": "..", "done": "ok", "failed": "!!", "diagnostic": "  "}.get(
        event.phase, "  "
    )
    click.echo(f"  {marker} {event.message}", err=True)


def _price(plan: Plan, stack: Stack, usage_file: Path | None) -> Plan:
    from flowyml.core.paths import project_dir
    from flowyml.cost import price_plan, project_usage

    usage = project_usage(usage_file, project_dir())
    return price_plan(plan, region=getattr(stack, "region", None), usage=usage)


def _render(plan: Plan, fmt: str) -> str:
    from flowyml.cost import render_json, render_markdown, render_text

    if fmt == "json":
        return render_json(plan)
    if fmt == "markdown":
        return render_markdown(plan)
    from flowyml.cli import term
    from flowyml.cost import RenderOptions

    return render_text(plan, RenderOptions(width=term.width()))


def _check_budget(
    plan: Plan, stack: Stack, max_monthly_cost: Decimal | None, allow_unpriced: bool
) -> None:
    limit = max_monthly_cost if max_monthly_cost is not None else getattr(stack, "budget", None)
    if limit is None:
        return
    from flowyml.cost import check_budget

    check_budget(plan, Decimal(limit), allow_unpriced=allow_unpriced)


def _guardrail_report(stack: Stack, plan: Plan) -> Report:
    from flowyml.provision.guardrails import check_stack

    return check_stack(stack, plan)


def _fail_on_errors(report: Report) -> None:
    errors = report.errors
    if not errors:
        return
    from flowyml.provision.errors import GuardrailError

    listed = "; ".join(f"{f.rule} on {f.name}" for f in errors)
    raise GuardrailError(
        f"stack {report.stack} fails {len(errors)} guardrail check(s) of severity error: {listed}.",
        hint=f"apply the fixes listed above, then run `flowyml stack check {report.stack}` again",
    )


def _confirm(operation: str, stack: Stack, yes: bool, question: str) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        from flowyml.provision.errors import ConfirmationRequiredError

        raise ConfirmationRequiredError(operation, stack.name)
    if not click.confirm(question, default=False, err=True):
        # A "no" is a decision, not an interruption: exit 1 (like a refused confirmation),
        # saying that nothing was touched.
        _note(f"Nothing changed: {operation} of stack {stack.name} declined.")
        raise SystemExit(1)


def _echo_diagnostics(plan: Plan) -> None:
    for line in plan.diagnostics:
        _note(line)


_FORMATS = click.Choice(["text", "json", "markdown"])
_usage_option = click.option(
    "--usage",
    "usage_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Usage file turning usage-billed prices into monthly amounts "
    "(default: the project's flowyml-usage.yaml, when present).",
)
_budget_option = click.option(
    "--max-monthly-cost",
    callback=_money,
    metavar="USD",
    help="Fail (exit code 3) when the new monthly total is over this amount (default: the stack's budget).",
)
_unpriced_option = click.option(
    "--allow-unpriced",
    is_flag=True,
    help="Let the budget gate pass resources the catalog cannot price (by default any "
    "such resource fails it: it could cost anything).",
)


@click.command("preview")
@click.argument("name")
@click.option(
    "--offline", is_flag=True, help="Plan under Pulumi mocks: no Pulumi CLI, no credentials."
)
@click.option("--json", "as_json", is_flag=True, help="Print the priced plan as JSON.")
@click.option("--markdown", "as_markdown", is_flag=True, help="Print the priced plan as Markdown.")
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Save the plan (with fingerprints of the declaration, programs and state) for "
    "`stack up NAME --plan FILE`.",
)
@click.option(
    "--check", "run_check", is_flag=True, help="Run the guardrails too (exit code 4 on errors)."
)
@_budget_option
@_unpriced_option
@_usage_option
def preview_cmd(
    name: str,
    offline: bool,
    as_json: bool,
    as_markdown: bool,
    out_file: Path | None,
    run_check: bool,
    max_monthly_cost: Decimal | None,
    allow_unpriced: bool,
    usage_file: Path | None,
) -> None:
    """Show what `stack up NAME` would change, with the monthly cost of each change."""
    from flowyml.provision.select import engine_for

    if as_json and as_markdown:
        raise click.UsageError("choose one of --json and --markdown")
    stack = _checked_stack(name)
    choice = engine_for(stack, "preview", offline=offline)
    if choice.note:
        _note(choice.note)
    with _working(f"Planning stack {name}..."):
        plan = _price(choice.engine.preview(stack), stack, usage_file)
    report = _guardrail_report(stack, plan) if run_check else None
    if as_json:
        document = json.loads(_render(plan, "json"))
        if report is not None:
            document["guardrails"] = report.to_dict()
        click.echo(json.dumps(document, indent=2))
    else:
        click.echo(_render(plan, "markdown" if as_markdown else "text"))
        _echo_diagnostics(plan)
        if report is not None:
            from flowyml.cli.render_lifecycle import render_report

            click.echo(render_report(report))
    _check_budget(plan, stack, max_monthly_cost, allow_unpriced)
    if report is not None:
        _fail_on_errors(report)
    if out_file is not None:
        from flowyml.provision.saved_plan import save_plan

        save_plan(out_file, stack, plan)
        _note(
            f"Saved the plan to {out_file}: apply exactly it with `flowyml stack up {name} --plan {out_file}`."
        )


@click.command("up")
@click.argument("name")
@click.option("--yes", "-y", is_flag=True, help="Apply without asking.")
@click.option(
    "--plan",
    "plan_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Apply this saved plan (from `stack preview NAME --out FILE`) without asking, "
    "refusing if the declaration, programs or state changed since.",
)
@click.option("--json", "as_json", is_flag=True, help="Print what was applied as JSON.")
@_budget_option
@_unpriced_option
@_usage_option
def up_cmd(
    name: str,
    yes: bool,
    plan_file: Path | None,
    as_json: bool,
    max_monthly_cost: Decimal | None,
    allow_unpriced: bool,
    usage_file: Path | None,
) -> None:
    """Provision stack NAME: show the priced plan, ask, apply, record the outputs."""
    from flowyml.provision.saved_plan import SavedPlan, load_plan
    from flowyml.provision.select import engine_for

    saved: SavedPlan | None = load_plan(plan_file) if plan_file is not None else None
    stack = _checked_stack(name)
    if saved is not None:
        saved.verify(stack)  # refuse a stale plan before anything else (even without Pulumi)
    engine = engine_for(stack, "up", lock_timeout=_lock_timeout()).engine
    if saved is not None:
        plan = _price(saved.plan, stack, usage_file)
    else:
        with _working(f"Planning stack {name}..."):
            plan = _price(engine.preview(stack), stack, usage_file)
    asks = saved is None and plan.has_changes and not yes
    if not as_json:
        click.echo(_render(plan, "text"))
    elif asks and sys.stdin.isatty():
        _note(_render(plan, "text"))  # who is asked sees the plan; stdout stays JSON
    _check_budget(plan, stack, max_monthly_cost, allow_unpriced)
    if asks:
        _confirm("up", stack, yes, f"Apply these changes to stack {name}?")
    precondition = None if saved is None else (lambda: saved.verify(stack))
    result = engine.up(stack, on_event=_progress, precondition=precondition)
    done = result.plan.summary
    if as_json:
        from flowyml.cli._common import echo_json

        applied = _price(result.plan, stack, usage_file)
        echo_json(
            {
                "stack": name,
                "operation": "up",
                "engine": result.plan.engine,
                "saved_plan": None if plan_file is None else str(plan_file),
                "plan": applied.to_dict(),
                "outputs": result.outputs.masked(),
                "secrets": sorted(result.outputs.secrets),
            }
        )
        return
    _echo_diagnostics(result.plan)
    click.echo(
        f"Stack {name} is up: {done.create} created, {done.update} updated, "
        f"{done.replace} replaced, {done.delete} deleted."
    )
    for key, value in result.outputs.masked().items():
        click.echo(f"  {key} = {value}")


@click.command("destroy")
@click.argument("name")
@click.option("--yes", "-y", is_flag=True, help="Destroy without asking.")
@click.option("--json", "as_json", is_flag=True, help="Print what was deleted as JSON.")
def destroy_cmd(name: str, yes: bool, as_json: bool) -> None:
    """Delete every resource of stack NAME, saying which ones hold data."""
    from flowyml.provision.select import engine_for

    # With --json the human listing goes to stderr, so stdout holds one JSON document.
    say = _note if as_json else click.echo
    stack = _stack(name)
    story = None
    if getattr(stack, "needs_provisioning", False):
        from flowyml.infra.destroy import check_destroyable

        # Refused before anything is deleted when the provider would stop it halfway.
        story = check_destroyable(stack)
    engine = engine_for(stack, "destroy", lock_timeout=_lock_timeout()).engine
    with _working(f"Listing what stack {name} holds..."):
        plan = engine.destroy_preview(stack)
    doomed = plan.deletions()
    if not doomed:
        say(f"Stack {name} has nothing to destroy.")
        _echo_diagnostics(plan)
        if as_json:
            _echo_destroyed(name, plan, destroyed=False)
        return
    say(f"Destroying stack {name} deletes {len(doomed)} resource(s):")
    for change in doomed:
        flag = "  [DATA: its contents are lost]" if change.data_bearing else ""
        say(f"  - {change.type} {change.name}{flag}")
    _echo_diagnostics(plan)
    if plan.data_loss():
        say(f"{len(plan.data_loss())} of them hold data (buckets, databases, registries, volumes).")
    for line in story.lines() if story is not None else ():
        say(f"  {line}")
    _confirm("destroy", stack, yes, f"Delete these resources of stack {name}?")
    done = engine.destroy(stack, on_event=_progress)
    if as_json:
        _echo_destroyed(name, done, destroyed=True)
        return
    click.echo(f"Stack {name} destroyed ({done.summary.delete} deleted).")


def _echo_destroyed(name: str, plan: Plan, *, destroyed: bool) -> None:
    from flowyml.cli._common import echo_json

    echo_json(
        {
            "stack": name,
            "operation": "destroy",
            "destroyed": destroyed,
            "data_lost": [c.address for c in plan.data_loss()],
            "plan": plan.to_dict(),
        }
    )


@click.command("refresh")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the drift and its cost as JSON.")
@_usage_option
def refresh_cmd(name: str, as_json: bool, usage_file: Path | None) -> None:
    """Reconcile stack NAME's recorded state with what exists: each drifted property, and what
    the drift does to the monthly cost."""
    from flowyml.cli.render_lifecycle import drift_rows, render_drift
    from flowyml.cost import plan_costs
    from flowyml.provision.drift import drifted
    from flowyml.provision.select import engine_for

    stack = _stack(name)
    if not getattr(stack, "needs_provisioning", False):
        from flowyml.provision.errors import StateError
        from flowyml.provision.state import OUTPUTS_FILE, stack_dir

        if not (stack_dir(name) / OUTPUTS_FILE).is_file():
            # Nothing was ever made: "0 drifted" would claim a check that compared nothing.
            raise StateError(
                f"stack {name} was never brought up, so there is nothing to refresh.",
                hint=f"run `flowyml stack up {name}` first",
            )
    engine = engine_for(stack, "refresh", lock_timeout=_lock_timeout()).engine
    with _working(f"Refreshing stack {name}..."):
        plan = _price(engine.refresh(stack), stack, usage_file)
    changes = drifted(plan)
    if as_json:
        from flowyml.cli._common import echo_json

        echo_json(
            {
                "stack": name,
                "operation": "refresh",
                "engine": plan.engine,
                "drift": drift_rows(plan),
                "cost": plan_costs(changes).to_dict(),
                "diagnostics": list(plan.diagnostics),
            }
        )
        return
    click.echo(render_drift(plan))
    _echo_diagnostics(plan)
    click.echo(f"Stack {name} refreshed: {len(changes)} resource(s) drifted.")


@click.command("outputs")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the outputs as JSON.")
@click.option("--show-secrets", is_flag=True, help="Reveal secret values (database URLs...).")
def outputs_cmd(name: str, as_json: bool, show_secrets: bool) -> None:
    """Show the outputs recorded by the last `stack up NAME` (secrets masked)."""
    from flowyml.provision.errors import StateError
    from flowyml.provision.state import load_outputs

    recorded = load_outputs(name)
    if recorded is None:
        _stack(name)  # an unknown name gets the registry's did-you-mean error
        raise StateError(
            f"stack {name} has no recorded outputs.", hint=f"run `flowyml stack up {name}`"
        )
    values: dict[str, Any] = dict(recorded.values) if show_secrets else recorded.masked()
    if as_json:
        from flowyml.cli._common import echo_json

        echo_json(
            {
                "stack": name,
                "engine": recorded.engine,
                "outputs": values,
                "secrets": sorted(recorded.secrets),
            }
        )
        return
    for key, value in values.items():
        click.echo(f"{key} = {value}")


@click.command("check")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
def check_cmd(name: str, as_json: bool) -> None:
    """Check stack NAME's plan against the guardrails, offline: public or unversioned buckets,
    unprotected databases, IAM wider than the stack, public clusters. Exit code 4 on errors."""
    from flowyml.provision.select import engine_for

    stack = _checked_stack(name)
    engine = engine_for(stack, "preview", offline=True).engine
    with _working(f"Checking stack {name}..."):
        report = _guardrail_report(stack, engine.preview(stack))
    if as_json:
        from flowyml.cli._common import echo_json

        echo_json(report.to_dict())
    else:
        from flowyml.cli.render_lifecycle import render_report

        click.echo(render_report(report))
    _fail_on_errors(report)


COMMANDS: list[click.Command] = [
    preview_cmd,
    up_cmd,
    destroy_cmd,
    refresh_cmd,
    outputs_cmd,
    check_cmd,
]

# The group in stack_cmd.py looks the commands up by these names too.
preview, up, destroy, refresh, outputs, check = COMMANDS
