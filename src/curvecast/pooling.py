"""Partial pooling across curves (``curvecast fit DATA --pool``).

Every curve keeps its own level (``y_ref``) and noise, while the rate and shape
parameters share a hierarchical prior: for a positive parameter ``p``,
``log p_c = mu_p + tau_p * z_c``; for a fraction (``room``),
``logit p_c = mu_p + tau_p * z_c`` (non-centred, ``z_c ~ N(0, 1)``). The
hyper-means are centred on the family's default priors, and
``tau_p ~ HalfNormal(0.5)``. Curves with few points borrow strength from the
others: per-class AP curves, several backbones on one data set, or projects.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from curvecast.data import CurveData
from curvecast.errors import CurvecastError
from curvecast.families import Family, Scale, get_family, pytensor_ops
from curvecast.prior_sets import NOISE_PRIORS

#: the level parameter is never pooled: each project has its own ceiling
UNPOOLED = ("y_ref",)


def _hyper_center(prior: Any, support: str) -> tuple[float, float]:
    """Location and scale of a default prior on the log / logit scale."""
    p = prior.params
    if prior.dist == "LogNormal":
        return float(p["mu"]), float(p["sigma"])
    if prior.dist == "Beta":
        m = p["alpha"] / (p["alpha"] + p["beta"])
        return float(np.log(m / (1 - m))), 1.0
    raise CurvecastError(f"cannot pool a parameter with a {prior.dist} prior ({support})")


def fit_pooled(
    curves: list[CurveData],
    *,
    family: str = "pow3",
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    seed: int = 0,
    target_accept: float = 0.95,
) -> PooledFit:
    """Fit all curves jointly with partial pooling of rate and shape parameters."""
    import nutpie
    import pymc as pm
    import pytensor.tensor as pt

    from curvecast.discrepancy import Discrepancy
    from curvecast.fitting import CurveFit, diagnose, warn_if_unhealthy

    if len(curves) < 2:
        raise CurvecastError("pooling needs at least two curves in the file")
    fam: type[Family] = get_family(family)
    for c in curves:
        fam.check_data(c)
    if len({c.increasing for c in curves}) > 1:
        raise CurvecastError("pooled curves must share the metric's direction")
    k = len(curves)
    idx = np.concatenate([np.full(c.n.size, i) for i, c in enumerate(curves)])
    n_obs = np.concatenate([c.n for c in curves])
    y_obs = np.concatenate([c.y for c in curves])
    syms = [c.symbols() for c in curves]
    pooled = [p for p in fam.params if p not in UNPOOLED]
    with pm.Model(coords={"curve": [c.name for c in curves]}) as model:
        theta: dict[str, Any] = {}
        if "y_ref" in fam.params:
            mu = np.array([s["y_last"] for s in syms])
            sd = np.array([s["y_spread"] for s in syms])
            lo = np.array([s["metric_min"] for s in syms])
            hi = np.array([s["metric_max"] for s in syms])
            theta["y_ref"] = pm.TruncatedNormal("y_ref", mu=mu, sigma=sd, lower=lo, upper=hi, dims="curve")
        for p in pooled:
            support = fam.params[p]
            loc, scale = _hyper_center(fam.priors[p], support)
            mu_p = pm.Normal(f"mu_{p}", loc, scale)
            tau_p = pm.HalfNormal(f"tau_{p}", 0.5)
            z = pm.Normal(f"z_{p}", 0.0, 1.0, dims="curve")
            raw = mu_p + tau_p * z
            theta[p] = pm.Deterministic(p, pt.exp(raw) if support == "positive" else pm.math.sigmoid(raw), dims="curve")
        sig_mu = np.array([s["log_noise_scale"] for s in syms])
        sigma = pm.LogNormal("sigma", sig_mu, float(NOISE_PRIORS["sigma"].params["sigma"]), dims="curve")
        best = np.array([c.best_bound if c.best_bound is not None else 0.0 for c in curves])
        worst = np.array([c.worst_bound if c.worst_bound is not None else 0.0 for c in curves])
        scale_obs = Scale(
            n_ref=np.array([c.n_ref for c in curves])[idx], sign=curves[0].sign, best=best[idx], worst=worst[idx]
        )
        mu_obs = fam.mean(n_obs, {q: v[idx] for q, v in theta.items()}, scale_obs, pytensor_ops())
        pm.Normal("y", mu=mu_obs, sigma=sigma[idx], observed=y_obs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = nutpie.compile_pymc_model(model)
        idata = nutpie.sample(
            compiled, draws=draws, tune=tune, chains=chains, seed=seed, progress_bar=False, target_accept=target_accept
        )
    free = [v for v in idata.posterior.data_vars if v.startswith(("mu_", "tau_", "z_"))] + ["sigma"]
    if "y_ref" in fam.params:
        free.append("y_ref")
    diag = diagnose(idata, free)
    disc = Discrepancy()
    fits = {}
    post = idata.posterior
    settings = {
        "draws": draws,
        "tune": tune,
        "chains": chains,
        "seed": seed,
        "target_accept": target_accept,
        "engine": "nutpie",
        "discrepancy": disc.to_dict(),
        "pooled": True,
    }
    for i, c in enumerate(curves):
        params = {p: np.asarray(post[p].isel(curve=i)).reshape(-1) for p in [*fam.params, "sigma"]}
        params["disc_z"] = disc.draw(params["sigma"].size, seed + i)
        fits[c.name] = CurveFit(fam, c, dict(fam.priors) | dict(NOISE_PRIORS), params, diag, settings)
    hyper = {
        str(v): np.asarray(post[v]).reshape(-1)
        for v in post.data_vars
        if str(v).startswith(("mu_", "tau_")) and "__" not in str(v)
    }
    warn_if_unhealthy(diag, f"pooled {fam.name} fit of {k} curves")
    return PooledFit(fits, hyper, diag, idata)


class PooledFit:
    """Per-curve fits from one joint posterior, plus the pooled hyper-posterior."""

    def __init__(
        self, fits: dict[str, Any], hyper: dict[str, np.ndarray], diagnostics: dict[str, Any], idata: Any
    ) -> None:
        self.fits = fits
        self.hyper_ = hyper
        self.diagnostics = diagnostics
        self.idata_ = idata

    def hyper_summary(self) -> dict[str, dict[str, float]]:
        """Medians and 90 % intervals of the hyper-parameters (on the log / logit scale)."""
        return {
            k: {"median": float(np.median(v)), "q5": float(np.quantile(v, 0.05)), "q95": float(np.quantile(v, 0.95))}
            for k, v in self.hyper_.items()
        }
