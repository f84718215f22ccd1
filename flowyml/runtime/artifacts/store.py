"""One artifact store for every fsspec URL scheme (``file``, ``s3``, ``gs``, ``az``, ``memory``).

Layout: the payload of key ``<pipeline>/<run_id>/<step>/<output>`` lives at
``<root>/<key><ext>``, the extension naming the materializer. The ``ArtifactRef`` carries
everything needed to load it back (URI, type, materializer, size, ``sha256:`` hash), so there
is no sidecar metadata file.

Atomicity (a reader never sees a partial payload):

* Local filesystems: the payload is written to a hidden temp file in the destination directory
  (``.<name>.<random>.tmp``) and moved over the final name with ``os.replace``, which is atomic
  on POSIX and Windows within one filesystem. A writer killed mid-write leaves only the temp
  file, which no key ever points to. ``fsync=True`` also survives power loss, at a cost of
  milliseconds per artifact; without it a process crash is still safe (the kernel keeps the data).
* Object stores (S3, GCS, Azure Blob): one upload call straight to the final key. These stores
  make an object visible only once its upload completes (a single PUT, or the final
  "complete" call of a multipart/resumable upload), so a killed writer leaves no object at all.
  Uploading to a temp key and copying would double the traffic for no extra guarantee, and a
  commit marker is only needed for multi-object artifacts, which this store does not write.

As a second line of defence ``load`` checks the payload's size and hash against the ref and
raises ``ArtifactError`` on any mismatch (``verify=False`` turns that off).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import posixpath
import uuid
from collections.abc import Mapping
from typing import Any

import fsspec
from fsspec import AbstractFileSystem

from flowyml.core.records import ArtifactRef
from flowyml.runtime.artifacts.materializers import (
    Materializer,
    MaterializerRegistry,
    default_registry,
    type_name_of,
)
from flowyml.runtime.errors import ArtifactError

_LOCAL_PROTOCOLS = frozenset({"file", "local"})


def _is_local(fs: AbstractFileSystem) -> bool:
    protocols = (fs.protocol,) if isinstance(fs.protocol, str) else tuple(fs.protocol)
    return any(p in _LOCAL_PROTOCOLS for p in protocols)


def _check_key(key: str) -> None:
    parts = key.split("/")
    if not key or key.startswith("/") or "\\" in key or any(p in ("", ".", "..") for p in parts):
        raise ArtifactError(
            f"invalid artifact key {key!r}: use a relative path of non-empty segments without '.' or '..'"
        )


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class FsspecArtifactStore:
    """Saves values as payloads under ``root_uri`` and loads them back as their type.

    Args:
        root_uri: Root of the store: ``file:///abs/dir`` (or a plain path), ``s3://bucket/prefix``,
            ``gs://bucket/prefix``, ``az://container/prefix``, ``memory://name``...
        storage_options: Passed to the fsspec filesystem (``endpoint_url``, ``token``,
            ``client_kwargs``, ``connection_string``...). Never logged.
        registry: Materializers to use; :func:`default_registry` when omitted.
        verify: Check size and ``sha256`` of every payload on load.
        fsync: Flush local payloads to disk before the rename (power-loss durability).
    """

    def __init__(
        self,
        root_uri: str,
        storage_options: Mapping[str, Any] | None = None,
        *,
        registry: MaterializerRegistry | None = None,
        verify: bool = True,
        fsync: bool = False,
    ) -> None:
        self._options = dict(storage_options or {})
        try:
            fs, root_path = fsspec.core.url_to_fs(root_uri, **self._options)
        except (ImportError, ValueError) as exc:
            raise ArtifactError(
                f"cannot open artifact store {root_uri!r}: {_one_line(exc)}",
                hint="install the extra for this URL scheme (flowyml[gcp], flowyml[aws] or flowyml[azure])",
            ) from exc
        self._fs: AbstractFileSystem = fs
        self._local = _is_local(fs)
        self._root_path = root_path.rstrip("/") or "/"
        if self._local:
            self._root_uri = "file://" + self._root_path
        else:
            self._root_uri = root_uri.rstrip("/")
        self._registry = registry or default_registry()
        self._verify = verify
        self._fsync = fsync
        # Directories already created by this store: saves in a run mostly add one level.
        self._made_dirs: set[str] = set()

    @property
    def root_uri(self) -> str:
        """Root URI of the store (``file:///abs`` for local directories)."""
        return self._root_uri

    @property
    def filesystem(self) -> AbstractFileSystem:
        """The underlying fsspec filesystem."""
        return self._fs

    def __repr__(self) -> str:
        return f"FsspecArtifactStore({self._root_uri!r})"

    # -- saving ------------------------------------------------------------------------------

    def save(self, value: Any, key: str) -> ArtifactRef:
        """Atomically write ``value`` under ``<root>/<key><ext>`` and return its ref.

        Args:
            value: Any value a materializer handles (pickle takes the rest).
            key: Relative key, ``<pipeline>/<run_id>/<step>/<output>`` by convention.

        Returns:
            The ref to record: URI, type, materializer, size and ``sha256:`` content hash.

        Raises:
            ArtifactError: the key is invalid, the value cannot be serialised (the message
                names its type), or the write failed.
        """
        _check_key(key)
        materializer, data = self._serialise(value)
        uri = self.put_bytes(key + materializer.extension, data)
        return ArtifactRef(
            uri=uri,
            type_name=type_name_of(value),
            materializer=materializer.name,
            size=len(data),
            content_hash="sha256:" + hashlib.sha256(data).hexdigest(),
        )

    def put_bytes(self, key: str, data: bytes) -> str:
        """Atomically write raw ``data`` at ``<root>/<key>`` (logs, task and result records).

        Returns:
            The URI written.

        Raises:
            ArtifactError: the key is invalid or the write failed.
        """
        _check_key(key)
        path = f"{self._root_path}/{key}"
        try:
            if self._local:
                self._write_local(path, data)
            else:
                # Object stores publish an object only when its upload completes (module doc).
                self._fs.pipe_file(path, data)
        except OSError as exc:
            raise ArtifactError(f"cannot write artifact {key!r}: {_one_line(exc)}") from exc
        return f"{self._root_uri}/{key}"

    def get_bytes(self, uri: str) -> bytes | None:
        """The raw bytes at ``uri`` (this store's or another), or ``None`` when absent.

        Raises:
            ArtifactError: the payload exists but cannot be read.
        """
        fs, path = self._locate(uri)
        try:
            data: bytes = fs.cat_file(path)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ArtifactError(f"cannot read {uri}: {_one_line(exc)}") from exc
        return data

    def has_uri(self, uri: str) -> bool:
        """True when something is stored at ``uri``."""
        fs, path = self._locate(uri)
        if self._local and fs is self._fs:
            return os.path.isfile(path)
        try:
            return bool(fs.exists(path))
        except OSError:
            return False

    def uri_of(self, key: str) -> str:
        """The URI ``key`` has (or would have) in this store."""
        _check_key(key)
        return f"{self._root_uri}/{key}"

    @property
    def storage_options(self) -> Mapping[str, Any]:
        """The fsspec options the store was opened with (may hold secrets: never log them)."""
        return dict(self._options)

    @property
    def local_root(self) -> str | None:
        """The root directory when the store is on this machine's disk, else ``None``."""
        return self._root_path if self._local else None

    def _serialise(self, value: Any) -> tuple[Materializer, bytes]:
        last_error: BaseException | None = None
        for materializer in self._registry.candidates(value):
            try:
                return materializer, materializer.dump(value)
            except Exception as exc:  # any failure means "try the next one" (pickle last)
                last_error = exc
        reason = _one_line(last_error) if last_error else "no materializer"
        raise ArtifactError(
            f"cannot serialise a value of type {type_name_of(value)}: {reason}",
            hint="return plain data, bytes, numpy arrays, DataFrames or picklable objects from steps",
        ) from last_error

    def _write_local(self, path: str, data: bytes) -> None:
        directory, name = posixpath.split(path)
        if directory not in self._made_dirs:
            os.makedirs(directory, exist_ok=True)
            self._made_dirs.add(directory)
        temp = f"{directory}/.{name}.{uuid.uuid4().hex}.tmp"
        try:
            with open(temp, "wb") as handle:
                handle.write(data)
                if self._fsync:
                    handle.flush()
                    os.fsync(handle.fileno())
            os.replace(temp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise

    # -- loading -----------------------------------------------------------------------------

    def load(self, ref: ArtifactRef) -> Any:
        """Load the value ``ref`` points to, as the type it was saved as.

        Raises:
            ArtifactError: the payload is missing, does not match the ref's size or hash,
                or its materializer is unknown here.
        """
        materializer = self._registry.get(ref.materializer)
        if materializer is None:
            raise ArtifactError(
                f"artifact {ref.uri} was written by unknown materializer {ref.materializer!r}",
                hint="register that materializer before loading",
            )
        fs, path = self._locate(ref.uri)
        try:
            data = fs.cat_file(path)
        except FileNotFoundError as exc:
            raise ArtifactError(
                f"artifact not found: {ref.uri}",
                hint="re-run the step that produced it (the cache will not reuse it)",
            ) from exc
        except OSError as exc:
            raise ArtifactError(f"cannot read artifact {ref.uri}: {_one_line(exc)}") from exc
        if self._verify:
            self._check(ref, data)
        try:
            return materializer.load(data, ref.type_name)
        except Exception as exc:
            raise ArtifactError(
                f"cannot load artifact {ref.uri} as {ref.type_name}: {_one_line(exc)}"
            ) from exc

    @staticmethod
    def _check(ref: ArtifactRef, data: bytes) -> None:
        if len(data) != ref.size:
            raise ArtifactError(
                f"artifact {ref.uri} is corrupt: {len(data)} bytes, expected {ref.size}"
            )
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        if digest != ref.content_hash:
            raise ArtifactError(f"artifact {ref.uri} is corrupt: content hash does not match")

    def exists(self, ref: ArtifactRef) -> bool:
        """True when the payload is still at ``ref.uri`` (cache validity)."""
        fs, path = self._locate(ref.uri)
        if self._local and fs is self._fs:
            return os.path.isfile(path)
        try:
            return bool(fs.exists(path))
        except OSError:
            return False

    def delete(self, ref: ArtifactRef) -> None:
        """Remove the payload at ``ref.uri`` if it is there."""
        fs, path = self._locate(ref.uri)
        with contextlib.suppress(FileNotFoundError):
            fs.rm_file(path)

    def _locate(self, uri: str) -> tuple[AbstractFileSystem, str]:
        prefix = self._root_uri + "/"
        if uri.startswith(prefix):
            return self._fs, self._root_path + "/" + uri[len(prefix) :]
        # A ref recorded by another store (e.g. a cached artifact from an older root).
        try:
            fs, path = fsspec.core.url_to_fs(uri, **self._options)
        except (ImportError, ValueError) as exc:
            raise ArtifactError(f"cannot open artifact {uri}: {_one_line(exc)}") from exc
        return fs, path
