"""Metadata stores: where runs, steps, artifacts and lineage are recorded (SQLAlchemy URLs).

``sqlalchemy_url()`` masks the password as ``***`` unless ``reveal=True``; a password given as
``${VAR}`` is resolved from the environment only when revealed.
"""

from __future__ import annotations

import re
from typing import Annotated, ClassVar, Literal
from urllib.parse import quote

from pydantic import Field, model_validator

from flowyml.stacks.components._base import Component
from flowyml.stacks.components.artifact_stores import resolve_local_path
from flowyml.stacks.errors import StackError, ValidationProblem
from flowyml.stacks.secret_refs import Secret, is_reference, is_secret_query_key, reveal

__all__ = [
    "CloudSQLMetadataStore",
    "MetadataStore",
    "MySQLMetadataStore",
    "PostgreSQLMetadataStore",
    "SQLiteMetadataStore",
]

PASSWORD_MASK = "***"
# Up to the *last* "@": a password with an unencoded "@" is masked whole, never in part.
_URL_PASSWORD = re.compile(r"^(?P<head>[^:/]+://[^:/@]*:)(?P<pw>.*)(?P<tail>@[^@]*)$", re.DOTALL)
_URL_QUERY_PARAM = re.compile(r"(?P<sep>[?&;])(?P<key>[^=&;#]+)=(?P<value>[^&;#]*)")


class SQLiteMetadataStore(Component):
    """A SQLite file on this machine.

    Attributes:
        path: Database file; relative paths resolve against the project directory;
            ``":memory:"`` for an in-memory database.
    """

    kind: Literal["sqlite"] = "sqlite"
    path: str = ".flowyml/metadata.db"

    def sqlalchemy_url(self, reveal: bool = False) -> str:
        """``sqlite:////abs/path/metadata.db`` (``reveal`` is accepted for uniformity)."""
        if self.path == ":memory:":
            return "sqlite://"
        return f"sqlite:///{resolve_local_path(self.path).as_posix()}"


class _ServerStore(Component):
    """Shared fields and URL building of the PostgreSQL and MySQL stores."""

    _driver: ClassVar[str] = ""
    _schemes: ClassVar[tuple[str, ...]] = ()

    url: Secret | None = None
    host: str | None = None
    port: int = Field(default=5432, ge=1, le=65535)
    database: str | None = None
    user: str | None = None
    password: Secret | None = None
    provisioned_by: str | None = None

    @model_validator(mode="after")
    def _url_or_host(self) -> _ServerStore:
        if self.url is not None and self.host is not None:
            raise ValueError("give either url or host/port/database/user/password, not both")
        if self.url is None and self.host is None and self.provisioned_by is None:
            raise ValueError("give url, or host and database")
        if self.host is not None and not self.database:
            raise ValueError("database is required with host")
        return self

    def sqlalchemy_url(self, reveal: bool = False) -> str:
        """The SQLAlchemy URL, password masked as ``***`` unless ``reveal``.

        Raises:
            StackError: The server is provisioned by flowyml and not known yet, or a ``${VAR}``
                reference names an unset variable (only when revealing).
        """
        if self.url is not None:
            return self._from_url(reveal)
        if self.host is None:
            raise StackError(
                f"the {getattr(self, 'kind', 'SQL')} database is provisioned by {self.provisioned_by}: its URL is "
                "known only after provisioning",
                hint="run `flowyml stack up NAME`; the URL is then read from the stack outputs",
            )
        user = quote(self.user or "", safe="")
        credentials = user
        if self.password is not None:
            secret = _reveal(self.password, "password") if reveal else PASSWORD_MASK
            credentials = f"{user}:{quote(secret, safe='') if reveal else secret}"
        at = f"{credentials}@" if credentials else ""
        return f"{self._driver}://{at}{self.host}:{self.port}/{self.database}"

    def _from_url(self, reveal_it: bool) -> str:
        assert self.url is not None
        if not reveal_it and is_reference(self.url):
            return self.url.get_secret_value()
        text = _reveal(self.url, "url")
        for scheme in self._schemes:
            if text.startswith(f"{scheme}://"):
                text = f"{self._driver}://{text[len(scheme) + 3 :]}"
                break
        match = _URL_PASSWORD.match(text)
        if reveal_it:
            if match and "@" in match["pw"]:
                # Drivers split at the first "@" and would echo the password's rest as the host.
                return f"{match['head']}{match['pw'].replace('@', '%40')}{match['tail']}"
            return text
        if match:
            text = f"{match['head']}{PASSWORD_MASK}{match['tail']}"
        return _URL_QUERY_PARAM.sub(_mask_query_param, text)


def _mask_query_param(match: re.Match[str]) -> str:
    """``?password=x`` -> ``?password=***`` (libpq and pymysql take credentials there too)."""
    if not is_secret_query_key(match["key"]):
        return match[0]
    return f"{match['sep']}{match['key']}={PASSWORD_MASK}"


def _reveal(secret: Secret, field: str) -> str:
    value = reveal(secret, field)
    assert value is not None
    return value


class PostgreSQLMetadataStore(_ServerStore):
    """A PostgreSQL database, by ``url`` or by ``host``/``port``/``database``/``user``/``password``.

    ``provisioned_by`` (e.g. ``"rds"``) marks a server the stack provisions: host and URL then
    come from the stack outputs.
    """

    _driver = "postgresql+psycopg"
    _schemes = ("postgresql", "postgres")

    kind: Literal["postgresql"] = "postgresql"


class MySQLMetadataStore(_ServerStore):
    """A MySQL / MariaDB database, by ``url`` or by host fields (port 3306 by default)."""

    _driver = "mysql+pymysql"
    _schemes = ("mysql", "mariadb")

    kind: Literal["mysql"] = "mysql"
    port: int = Field(default=3306, ge=1, le=65535)


class CloudSQLMetadataStore(Component):
    """A Cloud SQL for PostgreSQL database provisioned with a GCP stack.

    The URL is known only after provisioning (it comes from the stack outputs).

    Attributes:
        instance_connection_name: ``project:region:instance`` once known.
        database: Database name.
        user: Database user.
        password: Password (secret; generated by provisioning when ``None``).
    """

    kind: Literal["cloudsql"] = "cloudsql"
    instance_connection_name: str | None = None
    database: str = "flowyml"
    user: str = "flowyml"
    password: Secret | None = None

    def sqlalchemy_url(self, reveal: bool = False) -> str:
        """Always raises: the URL of a Cloud SQL database comes from the stack outputs."""
        raise StackError(
            "the Cloud SQL database URL is known only after provisioning",
            hint="run `flowyml stack up NAME`; the URL is then read from the stack outputs",
        )

    def problems(self, path: str) -> list[ValidationProblem]:
        name = self.instance_connection_name
        if name is not None and not re.fullmatch(
            r"[a-z][a-z0-9-]+:[a-z0-9-]+:[a-z][a-z0-9-]*", name
        ):
            return [
                ValidationProblem(
                    f"{path}.instance_connection_name",
                    f"{name!r} is not of the form 'project:region:instance'",
                )
            ]
        return []


MetadataStore = Annotated[
    SQLiteMetadataStore | PostgreSQLMetadataStore | MySQLMetadataStore | CloudSQLMetadataStore,
    Field(discriminator="kind"),
]
"""Any metadata store, told apart by ``kind``."""
