"""Orchestrators: whole pipelines compiled for and handed to Vertex AI Pipelines, Kubeflow, Airflow.

One module per engine (``vertex``, ``kubeflow``, ``airflow``: the flavor table's runtimes, each
exposing ``create(bound)``), one manifest the compiled artifacts name (``manifest``), the
entrypoint's manifest mode their tasks run (``tasks``), the recorder that turns the tasks'
records into runs (``record``) and the driver that compiles, submits and follows (``driver``).
Engine SDKs (``kfp``, ``google-cloud-aiplatform``) are imported only inside the engine modules.
"""

from __future__ import annotations

__all__: list[str] = []
