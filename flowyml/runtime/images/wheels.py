"""Python packages for an image, prepared on the driver: the image's Python, then its wheels.

Builders here have no network to a package index, so pip inside a build installs only from
wheels this module downloads on the driver for the image's interpreter and platform
(``pip download --only-binary=:all: --python-version X.Y --platform ...``). Downloads land in
one cache per target (``~/.cache/flowyml/wheels/<target>``) and are reused by later builds;
PyPI never replaces a published file, so a file name is a safe cache key. The set pip resolved
for a requirement list is remembered too (``resolved/<hash>.json``), so building the same
requirements again asks no index at all; like the image tag, an unpinned requirement is
resolved once (delete the cache directory, or pin versions, to move it on).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from flowyml.runtime.images.cache import cache_dir
from flowyml.runtime.images.errors import ImageError

__all__ = ["PythonTarget", "download_wheels", "probe_python"]

_PROBE = (
    "import json, platform, sys, importlib.util as u; "
    "libc = platform.libc_ver(); "
    "print(json.dumps({'version': '%d.%d' % sys.version_info[:2], "
    "'machine': platform.machine(), 'libc': libc[0], 'libc_version': libc[1], "
    "'has_flowyml': u.find_spec('flowyml') is not None}))"
)


@dataclass(frozen=True)
class PythonTarget:
    """The interpreter ``python3`` runs in an image, as pip's target options need it.

    Attributes:
        version: ``"3.11"``.
        machine: ``"x86_64"``, ``"aarch64"``.
        libc: ``"glibc"`` or ``""`` (musl, e.g. Alpine).
        libc_version: ``"2.36"`` for glibc.
        has_flowyml: ``import flowyml`` finds something.
    """

    version: str
    machine: str
    libc: str
    libc_version: str
    has_flowyml: bool = False

    @property
    def key(self) -> str:
        """A directory name for this target's wheel cache."""
        libc = f"glibc{self.libc_version}" if self.libc == "glibc" else "musl"
        return f"cp{self.version.replace('.', '')}-{libc}-{self.machine}"

    def pip_options(self) -> list[str]:
        """``pip download`` options that select wheels this interpreter can install."""
        nodot = self.version.replace(".", "")
        opts = ["--python-version", self.version, "--implementation", "cp"]
        for abi in (f"cp{nodot}", "abi3", "none"):
            opts += ["--abi", abi]
        for platform_tag in self._platforms():
            opts += ["--platform", platform_tag]
        return opts

    def _platforms(self) -> list[str]:
        arch = self.machine
        if self.libc != "glibc":
            return [f"musllinux_1_{minor}_{arch}" for minor in (2, 1)]
        match = re.match(r"(\d+)\.(\d+)", self.libc_version)
        major, minor = (int(match.group(1)), int(match.group(2))) if match else (2, 17)
        tags = [f"manylinux_{major}_{m}_{arch}" for m in range(minor, 16, -1)]
        legacy = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
        return tags + [f"{name}_{arch}" for m, name in legacy.items() if m <= minor]


def probe_python(client: Any, image_id: str, *, command: str = "python3") -> PythonTarget:
    """Run the image's ``python3`` once to learn its version and platform (cached by image id).

    Raises:
        ImageError: the image has no working ``python3``.
    """
    cache_file = cache_dir("images") / "python.json"
    try:
        known = json.loads(cache_file.read_text())
    except (OSError, ValueError):
        known = {}
    if image_id in known:
        return PythonTarget(**known[image_id])
    try:
        out = client.containers.run(
            image_id, [command, "-c", _PROBE], entrypoint="", remove=True, network_mode="none"
        )
        target = PythonTarget(**json.loads(out.decode().strip().splitlines()[-1]))
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ImageError(
            f"image {image_id[:19]} has no working {command}: {first}",
            hint="use a base image with Python 3 on PATH as `python3` (see docs/docker.md).",
        ) from None
    known[image_id] = asdict(target)
    staged = cache_file.with_suffix(f".{os.getpid()}.tmp")
    staged.write_text(json.dumps(known, indent=1))
    staged.replace(cache_file)
    return target


_SAVED_RE = re.compile(r"^\s*(?:Saved|File was already downloaded)\s+(\S+\.whl)\s*$")


def download_wheels(
    requirements: Sequence[str],
    target: PythonTarget,
    dest: Path,
    *,
    progress: Callable[[str], None] | None = None,
) -> list[Path]:
    """Download wheels for ``requirements`` (and their dependencies) for ``target`` into ``dest``.

    Files come from the per-target cache when already downloaded; ``dest`` gets hard links (or
    copies) of exactly the resolved set.

    Raises:
        ImageError: pip cannot resolve or download them (its last error line is in the message).
    """
    dest.mkdir(parents=True, exist_ok=True)
    if not requirements:
        return []
    cache = cache_dir("wheels", target.key)
    resolved = cache / "resolved" / f"{_key(requirements)}.json"
    remembered = _remembered(resolved, cache)
    if remembered is not None:
        _link(remembered, dest)
        if progress:
            progress(f"wheels: {len(remembered)} wheel(s) from the driver's cache ({target.key})")
        return [dest / p.name for p in remembered]
    req_file = dest / ".requirements-download.txt"
    req_file.write_text("\n".join(requirements) + "\n")
    cmd = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check"]
    cmd += ["--only-binary=:all:", *target.pip_options(), "-d", str(cache), "-r", str(req_file)]
    if progress:
        progress(f"wheels: resolving {len(requirements)} requirement(s) for {target.key}")
    proc = subprocess.run(cmd, capture_output=True, text=True)
    req_file.unlink()
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
        errors = [ln for ln in lines if ln.startswith("ERROR")] or lines or ["no output"]
        raise ImageError(
            f"pip could not download wheels for Python {target.version} ({target.key}): "
            f"{errors[0].removeprefix('ERROR: ')}",
            hint="check the requirement names and that each has a wheel for that Python and "
            "platform (builds install wheels only), or build with pip_index=True.",
        )
    found: list[Path] = []
    fresh = 0
    for line in proc.stdout.splitlines():
        match = _SAVED_RE.match(line)
        if match:
            path = Path(match.group(1))
            path = path if path.is_absolute() else cache / path.name
            fresh += line.lstrip().startswith("Saved")
            if path not in found:
                found.append(path)
    if not found:
        raise ImageError(
            "pip download succeeded but named no wheel it saved (unexpected pip output)",
            hint="upgrade pip on the driver, or build with pip_index=True.",
        )
    _link(found, dest)
    resolved.parent.mkdir(exist_ok=True)
    staged = resolved.with_suffix(f".{os.getpid()}.tmp")
    staged.write_text(json.dumps([p.name for p in found]))
    staged.replace(resolved)
    if progress:
        progress(f"wheels: {len(found)} wheel(s), {fresh} newly downloaded")
    return [dest / p.name for p in found]


def _key(requirements: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(requirements).encode()).hexdigest()[:32]


def _remembered(resolved: Path, cache: Path) -> list[Path] | None:
    """The wheels resolved before for these requirements, if every one is still cached."""
    try:
        names = json.loads(resolved.read_text())
    except (OSError, ValueError):
        return None
    paths = [cache / name for name in names]
    return paths if paths and all(p.is_file() for p in paths) else None


def _link(paths: Sequence[Path], dest: Path) -> None:
    for path in paths:
        link = dest / path.name
        if link.exists():
            continue
        try:
            os.link(path, link)
        except OSError:
            shutil.copy2(path, link)
