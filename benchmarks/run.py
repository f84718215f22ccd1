"""flowyml benchmarks: one command, one table.

Run with ``python benchmarks/run.py`` (add ``--quick`` for fewer repetitions). Prints the machine,
then one row per benchmark with the measured number, its target and whether it met it. The
targets come from the issues; unit tests never assert timings.

``--install`` adds the README's commands in fresh virtual environments (they need the package
index and take a few minutes): the first command cold (empty pip cache) and warm, and the full
install of the second command cold.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


@dataclass
class Row:
    name: str
    value: float
    unit: str
    target: float | None
    detail: str = ""

    @property
    def verdict(self) -> str:
        if self.target is None:
            return "-"
        return "ok" if self.value <= self.target else "OVER"


def machine() -> str:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{platform.system()} {platform.release()} | {cpu} | {os.cpu_count()} cores | "
        f"Python {platform.python_version()}"
    )


def flowyml_script() -> str:
    """The installed console script itself (not a version-manager shim in front of it)."""
    candidate = Path(sysconfig.get_path("scripts")) / "flowyml"
    return str(candidate) if candidate.exists() else "flowyml"


def wall(cmd: list[str], repeat: int, cwd: Path, env: dict[str, str] | None = None) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if proc.returncode not in (0,):
            raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    return times


def in_project(func: Callable[[Path], Row]) -> Row:
    with tempfile.TemporaryDirectory(prefix="flowyml-bench-") as tmp:
        os.environ["FLOWYML_PROJECT_DIR"] = tmp
        try:
            return func(Path(tmp))
        finally:
            os.environ.pop("FLOWYML_PROJECT_DIR", None)


def chain_overhead(steps: int, repeat: int) -> Callable[[Path], Row]:
    def bench(tmp: Path) -> Row:
        from flowyml import Pipeline, step
        from flowyml.stacks import LocalStack

        @step(cache=False)
        def first() -> int:
            return 0

        @step(cache=False)
        def inc(x: int) -> int:
            return x + 1

        stack = LocalStack(
            name="bench",
            artifact_path=str(tmp / "artifacts"),
            metadata_path=str(tmp / "metadata.db"),
        )
        with Pipeline("chain", enable_cache=False, stack=stack) as pipe:
            value = first()
            for _ in range(steps - 1):
                value = inc(value)
        pipe.run()  # warm-up: migrations, connection pool, imports
        per_step = []
        for _ in range(repeat):
            start = time.perf_counter()
            result = pipe.run()
            per_step.append((time.perf_counter() - start) / steps)
            assert result.ok and result[f"inc_{steps - 1}"] == steps - 1, result
        best = min(per_step)
        return Row(
            f"per-step overhead, {steps}-step chain, cache off",
            best * 1000,
            "ms",
            1.0,
            f"best of {repeat}; median {statistics.median(per_step) * 1000:.3f} ms; "
            "each output persisted + recorded (SQLite, file://)",
        )

    return bench


def parallel_sleeps(repeat: int) -> Callable[[Path], Row]:
    def bench(tmp: Path) -> Row:
        from flowyml import Pipeline, step
        from flowyml.stacks import LocalStack

        @step(cache=False)
        def nap(i: int) -> int:
            time.sleep(0.2)
            return i

        stack = LocalStack(
            name="bench",
            artifact_path=str(tmp / "artifacts"),
            metadata_path=str(tmp / "metadata.db"),
        )
        with Pipeline("naps", enable_cache=False, stack=stack, max_workers=8) as pipe:
            for i in range(8):
                nap(i)
        pipe.run()
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            assert pipe.run().ok
            times.append(time.perf_counter() - start)
        return Row(
            "8 independent sleep(0.2) steps",
            min(times),
            "s",
            0.5,
            f"best of {repeat}; median {statistics.median(times):.3f} s; max_workers=8 threads",
        )

    return bench


def help_wall(repeat: int) -> Row:
    times = wall([flowyml_script(), "--help"], repeat, REPO)
    return Row(
        "`flowyml --help` wall time",
        statistics.median(times),
        "s",
        0.15,
        f"median of {repeat}; min {min(times):.3f} s; console script {flowyml_script()}",
    )


def quickstart_wall(repeat: int) -> Row:
    """Whole-process time of `flowyml run examples/quickstart.py`, warm (cache hits after one)."""
    with tempfile.TemporaryDirectory(prefix="flowyml-bench-") as tmp:
        env = {**os.environ, "FLOWYML_PROJECT_DIR": tmp}
        cmd = [flowyml_script(), "run", str(REPO / "examples" / "quickstart.py")]
        wall(cmd, 1, Path(tmp), env)
        times = wall(cmd, repeat, Path(tmp), env)
    return Row(
        "`flowyml run examples/quickstart.py`, warm",
        statistics.median(times),
        "s",
        0.5,
        f"median of {repeat}; min {min(times):.3f} s; whole process, every step a cache hit",
    )


def offline_preview(repeat: int, extra: list[str], label: str, *, cached: bool) -> Row:
    """Whole-process time of an offline preview in a copy of this repository's stacks.

    ``cached=False`` turns the evaluation cache off (every run imports Pulumi and evaluates the
    program under mocks, as the first preview after a change does); ``cached=True`` primes the
    cache once and then measures.
    """
    with tempfile.TemporaryDirectory(prefix="flowyml-bench-") as tmp:
        project = Path(tmp)
        shutil.copytree(REPO / "stacks", project / "stacks")
        env = {**os.environ, "FLOWYML_PROJECT_DIR": str(project), "FLOWYML_PASSPHRASE": "bench"}
        env.pop("PULUMI_CONFIG_PASSPHRASE", None)
        if cached:
            env.pop("FLOWYML_NO_CACHE", None)
        else:
            env["FLOWYML_NO_CACHE"] = "1"
        cmd = [flowyml_script(), "stack", "preview", "production", "--offline", *extra]
        if cached:
            wall(cmd, 1, project, env)
        times = wall(cmd, repeat, project, env)
    return Row(
        label,
        statistics.median(times),
        "s",
        1.0,
        f"median of {repeat}; min {min(times):.3f} s; whole process; "
        + ("evaluation cache warm" if cached else "no cache (imports Pulumi, runs the program)"),
    )


_COPY_IGNORE = shutil.ignore_patterns(
    ".git",
    ".flowyml",
    "node_modules",
    ".checkov",
    "*.egg-info",
    "__pycache__",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".hypothesis",
    "build",
    "dist",
)


def readme_commands() -> list[str]:
    """The shell commands of the README's Quickstart section, in order."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", section, re.S)]


