"""The dashboard's last line of defence: known secret values replaced in every response.

Records and declarations are masked where they are made (masked URLs, ``[secret]`` outputs,
``${VAR}`` references shown as written); this catches what user text may still carry (a step's
log or traceback printing a password). The secrets are the clear values this process could see:
passwords and secret query values of the stacks' database URLs, ``${VAR}`` secret fields resolved
from the environment, and the secret outputs recorded by ``flowyml stack up``. Values shorter
than :data:`MIN_LENGTH` are left alone: replacing a 3-letter word everywhere would garble pages
and tell the reader what the secret is.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, SecretStr

from flowyml.core.errors import FlowymlError
from flowyml.core.plan import SECRET_MASK

MIN_LENGTH = 4


class Redactor:
    """Replaces each known secret value with ``[secret]``."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        """Learn more secret values (ignoring short ones)."""
        self._secrets.update(s for s in secrets if len(s) >= MIN_LENGTH)
        # Longest first, so a secret containing another is replaced whole.
        self._ordered = sorted(self._secrets, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._ordered:
            if secret in text:
                text = text.replace(secret, SECRET_MASK)
        return text

    def __len__(self) -> int:
        return len(self._secrets)


def _secret_fields(value: Any) -> Iterable[SecretStr]:
    if isinstance(value, SecretStr):
        yield value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _secret_fields(getattr(value, name))
    elif isinstance(value, dict):
        for item in value.values():
            yield from _secret_fields(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _secret_fields(item)


def stack_secrets(stack: Any) -> set[str]:
    """Clear secret values a stack declaration resolves to, and those of its recorded outputs."""
    from flowyml.runtime.metadata.engine import url_secrets
    from flowyml.stacks.secret_refs import reveal

    found: set[str] = set()
    for secret in _secret_fields(stack):
        with contextlib.suppress(FlowymlError):  # an unset ${VAR} holds nothing to hide
            value = reveal(secret)
            if value:
                found.add(value)
                found.update(url_secrets(value))
    store = getattr(stack, "metadata_store", None)
    if store is not None:
        with contextlib.suppress(FlowymlError):
            found.update(url_secrets(store.sqlalchemy_url(reveal=True)))
    with contextlib.suppress(FlowymlError):
        from flowyml.provision.state import load_outputs

        outputs = load_outputs(stack.name)
        for key in outputs.secrets if outputs is not None else ():
            text = str(outputs.reveal(key))  # type: ignore[union-attr]
            found.add(text)
            found.update(url_secrets(text))
    return found


__all__ = ["MIN_LENGTH", "Redactor", "stack_secrets"]
