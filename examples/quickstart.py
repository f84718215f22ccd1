"""Quickstart: a small classifier pipeline, stdlib only, runnable anywhere.

    flowyml run examples/quickstart.py                    # on the default (local) stack
    flowyml run examples/quickstart.py --param epochs=50  # parameters by name
    python examples/quickstart.py                         # same thing, from Python

load_data -> split -> train -> evaluate: a logistic regression trained by gradient descent on
a synthetic two-cluster dataset. Run it twice: the second run is served from the cache until
you change a parameter or a step's code.
"""

from __future__ import annotations

import math
import random

from flowyml import pipeline, step

Row = tuple[float, float, int]


@step
def load_data(n: int = 400, seed: int = 7) -> list[Row]:
    """Two noisy clusters in the plane, labelled 0 and 1."""
    rng = random.Random(seed)
    rows: list[Row] = []
    for i in range(n):
        label = i % 2
        cx, cy = (1.5, 1.0) if label else (-1.0, -1.5)
        rows.append((rng.gauss(cx, 1.0), rng.gauss(cy, 1.0), label))
    return rows


@step
def split(rows: list[Row], test_fraction: float = 0.25) -> tuple[list[Row], list[Row]]:
    """A deterministic shuffle, then train / test."""
    shuffled = sorted(rows, key=lambda r: hash((round(r[0], 6), round(r[1], 6))))
    cut = int(len(shuffled) * (1 - test_fraction))
    return shuffled[:cut], shuffled[cut:]


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def _predict(weights: dict[str, float], x: float, y: float) -> float:
    return _sigmoid(weights["w0"] * x + weights["w1"] * y + weights["b"])


@step
def train(rows: list[Row], epochs: int = 20, lr: float = 0.1) -> dict[str, float]:
    """Batch gradient descent on the log loss."""
    w = {"w0": 0.0, "w1": 0.0, "b": 0.0}
    for _ in range(epochs):
        g0 = g1 = gb = 0.0
        for x, y, label in rows:
            err = _predict(w, x, y) - label
            g0, g1, gb = g0 + err * x, g1 + err * y, gb + err
        w["w0"] -= lr * g0 / len(rows)
        w["w1"] -= lr * g1 / len(rows)
        w["b"] -= lr * gb / len(rows)
    return w


@step
def evaluate(weights: dict[str, float], rows: list[Row]) -> dict[str, float]:
    """Accuracy and mean log loss on held-out rows."""
    correct, loss = 0, 0.0
    for x, y, label in rows:
        p = _predict(weights, x, y)
        correct += int((p >= 0.5) == bool(label))
        p = min(max(p, 1e-12), 1 - 1e-12)
        loss -= label * math.log(p) + (1 - label) * math.log(1 - p)
    return {"accuracy": correct / len(rows), "log_loss": loss / len(rows)}


@pipeline
def quickstart(epochs: int = 20, lr: float = 0.5, n: int = 400) -> None:
    """Load, split, train and evaluate."""
    train_rows, test_rows = split(load_data(n=n))
    evaluate(train(train_rows, epochs=epochs, lr=lr), test_rows)


if __name__ == "__main__":
    result = quickstart.run()
    print(f"run {result.run_id}: {result.status}; cached: {', '.join(result.cached) or 'none'}")
    print("metrics:", result["evaluate"])
