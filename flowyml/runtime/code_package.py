"""Code packages: the project's source, packed once per change and fetched where steps run.

Images carry dependencies only; the code travels separately, so a code change never rebuilds an
image. A package holds every file under the code root except what ``.gitignore`` files (at any
depth) and a ``.flowymlignore`` at the root exclude, plus what is never code (``.git``,
``.flowyml``, caches, virtualenvs). The archive is reproducible (sorted entries, zeroed times
and owners, gzip without a timestamp), so the same files always give the same SHA-256, and it
is stored content-addressed as ``_code/<sha256>.tar.gz`` in the artifact store: uploaded only
when that key is missing.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flowyml.runtime.errors import ArtifactError

IGNORE_FILE = ".flowymlignore"
CODE_CACHE_ENV = "FLOWYML_CODE_CACHE"
MAX_PACKAGE_BYTES = 100 * 1024 * 1024
_NEVER = (
    ".git/",
    ".flowyml/",
    "__pycache__/",
    "*.pyc",
    ".venv/",
    "venv/",
    "node_modules/",
    ".mypy_cache/",
    ".pytest_cache/",
    ".ruff_cache/",
    ".hypothesis/",
    ".ipynb_checkpoints/",
)


@dataclass(frozen=True)
class CodePackage:
    """A packed code root.

    Attributes:
        root: The directory packed.
        sha256: Hex digest of the archive.
        data: The archive bytes (``.tar.gz``).
        files: How many files it holds.
    """

    root: Path
    sha256: str
    data: bytes
    files: int

    @property
    def key(self) -> str:
        """Its key in the artifact store."""
        return f"_code/{self.sha256}.tar.gz"


def _spec(lines: list[str]) -> Any:
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(lines)


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []


def iter_files(root: Path) -> Iterator[Path]:
    """Files of the package, relative to ``root``, in sorted order (see module docstring)."""
    root = root.resolve()
    specs: list[tuple[str, Any]] = [("", _spec([*_NEVER, *_read_lines(root / IGNORE_FILE)]))]

    def ignored(rel: str, is_dir: bool) -> bool:
        probe = rel + "/" if is_dir else rel
        for prefix, spec in specs:
            if prefix and not probe.startswith(prefix):
                continue
            if spec.match_file(probe[len(prefix) :]):
                return True
        return False

    def walk(directory: Path, rel_dir: str) -> Iterator[Path]:
        gitignore = directory / ".gitignore"
        pushed = False
        if gitignore.is_file():
            specs.append((rel_dir, _spec(_read_lines(gitignore))))
            pushed = True
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            entries = []
        for entry in entries:
            rel = rel_dir + entry.name
            if entry.is_dir(follow_symlinks=False):
                if not ignored(rel, True):
                    yield from walk(Path(entry.path), rel + "/")
            elif entry.is_file(follow_symlinks=False) and not ignored(rel, False):
                yield Path(rel)
        if pushed:
            specs.pop()

    yield from walk(root, "")


def pack(root: Path) -> CodePackage:
    """Pack ``root`` into a reproducible archive.

    Raises:
        ArtifactError: the package would exceed 100 MiB (name what to ignore).
    """
    root = root.resolve()
    raw = io.BytesIO()
    count = 0
    total = 0
    with (
        gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, compresslevel=6) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for rel in iter_files(root):
            path = root / rel
            data = path.read_bytes()
            total += len(data)
            if total > MAX_PACKAGE_BYTES:
                raise ArtifactError(
                    f"the code package of {root} passes {MAX_PACKAGE_BYTES // 2**20} MiB "
                    f"(at {rel})",
                    hint=f"list data files and folders in {root / IGNORE_FILE} "
                    "(gitignore syntax): code packages carry source, not data",
                )
            info = tarfile.TarInfo(rel.as_posix())
            info.size = len(data)
            info.mode = 0o755 if os.access(path, os.X_OK) else 0o644
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))
            count += 1
    data = raw.getvalue()
    return CodePackage(root, hashlib.sha256(data).hexdigest(), data, count)


def upload(package: CodePackage, store: Any) -> str:
    """Store ``package`` in ``store`` unless it is already there; returns its URI."""
    uri: str = store.uri_of(package.key)
    if not store.has_uri(uri):
        store.put_bytes(package.key, package.data)
    return uri


def _extract(tar: tarfile.TarFile, into: Path) -> None:
    if hasattr(tarfile, "data_filter"):
        tar.extractall(into, filter="data")
        return
    # Pythons before 3.11.4 have no extraction filters: accept only plain relative files.
    for member in tar.getmembers():
        parts = Path(member.name).parts
        if not member.isfile() or member.name.startswith("/") or ".." in parts:
            raise ArtifactError(f"code package entry {member.name!r} is not a plain file")
    tar.extractall(into)


def cache_dir() -> Path:
    """Where fetched packages are unpacked (``$FLOWYML_CODE_CACHE``, else a temp folder)."""
    return Path(os.environ.get(CODE_CACHE_ENV) or Path(tempfile.gettempdir()) / "flowyml-code")


def fetch(uri: str, store: Any) -> Path:
    """Unpack the package at ``uri`` (once per machine) and return its directory.

    Raises:
        ArtifactError: it is missing or its content does not match its name.
    """
    sha = uri.rsplit("/", 1)[-1].removesuffix(".tar.gz")
    target = cache_dir() / sha
    if (target / ".complete").is_file():
        return target
    data = store.get_bytes(uri)
    if data is None:
        raise ArtifactError(f"code package not found: {uri}")
    if hashlib.sha256(data).hexdigest() != sha:
        raise ArtifactError(f"code package {uri} is corrupt: its content does not match its name")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{sha[:12]}-", dir=target.parent))
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            _extract(tar, staging)
        (staging / ".complete").write_text(uri, encoding="utf-8")
        try:
            os.replace(staging, target)
        except OSError:  # another process unpacked it first
            if not (target / ".complete").is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
