"""The guide's hybrid shape on this machine: preprocess and evaluate here, train in a container
on the project's `dock` stack (declared in flowyml.yaml, `kind: docker`)."""

from __future__ import annotations

import os

from flowyml import Pipeline, step


@step
def preprocess() -> list[int]:
    return list(range(10))


@step(stack="dock")
def train(xs: list[int]) -> dict:
    return {"mean": sum(xs) / len(xs), "pid": os.getpid()}


@step
def evaluate(model: dict, xs: list[int]) -> dict:
    return {"score": model["mean"] * len(xs), "pid": os.getpid()}


with Pipeline("hybrid_docker") as hybrid:
    data = preprocess()
    evaluate(train(data), data)
