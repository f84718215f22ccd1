"""flowyml itself, as it goes into images: a wheel built from the source tree the driver runs.

The name ``flowyml`` on the public index belongs to another project, so images never install
flowyml from an index: they get a wheel of the running checkout. The wheel is built once per
*source digest* (a hash of the files that go into it) and cached; the digest, not the wheel's
bytes (which carry timestamps), is what image tags hash, so it is the same on every machine
with the same sources.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from email.parser import HeaderParser
from functools import lru_cache
from pathlib import Path

from flowyml.runtime.images.cache import cache_dir
from flowyml.runtime.images.errors import ImageError

__all__ = ["FlowymlSource", "flowyml_source", "wheel_requirements"]

# Files beside the package that the build reads (metadata, readme).
_TOP_FILES = ("pyproject.toml", "setup.cfg", "setup.py", "MANIFEST.in", "README.md", "LICENSE")
_SKIP_DIRS = {"__pycache__"}
_SKIP_SUFFIXES = (".pyc", ".pyo")


@dataclass(frozen=True)
class FlowymlSource:
    """The source tree of the running flowyml.

    Attributes:
        root: The directory holding ``pyproject.toml`` and the ``flowyml`` package.
        version: ``flowyml.__version__``.
        digest: sha256 of every file that goes into the wheel (paths and contents).
    """

    root: Path
    version: str
    digest: str

    def files(self) -> Iterator[Path]:
        """The files that go into the wheel, relative to ``root``, sorted."""
        return iter(_source_files(self.root))

    def wheel(self) -> Path:
        """A wheel of these sources (built on first use, then cached by digest).

        Raises:
            ImageError: the build fails (its last output line is in the message).
        """
        target = cache_dir("flowyml-wheels", self.digest[:24])
        found = sorted(target.glob("flowyml-*.whl"))
        if found:
            return found[0]
        with tempfile.TemporaryDirectory(prefix="flowyml-wheel-") as tmp:
            copy = Path(tmp) / "src"
            for rel in self.files():
                dest = copy / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(self.root / rel, dest)
            out = Path(tmp) / "out"
            # A copy, not the checkout: an in-tree build would leave build/ and egg-info behind.
            # No build isolation: setuptools is already here, and an isolated build would need
            # the index.
            cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
            cmd += ["--disable-pip-version-check", "--quiet", "-w", str(out), str(copy)]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            built = sorted(out.glob("flowyml-*.whl"))
            if proc.returncode != 0 or not built:
                last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
                raise ImageError(
                    f"building a wheel of flowyml from {self.root} failed: {last}",
                    hint="run `pip wheel --no-deps --no-build-isolation .` in that directory "
                    "to see why (setuptools and wheel must be installed).",
                )
            staged = target / f".{built[0].name}.tmp"
            shutil.copy2(built[0], staged)
            staged.replace(target / built[0].name)
        return target / built[0].name


def _source_files(root: Path) -> list[Path]:
    files = [Path(name) for name in _TOP_FILES if (root / name).is_file()]
    package = root / "flowyml"
    for path in package.rglob("*"):
        rel = path.relative_to(root)
        if any(part in _SKIP_DIRS for part in rel.parts) or path.suffix in _SKIP_SUFFIXES:
            continue
        if path.is_file():
            files.append(rel)
    return sorted(files)


def _digest(root: Path, files: Sequence[Path]) -> str:
    sha = hashlib.sha256()
    for rel in files:
        sha.update(rel.as_posix().encode() + b"\0")
        sha.update(hashlib.sha256((root / rel).read_bytes()).digest())
    return sha.hexdigest()


def flowyml_source() -> FlowymlSource:
    """The source tree of the flowyml this process runs, with its digest.

    Raises:
        ImageError: flowyml was not installed from a source tree (no ``pyproject.toml`` naming
            ``flowyml`` beside the package).
    """
    import flowyml

    root = Path(flowyml.__file__).resolve().parent.parent
    return _cached_source(root, flowyml.__version__, _fingerprint(root))


def _fingerprint(root: Path) -> tuple[tuple[str, int, int], ...]:
    """Cheap change detector (path, size, mtime) so a long-lived driver rehashes only on change."""
    out = []
    for rel in _source_files(root) if (root / "pyproject.toml").is_file() else []:
        stat = (root / rel).stat()
        out.append((rel.as_posix(), stat.st_size, stat.st_mtime_ns))
    return tuple(out)


@lru_cache(maxsize=4)
def _cached_source(
    root: Path, version: str, fingerprint: tuple[tuple[str, int, int], ...]
) -> FlowymlSource:
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file() or not re.search(
        r'^name\s*=\s*"flowyml"', pyproject.read_text(), re.M
    ):
        raise ImageError(
            f"flowyml runs from {root}, which is not its source tree (no pyproject.toml "
            "naming flowyml): images get flowyml as a wheel built from its sources",
            hint="install flowyml from its source checkout (`pip install -e .`) on the "
            "machine that builds images.",
        )
    files = [Path(name) for name, _, _ in fingerprint]
    return FlowymlSource(root=root, version=version, digest=_digest(root, files))


_EXTRA_RE = re.compile(r"""extra\s*==\s*["']([^"']+)["']""")


def wheel_requirements(wheel: Path, extras: Sequence[str] = ()) -> list[str]:
    """The requirements of ``wheel`` (its ``Requires-Dist``) with the given ``extras`` applied.

    Raises:
        ImageError: an extra the wheel does not declare.
    """
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        meta = HeaderParser().parsestr(archive.read(name).decode())
    declared = set(meta.get_all("Provides-Extra") or [])
    unknown = sorted(set(extras) - declared)
    if unknown:
        raise ImageError(
            f"flowyml has no extra {', '.join(unknown)} (it has: {', '.join(sorted(declared))})",
            hint="pass extras flowyml declares in pyproject.toml.",
        )
    out: list[str] = []
    for line in meta.get_all("Requires-Dist") or []:
        requirement, _, marker = line.partition(";")
        wanted = _EXTRA_RE.findall(marker)
        if wanted and not set(wanted) & set(extras):
            continue
        rest = _EXTRA_RE.sub("", marker).strip()
        rest = re.sub(r"^(and|or)\s+|\s+(and|or)$", "", rest).strip()
        entry = requirement.strip() + (f"; {rest}" if rest else "")
        if entry not in out:
            out.append(entry)
    return out
