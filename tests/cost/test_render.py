"""The three renderers, checked on the structure they produce (not whole-text snapshots)."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest

from flowyml.core.plan import Plan
from flowyml.cost import (
    RenderOptions,
    plan_costs,
    price_plan,
    render_json,
    render_markdown,
    render_text,
)
from flowyml.cost.money import format_delta, format_usd

ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture
def priced(plan: Plan) -> Plan:
    return price_plan(plan)


def test_json_is_the_plan_plus_a_cost_block(priced: Plan) -> None:
    doc = json.loads(render_json(priced))
    summary = plan_costs(priced)
    assert doc["format_version"] == "1.0" and doc["stack"] == "prod"
    assert len(doc["resource_changes"]) == len(priced.changes)
    cost = doc["cost"]
    assert Decimal(cost["baseline_monthly"]) == summary.baseline
    assert Decimal(cost["new_monthly"]) == summary.new
    assert Decimal(cost["delta_monthly"]) == summary.delta
    assert cost["not_priced"] == [{"name": "nat", "reason": dict(summary.reasons)["nat"]}]
    nat = next(c for c in doc["resource_changes"] if c["name"] == "nat")
    assert nat["cost_after"]["monthly"] is None and nat["cost_after"]["priced"] is False


def _table(markdown: str) -> list[list[str]]:
    rows = []
    for line in markdown.splitlines():
        if line.startswith("|") and not line.startswith("|:-"):
            cells = re.split(r"(?<!\\)\|", line.strip())[1:-1]
            rows.append([c.strip().replace("\\|", "|") for c in cells])
    return rows


def test_markdown_table_rows_and_totals(priced: Plan) -> None:
    text = render_markdown(priced)
    header, *rows = _table(text)
    assert header[1:4] == ["Resource", "Type", "Action"]
    by_name = {r[1].strip("`"): r for r in rows if r[1].startswith("`")}
    assert "api" not in by_name  # no-op hidden by default
    assert by_name["gke"][0] == "`+`" and by_name["gke"][5] == "$73.00"
    assert by_name["metadata"][3] == "update" and by_name["metadata"][6].startswith("+$")
    assert by_name["cpu"][0] == "`-/+`" and by_name["cpu"][3] == "replace"
    assert by_name["old|data"][0] == "`-`" and by_name["old|data"][5] == "$0.00"
    assert by_name["nat"][5] == "not priced" and by_name["nat"][6] == "?"
    total = rows[-1]
    summary = plan_costs(priced)
    assert total[1] == "**Total**"
    assert total[4:7] == [
        f"**{format_usd(summary.baseline)}**",
        f"**{format_usd(summary.new)}**",
        f"**{format_delta(summary.delta)}**",
    ]
    assert "deletes data-bearing resources: `old|data`" in text
    assert by_name["old|data"][4] == "$0.00 + $0.02/GB-month"


def test_markdown_can_show_unchanged(priced: Plan) -> None:
    rows = _table(render_markdown(priced, RenderOptions(show_unchanged=True)))
    assert any(r[1] == "`api`" for r in rows)


def test_text_lines_carry_markers_costs_and_totals(priced: Plan) -> None:
    raw = render_text(priced, RenderOptions(color=True, width=200))
    assert "\x1b[" in raw
    lines = ANSI.sub("", raw).splitlines()
    by_name = {}
    for line in lines:
        parts = line.split()
        if len(parts) > 2 and parts[0] in {"+", "~", "-/+", "-"}:
            by_name[parts[1]] = line
    assert set(by_name) == {"gke", "metadata", "cpu", "old|data", "runner", "nat"}
    # A create shows its new monthly cost and the delta; an update shows before -> after.
    assert by_name["gke"].split()[0] == "+" and "$73.00/mo  (+$73.00)" in by_name["gke"]
    assert "->" not in by_name["gke"]
    assert by_name["metadata"].split()[0] == "~" and " -> " in by_name["metadata"]
    assert (
        by_name["cpu"].split()[0] == "-/+" and "[replace: nodeConfig.machineType]" in by_name["cpu"]
    )
    assert "! deletes data" in by_name["old|data"]
    assert "not priced" in by_name["nat"] and "(?)" in by_name["nat"]
    summary = plan_costs(priced)
    total = next(line for line in lines if line.startswith("Monthly cost:"))
    assert f"{format_usd(summary.baseline)} -> {format_usd(summary.new)}/mo" in total
    assert format_delta(summary.delta) in total
    assert any(
        line.startswith("Plan: 3 to create, 1 to update, 1 to replace, 1 to delete")
        for line in lines
    )
    assert any(line.startswith("Free: 2") for line in lines)
    assert any(line.startswith("Not priced (excluded from totals): 1 (nat:") for line in lines)
    assert any("Warning: deletes data-bearing resources: old|data" in line for line in lines)


def test_text_without_colour_has_no_ansi_and_same_totals(priced: Plan) -> None:
    plain = render_text(priced, RenderOptions(color=False, width=200))
    coloured = ANSI.sub("", render_text(priced, RenderOptions(color=True, width=200)))
    assert "\x1b[" not in plain
    assert plain == coloured


def test_all_renderers_agree_on_totals(priced: Plan) -> None:
    summary = plan_costs(priced)
    new = format_usd(summary.new)
    assert new in render_text(priced, RenderOptions(color=False))
    assert new in render_markdown(priced)
    assert Decimal(json.loads(render_json(priced))["cost"]["new_monthly"]) == summary.new


def test_empty_plan_renders() -> None:
    empty = Plan("dev", "preview", "local")
    assert "No changes." in render_text(empty, RenderOptions(color=False))
    assert "$0.00" in render_markdown(empty)
    assert json.loads(render_json(empty))["cost"]["new_monthly"] == "0"


def test_markdown_renders_as_one_github_table(priced: Plan) -> None:
    """Parsed as GFM: one table, header + one row per change + total, pipes kept in cells."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").enable("table").parse(render_markdown(priced))
    assert [t.type for t in tokens].count("table_open") == 1
    rows: list[list[str]] = []
    for i, token in enumerate(tokens):
        if token.type == "tr_open":
            rows.append([])
        elif token.type in ("th_open", "td_open"):
            rows[-1].append(tokens[i + 1].content)
    header, *body = rows
    assert len(header) == 7 and header[1] == "Resource"
    assert all(len(row) == len(header) for row in body)
    names = [row[1].strip("`") for row in body]
    assert "old|data" in names  # written `old\\|data`: the pipe stays inside its cell
    assert body[-1][1] == "**Total**"
    summary = plan_costs(priced)
    assert body[-1][5] == f"**{format_usd(summary.new)}**"


def test_text_plan_fits_its_width_by_shortening_types_only_when_needed() -> None:
    from flowyml.cost.render_text import _short_types

    assert _short_types("gcp:sql/databaseInstance:DatabaseInstance") == (
        "gcp:sql/databaseInstance:DatabaseInstance",
        "gcp:sql.DatabaseInstance",
        "gcp:DatabaseInstance",
    )
    assert _short_types("flowyml:local:ArtifactRoot")[2] == "flowyml:ArtifactRoot"
