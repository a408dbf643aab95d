"""Posterior queries shared by every kind of fit: bands, P(reach), data needed, gain.

All queries are vectorised over posterior draws. A subclass provides the draws
of the latent curve, of the noise scale and of the n needed for a target.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from curvecast.data import CurveData
from curvecast.errors import CurvecastError

DEFAULT_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def _as_n(n: Any) -> np.ndarray:
    arr = np.atleast_1d(np.asarray(n, dtype=float))
    if arr.ndim != 1 or not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise CurvecastError("query sizes n must be finite numbers > 0")
    return arr


def _check_prob(p: float, what: str = "prob") -> float:
    if not (0.0 < float(p) < 1.0):
        raise CurvecastError(f"{what} must lie strictly between 0 and 1, got {p}")
    return float(p)


class Forecast:
    """Query interface. Subclasses implement ``latent``, ``sigma_draws`` and ``n_star``."""

    data: CurveData
    diagnostics: dict[str, Any]
    #: False when the curve has no asymptote under the fitted family/families
    bounded: bool

    # -- provided by subclasses ---------------------------------------------
    def latent(self, n: Any) -> np.ndarray:
        """Draws of the true curve at ``n``: shape (draws, len(n))."""
        raise NotImplementedError

    def sigma_draws(self) -> np.ndarray:
        raise NotImplementedError

    def sigma_at(self, n: Any) -> np.ndarray:
        """Draws of the evaluation-noise SD at ``n``: (draws, len(n))."""
        n = np.atleast_1d(np.asarray(n, float))
        return np.broadcast_to(self.sigma_draws()[:, None], (self.sigma_draws().size, n.size))

    def n_star(self, target: float) -> np.ndarray:
        """Draws of the n at which the curve first reaches ``target`` (inf: never)."""
        raise NotImplementedError

    def save(self, path: str) -> None:
        """Write the fit to a netCDF file (atomically); read it back with ``curvecast.load``."""
        from curvecast.persist import save_fit

        save_fit(self, path)

    # -- shared queries -----------------------------------------------------
    def measured(self, n: Any, seed: int = 0) -> np.ndarray:
        """Draws of a new evaluation at ``n``: the curve plus evaluation noise."""
        lat = self.latent(n)
        rng = np.random.default_rng(seed)
        out = lat + self.sigma_at(n) * rng.standard_normal(lat.shape)
        lo, hi = self.data.metric_min, self.data.metric_max
        return np.clip(out, -np.inf if lo is None else lo, np.inf if hi is None else hi)

    def pointwise_logpdf(self, n: Any, y: Any) -> np.ndarray:
        """log p(y | draw) of a new measurement for every draw: (draws, len(n))."""
        lat = self.latent(n)
        sig = self.sigma_at(n)
        yy = np.asarray(y, float)[None, :]
        return np.asarray(-0.5 * ((yy - lat) / sig) ** 2 - np.log(sig) - 0.5 * np.log(2 * np.pi))

    def log_predictive_density(self, n: Any, y: Any) -> np.ndarray:
        """log of the posterior predictive density of measurements ``y`` at ``n`` (one per point)."""
        lp = self.pointwise_logpdf(n, y)
        mx = lp.max(axis=0)
        return np.asarray(mx + np.log(np.mean(np.exp(lp - mx), axis=0)))

    def bands(
        self, n: Any, quantiles: tuple[float, ...] = DEFAULT_QUANTILES, measured: bool = False, seed: int = 0
    ) -> Any:
        """Quantiles of the curve (or of a new measurement) at each ``n`` as a DataFrame."""
        import pandas as pd

        n = _as_n(n)
        draws = self.measured(n, seed) if measured else self.latent(n)
        q = np.quantile(draws, quantiles, axis=0)
        df = pd.DataFrame({"n": n})
        for qi, row in zip(quantiles, q, strict=True):
            df[f"q{qi * 100:g}"] = row
        return df

    def predict(self, n: Any, interval: float = 0.9, seed: int = 0) -> Any:
        """Median and central interval at each ``n``, latent and measured (Prophet-style columns)."""
        import pandas as pd

        _check_prob(interval, "interval")
        n = _as_n(n)
        lo, hi = (1 - interval) / 2, 1 - (1 - interval) / 2
        lat = np.quantile(self.latent(n), [lo, 0.5, hi], axis=0)
        mea = np.quantile(self.measured(n, seed), [lo, hi], axis=0)
        return pd.DataFrame(
            {
                "n": n,
                "median": lat[1],
                "lower": lat[0],
                "upper": lat[2],
                "measured_lower": mea[0],
                "measured_upper": mea[1],
            }
        )

    def prob(self, target: float, at: Any, measured: bool = False, seed: int = 0) -> np.ndarray:
        """P(metric >= target at n) (``<=`` for decreasing metrics), one per ``at``."""
        self.data.check_target(target)
        n = _as_n(at)
        draws = self.measured(n, seed) if measured else self.latent(n)
        return np.mean(self.data.sign * (draws - target) >= 0, axis=0)

    def need(
        self, target: float, prob: float = 0.8, interval: float = 0.9, cost_per_sample: float | None = None
    ) -> dict[str, Any]:
        """The data needed to reach ``target``.

        Returns the n at which P(reached) first exceeds ``prob`` (``inf`` when
        the target is never reached with that probability), a credible
        interval for the n at which the curve crosses the target, the
        probability that it never does (the asymptote falls short) and the
        probability that it already has at the largest observed n.

        With ``cost_per_sample``: ``extra_samples`` and ``cost_at_prob`` (the
        budget beyond the current data that reaches the target with
        probability ``prob``; inf if it never does) and
        ``expected_cost_if_reached`` (the posterior mean cost of the extra data
        over the draws in which the target is reached at all; see ``p_never``).
        """
        if cost_per_sample is not None and not (np.isfinite(cost_per_sample) and cost_per_sample >= 0):
            raise CurvecastError(f"cost per sample must be a number >= 0, got {cost_per_sample}")
        self.data.check_target(target)
        _check_prob(prob)
        _check_prob(interval, "interval")
        ns = self.n_star(target)
        ns = np.where(np.isnan(ns), np.inf, ns)
        # inverted-CDF quantiles: the smallest n with P(n* <= n) >= q; inf-safe
        lo, hi = np.quantile(ns, [(1 - interval) / 2, 1 - (1 - interval) / 2], method="inverted_cdf")
        n_needed = float(np.quantile(ns, prob, method="inverted_cdf"))
        out: dict[str, Any] = {
            "target": float(target),
            "prob": prob,
            "n_needed": n_needed,
            "interval": [float(lo), float(hi)],
            "interval_level": interval,
            "n_median": float(np.quantile(ns, 0.5, method="inverted_cdf")),
            "p_never": float(np.mean(np.isinf(ns))),
            "p_reached_now": float(np.mean(ns <= self.data.n_ref)),
            "n_current": self.data.n_ref,
            "bounded": self.bounded,
        }
        if cost_per_sample is not None:
            extra = max(n_needed - self.data.n_ref, 0.0)
            reached = np.isfinite(ns)
            beyond = np.maximum(ns[reached] - self.data.n_ref, 0.0)
            out |= {
                "cost_per_sample": float(cost_per_sample),
                "extra_samples": extra,
                "cost_at_prob": extra * cost_per_sample,
                "expected_cost_if_reached": float(beyond.mean() * cost_per_sample) if reached.any() else float("inf"),
            }
        return out

    def gain(self, step: float, from_n: float | None = None, interval: float = 0.9) -> dict[str, Any]:
        """Improvement (in the metric's good direction) from ``from_n`` to ``from_n + step``."""
        _check_prob(interval, "interval")
        if not np.isfinite(step) or step <= 0:
            raise CurvecastError(f"step must be a number > 0, got {step}")
        n0 = float(from_n) if from_n is not None else self.data.n_ref
        lat = self.latent([n0, n0 + step])
        d = self.data.sign * (lat[:, 1] - lat[:, 0])
        lo, hi = np.quantile(d, [(1 - interval) / 2, 1 - (1 - interval) / 2])
        return {
            "from_n": n0,
            "to_n": n0 + step,
            "step": float(step),
            "mean": float(d.mean()),
            "median": float(np.median(d)),
            "interval": [float(lo), float(hi)],
            "interval_level": interval,
            "per_1000": float(d.mean() / step * 1000),
        }
