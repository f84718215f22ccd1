"""Image benchmarks (registered in ``run.py``): the image check when nothing changed.

``ensure_image`` on a stack whose image is already built and pushed: hash flowyml's sources and
the Docker settings, look the tag up on the engine, then in the registry. Two numbers: in one
long-lived process (source hashes re-read from disk each time, as after any edit) and as the
whole ``flowyml build --json`` process a CI job runs. Target (issue 8): <= 1 s. Needs the
Docker test environment (`bash .ci/docker.sh`): without it the rows say so, with no number.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

REGISTRY = "127.0.0.1:5000"
BASE = "local/python3:bookworm"
TARGET_S = 1.0

_PIPELINE = f"""\
from flowyml import Pipeline, step
from flowyml.stacks import Stack
from flowyml.stacks.components import (
    DockerConfig, DockerExecutor, LocalArtifactStore, SQLiteMetadataStore,
)

STACK = Stack(
    "bench-docker",
    executor=DockerExecutor(),
    artifact_store=LocalArtifactStore(path="artifacts"),
    metadata_store=SQLiteMetadataStore(path="metadata.db"),
    docker=DockerConfig(base_image="{BASE}", requirements=["six==1.16.0"]),
)


@step
def hello() -> str:
    return "hi"


with Pipeline("bench", stack=STACK) as bench:
    hello()
"""


def _skipped(reason: str) -> list[dict[str, Any]]:
    return [
        {
            "name": "image check when nothing changed",
            "value": float("nan"),
            "unit": "s",
            "target": None,
            "detail": f"skipped: {reason} (run `bash .ci/docker.sh`)",
        }
    ]


def rows(repeat: int) -> list[dict[str, Any]]:
    """Benchmark rows: ``name``, ``value``, ``unit``, ``target``, ``detail``."""
    try:
        import docker

        client = docker.from_env()
        client.ping()
        client.images.get(BASE)
        urllib.request.urlopen(f"http://{REGISTRY}/v2/", timeout=2).close()
    except Exception as exc:
        return _skipped(f"Docker test environment missing: {type(exc).__name__}")
    from flowyml.runtime.images import build, ensure_image, plan, source
    from flowyml.stacks.components import DockerConfig

    # A snapshot of flowyml's sources, hashed afresh each time: others may be editing this
    # checkout, and a changed source is a new image (rightly), not "nothing changed".
    live = source.flowyml_source()
    snapshot = Path(tempfile.mkdtemp(prefix="flowyml-bench-src-"))
    for rel in live.files():
        (snapshot / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(live.root / rel, snapshot / rel)

    def frozen() -> Any:
        return source._cached_source(snapshot, live.version, source._fingerprint(snapshot))

    for module in (source, plan, build):
        module.flowyml_source = frozen  # type: ignore[attr-defined]

    config = DockerConfig(base_image=BASE, requirements=["six==1.16.0"])
    out = []
    with tempfile.TemporaryDirectory(prefix="flowyml-bench-image-") as tmp:
        project = Path(tmp)
        (project / "pipeline.py").write_text(_PIPELINE)
        options = {
            "client": client,
            "registry": REGISTRY,
            "project_dir": project,
            "repository": "flowyml-bench",
        }
        first = ensure_image(config, **options)  # type: ignore[arg-type]  # builds once if needed
        times = []
        for _ in range(repeat * 2):
            source._cached_source.cache_clear()
            began = time.perf_counter()
            ref = ensure_image(config, **options)  # type: ignore[arg-type]
            times.append(time.perf_counter() - began)
            assert not ref.built and not ref.pushed, ref
        out.append(
            {
                "name": "image check when nothing changed (in process)",
                "value": statistics.median(times),
                "unit": "s",
                "target": TARGET_S,
                "detail": f"median of {len(times)}; min {min(times):.3f} s; hash + engine "
                f"+ registry lookup of {first.reference.rpartition(':')[0]}",
            }
        )
        env = {**os.environ, "FLOWYML_PROJECT_DIR": str(project)}
        cmd = [sys.executable, "-m", "flowyml.cli", "build", "pipeline.py", "--json"]
        subprocess.run(cmd, cwd=project, env=env, capture_output=True, check=True)
        walls, rebuilt = [], 0
        for _ in range(repeat):
            began = time.perf_counter()
            proc = subprocess.run(cmd, cwd=project, env=env, capture_output=True, text=True)
            elapsed = time.perf_counter() - began
            if proc.returncode != 0:
                raise SystemExit(f"flowyml build failed:\n{proc.stdout}{proc.stderr}")
            if json.loads(proc.stdout)[0]["built"]:
                rebuilt += 1  # the live checkout changed meanwhile: not a "nothing changed" run
            else:
                walls.append(elapsed)
        shutil.rmtree(snapshot, ignore_errors=True)
        if not walls:
            raise SystemExit("flowyml's sources changed during every `flowyml build` run")
        out.append(
            {
                "name": "`flowyml build --json`, nothing changed",
                "value": statistics.median(walls),
                "unit": "s",
                "target": TARGET_S,
                "detail": f"median of {repeat}; min {min(walls):.3f} s; whole process "
                "(imports, pipeline load, hash, engine lookup; local engine, no registry)"
                + (f"; {rebuilt} run(s) dropped: sources changed" if rebuilt else ""),
            }
        )
    return out
