"""Render a priced plan for the terminal: Terraform-like markers, costs per change, totals.

``rich`` is imported only inside :func:`render_text`, so importing :mod:`flowyml.cost` stays
light.
"""

from __future__ import annotations

import io

from flowyml.core.plan import Plan
from flowyml.cost.money import format_delta, format_range, format_usd
from flowyml.cost.planning import plan_costs
from flowyml.cost.rendering import NOT_PRICED, ChangeRow, RenderOptions, change_rows, prices_as_of
from flowyml.cost.usage import USAGE_FILE_NAME

_STYLE = {"+": "green", "~": "yellow", "-": "red", "-/+": "magenta", "+/-": "magenta", "<=": "cyan"}


def _month(text: str) -> str:
    return text if text == NOT_PRICED else f"{text}/mo"


def _cost_cell(row: ChangeRow) -> str:
    """A create shows what it will cost, a delete what it cost, anything else before -> after."""
    change = row.change
    if change.is_create:
        return _month(row.after)
    if change.is_delete:
        return _month(row.before)
    if change.is_noop:
        return _month(row.after)
    return f"{row.before} -> {_month(row.after)}"


def _short_types(token: str) -> tuple[str, str, str]:
    """``gcp:sql/databaseInstance:DatabaseInstance`` in three lengths: as is, then
    ``gcp:sql.DatabaseInstance``, then ``gcp:DatabaseInstance``."""
    provider, _, rest = token.partition(":")
    if not rest or ":" not in rest:
        return token, token, token
    module = rest.split("/", 1)[0].split(":", 1)[0]
    cls = rest.rsplit(":", 1)[-1]
    return token, f"{provider}:{module}.{cls}", f"{provider}:{cls}"


def _row_length(row: ChangeRow, name_width: int, type_width: int) -> int:
    """Characters of a row as :func:`render_text` lays it out (type padded to ``type_width``)."""
    length = 2 + 4 + name_width + 2 + type_width + 2 + len(_cost_cell(row))
    if not row.change.is_noop:
        length += 4 + len(row.delta)
    if row.usage:
        length += 2 + len(row.usage)
    return length


def _fitted_types(rows: list[ChangeRow], name_width: int, width: int) -> dict[str, str]:
    """Each resource type as shown: the full Pulumi token while the rows fit ``width``, else
    shorter forms (the JSON and Markdown renderers always keep the full token)."""
    tokens = {r.change.type for r in rows}
    shown: dict[str, str] = {t: t for t in tokens}
    for form in range(3):
        shown = {t: _short_types(t)[form] for t in tokens}
        type_width = max((len(v) for v in shown.values()), default=0)
        if all(_row_length(r, name_width, type_width) <= width for r in rows):
            return shown
    return shown


def render_text(plan: Plan, options: RenderOptions | None = None) -> str:
    """The plan as coloured terminal text (plain when ``options.color`` is False)."""
    from rich.console import Console
    from rich.text import Text

    options = options or RenderOptions()
    summary = plan_costs(plan)
    rows = change_rows(plan, options)
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        force_terminal=options.color,
        no_color=not options.color,
        color_system="standard" if options.color else None,
        width=options.width,
        highlight=False,
    )
    header = Text(f"flowyml {plan.operation} of stack ", style="bold")
    header.append(plan.stack, style="bold cyan")
    header.append(f" (engine: {plan.engine})")
    console.print(header)
    console.print()
    name_width = max((len(r.change.name) for r in rows), default=0)
    types = _fitted_types(rows, name_width, options.width)
    type_width = max((len(t) for t in types.values()), default=0)
    for row in rows:
        symbol = row.symbol.strip() or "="
        line = Text("  ")
        line.append(f"{symbol:>3} ", style=_STYLE.get(symbol, "dim"))
        line.append(row.change.name.ljust(name_width), style="bold")
        line.append("  ")
        line.append(types[row.change.type].ljust(type_width), style="dim")
        line.append(f"  {_cost_cell(row)}")
        delta_style = (
            "red" if row.delta.startswith("+") else "green" if row.delta.startswith("-") else ""
        )
        if not row.change.is_noop:
            line.append(f"  ({row.delta})", style=delta_style)
        if row.usage:
            line.append(f"  {row.usage}", style="cyan")
        if row.after_range:
            line.append(f"  range {row.after_range}", style="cyan")
        if row.change.replace_paths:
            line.append(f"  [replace: {', '.join(row.change.replace_paths)}]", style="magenta")
        if row.change.data_bearing and "delete" in [a.value for a in row.change.actions]:
            line.append("  ! deletes data", style="bold red")
        console.print(line)
        if options.show_notes:
            for note in row.notes:
                console.print(Text(f"        {note}", style="dim"))
    if not rows:
        console.print(Text("  No changes.", style="dim"))
    console.print()
    console.print(Text(f"Plan: {plan.summary}.", style="bold"))
    total = Text("Monthly cost: ", style="bold")
    total.append(f"{format_usd(summary.baseline)} -> {format_usd(summary.new)}/mo")
    style = "red" if summary.delta > 0 else "green" if summary.delta < 0 else ""
    total.append(f" ({format_delta(summary.delta)})", style=style)
    console.print(total)
    if summary.new_range is not None:
        console.print(f"  with autoscaling: {format_range(*summary.new_range)}")
    dated = prices_as_of(plan)
    if dated:
        console.print(Text(dated, style="dim"))
    if summary.free:
        console.print(Text(f"Free: {len(summary.free)} ({', '.join(summary.free)})", style="dim"))
    if summary.not_priced:
        reasons = "; ".join(f"{n}: {r}" for n, r in summary.reasons)
        console.print(
            Text(
                f"Not priced (excluded from totals): {len(summary.not_priced)} ({reasons})",
                style="yellow",
            )
        )
    if summary.usage_included:
        console.print(
            Text(
                f"Usage from the usage file, in the totals: {', '.join(summary.usage_included)}",
                style="cyan",
            )
        )
    if summary.usage_billed:
        console.print(
            Text(
                f"Usage-billed, not in the totals: {', '.join(summary.usage_billed)} "
                f"(give storage_gb in {USAGE_FILE_NAME} to include it)",
                style="cyan",
            )
        )
    loss = plan.data_loss()
    if loss:
        names = ", ".join(f"{c.name} ({c.type})" for c in loss)
        console.print(Text(f"Warning: deletes data-bearing resources: {names}", style="bold red"))
    return buffer.getvalue()