def _in_fresh_venv(tmp: Path, command: str, cache: Path) -> tuple[float, str]:
    """Wall time of ``command`` run in a fresh copy of the repository with a fresh venv."""
    clone = tmp / "clone"
    if clone.exists():
        shutil.rmtree(clone)
    if (REPO / ".git").exists():  # a fresh clone: the committed tree, not work in progress
        clone.mkdir()
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", "HEAD"], check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(clone)], input=archive, check=True)
    else:
        shutil.copytree(REPO, clone, ignore=_COPY_IGNORE)
    venv = tmp / "venv"
    if venv.exists():
        shutil.rmtree(venv)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = {
        **os.environ,
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        "VIRTUAL_ENV": str(venv),
        "PIP_CACHE_DIR": str(cache),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "FLOWYML_PROJECT_DIR": str(clone),
    }
    start = time.perf_counter()
    proc = subprocess.run(
        ["bash", "-c", command], cwd=clone, env=env, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{command} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return elapsed, proc.stdout


def install_rows() -> list[Row]:
    """The README's first command, cold then warm, and the full install, each in a fresh venv."""
    first, second = readme_commands()[:2]
    install_all = second.split("&&", 1)[0].strip()
    rows = []
    with tempfile.TemporaryDirectory(prefix="flowyml-bench-install-") as tmp:
        cache = Path(tmp) / "pip-cache"
        cold, _ = _in_fresh_venv(Path(tmp), first, cache)
        rows.append(
            Row("README first command, fresh venv, cold pip cache", cold, "s", 30.0, f"`{first}`")
        )
        warm, _ = _in_fresh_venv(Path(tmp), first, cache)
        rows.append(
            Row(
                "README first command, fresh venv, warm pip cache",
                warm,
                "s",
                15.0,
                "same command, the pip cache of the run above",
            )
        )
    with tempfile.TemporaryDirectory(prefix="flowyml-bench-install-") as tmp:
        full, _ = _in_fresh_venv(Path(tmp), install_all, Path(tmp) / "pip-cache")
        rows.append(
            Row(
                "full install (README second command, install part), cold",
                full,
                "s",
                None,
                f"`{install_all}`; no backtracking (constraints.txt)",
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument(
        "--install", action="store_true", help="also time the README's install commands"
    )
    args = parser.parse_args()
    n = 2 if args.quick else 5
    rows = [
        in_project(chain_overhead(300, n)),
        in_project(parallel_sleeps(n)),
        help_wall(5 if args.quick else 20),
        quickstart_wall(n),
        offline_preview(n, [], "`stack preview production --offline` (cost), cold", cached=False),
        offline_preview(n, [], "`stack preview production --offline` (cost), warm", cached=True),
        offline_preview(n, ["--json"], "same, `--json`, warm", cached=True),
    ]
    import ui_bench  # benchmarks/ui_bench.py: the dashboard (`flowyml ui`)

    rows += [Row(**row) for row in ui_bench.rows(n)]
    import check_bench  # benchmarks/check_bench.py: guardrails (`flowyml stack check`)

    rows += [Row(**row) for row in check_bench.rows(n)]
    import image_bench  # benchmarks/image_bench.py: image check when nothing changed

    rows += [Row(**row) for row in image_bench.rows(n)]
    import container_bench  # benchmarks/container_bench.py: steps in containers, run start-up

    rows += [Row(**row) for row in container_bench.rows(n)]
    import orchestrator_bench  # benchmarks/orchestrator_bench.py: compile, kfp.local overhead

    rows += [Row(**row) for row in orchestrator_bench.rows(n)]
    import kubernetes_bench  # benchmarks/kubernetes_bench.py: Kubernetes driver overhead, fan-out

    rows += [Row(**row) for row in kubernetes_bench.rows(n)]
    if args.install:
        rows += install_rows()
    print(f"Machine: {machine()}")
    print(f"Date: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}")
    headers = ("benchmark", "value", "target", "verdict", "detail")
    table = [
        (
            r.name,
            f"{r.value:.3f} {r.unit}",
            "-" if r.target is None else f"<= {r.target} {r.unit}",
            r.verdict,
            r.detail,
        )
        for r in rows
    ]
    widths = [max(len(h), *(len(t[i]) for t in table)) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for t in table:
        print("  ".join(c.ljust(w) for c, w in zip(t, widths, strict=True)))
    sys.exit(0)


if __name__ == "__main__":
    main()
