"""The error root: one line, a full stop before the hint whatever the message ends with."""

from __future__ import annotations

import pytest

from flowyml.core.errors import FlowymlError


@pytest.mark.parametrize(
    ("message", "hint", "expected"),
    [
        (
            "stack x has not been provisioned",
            "run `flowyml stack up x`",
            "stack x has not been provisioned. To fix: run `flowyml stack up x`",
        ),
        ("no such file: a.py.", "give a path.", "no such file: a.py. To fix: give a path."),
        ("is it there?", "look", "is it there? To fix: look"),
        ("plain message", None, "plain message"),
    ],
)
def test_str(message: str, hint: str | None, expected: str) -> None:
    assert str(FlowymlError(message, hint=hint)) == expected
    assert FlowymlError(message, hint=hint).exit_code == 1
