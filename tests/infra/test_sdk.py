"""Loading only the SDK modules a program uses, invisibly to the rest of the process.

Each case runs in a fresh interpreter: which modules are loaded is the thing under test, and
the test process has long imported whole SDK packages.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

pytest.importorskip("pulumi_gcp", reason="pulumi-gcp is not installed")


def _run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_only_the_named_modules_are_loaded() -> None:
    out = _run(
        "import sys\n"
        "from flowyml.infra._sdk import sdk\n"
        "ns = sdk('pulumi_gcp.storage', 'bucket')\n"
        "print(ns.Bucket.__name__, 'pulumi_gcp.storage.notification' in sys.modules)\n"
    )
    assert out == "Bucket False"


def test_the_package_still_answers_every_name_afterwards() -> None:
    out = _run(
        "from flowyml.infra._sdk import sdk\n"
        "ns = sdk('pulumi_gcp.storage', 'bucket')\n"
        "import pulumi_gcp.storage as storage\n"
        "from pulumi_gcp import storage as same\n"
        "print(storage.Bucket is ns.Bucket, storage.Notification.__name__, same is storage)\n"
    )
    assert out == "True Notification True"
