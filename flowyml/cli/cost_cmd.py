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
@click.option(
    "--service", "-s", default=None, help="Only this service (compute, ec2, cloudsql, rds...)."
)
@click.option(
    "--type", "-t", "sku", default=None, help="Only SKUs / machine types containing this text."
)
@click.option("--sources", is_flag=True, help="Add the source page of each price.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def catalog(
    provider: str | None,
    region: str | None,
    service: str | None,
    sku: str | None,
    sources: bool,
    as_json: bool,
) -> None:
    """List list prices with their unit, region and as-of date (fits an 80-column terminal)."""
    from flowyml.cli import term
    from flowyml.cost import CostError, default_catalog, format_rate

    try:
        entries = default_catalog().entries(provider, region)
    except CostError as exc:
        raise click.ClickException(str(exc)) from exc
    if service:
        known = sorted({e.service for e in entries})
        entries = [e for e in entries if e.service.lower() == service.lower()]
        if not entries:
            raise click.BadParameter(
                f"no prices for service {service!r}; services: {', '.join(known)}",
                param_hint="--service",
            )
    if sku:
        entries = [e for e in entries if sku.lower() in e.sku.lower()]
    if as_json:
        click.echo(json.dumps([e.to_dict() for e in entries], indent=2))
        return
    headers = ["CLOUD", "SERVICE", "SKU", "REGION", "PRICE", "AS OF", "CHECKED"]
    rows = [
        [
            entry.provider,
            entry.service,
            entry.sku + (" *" if entry.note else ""),
            entry.region,
            format_rate(entry.price, entry.unit),
            entry.date,
            _checked(entry.verified),
        ]
        for entry in entries
    ]
    if sources:
        headers.append("SOURCE")
        for row, entry in zip(rows, entries, strict=True):
            row.append(entry.source)
    title = "flowyml price catalog (USD, on-demand list prices)"
    if term.width() < 95 and not sources:  # narrow: the dates go to the title, prices stay whole
        dates = sorted({row.pop(5) for row in rows})
        headers.pop(5)
        title += f", as of {', '.join(dates)}"
    flexible = {1: 7, 2: 12, 3: 10, **({7: 20} if sources else {})}
    term.echo(title)
    term.echo(term.table(headers, rows, flexible=flexible))
    note = (
        "* has a note (an assumption or approximate figure: see --json). CHECKED: the figure "
        "was checked against its page (2nd: against a third-party copy only; the dates are in "
        "--json); - not yet. "
        "Filter with --service / --type; --sources adds the pages."
    )
    import textwrap

    term.echo(textwrap.wrap(note, width=term.width()))


def _checked(verified: str | None) -> str:
    """The CHECKED cell: ``yes``, ``2nd`` (a secondary source only) or ``-`` (unchecked)."""
    if not verified:
        return "-"
    return "2nd" if verified.startswith("secondary") else "yes"
