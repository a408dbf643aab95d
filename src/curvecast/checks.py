"""Model checks: say so when the data contradict the fitted model.

Sampler diagnostics only tell whether NUTS explored the posterior; they are
clean when a family that cannot turn down is fitted to a curve that collapses.
These checks look at the data against the fit:

* **direction**: the metric moves the wrong way as n grows (a loss declared
  increasing, an accuracy declared decreasing);
* **outlier**: an observed point lies outside the central 99.8 % of the
  leave-one-out predictive distribution of a fit to the other points (PSIS,
  no refit) and further from that fit than half the other points'
  range: a failed run at 0.0 in a rising curve;
* **collapse**: such points sit at the largest sizes, below the fit: the curve
  rose and then fell, which no monotone family describes;
* **contradicted** (leave-last-out): the model's first family, refitted without the last
  size and, separately, without the last third of the log-n range, forecasts the
  held-out points; when they lie further than :data:`LLO_RATIO` half-widths of
  its 90 % predictive band from its median (the last point, or the mean over the
  last third), the data contradict the model's extrapolation: a break, a dip,
  a new regime. The forecast's band already widens with the misfit near n_ref;
  the warning says that even so it is not to be trusted.

Each finding is a short dict (``kind``, ``message``, ``points``) that travels
with the fit's diagnostics into every answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from curvecast.data import CurveData
from curvecast.formats import size
from curvecast.results import CurveFit, Forecast

#: a point is flagged when its leave-one-out PIT lies outside [TAIL, 1 - TAIL]
TAIL = 1e-3
#: ... and its distance from the leave-one-out prediction exceeds this share of the other points' range
MIN_JUMP = 0.5
#: held-out points further than this many half-widths of a refit's 90 % band contradict the fit
LLO_RATIO = 2.5
#: rank correlation of the metric with n beyond which the declared direction is contradicted
DIRECTION_RHO = -0.8


def _ranks(v: np.ndarray) -> np.ndarray:
    """Ranks from 0, ties sharing their average rank (a flat stretch has no direction)."""
    _, inverse, counts = np.unique(v, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    return ((ends - counts + ends - 1) / 2)[inverse]


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    ra, rb = _ranks(a), _ranks(b)
    if np.std(ra) == 0 or np.std(rb) == 0:
        return 0.0
    return float(np.corrcoef(ra, rb)[0, 1])


def direction_check(fit: CurveFit) -> list[dict[str, Any]]:
    d = fit.data
    sizes = np.unique(d.n)
    if sizes.size < 4:
        return []
    means = np.array([d.y[d.n == v].mean() for v in sizes])
    rho = d.sign * _spearman(sizes, means)
    if rho > DIRECTION_RHO:
        return []
    declared = "increasing (higher is better)" if d.increasing else "decreasing (lower is better)"
    flag = "--decreasing" if d.increasing else "no --decreasing"
    return [
        {
            "kind": "direction",
            "message": (
                f"the metric moves the wrong way as n grows (rank correlation {d.sign * rho:+.2f} with n) but is "
                f"declared {declared}; check the direction ({flag})"
            ),
            "points": [],
        }
    ]


def loo_pit(fit: CurveFit) -> tuple[np.ndarray, np.ndarray]:
    """For each observed point, under a fit to the other points (PSIS): P(new measurement <= y_i)
    and the predicted curve value."""
    import arviz as az
    from scipy.special import ndtr

    n, y = fit.data.n, fit.data.y
    mu = fit._curve(n[None, :], fit._theta(True))
    sig = fit.sigma_at(n)
    loglik = fit.log_likelihood()
    lw, _k = az.psislw(-loglik.T)  # (points, draws), normalised log weights
    w = np.exp(np.asarray(lw))
    cdf = ndtr((y[None, :] - mu) / sig).T  # (points, draws)
    return np.asarray(np.sum(w * cdf, axis=1)), np.asarray(np.sum(w * mu.T, axis=1))


def point_checks(fit: CurveFit) -> list[dict[str, Any]]:
    d = fit.data
    with np.errstate(all="ignore"):
        pit, pred = loo_pit(fit)
    others = np.array([np.ptp(np.delete(d.y, i)) for i in range(d.y.size)])
    jump = np.abs(d.y - pred) > MIN_JUMP * np.maximum(others, 1e-12)
    bad = np.flatnonzero(((pit < TAIL) | (pit > 1 - TAIL)) & jump)
    if bad.size == 0:
        return []
    below = d.sign * (pit[bad] - 0.5) < 0  # worse than the fit says
    top = np.sort(np.unique(d.n))[-2:]
    points = [[float(d.n[i]), float(d.y[i])] for i in bad]
    shown = ", ".join(f"n={size(p[0])} y={p[1]:.4g}" for p in points)
    if np.all(below) and np.all(np.isin(d.n[bad], top)):
        return [
            {
                "kind": "collapse",
                "message": (
                    f"the curve drops at its largest sizes ({shown}) where the fitted {fit.family.name} cannot turn "
                    "down; the forecast does not describe this curve: check those runs, or fit only the rising part"
                ),
                "points": points,
            }
        ]
    return [
        {
            "kind": "outlier",
            "message": (
                f"{len(points)} point(s) lie outside the 99.8 % predictive interval of a fit to the other points "
                f"({shown}); a failed or mislabelled run? check or drop it"
            ),
            "points": points,
        }
    ]


def model_checks(fit: CurveFit) -> list[dict[str, Any]]:
    """Every way in which the data contradict the fit (empty when none)."""
    return direction_check(fit) + point_checks(fit)


def held_out_sets(data: CurveData) -> list[tuple[str, np.ndarray]]:
    """The leave-last-out splits: (what, rows held out), each leaving at least 3 sizes to fit."""
    sizes = np.unique(data.n)
    out: list[tuple[str, np.ndarray]] = []
    if sizes.size >= 4:
        out.append(("the last size", data.n == sizes[-1]))
    lo, hi = np.log(sizes[0]), np.log(sizes[-1])
    third = np.log(data.n) > hi - (hi - lo) / 3
    if np.unique(data.n[~third]).size >= 3 and np.unique(data.n[third]).size >= 2:
        out.append(("the last third of log n", third))
    return out


def leave_last_out(fit: Forecast, refit: Callable[[CurveData], Forecast], seed: int = 0) -> list[dict[str, Any]]:
    """The **contradicted** check: refit without the last size(s) and score the held-out points."""
    d = fit.data
    for what, held in held_out_sets(d):
        g = refit(d.select(~held))
        q5, q50, q95 = np.quantile(g.measured(d.n[held], seed), [0.05, 0.5, 0.95], axis=0)
        ratio = float(np.mean(np.abs(d.y[held] - q50) / np.maximum((q95 - q5) / 2, 1e-12)))
        if ratio > LLO_RATIO:
            points = [[float(n), float(y)] for n, y in zip(d.n[held], d.y[held], strict=True)]
            return [
                {
                    "kind": "contradicted",
                    "message": (
                        f"a fit without {what} misses it by {ratio:.1f} half-widths of its 90 % band: the curve "
                        "changes course (a break, a dip, a new regime) in a way the model does not describe, and "
                        "its forecast beyond the data is not to be trusted; collect a point further out, or fit "
                        "only the newest regime"
                    ),
                    "points": points,
                    "ratio": ratio,
                }
            ]
    return []
