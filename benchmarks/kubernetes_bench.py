"""Kubernetes executor benchmarks (registered in ``run.py``), targets from issue 9.

Against kmock (the Kubernetes API emulator) with an in-process stand-in for the cluster that
runs each created Job's step entrypoint in this process at once (no container, no image), so
what is measured is the driver's side:

- Driver overhead per Kubernetes step: a step's recorded duration minus the entrypoint's own
  run (task written, Job created, watched, result read, Job deleted), mean over a 5-step chain:
  <= 50 ms. The stand-in's own reaction time (it lists Jobs every 20 ms) is counted in, so the
  number is an upper bound.
- A 20-step fan-out: seconds from the run's start until the API server has accepted all 20
  Jobs (the driver's creates returned): <= 1 s.
"""

from __future__ import annotations

import asyncio
import socket
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

_PIPELINES = """\
from flowyml import Pipeline, step

@step(cache=False)
def inc(x: int) -> int:
    return x + 1

@step(cache=False)
def leaf(i: int) -> int:
    return i

with Pipeline("k8s_chain", enable_cache=False) as chain:
    inc(inc(inc(inc(inc(0)))))

with Pipeline("k8s_fanout", enable_cache=False) as fanout:
    for i in range(20):
        leaf(i)
"""

NAMES = (
    "kubernetes step driver overhead (create, watch, collect)",
    "20-step fan-out: all Jobs created",
)


def _skipped(reason: str) -> list[dict[str, Any]]:
    return [
        {"name": NAMES[0], "value": float("nan"), "unit": "ms", "target": 50.0, "detail": reason},
        {"name": NAMES[1], "value": float("nan"), "unit": "s", "target": 1.0, "detail": reason},
    ]


class _Api:
    """kmock served from a background event loop."""

    def __init__(self) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        threading.Thread(
            target=lambda: self._loop.run_until_complete(self._main()), daemon=True
        ).start()
        self._ready.wait(20)

    async def _main(self) -> None:
        import kmock

        self._stop = asyncio.Event()
        async with (
            kmock.KubernetesEmulator() as k,
            kmock.Server(k, host="127.0.0.1", port=self.port),
        ):
            k.resources.load_bundled()
            k[kmock.subresource("log")] << b""
            self._ready.set()
            await self._stop.wait()

    def close(self) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)


class _Cluster:
    """Runs each new Job's entrypoint in this process, writing pod and Job status back."""

    def __init__(self, url: str) -> None:
        from kubernetes import client

        configuration = client.Configuration()
        configuration.host = url
        api = client.ApiClient(configuration)
        self.core, self.batch = client.CoreV1Api(api), client.BatchV1Api(api)
        self.seen: dict[str, float] = {}
        self.ran: dict[str, float] = {}
        self._stop = threading.Event()
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self) -> None:
        # Listing and running apart: a Job is "seen" when listed, even while others still run.
        import queue

        todo: queue.Queue[Any] = queue.Queue()

        def runner() -> None:
            while not self._stop.is_set():
                try:
                    job = todo.get(timeout=0.1)
                except queue.Empty:
                    continue
                self._run(job)

        threading.Thread(target=runner, daemon=True).start()
        while not self._stop.is_set():
            for job in self.batch.list_job_for_all_namespaces().items:
                if job.metadata.name not in self.seen:
                    self.seen[job.metadata.name] = time.perf_counter()
                    todo.put(job)
            self._stop.wait(0.02)

    def _run(self, job: Any) -> None:
        from flowyml.runtime.entrypoint import run_task

        raw = self.batch.api_client.sanitize_for_serialization(job)
        template = raw["spec"]["template"]
        ns, name = job.metadata.namespace, job.metadata.name
        pod = {
            "metadata": {
                "name": f"{name}-p",
                "namespace": ns,
                "labels": template["metadata"]["labels"],
            },
            "spec": template["spec"],
        }
        self.core.create_namespaced_pod(ns, pod)
        running = {
            "phase": "Running",
            "containerStatuses": [
                {
                    "name": "step",
                    "image": "x",
                    "imageID": "",
                    "ready": True,
                    "restartCount": 0,
                    "state": {"running": {}},
                }
            ],
        }
        self.core.patch_namespaced_pod_status(f"{name}-p", ns, {"status": running})
        start = time.perf_counter()
        code = run_task(template["spec"]["containers"][0]["command"][-1])
        self.ran[name] = time.perf_counter() - start
        done = {
            "phase": "Succeeded" if code == 0 else "Failed",
            "containerStatuses": [
                {
                    "name": "step",
                    "image": "x",
                    "imageID": "",
                    "ready": False,
                    "restartCount": 0,
                    "state": {"terminated": {"exitCode": code}},
                }
            ],
        }
        self.core.patch_namespaced_pod_status(f"{name}-p", ns, {"status": done})

    def close(self) -> None:
        self._stop.set()


