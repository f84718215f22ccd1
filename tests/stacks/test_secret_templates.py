"""``${VAR}`` inside a URL: a reference (stored as written), resolved only when revealed."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from flowyml.stacks.config import load_stack_file
from flowyml.stacks.errors import SecretError
from flowyml.stacks.registry import StackRegistry
from flowyml.stacks.secret_refs import dump_secret, is_reference, is_url_template, reveal


@pytest.mark.parametrize(
    ("text", "template"),
    [
        ("postgresql://u:${DB_PASSWORD}@host/db", True),
        ("postgresql://u:${DB_PASSWORD:-x}@${DB_HOST}:5432/db", True),
        ("postgresql://u@${DB_HOST}/db", True),
        ("postgresql://u@host/db?sslmode=require&password=${PW}", True),
        ("postgresql://u:literal@${DB_HOST}/db", False),
        ("postgresql://u@${DB_HOST}/db?password=literal", False),
        ("postgresql://u:pw@host/db", False),
        ("abc${X}", False),
    ],
)
def test_url_template_detection(text: str, template: bool) -> None:
    assert is_url_template(text) is template
    assert is_reference(text) is template


def test_template_is_stored_as_written_and_revealed_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = "postgresql://u:${DB_PASSWORD}@${DB_HOST:-db.local}/db"
    assert dump_secret(SecretStr(text)) == text
    monkeypatch.setenv("DB_PASSWORD", "p@ss")
    assert reveal(SecretStr(text)) == "postgresql://u:p@ss@db.local/db"
    monkeypatch.delenv("DB_PASSWORD")
    with pytest.raises(SecretError, match="DB_PASSWORD"):
        reveal(SecretStr(text), "metadata_store.url")


def test_stack_register_accepts_a_url_template(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DB_PASSWORD", "from-env")
    declared = tmp_path / "pg.yaml"
    declared.write_text(
        "name: pg\ntype: local\nmetadata_store:\n  kind: postgresql\n"
        "  url: postgresql://u:${DB_PASSWORD}@host/db\n",
        encoding="utf-8",
    )
    stacks = load_stack_file(declared)
    registry = StackRegistry(tmp_path)
    registry.register_stacks(stacks)
    stored = next(tmp_path.rglob("*.json")).read_text(encoding="utf-8")
    assert "${DB_PASSWORD}" in stored and "from-env" not in stored
    url = stacks[0].metadata_store.sqlalchemy_url(reveal=True)  # type: ignore[union-attr]
    assert url == "postgresql+psycopg://u:from-env@host/db"
