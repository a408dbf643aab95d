"""Fit one curve family with NUTS and keep everything needed to answer queries."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from curvecast.data import CurveData
from curvecast.discrepancy import NONE as NO_DISCREPANCY
from curvecast.discrepancy import Discrepancy
from curvecast.errors import CurvecastError, DiagnosticsWarning
from curvecast.families import Family, Scale, get_family
from curvecast.forecast import Forecast
from curvecast.priors import Prior, PriorSet

#: the calibrated default discrepancy (see benchmarks/RESULTS.md)
DEFAULT_DISCREPANCY = Discrepancy()

#: thresholds a fit must meet to count as healthy
RHAT_MAX = 1.01
ESS_MIN = 400
#: a fit with divergent transitions is sampled again with this smaller step-size target
RETRY_TARGET_ACCEPT = 0.99


def diagnose(idata: Any, var_names: list[str]) -> dict[str, Any]:
    """Divergences, max r-hat and min bulk/tail ESS over the free parameters."""
    import arviz as az

    post = idata.posterior[var_names]
    rhat = az.rhat(post)
    ess_b = az.ess(post, method="bulk")
    ess_t = az.ess(post, method="tail")
    div = int(np.asarray(idata.sample_stats["diverging"]).sum())
    rhat_max = float(max(float(rhat[v].max()) for v in var_names))
    out: dict[str, Any] = {
        "divergences": div,
        "rhat_max": rhat_max,
        "ess_bulk_min": float(min(float(ess_b[v].min()) for v in var_names)),
        "ess_tail_min": float(min(float(ess_t[v].min()) for v in var_names)),
    }
    out["problems"] = diagnostic_problems(out)
    out["ok"] = not out["problems"]
    return out


def diagnostic_problems(d: dict[str, Any]) -> list[str]:
    out = []
    if d["divergences"] > 0:
        out.append(f"{d['divergences']} divergent transitions")
    if not d["rhat_max"] <= RHAT_MAX:
        out.append(f"r-hat {d['rhat_max']:.3f} > {RHAT_MAX}")
    if not d["ess_bulk_min"] >= ESS_MIN:
        out.append(f"bulk ESS {d['ess_bulk_min']:.0f} < {ESS_MIN}")
    if not d["ess_tail_min"] >= ESS_MIN:
        out.append(f"tail ESS {d['ess_tail_min']:.0f} < {ESS_MIN}")
    return out


def warn_if_unhealthy(diag: dict[str, Any], what: str) -> None:
    if diag["problems"]:
        warnings.warn(
            f"{what}: sampler diagnostics failed ({'; '.join(diag['problems'])}); "
            "treat the answers with caution, or refit with more draws",
            DiagnosticsWarning,
            stacklevel=3,
        )


class CurveFit(Forecast):
    """A posterior over one family's curves. Carries ArviZ ``InferenceData`` as ``idata_``.

    Use :func:`fit` to create one, :meth:`save` / :func:`curvecast.load` to persist.
    """

    def __init__(
        self,
        family: type[Family],
        data: CurveData,
        priors: dict[str, Prior],
        params: dict[str, np.ndarray],
        diagnostics: dict[str, Any],
        settings: dict[str, Any],
        idata: Any = None,
        source: str | None = None,
    ) -> None:
        self.family = family
        self.data = data
        self.priors = priors
        self.params_ = {k: np.asarray(v, float).reshape(-1) for k, v in params.items()}
        self.diagnostics = diagnostics
        self.settings = settings
        self.bounded = family.bounded
        self._idata = idata
        self._source = source

    @property
    def scale(self) -> Scale:
        d = self.data
        return Scale(n_ref=d.n_ref, sign=d.sign, best=d.best_bound, worst=d.worst_bound)

    @property
    def idata_(self) -> Any:
        """ArviZ InferenceData (loaded lazily for fits read from disk)."""
        if self._idata is None and self._source is not None:
            import arviz as az

            self._idata = az.from_netcdf(self._source)
        return self._idata

    @property
    def label(self) -> str:
        return self.family.name

    @property
    def n_draws(self) -> int:
        return int(self.params_["sigma"].size)

    def _theta(self, extra_dim: bool) -> dict[str, np.ndarray]:
        return {k: (v[:, None] if extra_dim else v) for k, v in self.params_.items()}

    @property
    def discrepancy(self) -> Discrepancy:
        return Discrepancy.from_dict(self.settings.get("discrepancy"))

    def _curve(self, n: np.ndarray, theta: dict[str, np.ndarray]) -> np.ndarray:
        with np.errstate(all="ignore"):
            return np.asarray(self.family.mean(n, theta, self.scale), float)

    def _room(self) -> np.ndarray:
        """D: room to the metric's bound at n_ref per draw (observed spread if unbounded)."""
        best = self.data.best_bound
        spread = self.data.symbols()["y_spread"]
        if best is None:
            return np.full(self.n_draws, spread)
        room = np.abs(best - self._curve(np.asarray(self.data.n_ref), self._theta(False)))
        w = self.discrepancy.w_room
        return np.asarray(room**w * spread ** (1.0 - w))

    def _shift(self, n: np.ndarray) -> np.ndarray:
        """Model-discrepancy shift for sizes ``n``: (draws, len(n)), zero up to n_ref."""
        disc = self.discrepancy
        if disc.kappa == 0 or "disc_z" not in self.params_:
            return np.zeros((self.n_draws, n.size))
        scale = disc.kappa * self.params_["disc_z"] * self._room()
        return scale[:, None] * disc.h(n, self.data.n_ref)[None, :]

    def pointwise_logpdf(self, n: Any, y: Any) -> np.ndarray:
        """log p(y | draw), integrating the discrepancy shift analytically per draw.

        Given a draw, a new measurement is curve + z * s(n) + noise with
        z ~ t_nu; it is approximated by a t_nu density with scale
        sqrt(s(n)^2 + sigma^2), which avoids the Monte Carlo noise of a
        mixture whose components are much narrower than its spread.
        """
        disc = self.discrepancy
        if disc.kappa == 0 or "disc_z" not in self.params_:
            return super().pointwise_logpdf(n, y)
        from scipy.special import gammaln

        n = np.atleast_1d(np.asarray(n, float))
        base = np.broadcast_to(self._curve(n[None, :], self._theta(True)), (self.n_draws, n.size))
        s = disc.kappa * self._room()[:, None] * disc.h(n, self.data.n_ref)[None, :]
        scale = np.sqrt(s**2 + self.sigma_at(n) ** 2)
        nu = disc.nu
        z = (np.asarray(y, float)[None, :] - base) / scale
        const = gammaln((nu + 1) / 2) - gammaln(nu / 2) - 0.5 * np.log(nu * np.pi)
        return np.asarray(const - np.log(scale) - (nu + 1) / 2 * np.log1p(z**2 / nu))

    def _clip(self, v: np.ndarray) -> np.ndarray:
        lo, hi = self.data.metric_min, self.data.metric_max
        return np.clip(v, -np.inf if lo is None else lo, np.inf if hi is None else hi)

    def latent(self, n: Any) -> np.ndarray:
        """Draws of the true curve at ``n``: the family's curve plus model discrepancy."""
        n = np.atleast_1d(np.asarray(n, float))
        base = np.broadcast_to(self._curve(n[None, :], self._theta(True)), (self.n_draws, n.size))
        return self._clip(base + self._shift(n))

    def sigma_draws(self) -> np.ndarray:
        return self.params_["sigma"]

    def sigma_at(self, n: Any) -> np.ndarray:
        """Noise SD at ``n``; with replicates it shrinks as n grows, held constant beyond n_ref."""
        n = np.atleast_1d(np.asarray(n, float))
        if "gamma" not in self.params_:
            return super().sigma_at(n)
        x = np.minimum(n / self.data.n_ref, 1.0)
        return np.asarray(self.params_["sigma"][:, None] * x[None, :] ** (-self.params_["gamma"][:, None]))

    def n_star(self, target: float) -> np.ndarray:
        """First n at which the curve (with discrepancy) reaches ``target``; inf if never."""
        with np.errstate(all="ignore"):
            ns = np.asarray(self.family.inverse(float(target), self._theta(False), self.scale), float)
        if self.discrepancy.kappa == 0 or "disc_z" not in self.params_:
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
        scale = self.discrepancy.kappa * theta["disc_z"] * self._room()[todo]
        for _ in range(30):  # bisection inside the bracketing grid cell, one n per draw
            mid = 0.5 * (lo + hi)
            curve = self._clip(
                self._curve(np.exp(mid), theta) + scale * self.discrepancy.h(np.exp(mid), self.data.n_ref)
            )
            reached = s * (curve - target) >= 0
            hi = np.where(reached, mid, hi)
            lo = np.where(reached, lo, mid)
        out = ns.copy()
        out[todo] = np.where(found, np.exp(hi), np.inf)
        return out

    def asymptote(self) -> np.ndarray | None:
        a = self.family.asymptote(self._theta(False), self.scale)
        return None if a is None else np.asarray(a, float)

    def summary(self) -> dict[str, Any]:
        """Posterior medians and 90 % intervals of the parameters (and the asymptote)."""
        rows = {k: v for k, v in self.params_.items() if k != "disc_z"}
        a = self.asymptote()
        if a is not None:
            rows["asymptote"] = a
        return {
            k: {"median": float(np.median(v)), "q5": float(np.quantile(v, 0.05)), "q95": float(np.quantile(v, 0.95))}
            for k, v in rows.items()
        }

    def __repr__(self) -> str:
        d = self.diagnostics
        return (
            f"CurveFit(family={self.family.name!r}, curve={self.data.name!r}, n_points={self.data.n.size}, "
            f"draws={self.n_draws}, divergences={d.get('divergences')}, rhat_max={d.get('rhat_max', float('nan')):.3f})"
        )


