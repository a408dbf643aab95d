"""Model discrepancy for extrapolation: real curves follow no family exactly.

Beyond the largest observed size ``n_ref`` the true curve is the family's curve
plus a shift that grows with the distance in log n and saturates:

    delta(n) = z * kappa * D * h(L),   L = log(n / n_ref) > 0,
    h(L) = ell * (1 - exp(-L / ell)),  z ~ StudentT(nu, 0, 1) (one z per draw),

where ``D = room^w * spread^(1 - w)`` combines the room left to the metric's
bound at ``n_ref`` and the observed spread (the spread alone for unbounded
metrics). Inside the observed range the shift is zero, so
it does not enter the likelihood: its posterior equals its prior, and it is
drawn once per posterior draw at fit time (seeded) and saved with the fit.

``kappa`` and ``nu`` are set by empirical Bayes on the LCDB dev corpus (see
benchmarks/RESULTS.md); ``kappa = 0`` switches the term off.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
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

    def draw(self, size: int, seed: int) -> np.ndarray:
        rng = np.random.default_rng([seed, 0xD15C])
        return rng.standard_t(self.nu, size)

    def h(self, n: np.ndarray, n_ref: float) -> np.ndarray:
        L = np.maximum(np.log(np.asarray(n, float) / n_ref), 0.0)
        return self.ell * -np.expm1(-L / self.ell)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> Discrepancy:
        return cls(**d) if d else cls(kappa=0.0)


NONE = Discrepancy(kappa=0.0)
