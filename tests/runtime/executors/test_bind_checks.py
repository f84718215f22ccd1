"""What a remote executor cannot run is refused by the run facade in one line, before any image
is built or any step runs, and nothing is recorded."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowyml import Pipeline, step
from flowyml.runtime.binding import bind_stack, clear_cache
from flowyml.runtime.errors import BindingError
from flowyml.stacks import Stack
from flowyml.stacks.components import KubernetesExecutor, SQLiteMetadataStore, VertexAIExecutor

RAN: list[str] = []


@step
def mark() -> int:
    RAN.append("mark")
    return 1


def _stack(tmp_path: Path, executor: object) -> Stack:
    return Stack(
        "remote-ish",
        executor=executor,  # type: ignore[arg-type]
        artifact_store={"kind": "local", "path": str(tmp_path / "artifacts")},
        metadata_store=SQLiteMetadataStore(path=str(tmp_path / "metadata.db")),
    )


@pytest.fixture(autouse=True)
def _fresh() -> object:
    RAN.clear()
    yield
    clear_cache()


@pytest.mark.parametrize(
    ("executor", "said"),
    [
        (VertexAIExecutor(project_id="my-project"), "which Vertex AI's machines cannot reach"),
        (KubernetesExecutor(), "cannot load the cluster from the default kubeconfig"),
    ],
    ids=["vertex-with-a-local-store", "kubernetes-without-a-cluster"],
)
def test_refused_before_any_build_and_nothing_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, executor: object, said: str
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-such-kubeconfig"))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    stack = _stack(tmp_path, executor)
    with Pipeline("refused_remote") as p:
        mark()
    with pytest.raises(BindingError) as caught:
        p.run(stack=stack)
    message = str(caught.value)
    assert said in message and "\n" not in message and "To fix" in message
    assert RAN == []
    assert bind_stack(stack).metadata_store.list_runs() == []
