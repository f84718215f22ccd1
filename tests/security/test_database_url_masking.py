"""A database password never shows in a displayed URL, wherever the URL puts it."""

from __future__ import annotations

import pytest

from flowyml.runtime.errors import MetadataError
from flowyml.runtime.metadata.engine import mask_url
from flowyml.runtime.metadata.store import SqlMetadataStore
from flowyml.stacks.components import MySQLMetadataStore, PostgreSQLMetadataStore

SECRET = "Zq9SecretValue"


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://flowyml@db.example:5432/meta?password={SECRET}",
        f"postgresql://flowyml@db.example:5432/meta?sslmode=require&password={SECRET}",
        f"postgresql://flowyml:pw@db.example/meta?sslpassword={SECRET}",
        f"postgresql://flowyml:{SECRET[:5]}@{SECRET[5:]}@db.example:5432/meta",
    ],
)
def test_declared_url_shown_without_the_password(url: str) -> None:
    store = PostgreSQLMetadataStore(url=url)

    shown = store.sqlalchemy_url()

    assert SECRET[:5] not in shown and SECRET[5:] not in shown
    assert "***" in shown
    assert SECRET not in mask_url(store.sqlalchemy_url(reveal=True))


def test_mysql_query_password_is_masked() -> None:
    store = MySQLMetadataStore(url=f"mysql://flowyml@db.example/meta?passwd={SECRET}")

    assert SECRET not in store.sqlalchemy_url()
    assert SECRET not in mask_url(store.sqlalchemy_url(reveal=True))


def test_other_query_parameters_stay_visible() -> None:
    store = PostgreSQLMetadataStore(url="postgresql://u:pw@db.example/meta?sslmode=require")

    assert store.sqlalchemy_url().endswith("/meta?sslmode=require")
    assert "sslmode=require" in mask_url(store.sqlalchemy_url(reveal=True))


def test_password_with_an_unencoded_at_sign_reaches_the_driver_encoded() -> None:
    store = PostgreSQLMetadataStore(url=f"postgresql://u:{SECRET[:5]}@{SECRET[5:]}@db.example/m")

    assert store.sqlalchemy_url(reveal=True) == (
        f"postgresql+psycopg://u:{SECRET[:5]}%40{SECRET[5:]}@db.example/m"
    )


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql+psycopg://flowyml@127.0.0.1:1/meta?password={SECRET}",
        f"postgresql+psycopg://flowyml:{SECRET[:5]}@{SECRET[5:]}@127.0.0.1:1/meta",
    ],
)
def test_unreachable_server_error_names_no_password(url: str) -> None:
    with pytest.raises(MetadataError) as caught:
        SqlMetadataStore(url)

    assert SECRET[:5] not in str(caught.value) and SECRET[5:] not in str(caught.value)