def fit(
    n: Any = None,
    y: Any = None,
    *,
    data: CurveData | None = None,
    family: str = "pow3",
    priors: PriorSet | str | None = None,
    increasing: bool = True,
    metric_min: float | None = None,
    metric_max: float | None = None,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    seed: int = 0,
    target_accept: float = 0.95,
    engine: str | None = None,
    name: str = "curve",
    discrepancy: Discrepancy | bool = True,
    retry_divergent: bool = True,
) -> Any:
    """Fit a learning curve with NUTS.

    Parameters
    ----------
    n, y : array-like
        Sizes and metric values; repeated ``n`` are replicate runs.
    data : CurveData, optional
        Instead of ``n``/``y``/bounds.
    family : str
        A registered family name (see ``curvecast.families.REGISTRY``) or
        ``"auto"`` to average over several families.
    priors : dict or path to a TOML file, optional
        Per-family, per-parameter overrides: ``{"pow3": {"alpha": Prior(...)}}``.
    seed : int
        Seeds NUTS; the same seed gives the same numbers.
    discrepancy : Discrepancy or bool
        Model discrepancy beyond the data (see ``curvecast.discrepancy``);
        True uses the calibrated default, False switches it off.
    retry_divergent : bool
        If the fit has divergent transitions, sample again (same seed) with
        ``target_accept`` = ``RETRY_TARGET_ACCEPT``: smaller steps get through the
        narrow ridges of flat or dipping curves. The second fit is kept, and
        ``diagnostics["retried"]`` records the first try's divergences.

    Returns
    -------
    CurveFit (or AveragedFit for ``family="auto"``).
    """
    from curvecast import engine as eng
    from curvecast.prior_sets import known_parameters, merged_priors

    if data is None:
        if n is None or y is None:
            raise CurvecastError("pass n and y, or data=CurveData(...)")
        data = CurveData(n, y, increasing=increasing, metric_min=metric_min, metric_max=metric_max, name=name)
    if isinstance(priors, str):
        from curvecast.priors import load_prior_file

        priors = load_prior_file(priors, known_parameters())
    elif priors:
        from curvecast.priors import parse_prior_table

        table = {
            f: {p: (v.to_dict() if isinstance(v, Prior) else v) for p, v in ps.items()} for f, ps in priors.items()
        }
        priors = parse_prior_table(table, known_parameters())
    for label, v, lo in (("draws", draws, 10), ("tune", tune, 0), ("chains", chains, 1)):
        if int(v) < lo:
            raise CurvecastError(f"{label} must be at least {lo}, got {v}")
    if not 0.5 <= target_accept < 1:
        raise CurvecastError(f"target_accept must lie in [0.5, 1), got {target_accept}")
    if family == "auto":
        from curvecast.averaging import fit_auto

        return fit_auto(
            data,
            priors=priors,
            draws=draws,
            tune=tune,
            chains=chains,
            seed=seed,
            target_accept=target_accept,
            engine=engine,
            discrepancy=discrepancy,
            retry_divergent=retry_divergent,
        )
    fam = get_family(family)
    fam.check_data(data)
    merged = merged_priors(fam, priors)
    eng_name = engine or eng.default_engine()
    free = [*fam.params, "sigma", *(["gamma"] if data.has_replicates else [])]

    def run(accept: float) -> tuple[Any, dict[str, Any]]:
        idata = eng.sample(
            fam,
            data,
            merged,
            draws=int(draws),
            tune=int(tune),
            chains=int(chains),
            seed=int(seed),
            target_accept=accept,
            engine=eng_name,
        )
        return idata, diagnose(idata, free)

    idata, diag = run(float(target_accept))
    used_accept = float(target_accept)
    if retry_divergent and diag["divergences"] > 0 and target_accept < RETRY_TARGET_ACCEPT:
        first = {"target_accept": used_accept, "divergences": diag["divergences"]}
        idata, diag = run(RETRY_TARGET_ACCEPT)
        used_accept = RETRY_TARGET_ACCEPT
        diag["retried"] = first
    params = {k: np.asarray(idata.posterior[k]).reshape(-1) for k in free}
    disc = DEFAULT_DISCREPANCY if discrepancy is True else (discrepancy or NO_DISCREPANCY)
    if disc.kappa > 0:
        params["disc_z"] = disc.draw(params["sigma"].size, int(seed))
    settings = {
        "draws": int(draws),
        "tune": int(tune),
        "chains": int(chains),
        "seed": int(seed),
        "target_accept": used_accept,
        "engine": eng_name,
        "discrepancy": disc.to_dict(),
    }
    result = CurveFit(fam, data, merged, params, diag, settings, idata=idata)
    warn_if_unhealthy(diag, f"{fam.name} fit of {data.name!r}")
    return result
