"""Fit results: posterior draws and the queries they answer. NumPy only.

Inference (``curvecast.inference``) produces these objects and persistence
(``curvecast.persist``) reads and writes them; neither is imported here. Every
kind of result offers the same interface, so no caller needs to ask what kind
of fit it holds:

* ``data``, ``diagnostics`` (:class:`~curvecast.diagnostics.Diagnostics`),
  ``settings``, ``label``, ``bounded``, ``idata_``;
* ``components`` (the single-family fits behind the answer: ``[self]`` for a
  :class:`CurveFit`) and ``weights`` (their mixture weights);
* the queries of :class:`Forecast`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from curvecast.data import CurveData, has_bools
from curvecast.diagnostics import ACTIVE_WEIGHT, Diagnostics
from curvecast.discrepancy import Discrepancy
from curvecast.errors import CurvecastError
from curvecast.families import Family, Scale
from curvecast.formats import size
from curvecast.priors import Prior

DEFAULT_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def as_sizes(n: Any) -> np.ndarray:
    if has_bools(n):
        raise CurvecastError("query sizes n must be numbers; found a true/false value")
    arr = np.atleast_1d(np.asarray(n, dtype=float))
    if arr.ndim != 1 or not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise CurvecastError("query sizes n must be finite numbers > 0")
    return arr


def check_prob(p: float, what: str = "prob") -> float:
    if not (0.0 < float(p) < 1.0):
        raise CurvecastError(f"{what} must lie strictly between 0 and 1, got {p}")
    return float(p)


def positive_number(v: Any, flag: str) -> float:
    """``v`` as one finite number > 0, else an error naming ``flag`` (a list or True is no number)."""
    try:
        x = float(v) if np.ndim(v) == 0 and not has_bools(v) else math.nan
    except (TypeError, ValueError):
        x = math.nan
    if not (math.isfinite(x) and x > 0):
        raise CurvecastError(f"{flag} must be a number > 0, got {v!r}")
    return x


def check_query(target: float | None = None, **options: Any) -> Callable[[CurveData], None]:
    """Check a query's options before any sampling (sizes ``at``, ``interval``, ``prob``, ``step``,
    ``from_n``, ``max_n``); returns the check of ``target`` against a curve's bounds, to run once the data
    are read."""
    if options.get("at") is not None:
        as_sizes(options["at"])
    for k in ("interval", "prob"):
        if options.get(k) is not None:
            check_prob(options[k], "--" + k)
    for k, flag in (("step", "--step"), ("from_n", "--from"), ("max_n", "--max-n")):
        if options.get(k) is not None:
            positive_number(options[k], flag)
    return lambda data: None if target is None else data.check_target(target)


def _summarise(v: np.ndarray) -> dict[str, float]:
    return {"median": float(np.median(v)), "q5": float(np.quantile(v, 0.05)), "q95": float(np.quantile(v, 0.95))}


class Forecast:
    """Queries shared by every kind of fit; subclasses give ``latent``, ``sigma_at`` and ``n_star``."""

    data: CurveData
    diagnostics: Diagnostics
    settings: dict[str, Any]
    #: False when the curve has no asymptote under the fitted family/families
    bounded: bool
    components: list[CurveFit]
    weights: np.ndarray
    #: how the components' weights were set: "single", "fixed" or "stacking"
    method: str = "single"

    # -- provided by subclasses ---------------------------------------------
    @property
    def label(self) -> str:
        raise NotImplementedError

    @property
    def idata_(self) -> Any:
        raise NotImplementedError

    def latent(self, n: Any) -> np.ndarray:
        """Draws of the true curve at ``n``: shape (draws, len(n))."""
        raise NotImplementedError

    def sigma_at(self, n: Any) -> np.ndarray:
        """Draws of the evaluation-noise SD at ``n``: (draws, len(n))."""
        raise NotImplementedError

    def n_star(self, target: float) -> np.ndarray:
        """Draws of the n at which the curve first reaches ``target`` (inf: never)."""
        raise NotImplementedError

    def pointwise_logpdf(self, n: Any, y: Any) -> np.ndarray:
        """log p(y | draw) of a new measurement for every draw: (draws, len(n))."""
        raise NotImplementedError

    def summary(self) -> dict[str, dict[str, float]]:
        raise NotImplementedError

    # -- shared -------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        """What was fitted, JSON-ready: the curve, its units, the model, its weights and diagnostics."""
        d = self.data
        out = {"curve": d.name, "family": self.label, "n_points": int(d.n.size), "n_max_observed": d.n_ref}
        out |= {"x_unit": d.x_unit, "y_unit": d.y_unit, "increasing": d.increasing, "notes": list(d.notes)}
        return out | {"weights": self.weights_table(), "diagnostics": self.diagnostics.to_dict()}

    def weights_table(self) -> dict[str, float]:
        """``{family: weight}`` of the components behind the answer."""
        return {c.family.name: float(w) for c, w in zip(self.components, self.weights, strict=True)}

    def measured(self, n: Any, seed: int = 0) -> np.ndarray:
        """Draws of a new evaluation at ``n``: the curve plus evaluation noise."""
        lat = self.latent(n)
        rng = np.random.default_rng(seed)
        out = lat + self.sigma_at(n) * rng.standard_normal(lat.shape)
        return self.data.clip(out)

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

        n = as_sizes(n)
        draws = self.measured(n, seed) if measured else self.latent(n)
        q = np.quantile(draws, quantiles, axis=0)
        df = pd.DataFrame({"n": n})
        for qi, row in zip(quantiles, q, strict=True):
            df[f"q{qi * 100:g}"] = row
        return df

    def predict(self, n: Any, interval: float = 0.9, seed: int = 0) -> Any:
        """Median and central interval at each ``n``, latent and measured (Prophet-style columns)."""
        import pandas as pd

        check_prob(interval, "interval")
        n = as_sizes(n)
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
        n = as_sizes(at)
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
        over the draws in which the target is reached at all; see ``p_never``)
        with its median, ``median_cost_if_reached``: the mean is dominated by
        draws that creep up to the target at absurd sizes, the median is not.
        """
        if cost_per_sample is not None and not (np.isfinite(cost_per_sample) and cost_per_sample >= 0):
            raise CurvecastError(f"cost per sample must be a number >= 0, got {cost_per_sample}")
        self.data.check_target(target)
        check_prob(prob)
        check_prob(interval, "interval")
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
        d = self.data
        first = d.y[d.n == d.n.min()]
        if np.all(d.sign * (first - target) >= 0):  # met already at the smallest size measured
            out["note"] = (
                f"every measurement at the smallest size ({size(d.n.min())}) already meets {target:g}: the sizes "
                "below it are the curve extrapolated backwards; is the target on the metric's scale "
                "(a fraction vs a percentage)?"
            )
        if cost_per_sample is not None:
            extra = max(n_needed - self.data.n_ref, 0.0)
            reached = np.isfinite(ns)
            beyond = np.maximum(ns[reached] - self.data.n_ref, 0.0)
            out |= {
                "cost_per_sample": float(cost_per_sample),
                "extra_samples": extra,
                "cost_at_prob": extra * cost_per_sample,
                "expected_cost_if_reached": float(beyond.mean() * cost_per_sample) if reached.any() else math.inf,
                "median_cost_if_reached": float(np.median(beyond) * cost_per_sample) if reached.any() else math.inf,
            }
        return out

    def gain(self, step: float, from_n: float | None = None, interval: float = 0.9) -> dict[str, Any]:
        """Improvement (in the metric's good direction) from ``from_n`` to ``from_n + step``."""
        check_query(step=step, from_n=from_n, interval=interval)
        step, n0 = float(step), self.data.n_ref if from_n is None else float(from_n)
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


