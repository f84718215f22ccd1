"""``flowyml init [DIR]``: a project that runs at once (a local stack, a pipeline, .gitignore)."""

from __future__ import annotations

from pathlib import Path

import click

from flowyml.core.errors import FlowymlError

CONFIG = """\
# flowyml project: stacks this project can run on (`flowyml stack list`), and which is used
# when none is named. Values may use ${VAR} and ${VAR:-default} (environment variables).
default_stack: local

stacks:
  local:
    type: local
    artifact_path: .flowyml/artifacts
    metadata_path: .flowyml/metadata.db

  # A GCP stack: uncomment, set the variables, then
  #   flowyml stack preview production --offline   # what it creates and what it costs
  #   flowyml stack up production                  # needs the Pulumi CLI and GCP credentials
  #   flowyml run pipeline.py --stack production
  # production:
  #   type: gcp
  #   project_id: ${GCP_PROJECT_ID}
  #   region: ${GCP_REGION:-us-central1}
  #   bucket_name: ${GCP_BUCKET}
"""

PIPELINE = '''\
"""A first pipeline: `flowyml run pipeline.py`, then `flowyml runs show <run-id>`."""

from __future__ import annotations

from flowyml import pipeline, step


@step
def load(n: int = 100) -> list[float]:
    """The data: here the numbers 0 .. n-1."""
    return [float(i) for i in range(n)]


@step
def summarize(values: list[float]) -> dict[str, float]:
    """Metrics: shown by `flowyml runs show`, lined up by `flowyml runs compare`."""
    mean = sum(values) / len(values)
    variance = sum((v - mean) ** 2 for v in values) / len(values)
    return {"count": float(len(values)), "mean": mean, "std": variance**0.5}


@pipeline
def first_pipeline(n: int = 100) -> None:
    """Load, then summarize (`--param n=1000` to change n)."""
    summarize(load(n=n))


if __name__ == "__main__":
    print(first_pipeline.run())
'''

GITIGNORE = """\
# flowyml state: local artifacts, the SQLite metadata store, stack state and outputs
.flowyml/
"""


class ProjectExistsError(FlowymlError):
    """The directory already holds a flowyml project."""


@click.command("init")
@click.argument(
    "directory", default=".", type=click.Path(file_okay=False, path_type=Path), metavar="[DIR]"
)
def init(directory: Path) -> None:
    """Create a flowyml project in DIR (default: here): flowyml.yaml, pipeline.py, .gitignore."""
    from flowyml.core.files import write_atomic
    from flowyml.core.paths import CONFIG_FILENAME

    config = directory / CONFIG_FILENAME
    if config.exists():
        raise ProjectExistsError(
            f"{config} already exists: {directory} is a flowyml project",
            hint="run `flowyml info` there, or choose another directory (`flowyml init DIR`)",
        )
    pipeline = directory / "pipeline.py"
    directory.mkdir(parents=True, exist_ok=True)
    written = [config]
    write_atomic(config, CONFIG.encode("utf-8"))
    if not pipeline.exists():
        write_atomic(pipeline, PIPELINE.encode("utf-8"))
        written.append(pipeline)
    gitignore = directory / ".gitignore"
    existing = gitignore.read_text(encoding="utf-8") if gitignore.exists() else ""
    if ".flowyml/" not in existing.split():
        separator = "\n" if existing and not existing.endswith("\n") else ""
        write_atomic(gitignore, (existing + separator + GITIGNORE).encode("utf-8"))
        written.append(gitignore)
    click.echo(f"Created a flowyml project in {directory}:")
    for path in written:
        click.echo(f"  {path}")
    cd = "" if directory.resolve() == Path.cwd().resolve() else f"cd {directory} && "
    click.echo(f"\nNext: {cd}flowyml run pipeline.py && flowyml runs list")
