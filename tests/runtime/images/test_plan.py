"""Image plans, offline: what goes into a tag and what does not, and the one-line refusals."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from flowyml.runtime.images import DEFAULT_BASE_IMAGE, ImageError, image_name, plan_image
from flowyml.runtime.images.source import flowyml_source, wheel_requirements
from flowyml.runtime.images.wheels import PythonTarget
from flowyml.stacks.components import DockerConfig

BASE = DockerConfig(base_image="local/python3:bookworm", requirements=["six==1.16.0"])


def _tag(config: DockerConfig | None, project: Path, **kw: object) -> str:
    plan = plan_image(config, registry="127.0.0.1:5000", project_dir=project, **kw)  # type: ignore[arg-type]
    assert plan.tag is not None
    return plan.tag


def test_code_change_keeps_the_tag(tmp_path: Path) -> None:
    (tmp_path / "pipeline.py").write_text("x = 1\n")
    before = _tag(BASE, tmp_path)
    (tmp_path / "pipeline.py").write_text("x = 2  # the code travels as a code package\n")
    (tmp_path / "helper.py").write_text("y = 3\n")
    assert _tag(BASE, tmp_path) == before


def test_requirements_extras_and_base_change_the_tag(tmp_path: Path) -> None:
    tags = {
        _tag(BASE, tmp_path),
        _tag(BASE.model_copy(update={"requirements": ["six==1.17.0"]}), tmp_path),
        _tag(BASE, tmp_path, extras=("s3",)),
        _tag(
            DockerConfig(base_image="local/python3:trixie", requirements=["six==1.16.0"]), tmp_path
        ),
    }
    assert len(tags) == 4


def test_env_vars_are_not_baked_in(tmp_path: Path) -> None:
    with_env = BASE.model_copy(update={"env_vars": {"MODE": "prod"}})
    plan = plan_image(with_env, registry=None, project_dir=tmp_path)
    assert plan.tag == _tag(BASE, tmp_path)
    assert plan.env == {"MODE": "prod"}
    assert plan.dockerfile is not None and "MODE" not in plan.dockerfile


def test_reference_names_registry_and_repository(tmp_path: Path) -> None:
    plan = plan_image(BASE, registry="127.0.0.1:5000", project_dir=tmp_path, repository="Team/x")
    assert plan.reference == f"127.0.0.1:5000/team/x:{plan.tag}"
    local = plan_image(BASE, registry=None, project_dir=tmp_path)
    assert local.reference == f"flowyml:{local.tag}" and local.registry is None


@pytest.mark.parametrize(
    ("registry", "expected"),
    [
        (
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/ml",
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/ml",
        ),
        (
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/flowyml",
        ),
        ("us-central1-docker.pkg.dev/p/repo", "us-central1-docker.pkg.dev/p/repo/flowyml"),
        ("docker.io/me/", "docker.io/me/flowyml"),
        (None, "flowyml"),
    ],
)
def test_image_name(registry: str | None, expected: str) -> None:
    assert image_name(registry, "flowyml") == expected


def test_default_is_a_public_python_base(tmp_path: Path) -> None:
    plan = plan_image(None, registry=None, project_dir=tmp_path)
    assert plan.form == "base_image" and plan.base == DEFAULT_BASE_IMAGE == "python:3.11-slim"
    assert plan.dockerfile is not None and plan.dockerfile.startswith("FROM python:3.11-slim\n")


def test_image_form_is_used_as_is(tmp_path: Path) -> None:
    plan = plan_image(
        DockerConfig(image="gcr.io/p/img:v1"), registry="r:5000", project_dir=tmp_path
    )
    assert (plan.reference, plan.tag, plan.builds, plan.registry) == (
        "gcr.io/p/img:v1",
        None,
        False,
        None,
    )


def _dockerfile_project(tmp_path: Path) -> DockerConfig:
    ctx = tmp_path / "docker"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text("FROM local/python3:bookworm\nCOPY data.txt /data.txt\n")
    (ctx / "data.txt").write_text("one\n")
    (ctx / "notes.md").write_text("ignored\n")
    (ctx / ".dockerignore").write_text("# comment\nnotes.md\n")
    return DockerConfig(
        dockerfile="docker/Dockerfile", build_context="docker", build_args={"A": "1"}
    )


def test_dockerfile_form_hashes_the_context_docker_would_send(tmp_path: Path) -> None:
    config = _dockerfile_project(tmp_path)
    before = _tag(config, tmp_path)
    (tmp_path / "docker" / "notes.md").write_text("changed, but .dockerignore'd\n")
    (tmp_path / "pipeline.py").write_text("outside the context\n")
    assert _tag(config, tmp_path) == before
    (tmp_path / "docker" / "data.txt").write_text("two\n")
    changed = _tag(config, tmp_path)
    assert changed != before
    assert _tag(config.model_copy(update={"build_args": {"A": "2"}}), tmp_path) != changed


def test_missing_dockerfile_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ImageError) as info:
        plan_image(DockerConfig(dockerfile="nope/Dockerfile"), registry=None, project_dir=tmp_path)
    text = str(info.value)
    assert "\n" not in text and "nope/Dockerfile" in text and "To fix:" in text


def test_flowyml_source_digest_covers_its_files() -> None:
    source = flowyml_source()
    files = {p.as_posix() for p in source.files()}
    assert "pyproject.toml" in files and "flowyml/__init__.py" in files
    assert not any("__pycache__" in f for f in files)
    assert len(source.digest) == 64


def _wheel(tmp_path: Path, requires: list[str], extras: list[str]) -> Path:
    path = tmp_path / "demo-1.0-py3-none-any.whl"
    meta = "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n"
    meta += "".join(f"Provides-Extra: {e}\n" for e in extras)
    meta += "".join(f"Requires-Dist: {r}\n" for r in requires)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("demo-1.0.dist-info/METADATA", meta)
    return path


def test_wheel_requirements_apply_extras(tmp_path: Path) -> None:
    wheel = _wheel(
        tmp_path,
        [
            "click>=8",
            'gcsfs>=2023.6; extra == "gcs"',
            'tomli; python_version < "3.11"',
            's3fs; extra == "s3"',
        ],
        ["gcs", "s3"],
    )
    assert wheel_requirements(wheel) == ["click>=8", 'tomli; python_version < "3.11"']
    assert wheel_requirements(wheel, ["gcs"]) == [
        "click>=8",
        "gcsfs>=2023.6",
        'tomli; python_version < "3.11"',
    ]
    with pytest.raises(ImageError, match="no extra gpu"):
        wheel_requirements(wheel, ["gpu"])


def test_pip_target_options() -> None:
    glibc = PythonTarget(version="3.11", machine="x86_64", libc="glibc", libc_version="2.36")
    opts = glibc.pip_options()
    assert opts[:4] == ["--python-version", "3.11", "--implementation", "cp"]
    platforms = [opts[i + 1] for i, o in enumerate(opts) if o == "--platform"]
    assert platforms[0] == "manylinux_2_36_x86_64" and "manylinux2014_x86_64" in platforms
    assert "manylinux_2_16_x86_64" not in platforms
    musl = PythonTarget(version="3.12", machine="aarch64", libc="", libc_version="")
    assert "musllinux_1_2_aarch64" in musl.pip_options() and musl.key == "cp312-musl-aarch64"
