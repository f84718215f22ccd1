"""``flowyml cost``: show the price catalog behind cost estimates."""

from __future__ import annotations

import json

import click


@click.group("cost")
def cost() -> None:
    """Show the price catalog used for cost estimates."""


@cost.command("catalog")
@click.option("--provider", "-p", default=None, help="Only this provider: gcp, aws or k8s.")
@click.option("--region", "-r", default=None, help="Only prices for this region (and global ones).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def catalog(provider: str | None, region: str | None, as_json: bool) -> None:
    """List list prices with their unit, region, source and as-of date."""
    from flowyml.cost import CostError, default_catalog, format_rate

    try:
        entries = default_catalog().entries(provider, region)
    except CostError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps([e.to_dict() for e in entries], indent=2))
        return

    from rich.console import Console
    from rich.table import Table

    table = Table(title="flowyml price catalog (USD, on-demand list prices)", show_lines=False)
    for column in ("Provider", "Service", "SKU", "Region", "Price", "As of", "Checked", "Source"):
        table.add_column(column, justify="right" if column == "Price" else "left")
    for entry in entries:
        table.add_row(
            entry.provider,
            entry.service,
            entry.sku + (" *" if entry.note else ""),
            entry.region,
            format_rate(entry.price, entry.unit),
            entry.date,
            _checked(entry.verified),
            entry.source,
        )
    console = Console()
    if not console.is_terminal:  # piped or captured: do not wrap SKUs and URLs at 80 columns
        console = Console(width=200)
    console.print(table)
    console.print(
        "* has a note (assumption or approximate figure). Checked: the date a figure was checked "
        "against the page (2nd = only a third-party copy); '-' = not checked yet. See --json.",
        style="dim",
    )


def _checked(verified: str | None) -> str:
    """The Checked cell: the date (and '2nd' for a secondary source), or '-' when unchecked."""
    if not verified:
        return "-"
    words = verified.split()
    date = next((w.rstrip(",:") for w in words if w[:4].isdigit() and w.count("-") == 2), "yes")
    return f"{date} 2nd" if verified.startswith("secondary") else date
