"""``${VAR}`` and ``${VAR:-default}`` in configuration strings.

``$${`` writes a literal ``${``. A variable that is unset and has no default is an error naming
the variable (the caller adds the file and line).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from flowyml.stacks.errors import StackConfigError

__all__ = ["UnsetVariableError", "interpolate", "references"]

_PATTERN = re.compile(
    r"\$\$\{|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}|\$\{(?P<bad>[^}]*)\}?"
)


class UnsetVariableError(StackConfigError):
    """A ``${VAR}`` names an unset environment variable and gives no default.

    Attributes:
        variable: The variable name.
    """

    def __init__(self, variable: str, where: str = "") -> None:
        self.variable = variable
        prefix = f"{where}: " if where else ""
        super().__init__(
            f"{prefix}environment variable {variable} is not set and has no default",
            hint=f"export {variable}=... or write ${{{variable}:-default}}",
        )


def interpolate(text: str, environ: Mapping[str, str], where: str = "") -> str:
    """Replace every ``${VAR}`` / ``${VAR:-default}`` in ``text``.

    Args:
        text: The string from the file.
        environ: Variables to read (usually ``os.environ``).
        where: ``"file:line: field"`` prefix for error messages.

    Raises:
        UnsetVariableError: A variable is unset and has no default.
        StackConfigError: A malformed ``${...}``.
    """

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$${":
            return "${"
        if match["bad"] is not None or match["name"] is None:
            prefix = f"{where}: " if where else ""
            raise StackConfigError(
                f"{prefix}malformed variable reference {match.group(0)!r}",
                hint="write ${NAME} or ${NAME:-default} (NAME: letters, digits, _)",
            )
        value = environ.get(match["name"])
        if value is not None:
            return value
        if match["default"] is not None:
            return match["default"]
        raise UnsetVariableError(match["name"], where)

    if "$" not in text:
        return text
    return _PATTERN.sub(replace, text)


def references(text: str) -> list[str]:
    """Names of the variables ``text`` refers to."""
    return [m["name"] for m in _PATTERN.finditer(text) if m["name"]]
