"""Importing flowyml.cost stays light: no pulumi, cloud SDK, rich or YAML parser."""

from __future__ import annotations

import subprocess
import sys


def test_import_is_light() -> None:
    # Compared with what the interpreter already holds before the import: installed Google SDKs
    # put the `google` namespace package in sys.modules at start-up (their *-nspkg.pth files).
    code = (
        "import sys\nbefore = set(sys.modules)\nimport flowyml.cost\n"
        "new = set(sys.modules) - before\n"
        "heavy = [m for m in ('pulumi', 'boto3', 'google', 'kubernetes', 'rich', 'yaml', 'flowyml.provision')"
        " if any(n == m or n.startswith(m + '.') for n in new)]\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
