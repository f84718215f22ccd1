"""A secret seen in Pulumi engine events never comes back in clear through a diagnostic."""

from __future__ import annotations

import json
from typing import Any

from flowyml.provision._wire import SECRET_SIG, SIG_KEY
from flowyml.provision.events import PlanBuilder, iter_progress, plan_from_events

SECRET = "Hx7EngineSecret"
URN = "urn:pulumi:prod::flowyml::gcp:sql/user:User::metadata-user"


def _events() -> list[dict[str, Any]]:
    password = {SIG_KEY: SECRET_SIG, "value": SECRET}
    metadata = {
        "op": "create",
        "urn": URN,
        "type": "gcp:sql/user:User",
        "new": {"inputs": {"password": password, "name": "flowyml"}},
    }
    return [
        {"resourcePreEvent": {"metadata": metadata}},
        {
            "diagnosticEvent": {
                "severity": "error",
                "urn": URN,
                "message": f"creating user: password {SECRET!r} rejected by the server",
            }
        },
        {"resOpFailedEvent": {"metadata": {**metadata}}},
        {"summaryEvent": {}},
        {"cancelEvent": {}},
    ]


def test_plan_diagnostics_redact_secret_values() -> None:
    plan = plan_from_events(_events(), stack="prod", operation="up")

    assert SECRET not in json.dumps(plan.to_dict())
    assert SECRET not in str(plan)
    assert any("[secret]" in line and "rejected" in line for line in plan.diagnostics)


def test_live_progress_redacts_secret_values() -> None:
    lines = [p.message for p in iter_progress(_events())]

    assert lines and all(SECRET not in line for line in lines)
    builder = PlanBuilder(stack="prod", operation="up")
    for event in _events():
        builder.feed(event)
        progress = builder.progress(event)
        assert progress is None or SECRET not in progress.message
