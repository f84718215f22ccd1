"""The Docker test environment: a real engine, a local registry, a base image, an ssh:// engine.

`.ci/docker.sh` starts everything this module expects (dockerd, a registry on 127.0.0.1:5000,
the base image ``local/python3:bookworm`` made with debootstrap, since there is no Docker Hub
here). Test packages expose the fixtures through their conftest::

    from docker_env import (  # noqa: F401  (pytest fixtures)
        base_image, docker_client, local_registry, ssh_docker_engine, ssh_server,
    )

and mark their tests ``@pytest.mark.docker``. ``docker_env`` is importable from test packages
that have an ``__init__.py`` (pytest then puts ``tests/`` on ``sys.path``). A missing piece
skips the test with a reason that names the missing tool and the command that provides it;
under CI (``CI=true``) it fails instead, because `.ci/run` has just run `.ci/docker.sh` and a
skip there would hide a broken CI.

``ssh_docker_engine`` runs a throwaway sshd on 127.0.0.1 (generated host and client keys, root
login by key only) for the session, and per test points ``HOME`` at a directory whose
``.ssh/config`` and ``.ssh/known_hosts`` let ``docker.DockerClient(base_url=...)`` reach the
engine through it: paramiko, which the docker SDK uses for ``ssh://``, reads only those two files.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REGISTRY = "127.0.0.1:5000"
BASE_IMAGE = "local/python3:bookworm"
_SETUP = "run `bash .ci/docker.sh` (Debian's docker.io, docker-registry, openssh-server)"


def _unavailable(reason: str) -> None:
    """Skip (or fail under CI) because part of the Docker environment is missing."""
    message = f"{reason}; {_SETUP}"
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"CI ran .ci/docker.sh but {message}", pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def docker_client() -> Iterator[Any]:
    """A ``docker.DockerClient`` for the local engine (skipped, saying why, when none answers)."""
    try:
        import docker
    except ImportError:
        _unavailable("the docker SDK is not installed (pip install 'flowyml[docker]')")
    try:
        client = docker.from_env(timeout=120)
        client.ping()
    except Exception as exc:
        _unavailable(f"no Docker engine answers (dockerd not running?): {exc}")
    yield client
    client.close()


@pytest.fixture(scope="session")
def local_registry() -> str:
    """``127.0.0.1:5000``: the registry `.ci/docker.sh` serves (push/pull need no TLS on loopback)."""
    try:
        with urllib.request.urlopen(f"http://{REGISTRY}/v2/", timeout=2) as response:
            response.read()
    except OSError as exc:
        _unavailable(f"no registry answers on {REGISTRY} (docker-registry not running?): {exc}")
    return REGISTRY


def registry_tags(repository: str, registry: str = REGISTRY) -> list[str]:
    """The tags the registry holds for ``repository`` (its HTTP API), ``[]`` when it has none."""
    import json
    import urllib.error

    try:
        url = f"http://{registry}/v2/{repository}/tags/list"
        with urllib.request.urlopen(url, timeout=5) as response:
            return list(json.load(response).get("tags") or [])
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return []
        raise


@pytest.fixture(scope="session")
def base_image(docker_client: Any) -> str:
    """``local/python3:bookworm``: Debian minbase with python3 and python3-venv, no ``python``."""
    import docker

    try:
        docker_client.images.get(BASE_IMAGE)
    except docker.errors.ImageNotFound:
        _unavailable(f"the base image {BASE_IMAGE} is missing (built by debootstrap)")
    return BASE_IMAGE


@dataclass(frozen=True)
class SSHServer:
    """A running throwaway sshd and the client files that reach it."""

    port: int
    home: Path  # a HOME whose .ssh/config and known_hosts reach this server

    @property
    def base_url(self) -> str:
        """The docker SDK's URL of the engine behind this sshd."""
        return f"ssh://root@127.0.0.1:{self.port}"


def _keygen(path: Path) -> None:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)],
        check=True,
        capture_output=True,
    )


def _wait_ssh_banner(port: int, proc: subprocess.Popen[bytes], seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            raise RuntimeError(f"sshd exited with code {proc.returncode}: {err.strip()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                if sock.recv(4).startswith(b"SSH-"):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"sshd did not answer on 127.0.0.1:{port} within {seconds:g} s")


@pytest.fixture(scope="session")
def ssh_server(tmp_path_factory: pytest.TempPathFactory, docker_client: Any) -> Iterator[SSHServer]:
    """A throwaway sshd on 127.0.0.1 for the session (use ``ssh_docker_engine`` in tests)."""
    sshd = shutil.which("sshd") or ("/usr/sbin/sshd" if Path("/usr/sbin/sshd").exists() else None)
    if sshd is None or shutil.which("ssh-keygen") is None:
        _unavailable("sshd or ssh-keygen not found (openssh-server is not installed)")
    if shutil.which("docker") is None:
        # The ssh:// transport runs `docker system dial-stdio` on the remote side.
        _unavailable(
            "the docker CLI is not on PATH (the ssh:// engine runs `docker system dial-stdio`)"
        )
    root = tmp_path_factory.mktemp("sshd")
    host_key, client_key = root / "host_ed25519", root / "client_ed25519"
    _keygen(host_key)
    _keygen(client_key)
    authorized = root / "authorized_keys"
    authorized.write_text(client_key.with_suffix(".pub").read_text())
    port = free_port()
    config = root / "sshd_config"
    config.write_text(
        "\n".join(
            [
                f"Port {port}",
                "ListenAddress 127.0.0.1",
                f"HostKey {host_key}",
                f"AuthorizedKeysFile {authorized}",
                f"PidFile {root / 'sshd.pid'}",
                "PermitRootLogin prohibit-password",
                "PubkeyAuthentication yes",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "UsePAM no",
                "StrictModes no",
                "AllowTcpForwarding yes",
                "",
            ]
        )
    )
    Path("/run/sshd").mkdir(parents=True, exist_ok=True)  # sshd's privilege-separation directory
    proc = subprocess.Popen(
        [sshd, "-D", "-e", "-f", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    home = root / "home"
    ssh_dir = home / ".ssh"
    ssh_dir.mkdir(parents=True)
    ssh_dir.chmod(0o700)
    (ssh_dir / "config").write_text(
        "Host 127.0.0.1\n"
        f"  Port {port}\n"
        "  User root\n"
        f"  IdentityFile {client_key}\n"
        "  StrictHostKeyChecking yes\n"
        f"  UserKnownHostsFile {ssh_dir / 'known_hosts'}\n"
    )
    key_type, key_body = host_key.with_suffix(".pub").read_text().split()[:2]
    (ssh_dir / "known_hosts").write_text(f"[127.0.0.1]:{port} {key_type} {key_body}\n")
    try:
        _wait_ssh_banner(port, proc)
        yield SSHServer(port=port, home=home)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def ssh_docker_engine(ssh_server: SSHServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """``ssh://root@127.0.0.1:PORT``: the local engine reached over SSH; ``HOME`` points at the
    directory whose ``.ssh`` files make that URL work, for this test only."""
    monkeypatch.setenv("HOME", str(ssh_server.home))
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    return ssh_server.base_url
