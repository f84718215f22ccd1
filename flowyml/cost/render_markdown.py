"""Render a priced plan as Markdown for a pull-request comment: a table and the totals."""

from __future__ import annotations

from flowyml.core.plan import Plan
from flowyml.cost.money import format_delta, format_range, format_usd
from flowyml.cost.planning import plan_costs
from flowyml.cost.rendering import RenderOptions, change_rows, prices_as_of
from flowyml.cost.usage import USAGE_FILE_NAME

HEADER = ("", "Resource", "Type", "Action", "Before ($/mo)", "After ($/mo)", "Delta ($/mo)")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    return f"`{text}`" if text else ""


def render_markdown(plan: Plan, options: RenderOptions | None = None) -> str:
    """The plan as a Markdown table of changes and monthly costs, with totals and warnings."""
    options = options or RenderOptions()
    summary = plan_costs(plan)
    lines = [
        f"### flowyml {plan.operation}: `{plan.stack}`",
        "",
        f"**Monthly cost:** {format_usd(summary.baseline)} → {format_usd(summary.new)} "
        f"(**{format_delta(summary.delta)}**)",
        "",
        "| " + " | ".join(HEADER) + " |",
        "|:-:|---|---|---|--:|--:|--:|",
    ]
    for row in change_rows(plan, options):
        cells = (
            _code(row.symbol.strip()),
            _code(row.change.name),
            _code(row.change.type),
            row.change.verb,
            f"{row.before} {row.before_usage}".strip(),
            " ".join(
                t
                for t in (
                    row.after,
                    row.after_usage,
                    row.after_range and f"(range {row.after_range})",
                )
                if t
            ),
            row.delta,
        )
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    lines.append(
        "| | **Total** | | | "
        f"**{format_usd(summary.baseline)}** | **{format_usd(summary.new)}** | "
        f"**{format_delta(summary.delta)}** |"
    )
    lines.append("")
    lines.append(f"{plan.summary}.")
    if summary.new_range is not None:
        lines.append(f"With autoscaling the new total ranges {format_range(*summary.new_range)}.")
    dated = prices_as_of(plan)
    if dated:
        lines.append(f"{dated}.")
    if summary.free:
        lines.append(f"Free: {len(summary.free)} ({', '.join(summary.free)}).")
    if summary.not_priced:
        reasons = "; ".join(f"`{n}`: {r}" for n, r in summary.reasons)
        lines.append(f"Not priced (excluded from totals): {len(summary.not_priced)} ({reasons}).")
    if summary.usage_included:
        lines.append(
            f"Usage from the usage file, in the totals: {', '.join(summary.usage_included)}."
        )
    if summary.usage_billed:
        lines.append(
            f"Usage-billed, not in the totals (give `storage_gb` in `{USAGE_FILE_NAME}`): "
            f"{', '.join(summary.usage_billed)}."
        )
    loss = plan.data_loss()
    if loss:
        lines.append("")
        names = ", ".join(f"`{c.name}` ({c.type})" for c in loss)
        lines.append(f"> **Warning:** deletes data-bearing resources: {names}.")
    return "\n".join(lines) + "\n"
