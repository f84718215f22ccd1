"""The offline-evaluation cache: reused only while nothing it depends on changed, never holding
a secret in clear text. Programs run under Pulumi mocks (no engine can run here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from flowyml.provision import offline_cache
from flowyml.provision.mock_eval import EvaluatedResource, Evaluation
from flowyml.provision.offline import OfflinePlanner

pytest.importorskip("pulumi_gcp", reason="the pulumi-gcp SDK is not installed")


def _gcp_stack(**overrides: object):  # type: ignore[no-untyped-def]
    from flowyml.stacks.gcp import GCPStack

    return GCPStack(name="prod", project_id="p1", bucket_name="b1", **overrides)


def test_second_preview_is_served_from_the_cache_without_pulumi(project: Path) -> None:
    """A fresh process previews twice; the second time no Pulumi module is imported."""
    code = textwrap.dedent(
        """
        import sys
        from flowyml.provision.offline import OfflinePlanner
        from flowyml.stacks.gcp import GCPStack

        stack = GCPStack(name="prod", project_id="p1", bucket_name="b1")
        plan = OfflinePlanner().preview(stack)
        print(len(plan.changes), "pulumi" in sys.modules)
        """
    )
    env = {**os.environ, "FLOWYML_PROJECT_DIR": str(project)}
    env.pop("FLOWYML_NO_CACHE", None)
    runs = [
        subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
        )
        for _ in range(2)
    ]
    (cold_count, cold_pulumi), (warm_count, warm_pulumi) = (r.stdout.split() for r in runs)
    assert runs[0].returncode == 0 and runs[1].returncode == 0, runs[1].stderr
    assert cold_count == warm_count and int(cold_count) > 5
    assert cold_pulumi == "True" and warm_pulumi == "False"
    assert (project / ".flowyml" / "cache" / "offline" / "prod.json").is_file()


def test_a_changed_declaration_is_evaluated_again(project: Path) -> None:
    planner = OfflinePlanner()
    small = planner.preview(_gcp_stack())
    big = planner.preview(_gcp_stack(database={"tier": "db-custom-2-7680"}))

    def tier(plan):  # type: ignore[no-untyped-def]
        (instance,) = [c for c in plan.changes if c.type.endswith("DatabaseInstance")]
        return instance.after["settings"]["tier"]

    assert tier(small) == "db-f1-micro" and tier(big) == "db-custom-2-7680"
    # Switching back is served from the cache and still right.
    assert tier(planner.preview(_gcp_stack())) == "db-f1-micro"


def test_cached_plan_equals_the_evaluated_one(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cached_first = OfflinePlanner().preview(_gcp_stack())
    cached_again = OfflinePlanner().preview(_gcp_stack())
    monkeypatch.setenv("FLOWYML_NO_CACHE", "1")
    fresh = OfflinePlanner().preview(_gcp_stack())
    assert cached_again.to_dict() == fresh.to_dict() == cached_first.to_dict()


def test_cache_file_never_holds_a_secret(tmp_path: Path) -> None:
    evaluation = Evaluation(
        project="flowyml",
        stack="prod",
        resources=(
            EvaluatedResource(
                urn="urn:pulumi:prod::flowyml::gcp:sql/user:User::metadata-user",
                type="gcp:sql/user:User",
                name="metadata-user",
                inputs={"name": "flowyml", "password": "hunter2-clear"},
                secret_inputs=("password",),
                state={"password": "hunter2-clear"},
            ),
        ),
        outputs={"metadata_url": "postgresql://flowyml:hunter2-clear@/db"},
        secret_outputs=frozenset({"metadata_url"}),
    )
    offline_cache.save("prod", "k1", evaluation, tmp_path)
    raw = (tmp_path / "cache" / "offline" / "prod.json").read_bytes()
    assert b"hunter2" not in raw
    loaded = offline_cache.load("prod", "k1", tmp_path)
    assert loaded is not None
    assert loaded.resources[0].inputs == {"name": "flowyml", "password": "[secret]"}
    assert offline_cache.load("prod", "other-key", tmp_path) is None


def test_a_corrupt_cache_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "cache" / "offline" / "prod.json"
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    assert offline_cache.load("prod", "k1", tmp_path) is None
    path.write_text(json.dumps({"key": "k1", "evaluation": {"project": "x"}}))
    assert offline_cache.load("prod", "k1", tmp_path) is None


@pytest.mark.parametrize("changed", ["mock_eval.py", "_wire.py", "aws.py", "__init__.py"])
def test_key_follows_the_programs_and_the_mock_evaluator(
    changed: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An edit of a program or of the mock states they read (mtime/size stamp) re-evaluates."""
    stack = _gcp_stack().to_dict()
    before = offline_cache.cache_key(stack, {}, "prod")
    real_stamp = offline_cache._file_stamp

    def edited(path: Path) -> list[object]:
        stamp = real_stamp(path)
        return [*stamp[:-1], stamp[-1] + 1] if path.name == changed else stamp

    # The stamped files are flowyml's own sources and the installed SDKs: editing them for real
    # would change the working tree (and the SDKs) under other tests, so only their stamp moves.
    monkeypatch.setattr(offline_cache, "_file_stamp", edited)
    assert offline_cache.cache_key(stack, {}, "prod") != before
