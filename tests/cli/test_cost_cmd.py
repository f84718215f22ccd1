"""``flowyml cost catalog``."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from click.testing import CliRunner

from flowyml.cli.cost_cmd import cost


def test_catalog_json_filters_by_provider_and_region() -> None:
    result = CliRunner().invoke(
        cost, ["catalog", "--provider", "gcp", "--region", "us-central1", "--json"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert rows and {r["provider"] for r in rows} == {"gcp"}
    assert {r["region"] for r in rows} <= {"us-central1", "global"}
    n1 = next(r for r in rows if r["sku"] == "n1-standard-4")
    assert Decimal(n1["price"]) == Decimal("0.189999")
    assert n1["source"].startswith("https://cloud.google.com/") and n1["date"]


def test_catalog_table_shows_source_and_date() -> None:
    result = CliRunner().invoke(
        cost, ["catalog", "-p", "aws", "-r", "us-east-1", "--sources"], env={"COLUMNS": "250"}
    )
    assert result.exit_code == 0, result.output
    assert "db.t3.micro" in result.output
    assert "https://aws.amazon.com/eks/pricing/" in result.output
    assert "2024-06-01" in result.output


@pytest.mark.parametrize("columns", [80, 100])
def test_catalog_fits_the_terminal_and_keeps_prices_whole(columns: int) -> None:
    result = CliRunner().invoke(cost, ["catalog"], env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= columns
    header = next(line for line in lines if line.startswith("CLOUD"))
    price_at = header.index("PRICE")
    prices = [
        line[price_at:].split()[0] for line in lines[lines.index(header) + 1 :] if "$" in line
    ]
    assert prices and all("…" not in p and "/" in p for p in prices)  # "$0.0104/hour", whole


def test_catalog_filters_by_service_and_type() -> None:
    result = CliRunner().invoke(cost, ["catalog", "--service", "ec2", "--type", "t3.", "--json"])
    rows = json.loads(result.output)
    assert rows and {r["service"] for r in rows} == {"ec2"}
    assert all("t3." in r["sku"] for r in rows)
    unknown = CliRunner().invoke(cost, ["catalog", "--service", "nope"])
    assert unknown.exit_code == 2 and "services: " in unknown.output and "ec2" in unknown.output


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--provider", "azure"], "azure"),
        (["--region", "mars-1"], "mars-1"),
        (["-p", "gcp", "-r", "us-east-1"], "us-east-1"),
    ],
)
def test_unknown_provider_or_region_is_a_one_line_error(args: list[str], needle: str) -> None:
    result = CliRunner().invoke(cost, ["catalog", *args])
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error:") and needle in lines[0]


def test_main_entry_maps_cost_command() -> None:
    from flowyml.cli.main import cli

    result = CliRunner().invoke(cli, ["cost", "catalog", "-p", "k8s", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.output)[0]["price"] == "0"