class CurveFit(Forecast):
    """A posterior over one family's curves.

    ``params_`` holds the draws (chains concatenated) of the family's parameters,
    the noise (``sigma``, with replicates ``gamma``) and the model-discrepancy
    draws ``disc_z``; ``idata_`` is the sampler's ArviZ ``InferenceData``.
    """

    def __init__(
        self,
        family: type[Family],
        data: CurveData,
        priors: dict[str, Prior],
        params: dict[str, np.ndarray],
        diagnostics: Diagnostics,
        settings: dict[str, Any],
        idata: Any = None,
        load_idata: Any = None,
    ) -> None:
        self.family = family
        self.data = data
        self.priors = priors
        self.params_ = {k: np.asarray(v, float).reshape(-1) for k, v in params.items()}
        self.diagnostics = diagnostics
        self.settings = settings
        self.bounded = family.bounded
        self.components = [self]
        self.weights = np.ones(1)
        self._idata = idata
        self._load_idata = load_idata

    @property
    def idata_(self) -> Any:
        """ArviZ InferenceData: posterior (chains x draws), sample_stats, observed_data."""
        if self._idata is None and self._load_idata is not None:
            self._idata = self._load_idata()
        return self._idata

    @property
    def label(self) -> str:
        return self.family.name

    @property
    def scale(self) -> Scale:
        d = self.data
        return Scale(n_ref=d.n_ref, sign=d.sign, best=d.best_bound, worst=d.worst_bound)

    @property
    def n_draws(self) -> int:
        return int(self.params_["sigma"].size)

    @property
    def discrepancy(self) -> Discrepancy:
        return Discrepancy.from_dict(self.settings.get("discrepancy"))

    def _theta(self, extra_dim: bool) -> dict[str, np.ndarray]:
        return {k: (v[:, None] if extra_dim else v) for k, v in self.params_.items()}

    def _curve(self, n: np.ndarray, theta: dict[str, np.ndarray]) -> np.ndarray:
        with np.errstate(all="ignore"):
            return np.asarray(self.family.mean(n, theta, self.scale), float)

    def _has_shift(self) -> bool:
        return self.discrepancy.active and "disc_z" in self.params_

    def _room(self) -> np.ndarray:
        """D: room to the metric's bound at n_ref per draw (observed spread if unbounded)."""
        best = self.data.best_bound
        spread = self.data.symbols()["y_spread"]
        if best is None:
            return np.full(self.n_draws, spread)
        room = np.abs(best - self._curve(np.asarray(self.data.n_ref), self._theta(False)))
        w = self.discrepancy.w_room
        return np.asarray(room**w * spread ** (1.0 - w))

    def _shift_scale(self, n: np.ndarray) -> np.ndarray:
        """The discrepancy's scale s(n) per draw, without the draw's z: (draws, len(n))."""
        disc = self.discrepancy
        return disc.level(self._room())[:, None] * disc.h(n, self.data.n_ref)[None, :]

    def latent(self, n: Any) -> np.ndarray:
        """Draws of the true curve at ``n``: the family's curve plus model discrepancy."""
        n = np.atleast_1d(np.asarray(n, float))
        base = np.broadcast_to(self._curve(n[None, :], self._theta(True)), (self.n_draws, n.size))
        if self._has_shift():
            base = base + self.params_["disc_z"][:, None] * self._shift_scale(n)
        return self.data.clip(base)

    def sigma_at(self, n: Any) -> np.ndarray:
        """Noise SD at ``n``; with replicates it shrinks as n grows, held constant beyond n_ref."""
        n = np.atleast_1d(np.asarray(n, float))
        sigma = self.params_["sigma"][:, None]
        if "gamma" not in self.params_:
            return np.broadcast_to(sigma, (self.n_draws, n.size))
        x = np.minimum(n / self.data.n_ref, 1.0)
        return np.asarray(sigma * x[None, :] ** (-self.params_["gamma"][:, None]))

    def pointwise_logpdf(self, n: Any, y: Any) -> np.ndarray:
        """log p(y | draw), integrating the discrepancy shift analytically per draw.

        Given a draw, a new measurement is curve + z * s(n) + noise with
        z ~ t_nu; it is approximated by a t_nu density with scale
        sqrt(s(n)^2 + sigma^2), which avoids the Monte Carlo noise of a
        mixture whose components are much narrower than its spread. Without
        the discrepancy term it is the normal density of the noise.
        """
        n = np.atleast_1d(np.asarray(n, float))
        base = np.broadcast_to(self._curve(n[None, :], self._theta(True)), (self.n_draws, n.size))
        yy = np.asarray(y, float)[None, :]
        sig = self.sigma_at(n)
        if not self._has_shift():
            return np.asarray(-0.5 * ((yy - base) / sig) ** 2 - np.log(sig) - 0.5 * math.log(2 * math.pi))
        nu = self.discrepancy.nu
        scale = np.sqrt(self._shift_scale(n) ** 2 + sig**2)
        z = (yy - base) / scale
        const = math.lgamma((nu + 1) / 2) - math.lgamma(nu / 2) - 0.5 * math.log(nu * math.pi)
        return np.asarray(const - np.log(scale) - (nu + 1) / 2 * np.log1p(z**2 / nu))

    def log_likelihood(self) -> np.ndarray:
        """The model's log-likelihood of each observed point for every draw: (draws, points)."""
        n, y = self.data.n, self.data.y
        mu = self._curve(n[None, :], self._theta(True))
        sig = self.sigma_at(n)
        return np.asarray(-0.5 * ((y[None, :] - mu) / sig) ** 2 - np.log(sig) - 0.5 * math.log(2 * math.pi))

    def n_star(self, target: float) -> np.ndarray:
        """First n at which the curve (with discrepancy) reaches ``target``; inf if never."""
        with np.errstate(all="ignore"):
            ns = np.asarray(self.family.inverse(float(target), self._theta(False), self.scale), float)
        if not self._has_shift():
            return ns
        todo = ~(ns <= self.data.n_ref)  # the shift is zero up to n_ref
        if not todo.any():
            return ns
        s = self.data.sign
        grid = self.data.n_ref * np.exp(np.linspace(0.0, 40.0, 801))
        good = s * (self.latent(grid)[todo] - target) >= 0
        first = np.argmax(good, axis=1)
        found = good.any(axis=1)
        lo = np.log(grid[np.maximum(first - 1, 0)])
        hi = np.log(grid[first])
        theta = {k: v[todo] for k, v in self.params_.items()}
        disc = self.discrepancy
        scale = theta["disc_z"] * disc.level(self._room()[todo])
        for _ in range(30):  # bisection inside the bracketing grid cell, one n per draw
            mid = 0.5 * (lo + hi)
            curve = self.data.clip(self._curve(np.exp(mid), theta) + scale * disc.h(np.exp(mid), self.data.n_ref))
            reached = s * (curve - target) >= 0
            hi = np.where(reached, mid, hi)
            lo = np.where(reached, lo, mid)
        out = ns.copy()
        out[todo] = np.where(found, np.exp(hi), np.inf)
        return out

    def asymptote(self) -> np.ndarray | None:
        a = self.family.asymptote(self._theta(False), self.scale)
        return None if a is None else np.asarray(a, float)

    def summary(self) -> dict[str, dict[str, float]]:
        """Posterior medians and 90 % intervals of the parameters (and the asymptote)."""
        rows = {k: v for k, v in self.params_.items() if k != "disc_z"}
        a = self.asymptote()
        if a is not None:
            rows["asymptote"] = a
        return {k: _summarise(v) for k, v in rows.items()}

    def __repr__(self) -> str:
        d = self.diagnostics
        return (
            f"CurveFit(family={self.family.name!r}, curve={self.data.name!r}, n_points={self.data.n.size}, "
            f"draws={self.n_draws}, divergences={d.divergences}, rhat_max={d.rhat_max:.3f})"
        )


