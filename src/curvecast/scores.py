"""Scores of probabilistic forecasts."""

from __future__ import annotations

import numpy as np


def crps_samples(draws: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Sample CRPS per column: E|X - y| - E|X - X'| / 2 (sorted-sample formula)."""
    x = np.sort(draws, axis=0)
    m = x.shape[0]
    term1 = np.mean(np.abs(x - y[None, :]), axis=0)
    i = np.arange(1, m + 1)[:, None]
    term2 = np.sum((2 * i - m - 1) * x, axis=0) / (m * m)
    return np.asarray(term1 - term2)
