"""Fixtures of the image tests: the real Docker engine, the local registry, the base image.

Other engineers edit this checkout while tests run, and flowyml's own sources go into every
image tag: the image tests therefore build from a snapshot of those sources taken once per
session, so "nothing changed" means nothing changed.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from docker_env import (  # noqa: F401  (pytest fixtures)
    base_image,
    docker_client,
    local_registry,
    ssh_docker_engine,
    ssh_server,
)

from flowyml.runtime.images import build, plan, source


@pytest.fixture(scope="session", autouse=True)
def frozen_flowyml_source(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[source.FlowymlSource]:
    """flowyml's sources as they were when the session started."""
    live = source.flowyml_source()
    copy = tmp_path_factory.mktemp("flowyml-src")
    for rel in live.files():
        (copy / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(live.root / rel, copy / rel)
    frozen = source._cached_source(Path(copy), live.version, source._fingerprint(Path(copy)))
    with pytest.MonkeyPatch.context() as patch:
        for module in (source, plan, build):
            patch.setattr(module, "flowyml_source", lambda: frozen)
        yield frozen
