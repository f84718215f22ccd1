"""The Pulumi engine's seams, tested without the Pulumi CLI (which cannot be installed here).

The Automation API path itself runs only when ``pulumi`` is on PATH; everything around it
(event conversion, error classification, the missing-CLI refusal) is tested on real data.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from flowyml.provision.errors import PulumiNotInstalledError, StackLockedError, UpdateFailedError
from flowyml.provision.events import plan_from_events, read_event_log
from flowyml.provision.pulumi_engine import (
    PulumiEngine,
    _classify,
    event_to_json,
    pulumi_cli_available,
)

auto = pytest.importorskip("pulumi.automation", reason="the pulumi SDK is not installed")
_result = pytest.importorskip(
    "pulumi.automation._cmd", reason="the pulumi SDK is not installed"
).CommandResult


def _gcp_stack() -> object:
    from flowyml.stacks.gcp import GCPStack

    return GCPStack(name="prod", project_id="p1", bucket_name="b1")


def test_engine_events_round_trip_to_the_same_plan(events_dir: Path) -> None:
    """What the Automation API hands us (EngineEvent objects) folds exactly like the raw log."""
    for path in sorted(events_dir.glob("*.jsonl")):
        raw = read_event_log(path)
        converted = [event_to_json(auto.events.EngineEvent.from_json(e)) for e in raw]
        expected = plan_from_events(raw, stack="s", operation="up")
        assert plan_from_events(converted, stack="s", operation="up") == expected, path.name


def test_concurrent_update_is_stack_locked() -> None:
    err = _classify(auto.ConcurrentUpdateError(_result("", "conflict", 255)), "prod", None)
    assert isinstance(err, StackLockedError)
    assert str(err).startswith("stack prod is locked by another update")


def test_command_error_keeps_the_first_error_line() -> None:
    stderr = "Updating (prod)\n  error: googleapi: Error 403: permission denied\n more\n"
    err = _classify(auto.CommandError(_result("", stderr, 1)), "prod", None)
    assert isinstance(err, UpdateFailedError)
    assert "Error 403: permission denied" in str(err)
    assert "\n" not in str(err)


@pytest.mark.skipif(pulumi_cli_available(), reason="the Pulumi CLI is installed here")
def test_missing_cli_is_one_line_naming_offline(project: Path) -> None:
    with pytest.raises(PulumiNotInstalledError) as err:
        PulumiEngine().up(_gcp_stack())  # type: ignore[arg-type]
    message = str(err.value)
    assert "\n" not in message
    assert "Pulumi CLI is not installed" in message and "--offline" in message
    # Nothing was recorded.
    assert not (project / ".flowyml" / "stacks" / "prod" / "outputs.json").exists()


@pytest.mark.pulumi_cli
@pytest.mark.skipif(
    not pulumi_cli_available(), reason="needs the Pulumi CLI on PATH (not installable here)"
)
def test_real_preview_on_the_file_backend(project: Path) -> None:
    plan = PulumiEngine().preview(_gcp_stack())  # type: ignore[arg-type]
    assert plan.engine == "pulumi"
    assert plan.summary.create > 0
    assert (project / ".flowyml" / "pulumi").is_dir()


class _FakeWorkspaceStack:
    """Stands in for ``pulumi.automation.Stack``: the real one needs the Pulumi CLI, which
    cannot be installed here. It replays engine events and serves the checkpoint's outputs,
    exactly the two things ``PulumiEngine.refresh`` asks of it."""

    def __init__(self, outputs: dict[str, object], events: list[dict] | None = None) -> None:
        self._outputs = outputs
        self._events = events or []
        self.calls: list[str] = []

    def refresh(self, on_event: object) -> None:
        self.calls.append("refresh")
        for raw in self._events:
            on_event(auto.events.EngineEvent.from_json(raw))  # type: ignore[operator]

    def outputs(self) -> dict[str, object]:
        self.calls.append("outputs")
        return self._outputs


def _engine_with(monkeypatch: pytest.MonkeyPatch, fake: _FakeWorkspaceStack) -> PulumiEngine:
    engine = PulumiEngine(lock_timeout=0)
    monkeypatch.setattr(engine, "_workspace_stack", lambda stack: fake)
    return engine


def test_refresh_re_records_the_checkpoint_outputs(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flowyml.core.outputs import StackOutputs
    from flowyml.provision.state import load_outputs, save_outputs

    monkeypatch.setenv("FLOWYML_PASSPHRASE", "test-passphrase")
    stack = _gcp_stack()
    # A stale record (e.g. from before someone changed the stack with raw `pulumi up`).
    save_outputs(StackOutputs(stack="prod", values={"artifact_uri": "gs://old"}, engine="pulumi"))
    password_url = "postgresql+psycopg://flowyml:s3cr3t-pw@/flowyml?host=/cloudsql/p1:r:i"
    fake = _FakeWorkspaceStack(
        {
            "artifact_uri": auto.OutputValue("gs://b1", False),
            "metadata_url": auto.OutputValue(password_url, True),
        }
    )

    plan = _engine_with(monkeypatch, fake).refresh(stack)  # type: ignore[arg-type]

    assert fake.calls == ["refresh", "outputs"]  # outputs read after the refresh
    assert plan.operation == "refresh" and plan.engine == "pulumi"
    recorded = load_outputs("prod")
    assert recorded is not None
    assert recorded.values == {"artifact_uri": "gs://b1", "metadata_url": password_url}
    assert recorded.secrets == frozenset({"metadata_url"})
    on_disk = (project / ".flowyml" / "stacks" / "prod" / "outputs.json").read_text()
    assert "s3cr3t-pw" not in on_disk and "gs://b1" in on_disk


def test_refresh_of_a_checkpoint_without_outputs_forgets_the_record(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flowyml.core.outputs import StackOutputs
    from flowyml.provision.state import load_outputs, save_outputs

    save_outputs(StackOutputs(stack="prod", values={"artifact_uri": "gs://gone"}, engine="pulumi"))

    _engine_with(monkeypatch, _FakeWorkspaceStack({})).refresh(_gcp_stack())  # type: ignore[arg-type]

    assert load_outputs("prod") is None


def test_refresh_waits_for_the_stack_lock(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from flowyml.provision.state import stack_lock

    fake = _FakeWorkspaceStack({"artifact_uri": auto.OutputValue("gs://b1", False)})
    engine = _engine_with(monkeypatch, fake)
    with stack_lock("prod", "up"), pytest.raises(StackLockedError):
        engine.refresh(_gcp_stack())  # type: ignore[arg-type]
    assert fake.calls == []