def rows(n: int) -> list[dict[str, Any]]:
    try:
        import kmock  # noqa: F401
        import kubernetes  # noqa: F401
    except ImportError as exc:
        return _skipped(f"{exc.name} is not installed (pip install 'flowyml[dev]')")
    import os

    from flowyml.cli.loader import load_pipeline
    from flowyml.core.outputs import ARTIFACT_URI, NAMESPACE, REGISTRY_URI, StackOutputs
    from flowyml.pipeline.runner import run_pipeline
    from flowyml.runtime import code_package
    from flowyml.runtime.binding import bind_stack, clear_cache
    from flowyml.runtime.executors.kubernetes import KubernetesStrategy
    from flowyml.runtime.submission import Submission
    from flowyml.stacks.k8s import KubernetesStack

    api = _Api()
    cluster = _Cluster(f"http://127.0.0.1:{api.port}")
    old_cwd = os.getcwd()
    try:
        with tempfile.TemporaryDirectory(prefix="flowyml-k8s-bench-") as tmp:
            root = Path(tmp)
            (root / "flowyml.yaml").write_text("stacks: {}\n")
            (root / "bench_pipelines.py").write_text(_PIPELINES)
            os.environ["FLOWYML_PROJECT_DIR"] = str(root)
            os.chdir(root)
            kubeconfig = root / "kubeconfig"
            kubeconfig.write_text(
                f"apiVersion: v1\nkind: Config\nclusters:\n- name: k\n  cluster:\n    server: http://127.0.0.1:{api.port}\n"
                "contexts:\n- name: k\n  context: {cluster: k, user: k}\ncurrent-context: k\nusers:\n- name: k\n  user: {token: x}\n"
            )
            (root / "mnt").mkdir()
            stack = KubernetesStack(
                name="bench",
                namespace="bench",
                kubeconfig=str(kubeconfig),
                mount_path=str(root / "mnt"),
            )
            outputs = StackOutputs(
                "bench",
                {
                    NAMESPACE: "bench",
                    ARTIFACT_URI: "pvc://bench/claim",
                    REGISTRY_URI: "127.0.0.1:5000",
                },
            )
            bound = bind_stack(stack, outputs)
            package = code_package.pack(root)
            bound = bound.with_submission(
                Submission(
                    image="bench/none:0",
                    code_uri=code_package.upload(package, bound.artifact_store),
                    code_root=root,
                )
            )
            overheads: list[float] = []
            for _ in range(max(1, n)):
                result = run_pipeline(load_pipeline("bench_pipelines.py:chain"), bound)
                assert result.ok, result.error
                run = bound.metadata_store.get_run(result.run_id)
                for step in run.steps:
                    ran = cluster.ran.get(step.details.get("job", ""), 0.0)
                    overheads.append((step.duration or 0.0) - ran)
            fanouts: list[float] = []
            created: list[float] = []
            original = KubernetesStrategy._create

            def timed_create(self: Any, *args: Any) -> None:
                original(self, *args)
                created.append(time.perf_counter())  # the API server accepted the Job

            KubernetesStrategy._create = timed_create  # type: ignore[method-assign]
            try:
                for _ in range(max(1, n)):
                    created.clear()
                    start = time.perf_counter()
                    result = run_pipeline(load_pipeline("bench_pipelines.py:fanout"), bound)
                    assert result.ok, result.error
                    assert len(created) == 20
                    fanouts.append(max(created) - start)
            finally:
                KubernetesStrategy._create = original  # type: ignore[method-assign]
            clear_cache()
    finally:
        os.chdir(old_cwd)
        cluster.close()
        api.close()
    return [
        {
            "name": NAMES[0],
            "value": statistics.median(overheads) * 1000,
            "unit": "ms",
            "target": 50.0,
            "detail": f"median of {len(overheads)} steps; max {max(overheads) * 1000:.0f} ms",
        },
        {
            "name": NAMES[1],
            "value": statistics.median(fanouts),
            "unit": "s",
            "target": 1.0,
            "detail": f"{n} run(s) of 20 ready steps",
        },
    ]


if __name__ == "__main__":
    for row in rows(1):
        print(row)
