"""A training pipeline as ML work looks: pandas data, numpy model, parameters, caching, metrics.

    pip install -e ".[data]"                                  # numpy, pandas, pyarrow
    flowyml run examples/training.py                          # on the default (local) stack
    flowyml run examples/training.py --param alpha=10         # only train and evaluate rerun
    flowyml runs show <run-id>                                # the metrics, inline
    flowyml runs compare <run-1> <run-2>                      # parameters and metrics side by side
    flowyml artifacts show <run-id> load                      # the DataFrame's head

load -> split -> train -> evaluate: ridge regression on a synthetic house-price table (the data
are generated from a seed, so runs are reproducible). `load` and `split` depend only on `rows`,
`seed` and `test_fraction`: changing `alpha` reuses their cached outputs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from flowyml import pipeline, step

FEATURES = ["area_m2", "rooms", "age_years", "distance_km"]


@step
def load(rows: int = 2000, seed: int = 0) -> pd.DataFrame:
    """A house-price table: four features and a price with noise."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "area_m2": rng.uniform(30, 250, rows),
            "rooms": rng.integers(1, 8, rows).astype(float),
            "age_years": rng.uniform(0, 80, rows),
            "distance_km": rng.exponential(8, rows),
        }
    )
    frame["price_k"] = (
        2.1 * frame["area_m2"]
        + 12 * frame["rooms"]
        - 0.8 * frame["age_years"]
        - 4.5 * frame["distance_km"]
        + rng.normal(0, 25, rows)
    )
    return frame


@step
def split(
    frame: pd.DataFrame, test_fraction: float = 0.2, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A seeded shuffle, then train / test."""
    shuffled = frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    cut = int(len(shuffled) * (1 - test_fraction))
    return shuffled.iloc[:cut].reset_index(drop=True), shuffled.iloc[cut:].reset_index(drop=True)


@step
def train(frame: pd.DataFrame, alpha: float = 1.0) -> np.ndarray:
    """Ridge regression (closed form) on standardised features; returns [bias, weights...]."""
    x = frame[FEATURES].to_numpy()
    mean, std = x.mean(axis=0), x.std(axis=0)
    z = np.hstack([np.ones((len(x), 1)), (x - mean) / std])
    penalty = alpha * np.eye(z.shape[1])
    penalty[0, 0] = 0.0  # the bias is not shrunk
    weights = np.linalg.solve(z.T @ z + penalty, z.T @ frame["price_k"].to_numpy())
    return np.concatenate([weights, mean, std])


@step
def evaluate(model: np.ndarray, frame: pd.DataFrame) -> dict[str, float]:
    """RMSE and R² on held-out rows (what `runs show` prints and `runs compare` lines up)."""
    k = len(FEATURES)
    weights, mean, std = model[: k + 1], model[k + 1 : 2 * k + 1], model[2 * k + 1 :]
    x = (frame[FEATURES].to_numpy() - mean) / std
    predicted = weights[0] + x @ weights[1:]
    actual = frame["price_k"].to_numpy()
    residual = actual - predicted
    rmse = float(np.sqrt(np.mean(residual**2)))
    r2 = float(1 - np.sum(residual**2) / np.sum((actual - actual.mean()) ** 2))
    return {"rmse": round(rmse, 3), "r2": round(r2, 4), "test_rows": float(len(frame))}


@pipeline
def training(
    rows: int = 2000, seed: int = 0, test_fraction: float = 0.2, alpha: float = 1.0
) -> None:
    """Load, split, train and evaluate."""
    train_rows, test_rows = split(
        load(rows=rows, seed=seed), test_fraction=test_fraction, seed=seed
    )
    evaluate(train(train_rows, alpha=alpha), test_rows)


if __name__ == "__main__":
    result = training.run()
    print(f"run {result.run_id}: {result.status}; cached: {', '.join(result.cached) or 'none'}")
    print("metrics:", result["evaluate"])
