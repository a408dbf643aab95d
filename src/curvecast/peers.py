"""The point forecasts a careful user would try first, scored beside curvecast on the same curves.

* ``last``: the last observed value (mean of its replicates);
* ``logreg``: least-squares ``a + b * log(n)`` (the seed blog's recommendation);
* ``ls_pow3``, ``ls_pow4``, ``ls_mmf4``, ``ls_wbl4``: least-squares fits of the
  parametric families the LCDB papers found strongest, from several starts
  (the best sum of squares wins; a failed fit falls back to the last value),
  on sizes scaled by the largest observed n, predictions clipped to the
  metric's bounds.

Replicates are averaged per size first. Written for curvecast from the
descriptions in the LCDB papers; it mirrors the peers of the shared benchmark
script so that numbers can be compared.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from curvecast.data import CurveData

Curve = Callable[..., Any]

#: family -> (f(x, *p) with x = n / n_max, starting points)
LS_FAMILIES: dict[str, tuple[Curve, list[tuple[float, ...]]]] = {
    "ls_pow3": (lambda x, a, b, c: a - b * x ** (-c), [(0.9, 1.0, 0.5), (1.0, 0.5, 0.2), (0.8, 2.0, 1.0)]),
    "ls_pow4": (
        lambda x, a, b, c, d: a - b * (d + x) ** (-c),
        [(0.9, 1.0, 0.5, 1.0), (1.0, 0.5, 0.2, 10.0), (0.8, 2.0, 1.0, 0.1)],
    ),
    "ls_mmf4": (
        lambda x, a, b, c, d: (a * b + c * x**d) / (b + x**d),
        [(0.5, 10.0, 0.9, 0.5), (0.3, 100.0, 1.0, 1.0), (0.5, 1.0, 0.8, 0.3)],
    ),
    "ls_wbl4": (
        lambda x, a, b, c, d: c - b * np.exp(-a * x**d),
        [(0.01, 0.5, 0.9, 0.5), (0.1, 1.0, 1.0, 0.3), (0.001, 0.3, 0.9, 1.0)],
    ),
}
PEERS = ("last", "logreg", *LS_FAMILIES)


def _least_squares(f: Curve, starts: list[tuple[float, ...]], x: np.ndarray, y: np.ndarray) -> np.ndarray | None:
    from scipy.optimize import curve_fit

    best: tuple[float, np.ndarray] | None = None
    for p0 in starts:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            try:
                p, _ = curve_fit(f, x, y, p0=p0, maxfev=5000)
            except (RuntimeError, ValueError, TypeError):
                continue
            sse = float(np.sum((f(x, *p) - y) ** 2))
        if np.isfinite(sse) and (best is None or sse < best[0]):
            best = (sse, p)
    return None if best is None else best[1]


def predict_peers(train: CurveData, n: np.ndarray) -> dict[str, np.ndarray]:
    """Each peer's point forecast at sizes ``n`` from the training curve."""
    sizes = np.unique(train.n)
    y = np.array([train.y[train.n == v].mean() for v in sizes])
    last = np.full(n.shape, y[-1])
    out = {"last": last}
    coef = np.linalg.lstsq(np.vstack([np.ones_like(sizes), np.log(sizes)]).T, y, rcond=None)[0]
    out["logreg"] = coef[0] + coef[1] * np.log(n)
    scale = sizes.max()
    for name, (f, starts) in LS_FAMILIES.items():
        p = _least_squares(f, starts, sizes / scale, y)
        with np.errstate(all="ignore"):
            pred = last if p is None else np.asarray(f(n / scale, *p), float)
        out[name] = np.where(np.isfinite(pred), pred, last)
    return {k: train.clip(np.asarray(v, float)) for k, v in out.items()}
