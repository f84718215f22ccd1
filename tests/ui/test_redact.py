"""The redactor: every known secret value replaced, short values left alone."""

from __future__ import annotations

import pytest

from flowyml.stacks import Stack
from flowyml.stacks.components import LocalArtifactStore, LocalExecutor, PostgreSQLMetadataStore
from flowyml.ui.redact import Redactor, stack_secrets


def test_redactor_replaces_longest_first_and_skips_short_values() -> None:
    redact = Redactor(["hunter2-long", "hunter2", "abc"])
    assert redact("pw=hunter2-long and hunter2, abc") == "pw=[secret] and [secret], abc"
    assert len(redact) == 2


def test_stack_secrets_resolves_env_references(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.setenv("UI_REDACT_PW", "p@ss/w0rd!")
    stack = Stack(
        "pg",
        executor=LocalExecutor(),
        artifact_store=LocalArtifactStore(path="a"),
        metadata_store=PostgreSQLMetadataStore(
            host="h", database="d", user="u", password="${UI_REDACT_PW}"
        ),
    )
    found = stack_secrets(stack)
    assert "p@ss/w0rd!" in found
    redact = Redactor(found)
    assert redact("connect postgresql://u:p@ss/w0rd!@h/d") == "connect postgresql://u:[secret]@h/d"


def test_unset_reference_holds_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("UI_REDACT_UNSET", raising=False)
    stack = Stack(
        "pg",
        executor=LocalExecutor(),
        artifact_store=LocalArtifactStore(path="a"),
        metadata_store=PostgreSQLMetadataStore(
            host="h", database="d", user="u", password="${UI_REDACT_UNSET}"
        ),
    )
    assert stack_secrets(stack) == set()
