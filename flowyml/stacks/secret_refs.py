"""Secret values in declarations: references, literals, and how they are shown.

A secret field (``SecretStr``) holds either

- a **reference** ``${NAME}`` / ``${NAME:-default}``: resolved from the environment only when
  revealed (:func:`reveal`), and shown as that same text: it holds no secret; or
- a **literal** value: kept in memory only. It is shown as ``{"secret_ref": "memory:<token>",
  "value": "[secret]"}``; the token finds the value again in the same process (so
  ``Stack.from_dict(s.to_dict()) == s`` holds) and means nothing elsewhere. A token from another
  process cannot be resolved and is refused with a hint to use ``${VAR}``. The registry refuses
  to persist literal secrets for the same reason.

``{"secret_ref": "env:NAME"}`` is accepted as another spelling of ``${NAME}``.

A URL whose credentials are references (``postgresql://u:${DB_PASSWORD}@host/db``, or a secret
query parameter ``?password=${PW}``) is a **URL template**: a reference too. It holds no secret
(the user, host and database are not secret), is shown and stored as written, and every
``${...}`` in it is resolved when revealed. A URL with a literal password stays a literal, even
when other parts are references.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets as _stdlib_secrets
from typing import Annotated, Any

from pydantic import BeforeValidator, SecretStr

from flowyml.core.plan import SECRET_MASK
from flowyml.stacks.errors import SecretError

__all__ = [
    "SECRET_MASK",
    "Secret",
    "dump_secret",
    "env_reference",
    "is_reference",
    "is_secret_query_key",
    "is_url_template",
    "load_secret",
    "reveal",
]

_ENV_REF = re.compile(r"^\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}$")
# Query parameters of a database URL that carry credentials (libpq ``password``/``sslpassword``,
# ``passwd``, ``pwd``, tokens...): masked wherever a URL is shown.
_SECRET_QUERY_KEY = re.compile(r"pass|pwd|secret|token|credential|key", re.IGNORECASE)
_EMBEDDED_REF = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}")
# scheme://[user[:password]@]rest; a reference holds no "@", so the first "@" ends the userinfo.
_URL = re.compile(
    r"^[A-Za-z][A-Za-z0-9+.-]*://(?:(?P<userinfo>[^@/?#]*)@)?(?P<rest>[^?#]*)(?:\?(?P<query>[^#]*))?"
)
_PROCESS_KEY = _stdlib_secrets.token_bytes(32)
_VAULT: dict[str, str] = {}


def env_reference(value: str) -> tuple[str, str | None] | None:
    """``"${NAME:-x}"`` -> ``("NAME", "x")``; ``None`` when ``value`` is not a reference."""
    match = _ENV_REF.match(value)
    if not match:
        return None
    return match["name"], match["default"]


def is_secret_query_key(name: str) -> bool:
    """Whether a URL query parameter named ``name`` may hold a credential (mask its value)."""
    return _SECRET_QUERY_KEY.search(name) is not None


def is_url_template(text: str) -> bool:
    """Whether ``text`` is a URL whose every credential is a ``${VAR}`` reference.

    ``postgresql://u:${DB_PASSWORD}@host/db`` is; ``postgresql://u:pw@${HOST}/db`` is not (its
    password is literal); a URL with no reference at all is not.
    """
    match = _URL.match(text)
    if match is None or not _EMBEDDED_REF.search(text):
        return False
    userinfo = match["userinfo"] or ""
    if ":" in userinfo and env_reference(userinfo.split(":", 1)[1]) is None:
        return False
    for pair in (match["query"] or "").split("&"):
        key, _, value = pair.partition("=")
        if value and is_secret_query_key(key) and env_reference(value) is None:
            return False
    return True


def is_reference(secret: SecretStr | str | None) -> bool:
    """Whether ``secret`` is an environment reference (or URL template), not a literal value."""
    if secret is None:
        return False
    text = secret.get_secret_value() if isinstance(secret, SecretStr) else secret
    return env_reference(text) is not None or is_url_template(text)


def _resolve(name: str, default: str | None, field: str) -> str:
    value = os.environ.get(name)
    if value is not None:
        return value
    if default is not None:
        return default
    raise SecretError(
        f"{field} refers to environment variable {name}, which is not set",
        hint=f"export {name}=... before running",
    )


def reveal(secret: SecretStr | None, field: str = "secret") -> str | None:
    """The clear value of ``secret``, resolving an environment reference now.

    Raises:
        SecretError: The reference names an unset variable and has no default.
    """
    if secret is None:
        return None
    text = secret.get_secret_value()
    ref = env_reference(text)
    if ref is not None:
        return _resolve(ref[0], ref[1], field)
    if is_url_template(text):
        return _EMBEDDED_REF.sub(lambda m: _resolve(m["name"], m["default"], field), text)
    return text


def dump_secret(secret: SecretStr) -> str | dict[str, str]:
    """The shown/serialised form of ``secret`` (see the module docstring); never the clear value."""
    text = secret.get_secret_value()
    if is_reference(text):
        return text
    token = hmac.new(_PROCESS_KEY, text.encode(), hashlib.sha256).hexdigest()[:16]
    _VAULT[token] = text
    return {"secret_ref": f"memory:{token}", "value": SECRET_MASK}


def load_secret(value: Any) -> Any:
    """Turn a serialised secret (string or ``{"secret_ref": ...}``) back into its text.

    Raises:
        SecretError: The reference is a memory token this process does not hold, or is malformed.
    """
    if isinstance(value, dict) and "secret_ref" in value:
        ref = str(value["secret_ref"])
        scheme, _, rest = ref.partition(":")
        if scheme == "env" and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", rest):
            return "${" + rest + "}"
        if scheme == "memory" and rest in _VAULT:
            return _VAULT[rest]
        if scheme == "memory":
            raise SecretError(
                f"secret reference {ref!r} was held in memory by another process",
                hint="give the secret as ${VAR} (an environment variable reference)",
            )
        raise SecretError(
            f"unknown secret reference {ref!r}", hint="use {'secret_ref': 'env:NAME'} or '${NAME}'"
        )
    if isinstance(value, str) and value == SECRET_MASK:
        raise SecretError(
            f"a masked secret ({SECRET_MASK!r}) cannot be used as a value",
            hint="give the secret as ${VAR} (an environment variable reference)",
        )
    return value


def _load_for_pydantic(value: Any) -> Any:
    try:
        return load_secret(value)
    except SecretError as exc:
        raise ValueError(exc.message) from exc


Secret = Annotated[SecretStr, BeforeValidator(_load_for_pydantic)]
"""A ``SecretStr`` field type that also accepts the serialised forms of :func:`dump_secret`."""
