"""Importing flowyml.cost stays light: no pulumi, cloud SDK, rich or YAML parser."""

from __future__ import annotations

import subprocess
import sys


def test_import_is_light() -> None:
    code = (
        "import sys, flowyml.cost\n"
        "heavy = [m for m in ('pulumi', 'boto3', 'google', 'kubernetes', 'rich', 'yaml', 'flowyml.provision')"
        " if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