class AveragedFit(Forecast):
    """A weighted mixture of :class:`CurveFit` posteriors: fixed weights (``family="pow3+pow4"``)
    or stacking weights (``family="auto"``).

    ``idata_`` is a dict ``{family: InferenceData}``, the form ``az.compare`` takes.
    """

    def __init__(
        self, components: list[CurveFit], weights: Any, n_draws: int | None = None, method: str = "stacking"
    ) -> None:
        if not components:
            raise CurvecastError("model averaging needs at least one fitted family")
        self.components = list(components)
        self.weights = np.asarray(weights, float)
        #: how the weights were set: "stacking" (PSIS-LOO, ``auto``) or "fixed" (a mixture such as pow3+pow4)
        self.method = method
        self.data = components[0].data
        self.settings = components[0].settings
        active = [c for c, w in zip(components, self.weights, strict=True) if w > ACTIVE_WEIGHT]
        self.bounded = all(c.bounded for c in active)
        self.diagnostics = Diagnostics.combine({c.family.name: c.diagnostics for c in components}, self.weights_table())
        # a fixed mixture's families share one fit's draws: keep them all; stacking resamples to one fit's count
        total = n_draws or (sum(c.n_draws for c in components) if method == "fixed" else components[0].n_draws)
        counts = np.floor(self.weights * total).astype(int)
        counts[np.argmax(self.weights)] += total - counts.sum()
        # evenly spaced draws from each component, so every chain contributes
        self._index = [
            np.linspace(0, c.n_draws - 1, k).round().astype(int) if k > 0 else np.zeros(0, int)
            for c, k in zip(components, counts, strict=True)
        ]

    @property
    def idata_(self) -> dict[str, Any]:
        return {c.family.name: c.idata_ for c in self.components}

    @property
    def label(self) -> str:
        if self.method == "fixed":
            return "+".join(self.weights_table())
        shown = [f"{k} {w:.2f}" for k, w in self.weights_table().items() if w > 0.005]
        return "auto(" + ", ".join(shown) + ")"

    def _stack(self, per_component: list[np.ndarray]) -> np.ndarray:
        return np.concatenate([a[idx] for a, idx in zip(per_component, self._index, strict=True)], axis=0)

    def latent(self, n: Any) -> np.ndarray:
        return self._stack([c.latent(n) for c in self.components])

    def sigma_at(self, n: Any) -> np.ndarray:
        return self._stack([c.sigma_at(n) for c in self.components])

    def pointwise_logpdf(self, n: Any, y: Any) -> np.ndarray:
        return self._stack([c.pointwise_logpdf(n, y) for c in self.components])

    def n_star(self, target: float) -> np.ndarray:
        return self._stack([c.n_star(target) for c in self.components])

    def __repr__(self) -> str:
        d, parts = self.diagnostics, ", ".join(f"{k}: {w:.2f}" for k, w in self.weights_table().items())
        return (
            f"AveragedFit(families={{{parts}}}, weighting={self.method!r}, curve={self.data.name!r}, "
            f"n_points={self.data.n.size}, divergences={d.divergences}, rhat_max={d.rhat_max:.3f})"
        )

    def summary(self) -> dict[str, dict[str, float]]:
        weights = {k: round(v, 6) for k, v in self.weights_table().items()}  # 1.7e-16 of stacking is 0
        out = {f"weight[{k}]": {"median": v, "q5": v, "q95": v} for k, v in weights.items()}
        for c in self.components:
            for k, v in c.summary().items():
                out[f"{c.family.name}.{k}"] = v
        return out


class PooledFit:
    """Per-curve fits from one joint posterior with partial pooling, plus its hyper-posterior.

    ``fits`` maps each curve's name to a :class:`CurveFit`; ``hyper_`` holds the
    draws of the pooled location and scale of each rate and shape parameter
    (log scale for positive parameters, logit scale for fractions).
    """

    def __init__(
        self,
        family: type[Family],
        fits: dict[str, CurveFit],
        hyper: dict[str, np.ndarray],
        diagnostics: Diagnostics,
        settings: dict[str, Any],
        idata: Any = None,
    ) -> None:
        self.family = family
        self.fits = fits
        self.hyper_ = hyper
        self.diagnostics = diagnostics
        self.settings = settings
        self.idata_ = idata

    @property
    def label(self) -> str:
        return f"{self.family.name} (pooled over {len(self.fits)} curves)"

    def hyper_summary(self) -> dict[str, dict[str, float]]:
        """Medians and 90 % intervals of the hyper-parameters (on the log / logit scale)."""
        return {k: _summarise(v) for k, v in self.hyper_.items()}
