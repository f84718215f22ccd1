"""Every rendering of a priced plan says how old its prices are (as Infracost does)."""

from __future__ import annotations

import json

from flowyml.core.plan import CREATE, Plan, ResourceChange
from flowyml.cost import default_catalog, price_plan, render_json, render_markdown, render_text
from flowyml.cost.rendering import RenderOptions, catalog_dates


def _plan(*types: str) -> Plan:
    changes = tuple(
        ResourceChange(
            address=f"urn:pulumi:s::p::{t}::r{i}", type=t, name=f"r{i}", actions=CREATE, after={}
        )
        for i, t in enumerate(types)
    )
    return price_plan(Plan(stack="s", operation="preview", engine="offline", changes=changes))


def test_catalog_dates_name_each_catalog_the_plan_uses() -> None:
    plan = _plan("gcp:storage/bucket:Bucket", "kubernetes:core/v1:Namespace", "random:x/y:Z")
    dates = catalog_dates(plan)
    assert [d.provider for d in dates] == ["gcp", "k8s"]
    gcp = default_catalog().provider("gcp")
    assert dates[0].as_of == gcp.as_of and dates[0].entries == len(gcp.entries)
    assert dates[0].checked == sum(1 for e in gcp.entries if e.verified)


def test_text_markdown_and_json_show_the_catalog_date() -> None:
    plan = _plan("aws:s3/bucket:Bucket")
    as_of = default_catalog().provider("aws").as_of
    text = render_text(plan, RenderOptions(color=False))
    assert f"Prices as of {as_of} (aws catalog;" in text
    assert f"Prices as of {as_of} (aws catalog;" in render_markdown(plan)
    doc = json.loads(render_json(plan))
    assert doc["cost"]["prices_as_of"][0]["provider"] == "aws"
    assert doc["cost"]["prices_as_of"][0]["as_of"] == as_of


def test_a_plan_with_nothing_priced_from_a_catalog_shows_no_date() -> None:
    plan = _plan("flowyml:local:ArtifactRoot")
    assert "Prices as of" not in render_text(plan, RenderOptions(color=False))
    assert json.loads(render_json(plan))["cost"]["prices_as_of"] == []
