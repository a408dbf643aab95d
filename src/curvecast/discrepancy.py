"""Model discrepancy for extrapolation: real curves follow no family exactly.

Beyond the largest observed size ``n_ref`` the true curve is the family's curve
plus a shift that grows with the distance in log n and saturates:

    delta(n) = z * h(L)^p * sqrt((kappa * D / (m - 2)^q)^2 + (lam * F)^2),
    L = log(n / n_ref) > 0,  h(L) = ell * (1 - exp(-L / ell)),
    z ~ StudentT(nu, 0, 1) (one z per posterior draw).

The scale follows the evidence in each curve:

* ``F`` (``misfit``) is the RMS residual, around the fit's posterior-median
  curve, of the points in the last e-fold of n (``log n >= log n_ref - 1``): how
  far the family misses the points nearest the forecast, noise included. A
  smooth curve the family follows gets a narrow band, a ragged one a wide band;
* ``D = room^w * spread^(1 - w)`` (per draw) combines the room left to the
  metric's bound at ``n_ref`` and the observed spread (the spread alone for
  unbounded metrics). Divided by ``(m - 2)^q``, with ``m`` the number of
  distinct sizes, it is a floor that matters only for curves of 3-5 points,
  where ``F`` is small by construction;
* ``h(L)^p`` with ``p < 1`` grows sub-linearly with the log-distance.

Inside the observed range the shift is zero, so it does not enter the
likelihood: its posterior equals its prior, and ``z`` is drawn once per
posterior draw at fit time (seeded) and saved with the fit. ``F`` and ``m``
are computed at fit time and saved with the term's settings.

The defaults of this class (``lam = 0``, ``power = 1``, ``q = 0``) give the
earlier global form ``z * kappa * D * h(L)`` exactly, which fits saved by
earlier versions use; the calibrated default is
``curvecast.inference.DEFAULT_DISCREPANCY`` (values and their empirical-Bayes
tuning in benchmarks/RESULTS.md). ``kappa = lam = 0`` switches the term off.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Discrepancy:
    kappa: float = 0.10
    nu: float = 2.0
    ell: float = 3.0
    #: D = room^w * spread^(1 - w): the geometric mean of the room left to the
    #: metric's bound and the observed spread (w = 0.5) calibrated best
    w_room: float = 0.5
    #: weight of the misfit F of the points nearest the forecast
    lam: float = 0.0
    #: growth with the log-distance: h(L)^power
    power: float = 1.0
    #: the room floor kappa * D fades as (m - 2)^-q with the number of sizes m
    q: float = 0.0
    #: F of this fit (set at fit time)
    misfit: float = 0.0
    #: m, the number of distinct sizes of this fit (set at fit time; 0: unknown)
    points: int = 0

    @property
    def active(self) -> bool:
        return self.kappa > 0 or self.lam > 0

    def draw(self, size: int, seed: int) -> np.ndarray:
        rng = np.random.default_rng([seed, 0xD15C])
        return rng.standard_t(self.nu, size)

    def h(self, n: np.ndarray, n_ref: float) -> np.ndarray:
        """The growth in log-distance beyond n_ref, ``h(L)^power`` (zero inside the data)."""
        L = np.maximum(np.log(np.asarray(n, float) / n_ref), 0.0)
        return (self.ell * -np.expm1(-L / self.ell)) ** self.power

    def level(self, room: np.ndarray) -> np.ndarray:
        """The scale before growth, per draw: ``sqrt((kappa * D / (m - 2)^q)^2 + (lam * F)^2)``."""
        fade = max(self.points - 2, 1) ** self.q if self.q else 1.0
        return np.hypot(self.kappa * np.asarray(room, float) / fade, self.lam * self.misfit)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> Discrepancy:
        if not d:
            return cls(kappa=0.0)
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


NONE = Discrepancy(kappa=0.0)


def misfit(n: np.ndarray, y: np.ndarray, curve_median: np.ndarray) -> float:
    """F: RMS residual of the points in the last e-fold of n around the posterior-median curve."""
    n, y = np.asarray(n, float), np.asarray(y, float)
    near = np.log(n) >= np.log(n.max()) - 1.0
    return float(np.sqrt(np.mean((y[near] - np.asarray(curve_median, float)[near]) ** 2)))
