"""Code packages: which files go in, reproducible archives, content addressing, fetching."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from flowyml.runtime import code_package
from flowyml.runtime.artifacts import FsspecArtifactStore
from flowyml.runtime.errors import ArtifactError


def _tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def test_gitignore_files_at_any_depth_and_flowymlignore_are_honoured(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "pipeline.py": "x = 1\n",
            "lib/helpers.py": "y = 2\n",
            "lib/.gitignore": "generated_*.py\n",
            "lib/generated_big.py": "z = 3\n",
            ".gitignore": "data/\n*.log\n",
            "data/train.csv": "a,b\n",
            "run.log": "...\n",
            ".flowymlignore": "notebooks/\n",
            "notebooks/explore.ipynb": "{}\n",
            ".flowyml/metadata.db": "",
            "lib/__pycache__/helpers.cpython-311.pyc": "",
            ".git/HEAD": "ref: refs/heads/main\n",
        },
    )
    files = [p.as_posix() for p in code_package.iter_files(root)]
    assert files == [
        ".flowymlignore",
        ".gitignore",
        "lib/.gitignore",
        "lib/helpers.py",
        "pipeline.py",
    ]


def test_the_same_files_give_the_same_archive_and_a_change_a_new_one(tmp_path: Path) -> None:
    root = _tree(tmp_path / "p", {"a.py": "1\n", "b/c.py": "2\n"})
    first = code_package.pack(root)
    (root / "a.py").touch()  # a newer mtime alone changes nothing
    assert code_package.pack(root).sha256 == first.sha256
    assert first.sha256 == hashlib.sha256(first.data).hexdigest() and first.files == 2
    (root / "a.py").write_text("changed\n")
    assert code_package.pack(root).sha256 != first.sha256


def test_upload_once_then_fetch_verifies_and_unpacks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(code_package.CODE_CACHE_ENV, str(tmp_path / "cache"))
    root = _tree(tmp_path / "p", {"steps.py": "def f(): return 1\n"})
    store = FsspecArtifactStore((tmp_path / "store").as_uri())
    package = code_package.pack(root)
    uri = code_package.upload(package, store)
    assert uri.endswith(f"_code/{package.sha256}.tar.gz")
    stored = Path(uri.removeprefix("file://"))
    before = stored.stat().st_mtime_ns
    assert code_package.upload(package, store) == uri and stored.stat().st_mtime_ns == before
    unpacked = code_package.fetch(uri, store)
    assert (unpacked / "steps.py").read_text() == "def f(): return 1\n"
    assert code_package.fetch(uri, store) == unpacked  # unpacked once per machine


def test_a_tampered_package_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(code_package.CODE_CACHE_ENV, str(tmp_path / "cache"))
    store = FsspecArtifactStore((tmp_path / "store").as_uri())
    package = code_package.pack(_tree(tmp_path / "p", {"a.py": "1\n"}))
    uri = code_package.upload(package, store)
    Path(uri.removeprefix("file://")).write_bytes(b"not the package")
    with pytest.raises(ArtifactError, match="corrupt"):
        code_package.fetch(uri, store)


def test_a_package_over_the_limit_names_the_file_and_the_ignore_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(code_package, "MAX_PACKAGE_BYTES", 1000)
    root = _tree(tmp_path / "p", {"a.py": "1\n", "weights.bin": "x" * 2000})
    with pytest.raises(ArtifactError, match=r"weights\.bin") as caught:
        code_package.pack(root)
    assert ".flowymlignore" in str(caught.value)
